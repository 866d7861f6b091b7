package vision

import (
	"image"
	"math"
	"sort"
)

// Liveness tunables (RGB only, no depth or IR).
const (
	// blinkDrop: a blink is the eye aspect ratio falling below this
	// fraction of the face's own open-eye level, then reopening. Relative,
	// because EAR at rest differs between people and camera angles.
	blinkDrop = 0.75
	// blinkReopen: the eyes count as open again above this fraction.
	blinkReopen = 0.9
	// nonRigidMin: after removing the best similarity transform (what
	// moving or zooming a photo or phone does), a live face's landmarks
	// still move by this much, as a fraction of the eye distance
	// (expressions, speech, head rotation in depth). Landmark jitter on a
	// still photo stays well below it.
	nonRigidMin = 0.035
	// livenessMinFrames: too few observations prove nothing.
	livenessMinFrames = 6
)

// LivenessResult is the outcome of the liveness check for one track.
type LivenessResult string

const (
	LivenessOff     LivenessResult = "off"
	LivenessLive    LivenessResult = "live"
	LivenessSpoof   LivenessResult = "not live"
	LivenessPending LivenessResult = "pending"
)

// eyeAspect is the eye aspect ratio (Soukupová & Čech 2016), mean of both
// eyes, from 68 landmarks: eye height over width; ~0.3 open, <0.2 closed.
func eyeAspect(lm []image.Point) float64 {
	if len(lm) != 68 {
		return -1
	}
	d := func(a, b int) float64 {
		return math.Hypot(float64(lm[a].X-lm[b].X), float64(lm[a].Y-lm[b].Y))
	}
	ear := func(o int) float64 { // o = first index of the eye's six points
		w := d(o, o+3)
		if w == 0 {
			return 0
		}
		return (d(o+1, o+5) + d(o+2, o+4)) / (2 * w)
	}
	return (ear(36) + ear(42)) / 2
}

// nonRigid is how far landmarks b are from landmarks a after the best 2-D
// similarity transform (rotation, scale, translation) maps a onto b: RMS
// residual divided by b's eye distance. A photo moved in front of the
// camera gives ~0 plus jitter; a living face does not.
func nonRigid(a, b []image.Point) float64 {
	if len(a) != len(b) || len(a) < 3 {
		return 0
	}
	n := float64(len(a))
	var ax, ay, bx, by float64
	for i := range a {
		ax += float64(a[i].X)
		ay += float64(a[i].Y)
		bx += float64(b[i].X)
		by += float64(b[i].Y)
	}
	ax, ay, bx, by = ax/n, ay/n, bx/n, by/n
	// Closed-form similarity fit: b ≈ s·R·(a-ā) + b̄ with complex-number algebra.
	var num1, num2, den float64
	for i := range a {
		x, y := float64(a[i].X)-ax, float64(a[i].Y)-ay
		u, v := float64(b[i].X)-bx, float64(b[i].Y)-by
		num1 += x*u + y*v
		num2 += x*v - y*u
		den += x*x + y*y
	}
	if den == 0 {
		return 0
	}
	c, s := num1/den, num2/den
	var res float64
	for i := range a {
		x, y := float64(a[i].X)-ax, float64(a[i].Y)-ay
		u, v := float64(b[i].X)-bx, float64(b[i].Y)-by
		ex, ey := c*x-s*y-u, s*x+c*y-v
		res += ex*ex + ey*ey
	}
	iod := math.Hypot(float64(b[45].X-b[36].X), float64(b[45].Y-b[36].Y))
	if len(b) != 68 || iod == 0 {
		return 0
	}
	return math.Sqrt(res/n) / iod
}

// livenessTrack accumulates a track's landmarks frame by frame.
type livenessTrack struct {
	ears   []float64
	first  []image.Point
	maxNR  float64
	frames int
}

func (l *livenessTrack) add(f Face) {
	if len(f.Landmarks) != 68 {
		return
	}
	l.frames++
	if f.EyeAspect > 0 {
		l.ears = append(l.ears, f.EyeAspect)
	}
	if l.first == nil {
		l.first = f.Landmarks
		return
	}
	l.maxNR = max(l.maxNR, nonRigid(l.first, f.Landmarks))
}

// blinked reports an open→closed→open sequence relative to the face's
// open-eye level (the 75th percentile of its EAR).
func (l *livenessTrack) blinked() bool {
	if len(l.ears) < 3 {
		return false
	}
	s := append([]float64(nil), l.ears...)
	sort.Float64s(s)
	open := s[len(s)*3/4]
	state := 0 // 0 waiting for open, 1 open, 2 closed
	for _, e := range l.ears {
		switch {
		case state == 0 && e >= blinkReopen*open:
			state = 1
		case state == 1 && e < blinkDrop*open:
			state = 2
		case state == 2 && e >= blinkReopen*open:
			return true
		}
	}
	return false
}

// result judges the evidence so far: live needs a blink and non-rigid motion.
func (l *livenessTrack) result() LivenessResult {
	if l.frames < livenessMinFrames {
		return LivenessPending
	}
	if l.blinked() && l.maxNR >= nonRigidMin {
		return LivenessLive
	}
	return LivenessPending
}
