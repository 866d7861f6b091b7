//go:build soak && matprofile

package vision

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"gocv.io/x/gocv"
)

// TestSoak runs the pipeline on the demo clip, paced and looped, for
// FACEGATE_SOAK (default 30m) and samples RSS and open Mats every 30 s.
// Not in CI: `make soak`. Memory must stay flat: the last third's RSS may
// not exceed the first third's by more than 10 %, and open Mats stay bounded.
func TestSoak(t *testing.T) {
	d := 30 * time.Minute
	if v := os.Getenv("FACEGATE_SOAK"); v != "" {
		var err error
		if d, err = time.ParseDuration(v); err != nil {
			t.Fatal(err)
		}
	}
	src, err := OpenSource(clipPath(t), SourceOptions{Paced: true, Loop: true})
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	det, _ := NewDetector("")
	defer det.Close()
	decisions := 0
	p := &Pipeline{Source: src, Detector: det, Embedder: testRecognizer(t), Gallery: demoGallery(t), Config: NewPipelineConfig(testRecognizer(t).Info()),
		OnDecision: func(Decision) { decisions++ }, OnPreview: func([]byte) {}}
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- p.Run(ctx) }()
	var rss []int64
	tk := time.NewTicker(30 * time.Second)
	defer tk.Stop()
	start := time.Now()
	fmt.Printf("%8s %10s %8s %8s %10s\n", "minute", "rss_kB", "mats", "frames", "decisions")
loop:
	for {
		select {
		case err := <-done:
			if err != nil {
				t.Fatal(err)
			}
			break loop
		case <-tk.C:
			r := rssKB()
			rss = append(rss, r)
			fmt.Printf("%8.1f %10d %8d %8d %10d\n", time.Since(start).Minutes(), r, gocv.MatProfile.Count(), p.Stats().Summary().Frames, decisions)
		}
	}
	if len(rss) < 6 {
		t.Fatalf("only %d samples", len(rss))
	}
	third := len(rss) / 3
	first, last := maxOf(rss[:third]), maxOf(rss[len(rss)-third:])
	if float64(last) > 1.10*float64(first) {
		t.Fatalf("RSS grew from %d kB to %d kB", first, last)
	}
	if n := gocv.MatProfile.Count(); n > 10 {
		t.Fatalf("%d Mats open after the run", n)
	}
}

func maxOf(xs []int64) int64 {
	m := xs[0]
	for _, x := range xs {
		m = max(m, x)
	}
	return m
}

func rssKB() int64 {
	b, _ := os.ReadFile("/proc/self/status")
	for _, l := range strings.Split(string(b), "\n") {
		if f := strings.Fields(l); len(f) >= 2 && f[0] == "VmRSS:" {
			n, _ := strconv.ParseInt(f[1], 10, 64)
			return n
		}
	}
	return 0
}
