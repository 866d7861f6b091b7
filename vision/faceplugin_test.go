package vision

import (
	"context"
	"fmt"
	"image"
	"math"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"gocv.io/x/gocv"

	"github.com/facegate/facegate/models/modeltest"
)

var (
	fpOnce sync.Once
	fpVal  *Faceplugin
	fpErr  error
)

func testFaceplugin(t testing.TB) *Faceplugin {
	t.Helper()
	dir := modeltest.ModelsDir(t)
	fpOnce.Do(func() { fpVal, fpErr = NewFaceplugin(dir) })
	if fpErr != nil {
		t.Fatal(fpErr)
	}
	return fpVal
}

// The face_recognition project's facts hold for the new default model with
// its own threshold: obama/obama2/obama3 one person, biden another.
func TestFacepluginWesternFacts(t *testing.T) {
	fp := testFaceplugin(t)
	counts := map[string]int{"obama.jpg": 1, "two_people.jpg": 2, "obama2.jpg": 1, "obama3.jpg": 1, "biden.jpg": 1}
	desc := map[string]Descriptor{}
	for name, want := range counts {
		fs, err := fp.Faces(name, modeltest.ReadFace(t, name))
		if err != nil {
			t.Fatal(err)
		}
		if len(fs) != want {
			t.Errorf("%s: %d faces, want %d", name, len(fs), want)
			continue
		}
		desc[name] = fs[0].Descriptor
		if len(fs[0].Landmarks) != 68 || len(fs[0].Descriptor) != FeatureLen {
			t.Errorf("%s: %d landmarks, %d-D", name, len(fs[0].Landmarks), len(fs[0].Descriptor))
		}
	}
	same := []string{"obama.jpg", "obama2.jpg", "obama3.jpg"}
	for i, a := range same {
		for _, b := range same[i+1:] {
			if d := MetricCosine.Between(desc[a], desc[b]); !(d <= FacepluginThreshold) {
				t.Errorf("%s–%s distance %.3f, want ≤ %.2f", a, b, d, FacepluginThreshold)
			}
		}
		if d := MetricCosine.Between(desc[a], desc["biden.jpg"]); !(d > FacepluginThreshold) {
			t.Errorf("%s–biden.jpg distance %.3f, want > %.2f", a, d, FacepluginThreshold)
		}
	}
}

// labelled is one calibration photo's largest face.
type labelled struct {
	person, file string
	d            Descriptor
	width        int
}

// calibrationSet describes the largest face of every calibration photo:
// faces-eastasia/<person>/N.jpg and the Western faces/ photos of known
// people. Photos without a face are reported and left out.
func calibrationSet(t *testing.T, e Embedder) []labelled {
	t.Helper()
	td := modeltest.Testdata(t)
	var files [][2]string // person, path
	ea, _ := filepath.Glob(filepath.Join(td, "faces-eastasia", "*", "*.jpg"))
	for _, p := range ea {
		files = append(files, [2]string{"ea/" + filepath.Base(filepath.Dir(p)), p})
	}
	tr, _ := filepath.Glob(filepath.Join(td, "faces", "people", "train", "*", "*"))
	for _, p := range tr {
		files = append(files, [2]string{"w/" + filepath.Base(filepath.Dir(p)), p})
	}
	for file, person := range map[string]string{"obama.jpg": "obama", "obama2.jpg": "obama", "obama3.jpg": "obama",
		"alex-lacamoire.png": "alex_lacamoire", "lin-manuel-miranda.png": "lin_manuel_miranda"} {
		files = append(files, [2]string{"w/" + person, filepath.Join(td, "faces", file)})
	}
	var out []labelled
	for _, f := range files {
		b, err := os.ReadFile(f[1])
		if err != nil {
			t.Fatal(err)
		}
		fs, err := e.Faces(filepath.Base(f[1]), b)
		if err != nil || len(fs) == 0 {
			t.Logf("calibration: %s: no face (%v)", f[1], err)
			continue
		}
		big := slices.MaxFunc(fs, func(a, b Face) int { return a.Width() - b.Width() })
		out = append(out, labelled{person: f[0], file: f[1], d: big.Descriptor, width: big.Width()})
	}
	return out
}

