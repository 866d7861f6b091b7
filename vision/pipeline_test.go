package vision

import (
	"fmt"
	"image"
	"image/color"
	"math"

	"context"
	"gocv.io/x/gocv"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/facegate/facegate/models/modeltest"
)

const (
	lmmID   = 1
	obamaID = 2
)

func demoGallery(t testing.TB) *Gallery {
	t.Helper()
	return demoGalleryOf(t, testRecognizer(t))
}

// demoGalleryOf enrols the demo's two people with the given embedder.
func demoGalleryOf(t testing.TB, rec Embedder) *Gallery {
	t.Helper()
	var ts []Template
	for i, p := range []struct {
		id   int64
		file string
	}{{lmmID, "lin-manuel-miranda.png"}, {obamaID, "obama.jpg"}} {
		fs, err := rec.Faces(p.file, modeltest.ReadFace(t, p.file))
		if err != nil || len(fs) != 1 {
			t.Fatalf("%s: %d faces, %v", p.file, len(fs), err)
		}
		ts = append(ts, Template{ID: int64(i + 1), PersonID: p.id, Descriptor: fs[0].Descriptor})
	}
	return NewGalleryFor(rec.Info().Metric, ts)
}

func clipPath(t testing.TB) string {
	return filepath.Join(modeltest.Testdata(t), "video", "short_hamilton_clip.mp4")
}

func runClip(t testing.TB, cfg PipelineConfig) ([]Decision, Summary) {
	t.Helper()
	return runClipWith(t, cfg, testRecognizer(t))
}

func runClipWith(t testing.TB, cfg PipelineConfig, emb Embedder) ([]Decision, Summary) {
	t.Helper()
	src, err := OpenSource(clipPath(t), SourceOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	det, err := NewDetector("")
	if err != nil {
		t.Fatal(err)
	}
	defer det.Close()
	var ds []Decision
	p := &Pipeline{Source: src, Detector: det, Embedder: emb, Gallery: demoGalleryOf(t, emb), Config: cfg, Log: slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug})),
		OnDecision: func(d Decision) { ds = append(ds, d) }}
	if err := p.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	return ds, p.Stats().Summary()
}

// Acceptance on the real clip: Lin-Manuel Miranda is granted while on
// stage; nobody else is ever granted; faces that match nobody end "unknown".
//
// Obama in the audience at the end is NOT asserted: the frontal cascade
// does not find his three-quarter face, and even dlib's CNN detector on the
// region upscaled 3× gives a descriptor 0.635–0.745 from his reference
// photo, while the strangers beside him sit at 0.73–0.86. No threshold
// separates them; granting him would let strangers in.
// TestObamaInAudienceIsBeyondReach keeps that claim measured.
func TestPipelineOnDemoClip(t *testing.T) {
	cfg := NewPipelineConfig(testRecognizer(t).Info())
	cfg.VideoTime = true
	ds, sum := runClip(t, cfg)
	checkDemoClip(t, cfg, ds, sum)
}

// The same acceptance with the default embedder and its own rule. Its
// stranger line matters here: at threshold + 0.10 Lin-Manuel's turned
// frames (0.55) were logged as an "unknown" denial before his grant.
func TestPipelineOnDemoClipFaceplugin(t *testing.T) {
	cfg := NewPipelineConfig(testFaceplugin(t).Info())
	cfg.VideoTime = true
	ds, sum := runClipWith(t, cfg, testFaceplugin(t))
	checkDemoClip(t, cfg, ds, sum)
}

