package vision

import (
	"cmp"
	"errors"
	"fmt"
	"image"
	"math"
	"path/filepath"
	"slices"
	"strings"
	"sync"

	"gocv.io/x/gocv"

	"github.com/facegate/facegate/models"
)

// FeatureLen is the length of the faceplugin descriptor.
const FeatureLen = 512

// Faceplugin tunables, from the publisher's JavaScript (lib/fr_*.js).
const (
	fpDetectW, fpDetectH = 320, 240 // fr_detect input
	fpPriors             = 4420     // fr_detect outputs, boxes already decoded
	fpScoreMin           = 0.65     // publisher's confidence threshold, kept for frame regions
	// fpPhotoScoreMin for whole photos: on the 116 faces-eastasia and 14
	// Western calibration photos every subject's face scored ≥ 0.99, while
	// the spurious boxes (a suit, a nested half-face) scored 0.57–0.79.
	fpPhotoScoreMin = 0.80
	fpNMS           = 0.4 // publisher's NMS IoU
	fpLandmarkSide  = 64  // fr_landmark input, grey /256
	fpChip          = 112 // fr_feature input, RGB (x−127)/128
	// fpRegionMarginPct: around a pipeline box the detector needs context;
	// the LBP cascade's box is tight, fr_detect's includes the forehead.
	fpRegionMarginPct = 50
)

// fpTemplate is the 112×112 five-point template (eye centres, nose tip,
// mouth corners) the feature net was trained on (ArcFace's).
var fpTemplate = [5][2]float64{
	{38.2946, 51.6963}, {73.5318, 51.5014}, {56.0252, 71.7366}, {41.5493, 92.3655}, {70.7299, 92.2041},
}

// Faceplugin is the 512-D ONNX embedder of the faceplugin package: fr_detect
// finds faces, fr_landmark places 68 points, a 5-point similarity aligns
// the face to 112×112 and fr_feature describes it. gocv.Net is not safe
// for concurrent use: every call holds mu.
type Faceplugin struct {
	mu               sync.Mutex
	det, lm, feat    gocv.Net
	closed           bool
	manifest         models.Manifest
	noLandmarkMirror bool // one landmark pass only (measurement only)
	chipMirror       bool // also describe the mirrored chip and sum (measurement only: worse)
	threeAffine      bool // the publisher's 3-point affine instead of the similarity (measurement only)
	loaded           []*gocv.Net
}

var _ Embedder = (*Faceplugin)(nil)

// NewFaceplugin verifies modelsDir and loads the three nets.
func NewFaceplugin(modelsDir string) (*Faceplugin, error) { return newFaceplugin(modelsDir, true) }

// newFaceplugin loads the nets; narrowDW gives all three the narrow
// depthwise layer of dwconv.cc (false only to measure against OpenCV's
// own). In fr_detect it runs the four layers on 10×8 inputs (three of 256
// channels, one of 64, which OpenCV took 0.2 ms each for): the same
// faces on the photo sets and the clip, scores within 4e-7
// (TestNarrowDepthwiseSameDetections), 6.8 → 6.5 ms of CPU a frame.
func newFaceplugin(modelsDir string, narrowDW bool) (*Faceplugin, error) {
	m, err := models.Verify(modelsDir)
	if err != nil {
		return nil, err
	}
	f := &Faceplugin{manifest: m}
	for _, x := range []struct {
		net    *gocv.Net
		file   string
		narrow bool
	}{{&f.det, models.FileFPDetect, narrowDW}, {&f.lm, models.FileFPLandmark, narrowDW}, {&f.feat, models.FileFPFeature, narrowDW}} {
		n, err := readNetONNX(filepath.Join(modelsDir, x.file), x.narrow)
		if err != nil {
			f.Close()
			return nil, err
		}
		*x.net = n
		f.loaded = append(f.loaded, x.net)
		if x.net.Empty() {
			f.Close()
			return nil, fmt.Errorf("OpenCV cannot load %s from %s: run `facegate models prepare`", x.file, modelsDir)
		}
	}
	if err := checkDetectOutputs(f.det); err != nil {
		f.Close()
		return nil, fmt.Errorf("%s in %s: %w", models.FileFPDetect, modelsDir, err)
	}
	return f, nil
}

