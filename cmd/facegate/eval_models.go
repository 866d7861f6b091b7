package main

// The adapters between real recognizers and package eval. When vision grows
// its Embedder interface (several models, []float32 descriptors), this is
// the only file to re-point.

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
var evalModelNames = []string{"dlib"}

// openEvalModel loads one model by name; close frees it.
func openEvalModel(name, modelsDir string, rule vision.Rule) (m eval.Model, closeFn func(), err error) {
	switch name {
	case "dlib":
		rec, err := vision.NewRecognizer(modelsDir)
		if err != nil {
			return nil, nil, err
		}
		return dlibEval{rec: rec, rule: eval.Rule{Threshold: rule.Threshold, Margin: rule.MinMargin}}, rec.Close, nil
	}
	return nil, nil, usageError{fmt.Sprintf("unknown model %q: want one of %s", name, strings.Join(evalModelNames, ", "))}
}

// dlibEval is dlib's ResNet (128-D, Euclidean) with the HOG detector, as
// the appliance runs it.
type dlibEval struct {
	rec  *vision.Recognizer
	rule eval.Rule
}

func (d dlibEval) Name() string                    { return "dlib" }
func (d dlibEval) Rule() eval.Rule                 { return d.rule }
func (d dlibEval) Distance(a, b []float32) float64 { return eval.Euclidean(a, b) }

func (d dlibEval) Describe(name string, img []byte) ([]float32, error) {
	faces, err := d.rec.Faces(name, img)
	if err != nil {
		return nil, err
	}
	if len(faces) == 0 {
		return nil, errors.New("no face found by dlib's HOG detector (turned, small or hidden face?)")
	}
	area := func(r image.Rectangle) int { return r.Dx() * r.Dy() }
	big := slices.MaxFunc(faces, func(a, b vision.Face) int { return area(a.Box) - area(b.Box) })
	return slices.Clone(big.Descriptor[:]), nil
}
