package eval

import (
	"context"
	"errors"
	"math"
	"strconv"
	"strings"
	"testing"
)

// vecModel is a synthetic model: a photo's bytes are its descriptor
// ("x,y"), "noface" has none. It lets the expected answer be known by
// construction.
type vecModel struct {
	rule   Rule
	cosine bool
}

func (vecModel) Name() string   { return "vec" }
func (v vecModel) Rule() Rule   { return v.rule }
func (v vecModel) Cosine() bool { return v.cosine }
func (v vecModel) Distance(a, b []float32) float64 {
	if v.cosine {
		return CosineDistance(a, b)
	}
	return Euclidean(a, b)
}
func (vecModel) Describe(_ string, img []byte) ([]float32, error) {
	if string(img) == "noface" {
		return nil, errors.New("no face: synthetic photo says so")
	}
	var out []float32
	for _, f := range strings.Split(string(img), ",") {
		v, err := strconv.ParseFloat(f, 32)
		if err != nil {
			return nil, err
		}
		out = append(out, float32(v))
	}
	return out, nil
}

func photos(vs ...string) []Photo {
	out := make([]Photo, len(vs))
	for i, v := range vs {
		out[i] = Photo{Name: v, Data: []byte(v)}
	}
	return out
}

func near(a, b float64) bool { return math.Abs(a-b) < 1e-9 }

func TestEER(t *testing.T) {
	cases := []struct {
		name          string
		gen, imp      []float64
		want, wantThr float64
	}{
		{"disjoint", []float64{0.1, 0.2, 0.3}, []float64{0.6, 0.7}, 0, 0.3},
		{"one of four overlaps", []float64{0.1, 0.2, 0.3, 0.4}, []float64{0.35, 0.5, 0.6, 0.7}, 0.25, 0.35},
		{"interleaved quarter", []float64{1, 2, 3, 4}, []float64{2.5, 3.5, 5, 6}, 0.25, 3},
		{"interleaved half", []float64{1, 3}, []float64{2, 4}, 0.5, 2},
		{"identical", []float64{0.5}, []float64{0.5}, 0.5, math.Inf(-1)},
		{"reversed", []float64{0.8, 0.9}, []float64{0.1, 0.2}, 1, 0.2},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			eer, thr := EER(c.gen, c.imp)
			if !near(eer, c.want) || thr != c.wantThr {
				t.Fatalf("EER = %v at %v, want %v at %v", eer, thr, c.want, c.wantThr)
			}
		})
	}
	if eer, _ := EER(nil, []float64{1}); !math.IsNaN(eer) {
		t.Fatalf("EER without genuine pairs = %v, want NaN", eer)
	}
}

func TestSummarise(t *testing.T) {
	if d := Summarise([]float64{1, 2, 4, 8}); d != (Dist{N: 4, Min: 1, Median: 3, Max: 8}) {
		t.Fatalf("even: %+v", d)
	}
	if d := Summarise([]float64{1, 2, 9}); d.Median != 2 {
		t.Fatalf("odd median %v", d.Median)
	}
}