// pairDistances splits every pair into genuine and impostor distances.
func pairDistances(m Metric, set []labelled) (genuine, impostor []float64) {
	for i, a := range set {
		for _, b := range set[i+1:] {
			d := m.Between(a.d, b.d)
			if a.person == b.person {
				genuine = append(genuine, d)
			} else {
				impostor = append(impostor, d)
			}
		}
	}
	sort.Float64s(genuine)
	sort.Float64s(impostor)
	return genuine, impostor
}

// TestFacepluginThresholdDerivation recomputes the default threshold by its
// documented method: the smallest impostor-pair distance over the
// calibration set, minus FacepluginSafety, rounded down to 0.01. The
// constant may be stricter, never looser.
func TestFacepluginThresholdDerivation(t *testing.T) {
	set := calibrationSet(t, testFaceplugin(t))
	gen, imp := pairDistances(MetricCosine, set)
	if len(set) < 120 || len(imp) == 0 {
		t.Fatalf("calibration set too small: %d faces", len(set))
	}
	derived := math.Floor((imp[0]-FacepluginSafety)*100) / 100
	frr := float64(sort.SearchFloat64s(gen, FacepluginThreshold+1e-12)) / float64(len(gen))
	t.Logf("calibration: %d faces, %d genuine pairs (median %.3f), %d impostor pairs: smallest %.3f, 0.1%% quantile %.3f",
		len(set), len(gen), gen[len(gen)/2], len(imp), imp[0], imp[len(imp)/1000])
	t.Logf("derived threshold %.2f (constant %.2f); genuine pairs accepted at the constant: %.1f%%; pair EER %.1f%%",
		derived, FacepluginThreshold, 100*frr, 100*eer(gen, imp))
	t.Logf("genuine pairs: largest %.3f, 99%% quantile %.3f; impostor pairs beyond the largest genuine: %.1f%%",
		gen[len(gen)-1], gen[len(gen)*99/100], 100-100*float64(sort.SearchFloat64s(imp, gen[len(gen)-1]))/float64(len(imp)))
	if line := math.Ceil(gen[len(gen)-1]*100) / 100; FacepluginStrangerLine < line-1e-9 {
		t.Errorf("FacepluginStrangerLine %.2f is nearer than the largest same-person distance %.3f: raise it to %.2f",
			FacepluginStrangerLine, gen[len(gen)-1], line)
	}
	if FacepluginThreshold > derived+1e-9 {
		t.Errorf("FacepluginThreshold %.2f is above the derived %.2f: lower it", FacepluginThreshold, derived)
	}
}

// eer is the equal error rate of sorted genuine and impostor distances.
func eer(gen, imp []float64) float64 {
	best, at := 2.0, 0.0
	for _, th := range append(slices.Clone(gen), imp...) {
		frr := 1 - float64(sort.SearchFloat64s(gen, th+1e-12))/float64(len(gen))
		far := float64(sort.SearchFloat64s(imp, th+1e-12)) / float64(len(imp))
		if d := math.Abs(frr - far); d < best {
			best, at = d, (frr+far)/2
		}
	}
	return at
}

// TestDlibPairFigures reports dlib's figures on the same calibration set,
// for the comparison in the README, and checks its stranger line by the
// method faceplugin's is derived with.
func TestDlibPairFigures(t *testing.T) {
	if testing.Short() {
		t.Skip("measurement")
	}
	set := calibrationSet(t, testRecognizer(t))
	gen, imp := pairDistances(MetricEuclidean, set)
	if len(gen) == 0 || len(imp) == 0 {
		t.Fatal("no pairs")
	}
	t.Logf("dlib: %d faces, smallest impostor %.3f, pair EER %.1f%%; genuine pairs: largest %.3f, beyond 0.60: %d of %d",
		len(set), imp[0], 100*eer(gen, imp), gen[len(gen)-1], len(gen)-sort.SearchFloat64s(gen, DlibStrangerLine), len(gen))
	if gen[len(gen)-1] > DlibStrangerLine {
		t.Errorf("a same-person pair at %.3f lies beyond DlibStrangerLine %.2f", gen[len(gen)-1], DlibStrangerLine)
	}
}