// checkDetectOutputs makes sure the layers fpDetectOutputs names are the
// net's layers 110 and 111, as OpenCV 4.6 names them in the pinned model.
// (gocv's GetLayerNames returns freed strings; GetLayer by id is safe once
// the version is known.)
func checkDetectOutputs(det gocv.Net) error {
	if v := gocv.OpenCVVersion(); !strings.HasPrefix(v, "4.6.") {
		return fmt.Errorf("facegate reads fr_detect's layers by OpenCV 4.6's names, and this is OpenCV %s: build against 4.6 (Debian bookworm)", v)
	}
	for i, name := range fpDetectOutputs {
		l := det.GetLayer(110 + i)
		got := l.GetName()
		l.Close()
		if got != name {
			return fmt.Errorf("layer %d is %q, not %q: not the pinned model (run `facegate models prepare`)", 110+i, got, name)
		}
	}
	return nil
}

// Close frees the nets.
func (f *Faceplugin) Close() {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.closed {
		return
	}
	f.closed = true
	for _, n := range f.loaded {
		n.Close()
	}
}

// ModelVersion identifies the feature and landmark nets.
func (f *Faceplugin) ModelVersion() string { return f.manifest.FacepluginVersion() }

// Info describes the model: 512-D, cosine, its calibrated rule.
func (f *Faceplugin) Info() ModelInfo {
	e, _ := f.manifest.File(models.FileFPFeature)
	return ModelInfo{Name: EmbedderFaceplugin, Version: f.ModelVersion(), Dim: FeatureLen, Metric: MetricCosine,
		DefaultRule: FacepluginRule, StrangerLine: FacepluginStrangerLine, Licence: e.Licence + "; training data " + e.Training,
		ProvenanceUnknown: e.ProvenanceUnknown, MinFaceWidth: FacepluginMinFaceWidth, MinSharpness: FacepluginMinSharpness}
}

// Faces finds every face in an encoded photo with fr_detect and describes
// it. Faces are sorted left to right, in the original's coordinates.
func (f *Faceplugin) Faces(name string, img []byte) ([]Face, error) {
	d, err := decodeImage(name, img)
	if err != nil {
		return nil, err
	}
	defer d.mat.Close()
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.closed {
		return nil, errors.New("vision: embedder is closed")
	}
	var out []Face
	for _, box := range f.detect(d.mat, fpPhotoScoreMin) {
		fc, err := f.describe(d.mat, box)
		if err != nil {
			return nil, &ImageError{Name: name, Err: err}
		}
		fc.Box = scaleRect(fc.Box, d.scale)
		fc.Landmarks = scalePoints(fc.Landmarks, d.scale)
		out = append(out, fc)
	}
	slices.SortFunc(out, func(a, b Face) int { return cmp.Compare(a.Box.Min.X, b.Box.Min.X) })
	return out, nil
}

// describeRegion runs fr_detect on the area around box (with context) so
// the landmark net gets the box shape it was trained with, then describes
// what it finds there. Coordinates are in frame space.
func (f *Faceplugin) describeRegion(frame gocv.Mat, box image.Rectangle) ([]Face, error) {
	crop, ok := regionAround(frame, box, fpRegionMarginPct)
	if !ok {
		return nil, nil
	}
	roi := frame.Region(crop)
	defer roi.Close()
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.closed {
		return nil, errors.New("vision: embedder is closed")
	}
	var out []Face
	for _, b := range f.detect(roi, fpScoreMin) {
		fc, err := f.describe(frame, b.Add(crop.Min))
		if err != nil {
			return nil, err
		}
		out = append(out, fc)
	}
	return out, nil
}

// detect returns fr_detect's face boxes in m's coordinates scoring at
// least minScore, after the publisher's NMS.
func (f *Faceplugin) detect(m gocv.Mat, minScore float32) []image.Rectangle {
	var out []image.Rectangle
	for _, b := range f.detectScored(m, minScore) {
		out = append(out, b.r)
	}
	return out
}

