package vision

import (
	"context"
	"image"
	"os"
	"path/filepath"
	"testing"
	"time"

	"gocv.io/x/gocv"

	"github.com/facegate/facegate/models/modeltest"
)

// TestDetectorFigures compares the per-frame detectors: on the clip, frames
// with a face and ms per frame; on faces-eastasia, photos with a face. It
// logs the figures (the README's) and fails if fr_detect no longer finds
// at least as many faces as the LBP cascade on both, the reason it exists.
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
	type counts struct{ clip, photos int }
	var got []counts
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
			b, err := os.ReadFile(p)
			if err != nil {
				t.Fatal(err)
			}
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
		got = append(got, counts{withFace, found})
	}
	if lbp, net := got[0], got[1]; net.clip < lbp.clip || net.photos < lbp.photos || net.photos == 0 {
		t.Fatalf("fr_detect found faces in %d clip frames and %d photos, the LBP cascade in %d and %d", net.clip, net.photos, lbp.clip, lbp.photos)
	}
}

// The Obama-in-the-audience measurement with fr_detect and the faceplugin
// embedder: his three nearest frames, the audience region upscaled 3×,
// cosine distance to obama.jpg. Like TestObamaInAudienceIsBeyondReach it
// fails when he comes within the threshold, the signal to assert him in
// TestPipelineOnDemoClip; it also fails if fr_detect no longer finds him.
func TestObamaInAudienceFaceplugin(t *testing.T) {
	fp := testFaceplugin(t)
	ref, err := fp.Faces("obama.jpg", modeltest.ReadFace(t, "obama.jpg"))
	if err != nil || len(ref) != 1 {
		t.Fatalf("obama.jpg: %d faces, %v", len(ref), err)
	}
	vc, err := gocv.VideoCaptureFile(clipPath(t))
	if err != nil {
		t.Fatal(err)
	}
	defer vc.Close()
	frame := gocv.NewMat()
	defer frame.Close()
	region := image.Rect(120, 0, 460, 230)
	const up = 3
	want := map[int]bool{241: true, 258: true, 273: true}
	found := 0
	for seq := 0; vc.Read(&frame); seq++ {
		if !want[seq] {
			continue
		}
		full := len(fp.detectLocked(frame))
		roi := frame.Region(region)
		big := gocv.NewMat()
		gocv.Resize(roi, &big, image.Point{}, up, up, gocv.InterpolationCubic)
		roi.Close()
		jpg, err := encodeJPEG(big)
		big.Close()
		if err != nil {
			t.Fatal(err)
		}
		fs, err := fp.Faces("frame", jpg)
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range fs {
			box := image.Rect(f.Box.Min.X/up, f.Box.Min.Y/up, f.Box.Max.X/up, f.Box.Max.Y/up).Add(region.Min)
			d := MetricCosine.Between(f.Descriptor, ref[0].Descriptor)
			t.Logf("frame %d: face %v at %.3f from obama.jpg (fr_detect on the whole frame: %d faces)", seq, box, d, full)
			if c := (box.Min.X + box.Max.X) / 2; c < 330 || c > 380 {
				continue
			}
			found++
			if d <= FacepluginThreshold {
				t.Errorf("frame %d: Obama at %.3f, within %.2f: assert him in TestPipelineOnDemoClip", seq, d, FacepluginThreshold)
			}
		}
	}
	if found != len(want) {
		t.Errorf("fr_detect found him in %d of %d frames", found, len(want))
	}
}

// detectLocked is detect at the frame threshold under the mutex.
func (f *Faceplugin) detectLocked(m gocv.Mat) []image.Rectangle {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.detect(m, fpScoreMin)
}
