package vision

import (
	"errors"
	"image"
	"math"

	"gocv.io/x/gocv"
)

// describe places 68 landmarks in box, aligns the face to the 112×112
// template and computes its unit-length 512-D descriptor. Caller holds mu.
func (f *Faceplugin) describe(m gocv.Mat, box image.Rectangle) (Face, error) {
	box = box.Intersect(image.Rect(0, 0, m.Cols(), m.Rows()))
	if box.Dx() < 8 || box.Dy() < 8 {
		return Face{}, errors.New("face box too small to place landmarks")
	}
	pts, err := f.landmarks(m, box)
	if err != nil {
		return Face{}, err
	}
	chip := gocv.NewMat()
	defer chip.Close()
	f.align(m, fivePoints(pts), &chip)
	d, err := f.feature(chip)
	if err != nil {
		return Face{}, err
	}
	if f.chipMirror {
		flipped := gocv.NewMat()
		defer flipped.Close()
		gocv.Flip(chip, &flipped, 1)
		d2, err := f.feature(flipped)
		if err != nil {
			return Face{}, err
		}
		for i := range d {
			d[i] += d2[i]
		}
	}
	l2Normalise(d)
	lm := make([]image.Point, len(pts))
	for i, p := range pts {
		lm[i] = image.Pt(int(math.Round(p[0])), int(math.Round(p[1])))
	}
	return Face{Box: box, Descriptor: d, Landmarks: lm, Sharpness: sharpness(m, box), EyeAspect: eyeAspectF(pts)}, nil
}

// feature runs fr_feature on a 112×112 chip (unnormalised output). The net
// takes B,G,R: fed R,G,B as the publisher's JS does, faces-eastasia FNIR at
// the derived threshold was 19.0 %, in BGR 6.9 % (TestFacepluginTemplateFigures).
func (f *Faceplugin) feature(chip gocv.Mat) (Descriptor, error) {
	v, ok := runNet(&f.feat, chip, 1.0/128, fpChip, 127, FeatureLen)
	if !ok {
		return nil, errors.New("fr_feature gave no 512-D output")
	}
	return v, nil
}

// landmarks runs fr_landmark on the box: a 64×64 grey crop scaled by 1/256,
// output 68 (x, y) pairs relative to the box. It also runs on the mirrored
// crop and averages the two (points mapped through mirror68): faces-eastasia
// FNIR 8.6 % → 6.9 % and a derived threshold 0.39 → 0.40, for one more
// 64×64 pass. (Describing the mirrored chip too made it worse: 10.3 %.)
func (f *Faceplugin) landmarks(m gocv.Mat, box image.Rectangle) ([][2]float64, error) {
	roi := m.Region(box)
	defer roi.Close()
	gray := gocv.NewMat()
	defer gray.Close()
	// The JS converts an RGBA canvas with BGR2GRAY, i.e. with the red and
	// blue weights swapped; doing the same here matches what the net saw.
	gocv.CvtColor(roi, &gray, gocv.ColorRGBToGray)
	v, err := f.landmarkNet(gray)
	if err != nil {
		return nil, err
	}
	if !f.noLandmarkMirror {
		flipped := gocv.NewMat()
		defer flipped.Close()
		gocv.Flip(gray, &flipped, 1)
		w, err := f.landmarkNet(flipped)
		if err != nil {
			return nil, err
		}
		for i, j := range mirror68 {
			v[2*i] = (v[2*i] + 1 - w[2*j]) / 2
			v[2*i+1] = (v[2*i+1] + w[2*j+1]) / 2
		}
	}
	pts := make([][2]float64, 68)
	for i := range pts {
		pts[i] = [2]float64{float64(box.Min.X) + float64(v[2*i])*float64(box.Dx()),
			float64(box.Min.Y) + float64(v[2*i+1])*float64(box.Dy())}
	}
	return pts, nil
}

// landmarkNet returns fr_landmark's 136 outputs (x, y in 0..1 of the crop).
func (f *Faceplugin) landmarkNet(gray gocv.Mat) ([]float32, error) {
	v, ok := runNet(&f.lm, gray, 1.0/256, fpLandmarkSide, 0, 136)
	if !ok {
		return nil, errors.New("fr_landmark gave no 68 points")
	}
	return v, nil
}

// runNet feeds img to a single-output net as a side×side blob, each
// value scaled after subtracting mean, and returns a copy of the output
// when it holds want values (the output Mat is closed here).
func runNet(net *gocv.Net, img gocv.Mat, scale float64, side int, mean float64, want int) ([]float32, bool) {
	blob := gocv.BlobFromImage(img, scale, image.Pt(side, side), gocv.NewScalar(mean, mean, mean, 0), false, false)
	defer blob.Close()
	net.SetInput(blob, "")
	out := net.Forward("")
	defer out.Close()
	v, err := out.DataPtrFloat32()
	if err != nil || len(v) != want {
		return nil, false
	}
	return append([]float32(nil), v...), true
}