func onlyEastAsia(set []labelled) []labelled {
	return slices.DeleteFunc(slices.Clone(set), func(l labelled) bool { return !strings.HasPrefix(l.person, "ea/") })
}

// BenchmarkFacepluginDescribe is one face's landmarks, alignment and
// descriptor (detection excluded) on obama.jpg's face. Run it pinned to one
// core (taskset -c 0; under it OpenCV's TBB pool has one thread). Besides
// wall time it reports cpu-ns/op, the process's CPU time per describe,
// which other processes sharing the core do not inflate.
func BenchmarkFacepluginDescribe(b *testing.B) { benchDescribe(b, testFaceplugin(b)) }

// BenchmarkFacepluginDescribeStockDepthwise is the same with OpenCV's own
// depthwise layers (before internal/dwconv), to compare in one run.
func BenchmarkFacepluginDescribeStockDepthwise(b *testing.B) {
	fp, err := newFaceplugin(modeltest.ModelsDir(b), false)
	if err != nil {
		b.Fatal(err)
	}
	defer fp.Close()
	benchDescribe(b, fp)
}

func benchDescribe(b *testing.B, fp *Faceplugin) {
	img := gocv.IMRead(filepath.Join(modeltest.Testdata(b), "faces", "obama.jpg"), gocv.IMReadColor)
	defer img.Close()
	fp.mu.Lock()
	defer fp.mu.Unlock()
	boxes := fp.detect(img, fpPhotoScoreMin)
	if len(boxes) != 1 {
		b.Fatalf("%d faces", len(boxes))
	}
	cpu := cpuTime()
	for b.Loop() {
		if _, err := fp.describe(img, boxes[0]); err != nil {
			b.Fatal(err)
		}
	}
	reportCPU(b, cpu)
}

// cpuTime is the process's user and system CPU time.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// reportCPU adds cpu-ns/op: CPU time since start per iteration.
func reportCPU(b *testing.B, start time.Duration) {
	b.ReportMetric(float64(cpuTime()-start)/float64(b.N), "cpu-ns/op")
}

// BenchmarkFacepluginLandmarks is fr_landmark's two passes (the crop and
// its mirror image) on obama.jpg's face, with their preprocessing.
func BenchmarkFacepluginLandmarks(b *testing.B) { benchLandmarks(b, testFaceplugin(b)) }

// BenchmarkFacepluginLandmarksStockDepthwise is the same with OpenCV's own
// depthwise layers.
func BenchmarkFacepluginLandmarksStockDepthwise(b *testing.B) {
	fp, err := newFaceplugin(modeltest.ModelsDir(b), false)
	if err != nil {
		b.Fatal(err)
	}
	defer fp.Close()
	benchLandmarks(b, fp)
}

func benchLandmarks(b *testing.B, fp *Faceplugin) {
	img := gocv.IMRead(filepath.Join(modeltest.Testdata(b), "faces", "obama.jpg"), gocv.IMReadColor)
	defer img.Close()
	fp.mu.Lock()
	defer fp.mu.Unlock()
	boxes := fp.detect(img, fpPhotoScoreMin)
	if len(boxes) != 1 {
		b.Fatalf("%d faces", len(boxes))
	}
	cpu := cpuTime()
	for b.Loop() {
		if _, err := fp.landmarks(img, boxes[0]); err != nil {
			b.Fatal(err)
		}
	}
	reportCPU(b, cpu)
}

// BenchmarkFacepluginDetect is fr_detect on one 640×360 frame (obama.jpg
// resized), with its preprocessing and NMS.
func BenchmarkFacepluginDetect(b *testing.B) { benchDetect(b, testFaceplugin(b)) }

// BenchmarkFacepluginDetectStockDepthwise is the same with OpenCV's own
// depthwise layers.
func BenchmarkFacepluginDetectStockDepthwise(b *testing.B) {
	fp, err := newFaceplugin(modeltest.ModelsDir(b), false)
	if err != nil {
		b.Fatal(err)
	}
	defer fp.Close()
	benchDetect(b, fp)
}

