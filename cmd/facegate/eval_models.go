package main

// The embedders by name for package eval, which is pure Go and knows
// nothing of gocv or go-face (the adapter, appliance.EvalModel, is shared
// with the Settings page's calibration).

import (
	"fmt"
	"slices"
	"strings"

	"github.com/facegate/facegate/cmd/internal/appliance"
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
	return appliance.EvalModel(emb, r), emb.Close, nil
}
