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
	// StrangerLine: a face whose every vote (at least VotesNeeded) is at
	// least this far from everyone enrolled is decided "unknown" at once.
	// It is the model's own same-person bound (ModelInfo.StrangerLine: the
	// largest same-person distance in its calibration photos, dlib 0.60,
	// faceplugin 0.93), filled by NewPipelineConfig; Run refuses 0. A
	// nearer line denies employees still turning to the camera: on the demo
	// clip Lin-Manuel's turned frames sit at 0.55 in faceplugin's metric.
	StrangerLine float64
	// StrangerGap keeps the line at least this far beyond the threshold
	// when an admin moves the threshold towards it.
	StrangerGap float64
	// MaxDescribes: an attempt neither granted nor clearly a stranger
	// after this many descriptors is inconclusive (a face between the
	// threshold and the stranger line: a person turning to the camera, or
	// a look-alike). It is not logged; the votes start afresh, so old
	// frames of a turned head do not hold back the decision.
	MaxDescribes int
	// UndecidedFrames: a face inconclusive for this long (90 frames = 3 s
	// at 30 fps: long enough to turn to the camera, short enough that the
	// person is still at the door) is decided "unknown"; so is one that
	// leaves before it is decided.
	UndecidedFrames int64
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

// strangerLine is where votes decide "unknown" at once: the model's line,
// never nearer than StrangerGap beyond the threshold in force.
func (c *PipelineConfig) strangerLine() float64 {
	return max(c.StrangerLine, c.Rule.Threshold+c.StrangerGap)
}

// NewPipelineConfig is the one way to make a PipelineConfig: every field
// from the embedder's ModelInfo (its calibrated rule and stranger line) and
// the defaults below. The appliance then puts the stored settings over it
// (appliance.PipelineConfig), and so does `facegate bench`. There are no
// zero-means-default fields: Run refuses a config Validate refuses, so a
// half-built one cannot decide (a zero stranger line once made every turned
// face of an employee an "unknown" denial).
func NewPipelineConfig(info ModelInfo) PipelineConfig {
	return PipelineConfig{Rule: info.DefaultRule, StrangerLine: info.StrangerLine, VotesNeeded: 2, StrangerGap: 0.10,
		MaxDescribes: 4, UndecidedFrames: 90, MinFaceWidth: 60, MinSharpness: 15, MaxYaw: 0.5, DescribesPerFrame: 2,
		LivenessFrames: 90}
}

// ConfigError says which PipelineConfig field is wrong and why.
type ConfigError struct {
	Field   string
	Problem string
}

func (e *ConfigError) Error() string {
	return "pipeline config: " + e.Field + " " + e.Problem + " (build it with vision.NewPipelineConfig)"
}

// Validate refuses a config with a field left unset or out of range.
func (c *PipelineConfig) Validate() error {
	if err := c.Rule.Validate(); err != nil {
		return &ConfigError{"Rule", err.Error()}
	}
	checks := []struct {
		field string
		bad   bool
		why   string
	}{
		{"VotesNeeded", c.VotesNeeded < 1, "must be at least 1"},
		{"StrangerLine", !(c.StrangerLine > 0), "must be the model's same-person bound (ModelInfo.StrangerLine), not 0"},
		{"StrangerGap", c.StrangerGap < 0, "cannot be negative"},
		{"MaxDescribes", c.MaxDescribes < c.VotesNeeded, "must be at least VotesNeeded"},
		{"UndecidedFrames", c.UndecidedFrames < 1, "must be at least 1"},
		{"DescribesPerFrame", c.DescribesPerFrame < 1, "must be at least 1"},
		{"MaxYaw", !(c.MaxYaw > 0), "must be above 0"},
		{"LivenessFrames", c.Liveness && c.LivenessFrames < 1, "must be at least 1 with Liveness"},
	}
	for _, ch := range checks {
		if ch.bad {
			return &ConfigError{ch.field, ch.why}
		}
	}
	return nil
}

