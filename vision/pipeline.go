package vision

import (
	"context"
	"errors"
	"fmt"
	"image"
	"image/color"
	"log/slog"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"gocv.io/x/gocv"
)

// PipelineConfig holds the decision tunables.
type PipelineConfig struct {
	Rule Rule
	// VotesNeeded: the same person must win this many described frames,
	// each under the (strict) threshold and with the margin. 2 keeps the
	// decision within ~3 frames (≤100 ms at 30 fps), yet one lucky frame of
	// a look-alike cannot open the door.
	VotesNeeded int
	// MaxDescribes: a track not settled after this many descriptors is
	// decided "unknown" (logged as a denial) and retried 0.5 s later, so a
	// person turning to the camera is not kept waiting on old votes.
	MaxDescribes int
	// MinFaceWidth in frame pixels: smaller faces are too far from the
	// door to be deciding (and their descriptors are noisy).
	MinFaceWidth int
	// MinSharpness: Laplacian variance at 128 px; below is motion blur.
	MinSharpness float64
	// MaxYaw: 0 frontal … 1 profile; dlib's descriptor degrades past ~0.5.
	MaxYaw float64
	// DescribesPerFrame bounds descriptor work per frame so the frame rate
	// holds when a crowd appears.
	DescribesPerFrame int
	// Liveness requires a blink and non-rigid face motion before a match
	// settles (a per-door setting: face+liveness).
	Liveness bool
	// LivenessFrames: how long a matched face may take to prove it is
	// live (90 frames = 3 s at 30 fps: people blink every 2–10 s) before
	// the decision is "not live"; the track is then tried again.
	LivenessFrames int64
	// VideoTime measures decision latency in the source's own time (frame
	// index / fps) plus processing delay: for files read faster than real time.
	VideoTime bool
}

// DefaultPipelineConfig is what serve uses.
func DefaultPipelineConfig() PipelineConfig {
	return PipelineConfig{Rule: DefaultRule, VotesNeeded: 2, MaxDescribes: 4, MinFaceWidth: 60,
		MinSharpness: 15, MaxYaw: 0.5, DescribesPerFrame: 2, LivenessFrames: 90}
}

// Decision is the pipeline's verdict on one tracked face.
type Decision struct {
	Track      int             `json:"track"`
	Verdict    Verdict         `json:"verdict"`
	PersonID   int64           `json:"person_id,omitempty"`
	Distance   float64         `json:"distance"` // median over the winning votes
	Margin     float64         `json:"margin"`   // smallest margin among them
	Threshold  float64         `json:"threshold"`
	MinMargin  float64         `json:"min_margin"`
	Frames     int             `json:"frames"` // descriptors voted
	Box        image.Rectangle `json:"box"`
	FirstSeq   int64           `json:"first_frame"`
	Seq        int64           `json:"frame"`
	Latency    time.Duration   `json:"latency"`
	At         time.Time       `json:"at"`
	Snapshot   []byte          `json:"-"` // JPEG of the frame
	FaceCrop   []byte          `json:"-"` // JPEG of the face
	FacesInRow int             `json:"faces_in_frame"`
	Liveness   LivenessResult  `json:"liveness"`
}

// Stage names for timing.
const (
	StageDecode   = "decode"
	StageDetect   = "detect"
	StageDescribe = "describe"
	StageMatch    = "match"
)

// Stats accumulates per-stage timings and skip reasons.
type Stats struct {
	mu      sync.Mutex
	Frames  int64
	Stages  map[string][]time.Duration
	Skipped map[string]int
	start   time.Time
	end     time.Time
}

func newStats() *Stats {
	return &Stats{Stages: map[string][]time.Duration{}, Skipped: map[string]int{}}
}

func (s *Stats) add(stage string, d time.Duration) {
	s.mu.Lock()
	s.Stages[stage] = append(s.Stages[stage], d)
	s.mu.Unlock()
}

// Summary is mean and p95 per stage, and fps over the run.
type Summary struct {
	Frames  int64
	FPS     float64
	Elapsed time.Duration
	Stages  map[string][2]time.Duration // mean, p95
	Skipped map[string]int
}

