package vision

import (
	"math"
	"testing"

	"github.com/facegate/facegate/models/modeltest"
)

// The narrow depthwise layer (internal/dwconv) changes only the order of
// float additions: on every calibration photo the descriptor stays within
// float noise of OpenCV's own layers', so stored templates keep matching,
// and no calibration pair changes side of the threshold.
func TestNarrowDepthwiseSameDescriptors(t *testing.T) {
	if testing.Short() {
		t.Skip("describes the calibration set twice")
	}
	stock, err := newFaceplugin(modeltest.ModelsDir(t), false)
	if err != nil {
		t.Fatal(err)
	}
	defer stock.Close()
	fast := calibrationSet(t, testFaceplugin(t))
	slow := calibrationSet(t, stock)
	if len(fast) != len(slow) || len(fast) < 120 {
		t.Fatalf("%d faces with the narrow layer, %d without: want the same, ≥ 120", len(fast), len(slow))
	}
	// calibrationSet's Western photos come in map order: pair by file.
	byFile := map[string]labelled{}
	for _, l := range slow {
		byFile[l.file] = l
	}
	worst := 0.0
	for i, f := range fast {
		s, ok := byFile[f.file]
		if !ok || s.width != f.width {
			t.Fatalf("%s: %d px face with the narrow layer, %d px without (found %v)", f.file, f.width, s.width, ok)
		}
		slow[i] = s
		worst = max(worst, MetricCosine.Between(f.d, s.d))
	}
	// Measured: at most 3e-7 (float32 rounding of a 512-D dot product).
	if worst > 1e-5 {
		t.Errorf("largest cosine distance between the two describes %.2e, want float noise (≤ 1e-5)", worst)
	}
	flips, moved := 0, 0.0
	for i := range fast {
		for j := i + 1; j < len(fast); j++ {
			da, db := MetricCosine.Between(fast[i].d, fast[j].d), MetricCosine.Between(slow[i].d, slow[j].d)
			moved = max(moved, math.Abs(da-db))
			if da <= FacepluginThreshold != (db <= FacepluginThreshold) {
				flips++
			}
		}
	}
	if flips != 0 {
		t.Errorf("%d calibration pairs changed side of the threshold %.2f", flips, FacepluginThreshold)
	}
	t.Logf("%d photos: largest descriptor change %.2e (cosine), largest pair-distance change %.2e, 0 pairs changed side",
		len(fast), worst, moved)
}