func TestCalibrate(t *testing.T) {
	gen := []float64{0.30, 0.40, 0.44, 0.47}
	imp := []float64{0.62, 0.457, 0.50, 0.70} // unsorted on purpose
	cases := []struct {
		name             string
		imp              []float64
		far, safety      float64
		q, thr, eFAR, eF float64
		warn             string
	}{
		{"FAR 0: smallest minus safety, rounded down", imp, 0, 0.02, 0.457, 0.43, 0, 0.5, "FAR 0 rests on 4"},
		{"quantile at FAR 0.25 of 4 pairs", imp, 0.25, 0.02, 0.50, 0.48, 0.25, 0, "only 4"},
		{"too few pairs for FAR 0.1", imp, 0.1, 0, 0.457, 0.45, 0, 0.25, "needs at least 10"},
		{"quantile on the 0.01 grid with no safety stays below it", []float64{0.40, 0.9}, 0, 0, 0.40, 0.39, 0, 0.75, "FAR 0"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			cal, err := Calibrate(Pairs{Genuine: gen, Impostor: c.imp}, c.far, c.safety)
			if err != nil {
				t.Fatal(err)
			}
			if !near(float64(cal.Quantile), c.q) || !near(float64(cal.Threshold), c.thr) ||
				!near(float64(cal.ExpectedFAR), c.eFAR) || !near(float64(cal.ExpectedFNMR), c.eF) {
				t.Fatalf("got %+v, want quantile %v threshold %v FAR %v FNMR %v", cal, c.q, c.thr, c.eFAR, c.eF)
			}
			if !strings.Contains(cal.Warning, c.warn) || cal.ImpostorPairs != len(c.imp) {
				t.Fatalf("warning %q (pairs %d), want it to contain %q", cal.Warning, cal.ImpostorPairs, c.warn)
			}
		})
	}
	many := make([]float64, 3000)
	for i := range many {
		many[i] = 0.5 + float64(i)/10000
	}
	cal, err := Calibrate(Pairs{Impostor: many}, 1e-3, 0)
	if err != nil || !near(float64(cal.Quantile), many[3]) || cal.Warning != "" {
		t.Fatalf("FAR 1e-3 over 3000 pairs: %+v %v, want quantile %v and no warning", cal, err, many[3])
	}
	for _, bad := range [][2]float64{{-0.1, 0}, {1, 0}, {0, -1}} {
		if _, err := Calibrate(Pairs{Impostor: imp}, bad[0], bad[1]); err == nil {
			t.Fatalf("FAR %v safety %v accepted", bad[0], bad[1])
		}
	}
	if _, err := Calibrate(Pairs{Genuine: gen}, 0, 0); err == nil || !strings.Contains(err.Error(), "two people") {
		t.Fatalf("no impostor pairs: %v", err)
	}
}

func TestMeanTemplate(t *testing.T) {
	descs := [][]float32{{1, 0}, {0, 1}}
	if m := MeanTemplate(descs, false); !near(float64(m[0]), 0.5) || !near(float64(m[1]), 0.5) {
		t.Fatalf("mean = %v, want [0.5 0.5]", m)
	}
	m := MeanTemplate(descs, true)
	if r := math.Sqrt(0.5); math.Abs(float64(m[0])-r) > 1e-6 || math.Abs(float64(m[1])-r) > 1e-6 {
		t.Fatalf("renormalised mean = %v, want unit length [0.707 0.707]", m)
	}
	if MeanTemplate(nil, true) != nil {
		t.Fatal("mean of nothing should be nil")
	}
	if d := CosineDistance([]float32{1, 0}, []float32{0, 2}); !near(d, 1) {
		t.Fatalf("cosine of orthogonal = %v", d)
	}
	if d := Euclidean([]float32{0, 0}, []float32{3, 4}); !near(d, 5) {
		t.Fatalf("euclidean = %v", d)
	}
}

func TestCalibrateSetFromBytes(t *testing.T) {
	site := FromBytes(map[string][][]byte{
		"ann": {[]byte("0,0"), []byte("0,0.3")},
		"bob": {[]byte("1,0"), []byte("noface")},
		"cy":  {[]byte("0,2")},
	})
	c, err := CalibrateSet(context.Background(), vecModel{}, site, 0, 0.02)
	if err != nil {
		t.Fatal(err)
	}
	// impostor pairs: ann–bob 1 and ≈1.044, ann–cy 2 and 1.7, bob–cy ≈2.236; genuine: ann 0.3.
	if c.ImpostorPairs != 5 || c.GenuinePairs != 1 || !near(float64(c.Quantile), 1) || !near(float64(c.Threshold), 0.98) ||
		c.ExpectedFNMR != 0 {
		t.Fatalf("site calibration %+v", c)
	}
	if _, err := CalibrateSet(context.Background(), vecModel{}, FromBytes(map[string][][]byte{"solo": {[]byte("0,0")}}), 0, 0); err == nil {
		t.Fatal("one person calibrated")
	}
}