func checkDemoClip(t *testing.T, cfg PipelineConfig, ds []Decision, sum Summary) {
	t.Helper()
	granted := map[int64][]Decision{}
	deniedTracks := map[int]bool{}
	unknown := 0
	for _, d := range ds {
		t.Logf("%s (frames %d–%d)", d, d.FirstSeq, d.Seq)
		switch d.Verdict {
		case VerdictMatch:
			granted[d.PersonID] = append(granted[d.PersonID], d)
			if d.Distance > cfg.Rule.Threshold || d.Margin < cfg.Rule.MinMargin || d.Frames < cfg.VotesNeeded {
				t.Errorf("grant outside the rule: %+v", d)
			}
			if len(d.Snapshot) == 0 || len(d.FaceCrop) == 0 {
				t.Errorf("grant without snapshot: %s", d)
			}
		case VerdictUnknown:
			unknown++
			deniedTracks[d.Track] = true
		}
		// VideoTime: latency is at least the clip's own time between the
		// first frame and the deciding one (29.97 fps).
		if min := time.Duration(float64(d.Seq-d.FirstSeq) / 29.97 * float64(time.Second)); d.Latency < min || d.SinceSeen < d.Latency {
			t.Errorf("latency %s, since seen %s, for frames %d–%d (≥ %s in video time)", d.Latency, d.SinceSeen, d.FirstSeq, d.Seq, min)
		}
	}
	lmm := granted[lmmID]
	if len(lmm) == 0 {
		t.Fatal("Lin-Manuel Miranda never granted")
	}
	// On stage: frontal frames from ~75 to ~225 (640×360, 29.97 fps).
	if d := lmm[0]; d.Seq < 60 || d.Seq > 225 {
		t.Errorf("Lin-Manuel granted at frame %d, outside his on-stage frames", d.Seq)
	}
	for _, d := range lmm {
		if deniedTracks[d.Track] {
			t.Errorf("track %d was logged unknown before Lin-Manuel's grant: a false denial", d.Track)
		}
	}
	for id := range granted {
		if id != lmmID {
			t.Errorf("person %d granted; only Lin-Manuel Miranda should be", id)
		}
	}
	if unknown == 0 {
		t.Error("no face ended unknown, yet the clip has strangers and turned faces")
	}
	if sum.Frames != 275 {
		t.Errorf("%d frames processed, the clip has 275", sum.Frames)
	}
	t.Logf("%+v", sum)
}

