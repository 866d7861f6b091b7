package vision

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	face "github.com/Kagami/go-face"
)

func randomDescriptor(r *rand.Rand) Descriptor { return randomDescriptorN(r, DescriptorLen) }

func randomDescriptorN(r *rand.Rand, dim int) Descriptor {
	d := make(Descriptor, dim)
	var n float64
	for i := range d {
		d[i] = float32(r.NormFloat64())
		n += float64(d[i] * d[i])
	}
	// dlib descriptors have norm near 1; scale so distances look real.
	for i := range d {
		d[i] = float32(float64(d[i]) / math.Sqrt(n) * 0.9)
	}
	return d
}

func randomGallery(r *rand.Rand, n, persons int) []Template {
	ts := make([]Template, n)
	for i := range ts {
		ts[i] = Template{ID: int64(i + 1), PersonID: int64(i%persons + 1), Descriptor: randomDescriptor(r)}
	}
	return ts
}

// naiveMatch is the obviously-correct reference: per-person minimum, sorted.
func naiveMatch(ts []Template, d Descriptor, exclude int64) Match {
	best := map[int64]float64{}
	for _, t := range ts {
		if t.PersonID == exclude {
			continue
		}
		var s float64
		for i := range d {
			x := float64(d[i] - t.Descriptor[i])
			s += x * x
		}
		if v, ok := best[t.PersonID]; !ok || s < v {
			best[t.PersonID] = s
		}
	}
	m := Match{Distance: math.Inf(1), RunnerUpDistance: math.Inf(1)}
	for p, s := range best {
		dist := math.Sqrt(s)
		switch {
		case dist < m.Distance:
			m.RunnerUpID, m.RunnerUpDistance = m.PersonID, m.Distance
			m.PersonID, m.Distance = p, dist
		case dist < m.RunnerUpDistance:
			m.RunnerUpID, m.RunnerUpDistance = p, dist
		}
	}
	return m
}

func TestGalleryMatchesReference(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for _, tc := range []struct{ n, persons int }{{1, 1}, {2, 1}, {2, 2}, {50, 7}, {1000, 60}} {
		t.Run(fmt.Sprintf("%d templates %d persons", tc.n, tc.persons), func(t *testing.T) {
			ts := randomGallery(r, tc.n, tc.persons)
			g := NewGallery(ts)
			for q := 0; q < 200; q++ {
				probe := randomDescriptor(r)
				if q%3 == 0 { // near a template, as real probes are
					probe = slices.Clone(ts[r.IntN(len(ts))].Descriptor)
					probe[0] += 0.01
				}
				exclude := int64(0)
				if q%5 == 0 {
					exclude = int64(r.IntN(tc.persons) + 1)
				}
				got, want := g.MatchExcluding(probe, exclude), naiveMatch(ts, probe, exclude)
				if got.PersonID != want.PersonID || got.RunnerUpID != want.RunnerUpID ||
					!approxEq(got.Distance, want.Distance) || !approxEq(got.RunnerUpDistance, want.RunnerUpDistance) {
					t.Fatalf("probe %d: got %+v, want %+v", q, got, want)
				}
			}
		})
	}
}

func approxEq(a, b float64) bool {
	if math.IsInf(a, 1) || math.IsInf(b, 1) {
		return a == b
	}
	return math.Abs(a-b) < 1e-5
}

func TestGalleryEdges(t *testing.T) {
	d := make(Descriptor, DescriptorLen)
	if m := NewGallery(nil).Match(d); m.Found() || m.PersonID != 0 {
		t.Fatalf("empty gallery matched %+v", m)
	}
	a, b := make(Descriptor, DescriptorLen), make(Descriptor, DescriptorLen)
	b[0] = 0.3
	g := NewGallery([]Template{{ID: 1, PersonID: 7, Descriptor: a}})
	m := g.Match(b)
	if m.PersonID != 7 || !approxEq(m.Distance, 0.3) || m.RunnerUpID != 0 || !math.IsInf(m.RunnerUpDistance, 1) {
		t.Fatalf("single person: %+v", m)
	}
	if g.MatchExcluding(b, 7).Found() {
		t.Fatal("excluded person matched")
	}
	g.Replace([]Template{{ID: 1, PersonID: 7, Descriptor: a}, {ID: 2, PersonID: 8, Descriptor: b}})
	if g.Len() != 2 || g.Match(b).PersonID != 8 {
		t.Fatal("Replace did not take effect")
	}
}