// detectScored is detect with each kept box's score.
func (f *Faceplugin) detectScored(m gocv.Mat, minScore float32) []scoredBox {
	var cands []scoredBox
	w, h := float64(m.Cols()), float64(m.Rows())
	f.detectRaw(m, func(loc, scores []float32) {
		for i := range fpPriors {
			if s := scores[2*i+1]; s >= minScore {
				b := decodePrior(loc[4*i:4*i+4], i)
				r := image.Rect(int(float64(b[0])*w), int(float64(b[1])*h), int(float64(b[2])*w), int(float64(b[3])*h))
				cands = append(cands, scoredBox{r, s})
			}
		}
	})
	return nms(cands, fpNMS)
}

// fpDetectOutputs are the layers fr_detect's boxes and scores come from:
// the raw box regressions and the softmax. The net's own box decoding
// after them (21 Slice/Power/Exp/Concat layers over all 4420 priors, 0.45
// ms a frame on one core) is skipped: OpenCV runs a net only up to the last
// layer asked for, and decodePrior decodes just the priors that score.
// The names are OpenCV 4.6's for the pinned fr_detect.onnx; newFaceplugin
// checks they exist.
var fpDetectOutputs = []string{"onnx_node!Concat_150", "onnx_node!Softmax_151"}

// detectRaw runs fr_detect on m and hands use its fpPriors box regressions
// (see decodePrior) and scores (background, face), valid only during the
// call; use is not called if the outputs are malformed.
func (f *Faceplugin) detectRaw(m gocv.Mat, use func(loc, scores []float32)) {
	blob := detectBlob(m)
	defer blob.Close()
	f.det.SetInput(blob, "")
	outs := f.det.ForwardLayers(fpDetectOutputs)
	defer func() {
		for _, o := range outs {
			o.Close()
		}
	}()
	loc, err1 := outs[0].DataPtrFloat32()
	scores, err2 := outs[1].DataPtrFloat32()
	if err1 != nil || err2 != nil || len(loc) != 4*fpPriors || len(scores) != 2*fpPriors {
		return
	}
	use(loc, scores)
}

// decodePrior turns prior i's regression into a box (x0, y0, x1, y1 as
// fractions of the image) as the net's own last layers do, in their order
// of float32 operations: centre = l·0.1·prior size + prior centre, size =
// exp(l·0.2)·prior size.
func decodePrior(l []float32, i int) [4]float32 {
	p := fpPriorBoxes[i]
	cx, cy := l[0]*0.1*p[2]+p[0], l[1]*0.1*p[3]+p[1]
	w := float32(math.Exp(float64(l[2]*0.2))) * p[2]
	h := float32(math.Exp(float64(l[3]*0.2))) * p[3]
	return [4]float32{cx - w*0.5, cy - h*0.5, cx + w*0.5, cy + h*0.5}
}

// fpPriorBoxes are fr_detect's 4420 anchors (centre x, y, width, height as
// fractions), as the model's own constants hold them (Ultra-Light-Fast
// RFB, 320×240): cells of the 40×30, 20×15, 10×8 and 5×4 feature maps,
// centred in their cell, with 3, 2, 2 and 3 box sizes in px
// (TestDecodePriorIsTheNets compares the result with the net's own boxes).
var fpPriorBoxes = func() (out [fpPriors][4]float32) {
	maps := [4][2]int{{40, 30}, {20, 15}, {10, 8}, {5, 4}}
	sizes := [4][]float64{{10, 16, 24}, {32, 48}, {64, 96}, {128, 192, 256}}
	n := 0
	for k, fm := range maps {
		sw, sh := float64(fm[0]), float64(fm[1])
		for y := range fm[1] {
			for x := range fm[0] {
				for _, s := range sizes[k] {
					v := [4]float64{(float64(x) + 0.5) / sw, (float64(y) + 0.5) / sh, s / fpDetectW, s / fpDetectH}
					for j := range v {
						out[n][j] = float32(min(max(v[j], 0), 1))
					}
					n++
				}
			}
		}
	}
	return out
}()

