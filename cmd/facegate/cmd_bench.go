package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"time"

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
	for _, r := range rest { // `bench --enroll a.jpg b.jpg`: trailing photos enrol too
		enroll = append(enroll, r)
	}
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
	var ts []vision.Template
	names := map[int64]string{}
	for i, e := range enroll {
		name, path, ok := strings.Cut(e, "=")
		if !ok {
			name, path = strings.TrimSuffix(baseName(e), ""), e
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		faces, err := rec.Faces(path, b)
		if err != nil {
			return err
		}
		if len(faces) != 1 {
			return fmt.Errorf("%s: %d faces, need exactly one to enrol", path, len(faces))
		}
		id := int64(i + 1)
		names[id] = name
		ts = append(ts, vision.Template{ID: id, PersonID: id, Descriptor: faces[0].Descriptor})
	}
	gallery := vision.NewGalleryFor(rec.Info().Metric, ts)

	src, err := vision.OpenSource(*source, vision.SourceOptions{Paced: *paced})
	if err != nil {
		return err
	}
	det, err := cfg.OpenDetector()
	if err != nil {
		src.Close()
		return err
	}
	pc := vision.DefaultPipelineConfig()
	// Paced: frames arrive in real time, so wall time is the latency.
	pc.Rule, pc.VideoTime, pc.Liveness = cfg.Rule(), !*paced, *liveness
	var ds []vision.Decision
	p := &vision.Pipeline{Source: src, Detector: det, Embedder: rec, Gallery: gallery, Config: pc,
		OnDecision: func(d vision.Decision) { ds = append(ds, d) }}
	err = p.Run(ctx)
	det.Close()
	delivered := src.Status().Frames
	src.Close()
	if err != nil {
		return err
	}
	sum := p.Stats().Summary()
	fmt.Fprintf(stdout, "pipeline: %d frames in %s: %.1f fps\n", sum.Frames, sum.Elapsed.Round(time.Millisecond), sum.FPS)
	if *paced {
		// Latest-frame semantics: a frame the pipeline was too busy to take
		// is replaced by the next one, never queued.
		fmt.Fprintf(stdout, "paced at %.2f fps: %d frames delivered, %d processed, %d skipped (%.1f%%)\n",
			src.FPS(), delivered, sum.Frames, delivered-sum.Frames, 100*float64(delivered-sum.Frames)/float64(max(delivered, 1)))
		fmt.Fprintln(stdout, "  (decode below includes waiting for the next frame)")
	}
	printEmbedder(stdout, rec.Info(), cfg.Rule(), sum, len(p.Stats().Stages[vision.StageDescribe]))
	fmt.Fprintf(stdout, "  %-9s %10s %10s %7s\n", "stage", "mean", "p95", "calls")
	for _, st := range []string{vision.StageDecode, vision.StageDetect, vision.StageDescribe, vision.StageMatch} {
		v := sum.Stages[st]
		fmt.Fprintf(stdout, "  %-9s %10s %10s %7d\n", st, v[0].Round(time.Microsecond), v[1].Round(time.Microsecond), len(p.Stats().Stages[st]))
	}
	if len(sum.Skipped) > 0 {
		var ks []string
		for k, v := range sum.Skipped {
			ks = append(ks, fmt.Sprintf("%s %d", k, v))
		}
		slices.Sort(ks)
		fmt.Fprintf(stdout, "  skipped faces: %s\n", strings.Join(ks, ", "))
	}
	var lat, seen []time.Duration
	clock := "video time"
	if *paced {
		clock = "wall time"
	}
	fmt.Fprintf(stdout, "decisions (latency: %s from the first frame of the deciding attempt + processing;\n", clock)
	fmt.Fprintln(stdout, "           seen: from the first frame the face was detected, incl. inconclusive attempts):")
	for _, d := range ds {
		who := "-"
		if d.Verdict == vision.VerdictMatch {
			who = names[d.PersonID]
		}
		fmt.Fprintf(stdout, "  track %-3d frames %3d–%-3d %-8s %-22s dist %.3f margin %.3f votes %d liveness %-8s latency %s seen %s (%s)\n",
			d.Track, d.FirstSeq, d.Seq, d.Verdict, who, d.Distance, d.Margin, d.Frames, d.Liveness,
			d.Latency.Round(time.Millisecond), d.SinceSeen.Round(time.Millisecond), d.Why)
		lat = append(lat, d.Latency)
		seen = append(seen, d.SinceSeen)
	}
	if len(lat) > 0 {
		fmt.Fprintf(stdout, "decision latency: mean %s, p95 %s over %d decisions; since first seen: mean %s, p95 %s\n",
			vision.Mean(lat).Round(time.Millisecond), vision.P95(lat).Round(time.Millisecond), len(lat),
			vision.Mean(seen).Round(time.Millisecond), vision.P95(seen).Round(time.Millisecond))
	}
	if !*naive {
		return nil
	}
	src2, err := vision.OpenSource(*source, vision.SourceOptions{})
	if err != nil {
		return err
	}
	defer src2.Close()
	dlibRec, ok := rec.(*vision.Recognizer)
	if !ok {
		fmt.Fprintln(stdout, "naive loop: skipped (it measures go-face's full-frame loop; use --embedder dlib)")
		return nil
	}
	nr, err := vision.RunNaive(ctx, src2, dlibRec, gallery)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "naive loop (go-face Recognize on every full frame): %d frames in %s: %.1f fps, %d faces\n",
		nr.Frames, nr.Elapsed.Round(time.Millisecond), nr.FPS(), nr.Faces)
	if nr.FPS() > 0 {
		fmt.Fprintf(stdout, "pipeline / naive: %.1f×\n", sum.FPS/nr.FPS())
	}
	return nil
}

func baseName(p string) string {
	if i := strings.LastIndexAny(p, "/\\"); i >= 0 {
		p = p[i+1:]
	}
	if i := strings.LastIndex(p, "."); i > 0 {
		p = p[:i]
	}
	return p
}

// printEmbedder says which embedder ran and its describe cost per face.
func printEmbedder(w io.Writer, info vision.ModelInfo, rule vision.Rule, sum vision.Summary, faces int) {
	fmt.Fprintf(w, "embedder %s (%d-D, %s, threshold %.2f): describe %.1f ms per face (mean over %d tracked faces)\n",
		info.Name, info.Dim, info.Metric, rule.Threshold, float64(sum.Stages[vision.StageDescribe][0].Microseconds())/1000, faces)
}
