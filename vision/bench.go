package vision

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"time"
)

// BenchConfig is one bench run: the pipeline over Source with the people of
// Enroll in the gallery, and optionally the naive loop over the same source.
type BenchConfig struct {
	Source string
	// Enroll holds NAME=PHOTO or PHOTO (the name is then the file's base
	// name without extension); each photo must hold exactly one face.
	Enroll   []string
	Embedder Embedder
	Detector FaceDetector // closed by RunBench
	// Pipeline is the configuration serve would run with
	// (appliance.PipelineConfig: the embedder's, with the settings over it).
	Pipeline PipelineConfig
	// Paced delivers the file at its own frame rate, as a camera would.
	Paced bool
	// Naive also runs go-face Recognize on every full frame (dlib only).
	Naive bool
}

// BenchReport is what a bench run measured; Print prints it.
type BenchReport struct {
	Info      ModelInfo
	Config    PipelineConfig // as the pipeline ran
	Paced     bool
	SourceFPS float64
	Delivered int64 // frames the source delivered (paced: incl. skipped)
	Summary   Summary
	// CPU is the process's user+sys time over the pipeline run, all
	// threads (OpenCV's pool, Go's GC): what other processes on a shared
	// machine barely inflate, unlike the wall-clock fps.
	CPU       time.Duration
	Calls     map[string]int // timed calls per stage
	Decisions []Decision
	Names     map[int64]string // person ID → enrolled name
	// Naive is set when the naive loop ran; NaiveSkipped says why it did not.
	Naive        *NaiveResult
	NaiveSkipped string
}

// RunBench runs the pipeline (and the naive loop) as cfg says.
func RunBench(ctx context.Context, cfg BenchConfig) (*BenchReport, error) {
	defer cfg.Detector.Close()
	gallery, names, err := benchGallery(cfg.Embedder, cfg.Enroll)
	if err != nil {
		return nil, err
	}
	src, err := OpenSource(cfg.Source, SourceOptions{Paced: cfg.Paced})
	if err != nil {
		return nil, err
	}
	pc := cfg.Pipeline
	// Paced: frames arrive in real time, so wall time is the latency; a
	// file read faster than real time is timed in its own (video) time.
	pc.VideoTime = !cfg.Paced
	r := &BenchReport{Info: cfg.Embedder.Info(), Config: pc, Paced: cfg.Paced, Names: names, Calls: map[string]int{}}
	p := &Pipeline{Source: src, Detector: cfg.Detector, Embedder: cfg.Embedder, Gallery: gallery, Config: pc,
		OnDecision: func(d Decision) { r.Decisions = append(r.Decisions, d) }}
	cpu0 := processCPU()
	err = p.Run(ctx)
	r.CPU = processCPU() - cpu0
	r.Delivered, r.SourceFPS = src.Status().Frames, src.FPS()
	src.Close()
	if err != nil {
		return nil, err
	}
	r.Summary = p.Stats().Summary()
	for st, ds := range p.Stats().Stages {
		r.Calls[st] = len(ds)
	}
	if cfg.Naive {
		err = r.runNaive(ctx, cfg, gallery)
	}
	return r, err
}