// A person not enrolled is "unknown", never someone else.
func TestPipelineStrangerIsUnknown(t *testing.T) {
	rec := testRecognizer(t)
	fs, err := rec.Faces("obama.jpg", modeltest.ReadFace(t, "obama.jpg"))
	if err != nil || len(fs) != 1 {
		t.Fatalf("obama.jpg: %d faces, %v", len(fs), err)
	}
	src, err := OpenSource(clipPath(t), SourceOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	det, err := NewDetector("")
	if err != nil {
		t.Fatal(err)
	}
	defer det.Close()
	var ds []Decision
	p := &Pipeline{Source: src, Detector: det, Embedder: rec, Config: NewPipelineConfig(rec.Info()),
		Gallery:    NewGallery([]Template{{ID: 1, PersonID: obamaID, Descriptor: fs[0].Descriptor}}),
		OnDecision: func(d Decision) { ds = append(ds, d) }}
	if err := p.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	if len(ds) == 0 {
		t.Fatal("no decisions at all")
	}
	for _, d := range ds {
		if d.Verdict != VerdictUnknown {
			t.Fatalf("with only Obama enrolled, %s", d)
		}
	}
}

// stillPhotoClip writes a folder of frames that move and zoom obama.jpg
// like a printed photo (or a phone) held up to the camera and moved.
func stillPhotoClip(t testing.TB) string {
	t.Helper()
	src := gocv.IMRead(modeltest.Face(t, "obama.jpg"), gocv.IMReadColor)
	defer src.Close()
	dir := t.TempDir()
	frame := gocv.NewMat()
	defer frame.Close()
	for i := 0; i < 240; i++ { // 8 s at 30 fps: longer than the liveness window
		ph := float64(i) / 120 * 2 * math.Pi
		scale := 0.55 + 0.08*math.Sin(ph)
		angle := 4 * math.Sin(2*ph)
		center := image.Pt(src.Cols()/2, src.Rows()/2)
		m := gocv.GetRotationMatrix2D(center, angle, scale)
		// Shift so the photo drifts across a 640×480 "camera" frame.
		m.SetDoubleAt(0, 2, m.GetDoubleAt(0, 2)-float64(src.Cols()/2-320)+30*math.Cos(ph))
		m.SetDoubleAt(1, 2, m.GetDoubleAt(1, 2)-float64(src.Rows()/2-240)+20*math.Sin(ph))
		gocv.WarpAffineWithParams(src, &frame, m, image.Pt(640, 480), gocv.InterpolationLinear, gocv.BorderConstant, color.RGBA{40, 40, 40, 0})
		m.Close()
		if ok := gocv.IMWrite(filepath.Join(dir, fmt.Sprintf("f%03d.jpg", i)), frame); !ok {
			t.Fatal("cannot write frame")
		}
	}
	return dir
}

func runSource(t testing.TB, spec string, cfg PipelineConfig, g *Gallery) []Decision {
	t.Helper()
	src, err := OpenSource(spec, SourceOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	det, _ := NewDetector("")
	defer det.Close()
	var ds []Decision
	p := &Pipeline{Source: src, Detector: det, Embedder: testRecognizer(t), Gallery: g, Config: cfg,
		OnDecision: func(d Decision) { ds = append(ds, d) }}
	if err := p.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	return ds
}

// A still photo moved in front of the camera is recognised (it is Obama's
// face) but refused as not live; the live clip passes liveness.
func TestLiveness(t *testing.T) {
	photo := stillPhotoClip(t)
	g := demoGallery(t)
	off := NewPipelineConfig(testRecognizer(t).Info())
	on := off
	on.Liveness = true

	ds := runSource(t, photo, off, g)
	if len(ds) == 0 || ds[0].Verdict != VerdictMatch || ds[0].PersonID != obamaID || ds[0].Liveness != LivenessOff {
		t.Fatalf("liveness off: the photo should match Obama: %v", ds)
	}
	ds = runSource(t, photo, on, g)
	if len(ds) == 0 {
		t.Fatal("liveness on: no decision on the photo clip")
	}
	for _, d := range ds {
		t.Logf("photo: %s", d)
		if d.Verdict == VerdictMatch && d.Liveness != LivenessSpoof {
			t.Fatalf("still photo accepted as live: %s", d)
		}
	}
	ds = runSource(t, clipPath(t), on, g)
	live := false
	for _, d := range ds {
		t.Logf("clip: %s", d)
		if d.Verdict == VerdictMatch && d.PersonID == lmmID && d.Liveness == LivenessLive {
			live = true
		}
	}
	if !live {
		t.Fatal("Lin-Manuel Miranda on stage never passed liveness")
	}
}

func TestSettle(t *testing.T) {
	// threshold 0.50, stranger line 0.60, 2 votes, 4 describes
	cfg := NewPipelineConfig(ModelInfo{DefaultRule: DefaultRule, StrangerLine: DlibStrangerLine})
	m := func(p int64, d float64) vote { return vote{person: p, distance: d, margin: 0.2, match: d <= 0.5} }
	for _, tc := range []struct {
		name   string
		votes  []vote
		want   outcome
		person int64
		won    int
	}{
		{"no votes", nil, outcomePending, 0, 0},
		{"one match waits for a second", []vote{m(1, 0.40)}, outcomePending, 0, 0},
		{"two matches grant", []vote{m(1, 0.40), m(1, 0.45)}, outcomeMatch, 1, 2},
		{"matches need not be consecutive", []vote{m(1, 0.40), m(1, 0.55), m(1, 0.45)}, outcomeMatch, 1, 2},
		{"two different people do not add up", []vote{m(1, 0.40), m(2, 0.45), m(3, 0.55)}, outcomePending, 0, 0},
		{"near miss (margin) is not a match", []vote{m(1, 0.40), {person: 1, distance: 0.42, margin: 0.01}}, outcomePending, 0, 0},
		{"one far vote is not enough to call a stranger", []vote{m(1, 0.80)}, outcomePending, 0, 0},
		{"two far votes: stranger", []vote{m(1, 0.80), m(2, 0.61)}, outcomeStranger, 0, 2},
		{"exactly on the stranger line counts as far", []vote{m(1, 0.60), m(1, 0.70)}, outcomeStranger, 0, 2},
		{"a vote in between keeps watching", []vote{m(1, 0.80), m(1, 0.59), m(1, 0.75)}, outcomePending, 0, 0},
		{"four in between: inconclusive", []vote{m(1, 0.58), m(1, 0.56), m(1, 0.57), m(1, 0.55)}, outcomeInconclusive, 0, 4},
		{"empty gallery (infinite distance) is a stranger", []vote{{distance: math.Inf(1)}, {distance: math.Inf(1)}}, outcomeStranger, 0, 2},
		{"a grant wins over the describe limit", []vote{m(1, 0.58), m(1, 0.45), m(1, 0.57), m(1, 0.44)}, outcomeMatch, 1, 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			o, person, won := settle(tc.votes, &cfg)
			if o != tc.want || person != tc.person || len(won) != tc.won {
				t.Fatalf("settle = %d person %d (%d votes), want %d person %d (%d votes)", o, person, len(won), tc.want, tc.person, tc.won)
			}
		})
	}
}

// A face that stays between the threshold and the stranger line is not
// denied attempt after attempt: it is "unknown" once, after
// UndecidedFrames, or when it leaves. Made on the real clip by a
// threshold (0.30) that Lin-Manuel's frames (0.37–0.59) never meet and a
// stranger line (0.90) nobody reaches.
func TestPipelineUndecided(t *testing.T) {
	for _, tc := range []struct {
		name    string
		frames  int64
		why     string
		minSpan int64
	}{
		{"timeout", 30, "not recognised in", 30},
		{"left", 1 << 40, "left after", 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := NewPipelineConfig(testRecognizer(t).Info())
			cfg.VideoTime = true
			cfg.Rule.Threshold, cfg.StrangerGap, cfg.UndecidedFrames = 0.30, 0.60, tc.frames
			ds, _ := runClip(t, cfg)
			if len(ds) == 0 {
				t.Fatal("no decision: undecided faces must end unknown")
			}
			perTrack, seen := map[int]int{}, 0
			for _, d := range ds {
				t.Logf("%s (frames %d–%d, since seen %s): %s", d, d.FirstSeq, d.Seq, d.SinceSeen, d.Why)
				perTrack[d.Track]++
				if d.Verdict != VerdictUnknown {
					t.Errorf("nobody can match under 0.30: %s", d)
				}
				switch {
				case strings.HasPrefix(d.Why, tc.why):
					seen++
				case !strings.HasPrefix(d.Why, "left after"):
					t.Errorf("why = %q, want %q… or left after…", d.Why, tc.why)
				}
				if d.Frames < cfg.VotesNeeded || (strings.HasPrefix(d.Why, "not recognised") && d.Seq-d.FirstSeq < tc.minSpan) {
					t.Errorf("decided on %d frames over %d–%d", d.Frames, d.FirstSeq, d.Seq)
				}
				if len(d.Snapshot) == 0 || len(d.FaceCrop) == 0 {
					t.Errorf("unknown without snapshot: %s", d)
				}
				if d.SinceSeen < d.Latency || d.Latency <= 0 {
					t.Errorf("latency %s, since seen %s", d.Latency, d.SinceSeen)
				}
			}
			if seen == 0 {
				t.Errorf("no decision says %q", tc.why)
			}
			for id, n := range perTrack {
				if n > 1 {
					t.Errorf("track %d decided unknown %d times; once per face", id, n)
				}
			}
		})
	}
}