func benchDetect(b *testing.B, fp *Faceplugin) {
	img := gocv.IMRead(filepath.Join(modeltest.Testdata(b), "faces", "obama.jpg"), gocv.IMReadColor)
	defer img.Close()
	frame := gocv.NewMat()
	defer frame.Close()
	gocv.Resize(img, &frame, image.Pt(640, 360), 0, 0, gocv.InterpolationArea)
	fp.mu.Lock()
	defer fp.mu.Unlock()
	cpu := cpuTime()
	for b.Loop() {
		if len(fp.detect(frame, fpScoreMin)) != 1 {
			b.Fatal("want one face")
		}
	}
	reportCPU(b, cpu)
}

// detectBlob is gocv.BlobFromImage bit for bit on what fr_detect is given:
// a whole clip frame, a region of it (not continuous in memory), a photo
// larger and one smaller than the net's input, and one of its exact size.
func TestDetectBlobIsBlobFromImage(t *testing.T) {
	vc, err := gocv.VideoCaptureFile(clipPath(t))
	if err != nil {
		t.Fatal(err)
	}
	defer vc.Close()
	frame := gocv.NewMat()
	defer frame.Close()
	for range 100 { // a frame with a face in it
		vc.Read(&frame)
	}
	region := frame.Region(image.Rect(101, 33, 357, 301))
	defer region.Close()
	exact := gocv.NewMat()
	defer exact.Close()
	gocv.Resize(frame, &exact, image.Pt(fpDetectW, fpDetectH), 0, 0, gocv.InterpolationArea)
	mats := map[string]gocv.Mat{"frame": frame, "region": region, "320×240": exact}
	for _, name := range []string{"obama.jpg", "obama_small.jpg"} {
		m := gocv.IMRead(modeltest.Face(t, name), gocv.IMReadColor)
		defer m.Close()
		mats[name] = m
	}
	for name, m := range mats {
		ours := detectBlob(m)
		ref := gocv.BlobFromImage(m, 1.0/128, image.Pt(fpDetectW, fpDetectH), gocv.NewScalar(127, 127, 127, 0), false, false)
		a, err1 := ours.DataPtrFloat32()
		b, err2 := ref.DataPtrFloat32()
		if err1 != nil || err2 != nil || len(a) != len(b) || len(a) != 3*fpDetectW*fpDetectH || !slices.Equal(ours.Size(), ref.Size()) {
			t.Fatalf("%s (%dx%d): blob sizes %v and %v (%v, %v)", name, m.Cols(), m.Rows(), ours.Size(), ref.Size(), err1, err2)
		}
		diff := 0
		for i := range a {
			if a[i] != b[i] {
				diff++
			}
		}
		if diff != 0 {
			t.Errorf("%s (%dx%d): %d of %d values differ from BlobFromImage's", name, m.Cols(), m.Rows(), diff, len(a))
		}
		ours.Close()
		ref.Close()
	}
}

