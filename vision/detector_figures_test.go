package vision

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"gocv.io/x/gocv"

	"github.com/facegate/facegate/models/modeltest"
)

// TestDetectorFigures compares the per-frame detectors (report only): on
// the clip, frames with a face and ms per frame; on faces-eastasia, photos
// with a face.
func TestDetectorFigures(t *testing.T) {
	if testing.Short() {
		t.Skip("measurement")
	}
	lbp, err := NewDetector("")
	if err != nil {
		t.Fatal(err)
	}
	defer lbp.Close()
	nd, err := NewNetDetector(modeltest.ModelsDir(t))
	if err != nil {
		t.Fatal(err)
	}
	defer nd.Close()
	photos, _ := filepath.Glob(filepath.Join(modeltest.Testdata(t), "faces-eastasia", "*", "*.jpg"))
	for _, d := range []struct {
		name string
		det  FaceDetector
	}{{"LBP cascade", lbp}, {"fr_detect", nd}} {
		src, err := OpenSource(clipPath(t), SourceOptions{})
		if err != nil {
			t.Fatal(err)
		}
		frame := gocv.NewMat()
		var frames, withFace int
		var spent time.Duration
		for {
			if _, _, err := src.Read(context.Background(), &frame); err != nil {
				break
			}
			start := time.Now()
			n := len(d.det.Detect(frame))
			spent += time.Since(start)
			frames++
			if n > 0 {
				withFace++
			}
		}
		src.Close()
		found := 0
		for _, p := range photos {
			b, _ := os.ReadFile(p)
			dec, err := decodeImage(p, b)
			if err != nil {
				t.Fatal(err)
			}
			if len(d.det.Detect(dec.mat)) > 0 {
				found++
			}
			dec.mat.Close()
		}
		frame.Close()
		t.Logf("%s: clip %d of %d frames with a face, %.1f ms/frame; faces-eastasia %d of %d photos",
			d.name, withFace, frames, float64(spent.Microseconds())/1000/float64(max(frames, 1)), found, len(photos))
	}
}
