package main

// The adapter between vision's embedders and package eval, which is pure Go
// and knows nothing of gocv or go-face.

import (
	"errors"
	"fmt"
	"image"
	"slices"
	"strings"

	"github.com/facegate/facegate/vision"
	"github.com/facegate/facegate/vision/eval"
)

// evalModelNames are the models `facegate eval --model` knows.
var evalModelNames = vision.EmbedderNames

// openEvalModel loads one embedder by name; close frees it. Its rule is the
// embedder's calibrated default, with --threshold and --margin laid over
// it when given (their zero means "the model's own").
func openEvalModel(name, modelsDir string, threshold, margin float64) (m eval.Model, closeFn func(), err error) {
	if !slices.Contains(evalModelNames, name) {
		return nil, nil, usageError{fmt.Sprintf("unknown model %q: want one of %s", name, strings.Join(evalModelNames, ", "))}
	}
	emb, err := vision.OpenEmbedder(modelsDir, name)
	if err != nil {
		return nil, nil, err
	}
	r := emb.Info().DefaultRule
	if threshold != 0 {
		r.Threshold = threshold
	}
	if margin != 0 {
		r.MinMargin = margin
	}
	return embedderEval{emb: emb, rule: eval.Rule{Threshold: r.Threshold, Margin: r.MinMargin}}, emb.Close, nil
}

// embedderEval is one embedder with its photo detector, as enrolment and
// identify run it.
type embedderEval struct {
	emb  vision.Embedder
	rule eval.Rule
}

func (d embedderEval) Name() string    { return d.emb.Info().Name }
func (d embedderEval) Rule() eval.Rule { return d.rule }

// Cosine tells eval to renormalise mean templates.
func (d embedderEval) Cosine() bool { return d.emb.Info().Metric == vision.MetricCosine }

func (d embedderEval) Distance(a, b []float32) float64 {
	if d.Cosine() {
		return eval.CosineDistance(a, b)
	}
	return eval.Euclidean(a, b)
}

func (d embedderEval) Describe(name string, img []byte) ([]float32, error) {
	faces, err := d.emb.Faces(name, img)
	if err != nil {
		return nil, err
	}
	if len(faces) == 0 {
		return nil, errors.New("no face found by " + d.Name() + "'s detector (turned, small or hidden face?)")
	}
	area := func(r image.Rectangle) int { return r.Dx() * r.Dy() }
	big := slices.MaxFunc(faces, func(a, b vision.Face) int { return area(a.Box) - area(b.Box) })
	return slices.Clone(big.Descriptor), nil
}
