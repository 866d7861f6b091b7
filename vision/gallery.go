package vision

import (
	"math"
	"sync/atomic"
)

// Template is one enrolled face descriptor of a person.
type Template struct {
	ID         int64
	PersonID   int64
	Descriptor Descriptor
}

// Match is the result of searching the gallery: the nearest person and the
// nearest other person. Distances are in the gallery's Metric; +Inf when
// there is none.
type Match struct {
	PersonID         int64
	Distance         float64
	RunnerUpID       int64
	RunnerUpDistance float64
}

// Margin is how much nearer the best person is than the runner-up.
func (m Match) Margin() float64 { return m.RunnerUpDistance - m.Distance }

// Found reports whether the gallery had anyone to compare with.
func (m Match) Found() bool { return !math.IsInf(m.Distance, 1) }

// gallerySnapshot is immutable once published: descriptors contiguous in
// one float32 slice, person IDs alongside.
type gallerySnapshot struct {
	dim       int
	vecs      []float32
	persons   []int64
	templates []int64
}

// Gallery is an in-memory exact-search index of templates. Reads take no
// lock: Match loads an immutable snapshot; writers publish a new one.
type Gallery struct {
	metric Metric
	snap   atomic.Pointer[gallerySnapshot]
}

// NewGallery returns a Euclidean gallery (dlib's metric) holding ts.
func NewGallery(ts []Template) *Gallery { return NewGalleryFor(MetricEuclidean, ts) }

// NewGalleryFor returns a gallery holding ts whose distances are in metric.
// Cosine distance assumes L2-normalised descriptors: it is then
// ||a−b||²/2, so one squared-distance kernel serves both metrics.
func NewGalleryFor(metric Metric, ts []Template) *Gallery {
	g := &Gallery{metric: metric}
	g.Replace(ts)
	return g
}

// Metric is the distance the gallery reports.
func (g *Gallery) Metric() Metric { return g.metric }

// Replace swaps the whole gallery for ts. Templates whose length differs
// from the first one's are left out: they come from another model and
// cannot be compared (identity loads one model's templates only).
func (g *Gallery) Replace(ts []Template) {
	s := &gallerySnapshot{
		persons:   make([]int64, 0, len(ts)),
		templates: make([]int64, 0, len(ts)),
	}
	if len(ts) > 0 {
		s.dim = len(ts[0].Descriptor)
	}
	s.vecs = make([]float32, 0, len(ts)*s.dim)
	for _, t := range ts {
		if len(t.Descriptor) != s.dim {
			continue
		}
		s.vecs = append(s.vecs, t.Descriptor...)
		s.persons = append(s.persons, t.PersonID)
		s.templates = append(s.templates, t.ID)
	}
	g.snap.Store(s)
}

// Len is the number of templates.
func (g *Gallery) Len() int {
	s := g.snap.Load()
	if s == nil {
		return 0
	}
	return len(s.persons)
}

// Match finds the nearest person (over all their templates) and the nearest
// other person.
func (g *Gallery) Match(d Descriptor) Match {
	return g.match(d, 0)
}

// MatchExcluding is Match ignoring one person's templates (0 excludes none);
// used to look for duplicates of a person being enrolled.
func (g *Gallery) MatchExcluding(d Descriptor, exclude int64) Match {
	return g.match(d, exclude)
}

func (g *Gallery) match(d Descriptor, exclude int64) Match {
	best, second := math.MaxFloat32, math.MaxFloat32
	var bp, sp int64
	s := g.snap.Load()
	if s != nil && len(d) == s.dim {
		vecs, n := s.vecs, s.dim
		for i, p := range s.persons {
			if p == exclude {
				continue
			}
			v := vecs[i*n : (i+1)*n : (i+1)*n]
			dist := float64(sqDist(d, v))
			switch {
			case p == bp:
				if dist < best {
					best = dist
				}
			case dist < best:
				// The old best beats every other person, so it is the runner-up.
				second, sp = best, bp
				best, bp = dist, p
			case dist < second:
				second, sp = dist, p
			}
		}
	}
	m := Match{PersonID: bp, Distance: math.Inf(1), RunnerUpID: sp, RunnerUpDistance: math.Inf(1)}
	if bp != 0 {
		m.Distance = g.metric.fromSquared(best)
	}
	if sp != 0 {
		m.RunnerUpDistance = g.metric.fromSquared(second)
	}
	return m
}

// sqDistGo is the portable squared Euclidean distance, unrolled by 4 for
// the compiler; the reference the vector kernel is tested against.
func sqDistGo(a Descriptor, b []float32) float32 {
	n := len(a)
	b = b[:n]
	var s0, s1, s2, s3 float32
	i := 0
	for ; i+4 <= n; i += 4 {
		d0 := a[i] - b[i]
		d1 := a[i+1] - b[i+1]
		d2 := a[i+2] - b[i+2]
		d3 := a[i+3] - b[i+3]
		s0 += d0 * d0
		s1 += d1 * d1
		s2 += d2 * d2
		s3 += d3 * d3
	}
	for ; i < n; i++ {
		d := a[i] - b[i]
		s0 += d * d
	}
	return (s0 + s1) + (s2 + s3)
}

// Distance is the Euclidean distance between two descriptors; NaN if their
// lengths differ (they come from different models).
func Distance(a, b Descriptor) float64 { return MetricEuclidean.Between(a, b) }
