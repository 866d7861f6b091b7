package vision

import (
	"fmt"
	"image"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"gocv.io/x/gocv"

	"github.com/facegate/facegate/models/modeltest"
)

// driftPhotos are described whole and halved + recompressed (MinMargin's
// method): the photos of TestFacepluginReencodeDrift. The East-Asian
// photos are not used: their faces (46 px and up) halved fall under the
// enrolment minimum (40 px faceplugin, 80 px dlib), and what moves them
// then is size, not recompression (tried: faceplugin drift 0.106, dlib
// 0.233 with four of them added).
var driftPhotos = []string{"faces/obama.jpg", "faces/obama2.jpg", "faces/obama3.jpg", "faces/biden.jpg"}

// deriveCalibrationPairs computes an embedder's Calibration by its documented
// method.
// It also returns the sorted genuine and impostor pair distances it counted.
func deriveCalibrationPairs(t *testing.T, name string, e Embedder) (Calibration, []float64, []float64) {
	t.Helper()
	set := calibrationSet(t, e)
	gen, imp := pairDistances(e.Info().Metric, set)
	if len(set) < 120 || len(imp) == 0 || len(gen) == 0 {
		t.Fatalf("%s: calibration set too small: %d faces", name, len(set))
	}
	c := Calibration{Embedder: name, Faces: len(set), GenuinePairs: len(gen), ImpostorPairs: len(imp),
		SafeMaxThreshold: math.Floor(imp[0]*1000) / 1000,
		MinMargin:        math.Ceil(2*reencodeDrift(t, e)*100-1e-9) / 100}
	for _, th := range CalibrationThresholds {
		c.Points = append(c.Points, CalibrationPoint{Threshold: th, ImpostorsAccepted: sort.SearchFloat64s(imp, th+1e-12),
			GenuineRefused: len(gen) - sort.SearchFloat64s(gen, th+1e-12)})
	}
	return c, gen, imp
}

// boundaryDrift is how far a pair distance moves between runs of the same
// photos and models: the narrow depthwise kernel against OpenCV's moved
// pair distances by at most 1.9e-4 (TestNarrowDepthwiseSameDescriptors),
// and CPUs, thread counts and loads move the last bits the same way (a
// faceplugin impostor pair sits at 0.80000 ± 1e-5). A table count may
// differ by the pairs within this of its threshold, and no more.
const boundaryDrift = 2e-4

// countsWithin reports whether the table's counts at each threshold are
// those of the photos, give or take the pairs within boundaryDrift of it.
func countsWithin(want []CalibrationPoint, gen, imp []float64) error {
	count := func(ds []float64, at float64) int { return sort.SearchFloat64s(ds, at+1e-12) }
	for _, p := range want {
		lo, hi := p.Threshold-boundaryDrift, p.Threshold+boundaryDrift
		if a := p.ImpostorsAccepted; a < count(imp, lo) || a > count(imp, hi) {
			return fmt.Errorf("at %.2f: %d impostor pairs accepted, the photos say %d–%d", p.Threshold, a, count(imp, lo), count(imp, hi))
		}
		if r := p.GenuineRefused; r < len(gen)-count(gen, hi) || r > len(gen)-count(gen, lo) {
			return fmt.Errorf("at %.2f: %d genuine pairs refused, the photos say %d–%d", p.Threshold, r, len(gen)-count(gen, hi), len(gen)-count(gen, lo))
		}
	}
	return nil
}

// reencodeDrift is the largest distance between a photo's descriptor and
// that of the same photo halved and recompressed at JPEG quality 70.
func reencodeDrift(t *testing.T, e Embedder) float64 {
	t.Helper()
	worst := 0.0
	for _, name := range driftPhotos {
		raw := readTestdata(t, name)
		a, err := e.Faces(name, raw)
		if err != nil || len(a) != 1 {
			t.Fatalf("%s: %d faces, %v", name, len(a), err)
		}
		m, _ := gocv.IMDecode(raw, gocv.IMReadColor)
		half := gocv.NewMat()
		gocv.Resize(m, &half, image.Point{}, 0.5, 0.5, gocv.InterpolationArea)
		buf, err := gocv.IMEncodeWithParams(gocv.JPEGFileExt, half, []int{gocv.IMWriteJpegQuality, 70})
		m.Close()
		half.Close()
		if err != nil {
			t.Fatal(err)
		}
		b, err := e.Faces(name, buf.GetBytes())
		buf.Close()
		if err != nil || len(b) != 1 {
			t.Fatalf("%s re-encoded: %d faces, %v", name, len(b), err)
		}
		worst = max(worst, e.Info().Metric.Between(a[0].Descriptor, b[0].Descriptor))
	}
	t.Logf("%s: largest drift after halving and JPEG q70: %.4f", e.Info().Name, worst)
	return worst
}

