package vision

import (
	"fmt"
	"slices"
)

// Calibration is what the calibration photos say about one embedder's
// distances: faces-eastasia (29 people × 4) and the Western faces/ photos
// of known people, the largest face per photo, every pair (the set of
// TestFacepluginThresholdDerivation). Settings outside its safe range are
// refused, and the settings page shows the false-accept rate it measured.
// Every figure is derived by TestCalibrationTable, which recomputes them
// with the real embedders and fails when a constant drifts.
type Calibration struct {
	Embedder      string
	Faces         int
	GenuinePairs  int
	ImpostorPairs int
	// SafeMaxThreshold is the smallest impostor-pair distance rounded down
	// to 0.001: at any higher threshold two different people of the
	// calibration photos are accepted as one.
	SafeMaxThreshold float64
	// MinMargin is twice the largest descriptor drift of a photo halved and
	// recompressed at JPEG quality 70 (as a camera frame is), rounded up to
	// 0.01: the probe's distances to two people move by up to that drift
	// each, in opposite directions, so a smaller margin lets noise alone
	// swap two people.
	MinMargin float64
	// Points is the false-accept table: at each threshold, how many
	// impostor pairs fall at or under it and how many genuine pairs above.
	Points []CalibrationPoint
}

// CalibrationPoint is one threshold's counts over the calibration pairs.
type CalibrationPoint struct {
	Threshold         float64
	ImpostorsAccepted int // impostor pairs at distance ≤ Threshold
	GenuineRefused    int // genuine pairs at distance > Threshold
}

// CalibrationThresholds are the thresholds of every table: 0.30 to 0.80
// in steps of 0.05 covers both metrics' genuine and impostor ranges.
var CalibrationThresholds = []float64{0.30, 0.35, 0.40, 0.45, 0.50, 0.55, 0.60, 0.65, 0.70, 0.75, 0.80}

// calibrations are TestCalibrationTable's output (go test ./vision -run
// TestCalibrationTable -v prints them as Go). Measured:
//   - faceplugin: smallest impostor 0.4459 → 0.445 (FacepluginThreshold
//     0.40 is under it); drift 0.0150, so 2 × drift rounds up to 0.04
//     (= FacepluginSafety; the default margin 0.05 is above it).
//   - dlib: smallest impostor 0.398, under dlib's default threshold 0.50
//     (268 of 8071 impostor pairs at or under 0.50); drift 0.089, so the
//     minimum margin is 0.18, above the default 0.06. dlib's default rule
//     lies outside its safe range: saving it from the settings page is
//     refused until the threshold is lowered and the margin raised.
//   - faceplugin at 0.80: 1145 since internal/dwconv (was 1144): the pair
//     cn116/4–cn118/3 sits at 0.80000 ± 1e-5 and moved across with the
//     order of float additions. Points within 1e-5 of a threshold are float
//     noise; no threshold up to 0.60 has a pair within 1e-4 of it.
var calibrations = map[string]Calibration{
	"dlib": {Embedder: "dlib", Faces: 129, GenuinePairs: 185, ImpostorPairs: 8071,
		SafeMaxThreshold: 0.398, MinMargin: 0.18,
		Points: []CalibrationPoint{
			{0.30, 0, 165}, {0.35, 0, 136}, {0.40, 1, 81},
			{0.45, 25, 36}, {0.50, 268, 9}, {0.55, 1045, 2},
			{0.60, 2462, 0}, {0.65, 4160, 0}, {0.70, 5406, 0},
			{0.75, 6115, 0}, {0.80, 6619, 0},
		}},
	"faceplugin": {Embedder: "faceplugin", Faces: 130, GenuinePairs: 188, ImpostorPairs: 8197,
		SafeMaxThreshold: 0.445, MinMargin: 0.04,
		Points: []CalibrationPoint{
			{0.30, 0, 103}, {0.35, 0, 67}, {0.40, 0, 47},
			{0.45, 1, 29}, {0.50, 1, 15}, {0.55, 4, 7},
			{0.60, 29, 5}, {0.65, 87, 3}, {0.70, 254, 3},
			{0.75, 579, 3}, {0.80, 1145, 2},
		}},
}

// CalibrationFor is the named embedder's calibration.
func CalibrationFor(embedder string) (Calibration, bool) {
	c, ok := calibrations[embedder]
	if ok {
		c.Points = slices.Clone(c.Points)
	}
	return c, ok
}

// CheckRule says whether a rule lies in the calibrated safe range: a
// threshold at most SafeMaxThreshold, a margin at least MinMargin.
func (c Calibration) CheckRule(r Rule) error {
	if r.Threshold > c.SafeMaxThreshold {
		return fmt.Errorf("threshold %.3f is above %s's calibrated safe maximum %.3f (the closest pair of different people "+
			"on the calibration photos)", r.Threshold, c.Embedder, c.SafeMaxThreshold)
	}
	if r.MinMargin < c.MinMargin {
		return fmt.Errorf("margin %.3f is below %s's minimum %.2f (twice the descriptor drift of a recompressed photo)",
			r.MinMargin, c.Embedder, c.MinMargin)
	}
	return nil
}
