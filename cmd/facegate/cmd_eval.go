package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"strings"

	"github.com/facegate/facegate/cmd/internal/appliance"
	"github.com/facegate/facegate/storage"
	"github.com/facegate/facegate/vision"
	"github.com/facegate/facegate/vision/eval"
)

// evalFlags are `facegate eval`'s own flags.
type evalFlags struct {
	models    string
	opt       eval.Options
	svgDir    string
	asJSON    bool
	calibrate bool
	modelList []string
}

func (f *evalFlags) register(fs *flag.FlagSet) {
	f.opt = eval.DefaultOptions
	fs.StringVar(&f.models, "model", strings.Join(evalModelNames, ","), "models to compare, comma-separated: "+strings.Join(evalModelNames, ", "))
	fs.IntVar(&f.opt.EnrolPhotos, "enrol-photos", f.opt.EnrolPhotos, "enrolment photos per person (the rest are probes)")
	fs.Float64Var(&f.opt.TargetFAR, "target-far", f.opt.TargetFAR, "false accept rate the calibrated threshold aims at")
	fs.Float64Var(&f.opt.Safety, "safety", f.opt.Safety, "subtracted from the calibrated impostor quantile")
	fs.StringVar(&f.svgDir, "svg", "", "write a distance histogram per model to DIR/eval-MODEL.svg and .png")
	fs.BoolVar(&f.asJSON, "json", false, "print JSON")
	fs.BoolVar(&f.calibrate, "calibrate", false, "recommend a threshold for --target-far from the enrolled people's kept photos "+
		"(the data directory's database and snapshots) with --embedder, instead of measuring folders")
}

func (f *evalFlags) validate(dirs []string) error {
	if f.calibrate && len(dirs) > 0 {
		return usageError{fmt.Sprintf("eval --calibrate reads the enrolled photos: give no folders (got %s)", strings.Join(dirs, " "))}
	}
	if len(dirs) == 0 && !f.calibrate {
		return usageError{"eval needs at least one photo folder: facegate eval DIR… (DIR/<person>/*.jpg)"}
	}
	if f.opt.EnrolPhotos < 1 {
		return usageError{fmt.Sprintf("--enrol-photos %d: want at least 1", f.opt.EnrolPhotos)}
	}
	if !(f.opt.TargetFAR >= 0 && f.opt.TargetFAR < 1) || f.opt.Safety < 0 {
		return usageError{fmt.Sprintf("--target-far %g must be in [0, 1) and --safety %g ≥ 0", f.opt.TargetFAR, f.opt.Safety)}
	}
	for _, m := range strings.Split(f.models, ",") {
		if m = strings.TrimSpace(m); m != "" {
			f.modelList = append(f.modelList, m)
		}
	}
	if len(f.modelList) == 0 {
		return usageError{"--model is empty: want one of " + strings.Join(evalModelNames, ", ")}
	}
	return nil
}

// cmdEval measures face models on labelled folders DIR/<person>/*.jpg.
func cmdEval(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	cfg := defaultConfig()
	var ef evalFlags
	fs := flag.NewFlagSet("eval", flag.ContinueOnError)
	cfg.register(fs)
	ef.register(fs)
	fs.SetOutput(io.Discard)
	dirs, err := parseArgs(fs, args)
	if err != nil {
		return err
	}
	if err := ef.validate(dirs); err != nil {
		return err
	}
	if err := cfg.Validate(); err != nil {
		return err
	}
	if ef.calibrate {
		return calibrateEnrolled(ctx, cfg, ef, stdout)
	}
	set, infos, err := eval.LoadDirs(dirs...)
	if err != nil {
		return err
	}
	var models []eval.Model
	for _, name := range ef.modelList {
		m, closeFn, err := openEvalModel(name, cfg.ModelsDir, cfg.Threshold, cfg.Margin)
		if err != nil {
			return err
		}
		defer closeFn()
		models = append(models, m)
	}
	rep, err := eval.Compare(ctx, models, set, infos, ef.opt)
	if err != nil {
		return err
	}
	if err := writeSVGs(ef.svgDir, rep, stderr); err != nil {
		return err
	}
	if ef.asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(rep)
	}
	return eval.WriteText(stdout, rep)
}

