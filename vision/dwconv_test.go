package vision

import (
	"cmp"
	"context"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"gocv.io/x/gocv"

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

// The narrow depthwise layer in fr_detect: on every photo of the
// calibration sets and every frame of the demo clip (whole frame, as the
// pipeline's detector sees it), the same faces at both thresholds, with
// float-noise differences in scores and boxes.
func TestNarrowDepthwiseSameDetections(t *testing.T) {
	if testing.Short() {
		t.Skip("runs fr_detect twice over the photo sets and the clip")
	}
	stock, err := newFaceplugin(modeltest.ModelsDir(t), false)
	if err != nil {
		t.Fatal(err)
	}
	defer stock.Close()
	fast := testFaceplugin(t)
	var d detDiff
	for _, p := range detectionPhotos(t) {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		dec, err := decodeImage(p, b)
		if err != nil {
			t.Fatal(err)
		}
		d.add(t, filepath.Base(p), dec.mat, fast, stock)
		dec.mat.Close()
	}
	photos := d.images
	src, err := OpenSource(clipPath(t), SourceOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	frame := gocv.NewMat()
	defer frame.Close()
	for {
		seq, _, err := src.Read(context.Background(), &frame)
		if err != nil {
			break
		}
		d.add(t, fmt.Sprintf("clip frame %d", seq), frame, fast, stock)
	}
	t.Logf("%d photos and %d clip frames: %d faces kept each way; largest face-score change %.1e (any prior), "+
		"%.1e (kept boxes); largest box-coordinate change %d px; %d priors crossed a threshold, %d images changed face count",
		photos, d.images-photos, d.faces, d.score, d.keptScore, d.boxPx, d.flipped, d.changed)
	if d.images-photos != 275 || photos < 130 {
		t.Fatalf("%d photos and %d frames compared, want ≥ 130 and 275", photos, d.images-photos)
	}
	if d.changed != 0 || d.flipped != 0 || d.score > 1e-4 || d.boxPx > 1 {
		t.Errorf("detections moved beyond float noise (want 0 count changes, 0 crossings, ≤ 1e-4, ≤ 1 px)")
	}
}

// detectionPhotos are the calibration photos: faces-eastasia and every
// Western photo under faces/.
func detectionPhotos(t *testing.T) []string {
	td := modeltest.Testdata(t)
	var out []string
	for _, g := range []string{"faces-eastasia/*/*.jpg", "faces/*.jpg", "faces/*.png", "faces/people/*/*/*"} {
		m, _ := filepath.Glob(filepath.Join(td, g))
		out = append(out, m...)
	}
	return out
}

// detDiff accumulates how far two fr_detect nets' outputs lie apart.
type detDiff struct {
	images, faces, flipped, changed, boxPx int
	score, keptScore                       float64
}

// add compares fast's and slow's raw outputs on m (every prior's face
// score, crossings of either threshold) and their kept boxes.
func (d *detDiff) add(t *testing.T, name string, m gocv.Mat, fast, slow *Faceplugin) {
	d.images++
	fast.detectRaw(m, func(_, fs []float32) {
		slow.detectRaw(m, func(_, ss []float32) {
			for i := 1; i < len(fs); i += 2 {
				d.score = max(d.score, math.Abs(float64(fs[i]-ss[i])))
				for _, th := range []float32{fpScoreMin, fpPhotoScoreMin} {
					if fs[i] >= th != (ss[i] >= th) {
						d.flipped++
						t.Logf("%s: prior %d scores %.6f with the narrow layer, %.6f without (threshold %.2f)", name, i/2, fs[i], ss[i], th)
					}
				}
			}
		})
	})
	for _, th := range []float32{fpScoreMin, fpPhotoScoreMin} {
		kf, ks := fast.detectScored(m, th), slow.detectScored(m, th)
		if len(kf) != len(ks) {
			d.changed++
			t.Logf("%s: %d faces at %.2f with the narrow layer, %d without", name, len(kf), th, len(ks))
			continue
		}
		d.faces += len(kf)
		for _, f := range kf {
			s := slices.MaxFunc(ks, func(a, b scoredBox) int { return cmp.Compare(overlap(a.r, f.r), overlap(b.r, f.r)) })
			d.keptScore = max(d.keptScore, math.Abs(float64(f.score-s.score)))
			for _, v := range []int{f.r.Min.X - s.r.Min.X, f.r.Min.Y - s.r.Min.Y, f.r.Max.X - s.r.Max.X, f.r.Max.Y - s.r.Max.Y} {
				d.boxPx = max(d.boxPx, v, -v)
			}
		}
	}
}
