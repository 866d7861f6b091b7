package vision

import "fmt"

// Default match rule. dlib's documented 0.6 was tuned on LFW (mostly Western
// faces); on East-Asian faces most impostor pairs fall under it, so a gate
// that opens doors must be stricter.
const (
	// DefaultThreshold: same-person photos in our test data sit at
	// 0.33–0.41 and different people above 0.7; 0.50 keeps a wide gap on
	// both sides and refuses the 0.5–0.6 band where dlib's own evaluations
	// show impostors of similar ethnicity.
	DefaultThreshold = 0.50
	// DefaultMinMargin: the best person must be this much nearer than the
	// next person, so two similar-looking employees never swap.
	DefaultMinMargin = 0.06
	// DlibStrangerLine is dlib's same-person bound on LFW, and by the
	// method FacepluginStrangerLine uses: its largest same-person distance
	// on the calibration photos is 0.596 (TestDlibPairFigures checks it).
	DlibStrangerLine = 0.60
)

// Verdict is the outcome of comparing one face with the gallery.
type Verdict string

const (
	VerdictMatch   Verdict = "match"
	VerdictUnknown Verdict = "unknown"
)

// Rule decides when a match is good enough.
type Rule struct {
	Threshold float64 // maximum Euclidean distance to the best person
	MinMargin float64 // minimum distance gap to the runner-up person
}

// DefaultRule is the rule facegate ships with.
var DefaultRule = Rule{Threshold: DefaultThreshold, MinMargin: DefaultMinMargin}

// Validate checks that the rule is usable.
func (r Rule) Validate() error {
	if !(r.Threshold > 0 && r.Threshold <= 1.2) {
		return fmt.Errorf("match threshold %.3f out of range (0, 1.2]", r.Threshold)
	}
	if !(r.MinMargin >= 0 && r.MinMargin < r.Threshold) {
		return fmt.Errorf("match margin %.3f out of range [0, threshold)", r.MinMargin)
	}
	return nil
}

// Decide applies the rule and says why in words.
func (r Rule) Decide(m Match) (Verdict, string) {
	switch {
	case !m.Found():
		return VerdictUnknown, "nobody enrolled"
	case m.Distance > r.Threshold:
		return VerdictUnknown, fmt.Sprintf("nearest distance %.3f above threshold %.3f", m.Distance, r.Threshold)
	case m.Margin() < r.MinMargin:
		return VerdictUnknown, fmt.Sprintf("margin %.3f to the runner-up below %.3f", m.Margin(), r.MinMargin)
	}
	return VerdictMatch, fmt.Sprintf("distance %.3f ≤ %.3f, margin %.3f ≥ %.3f", m.Distance, r.Threshold, m.Margin(), r.MinMargin)
}

// The faceplugin model's rule, in cosine distance (1 − cos).
const (
	// FacepluginThreshold is derived, not tried: the smallest impostor-pair
	// distance over the calibration photos (faces-eastasia and the Western
	// faces/, largest face per photo: every pair of different people) minus
	// a safety margin of FacepluginSafety, rounded down to 0.01.
	// TestFacepluginThresholdDerivation recomputes it and fails if this
	// constant drifts above it. Measured: smallest impostor 0.446 (130 faces,
	// 8197 impostor pairs; pair EER 1.6 %), so 0.446 − 0.04 → 0.40.
	FacepluginThreshold = 0.40
	// FacepluginSafety covers what one photo per pair cannot show: the same
	// face seen as a camera frame moves its descriptor. Halving a photo and
	// recompressing it at JPEG quality 70 moved the test faces by at most
	// 0.015 (TestFacepluginReencodeDrift); both sides of a pair (template
	// and probe) may move, so the margin is twice that, rounded up to 0.01:
	// 0.04 (the 0.03 first proposed would not cover it).
	FacepluginSafety = 0.04
	// FacepluginMinMargin: the runner-up must be this much farther.
	FacepluginMinMargin = 0.05
	// FacepluginStrangerLine: the largest same-person distance over the
	// calibration photos, rounded up to 0.01 (measured 0.923; half the
	// impostor pairs lie beyond it, the demo clip's strangers at 0.95–1.05).
	// TestFacepluginThresholdDerivation fails if it is ever nearer.
	FacepluginStrangerLine = 0.93
)

// FacepluginRule is the faceplugin model's default rule.
var FacepluginRule = Rule{Threshold: FacepluginThreshold, MinMargin: FacepluginMinMargin}

// Enrolment limits for the faceplugin model (see gate/identity). Its input
// is 112 px, so faces far below dlib's 80 px still describe well: scaled so
// the face is 60, 40, 32, 24 px wide, the test photos' descriptors move by
// at most 0.023, 0.058, 0.106, 0.224 from full size (threshold 0.40;
// TestFacepluginSmallFaces). 40 px keeps that under a quarter of the
// threshold. faces-eastasia's narrowest face is 46 px: with two enrolment
// photos per person, nobody there is refused for size or blur (the blur
// limit stays dlib's 15; no enrolment photo there falls under it).
const (
	FacepluginMinFaceWidth = 40
	FacepluginMinSharpness = 15
)