// decodePrior and fpPriorBoxes give the boxes fr_detect's own last layers
// give, on every prior of every photo of the calibration sets and every
// clip frame; the faces kept at both thresholds are the same boxes.
func TestDecodePriorIsTheNets(t *testing.T) {
	if testing.Short() {
		t.Skip("runs fr_detect over the photo sets and the clip")
	}
	fp := testFaceplugin(t)
	var worst float64
	var images, faces, moved int
	check := func(name string, m gocv.Mat) {
		images++
		blob := detectBlob(m)
		defer blob.Close()
		fp.det.SetInput(blob, "")
		outs := fp.det.ForwardLayers(append(slices.Clone(fpDetectOutputs), "boxes"))
		defer func() {
			for _, o := range outs {
				o.Close()
			}
		}()
		loc, _ := outs[0].DataPtrFloat32()
		scores, _ := outs[1].DataPtrFloat32()
		boxes, _ := outs[2].DataPtrFloat32()
		var ours, nets []scoredBox
		w, h := float64(m.Cols()), float64(m.Rows())
		px := func(b []float32) image.Rectangle {
			return image.Rect(int(float64(b[0])*w), int(float64(b[1])*h), int(float64(b[2])*w), int(float64(b[3])*h))
		}
		for i := range fpPriors {
			d := decodePrior(loc[4*i:4*i+4], i)
			for j := range 4 {
				worst = max(worst, math.Abs(float64(d[j]-boxes[4*i+j])))
			}
			if s := scores[2*i+1]; s >= fpScoreMin {
				ours, nets = append(ours, scoredBox{px(d[:]), s}), append(nets, scoredBox{px(boxes[4*i : 4*i+4]), s})
			}
		}
		for _, th := range []float32{fpScoreMin, fpPhotoScoreMin} {
			keep := func(c []scoredBox) []scoredBox {
				return nms(slices.DeleteFunc(slices.Clone(c), func(b scoredBox) bool { return b.score < th }), fpNMS)
			}
			a, b := keep(ours), keep(nets)
			faces += len(b)
			if !slices.Equal(a, b) {
				moved++
				t.Logf("%s at %.2f: kept %v from our decoding, %v from the net's", name, th, a, b)
			}
		}
	}
	for _, p := range detectionPhotos(t) {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		dec, err := decodeImage(p, b)
		if err != nil {
			t.Fatal(err)
		}
		check(filepath.Base(p), dec.mat)
		dec.mat.Close()
	}
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
		check(fmt.Sprintf("clip frame %d", seq), frame)
	}
	t.Logf("%d images: largest box-coordinate difference %.1e (fraction of the image) over all priors; "+
		"%d faces kept from the net's boxes, %d images kept other boxes", images, worst, faces, moved)
	if images < 130+275 || faces < images || moved != 0 || worst > 1e-5 {
		t.Errorf("want ≥ 405 images, a face in most, the same kept boxes and ≤ 1e-5")
	}
}

// TestFacepluginAlignmentFigures measures the publisher's 3-point affine
// against the 5-point similarity on the calibration set (report only).
func TestFacepluginAlignmentFigures(t *testing.T) {
	if testing.Short() {
		t.Skip("measurement")
	}
	fp3, err := NewFaceplugin(modeltest.ModelsDir(t))
	if err != nil {
		t.Fatal(err)
	}
	defer fp3.Close()
	fp3.threeAffine = true
	fp1, err := NewFaceplugin(modeltest.ModelsDir(t))
	if err != nil {
		t.Fatal(err)
	}
	defer fp1.Close()
	fp1.chipMirror = true
	for _, c := range []struct {
		name string
		e    *Faceplugin
	}{{"5-point similarity", testFaceplugin(t)}, {"5-point similarity, chip mirrored too", fp1}, {"3-point affine", fp3}} {
		set := calibrationSet(t, c.e)
		gen, imp := pairDistances(MetricCosine, set)
		ea := onlyEastAsia(set)
		egen, eimp := pairDistances(MetricCosine, ea)
		t.Logf("%s: all: smallest impostor %.3f, EER %.1f%%, genuine median %.3f; east-asia: smallest impostor %.3f, EER %.1f%%, genuine ≤ %.2f: %.0f%%",
			c.name, imp[0], 100*eer(gen, imp), gen[len(gen)/2], eimp[0], 100*eer(egen, eimp), FacepluginThreshold,
			100*float64(sort.SearchFloat64s(egen, FacepluginThreshold+1e-12))/float64(len(egen)))
		for i, a := range set {
			for _, b := range set[i+1:] {
				if d := MetricCosine.Between(a.d, b.d); a.person != b.person && d < imp[0]+0.03 {
					t.Logf("  close impostor pair %.3f: %s %s", d, a.file, b.file)
				}
			}
		}
	}
}

