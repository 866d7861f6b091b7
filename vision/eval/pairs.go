package eval

import (
	"math"
	"slices"
)

// Pairs holds the distance of every pair of described photos: genuine
// pairs show one person, impostor pairs two different people. Both are
// sorted ascending.
type Pairs struct {
	Genuine  []float64
	Impostor []float64
}

// PairDistances compares every two photos that yielded a descriptor.
func PairDistances(m Model, photos []PhotoResult) Pairs {
	var p Pairs
	for i, a := range photos {
		if !a.Found {
			continue
		}
		for _, b := range photos[i+1:] {
			if !b.Found {
				continue
			}
			d := m.Distance(a.Descriptor, b.Descriptor)
			if a.Person == b.Person {
				p.Genuine = append(p.Genuine, d)
			} else {
				p.Impostor = append(p.Impostor, d)
			}
		}
	}
	slices.Sort(p.Genuine)
	slices.Sort(p.Impostor)
	return p
}

// Dist summarises a distance distribution.
type Dist struct {
	N      int     `json:"n"`
	Min    float64 `json:"min"`
	Median float64 `json:"median"`
	Max    float64 `json:"max"`
}

// Summarise describes sorted distances; all zero for none.
func Summarise(sorted []float64) Dist {
	n := len(sorted)
	if n == 0 {
		return Dist{}
	}
	med := sorted[n/2]
	if n%2 == 0 {
		med = (sorted[n/2-1] + sorted[n/2]) / 2
	}
	return Dist{N: n, Min: sorted[0], Median: med, Max: sorted[n-1]}
}

// countAtMost is how many of the sorted values are ≤ t.
func countAtMost(sorted []float64, t float64) int {
	i, found := slices.BinarySearch(sorted, t)
	for found && i < len(sorted) && sorted[i] == t {
		i++
	}
	return i
}

// EER is the equal error rate of sorted genuine and impostor distances,
// with a pair accepted when its distance ≤ t: at the threshold t where
// FAR(t) and FRR(t) are closest, their mean (ties: the lower mean). It is
// 0 when the sets are disjoint (all genuine below all impostors), 0.5 when
// they are the same single value, and NaN when either set is empty.
func EER(genuine, impostor []float64) (eer, threshold float64) {
	if len(genuine) == 0 || len(impostor) == 0 {
		return math.NaN(), math.NaN()
	}
	cands := slices.Concat([]float64{math.Inf(-1)}, genuine, impostor)
	gap := math.Inf(1)
	eer, threshold = math.Inf(1), math.NaN()
	for _, t := range cands {
		far := float64(countAtMost(impostor, t)) / float64(len(impostor))
		frr := float64(len(genuine)-countAtMost(genuine, t)) / float64(len(genuine))
		g, e := math.Abs(far-frr), (far+frr)/2
		if g < gap || (g == gap && e < eer) {
			gap, eer, threshold = g, e, t
		}
	}
	return eer, threshold
}