// Decision is the pipeline's verdict on one tracked face.
type Decision struct {
	Track     int             `json:"track"`
	Verdict   Verdict         `json:"verdict"`
	PersonID  int64           `json:"person_id,omitempty"`
	Distance  float64         `json:"distance"` // median over the winning votes
	Margin    float64         `json:"margin"`   // smallest margin among them
	Threshold float64         `json:"threshold"`
	MinMargin float64         `json:"min_margin"`
	Frames    int             `json:"frames"` // descriptors voted
	Box       image.Rectangle `json:"box"`
	FirstSeq  int64           `json:"first_frame"`
	Seq       int64           `json:"frame"`
	// Latency runs from the first frame of the attempt that decided (the
	// frames whose votes count) to the decision; SinceSeen from the first
	// frame the face was detected (or retried after an "unknown"), which
	// includes inconclusive attempts of a turned or blurred face.
	Latency   time.Duration  `json:"latency"`
	SinceSeen time.Duration  `json:"since_seen"`
	Why       string         `json:"why"` // how the votes settled it
	At        time.Time      `json:"at"`
	Snapshot  []byte         `json:"-"` // JPEG of the frame
	FaceCrop  []byte         `json:"-"` // JPEG of the face
	Liveness  LivenessResult `json:"liveness"`
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
	Detector   FaceDetector
	Embedder   Embedder
	Gallery    *Gallery
	Config     PipelineConfig // from NewPipelineConfig; in force until SetConfig
	OnDecision func(Decision)
	// OnFrame (optional) hears how many faces each frame holds, for
	// tailgating detection.
	OnFrame func(faces int, at time.Time)
	// OnPreview (optional) receives the frame as JPEG with face boxes drawn,
	// at most every PreviewEvery, for the live page.
	OnPreview func(jpg []byte)
	Log       *slog.Logger

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

// ConfigInForce is the configuration the pipeline decides with now.
func (p *Pipeline) ConfigInForce() PipelineConfig { return *p.conf() }

// SetConfig puts c in force on the running pipeline from the next frame
// on. A config Validate refuses is refused, and the one in force kept.
func (p *Pipeline) SetConfig(c PipelineConfig) error {
	if err := c.Validate(); err != nil {
		return err
	}
	p.live.Store(&c)
	return nil
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
	if p.live.Load() == nil {
		if err := p.SetConfig(p.Config); err != nil {
			return err
		}
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
		if fps == 0 {
			// A file read on demand opens (and learns its rate) on the
			// first Read, after Run started.
			fps = p.Source.FPS()
		}
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
		p.endTracks(ended, fps)
		p.describeSeen(frame, seen, seq, at, fps)
	}
}

// endTracks reports the tracks that left: undecided ones as "unknown",
// ones that matched but never proved live as "not live".
func (p *Pipeline) endTracks(ended []*track, fps float64) {
	for _, t := range ended {
		if d, ok := p.leftUndecided(t, fps); ok && p.OnDecision != nil {
			p.Log.Debug("track ended undecided", "track", t.id)
			p.OnDecision(d)
		}
		if t.pending != nil && !t.decided && p.OnDecision != nil {
			// The face left before proving it is live: "not live".
			d := *t.pending
			d.Liveness = LivenessSpoof
			d.Latency = time.Since(t.tryAt)
			p.Log.Debug("track ended without liveness", "track", t.id)
			p.OnDecision(d)
		}
	}
}

// describeSeen describes the tracks seen this frame that are still
// undecided and pass the quality gate, at most DescribesPerFrame of them.
func (p *Pipeline) describeSeen(frame gocv.Mat, seen []*track, seq int64, at time.Time, fps float64) {
	cfg := p.conf()
	budget := cfg.DescribesPerFrame
	for _, t := range seen {
		if t.decided && !t.granted && seq >= t.retrySeq {
			t.decided, t.describes, t.votes, t.held, t.live, t.pending, t.undecided = false, 0, nil, nil, nil, nil, nil
			t.tryStart, t.tryAt, t.periodStart, t.periodAt = seq, at, seq, at
		}
		if t.tryStart < 0 {
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
		if d, ok := p.describe(frame, t, seq, at, fps); ok {
			if p.OnDecision != nil {
				p.OnDecision(d)
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
func (p *Pipeline) describe(frame gocv.Mat, t *track, seq int64, at time.Time, fps float64) (Decision, bool) {
	cfg := p.conf()
	t2 := time.Now()
	fs, err := p.Embedder.describeRegion(frame, t.box)
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
		Box: t.box, FirstSeq: t.tryStart, Seq: seq, At: at, Liveness: LivenessOff}
	if p.vote(t, f) && t.undecided == nil {
		// Evidence for an "unknown" decided later, when the face may be gone.
		u := d
		u.Snapshot, _ = encodeJPEG(frame)
		u.FaceCrop = p.faceCrop(frame, t.box)
		t.undecided = &u
	}
	if !p.settled(t, &d, seq) {
		return Decision{}, false
	}
	if d.Verdict == VerdictMatch && cfg.Liveness && p.awaitLiveness(frame, t, &d, seq) {
		return Decision{}, false // keep watching for a blink
	}
	t.decided = true
	t.granted = d.Verdict == VerdictMatch && d.Liveness != LivenessSpoof
	if t.granted {
		t.person = d.PersonID
	}
	t.retrySeq = seq + unknownRetryFrames
	p.Log.Debug("track decided", "track", t.id, "verdict", d.Verdict, "votes", fmt.Sprint(t.votes))
	if d.Verdict == VerdictUnknown {
		if t.unknownLogged {
			// Retried and still nobody: one "unknown" per face is evidence
			// enough; a grant on a later retry is still reported.
			return Decision{}, false
		}
		t.unknownLogged = true
	}
	firstAt := t.tryAt
	if d.FirstSeq != t.tryStart {
		firstAt = t.periodAt
	}
	d.Latency = p.since(d.FirstSeq, firstAt, seq, at, fps)
	d.SinceSeen = p.since(t.periodStart, t.periodAt, seq, at, fps)
	d.Snapshot, _ = encodeJPEG(frame)
	d.FaceCrop = p.faceCrop(frame, t.box)
	return d, true
}

// awaitLiveness sets a match's liveness from the track's evidence so far
// and reports whether to keep watching: not yet live and LivenessFrames
// not yet over (the match is kept, with its snapshots, should the face
// leave). Once they are over, the match is "not live".
func (p *Pipeline) awaitLiveness(frame gocv.Mat, t *track, d *Decision, seq int64) bool {
	d.Liveness = t.live.result()
	if d.Liveness != LivenessPending {
		return false
	}
	if seq-t.tryStart >= p.conf().LivenessFrames {
		d.Liveness = LivenessSpoof
		return false
	}
	if (seq-t.tryStart)%15 == 0 {
		p.Log.Debug("liveness pending", "track", t.id, "frames", t.live.frames, "blink", t.live.blinked(), "non_rigid", fmt.Sprintf("%.3f", t.live.maxNR))
	}
	if t.pending == nil {
		pd := *d
		pd.Snapshot, _ = encodeJPEG(frame)
		pd.FaceCrop = p.faceCrop(frame, t.box)
		t.pending = &pd
	}
	return true
}

// since is the time from frame first (wall time firstAt) to frame seq
// (wall time at), plus the processing delay since at: in the source's own
// time with VideoTime (files read faster than real time), else wall time.
func (p *Pipeline) since(first int64, firstAt time.Time, seq int64, at time.Time, fps float64) time.Duration {
	if p.conf().VideoTime && fps > 0 {
		return time.Duration(float64(seq-first)/fps*float64(time.Second)) + time.Since(at)
	}
	return time.Since(firstAt)
}

// leftUndecided is the "unknown" decision for a track that ended without
// being decided after at least VotesNeeded votes, none of them a match. A
// face with a matching vote is an enrolled person the tracker lost (or a
// second box on a face already granted): no denial is logged for it.
func (p *Pipeline) leftUndecided(t *track, fps float64) (Decision, bool) {
	if t.decided || t.undecided == nil || t.pending != nil || t.unknownLogged {
		return Decision{}, false
	}
	all := append(append([]vote(nil), t.held...), t.votes...)
	if len(all) < p.conf().VotesNeeded {
		return Decision{}, false
	}
	for _, v := range all {
		if v.match {
			return Decision{}, false
		}
	}
	d := *t.undecided
	d.Verdict, d.PersonID, d.Frames = VerdictUnknown, 0, len(all)
	d.Distance, d.Margin = medianDist(all), minMargin(all)
	d.FirstSeq, d.Seq = t.periodStart, t.lastSeq
	d.Why = fmt.Sprintf("left after %d described frames without being recognised", len(all))
	// The decision is taken now, when the track ends: the face was last
	// seen at lastSeq, trackMaxMissed frames ago.
	if p.conf().VideoTime && fps > 0 {
		d.Latency = time.Duration(float64(t.lastSeq+trackMaxMissed-t.periodStart) / fps * float64(time.Second))
	} else {
		d.Latency = time.Since(t.periodAt)
	}
	d.SinceSeen = d.Latency
	t.decided = true
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

// preview draws every tracked face's box, in one neutral colour and
// without names, on a copy of the frame and hands it to OnPreview. Whether
// a face was let in is the gate's to say, not the matcher's: the live page
// draws each decision over the video in the browser, coloured by the
// gate's verdict and labelled in any script (OpenCV's fonts are ASCII only).
func (p *Pipeline) preview(frame gocv.Mat, tracks []*track) {
	m := frame.Clone()
	defer m.Close()
	for _, t := range tracks {
		gocv.Rectangle(&m, t.box, color.RGBA{255, 255, 255, 0}, 2)
	}
	if b, err := encodeJPEG(m); err == nil {
		p.OnPreview(b)
	}
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

// outcome is what one attempt's votes say so far.
type outcome int

const (
	outcomePending      outcome = iota // keep describing
	outcomeMatch                       // one person won VotesNeeded votes
	outcomeStranger                    // every vote far beyond the threshold
	outcomeInconclusive                // MaxDescribes votes and neither
)

// settle reads one attempt's votes: the person who won VotesNeeded of
// them (each under the threshold with the margin), or a stranger when at
// least VotesNeeded votes and all of them are StrangerGap beyond the
// threshold, or inconclusive after MaxDescribes votes. A single vote in
// between keeps the attempt open: it may be an enrolled person turning.
func settle(votes []vote, cfg *PipelineConfig) (outcome, int64, []vote) {
	var winner int64
	var won []vote
	for _, vt := range votes {
		if !vt.match || vt.person == winner {
			continue
		}
		var vs []vote
		for _, x := range votes {
			if x.match && x.person == vt.person {
				vs = append(vs, x)
			}
		}
		if len(vs) >= cfg.VotesNeeded && len(vs) > len(won) {
			winner, won = vt.person, vs
		}
	}
	if winner != 0 {
		return outcomeMatch, winner, won
	}
	stranger := len(votes) >= cfg.VotesNeeded
	for _, vt := range votes {
		if vt.distance < cfg.strangerLine() {
			stranger = false
		}
	}
	switch {
	case stranger:
		return outcomeStranger, 0, votes
	case len(votes) >= cfg.MaxDescribes:
		return outcomeInconclusive, 0, votes
	}
	return outcomePending, 0, nil
}

// settled fills d's identity when the track's votes settle it. An
// inconclusive attempt starts afresh (nothing logged) until the face has
// been inconclusive for UndecidedFrames; then it is "unknown".
func (p *Pipeline) settled(t *track, d *Decision, seq int64) bool {
	cfg := p.conf()
	o, person, vs := settle(t.votes, cfg)
	switch o {
	case outcomeMatch:
		d.Verdict, d.PersonID, d.Frames = VerdictMatch, person, len(t.votes)
		d.Distance, d.Margin = medianDist(vs), minMargin(vs)
		d.Why = fmt.Sprintf("%d of %d frames matched", len(vs), len(t.votes))
		return true
	case outcomeStranger:
		d.Verdict, d.PersonID, d.Frames = VerdictUnknown, 0, len(t.votes)
		d.Distance, d.Margin = medianDist(vs), minMargin(vs)
		d.Why = fmt.Sprintf("%d frames, all %.2f or more from everyone enrolled", len(vs), cfg.strangerLine())
		return true
	case outcomeInconclusive:
		t.held = append(t.held, t.votes...)
		if seq-t.periodStart >= cfg.UndecidedFrames {
			d.Verdict, d.PersonID, d.Frames = VerdictUnknown, 0, len(t.held)
			d.Distance, d.Margin = medianDist(t.held), minMargin(t.held)
			d.FirstSeq = t.periodStart
			d.Why = fmt.Sprintf("not recognised in %d frames (%d described)", seq-t.periodStart, len(t.held))
			return true
		}
		p.Log.Debug("attempt inconclusive", "track", t.id, "votes", fmt.Sprint(t.votes))
		t.describes, t.votes = 0, nil
		t.tryStart = -1 // the next frame the face is seen
	}
	return false
}

// String formats a decision for logs.
func (d Decision) String() string {
	return fmt.Sprintf("track %d %s person %d dist %.3f margin %.3f frames %d liveness %s latency %s",
		d.Track, d.Verdict, d.PersonID, d.Distance, d.Margin, d.Frames, d.Liveness, d.Latency.Round(time.Millisecond))
}
