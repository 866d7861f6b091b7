package vision

import (
	"cmp"
	"image"
	"slices"
	"time"
)

// Tracking tunables.
const (
	// trackIoU: a detection continues a track when their boxes overlap at
	// least this much; faces move little between frames at 15–30 fps.
	trackIoU = 0.3
	// trackMaxMissed: a track survives this many frames without a
	// detection (0.5 s at 30 fps: cascades miss a tilted or turning head
	// for several frames), then ends.
	trackMaxMissed = 15
	// unknownRetryFrames: a track decided "unknown" is tried again this
	// many frames later (0.5 s at 30 fps): people turn towards the camera.
	// Only a grant on a retry is reported (one "unknown" per face). A
	// granted track is never re-described.
	unknownRetryFrames = 15
)

// track follows one face across frames until it is decided.
type track struct {
	id        int
	box       image.Rectangle
	lastSeq   int64
	missed    int
	describes int
	votes     []vote
	decided   bool
	granted   bool
	person    int64 // who a granted track is
	retrySeq  int64 // an "unknown" track is described again from this frame
	tryStart  int64 // first frame of the current attempt (for latency); -1: the next one
	tryAt     time.Time
	// The period: since the face appeared or was retried after "unknown".
	periodStart   int64
	periodAt      time.Time
	held          []vote    // votes of this period's inconclusive attempts
	undecided     *Decision // evidence for an "unknown" decided after the face left
	unknownLogged bool      // this face already has its "unknown" decision
	skips         map[string]int
	live          *livenessTrack
	pending       *Decision // identity settled, liveness not yet proven
}

type vote struct {
	person   int64
	distance float64
	margin   float64
	match    bool
}

// tracker associates detections with tracks by greedy IoU.
type tracker struct {
	next   int
	tracks []*track
}

func iou(a, b image.Rectangle) float64 {
	in := a.Intersect(b)
	if in.Empty() {
		return 0
	}
	ia := float64(in.Dx() * in.Dy())
	return ia / (float64(a.Dx()*a.Dy()+b.Dx()*b.Dy()) - ia)
}

// update matches boxes to tracks and returns the tracks seen this frame
// and those that ended.
func (t *tracker) update(boxes []image.Rectangle, seq int64, at time.Time) (seen, ended []*track) {
	type pair struct {
		ti, bi int
		v      float64
	}
	var pairs []pair
	for ti, tr := range t.tracks {
		for bi, b := range boxes {
			if v := iou(tr.box, b); v >= trackIoU {
				pairs = append(pairs, pair{ti, bi, v})
			}
		}
	}
	// Best overlap first; stable, so ties keep track order (deterministic).
	slices.SortStableFunc(pairs, func(a, b pair) int { return cmp.Compare(b.v, a.v) })
	usedT, usedB := map[int]bool{}, map[int]bool{}
	for _, p := range pairs {
		if usedT[p.ti] || usedB[p.bi] {
			continue
		}
		usedT[p.ti], usedB[p.bi] = true, true
		tr := t.tracks[p.ti]
		tr.box, tr.lastSeq, tr.missed = boxes[p.bi], seq, 0
		seen = append(seen, tr)
	}
	kept := t.tracks[:0]
	for ti, tr := range t.tracks {
		if !usedT[ti] {
			tr.missed++
		}
		if tr.missed <= trackMaxMissed {
			kept = append(kept, tr)
		} else {
			ended = append(ended, tr)
		}
	}
	t.tracks = kept
	for bi, b := range boxes {
		if usedB[bi] {
			continue
		}
		t.next++
		tr := &track{id: t.next, box: b, lastSeq: seq, tryStart: seq, tryAt: at, periodStart: seq, periodAt: at, skips: map[string]int{}}
		t.tracks = append(t.tracks, tr)
		seen = append(seen, tr)
	}
	return seen, ended
}