func TestRuleDecide(t *testing.T) {
	r := Rule{Threshold: 0.5, MinMargin: 0.06}
	cases := []struct {
		name string
		m    Match
		want Verdict
	}{
		{"nobody enrolled", Match{Distance: math.Inf(1), RunnerUpDistance: math.Inf(1)}, VerdictUnknown},
		{"clear match, no runner-up", Match{PersonID: 1, Distance: 0.3, RunnerUpDistance: math.Inf(1)}, VerdictMatch},
		{"at threshold", Match{PersonID: 1, Distance: 0.5, RunnerUpDistance: 0.9}, VerdictMatch},
		{"above threshold", Match{PersonID: 1, Distance: 0.5001, RunnerUpDistance: 0.9}, VerdictUnknown},
		{"dlib's 0.6 would pass", Match{PersonID: 1, Distance: 0.58, RunnerUpDistance: 0.9}, VerdictUnknown},
		{"margin too small", Match{PersonID: 1, Distance: 0.30, RunnerUpID: 2, RunnerUpDistance: 0.35}, VerdictUnknown},
		{"margin enough", Match{PersonID: 1, Distance: 0.30, RunnerUpID: 2, RunnerUpDistance: 0.37}, VerdictMatch},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if v, why := r.Decide(c.m); v != c.want || why == "" {
				t.Fatalf("Decide = %s (%q), want %s", v, why, c.want)
			}
		})
	}
	for _, bad := range []Rule{{0, 0}, {0.5, -0.1}, {0.5, 0.5}, {2, 0}} {
		if bad.Validate() == nil {
			t.Errorf("rule %+v accepted", bad)
		}
	}
	if DefaultRule.Validate() != nil || DefaultThreshold >= 0.6 {
		t.Error("default rule must be valid and stricter than dlib's 0.6")
	}
}

var sink Match

// BenchmarkGalleryMatch is exact search over n templates on one core.
func BenchmarkGalleryMatch(b *testing.B) {
	for _, n := range []int{1_000, 10_000, 100_000} {
		r := rand.New(rand.NewPCG(3, 4))
		g := NewGallery(randomGallery(r, n, n/5))
		probe := randomDescriptor(r)
		b.Run(fmt.Sprintf("n=%d", n), func(b *testing.B) {
			for b.Loop() {
				sink = g.Match(probe)
			}
		})
	}
}

var sinkInt int

// BenchmarkGoFaceClassify is go-face's own nearest-template search (C++,
// squared distance) on the same galleries, for comparison.
func BenchmarkGoFaceClassify(b *testing.B) {
	rec := testRecognizer(b)
	for _, n := range []int{1_000, 10_000, 100_000} {
		r := rand.New(rand.NewPCG(3, 4))
		ts := randomGallery(r, n, n/5)
		samples := make([]face.Descriptor, n)
		cats := make([]int32, n)
		for i, t := range ts {
			samples[i], cats[i] = face.Descriptor(t.Descriptor), int32(t.PersonID)
		}
		rec.mu.Lock()
		rec.rec.SetSamples(samples, cats)
		probe := face.Descriptor(randomDescriptor(r))
		b.Run(fmt.Sprintf("n=%d", n), func(b *testing.B) {
			for b.Loop() {
				sinkInt = rec.rec.Classify(probe)
			}
		})
		rec.mu.Unlock()
	}
}

// BenchmarkIdentify1080p is one full identify of obama-1080p.jpg: decode,
// detect, landmarks, descriptor.
func BenchmarkIdentify1080p(b *testing.B) {
	rec := testRecognizer(b)
	img := readFaceB(b, "obama-1080p.jpg")
	for b.Loop() {
		if fs, err := rec.Faces("obama-1080p.jpg", img); err != nil || len(fs) != 1 {
			b.Fatal(len(fs), err)
		}
	}
}

// The vector kernel agrees with the portable loop.
func TestSqDistKernels(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	for i := 0; i < 2000; i++ {
		n := []int{DescriptorLen, FeatureLen, 100}[i%3]
		a, b := randomDescriptorN(r, n), randomDescriptorN(r, n)
		if i%5 == 0 {
			b = slices.Clone(a)
			b[i%n] += 0.5
		}
		got, want := sqDist(a, b), sqDistGo(a, b)
		if math.Abs(float64(got-want)) > 1e-5*math.Max(1, float64(want)) {
			t.Fatalf("kernel %v, portable %v", got, want)
		}
	}
	t.Logf("AVX2+FMA kernel in use: %v", useAVX2Active())
}
