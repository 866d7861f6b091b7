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

// plot is a histogram's data and geometry, shared by SVG and PNG.
type plot struct {
	lo, hi, top float64
	gen, imp    []float64
	rule, cal   float64
}

func newPlot(m *ModelReport) plot {
	p := plot{rule: m.Rule.Threshold, cal: float64(m.Calibration.Threshold)}
	p.lo, p.hi = histRange(m.Pairs, p.rule, p.cal)
	p.gen, p.imp = histogram(m.Pairs.Genuine, p.lo, p.hi), histogram(m.Pairs.Impostor, p.lo, p.hi)
	for i := range p.gen {
		p.top = max(p.top, p.gen[i], p.imp[i])
	}
	if p.top == 0 {
		p.top = 1
	}
	return p
}

func (p plot) x(v float64) float64 { return padL + (v-p.lo)/(p.hi-p.lo)*float64(svgW-padL-padR) }
func (p plot) y(f float64) float64 {
	ph := float64(svgH - padT - padB)
	return padT + ph - f/p.top*ph
}
func (p plot) barW() float64 { return float64(svgW-padL-padR) / histBins }

// WriteSVG draws the genuine and impostor pair-distance distributions of a
// model (each as fractions of its own pairs) with the rule's threshold
// (solid) and the calibrated threshold (dashed).
func WriteSVG(w io.Writer, m *ModelReport) error {
	p := newPlot(m)
	var b strings.Builder
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" viewBox="0 0 %d %d" font-family="sans-serif" font-size="12">`+"\n", svgW, svgH, svgW, svgH)
	fmt.Fprintf(&b, `<rect width="100%%" height="100%%" fill="white"/>`+"\n")
	fmt.Fprintf(&b, `<text x="%d" y="20" font-size="14">%s: pair distances, genuine %d (green) vs impostor %d (red), EER %s</text>`+"\n",
		padL, esc(m.Model), m.Genuine.N, m.Impostor.N, pct(m.EER))
	for i := range histBins {
		x0 := padL + float64(i)*p.barW()
		fmt.Fprintf(&b, `<rect x="%.1f" y="%.1f" width="%.1f" height="%.1f" fill="#d62728" fill-opacity="0.5"/>`+"\n", x0, p.y(p.imp[i]), p.barW(), p.y(0)-p.y(p.imp[i]))
		fmt.Fprintf(&b, `<rect x="%.1f" y="%.1f" width="%.1f" height="%.1f" fill="#2ca02c" fill-opacity="0.5"/>`+"\n", x0, p.y(p.gen[i]), p.barW(), p.y(0)-p.y(p.gen[i]))
	}
	axes(&b, p.lo, p.hi, p.top, p.x, p.y)
	threshold(&b, p.x(p.rule), padT+12, fmt.Sprintf("rule %.2f", p.rule), "")
	if !math.IsNaN(p.cal) {
		threshold(&b, p.x(p.cal), padT+28, fmt.Sprintf("calibrated %.2f", p.cal), ` stroke-dasharray="6 4"`)
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