// mirror68 maps each of the 68 iBUG points to its mirror-image partner.
var mirror68 = [68]int{
	16, 15, 14, 13, 12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0, // jaw
	26, 25, 24, 23, 22, 21, 20, 19, 18, 17, // brows
	27, 28, 29, 30, 35, 34, 33, 32, 31, // nose
	45, 44, 43, 42, 47, 46, 39, 38, 37, 36, 41, 40, // eyes
	54, 53, 52, 51, 50, 49, 48, 59, 58, 57, 56, 55, // outer lips
	64, 63, 62, 61, 60, 67, 66, 65, // inner lips
}

// fivePoints reduces 68 points to the template's five as the publisher
// does: eye centres from the four lid points of each eye, nose tip 30,
// mouth corners as the mean of the outer and inner lip corners.
func fivePoints(p [][2]float64) [5][2]float64 {
	mean := func(idx ...int) [2]float64 {
		var s [2]float64
		for _, i := range idx {
			s[0] += p[i][0] / float64(len(idx))
			s[1] += p[i][1] / float64(len(idx))
		}
		return s
	}
	return [5][2]float64{mean(37, 38, 40, 41), mean(43, 44, 46, 47), p[30], mean(48, 60), mean(54, 64)}
}

// align warps m so the five points land on the template. The similarity
// (rotation, uniform scale, shift) is fitted to all five points by least
// squares; the publisher's JS fits a full affine to the first three only,
// which lets one bad eye point shear the whole chip.
func (f *Faceplugin) align(m gocv.Mat, src [5][2]float64, dst *gocv.Mat) {
	var t [6]float64
	if f.threeAffine {
		t = affine3(src, fpTemplate)
	} else {
		t = similarity(src[:], fpTemplate[:])
	}
	tm := gocv.NewMatWithSize(2, 3, gocv.MatTypeCV64F)
	defer tm.Close()
	for i, x := range t {
		tm.SetDoubleAt(i/3, i%3, x)
	}
	gocv.WarpAffine(m, dst, tm, image.Pt(fpChip, fpChip))
}

// similarity is the least-squares similarity transform taking src to dst
// (Umeyama without reflection), as a row-major 2×3 matrix: with centred
// points, a = Σ(x·u + y·v)/Σ(x²+y²), b = Σ(x·v − y·u)/Σ(x²+y²).
func similarity(src, dst [][2]float64) [6]float64 {
	n := float64(len(src))
	var sx, sy, dx, dy float64
	for i := range src {
		sx, sy = sx+src[i][0]/n, sy+src[i][1]/n
		dx, dy = dx+dst[i][0]/n, dy+dst[i][1]/n
	}
	var num1, num2, den float64
	for i := range src {
		x, y := src[i][0]-sx, src[i][1]-sy
		u, v := dst[i][0]-dx, dst[i][1]-dy
		num1 += x*u + y*v
		num2 += x*v - y*u
		den += x*x + y*y
	}
	if den == 0 {
		return [6]float64{1, 0, dx - sx, 0, 1, dy - sy}
	}
	a, b := num1/den, num2/den
	return [6]float64{a, -b, dx - a*sx + b*sy, b, a, dy - b*sx - a*sy}
}

// affine3 is the publisher's transform: the affine through the first
// three point pairs (eyes and nose). Kept to measure against similarity.
func affine3(src, dst [5][2]float64) [6]float64 {
	// Solve [x y 1]·[p q r]ᵀ = u and likewise v for the three points.
	x1, y1, x2, y2, x3, y3 := src[0][0], src[0][1], src[1][0], src[1][1], src[2][0], src[2][1]
	det := x1*(y2-y3) - y1*(x2-x3) + (x2*y3 - x3*y2)
	if det == 0 {
		return similarity(src[:], dst[:])
	}
	solve := func(u1, u2, u3 float64) (float64, float64, float64) {
		p := (u1*(y2-y3) - y1*(u2-u3) + (u2*y3 - u3*y2)) / det
		q := (x1*(u2-u3) - u1*(x2-x3) + (x2*u3 - x3*u2)) / det
		r := (x1*(y2*u3-y3*u2) - y1*(x2*u3-x3*u2) + u1*(x2*y3-x3*y2)) / det
		return p, q, r
	}
	a, b, c := solve(dst[0][0], dst[1][0], dst[2][0])
	d, e, g := solve(dst[0][1], dst[1][1], dst[2][1])
	return [6]float64{a, b, c, d, e, g}
}

// eyeAspectF is eyeAspect on unrounded landmark coordinates.
func eyeAspectF(p [][2]float64) float64 {
	lm := make([]image.Point, len(p))
	for i, q := range p {
		// Four times the resolution keeps sub-pixel precision in the ratio.
		lm[i] = image.Pt(int(math.Round(4*q[0])), int(math.Round(4*q[1])))
	}
	return eyeAspect(lm)
}