// calibrateEnrolled recommends a threshold from the data directory's
// enrolled people (their kept enrolment photos) with --embedder.
func calibrateEnrolled(ctx context.Context, cfg Config, ef evalFlags, stdout io.Writer) error {
	db, err := storage.Open(cfg.DB, storage.Options{KeyDir: cfg.KeyDir})
	if err != nil {
		return err
	}
	defer db.Close()
	emb, err := vision.OpenEmbedder(cfg.ModelsDir, cfg.Embedder)
	if err != nil {
		return err
	}
	defer emb.Close()
	c, err := appliance.CalibrateEnrolled(ctx, db, cfg.Snapshots(), emb, ef.opt.TargetFAR, ef.opt.Safety)
	if err != nil {
		return err
	}
	if ef.asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(c)
	}
	fmt.Fprintf(stdout, "calibration of %s on the enrolled photos: %d people, %d photos, %d impostor pairs, %d genuine pairs\n",
		c.Model, c.People, c.Photos, c.ImpostorPairs, c.GenuinePairs)
	fmt.Fprintf(stdout, "recommended threshold %.2f for target FAR %g (impostor quantile %.3f − safety %.2f)\n",
		float64(c.Threshold), c.TargetFAR, float64(c.Quantile), c.Safety)
	fmt.Fprintf(stdout, "expected FAR %s, FNMR %s\n", rate(float64(c.ExpectedFAR)), rate(float64(c.ExpectedFNMR)))
	if c.Warning != "" {
		fmt.Fprintf(stdout, "warning: %s\n", c.Warning)
	}
	if safe, ok := vision.CalibrationFor(c.Model); ok {
		fmt.Fprintf(stdout, "%s's calibrated safe range: threshold at most %.3f, margin at least %.2f (%d impostor pairs of the calibration photos)\n",
			c.Model, safe.SafeMaxThreshold, safe.MinMargin, safe.ImpostorPairs)
		if float64(c.Threshold) > safe.SafeMaxThreshold {
			fmt.Fprintf(stdout, "the recommendation is above it and the Settings page will refuse it: your people are further apart than "+
				"the calibration photos' closest pair, visitors may not be; keep a threshold of at most %.3f\n", safe.SafeMaxThreshold)
			return nil
		}
	}
	fmt.Fprintf(stdout, "apply it on the Settings page, or: facegate serve --embedder %s --threshold %.2f\n", c.Model, float64(c.Threshold))
	return nil
}

func rate(r float64) string {
	if math.IsNaN(r) {
		return "n/a (no person has two photos)"
	}
	return fmt.Sprintf("%.2f %%", 100*r)
}

// writeSVGs writes DIR/eval-MODEL.svg and .png for every model.
func writeSVGs(dir string, rep *eval.Report, stderr io.Writer) error {
	if dir == "" {
		return nil
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("eval: --svg folder: %w", err)
	}
	for i := range rep.Models {
		m := &rep.Models[i]
		for _, out := range []struct {
			ext   string
			write func(io.Writer, *eval.ModelReport) error
		}{{".svg", eval.WriteSVG}, {".png", eval.WritePNG}} {
			p := filepath.Join(dir, "eval-"+m.Model+out.ext)
			if err := writeFile(p, func(w io.Writer) error { return out.write(w, m) }); err != nil {
				return err
			}
			fmt.Fprintf(stderr, "wrote %s\n", p)
		}
	}
	return nil
}

func writeFile(path string, write func(io.Writer) error) error {
	f, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("eval: write histogram: %w", err)
	}
	err = write(f)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("eval: write histogram %s: %w", path, err)
	}
	return nil
}
