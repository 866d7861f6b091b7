package main

import (
	"context"
	"flag"
	"io"
	"strings"

	"github.com/facegate/facegate/vision"
)

// multiFlag collects a repeated flag.
type multiFlag []string

func (m *multiFlag) String() string     { return strings.Join(*m, ",") }
func (m *multiFlag) Set(v string) error { *m = append(*m, v); return nil }

func cmdBench(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	cfg := defaultConfig()
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	cfg.register(fs)
	source := fs.String("source", "", "video file, folder or camera to run over")
	var enroll multiFlag
	fs.Var(&enroll, "enroll", "photo to enrol, as NAME=PHOTO or PHOTO (repeatable)")
	naive := fs.Bool("naive", true, "also run the naive loop (go-face Recognize on every full frame) and print the ratio")
	liveness := fs.Bool("liveness", false, "require liveness")
	paced := fs.Bool("paced", false, "deliver the file at its own frame rate, as a camera would, and count the frames the pipeline could not take")
	fs.SetOutput(io.Discard)
	rest, err := parseArgs(fs, args)
	if err != nil {
		return err
	}
	enroll = append(enroll, rest...) // `bench --enroll a.jpg b.jpg`: trailing photos enrol too
	if *source == "" || len(enroll) == 0 {
		return usageError{"bench needs --source and at least one --enroll photo"}
	}
	if err := cfg.Validate(); err != nil {
		return err
	}
	rec, err := vision.OpenEmbedder(cfg.ModelsDir, cfg.Embedder)
	if err != nil {
		return err
	}
	defer rec.Close()
	det, err := cfg.OpenDetector()
	if err != nil {
		return err
	}
	r, err := vision.RunBench(ctx, vision.BenchConfig{Source: *source, Enroll: enroll, Embedder: rec, Detector: det,
		Rule: cfg.Rule(), Liveness: *liveness, Paced: *paced, Naive: *naive})
	if err != nil {
		return err
	}
	r.Print(stdout)
	return nil
}
