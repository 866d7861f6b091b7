package main

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/facegate/facegate/models"
)

func cmdModelsPrepare(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	cfg, fs := newFlags("models prepare")
	dir := fs.String("dir", "", "output directory (default: --models-dir)")
	from := fs.String("from", "", "mirror directory holding "+models.FileMMOD)
	fpTarball := fs.String("faceplugin-tarball", "", "local npm tarball of "+models.FacepluginPackage+" (default: npm pack)")
	tarball := fs.String("faceapi-tarball", "", "local npm tarball of "+models.FaceAPIPackage+" (default: npm pack)")
	landmarks := fs.String("landmarks", "", "local shape_predictor_68_face_landmarks.dat (default: Debian "+models.LandmarksDeb+")")
	offline := fs.Bool("offline", false, "do not try to download the MMOD detector from dlib.net")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if err := cfg.Validate(); err != nil {
		return err
	}
	if *dir == "" {
		*dir = cfg.ModelsDir
	}
	start := time.Now()
	m, err := models.Prepare(ctx, models.PrepareOptions{Dir: *dir, From: *from, FaceAPITarball: *tarball, FacepluginTarball: *fpTarball,
		LandmarksFile: *landmarks, Offline: *offline, Log: cfg.logger(stderr)})
	if err != nil {
		return err
	}
	printManifest(stdout, *dir, m)
	fmt.Fprintf(stdout, "prepared and verified in %s\n", time.Since(start).Round(time.Millisecond))
	return nil
}

func cmdModelsVerify(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	cfg, fs := newFlags("models verify")
	dir := fs.String("dir", "", "model directory (default: --models-dir)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if err := cfg.Validate(); err != nil {
		return err
	}
	if *dir == "" {
		*dir = cfg.ModelsDir
	}
	m, err := models.Verify(*dir)
	if err != nil {
		return err
	}
	printManifest(stdout, *dir, m)
	fmt.Fprintln(stdout, "OK: every file matches the manifest and its pinned hash")
	return nil
}

func printManifest(w io.Writer, dir string, m models.Manifest) {
	fmt.Fprintf(w, "model directory %s (model version %s)\n", dir, m.Version())
	for _, f := range m.Files {
		mark := ""
		if f.Inert {
			mark = "  [INERT PLACEHOLDER: CNN detection disabled]"
		}
		if f.ProvenanceUnknown {
			mark += "  [PROVENANCE UNKNOWN: training data " + f.Training + "; licence " + f.Licence + "]"
		}
		fmt.Fprintf(w, "  %-42s %10d  sha256 %s%s\n    source: %s\n", f.Name, f.Size, f.SHA256, mark, f.Source)
	}
}