// processCPU is the process's user+sys CPU time so far (0 if unknown).
func processCPU() time.Duration {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// benchGallery enrols one template per photo of enroll.
func benchGallery(e Embedder, enroll []string) (*Gallery, map[int64]string, error) {
	var ts []Template
	names := map[int64]string{}
	for i, arg := range enroll {
		name, path, ok := strings.Cut(arg, "=")
		if !ok {
			name, path = strings.TrimSuffix(filepath.Base(arg), filepath.Ext(arg)), arg
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return nil, nil, err
		}
		faces, err := e.Faces(path, b)
		if err != nil {
			return nil, nil, err
		}
		if len(faces) != 1 {
			return nil, nil, fmt.Errorf("%s: %d faces, need exactly one to enrol", path, len(faces))
		}
		id := int64(i + 1)
		names[id] = name
		ts = append(ts, Template{ID: id, PersonID: id, Descriptor: faces[0].Descriptor})
	}
	return NewGalleryFor(e.Info().Metric, ts), names, nil
}

func (r *BenchReport) runNaive(ctx context.Context, cfg BenchConfig, g *Gallery) error {
	rec, ok := cfg.Embedder.(*Recognizer)
	if !ok {
		r.NaiveSkipped = "it measures go-face's full-frame loop; use --embedder dlib"
		return nil
	}
	src, err := OpenSource(cfg.Source, SourceOptions{})
	if err != nil {
		return err
	}
	defer src.Close()
	nr, err := RunNaive(ctx, src, rec, g)
	if err != nil {
		return err
	}
	r.Naive = &nr
	return nil
}

// Print prints the report: throughput, per-stage timings, every decision
// with its latency, and the naive comparison.
func (r *BenchReport) Print(w io.Writer) {
	sum := r.Summary
	fmt.Fprintf(w, "pipeline: %d frames in %s: %.1f fps\n", sum.Frames, sum.Elapsed.Round(time.Millisecond), sum.FPS)
	if sum.Frames > 0 && r.CPU > 0 {
		fmt.Fprintf(w, "  CPU time (user+sys, all threads): %s, %.2f ms per frame\n", r.CPU.Round(time.Millisecond),
			float64(r.CPU.Microseconds())/1000/float64(sum.Frames))
	}
	if r.Paced {
		// Latest-frame semantics: a frame the pipeline was too busy to take
		// is replaced by the next one, never queued.
		fmt.Fprintf(w, "paced at %.2f fps: %d frames delivered, %d processed, %d skipped (%.1f%%)\n",
			r.SourceFPS, r.Delivered, sum.Frames, r.Delivered-sum.Frames, 100*float64(r.Delivered-sum.Frames)/float64(max(r.Delivered, 1)))
		fmt.Fprintln(w, "  (decode below includes waiting for the next frame)")
	}
	fmt.Fprintf(w, "embedder %s (%d-D, %s, threshold %.2f): describe %.1f ms per face (mean over %d tracked faces)\n",
		r.Info.Name, r.Info.Dim, r.Info.Metric, r.Config.Rule.Threshold, float64(sum.Stages[StageDescribe][0].Microseconds())/1000, r.Calls[StageDescribe])
	fmt.Fprintf(w, "  decided as serve decides: threshold %.3f, margin %.3f, stranger line %.2f, %d votes, liveness %v\n",
		r.Config.Rule.Threshold, r.Config.Rule.MinMargin, r.Config.strangerLine(), r.Config.VotesNeeded, r.Config.Liveness)
	fmt.Fprintf(w, "  %-9s %10s %10s %7s\n", "stage", "mean", "p95", "calls")
	for _, st := range []string{StageDecode, StageDetect, StageDescribe, StageMatch} {
		v := sum.Stages[st]
		fmt.Fprintf(w, "  %-9s %10s %10s %7d\n", st, v[0].Round(time.Microsecond), v[1].Round(time.Microsecond), r.Calls[st])
	}
	if len(sum.Skipped) > 0 {
		var ks []string
		for k, v := range sum.Skipped {
			ks = append(ks, fmt.Sprintf("%s %d", k, v))
		}
		slices.Sort(ks)
		fmt.Fprintf(w, "  skipped faces: %s\n", strings.Join(ks, ", "))
	}
	r.writeDecisions(w)
	switch {
	case r.NaiveSkipped != "":
		fmt.Fprintf(w, "naive loop: skipped (%s)\n", r.NaiveSkipped)
	case r.Naive != nil:
		nr := r.Naive
		fmt.Fprintf(w, "naive loop (go-face Recognize on every full frame): %d frames in %s: %.1f fps, %d faces\n",
			nr.Frames, nr.Elapsed.Round(time.Millisecond), nr.FPS(), nr.Faces)
		if nr.FPS() > 0 {
			fmt.Fprintf(w, "pipeline / naive: %.1f×\n", sum.FPS/nr.FPS())
		}
	}
}

func (r *BenchReport) writeDecisions(w io.Writer) {
	var lat, seen []time.Duration
	clock := "video time"
	if r.Paced {
		clock = "wall time"
	}
	fmt.Fprintf(w, "decisions (latency: %s from the first frame of the deciding attempt + processing;\n", clock)
	fmt.Fprintln(w, "           seen: from the first frame the face was detected, incl. inconclusive attempts):")
	for _, d := range r.Decisions {
		who := "-"
		if d.Verdict == VerdictMatch {
			who = r.Names[d.PersonID]
		}
		fmt.Fprintf(w, "  track %-3d frames %3d–%-3d %-8s %-22s dist %.3f margin %.3f votes %d liveness %-8s latency %s seen %s (%s)\n",
			d.Track, d.FirstSeq, d.Seq, d.Verdict, who, d.Distance, d.Margin, d.Frames, d.Liveness,
			d.Latency.Round(time.Millisecond), d.SinceSeen.Round(time.Millisecond), d.Why)
		lat = append(lat, d.Latency)
		seen = append(seen, d.SinceSeen)
	}
	if len(lat) > 0 {
		fmt.Fprintf(w, "decision latency: mean %s, p95 %s over %d decisions; since first seen: mean %s, p95 %s\n",
			Mean(lat).Round(time.Millisecond), P95(lat).Round(time.Millisecond), len(lat),
			Mean(seen).Round(time.Millisecond), P95(seen).Round(time.Millisecond))
	}
}
