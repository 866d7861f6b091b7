package vision

import (
	"fmt"
	"image"
	"math"

	"gocv.io/x/gocv"
)

// Descriptor is a face embedding: 128 floats from dlib, 512 (L2-normalised)
// from the faceplugin model. Descriptors of different models never compare.
type Descriptor []float32

// Metric is how an embedder's descriptors are compared.
type Metric string

const (
	// MetricEuclidean is dlib's: the Euclidean distance.
	MetricEuclidean Metric = "euclidean"
	// MetricCosine is 1 − cos(a, b) of L2-normalised vectors.
	MetricCosine Metric = "cosine"
)

// fromSquared turns a squared Euclidean distance into the metric: for unit
// vectors ||a−b||² = 2 − 2·cos, so the cosine distance is half of it.
func (m Metric) fromSquared(sq float64) float64 {
	if m == MetricCosine {
		return sq / 2
	}
	return math.Sqrt(sq)
}

// Between is the distance of a and b in the metric; NaN if their lengths
// differ.
func (m Metric) Between(a, b Descriptor) float64 {
	if len(a) != len(b) || len(a) == 0 {
		return math.NaN()
	}
	return m.fromSquared(float64(sqDist(a, b)))
}

// ModelInfo describes an embedder to the rest of the appliance.
type ModelInfo struct {
	Name        string // "dlib" or "faceplugin"
	Version     string // as ModelVersion
	Dim         int
	Metric      Metric
	DefaultRule Rule // calibrated for this model (see rule.go)
	// StrangerLine: the model's same-person bound, beyond which the
	// pipeline decides "unknown" without waiting (see PipelineConfig).
	StrangerLine float64
	Licence      string
	// ProvenanceUnknown: the publisher does not state the training data.
	ProvenanceUnknown bool
	// MinFaceWidth and MinSharpness are the enrolment limits for this
	// model (see gate/identity).
	MinFaceWidth int
	MinSharpness float64
}

// Embedder finds faces and describes them. Only package vision implements
// it (describeRegion works on a gocv Mat).
type Embedder interface {
	// Faces finds and describes every face in an encoded photo, left to right.
	Faces(name string, img []byte) ([]Face, error)
	// ModelVersion identifies the model that made the descriptors.
	ModelVersion() string
	Info() ModelInfo
	Close()
	// describeRegion describes the face(s) near box in a BGR frame.
	describeRegion(frame gocv.Mat, box image.Rectangle) ([]Face, error)
}

// Embedder names for OpenEmbedder.
const (
	EmbedderDlib       = "dlib"
	EmbedderFaceplugin = "faceplugin"
)

// DefaultEmbedderName is the embedder facegate uses unless told otherwise:
// faceplugin, by measurement on faces-eastasia (issue 11). Through the CLI
// with two enrolment photos per person it refuses 4 of 58 genuine probes
// and accepts no impostor (TestEastAsiaAcceptance); dlib accepts 9 of 56
// impostor probes there and refuses 25 % of genuine ones. Calibration pair
// EER: 1.6 % (TestFacepluginThresholdDerivation).
const DefaultEmbedderName = EmbedderFaceplugin

// EmbedderNames lists the names OpenEmbedder accepts.
var EmbedderNames = []string{EmbedderDlib, EmbedderFaceplugin}

// OpenEmbedder verifies modelsDir and loads the named embedder ("" is the
// default).
func OpenEmbedder(modelsDir, name string) (Embedder, error) {
	switch name {
	case "":
		return OpenEmbedder(modelsDir, DefaultEmbedderName)
	case EmbedderDlib:
		return NewRecognizer(modelsDir)
	case EmbedderFaceplugin:
		return NewFaceplugin(modelsDir)
	}
	return nil, fmt.Errorf("unknown embedder %q: use one of %v", name, EmbedderNames)
}

// DefaultRuleFor is the calibrated rule of the named embedder ("" is the
// default one); DefaultRule for an unknown name.
func DefaultRuleFor(name string) Rule {
	if name == EmbedderFaceplugin || (name == "" && DefaultEmbedderName == EmbedderFaceplugin) {
		return FacepluginRule
	}
	return DefaultRule
}

// l2Normalise scales v to unit length in place (no-op for the zero vector).
func l2Normalise(v []float32) {
	var s float64
	for _, x := range v {
		s += float64(x) * float64(x)
	}
	if s == 0 {
		return
	}
	n := float32(1 / math.Sqrt(s))
	for i := range v {
		v[i] *= n
	}
}

// regionAround is box grown by marginPct of its size on each side, cut to
// the frame; false when under 16 px either way (nothing to describe).
func regionAround(frame gocv.Mat, box image.Rectangle, marginPct int) (image.Rectangle, bool) {
	mx, my := box.Dx()*marginPct/100, box.Dy()*marginPct/100
	crop := image.Rect(box.Min.X-mx, box.Min.Y-my, box.Max.X+mx, box.Max.Y+my).Intersect(image.Rect(0, 0, frame.Cols(), frame.Rows()))
	return crop, crop.Dx() >= 16 && crop.Dy() >= 16
}
