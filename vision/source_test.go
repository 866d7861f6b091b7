package vision

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"gocv.io/x/gocv"

	"github.com/facegate/facegate/models/modeltest"
)

// flakyCapture serves a real image a few times, then "drops".
type flakyCapture struct {
	img   gocv.Mat
	left  int
	fps   float64
	close func()
}

func (f *flakyCapture) Read(m *gocv.Mat) bool {
	if f.left == 0 {
		return false
	}
	f.left--
	time.Sleep(5 * time.Millisecond)
	f.img.CopyTo(m)
	return true
}
func (f *flakyCapture) Close() error { f.close(); return nil }
func (f *flakyCapture) FPS() float64 { return f.fps }

// A camera that fails to open, then streams, then drops, then fails twice:
// the source reconnects by itself with backoff, reports each state, and the
// consumer keeps getting frames.
func TestSourceReconnects(t *testing.T) {
	img := gocv.IMRead(modeltest.Face(t, "obama.jpg"), gocv.IMReadColor)
	defer img.Close()
	var mu sync.Mutex
	opens, closes := 0, 0
	plan := []bool{false, true, false, false, true, true} // open succeeds?
	open := func() (capture, error) {
		mu.Lock()
		defer mu.Unlock()
		i := opens
		opens++
		if i < len(plan) && !plan[i] {
			return nil, errors.New("camera unplugged")
		}
		return &flakyCapture{img: img, left: 10, fps: 25, close: func() { mu.Lock(); closes++; mu.Unlock() }}, nil
	}
	src := newGrabSource("flaky", open, true, SourceOptions{})
	defer src.Close()
	states := map[SourceState]bool{}
	m := gocv.NewMat()
	defer m.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	frames := 0
	var last int64
	for frames < 25 {
		seq, _, err := src.Read(ctx, &m)
		if err != nil {
			t.Fatalf("after %d frames: %v (status %+v)", frames, err, src.Status())
		}
		if seq <= last {
			t.Fatalf("stale frame: seq %d after %d", seq, last)
		}
		last = seq
		if m.Cols() != img.Cols() {
			t.Fatal("frame content lost")
		}
		frames++
		states[src.Status().State] = true
	}
	st := src.Status()
	if st.Reconnects < 3 || st.LastError == "" || st.Frames < 25 {
		t.Fatalf("status %+v: want ≥3 reconnects and the last error", st)
	}
	mu.Lock()
	if opens < 5 {
		t.Fatalf("%d opens, want ≥5", opens)
	}
	mu.Unlock()
	if !states[SourceStreaming] {
		t.Fatalf("states seen %v", states)
	}
}

// A source whose camera never comes back does not stop the pipeline, and
// the pipeline stops cleanly when its context ends.
func TestPipelineSurvivesDeadSourceAndStops(t *testing.T) {
	src := newGrabSource("dead", func() (capture, error) { return nil, errors.New("no such device") }, true, SourceOptions{})
	defer src.Close()
	det, err := NewDetector("")
	if err != nil {
		t.Fatal(err)
	}
	defer det.Close()
	p := &Pipeline{Source: src, Detector: det, Embedder: testRecognizer(t), Gallery: NewGallery(nil),
		Config: NewPipelineConfig(testRecognizer(t).Info())}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- p.Run(ctx) }()
	time.Sleep(400 * time.Millisecond)
	select {
	case err := <-done:
		t.Fatalf("pipeline ended on a dead source: %v", err)
	default:
	}
	if st := src.Status(); st.State != SourceReconnecting || st.Reconnects < 2 || st.LastError != "no such device" {
		t.Fatalf("status %+v", st)
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("stop: %v", err)
		}
	case <-time.After(3 * time.Second):
		t.Fatal("pipeline did not stop on cancel")
	}
}

func TestOpenSourceKinds(t *testing.T) {
	dir := t.TempDir()
	for _, n := range []string{"b.jpg", "a.png", "notes.txt"} {
		src := modeltest.Face(t, map[string]string{"b.jpg": "obama.jpg", "a.png": "32bit.png", "notes.txt": "obama.jpg"}[n])
		b, _ := os.ReadFile(src)
		if n == "notes.txt" {
			b = []byte("not an image")
		}
		os.WriteFile(filepath.Join(dir, n), b, 0o644)
	}
	s, err := OpenSource(dir, SourceOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	m := gocv.NewMat()
	defer m.Close()
	n := 0
	for {
		_, _, err := s.Read(context.Background(), &m)
		if errors.Is(err, ErrSourceEnded) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		n++
	}
	if n != 2 || s.Status().State != SourceEnded {
		t.Fatalf("folder gave %d frames, state %s; want 2, ended", n, s.Status().State)
	}
	if _, err := OpenSource(filepath.Join(dir, "missing.mp4"), SourceOptions{}); err == nil {
		t.Fatal("missing file accepted")
	}
	if got := redactURL("rtsp://admin:secret@cam.local/stream"); got != "rtsp://***@cam.local/stream" {
		t.Fatalf("redact: %s", got)
	}
	// Paced, looping file: frames keep coming past the clip's end.
	ps, err := OpenSource(clipPath(t), SourceOptions{Paced: true, Loop: true})
	if err != nil {
		t.Fatal(err)
	}
	defer ps.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	var last int64
	for i := 0; i < 10; i++ {
		seq, _, err := ps.Read(ctx, &m)
		if err != nil || seq <= last {
			t.Fatalf("paced read %d: seq %d err %v", i, seq, err)
		}
		last = seq
	}
	if f := ps.FPS(); f < 29 || f > 31 {
		t.Fatalf("clip fps %.2f, want 29.97", f)
	}
}
