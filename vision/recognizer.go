package vision

import (
	"errors"
	"fmt"
	"image"
	"math"
	"sync"

	face "github.com/Kagami/go-face"
	"gocv.io/x/gocv"

	"github.com/facegate/facegate/models"
)

// DescriptorLen is the length of dlib's face descriptor (faceplugin's is
// FeatureLen).
const DescriptorLen = 128

// sharpnessSide is the size face crops are scaled to before measuring
// sharpness, so that the figure does not depend on how large the face is.
const sharpnessSide = 128

// ErrCNNUnavailable is returned by CNN detection when the MMOD detector in
// the model directory is the inert placeholder.
var ErrCNNUnavailable = errors.New("CNN face detection unavailable: the MMOD detector file is an inert placeholder " +
	"(run `facegate models prepare --from DIR` with a directory holding mmod_human_face_detector.dat)")

// Face is one face found in an image, in the upright original's coordinates.
type Face struct {
	Box        image.Rectangle
	Descriptor Descriptor
	Landmarks  []image.Point
	// Sharpness is the variance of the Laplacian of the face scaled to
	// 128 px: below ~50 the face is blurred.
	Sharpness float64
	// EyeAspect is the eye aspect ratio measured at descriptor scale (more
	// precise than from the rounded frame coordinates); -1 if unknown.
	EyeAspect float64
}

// Width is the face box's width in original pixels.
func (f Face) Width() int { return f.Box.Dx() }

var _ Embedder = (*Recognizer)(nil)

// Recognizer wraps go-face's dlib recognizer.
type Recognizer struct {
	mu       sync.Mutex // guards rec against Close during use
	rec      *face.Recognizer
	manifest models.Manifest
}

// NewRecognizer verifies the model directory against its manifest and loads
// the models.
func NewRecognizer(modelDir string) (*Recognizer, error) {
	m, err := models.Verify(modelDir)
	if err != nil {
		return nil, err
	}
	rec, err := face.NewRecognizer(modelDir)
	if err != nil {
		return nil, fmt.Errorf("load models from %s: %w", modelDir, err)
	}
	return &Recognizer{rec: rec, manifest: m}, nil
}

// Close frees the native recognizer.
func (r *Recognizer) Close() {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.rec != nil {
		r.rec.Close()
		r.rec = nil
	}
}

// ModelVersion identifies the descriptor model that made the descriptors.
func (r *Recognizer) ModelVersion() string { return r.manifest.Version() }

// Info describes the dlib model: 128-D, Euclidean, the rule of rule.go.
func (r *Recognizer) Info() ModelInfo {
	return ModelInfo{Name: EmbedderDlib, Version: r.ModelVersion(), Dim: DescriptorLen, Metric: MetricEuclidean,
		DefaultRule: DefaultRule, StrangerLine: DlibStrangerLine, Licence: licenceOf(r.manifest, models.FileResNet),
		MinFaceWidth: dlibMinFaceWidth, MinSharpness: dlibMinSharpness}
}

// dlib's enrolment limits: its HOG detector's 80 px window, and a blur
// limit below which its descriptors drift.
const (
	dlibMinFaceWidth = 80
	dlibMinSharpness = 15
)

func licenceOf(m models.Manifest, file string) string {
	e, _ := m.File(file)
	return e.Licence
}

// Manifest returns the verified manifest of the loaded models.
func (r *Recognizer) Manifest() models.Manifest { return r.manifest }

// Faces finds every face in an encoded JPEG or PNG image with dlib's HOG
// detector and describes it. Faces are sorted left to right.
func (r *Recognizer) Faces(name string, img []byte) ([]Face, error) {
	return r.faces(name, img, false)
}

// FacesCNN is Faces with dlib's CNN (MMOD) detector: slower, finds turned
// and small faces better.
func (r *Recognizer) FacesCNN(name string, img []byte) ([]Face, error) {
	if !r.manifest.MMODUsable() {
		return nil, ErrCNNUnavailable
	}
	return r.faces(name, img, true)
}

