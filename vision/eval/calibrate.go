package eval

import (
	"context"
	"fmt"
	"math"
	"slices"
)

// Calibration is a recommended threshold and what to expect at it.
type Calibration struct {
	TargetFAR     float64 `json:"target_far"`
	Safety        float64 `json:"safety"`
	Quantile      Num     `json:"quantile"`  // impostor distance at the target FAR
	Threshold     Num     `json:"threshold"` // quantile − safety, rounded down to 0.01, strictly below the quantile
	ExpectedFAR   Num     `json:"expected_far"`
	ExpectedFNMR  Num     `json:"expected_fnmr"` // genuine pairs above the threshold
	ImpostorPairs int     `json:"impostor_pairs"`
	GenuinePairs  int     `json:"genuine_pairs"`
	Warning       string  `json:"warning,omitempty"`
}

// Calibrate recommends a threshold from pair distances: the quantile of
// the impostor distances at targetFAR (the smallest impostor distance when
// targetFAR is 0 or there are fewer than 1/targetFAR pairs), minus safety,
// rounded down to 0.01 and kept strictly below the quantile so that the
// quantile pair itself is refused. The expected FAR and FNMR are measured
// on the same pairs; Warning says when the pairs are too few to support
// the target. The distances need not be sorted.
func Calibrate(p Pairs, targetFAR, safety float64) (Calibration, error) {
	c := Calibration{TargetFAR: targetFAR, Safety: safety, ImpostorPairs: len(p.Impostor), GenuinePairs: len(p.Genuine)}
	if !(targetFAR >= 0 && targetFAR < 1) || !(safety >= 0) {
		return c, fmt.Errorf("eval: calibrate: target FAR %g must be in [0, 1) and safety %g ≥ 0", targetFAR, safety)
	}
	if len(p.Impostor) == 0 {
		return c, fmt.Errorf("eval: calibrate: no impostor pairs: need photos of at least two people with a face found")
	}
	imp := slices.Sorted(slices.Values(p.Impostor))
	gen := slices.Sorted(slices.Values(p.Genuine))
	n := float64(len(imp))
	k := 0 // impostor pairs the target allows at or below the threshold
	if targetFAR > 0 && n >= 1/targetFAR {
		k = int(math.Floor(targetFAR*n + 1e-9))
	}
	q := imp[min(k, len(imp)-1)]
	t := math.Floor((q-safety)*100+1e-9) / 100
	if t >= q {
		t = math.Round(t*100-1) / 100 // q was a multiple of 0.01 and safety 0: refuse the quantile pair itself
	}
	c.Quantile, c.Threshold = Num(q), Num(t)
	c.ExpectedFAR = Num(float64(countAtMost(imp, t)) / n)
	c.ExpectedFNMR = Num(ratio(len(gen)-countAtMost(gen, t), len(gen)))
	c.Warning = calibrationWarning(len(imp), targetFAR)
	return c, nil
}

func calibrationWarning(n int, far float64) string {
	// Rule of three: with n pairs and no error seen, the 95% upper bound on
	// the true rate is about 3/n.
	bound := 3 / float64(n)
	switch {
	case far == 0:
		return fmt.Sprintf("FAR 0 rests on %d impostor pairs: they support a FAR of about %.2g at best (3/n); "+
			"the threshold is the smallest impostor distance minus the safety margin", n, bound)
	case float64(n) < 1/far:
		return fmt.Sprintf("target FAR %g needs at least %.0f impostor pairs, there are %d: used the smallest impostor distance "+
			"(supports about %.2g)", far, math.Ceil(1/far), n, bound)
	case float64(n) < 3/far:
		return fmt.Sprintf("target FAR %g rests on only %d impostor pairs (3/FAR = %.0f wanted for a 95%% bound)", far, n, math.Ceil(3/far))
	}
	return ""
}

// CalibrateSet describes photos from anywhere — a site's own enrolment
// photos through FromBytes, say — and calibrates on their pairs. People
// with one photo add impostor pairs only; genuine pairs (for the expected
// FNMR) need people with two or more.
func CalibrateSet(ctx context.Context, m Model, set Set, targetFAR, safety float64) (Calibration, error) {
	photos, err := Describe(ctx, m, set)
	if err != nil {
		return Calibration{}, err
	}
	c, err := Calibrate(PairDistances(m, photos), targetFAR, safety)
	if err != nil {
		return c, fmt.Errorf("eval %s: %w", m.Name(), err)
	}
	return c, nil
}
