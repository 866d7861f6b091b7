package eval

import (
	"fmt"
	"math"
)

// Model is a face model under evaluation.
type Model interface {
	Name() string
	// Describe returns the descriptor of the largest face in the photo, or
	// an error saying why none.
	Describe(name string, img []byte) ([]float32, error)
	Distance(a, b []float32) float64
	Rule() Rule // threshold + minimum margin: the model's default decision rule
}

// CosineModel is implemented by models whose metric is cosine: their mean
// templates are L2-renormalised (a mean of unit vectors is shorter than
// one, which would shift every cosine distance to it).
type CosineModel interface {
	Cosine() bool
}

// Rule is a 1:N decision rule: accept the nearest person when their
// distance is at most Threshold and the runner-up person is at least Margin
// farther away.
type Rule struct {
	Threshold float64 `json:"threshold"`
	Margin    float64 `json:"margin"`
}

// Accepts applies the rule to a search's best and runner-up distances.
func (r Rule) Accepts(best, runnerUp float64) bool {
	return best <= r.Threshold && runnerUp-best >= r.Margin
}

func (r Rule) String() string { return fmt.Sprintf("≤ %.2f, margin ≥ %.2f", r.Threshold, r.Margin) }

func isCosine(m Model) bool {
	c, ok := m.(CosineModel)
	return ok && c.Cosine()
}

// Euclidean is the L2 distance (dlib's metric).
func Euclidean(a, b []float32) float64 {
	var s float64
	for i := range a {
		d := float64(a[i]) - float64(b[i])
		s += d * d
	}
	return math.Sqrt(s)
}

// CosineDistance is 1 − cos(a, b); 1 when either vector is zero.
func CosineDistance(a, b []float32) float64 {
	var dot, na, nb float64
	for i := range a {
		dot += float64(a[i]) * float64(b[i])
		na += float64(a[i]) * float64(a[i])
		nb += float64(b[i]) * float64(b[i])
	}
	if na == 0 || nb == 0 {
		return 1
	}
	return 1 - dot/math.Sqrt(na*nb)
}

// MeanTemplate is the element-wise mean of descriptors, scaled back to
// unit length when renormalise is set (cosine models). It returns nil for
// no descriptors.
func MeanTemplate(descs [][]float32, renormalise bool) []float32 {
	if len(descs) == 0 {
		return nil
	}
	sum := make([]float64, len(descs[0]))
	for _, d := range descs {
		for i, v := range d {
			sum[i] += float64(v)
		}
	}
	scale := 1 / float64(len(descs))
	if renormalise {
		var n float64
		for _, v := range sum {
			n += v * v
		}
		if n > 0 {
			scale = 1 / math.Sqrt(n)
		}
	}
	out := make([]float32, len(sum))
	for i, v := range sum {
		out[i] = float32(v * scale)
	}
	return out
}
