package eval

import (
	"math"
	"slices"
)

// Outcome counts a 1:N run at one rule. Genuine probes that yielded no
// face, or whose person could not be enrolled, count as misses; impostor
// probes that yielded no face cannot be accepted and are left out of FPIR.
type Outcome struct {
	Rule           Rule `json:"rule"`
	GenuineProbes  int  `json:"genuine_probes"`
	Matched        int  `json:"matched"`      // accepted as their own person
	WrongPerson    int  `json:"wrong_person"` // accepted as somebody else
	Missed         int  `json:"missed"`       // refused, no face, or not enrolled
	GenuineNoFace  int  `json:"genuine_no_face"`
	FNIR           Num  `json:"fnir"`  // (wrong person + missed) / genuine probes
	Rank1          Num  `json:"rank1"` // nearest person is their own, whatever the rule
	ImpostorProbes int  `json:"impostor_probes"`
	ImpostorNoFace int  `json:"impostor_no_face"`
	FalseAccepts   int  `json:"false_accepts"`
	FPIR           Num  `json:"fpir"` // false accepts / impostor probes with a face
}

// SweepPoint is the best FNIR reachable at FPIR ≤ Target by moving the
// threshold (margin as in the rule): accept when best distance < Below.
type SweepPoint struct {
	Target       float64 `json:"target_fpir"`
	Below        Num     `json:"accept_below"` // null: no impostor is ever accepted, any threshold does
	FalseAccepts int     `json:"false_accepts"`
	FNIR         Num     `json:"fnir"`
}

// Run searches every probe once; the results can then be scored at any rule.
type Run struct {
	genuine, impostor []result
}

// Search runs every probe of the protocol.
func (pr *Protocol) Search(m Model) Run {
	var r Run
	for _, p := range pr.genuine {
		r.genuine = append(r.genuine, search(m, pr.Gallery, p))
	}
	for _, p := range pr.impostor {
		r.impostor = append(r.impostor, search(m, pr.Gallery, p))
	}
	return r
}

// At scores the run at a rule.
func (r Run) At(rule Rule) Outcome {
	o := Outcome{Rule: rule, GenuineProbes: len(r.genuine), ImpostorProbes: len(r.impostor)}
	rank1 := 0
	for _, g := range r.genuine {
		if g.desc == nil {
			o.GenuineNoFace++
		}
		if g.best == g.person {
			rank1++
		}
		switch {
		case !rule.Accepts(g.bestD, g.runnerUp):
			o.Missed++
		case g.best == g.person:
			o.Matched++
		default:
			o.WrongPerson++
		}
	}
	for _, im := range r.impostor {
		if im.desc == nil {
			o.ImpostorNoFace++
		} else if rule.Accepts(im.bestD, im.runnerUp) {
			o.FalseAccepts++
		}
	}
	o.ImpostorProbes -= o.ImpostorNoFace
	o.FNIR = Num(ratio(o.WrongPerson+o.Missed, o.GenuineProbes))
	o.Rank1 = Num(ratio(rank1, o.GenuineProbes))
	o.FPIR = Num(ratio(o.FalseAccepts, o.ImpostorProbes))
	return o
}

func ratio(a, b int) float64 {
	if b == 0 {
		return math.NaN()
	}
	return float64(a) / float64(b)
}

// Sweep finds, for a target FPIR, the loosest threshold whose impostor
// accepts stay within it (margin fixed), and the FNIR there.
func (r Run) Sweep(margin, target float64) SweepPoint {
	var scores []float64 // best distances of impostors that pass the margin
	faced := 0
	for _, im := range r.impostor {
		if im.desc == nil {
			continue
		}
		faced++
		if im.runnerUp-im.bestD >= margin {
			scores = append(scores, im.bestD)
		}
	}
	slices.Sort(scores)
	allowed := int(math.Floor(target*float64(faced) + 1e-9))
	below := math.Inf(1)
	if allowed < len(scores) {
		below = scores[allowed]
	}
	missed := 0
	for _, g := range r.genuine {
		if g.best != g.person || g.runnerUp-g.bestD < margin || !(g.bestD < below) {
			missed++
		}
	}
	accepted, _ := slices.BinarySearch(scores, below) // scores strictly below
	return SweepPoint{Target: target, Below: Num(below), FalseAccepts: accepted,
		FNIR: Num(ratio(missed, len(r.genuine)))}
}
