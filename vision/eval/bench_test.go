package eval

import (
	"math/rand/v2"
	"testing"
)

// randSet makes described photos: seeded random 128-D vectors near each
// person's centre, so that the scoring part can be timed at site scale.
func randSet(people, per int) ([]PhotoResult, Model) {
	rng := rand.New(rand.NewPCG(1, 2))
	var out []PhotoResult
	for p := range people {
		centre := make([]float32, 128)
		for i := range centre {
			centre[i] = float32(rng.NormFloat64() * 0.05)
		}
		for k := range per {
			d := make([]float32, 128)
			for i := range d {
				d[i] = centre[i] + float32(rng.NormFloat64()*0.02)
			}
			out = append(out, PhotoResult{Person: string(rune('A'+p%26)) + string(rune('a'+p/26)), Index: k, Found: true, Descriptor: d})
		}
	}
	return out, vecModel{rule: Rule{Threshold: 0.5, Margin: 0.06}}
}

// BenchmarkScore times everything after describing: all pairs, EER, both
// 1:N galleries with leave-one-out, sweeps and calibration, for 250 people
// × 4 photos (a large site): 0.56 s per run on the 2-core EPYC, against
// ~0.1 s per photo (100 s) for dlib to describe them.
func BenchmarkScore(b *testing.B) {
	photos, m := randSet(250, 4)
	for b.Loop() {
		pairs := PairDistances(m, photos)
		EER(pairs.Genuine, pairs.Impostor)
		if _, err := Calibrate(pairs, 1e-3, 0.02); err != nil {
			b.Fatal(err)
		}
		for _, mode := range []string{GalleryMean, GalleryEach} {
			pr, err := NewProtocol(m, photos, 2, mode)
			if err != nil {
				b.Fatal(err)
			}
			run := pr.Search(m)
			run.At(m.Rule())
			run.Sweep(0.06, 0)
		}
	}
}