// Summary computes a snapshot.
func (s *Stats) Summary() Summary {
	s.mu.Lock()
	defer s.mu.Unlock()
	end := s.end
	if end.IsZero() {
		end = time.Now()
	}
	out := Summary{Frames: s.Frames, Elapsed: end.Sub(s.start), Stages: map[string][2]time.Duration{}, Skipped: map[string]int{}}
	if out.Elapsed > 0 {
		out.FPS = float64(s.Frames) / out.Elapsed.Seconds()
	}
	for k, v := range s.Stages {
		out.Stages[k] = [2]time.Duration{Mean(v), P95(v)}
	}
	for k, v := range s.Skipped {
		out.Skipped[k] = v
	}
	return out
}

// Mean of durations.
func Mean(ds []time.Duration) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	var s time.Duration
	for _, d := range ds {
		s += d
	}
	return s / time.Duration(len(ds))
}

// P95 of durations (nearest rank).
func P95(ds []time.Duration) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	c := append([]time.Duration(nil), ds...)
	sort.Slice(c, func(i, j int) bool { return c[i] < c[j] })
	i := (95*len(c)+99)/100 - 1
	return c[max(i, 0)]
}

// Pipeline runs Source → Detector/Tracker → Embedder → Matcher and hands
// each settled track's Decision to OnDecision.
type Pipeline struct {
	Source     Source
	Detector   *Detector
	Recognizer *Recognizer
	Gallery    *Gallery
	Config     PipelineConfig
	OnDecision func(Decision)
	// OnFrame (optional) hears how many faces each frame holds, for
	// tailgating detection.
	OnFrame func(faces int, at time.Time)
	// OnPreview (optional) receives the frame as JPEG with face boxes drawn,
	// at most every PreviewEvery, for the live page.
	OnPreview func(jpg []byte)
	// NameOf (optional) labels granted faces in the preview.
	NameOf func(personID int64) string
	Log    *slog.Logger

	stats *Stats
	live  atomic.Pointer[PipelineConfig]
}

// conf is the configuration in force (SetConfig may change it while running).
func (p *Pipeline) conf() *PipelineConfig {
	if c := p.live.Load(); c != nil {
		return c
	}
	return &p.Config
}

// SetConfig changes the running pipeline's configuration (match rule,
// liveness …) from the next frame on.
func (p *Pipeline) SetConfig(edit func(*PipelineConfig)) {
	c := *p.conf()
	edit(&c)
	p.live.Store(&c)
}

// Stats returns the live statistics (valid after Run started).
func (p *Pipeline) Stats() *Stats {
	if p.stats == nil {
		p.stats = newStats()
	}
	return p.stats
}

// Run processes frames until ctx ends or a non-looping source ends. A
// source error other than its end is retried by the source itself; Run
// never returns because a camera went away.
func (p *Pipeline) Run(ctx context.Context) error {
	if p.Log == nil {
		p.Log = slog.New(slog.DiscardHandler)
	}
	if p.Config.VotesNeeded == 0 {
		p.Config = DefaultPipelineConfig()
	}
	if p.live.Load() == nil {
		c := p.Config
		p.live.Store(&c)
	}
	st := p.Stats()
	st.start = time.Now()
	defer func() { st.mu.Lock(); st.end = time.Now(); st.mu.Unlock() }()
	frame := gocv.NewMat()
	defer frame.Close()
	var tr tracker
	var lastPreview time.Time
	fps := p.Source.FPS()
	for {
		t0 := time.Now()
		seq, at, err := p.Source.Read(ctx, &frame)
		if err != nil {
			if errors.Is(err, ErrSourceEnded) || ctx.Err() != nil {
				return nil
			}
			return err
		}
		st.add(StageDecode, time.Since(t0))
		st.mu.Lock()
		st.Frames++
		st.mu.Unlock()

		t1 := time.Now()
		boxes := p.Detector.Detect(frame)
		st.add(StageDetect, time.Since(t1))
		if p.OnFrame != nil {
			p.OnFrame(len(boxes), at)
		}
		seen, ended := tr.update(boxes, seq, at)
		if p.OnPreview != nil && time.Since(lastPreview) >= PreviewEvery {
			lastPreview = time.Now()
			p.preview(frame, seen)
		}
		for _, t := range ended {
			if t.pending != nil && !t.decided && p.OnDecision != nil {
				// The face left before proving it is live: "not live".
				d := *t.pending
				d.Liveness = LivenessSpoof
				d.Latency = time.Since(t.tryAt)
				p.Log.Debug("track ended without liveness", "track", t.id)
				p.OnDecision(d)
			}
		}
		cfg := p.conf()
		budget := cfg.DescribesPerFrame
		for _, t := range seen {
			if t.decided && !t.granted && seq >= t.retrySeq {
				t.decided, t.describes, t.votes, t.live, t.pending = false, 0, nil, nil, nil
				t.tryStart, t.tryAt = seq, at
			}
			if t.decided || budget == 0 {
				continue
			}
			if t.box.Dx() < cfg.MinFaceWidth {
				p.skip(t, "face too small")
				continue
			}
			// Blur is judged on the detector's box before paying for a
			// descriptor (a third of the clip's faces are motion-blurred).
			if sharpness(frame, t.box) < cfg.MinSharpness {
				p.skip(t, "blurred")
				continue
			}
			budget--
			if d, ok := p.describe(frame, t, seq, at, fps, len(boxes)); ok {
				if p.OnDecision != nil {
					p.OnDecision(d)
				}
			}
		}
	}
}

