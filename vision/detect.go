package vision

import (
	"fmt"
	"image"

	"gocv.io/x/gocv"
)

// DefaultCascade is OpenCV's LBP frontal-face cascade from Debian's
// opencv-data, chosen by measurement on the demo clip at 320 px (mean per
// frame, frames with a face of 275): LBP 4.9 ms, 180; Haar default 18.5 ms,
// 199; Haar alt2 15.3 ms, 166; LBP "improved" 3.4 ms, 1. Haar's extra hits
// are mostly turned faces, which would not give a trustworthy descriptor;
// LBP leaves the time for the descriptor. Never full-frame HOG per frame.
const DefaultCascade = "/usr/share/opencv4/lbpcascades/lbpcascade_frontalface.xml"

// DetectWidth is the width frames are reduced to before detection: a face
// 48 px wide in a 640 px frame is 24 px here, the cascade's window, and
// detection cost falls with the square of the width.
const DetectWidth = 320

// FaceDetector finds candidate face boxes in a BGR frame, per frame. Not
// safe for concurrent use. *Detector (LBP cascade) and *NetDetector
// (fr_detect) implement it for the product; *BlazeFace for measurement.
type FaceDetector interface {
	Detect(frame gocv.Mat) []image.Rectangle
	Close()
}

var (
	_ FaceDetector = (*Detector)(nil)
	_ FaceDetector = (*NetDetector)(nil)
)

// NetDetector is fr_detect on its own net (the embedder's is guarded by
// its mutex; the pipeline's detector must not wait for it).
type NetDetector struct{ f *Faceplugin }

// NewNetDetector loads fr_detect from a verified model directory.
func NewNetDetector(modelsDir string) (*NetDetector, error) {
	f, err := NewFaceplugin(modelsDir)
	if err != nil {
		return nil, err
	}
	return &NetDetector{f: f}, nil
}

// Detect returns fr_detect's boxes in frame coordinates.
func (d *NetDetector) Detect(frame gocv.Mat) []image.Rectangle {
	d.f.mu.Lock()
	defer d.f.mu.Unlock()
	return d.f.detect(frame, fpScoreMin)
}

// Close frees the net.
func (d *NetDetector) Close() { d.f.Close() }

// Detector finds candidate faces fast on a reduced grey frame. It is not
// safe for concurrent use.
type Detector struct {
	cc    gocv.CascadeClassifier
	small gocv.Mat
	gray  gocv.Mat
}

// NewDetector loads a cascade file.
func NewDetector(cascade string) (*Detector, error) {
	if cascade == "" {
		cascade = DefaultCascade
	}
	cc := gocv.NewCascadeClassifier()
	if !cc.Load(cascade) {
		cc.Close()
		return nil, fmt.Errorf("face cascade %s cannot be loaded (apt-get install opencv-data)", cascade)
	}
	return &Detector{cc: cc, small: gocv.NewMat(), gray: gocv.NewMat()}, nil
}

// Close frees the cascade and buffers.
func (d *Detector) Close() {
	d.cc.Close()
	d.small.Close()
	d.gray.Close()
}

// Detect returns face boxes in frame coordinates.
func (d *Detector) Detect(frame gocv.Mat) []image.Rectangle {
	f := 1.0
	src := frame
	if frame.Cols() > DetectWidth {
		f = float64(DetectWidth) / float64(frame.Cols())
		gocv.Resize(frame, &d.small, image.Point{}, f, f, gocv.InterpolationArea)
		src = d.small
	}
	gocv.CvtColor(src, &d.gray, gocv.ColorBGRToGray)
	gocv.EqualizeHist(d.gray, &d.gray)
	rects := d.cc.DetectMultiScaleWithParams(d.gray, 1.1, 3, 0, image.Pt(24, 24), image.Point{})
	for i, r := range rects {
		rects[i] = image.Rect(int(float64(r.Min.X)/f), int(float64(r.Min.Y)/f), int(float64(r.Max.X)/f), int(float64(r.Max.Y)/f))
	}
	return rects
}