func (r *Recognizer) faces(name string, img []byte, cnn bool) ([]Face, error) {
	d, err := decodeImage(name, img)
	if err != nil {
		return nil, err
	}
	defer d.mat.Close()
	jpg, err := encodeJPEG(d.mat)
	if err != nil {
		return nil, &ImageError{Name: name, Err: fmt.Errorf("re-encode for the recognizer: %w", err)}
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.rec == nil {
		return nil, errors.New("vision: recognizer is closed")
	}
	var raw []face.Face
	if cnn {
		raw, err = r.rec.RecognizeCNN(jpg)
	} else {
		raw, err = r.rec.Recognize(jpg)
	}
	if err != nil {
		return nil, &ImageError{Name: name, Err: fmt.Errorf("recognizer: %w", err)}
	}
	out := make([]Face, 0, len(raw))
	for _, f := range raw {
		out = append(out, Face{
			Box:        scaleRect(f.Rectangle, d.scale),
			Descriptor: append(Descriptor(nil), f.Descriptor[:]...),
			Landmarks:  scalePoints(f.Shapes, d.scale),
			Sharpness:  sharpness(d.mat, f.Rectangle),
			EyeAspect:  eyeAspect(f.Shapes),
		})
	}
	return out, nil
}

func scaleRect(r image.Rectangle, s float64) image.Rectangle {
	return image.Rect(int(math.Round(float64(r.Min.X)*s)), int(math.Round(float64(r.Min.Y)*s)),
		int(math.Round(float64(r.Max.X)*s)), int(math.Round(float64(r.Max.Y)*s)))
}

func scalePoints(ps []image.Point, s float64) []image.Point {
	out := make([]image.Point, len(ps))
	for i, p := range ps {
		out[i] = image.Pt(int(math.Round(float64(p.X)*s)), int(math.Round(float64(p.Y)*s)))
	}
	return out
}

// sharpness is the variance of the Laplacian over the face box (clipped to
// the image), scaled to sharpnessSide.
func sharpness(m gocv.Mat, box image.Rectangle) float64 {
	box = box.Intersect(image.Rect(0, 0, m.Cols(), m.Rows()))
	if box.Dx() < 8 || box.Dy() < 8 {
		return 0
	}
	roi := m.Region(box)
	defer roi.Close()
	gray := gocv.NewMat()
	defer gray.Close()
	gocv.CvtColor(roi, &gray, gocv.ColorBGRToGray)
	small := gocv.NewMat()
	defer small.Close()
	gocv.Resize(gray, &small, image.Pt(sharpnessSide, sharpnessSide), 0, 0, gocv.InterpolationArea)
	lap := gocv.NewMat()
	defer lap.Close()
	gocv.Laplacian(small, &lap, gocv.MatTypeCV64F, 1, 1, 0, gocv.BorderDefault)
	mean, std := gocv.NewMat(), gocv.NewMat()
	defer mean.Close()
	defer std.Close()
	gocv.MeanStdDev(lap, &mean, &std)
	s := std.GetDoubleAt(0, 0)
	return s * s
}

// describeRegion describes the face inside box of frame: it crops the box
// with a margin, scales the crop so the face is about 150 px (dlib's chip
// size; HOG's 80 px minimum is then comfortably met), and runs go-face on
// the crop only. Returned coordinates are in frame space.
func (r *Recognizer) describeRegion(frame gocv.Mat, box image.Rectangle) ([]Face, error) {
	crop, ok := regionAround(frame, box, cropMarginPct)
	if !ok {
		return nil, nil
	}
	roi := frame.Region(crop)
	defer roi.Close()
	f := float64(cropFaceSide) / float64(max(box.Dx(), 1))
	scaled := gocv.NewMat()
	defer scaled.Close()
	interp := gocv.InterpolationArea
	if f > 1 {
		interp = gocv.InterpolationLinear
	}
	gocv.Resize(roi, &scaled, image.Point{}, f, f, interp)
	jpg, err := encodeJPEG(scaled)
	if err != nil {
		return nil, err
	}
	r.mu.Lock()
	if r.rec == nil {
		r.mu.Unlock()
		return nil, errors.New("vision: recognizer is closed")
	}
	raw, err := r.rec.Recognize(jpg)
	r.mu.Unlock()
	if err != nil {
		return nil, err
	}
	out := make([]Face, 0, len(raw))
	for _, x := range raw {
		fb := scaleRect(x.Rectangle, 1/f).Add(crop.Min)
		lm := scalePoints(x.Shapes, 1/f)
		for i := range lm {
			lm[i] = lm[i].Add(crop.Min)
		}
		out = append(out, Face{Box: fb, Descriptor: append(Descriptor(nil), x.Descriptor[:]...), Landmarks: lm,
			Sharpness: sharpness(scaled, x.Rectangle), EyeAspect: eyeAspect(x.Shapes)})
	}
	return out, nil
}

// Crop tunables for describeRegion.
const (
	// cropMarginPct: cascades box the face tightly; dlib's HOG needs
	// some forehead and chin around it to fire.
	cropMarginPct = 40
	// cropFaceSide: faces are scaled to this width before go-face, near
	// dlib's 150 px chip, so small faces are found and big ones cost little.
	cropFaceSide = 150
)

// Yaw estimates how far a face is turned from its 68 landmarks: 0 is
// frontal, 1 is profile. It compares the nose tip's distance to the two
// outer eye corners. Returns -1 without 68 points.
func Yaw(lm []image.Point) float64 {
	if len(lm) != 68 {
		return -1
	}
	nose, le, re := lm[30], lm[36], lm[45]
	dl := math.Abs(float64(nose.X - le.X))
	dr := math.Abs(float64(re.X - nose.X))
	if dl+dr == 0 {
		return 1
	}
	return math.Abs(dl-dr) / (dl + dr)
}
