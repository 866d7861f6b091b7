package web

import (
	"context"
	"fmt"
	"time"

	"github.com/facegate/facegate/vision/eval"
)

// ModelOwner is what the settings page needs of the recognition: which
// descriptor model is in force, and a threshold calibrated on the site's
// own enrolment photos. The appliance implements it (with cgo); the web
// app only shows and applies the result.
type ModelOwner interface {
	ModelInfo() ModelInfo
	// Calibrate recommends a threshold for targetFAR (0 ≤ targetFAR < 1)
	// from the enrolled people's kept photos, with the active model.
	Calibrate(ctx context.Context, targetFAR float64) (Calibration, error)
	// SitePairs are the last calibration's pair distances; false before
	// any calibration since the appliance started.
	SitePairs() (SitePairs, bool)
}

// ModelInfo describes the descriptor model in force, as the models'
// manifest records it.
type ModelInfo struct {
	Name    string // "dlib" or "faceplugin"
	Version string
	Dim     int
	Metric  string // "euclidean" or "cosine"
	Licence string
	// Training is the publisher's statement on the training data; "" when
	// the manifest records none.
	Training string
	// ProvenanceUnknown: the publisher does not state the training data;
	// the page warns before such weights open doors.
	ProvenanceUnknown bool
	// Safe is the calibrated range settings must keep to; nil when the
	// model has no calibration.
	Safe *SafeRange
}

// Calibration is a threshold recommended from the site's enrolment photos.
type Calibration struct {
	eval.Calibration
	Model  string // the model it was computed with (ModelInfo.Name)
	People int    // enrolled people whose photos were described
	Photos int    // kept enrolment photos described
}

// SitePairs are the pair distances of the last calibration on the site's
// enrolment photos, kept so that the page can show the false-accept rate
// of any threshold on them without describing the photos again.
type SitePairs struct {
	At                time.Time
	People, Photos    int
	Genuine, Impostor []float64 // sorted
}

// SafeRange is the model's calibrated range and false-accept table
// (vision.Calibration, measured on the calibration photos).
type SafeRange struct {
	MaxThreshold  float64 // the smallest impostor-pair distance, rounded down
	MinMargin     float64 // twice the recompression drift, rounded up
	Faces         int
	GenuinePairs  int
	ImpostorPairs int
	Points        []RatePoint // ascending thresholds
}

// RatePoint is one threshold's counts over the calibration pairs.
type RatePoint struct {
	Threshold         float64
	ImpostorsAccepted int
	GenuineRefused    int
}

// RangeError is a rule outside the model's calibrated range. The page
// shows it in the reader's language, with the allowed range.
type RangeError struct {
	Model string
	Field string // "threshold" or "margin"
	Value float64
	Limit float64 // the safe maximum threshold, or the minimum margin
}

func (e *RangeError) Error() string {
	if e.Field == "threshold" {
		return fmt.Sprintf("settings: threshold %.3f is above %s's calibrated safe maximum %.3f: enter a threshold in (0, %.3f]",
			e.Value, e.Model, e.Limit, e.Limit)
	}
	return fmt.Sprintf("settings: margin %.3f is below %s's minimum %.2f: enter a margin of at least %.2f, below the threshold",
		e.Value, e.Model, e.Limit, e.Limit)
}

// Check refuses a threshold above the safe maximum or a margin below the
// minimum (the settings owner calls it before saving).
func (r SafeRange) Check(model string, threshold, margin float64) error {
	if threshold > r.MaxThreshold+1e-9 {
		return &RangeError{Model: model, Field: "threshold", Value: threshold, Limit: r.MaxThreshold}
	}
	if margin < r.MinMargin-1e-9 {
		return &RangeError{Model: model, Field: "margin", Value: margin, Limit: r.MinMargin}
	}
	return nil
}
