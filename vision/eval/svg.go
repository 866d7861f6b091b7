package eval

import (
	"encoding/xml"
	"fmt"
	"io"
	"math"
	"strings"
)

// Histogram geometry: 40 bins keep a 29-person set's ~170 genuine pairs at
// a few per bin.
const (
	histBins   = 40
	svgW, svgH = 720, 360
	padL, padR = 56, 16
	padT, padB = 40, 44
)

// histogram counts sorted values into bins over [lo, hi) as fractions.
func histogram(vals []float64, lo, hi float64) []float64 {
	h := make([]float64, histBins)
	if len(vals) == 0 {
		return h
	}
	for _, v := range vals {
		i := int((v - lo) / (hi - lo) * histBins)
		h[min(max(i, 0), histBins-1)]++
	}
	for i := range h {
		h[i] /= float64(len(vals))
	}
	return h
}

func histRange(p Pairs, lines ...float64) (lo, hi float64) {
	lo, hi = math.Inf(1), math.Inf(-1)
	for _, v := range append(append(append([]float64{}, p.Genuine...), p.Impostor...), lines...) {
		if !math.IsNaN(v) && !math.IsInf(v, 0) {
			lo, hi = min(lo, v), max(hi, v)
		}
	}
	if lo > hi {
		return 0, 1
	}
	lo, hi = math.Floor(lo*10)/10, math.Ceil(hi*10)/10
	if hi <= lo {
		hi = lo + 0.1
	}
	return lo, hi
}

// WriteSVG draws the genuine and impostor pair-distance distributions of a
// model (each as fractions of its own pairs) with the rule's threshold
// (solid) and the calibrated threshold (dashed).
func WriteSVG(w io.Writer, m *ModelReport) error {
	rule, cal := m.Rule.Threshold, float64(m.Calibration.Threshold)
	lo, hi := histRange(m.Pairs, rule, cal)
	gen, imp := histogram(m.Pairs.Genuine, lo, hi), histogram(m.Pairs.Impostor, lo, hi)
	top := 0.0
	for i := range gen {
		top = max(top, gen[i], imp[i])
	}
	if top == 0 {
		top = 1
	}
	pw, ph := float64(svgW-padL-padR), float64(svgH-padT-padB)
	x := func(v float64) float64 { return padL + (v-lo)/(hi-lo)*pw }
	y := func(f float64) float64 { return padT + ph - f/top*ph }
	var b strings.Builder
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" viewBox="0 0 %d %d" font-family="sans-serif" font-size="12">`+"\n", svgW, svgH, svgW, svgH)
	fmt.Fprintf(&b, `<rect width="100%%" height="100%%" fill="white"/>`+"\n")
	fmt.Fprintf(&b, `<text x="%d" y="20" font-size="14">%s: pair distances, genuine %d (green) vs impostor %d (red), EER %s</text>`+"\n",
		padL, esc(m.Model), m.Genuine.N, m.Impostor.N, pct(m.EER))
	bw := pw / histBins
	for i := range histBins {
		x0 := padL + float64(i)*bw
		fmt.Fprintf(&b, `<rect x="%.1f" y="%.1f" width="%.1f" height="%.1f" fill="#d62728" fill-opacity="0.5"/>`+"\n", x0, y(imp[i]), bw, padT+ph-y(imp[i]))
		fmt.Fprintf(&b, `<rect x="%.1f" y="%.1f" width="%.1f" height="%.1f" fill="#2ca02c" fill-opacity="0.5"/>`+"\n", x0, y(gen[i]), bw, padT+ph-y(gen[i]))
	}
	axes(&b, lo, hi, top, x, y)
	threshold(&b, x(rule), padT+12, fmt.Sprintf("rule %.2f", rule), "")
	if !math.IsNaN(cal) {
		threshold(&b, x(cal), padT+28, fmt.Sprintf("calibrated %.2f", cal), ` stroke-dasharray="6 4"`)
	}
	b.WriteString("</svg>\n")
	_, err := io.WriteString(w, b.String())
	return err
}

func axes(b *strings.Builder, lo, hi, top float64, x, y func(float64) float64) {
	fmt.Fprintf(b, `<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" stroke="black"/>`+"\n", x(lo), y(0), x(hi), y(0))
	fmt.Fprintf(b, `<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" stroke="black"/>`+"\n", x(lo), y(0), x(lo), y(top))
	step := 0.1
	if hi-lo > 1.5 {
		step = 0.2
	}
	for v := lo; v <= hi+1e-9; v += step {
		fmt.Fprintf(b, `<text x="%.1f" y="%.1f" text-anchor="middle">%.1f</text>`+"\n", x(v), y(0)+16, v)
	}
	fmt.Fprintf(b, `<text x="%.1f" y="%d" text-anchor="middle">distance</text>`+"\n", x((lo+hi)/2), svgH-6)
	fmt.Fprintf(b, `<text x="%d" y="%.1f" text-anchor="end">%.0f%%</text>`+"\n", padL-4, y(top)+4, 100*top)
	fmt.Fprintf(b, `<text x="%d" y="%.1f" text-anchor="end">0</text>`+"\n", padL-4, y(0)+4)
}

func threshold(b *strings.Builder, x float64, labelY int, label, style string) {
	fmt.Fprintf(b, `<line x1="%.1f" y1="%d" x2="%.1f" y2="%d" stroke="black" stroke-width="2"%s/>`+"\n", x, padT, x, svgH-padB, style)
	fmt.Fprintf(b, `<text x="%.1f" y="%d">%s</text>`+"\n", x+4, labelY, esc(label))
}

func esc(s string) string {
	var b strings.Builder
	_ = xml.EscapeText(&b, []byte(s))
	return b.String()
}
