// Package models prepares and verifies the three dlib model files that
// go-face loads (the descriptor ResNet, the landmark predictor and the MMOD
// detector) and records in a manifest where each came from, its SHA-256, size
// and licence.
//
// Nothing here downloads a model at run time of the appliance: files are made
// once by `facegate models prepare` from registry packages (npm, Debian) or a
// local mirror, and `facegate models verify` checks them against the manifest.
// This package must never hand out a model whose hash does not match, and must
// never make a substitute look like the real thing: an inert detector is
// marked inert in the manifest.
//
// FetchBlazeFace (blazeface.go) fetches MediaPipe's BlazeFace ONNX models,
// pinned the same way, for the detector measurement only: they are not
// prepared and no part of the product loads them.
package models