// detectBlob is fr_detect's input for m: m resized to 320×240 (bilinear),
// planar, (x−127)/128 — gocv.BlobFromImage(m, 1/128, 320×240, 127, false,
// false) bit for bit (TestDetectBlobIsBlobFromImage), in one pass through a
// table instead of its four float passes (convert, subtract, scale, split):
// 1.2 → 0.2 ms a frame on one core, ahead of a 6 ms net. BGR as is: the
// publisher's JS swaps an RGBA canvas "BGR2RGB", so the net in fact
// receives B,G,R; on the calibration set that order gives slightly better
// boxes (genuine pairs ≤ 0.38: 63 % against 61 %).
func detectBlob(m gocv.Mat) gocv.Mat {
	size := image.Pt(fpDetectW, fpDetectH)
	if m.Type() != gocv.MatTypeCV8UC3 {
		return gocv.BlobFromImage(m, 1.0/128, size, gocv.NewScalar(127, 127, 127, 0), false, false)
	}
	small := gocv.NewMat()
	defer small.Close()
	gocv.Resize(m, &small, size, 0, 0, gocv.InterpolationLinear)
	blob := gocv.NewMatWithSizes([]int{1, 3, fpDetectH, fpDetectW}, gocv.MatTypeCV32F)
	src, err1 := small.DataPtrUint8()
	dst, err2 := blob.DataPtrFloat32()
	const n = fpDetectW * fpDetectH
	if err1 != nil || err2 != nil || len(src) != 3*n || len(dst) != 3*n {
		blob.Close()
		return gocv.BlobFromImage(m, 1.0/128, size, gocv.NewScalar(127, 127, 127, 0), false, false)
	}
	b, g, r := dst[:n], dst[n:2*n], dst[2*n:]
	for i := range n {
		px := src[3*i : 3*i+3 : 3*i+3]
		b[i], g[i], r[i] = fpDetectLUT[px[0]], fpDetectLUT[px[1]], fpDetectLUT[px[2]]
	}
	return blob
}

// fpDetectLUT maps a byte to fr_detect's input, (x−127)/128, computed as
// BlobFromImage does (float32 subtraction, then the exact power-of-two scale).
var fpDetectLUT = func() (t [256]float32) {
	for i := range t {
		t[i] = (float32(i) - 127) * (1.0 / 128)
	}
	return t
}()

// fpNestedMax: a box with more than this share of its area inside a
// better-scoring box is a part of that face (forehead, half-face: seen on
// faces-eastasia cn107/4 and cn109/2), not a second face. NMS's IoU misses
// it because the boxes differ much in size.
const fpNestedMax = 1.0 / 3

type scoredBox struct {
	r     image.Rectangle
	score float32
}

// nms keeps the best-scoring boxes that overlap no kept box by more than iou.
func nms(cands []scoredBox, iou float64) []scoredBox {
	slices.SortFunc(cands, func(a, b scoredBox) int { return cmp.Compare(b.score, a.score) })
	var kept []scoredBox
	for _, c := range cands {
		if !slices.ContainsFunc(kept, func(k scoredBox) bool { return overlap(k.r, c.r) > iou || inside(c.r, k.r) > fpNestedMax }) {
			kept = append(kept, c)
		}
	}
	return kept
}

// inside is the share of a's area that lies inside b.
func inside(a, b image.Rectangle) float64 {
	in := a.Intersect(b)
	if a.Empty() {
		return 0
	}
	return float64(in.Dx()*in.Dy()) / float64(a.Dx()*a.Dy())
}

func overlap(a, b image.Rectangle) float64 {
	in := a.Intersect(b)
	ia := float64(in.Dx() * in.Dy())
	u := float64(a.Dx()*a.Dy()+b.Dx()*b.Dy()) - ia
	if u <= 0 {
		return 0
	}
	return ia / u
}