func (p *Pipeline) skip(t *track, why string) {
	t.skips[why]++
	p.stats.mu.Lock()
	p.stats.Skipped[why]++
	p.stats.mu.Unlock()
	if t.skips[why] == 1 {
		p.Log.Debug("face skipped", "track", t.id, "reason", why, "box", t.box)
	}
}

// describe runs one descriptor for track t and returns a decision when the
// track settles.
func (p *Pipeline) describe(frame gocv.Mat, t *track, seq int64, at time.Time, fps float64, faces int) (Decision, bool) {
	cfg := p.conf()
	t2 := time.Now()
	fs, err := p.Recognizer.describeRegion(frame, t.box)
	p.stats.add(StageDescribe, time.Since(t2))
	if err != nil {
		p.skip(t, "describe error: "+err.Error())
		return Decision{}, false
	}
	if len(fs) == 0 {
		p.skip(t, "not confirmed by HOG")
		return Decision{}, false
	}
	f := fs[0]
	best := 0.0
	for _, x := range fs { // the face overlapping the track most
		if v := iou(x.Box, t.box); v > best {
			best, f = v, x
		}
	}
	if cfg.Liveness {
		if t.live == nil {
			t.live = &livenessTrack{}
		}
		t.live.add(f)
	}
	d := Decision{Track: t.id, Threshold: cfg.Rule.Threshold, MinMargin: cfg.Rule.MinMargin,
		Box: t.box, FirstSeq: t.tryStart, Seq: seq, At: at, FacesInRow: faces, Liveness: LivenessOff}
	p.vote(t, f)
	if !p.settled(t, &d) {
		return Decision{}, false
	}
	if d.Verdict == VerdictMatch && cfg.Liveness {
		d.Liveness = t.live.result()
		if d.Liveness == LivenessPending {
			if seq-t.tryStart < cfg.LivenessFrames {
				if (seq-t.tryStart)%15 == 0 {
					p.Log.Debug("liveness pending", "track", t.id, "frames", t.live.frames, "blink", t.live.blinked(), "non_rigid", fmt.Sprintf("%.3f", t.live.maxNR))
				}
				if t.pending == nil {
					pd := d
					pd.Snapshot, _ = encodeJPEG(frame)
					pd.FaceCrop = p.faceCrop(frame, t.box)
					t.pending = &pd
				}
				return Decision{}, false // keep watching for a blink
			}
			d.Liveness = LivenessSpoof
		}
	}
	t.decided = true
	t.granted = d.Verdict == VerdictMatch && d.Liveness != LivenessSpoof
	if t.granted {
		t.person = d.PersonID
	}
	t.retrySeq = seq + unknownRetryFrames
	p.Log.Debug("track decided", "track", t.id, "verdict", d.Verdict, "votes", fmt.Sprint(t.votes))
	// Latency runs from the first frame of this attempt: a new face, or
	// the retry of one decided "unknown" (a person turning to the camera).
	if cfg.VideoTime && fps > 0 {
		d.Latency = time.Duration(float64(seq-t.tryStart)/fps*float64(time.Second)) + time.Since(at)
	} else {
		d.Latency = time.Since(t.tryAt)
	}
	d.Snapshot, _ = encodeJPEG(frame)
	d.FaceCrop = p.faceCrop(frame, t.box)
	return d, true
}