// TestFacepluginTemplateFigures compares, on faces-eastasia with photos 1
// and 2 enrolled and 3 and 4 as probes, one mean template against matching
// each enrolment photo, at the default rule, including impostors (every
// probe against the other people only). Report only.
func TestFacepluginTemplateFigures(t *testing.T) {
	if testing.Short() {
		t.Skip("measurement")
	}
	for _, v := range []struct {
		name             string
		noLM, chipMirror bool
	}{{"one landmark pass", true, false}, {"landmarks + mirrored landmarks", false, false}, {"both + mirrored chip", false, true}} {
		e, err := NewFaceplugin(modeltest.ModelsDir(t))
		if err != nil {
			t.Fatal(err)
		}
		e.noLandmarkMirror, e.chipMirror = v.noLM, v.chipMirror
		all := calibrationSet(t, e)
		e.Close()
		_, imp := pairDistances(MetricCosine, all)
		rule := Rule{Threshold: math.Floor((imp[0]-FacepluginSafety)*100) / 100, MinMargin: FacepluginMinMargin}
		for _, mode := range []string{"mean", "each"} {
			miss, acc, n := templateTrial(onlyEastAsia(all), mode, rule)
			t.Logf("%s, %s template(s), derived threshold %.2f: %d probes, %d missed (FNIR %.1f%%), %d impostors accepted",
				v.name, mode, rule.Threshold, n, miss, 100*float64(miss)/float64(n), acc)
		}
	}
}

// templateTrial enrols photos 1 and 2 of each person (mean or each) and
// probes with the others, also against the gallery without the person.
func templateTrial(set []labelled, mode string, rule Rule) (miss, imp, n int) {
	enrol := map[string][]Descriptor{}
	var probes []labelled
	for _, l := range set {
		if b := filepath.Base(l.file); b == "1.jpg" || b == "2.jpg" {
			enrol[l.person] = append(enrol[l.person], l.d)
		} else {
			probes = append(probes, l)
		}
	}
	var ts []Template
	id := map[string]int64{}
	for p, ds := range enrol {
		id[p] = int64(len(id) + 1)
		if mode == "mean" {
			ds = []Descriptor{MeanTemplate(MetricCosine, ds)}
		}
		for _, d := range ds {
			ts = append(ts, Template{ID: int64(len(ts) + 1), PersonID: id[p], Descriptor: d})
		}
	}
	g := NewGalleryFor(MetricCosine, ts)
	for _, p := range probes {
		m := g.Match(p.d)
		if v, _ := rule.Decide(m); v != VerdictMatch || m.PersonID != id[p.person] {
			miss++
		}
		if v, _ := rule.Decide(g.MatchExcluding(p.d, id[p.person])); v == VerdictMatch {
			imp++
		}
	}
	return miss, imp, len(probes)
}

// TestFacepluginReencodeDrift measures how far a descriptor moves when the
// same photo is JPEG-recompressed at quality 70 and halved in size, as a
// camera frame would be (FacepluginSafety's argument). It fails if twice
// the drift (template and probe may both move) exceeds the safety margin.
func TestFacepluginReencodeDrift(t *testing.T) {
	fp := testFaceplugin(t)
	worst := 0.0
	for _, name := range []string{"obama.jpg", "obama2.jpg", "obama3.jpg", "biden.jpg"} {
		raw := modeltest.ReadFace(t, name)
		a, err := fp.Faces(name, raw)
		if err != nil || len(a) != 1 {
			t.Fatalf("%s: %d faces, %v", name, len(a), err)
		}
		m, err := gocv.IMDecode(raw, gocv.IMReadColor)
		if err != nil {
			t.Fatal(err)
		}
		half := gocv.NewMat()
		gocv.Resize(m, &half, image.Point{}, 0.5, 0.5, gocv.InterpolationArea)
		buf, err := gocv.IMEncodeWithParams(gocv.JPEGFileExt, half, []int{gocv.IMWriteJpegQuality, 70})
		m.Close()
		half.Close()
		if err != nil {
			t.Fatal(err)
		}
		b, err := fp.Faces(name, buf.GetBytes())
		buf.Close()
		if err != nil || len(b) != 1 {
			t.Fatalf("%s re-encoded: %d faces, %v", name, len(b), err)
		}
		worst = max(worst, MetricCosine.Between(a[0].Descriptor, b[0].Descriptor))
	}
	t.Logf("largest drift after halving and JPEG q70: %.4f", worst)
	if 2*worst > FacepluginSafety {
		t.Errorf("twice the drift %.4f exceeds the safety margin %.2f", worst, FacepluginSafety)
	}
}