func readTestdata(t *testing.T, rel string) []byte {
	t.Helper()
	if strings.HasPrefix(rel, "faces/") {
		return modeltest.ReadFace(t, strings.TrimPrefix(rel, "faces/"))
	}
	b, err := os.ReadFile(filepath.Join(modeltest.Testdata(t), rel))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestCalibrationTable recomputes every embedder's calibration from the
// test photos with the real embedders and fails if a constant in
// calibration.go drifts from it; it also checks that each embedder's
// default rule lies in its safe range (dlib's does not: reported, see
// calibrations).
func TestCalibrationTable(t *testing.T) {
	if testing.Short() {
		t.Skip("describes 130 photos with each embedder")
	}
	for _, e := range []Embedder{testRecognizer(t), testFaceplugin(t)} {
		name := e.Info().Name
		got, gen, imp := deriveCalibrationPairs(t, name, e)
		t.Logf("derived (paste into calibrations):\n%s", goLiteral(got))
		want, ok := CalibrationFor(name)
		// Strict: the set, the safe maximum and the minimum margin; the
		// counts within the numeric drift of their thresholds.
		strict := want
		strict.Points = got.Points
		if !ok || !sameCalibration(strict, got) {
			t.Errorf("%s: calibration.go says %+v, the photos say %+v: update calibrations", name, want, got)
		} else if err := countsWithin(want.Points, gen, imp); err != nil || len(want.Points) != len(got.Points) {
			t.Errorf("%s: calibration.go's table is not the photos' (%v): update calibrations", name, err)
		}
		if err := got.CheckRule(DefaultRuleFor(name)); err != nil && name == EmbedderDlib {
			t.Logf("KNOWN: dlib's default rule %+v is outside its safe range: %v", DefaultRuleFor(name), err)
		} else if err != nil {
			t.Errorf("%s: the default rule %+v is outside the derived safe range: %v", name, DefaultRuleFor(name), err)
		}
	}
}

func sameCalibration(a, b Calibration) bool {
	if a.Embedder != b.Embedder || a.Faces != b.Faces || a.GenuinePairs != b.GenuinePairs || a.ImpostorPairs != b.ImpostorPairs ||
		math.Abs(a.SafeMaxThreshold-b.SafeMaxThreshold) > 1e-9 || math.Abs(a.MinMargin-b.MinMargin) > 1e-9 || len(a.Points) != len(b.Points) {
		return false
	}
	for i := range a.Points {
		if a.Points[i] != b.Points[i] {
			return false
		}
	}
	return true
}

func goLiteral(c Calibration) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%q: {Embedder: %q, Faces: %d, GenuinePairs: %d, ImpostorPairs: %d,\n\tSafeMaxThreshold: %.3f, MinMargin: %.2f,\n\tPoints: []CalibrationPoint{",
		c.Embedder, c.Embedder, c.Faces, c.GenuinePairs, c.ImpostorPairs, c.SafeMaxThreshold, c.MinMargin)
	for i, p := range c.Points {
		if i%3 == 0 {
			b.WriteString("\n\t\t")
		}
		fmt.Fprintf(&b, "{%.2f, %d, %d}, ", p.Threshold, p.ImpostorsAccepted, p.GenuineRefused)
	}
	b.WriteString("\n\t}},")
	return b.String()
}

// CheckRule refuses a threshold above the safe maximum and a margin below
// the minimum, and names the range.
func TestCalibrationCheckRule(t *testing.T) {
	c := Calibration{Embedder: "x", SafeMaxThreshold: 0.446, MinMargin: 0.04}
	for _, tc := range []struct {
		r    Rule
		want string
	}{{Rule{0.446, 0.04}, ""}, {Rule{0.40, 0.05}, ""}, {Rule{1.2, 0}, "above x's calibrated safe maximum 0.446"},
		{Rule{0.447, 0.05}, "safe maximum"}, {Rule{0.40, 0.03}, "below x's minimum 0.04"}} {
		err := c.CheckRule(tc.r)
		if (tc.want == "") != (err == nil) || err != nil && !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%+v: %v, want %q", tc.r, err, tc.want)
		}
	}
}

// A count may differ from the photos' only by pairs within boundaryDrift
// of its threshold: one pair at 0.80000 ± 1e-5 counts either way, a pair
// 0.001 away does not.
func TestCountsWithinDrift(t *testing.T) {
	imp := []float64{0.70, 0.799995, 0.801}
	gen := []float64{0.30, 0.799995}
	for _, tc := range []struct {
		accepted, refused int
		ok                bool
	}{{1, 1, true}, {2, 0, true}, {2, 1, true}, {3, 0, false}, {0, 1, false}, {1, 2, false}} {
		err := countsWithin([]CalibrationPoint{{Threshold: 0.80, ImpostorsAccepted: tc.accepted, GenuineRefused: tc.refused}}, gen, imp)
		if (err == nil) != tc.ok {
			t.Errorf("accepted %d refused %d: %v, want ok=%v", tc.accepted, tc.refused, err, tc.ok)
		}
	}
}