func medianDist(vs []vote) float64 {
	if len(vs) == 0 {
		return 0
	}
	ds := make([]float64, len(vs))
	for i, v := range vs {
		ds[i] = v.distance
	}
	sort.Float64s(ds)
	return ds[len(ds)/2]
}

func minMargin(vs []vote) float64 {
	m := 0.0
	for i, v := range vs {
		if i == 0 || v.margin < m {
			m = v.margin
		}
	}
	return m
}

func (p *Pipeline) faceCrop(frame gocv.Mat, box image.Rectangle) []byte {
	r := box.Intersect(image.Rect(0, 0, frame.Cols(), frame.Rows()))
	if r.Empty() {
		return nil
	}
	roi := frame.Region(r)
	defer roi.Close()
	b, _ := encodeJPEG(roi)
	return b
}

// PreviewEvery: 5 preview frames a second is smooth enough to watch and
// costs the pipeline about 1 % (one JPEG encode per 6 frames at 30 fps).
const PreviewEvery = 200 * time.Millisecond

// preview draws the tracks (green granted, red decided otherwise, yellow
// pending) on a copy of the frame and hands it to OnPreview.
func (p *Pipeline) preview(frame gocv.Mat, tracks []*track) {
	m := frame.Clone()
	defer m.Close()
	for _, t := range tracks {
		c := color.RGBA{255, 200, 0, 0}
		switch {
		case t.granted:
			c = color.RGBA{0, 200, 0, 0}
		case t.decided:
			c = color.RGBA{220, 0, 0, 0}
		}
		gocv.Rectangle(&m, t.box, c, 2)
		if t.granted && p.NameOf != nil {
			// Hershey fonts are ASCII only; names in other scripts show their ID.
			label := p.NameOf(t.person)
			if !isASCII(label) {
				label = fmt.Sprintf("#%d", t.person)
			}
			gocv.PutText(&m, label, image.Pt(t.box.Min.X, max(t.box.Min.Y-6, 12)), gocv.FontHersheySimplex, 0.6, c, 2)
		}
	}
	if b, err := encodeJPEG(m); err == nil {
		p.OnPreview(b)
	}
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return false
		}
	}
	return true
}

// vote adds one descriptor vote if the face passes the quality gate.
func (p *Pipeline) vote(t *track, f Face) bool {
	cfg := p.conf()
	if y := Yaw(f.Landmarks); y > cfg.MaxYaw {
		p.skip(t, "not frontal")
		return false
	}
	t3 := time.Now()
	m := p.Gallery.Match(f.Descriptor)
	v, _ := cfg.Rule.Decide(m)
	p.stats.add(StageMatch, time.Since(t3))
	t.describes++
	t.votes = append(t.votes, vote{person: m.PersonID, distance: m.Distance, margin: m.Margin(), match: v == VerdictMatch})
	return true
}

// settled fills d's identity when the votes settle it: the same person won
// VotesNeeded frames, or MaxDescribes passed without that ("unknown").
func (p *Pipeline) settled(t *track, d *Decision) bool {
	cfg := p.conf()
	counts := map[int64][]vote{}
	for _, vt := range t.votes {
		if vt.match {
			counts[vt.person] = append(counts[vt.person], vt)
		}
	}
	for person, vs := range counts {
		if len(vs) >= cfg.VotesNeeded {
			d.Verdict, d.PersonID, d.Frames = VerdictMatch, person, len(t.votes)
			d.Distance, d.Margin = medianDist(vs), minMargin(vs)
			return true
		}
	}
	if t.describes >= cfg.MaxDescribes {
		d.Verdict, d.PersonID, d.Frames = VerdictUnknown, 0, len(t.votes)
		d.Distance, d.Margin = medianDist(t.votes), minMargin(t.votes)
		return true
	}
	return false
}

// String formats a decision for logs.
func (d Decision) String() string {
	return fmt.Sprintf("track %d %s person %d dist %.3f margin %.3f frames %d liveness %s latency %s",
		d.Track, d.Verdict, d.PersonID, d.Distance, d.Margin, d.Frames, d.Liveness, d.Latency.Round(time.Millisecond))
}
