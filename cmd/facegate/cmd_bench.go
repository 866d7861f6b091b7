package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"strings"

	"github.com/facegate/facegate/cmd/internal/appliance"
	"github.com/facegate/facegate/gate"
	"github.com/facegate/facegate/vision"
)

// multiFlag collects a repeated flag.
type multiFlag []string

func (m *multiFlag) String() string     { return strings.Join(*m, ",") }
func (m *multiFlag) Set(v string) error { *m = append(*m, v); return nil }

// cmdBench runs the pipeline serve would run over a source and reports its
// speed and decisions. It takes serve's flags and builds its configuration
// the way serve does (appliance.SettingsInForce: the flags, with the
// settings stored in the database over them; appliance.PipelineConfig;
// appliance.OpenDetector), so that its figures are the product's.
func cmdBench(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	config := serveFlags(fs)
	var enroll multiFlag
	fs.Var(&enroll, "enroll", "photo to enrol, as NAME=PHOTO or PHOTO (repeatable)")
	naive := fs.Bool("naive", true, "also run the naive loop (go-face Recognize on every full frame) and print the ratio")
	liveness := fs.Bool("liveness", false, "require liveness (as --security-level face+liveness)")
	paced := fs.Bool("paced", false, "deliver the file at its own frame rate, as a camera would, and count the frames the pipeline could not take")
	fs.SetOutput(io.Discard)
	rest, err := parseArgs(fs, args)
	if err != nil {
		return err
	}
	enroll = append(enroll, rest...) // `bench --enroll a.jpg b.jpg`: trailing photos enrol too
	if !flagSet(fs, "source") && !flagSet(fs, "demo-dir") || len(enroll) == 0 {
		return usageError{"bench needs --source and at least one --enroll photo"}
	}
	ac, err := config(stderr)
	if err != nil {
		return err
	}
	if *liveness {
		ac.Level = gate.LevelFaceLiveness
	}
	st, from, err := appliance.SettingsInForce(ac)
	if err != nil {
		return configUsage(err)
	}
	rec, err := vision.OpenEmbedder(ac.ModelsDir, ac.Embedder)
	if err != nil {
		return err
	}
	defer rec.Close()
	det, err := appliance.OpenDetector(ac.Detector, ac.ModelsDir)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "settings: %s\n", from)
	r, err := vision.RunBench(ctx, vision.BenchConfig{Source: ac.Source, Enroll: enroll, Embedder: rec, Detector: det,
		Pipeline: appliance.PipelineConfig(rec.Info(), st), Paced: *paced, Naive: *naive})
	if err != nil {
		return err
	}
	r.Print(stdout)
	return nil
}

// flagSet reports whether the flag was given on the command line.
func flagSet(fs *flag.FlagSet, name string) bool {
	set := false
	fs.Visit(func(f *flag.Flag) { set = set || f.Name == name })
	return set
}
