package web

import (
	"context"

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
}

// Calibration is a threshold recommended from the site's enrolment photos.
type Calibration struct {
	eval.Calibration
	Model  string // the model it was computed with (ModelInfo.Name)
	People int    // enrolled people whose photos were described
	Photos int    // kept enrolment photos described
}
