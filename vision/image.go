package vision

import (
	"bytes"
	"errors"
	"fmt"
	"image"
	_ "image/jpeg" // DecodeConfig for JPEG headers
	_ "image/png"  // DecodeConfig for PNG headers

	"gocv.io/x/gocv"
)

// Image limits. Each is checked before any pixel is decoded.
const (
	// MaxImageBytes bounds an uploaded or read file: a 12000×12000 phone or
	// DSLR JPEG is under 40 MiB; larger is not a photo of a face.
	MaxImageBytes = 40 << 20
	// MaxImagePixels bounds the declared size: 12000×12000 (144 MP) passes,
	// decompression bombs that declare 50000×50000 are refused unread.
	MaxImagePixels = 150_000_000
	// WorkingMaxSide is the long side images are reduced to before
	// detection: HOG needs faces of about 80 px, which a face filling a
	// tenth of a 1920 px frame still has, and time grows with pixels.
	WorkingMaxSide = 1920
	// WorkingMinSide is the long side small images are enlarged to: dlib's
	// HOG detector misses faces under ~80 px, and doubling a 640 px photo
	// finds faces down to ~40 px (face_recognition upsamples once likewise).
	WorkingMinSide = 1000
	// jpegQuality is used when handing pixels to go-face, which reads JPEG
	// only; 95 keeps re-encoding loss far below descriptor noise.
	jpegQuality = 95
)

// Sentinel errors for images that cannot be used. They are wrapped in an
// *ImageError naming the file.
var (
	ErrEmptyImage    = errors.New("the file is empty")
	ErrImageFormat   = errors.New("not a JPEG or PNG image")
	ErrImageTooLarge = errors.New("image too large")
	ErrImageCorrupt  = errors.New("image data is corrupt or truncated")
)

// ImageError says which image failed, why, and what to do: one that cannot
// be read (the Err… above) or, from gate/identity, one that is read but
// refused as a reference photo (no face, several, too small, blurred).
type ImageError struct {
	Name string
	Err  error
	Hint string
}

func (e *ImageError) Error() string {
	s := fmt.Sprintf("%s: %v", e.Name, e.Err)
	if e.Hint != "" {
		s += " (" + e.Hint + ")"
	}
	return s
}

func (e *ImageError) Unwrap() error { return e.Err }

// Format names a supported image encoding.
type Format string

const (
	FormatJPEG Format = "jpeg"
	FormatPNG  Format = "png"
)

// SniffFormat looks at magic bytes only; the file name is never trusted.
func SniffFormat(b []byte) (Format, bool) {
	switch {
	case len(b) >= 3 && b[0] == 0xFF && b[1] == 0xD8 && b[2] == 0xFF:
		return FormatJPEG, true
	case len(b) >= 8 && bytes.Equal(b[:8], []byte("\x89PNG\r\n\x1a\n")):
		return FormatPNG, true
	}
	return "", false
}

// CheckImage validates an encoded image without decoding its pixels: its
// size, its format by magic bytes, and its declared dimensions.
func CheckImage(name string, b []byte) (Format, image.Point, error) {
	if len(b) == 0 {
		return "", image.Point{}, &ImageError{Name: name, Err: ErrEmptyImage, Hint: "choose a JPEG or PNG photo"}
	}
	if len(b) > MaxImageBytes {
		return "", image.Point{}, &ImageError{Name: name, Err: fmt.Errorf("%w: %d bytes, limit %d", ErrImageTooLarge, len(b), MaxImageBytes),
			Hint: "export the photo at a smaller size"}
	}
	f, ok := SniffFormat(b)
	if !ok {
		return "", image.Point{}, &ImageError{Name: name, Err: ErrImageFormat, Hint: "the content is not an image whatever its name says; use JPEG or PNG"}
	}
	if f == FormatJPEG {
		if err := checkJPEGComplete(b); err != nil {
			return f, image.Point{}, &ImageError{Name: name, Err: fmt.Errorf("%w: %v", ErrImageCorrupt, err), Hint: "copy or upload the file again"}
		}
	}
	cfg, _, err := image.DecodeConfig(bytes.NewReader(b))
	if err != nil {
		return f, image.Point{}, &ImageError{Name: name, Err: fmt.Errorf("%w: %v", ErrImageCorrupt, err), Hint: "re-export or re-take the photo"}
	}
	if cfg.Width <= 0 || cfg.Height <= 0 || int64(cfg.Width)*int64(cfg.Height) > MaxImagePixels {
		return f, image.Point{}, &ImageError{Name: name,
			Err:  fmt.Errorf("%w: %d×%d pixels, limit %d pixels", ErrImageTooLarge, cfg.Width, cfg.Height, MaxImagePixels),
			Hint: "resize the photo below 12000×12000"}
	}
	return f, image.Pt(cfg.Width, cfg.Height), nil
}

// decodeSlots bounds the images decoding at once. A decode is all CPU, so
// more than two on the 2-core box would add memory, not speed: six parallel
// identify calls of a 12000×12000 PNG once took the process to 2.8 GB.
var decodeSlots = make(chan struct{}, 2)

