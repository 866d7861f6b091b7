package vision

import (
	"fmt"
	"image"
	"image/color"
	"math"
	"slices"

	"gocv.io/x/gocv"
)

// BlazeFace is MediaPipe's BlazeFace detector (models.FetchBlazeFace), kept
// for measurement only (TestDetectorFigures): the product's detectors are
// the LBP cascade and fr_detect. Not safe for concurrent use.
type BlazeFace struct {
	net  gocv.Net
	size int
	sq   gocv.Mat // the frame padded square, then reduced to size×size
	rgb  gocv.Mat
	f32  gocv.Mat
}

var _ FaceDetector = (*BlazeFace)(nil)

// blazeOutputs are the ONNX outputs, as OpenCV 4.6 names them: scores and
// regressions of the 16×16×2 anchors, then of the 8×8×6 anchors.
var blazeOutputs = []string{"Identity:0", "Identity_2:0", "Identity_1:0", "Identity_3:0"}

// blazeMinScore is MediaPipe's min_score_thresh for its face detection
// graphs; blazeNMS its min_suppression_threshold (IoU).
const (
	blazeMinScore = 0.5
	blazeNMS      = 0.3
)

// NewBlazeFace loads a BlazeFace ONNX file whose input is size×size.
func NewBlazeFace(path string, size int) (*BlazeFace, error) {
	net := gocv.ReadNetFromONNX(path)
	if net.Empty() {
		return nil, fmt.Errorf("BlazeFace %s cannot be loaded by OpenCV %s (fetch it with models.FetchBlazeFace)", path, gocv.OpenCVVersion())
	}
	var names []string
	for _, id := range net.GetUnconnectedOutLayers() {
		l := net.GetLayer(id)
		names = append(names, l.GetName())
		l.Close()
	}
	want := slices.Sorted(slices.Values(blazeOutputs))
	if !slices.Equal(names, want) {
		net.Close()
		return nil, fmt.Errorf("BlazeFace %s: outputs %q, want %q: not the pinned model", path, names, want)
	}
	return &BlazeFace{net: net, size: size, sq: gocv.NewMat(), rgb: gocv.NewMat(), f32: gocv.NewMat()}, nil
}

// Close frees the net and buffers.
func (b *BlazeFace) Close() {
	b.net.Close()
	b.sq.Close()
	b.rgb.Close()
	b.f32.Close()
}

// Detect returns face boxes in frame coordinates. The frame is padded at
// the bottom and right to a square (MediaPipe letterboxes too: the anchors
// are square) and reduced to the net's input.
func (b *BlazeFace) Detect(frame gocv.Mat) []image.Rectangle {
	side := max(frame.Cols(), frame.Rows())
	if side == 0 {
		return nil
	}
	gocv.CopyMakeBorder(frame, &b.sq, 0, side-frame.Rows(), 0, side-frame.Cols(), gocv.BorderConstant, color.RGBA{})
	gocv.Resize(b.sq, &b.sq, image.Pt(b.size, b.size), 0, 0, gocv.InterpolationArea)
	gocv.CvtColor(b.sq, &b.rgb, gocv.ColorBGRToRGB)
	b.rgb.ConvertToWithParams(&b.f32, gocv.MatTypeCV32FC3, 1.0/127.5, -1)
	blob, err := gocv.NewMatWithSizesFromBytes([]int{1, b.size, b.size, 3}, gocv.MatTypeCV32F, b.f32.ToBytes())
	if err != nil {
		return nil
	}
	defer blob.Close()
	b.net.SetInput(blob, "")
	outs := b.net.ForwardLayers(blazeOutputs)
	defer func() {
		for _, o := range outs {
			o.Close()
		}
	}()
	var boxes []image.Rectangle
	var scores []float32
	for layer, cells := range []int{16, 8} {
		s, err1 := outs[2*layer].DataPtrFloat32()
		r, err2 := outs[2*layer+1].DataPtrFloat32()
		if err1 != nil || err2 != nil || len(r) != 16*len(s) || len(s)%(cells*cells) != 0 {
			return nil
		}
		bx, sc := b.decode(s, r, cells, float64(side))
		boxes, scores = append(boxes, bx...), append(scores, sc...)
	}
	if len(boxes) == 0 {
		return nil
	}
	// gocv's NMSBoxes fills keep without saying how many: −1 marks the rest.
	keep := slices.Repeat([]int{-1}, len(boxes))
	gocv.NMSBoxes(boxes, scores, blazeMinScore, blazeNMS, keep)
	var out []image.Rectangle
	for _, i := range keep {
		if i >= 0 {
			out = append(out, boxes[i])
		}
	}
	return out
}

// decode turns one layer's anchors that score into boxes of a side×side
// frame: anchor centres are the cells' (fixed size 1), the regressions are
// in input pixels (MediaPipe's x/y/w/h_scale = the input size).
func (b *BlazeFace) decode(s, r []float32, cells int, side float64) ([]image.Rectangle, []float32) {
	per := len(s) / (cells * cells)
	in := float64(b.size)
	var boxes []image.Rectangle
	var scores []float32
	for i, raw := range s {
		score := float32(1 / (1 + math.Exp(-float64(max(min(raw, 100), -100)))))
		if score < blazeMinScore {
			continue
		}
		cell := i / per
		ax, ay := (float64(cell%cells)+0.5)/float64(cells), (float64(cell/cells)+0.5)/float64(cells)
		g := r[16*i : 16*i+4]
		cx, cy := ax+float64(g[0])/in, ay+float64(g[1])/in
		w, h := float64(g[2])/in, float64(g[3])/in
		boxes = append(boxes, image.Rect(int((cx-w/2)*side), int((cy-h/2)*side), int((cx+w/2)*side), int((cy+h/2)*side)))
		scores = append(scores, score)
	}
	return boxes, scores
}
