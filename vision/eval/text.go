package eval

import (
	"fmt"
	"io"
	"math"
	"strings"
	"text/tabwriter"
	"time"
)

// row is one line of the side-by-side table: a label and a cell per model.
type row struct {
	label string
	cell  func(m *ModelReport) string
}

func identRow(label string, mode int, f func(id Ident) string) row {
	return row{label, func(m *ModelReport) string {
		if mode >= len(m.Ident) {
			return "-"
		}
		return f(m.Ident[mode])
	}}
}

func pct(n Num) string {
	if math.IsNaN(float64(n)) {
		return "-"
	}
	return fmt.Sprintf("%.1f%%", 100*float64(n))
}

func num(n Num) string {
	if math.IsNaN(float64(n)) || math.IsInf(float64(n), 0) {
		return "any"
	}
	return fmt.Sprintf("%.3f", float64(n))
}

func dist(d Dist) string {
	return fmt.Sprintf("%.3f / %.3f / %.3f (%d)", d.Min, d.Median, d.Max, d.N)
}

func outcome(o Outcome) string {
	return fmt.Sprintf("FNIR %s, rank-1 %s, wrong %d, FA %d/%d", pct(o.FNIR), pct(o.Rank1), o.WrongPerson, o.FalseAccepts, o.ImpostorProbes)
}

func rows() []row {
	rs := []row{
		{"photos with a face", func(m *ModelReport) string { return fmt.Sprintf("%d / %d", m.Photos.WithFace, m.Photos.Total) }},
		{"describe median / max", func(m *ModelReport) string {
			return fmt.Sprintf("%v / %v", m.Photos.MedianDescribe.Round(time.Millisecond), m.Photos.MaxDescribe.Round(time.Millisecond))
		}},
		{"genuine pairs min/med/max (n)", func(m *ModelReport) string { return dist(m.Genuine) }},
		{"impostor pairs min/med/max (n)", func(m *ModelReport) string { return dist(m.Impostor) }},
		{"pair EER (at threshold)", func(m *ModelReport) string { return fmt.Sprintf("%s (%s)", pct(m.EER), num(m.EERThreshold)) }},
		{"model rule", func(m *ModelReport) string { return m.Rule.String() }},
	}
	for i, mode := range []string{GalleryMean, GalleryEach} {
		rs = append(rs,
			identRow("1:N "+mode+": enrolled (failed)", i, func(id Ident) string {
				return fmt.Sprintf("%d (%d)", id.People, len(id.EnrolFailed))
			}),
			identRow("1:N "+mode+" at rule", i, func(id Ident) string { return outcome(id.AtRule) }),
			identRow("1:N "+mode+" at calibrated", i, func(id Ident) string { return outcome(id.AtCalibrated) }))
		for j, t := range sweepTargets {
			rs = append(rs, identRow(fmt.Sprintf("1:N %s FNIR at FPIR ≤ %g", mode, t), i, func(id Ident) string {
				p := id.Sweep[j]
				return fmt.Sprintf("%s (accept < %s, FA %d)", pct(p.FNIR), num(p.Below), p.FalseAccepts)
			}))
		}
	}
	return append(rs, row{"calibrated threshold", func(m *ModelReport) string {
		c := m.Calibration
		return fmt.Sprintf("%s (quantile %s − %.2f): pair FAR %s, FNMR %s", num(c.Threshold), num(c.Quantile), c.Safety,
			pct(c.ExpectedFAR), pct(c.ExpectedFNMR))
	}})
}

// WriteText prints the report as an aligned table, one column per model,
// then each model's calibration warning and photos without a face.
func WriteText(w io.Writer, r *Report) error {
	for _, s := range r.Sets {
		fmt.Fprintf(w, "%s: %d people, %d photos\n", s.Dir, s.People, s.Photos)
	}
	fmt.Fprintf(w, "total: %d people, %d photos; enrolment from the first %d photos; calibration target FAR %g, safety %.2f\n\n",
		r.People, r.Total, r.Options.EnrolPhotos, r.Options.TargetFAR, r.Options.Safety)
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	head := []string{""}
	for _, m := range r.Models {
		head = append(head, m.Model)
	}
	fmt.Fprintln(tw, strings.Join(head, "\t"))
	for _, rw := range rows() {
		cells := []string{rw.label}
		for i := range r.Models {
			cells = append(cells, rw.cell(&r.Models[i]))
		}
		fmt.Fprintln(tw, strings.Join(cells, "\t"))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	for _, m := range r.Models {
		if m.Calibration.Warning != "" {
			fmt.Fprintf(w, "\n%s: %s\n", m.Model, m.Calibration.Warning)
		}
		for _, p := range m.Photos.NoFace {
			fmt.Fprintf(w, "%s: no face in %s: %s\n", m.Model, p.Photo, p.Why)
		}
	}
	return nil
}