// BenchmarkFacepluginFeature is fr_feature alone on one 112×112 chip: the
// floor of describe's cost.
func BenchmarkFacepluginFeature(b *testing.B) { benchFeature(b, testFaceplugin(b)) }

// BenchmarkFacepluginFeatureStockDepthwise is fr_feature with OpenCV's own
// depthwise layers.
func BenchmarkFacepluginFeatureStockDepthwise(b *testing.B) {
	fp, err := newFaceplugin(modeltest.ModelsDir(b), false)
	if err != nil {
		b.Fatal(err)
	}
	defer fp.Close()
	benchFeature(b, fp)
}

func benchFeature(b *testing.B, fp *Faceplugin) {
	chip := gocv.NewMatWithSize(fpChip, fpChip, gocv.MatTypeCV8UC3)
	defer chip.Close()
	fp.mu.Lock()
	defer fp.mu.Unlock()
	cpu := cpuTime()
	for b.Loop() {
		if _, err := fp.feature(chip); err != nil {
			b.Fatal(err)
		}
	}
	reportCPU(b, cpu)
}

// TestFacepluginSmallFaces measures how a descriptor degrades as the face
// shrinks (each photo scaled so its face is w px wide, compared with the
// full-size descriptor), and reports the narrowest face in faces-eastasia.
// FacepluginMinFaceWidth must keep the drift under a quarter of the
// threshold, so an enrolment at the limit leaves room for the probe.
func TestFacepluginSmallFaces(t *testing.T) {
	fp := testFaceplugin(t)
	worst := map[int]float64{}
	for _, name := range []string{"obama.jpg", "obama2.jpg", "obama3.jpg", "biden.jpg"} {
		raw := modeltest.ReadFace(t, name)
		full, err := fp.Faces(name, raw)
		if err != nil || len(full) != 1 {
			t.Fatalf("%s: %d faces, %v", name, len(full), err)
		}
		m, err := gocv.IMDecode(raw, gocv.IMReadColor)
		if err != nil {
			t.Fatal(err)
		}
		for _, w := range []int{24, 32, FacepluginMinFaceWidth, 60} {
			f := float64(w) / float64(full[0].Width())
			small := gocv.NewMat()
			gocv.Resize(m, &small, image.Point{}, f, f, gocv.InterpolationArea)
			buf, err := gocv.IMEncode(gocv.PNGFileExt, small)
			if err != nil {
				t.Fatal(err)
			}
			fs, err := fp.Faces(name, buf.GetBytes())
			buf.Close()
			small.Close()
			d := 2.0 // not found
			if err == nil && len(fs) == 1 {
				d = MetricCosine.Between(fs[0].Descriptor, full[0].Descriptor)
			}
			worst[w] = max(worst[w], d)
		}
		m.Close()
	}
	t.Logf("largest drift from full size by face width (2 = not found): %v", worst)
	if worst[FacepluginMinFaceWidth] > FacepluginThreshold/4 {
		t.Errorf("at %d px the descriptor drifts %.3f, more than a quarter of the threshold", FacepluginMinFaceWidth, worst[FacepluginMinFaceWidth])
	}
	set := onlyEastAsia(calibrationSet(t, fp))
	narrow := slices.MinFunc(set, func(a, b labelled) int { return a.width - b.width })
	t.Logf("faces-eastasia: narrowest face %d px (%s)", narrow.width, narrow.file)
}

// MeanTemplate (test helper) is the mean of several descriptors of one person, L2
// re-normalised for cosine models; nil if ds is empty or lengths differ.
func MeanTemplate(m Metric, ds []Descriptor) Descriptor {
	if len(ds) == 0 {
		return nil
	}
	out := make(Descriptor, len(ds[0]))
	for _, d := range ds {
		if len(d) != len(out) {
			return nil
		}
		for i, x := range d {
			out[i] += x / float32(len(ds))
		}
	}
	if m == MetricCosine {
		l2Normalise(out)
	}
	return out
}
