package web

import (
	"fmt"
	"slices"
	"sort"
)

// farPreview is what a threshold is expected to do, before it is saved:
// on the model's calibration photos and, once calibrated, on the site's
// own enrolment photos.
type farPreview struct {
	Threshold string
	Model     *farRow
	Site      *farRow
}

// farRow is one set of pairs' figures at the threshold.
type farRow struct {
	Basis      string // which photos
	FAR, FNMR  string // "k of n (p %)", or a bracket between two table points
	AboveSafe  bool   // the threshold accepts impostor pairs of the calibration photos
	SafeMaxStr string
}

// preview computes the expected rates at threshold th.
func (s *Server) preview(lang string, th float64) *farPreview {
	p := &farPreview{Threshold: fmt.Sprintf("%.3f", th)}
	if s.deps.Model == nil {
		return p
	}
	mi := s.deps.Model.ModelInfo()
	if r := mi.Safe; r != nil {
		p.Model = modelRow(lang, mi.Name, *r, th)
	}
	if sp, ok := s.deps.Model.SitePairs(); ok && len(sp.Impostor) > 0 {
		p.Site = &farRow{Basis: fmt.Sprintf(translate(lang, "settings.far.site"), sp.People, sp.Photos, sp.At.In(s.deps.Location).Format("2006-01-02 15:04")),
			FAR:  rateOf(lang, countAtMost(sp.Impostor, th), countAtMost(sp.Impostor, th), len(sp.Impostor)),
			FNMR: rateOf(lang, len(sp.Genuine)-countAtMost(sp.Genuine, th), len(sp.Genuine)-countAtMost(sp.Genuine, th), len(sp.Genuine))}
	}
	return p
}

// modelRow brackets th between the table's points: the counts at th lie
// between those at the points on either side (exact on a point). Under
// the safe maximum no calibration impostor pair is accepted.
func modelRow(lang, model string, r SafeRange, th float64) *farRow {
	row := &farRow{Basis: fmt.Sprintf(translate(lang, "settings.far.model"), model, r.Faces),
		AboveSafe: th > r.MaxThreshold+1e-9, SafeMaxStr: fmt.Sprintf("%.3f", r.MaxThreshold)}
	i := sort.Search(len(r.Points), func(i int) bool { return r.Points[i].Threshold >= th-1e-9 })
	lo, hi := RatePoint{ImpostorsAccepted: 0, GenuineRefused: r.GenuinePairs}, RatePoint{ImpostorsAccepted: r.ImpostorPairs}
	if i > 0 {
		lo = r.Points[i-1]
	}
	if i < len(r.Points) {
		hi = r.Points[i]
		if hi.Threshold <= th+1e-9 {
			lo = hi // exactly on a point
		}
	}
	impLo, impHi := lo.ImpostorsAccepted, hi.ImpostorsAccepted
	if !row.AboveSafe {
		impLo, impHi = 0, 0
	}
	row.FAR = rateOf(lang, impLo, impHi, r.ImpostorPairs)
	row.FNMR = rateOf(lang, hi.GenuineRefused, lo.GenuineRefused, r.GenuinePairs)
	return row
}

// rateOf formats "k of n (p %)", or "a–b of n (p–q %)" for a bracket.
func rateOf(lang string, lo, hi, n int) string {
	if n == 0 {
		return "–"
	}
	pct := func(k int) string { return fmt.Sprintf("%.2f", 100*float64(k)/float64(n)) }
	if lo == hi {
		return fmt.Sprintf(translate(lang, "settings.far.count"), fmt.Sprint(lo), n, pct(lo))
	}
	return fmt.Sprintf(translate(lang, "settings.far.count"), fmt.Sprintf("%d–%d", lo, hi), n, pct(lo)+"–"+pct(hi))
}

// countAtMost counts sorted values ≤ x.
func countAtMost(sorted []float64, x float64) int {
	n, _ := slices.BinarySearch(sorted, x+1e-12)
	return n
}