// reduction is the factor libjpeg (or decodePNGReduced) shrinks an image
// whose long side is long by while decoding: 1, 2, 4 or 8.
func reduction(long int) int {
	switch {
	case long >= 8*WorkingMaxSide:
		return 8
	case long >= 4*WorkingMaxSide:
		return 4
	case long >= 2*WorkingMaxSide:
		return 2
	}
	return 1
}

// decodeReduced decodes b to BGR, shrunk while decoding when it is large:
// JPEG by libjpeg's scaled decode, PNG row by row (OpenCV would decode a
// PNG in full before shrinking it).
func decodeReduced(name string, b []byte, f Format, dim image.Point) (gocv.Mat, error) {
	k := reduction(max(dim.X, dim.Y))
	if f == FormatPNG && k > 1 {
		w, h, bgr, err := decodePNGReduced(b, k)
		if errors.Is(err, errInterlaced) {
			return gocv.Mat{}, &ImageError{Name: name, Err: fmt.Errorf("%w: interlaced PNG of %d×%d pixels cannot be decoded at reduced size", ErrImageTooLarge, dim.X, dim.Y),
				Hint: "save it without interlacing, or as JPEG"}
		}
		if err != nil {
			return gocv.Mat{}, &ImageError{Name: name, Err: fmt.Errorf("%w: %v", ErrImageCorrupt, err), Hint: "re-export or re-take the photo"}
		}
		// NewMatFromBytes points into Go memory; the clone is OpenCV's own.
		view, err := gocv.NewMatFromBytes(h, w, gocv.MatTypeCV8UC3, bgr)
		if err != nil {
			return gocv.Mat{}, &ImageError{Name: name, Err: err}
		}
		defer view.Close()
		return view.Clone(), nil
	}
	flag := map[int]gocv.IMReadFlag{1: gocv.IMReadColor, 2: gocv.IMReadReducedColor2, 4: gocv.IMReadReducedColor4,
		8: gocv.IMReadReducedColor8}[k]
	m, err := gocv.IMDecode(b, flag)
	if err != nil || m.Empty() {
		if err == nil {
			m.Close()
			err = errors.New("decoder returned no pixels")
		}
		return gocv.Mat{}, &ImageError{Name: name, Err: fmt.Errorf("%w: %v", ErrImageCorrupt, err), Hint: "re-export or re-take the photo"}
	}
	return m, nil
}

// decoded is a normalised 3-channel BGR image at working size, with the
// factor that maps its coordinates back to the (EXIF-upright) original.
type decoded struct {
	mat   gocv.Mat
	scale float64 // original px per working px
}

// decodeImage checks and decodes b into a BGR Mat at working size. Grey,
// alpha and CMYK inputs become 3-channel BGR; EXIF orientation is applied;
// big JPEGs and PNGs are decoded at 1/2, 1/4 or 1/8 scale so that a
// 12000×12000 photo never exists in memory at full size. The caller closes
// the Mat.
func decodeImage(name string, b []byte) (decoded, error) {
	f, dim, err := CheckImage(name, b)
	if err != nil {
		return decoded{}, err
	}
	decodeSlots <- struct{}{}
	m, err := decodeReduced(name, b, f, dim)
	<-decodeSlots
	if err != nil {
		return decoded{}, err
	}
	long := max(dim.X, dim.Y)
	// The reduced decoders round up; derive the factor from the real sizes.
	// EXIF rotation may have swapped width and height.
	origLong := float64(long)
	curLong := float64(max(m.Cols(), m.Rows()))
	target := 0.0
	switch {
	case curLong > WorkingMaxSide:
		target = WorkingMaxSide
	case curLong < WorkingMinSide:
		target = min(WorkingMinSide, 2*curLong)
	}
	if target > 0 {
		f := target / curLong
		interp := gocv.InterpolationArea
		if f > 1 {
			interp = gocv.InterpolationLinear
		}
		r := gocv.NewMat()
		gocv.Resize(m, &r, image.Point{}, f, f, interp)
		m.Close()
		m = r
		curLong = float64(max(m.Cols(), m.Rows()))
	}
	return decoded{mat: m, scale: origLong / curLong}, nil
}

// encodeJPEG encodes a BGR Mat for go-face.
func encodeJPEG(m gocv.Mat) ([]byte, error) {
	buf, err := gocv.IMEncodeWithParams(gocv.JPEGFileExt, m, []int{gocv.IMWriteJpegQuality, jpegQuality})
	if err != nil {
		return nil, err
	}
	defer buf.Close()
	return bytes.Clone(buf.GetBytes()), nil
}

// Reencode decodes an image (with every check of CheckImage) and encodes
// it again as JPEG at working size: what is stored is pixels only, never
// the uploaded bytes (no EXIF, GPS or trailing data).
func Reencode(name string, b []byte) ([]byte, error) {
	d, err := decodeImage(name, b)
	if err != nil {
		return nil, err
	}
	defer d.mat.Close()
	return encodeJPEG(d.mat)
}