// Why TestPipelineOnDemoClip does not assert Obama in the audience: in the
// last frames the frontal cascade does not find his three-quarter face, and
// dlib's CNN detector on the region upscaled 3× does, but his descriptor is
// beyond dlib's same-person bound (0.60) from obama.jpg. If this test ever
// fails because he came within reach (a better model), assert him there.
func TestObamaInAudienceIsBeyondReach(t *testing.T) {
	rec := testRecognizer(t)
	if !rec.Manifest().MMODUsable() {
		t.Fatal("test models have no real MMOD detector (prepare with --from the mirror)")
	}
	ref, err := rec.Faces("obama.jpg", modeltest.ReadFace(t, "obama.jpg"))
	if err != nil || len(ref) != 1 {
		t.Fatalf("obama.jpg: %d faces, %v", len(ref), err)
	}
	det, err := NewDetector("")
	if err != nil {
		t.Fatal(err)
	}
	defer det.Close()
	vc, err := gocv.VideoCaptureFile(clipPath(t))
	if err != nil {
		t.Fatal(err)
	}
	defer vc.Close()
	frame := gocv.NewMat()
	defer frame.Close()
	region := image.Rect(120, 0, 460, 230) // Marian Robinson, Barack and Michelle Obama
	const up = 3
	want := map[int]bool{241: true, 258: true, 273: true} // his nearest frames
	found := 0
	for seq := 0; vc.Read(&frame); seq++ {
		if !want[seq] {
			continue
		}
		roi := frame.Region(region)
		big := gocv.NewMat()
		gocv.Resize(roi, &big, image.Point{}, up, up, gocv.InterpolationCubic)
		roi.Close()
		jpg, err := encodeJPEG(big)
		big.Close()
		if err != nil {
			t.Fatal(err)
		}
		fs, err := rec.FacesCNN("frame", jpg)
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range fs {
			box := image.Rect(f.Box.Min.X/up, f.Box.Min.Y/up, f.Box.Max.X/up, f.Box.Max.Y/up).Add(region.Min)
			d := Distance(f.Descriptor, ref[0].Descriptor)
			t.Logf("frame %d: face %v at %.3f from obama.jpg", seq, box, d)
			if c := (box.Min.X + box.Max.X) / 2; c < 330 || c > 380 {
				continue // not him
			}
			found++
			if d <= 0.60 {
				t.Errorf("frame %d: Obama at %.3f from obama.jpg, within dlib's bound: assert him in TestPipelineOnDemoClip", seq, d)
			}
			for _, b := range det.Detect(frame) {
				if iou(b, box) > 0.2 {
					t.Errorf("frame %d: the frontal cascade now finds him (%v)", seq, b)
				}
			}
		}
	}
	if found != len(want) {
		t.Fatalf("the CNN found Obama in %d of %d frames", found, len(want))
	}
}
