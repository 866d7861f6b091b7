package models

import (
	"context"
	"fmt"
	"log/slog"
	"path/filepath"

	"github.com/facegate/facegate/storage/atomicfile"
)

// The ONNX face models of the npm package FacepluginPackage: a detector, a
// 68-point landmark regressor and a 512-D face embedder (plus eye-state and
// liveness nets kept for measurement). The publisher states the MIT licence
// but not the training data, so their entries carry ProvenanceUnknown.
const (
	FacepluginPackage   = "faceplugin-face-recognition-js@0.0.1"
	FacepluginIntegrity = "sha512-shriXjd4zJHEwhK1jHK+bWo8Vv6Vu9B/w6RRsd4AFtNM/jaI2vhuOamOSMl9qQmLd8WlQ7dgqN+3C2iOi5pXWw=="
	facepluginTarball   = "faceplugin-face-recognition-js-0.0.1.tgz"

	FileFPDetect   = "fr_detect.onnx"
	FileFPLandmark = "fr_landmark.onnx"
	FileFPFeature  = "fr_feature.onnx"
	FileFPEye      = "fr_eye.onnx"
	FileFPLiveness = "fr_liveness.onnx"

	licFaceplugin      = "MIT (package.json and LICENSE)"
	trainingFaceplugin = "not stated by the publisher"
)

// facepluginPins are the SHA-256 of each file inside the pinned tarball.
var facepluginPins = map[string]string{
	FileFPDetect:   "6c0256ccd3164f844736a401faf936ec2930764a87ae39442180887d0c5c8854",
	FileFPLandmark: "f10b0ba1d2a8a099adefede1ebf3733e44fe370715e7303dbeb7f59c02142258",
	FileFPFeature:  "87aacdfe57510db2af90c0251df680e8eec88f122ee94712121d09bcaaaf3581",
	FileFPEye:      "1afcea006abc1ccac3c517022abde0aa092bed74ff3c9fe6878483ef9e6e38de",
	FileFPLiveness: "afa783b7e902fdfcf323a7240cac2a1c580c25314ea4161129dc1b0d100dc32d",
}

// FacepluginFiles lists the ONNX files prepare extracts, in order.
var FacepluginFiles = []string{FileFPDetect, FileFPLandmark, FileFPFeature, FileFPEye, FileFPLiveness}

// prepareFaceplugin returns the step that extracts one ONNX file from the
// pinned tarball and checks it against its own pin.
func prepareFaceplugin(name string) func(context.Context, PrepareOptions, *slog.Logger) (FileEntry, error) {
	return func(ctx context.Context, opts PrepareOptions, log *slog.Logger) (FileEntry, error) {
		tgz := opts.FacepluginTarball
		if tgz == "" {
			var err error
			tgz, err = fetchNPM(ctx, filepath.Join(opts.Dir, ".sources"), FacepluginPackage, facepluginTarball, FacepluginIntegrity, log)
			if err != nil {
				return FileEntry{}, err
			}
		}
		if err := checkIntegrity(tgz, FacepluginIntegrity); err != nil {
			return FileEntry{}, err
		}
		inner := "package/model/" + name
		files, err := readTarGz(tgz, map[string]bool{inner: true})
		if err != nil {
			return FileEntry{}, err
		}
		if got := sha256Hex(files[inner]); got != facepluginPins[name] {
			return FileEntry{}, fmt.Errorf("%w: %s inside %s hashes to %s, the pin is %s", ErrVerify, name, tgz, got, facepluginPins[name])
		}
		out := filepath.Join(opts.Dir, name)
		if err := atomicfile.WriteFile(out, files[inner], 0o644); err != nil {
			return FileEntry{}, err
		}
		e, err := entryFor(out, name, "npm "+FacepluginPackage+" "+inner, licFaceplugin, false)
		e.Training, e.ProvenanceUnknown = trainingFaceplugin, true
		return e, err
	}
}
