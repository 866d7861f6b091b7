package vision

import (
	"bytes"
	"encoding/binary"
	"errors"
	"hash/crc32"
	"image"
	"image/color"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"gocv.io/x/gocv"

	"github.com/facegate/facegate/models/modeltest"
)

var (
	recOnce sync.Once
	recVal  *Recognizer
	recErr  error
)

// testRecognizer loads the real models once per test binary.
func testRecognizer(t testing.TB) *Recognizer {
	t.Helper()
	dir := modeltest.ModelsDir(t)
	recOnce.Do(func() { recVal, recErr = NewRecognizer(dir) })
	if recErr != nil {
		t.Fatal(recErr)
	}
	return recVal
}

func facesIn(t *testing.T, name string) []Face {
	t.Helper()
	fs, err := testRecognizer(t).Faces(name, modeltest.ReadFace(t, name))
	if err != nil {
		t.Fatal(err)
	}
	return fs
}

// The face_recognition project's own assertions on the same files.
func TestFaceRecognitionFacts(t *testing.T) {
	counts := map[string]int{"obama.jpg": 1, "two_people.jpg": 2, "obama_partial_face.jpg": 1,
		"obama_partial_face2.jpg": 1, "obama2.jpg": 1, "obama3.jpg": 1, "biden.jpg": 1}
	desc := map[string]Descriptor{}
	for name, want := range counts {
		fs := facesIn(t, name)
		if len(fs) != want {
			t.Errorf("%s: %d faces, want %d", name, len(fs), want)
			continue
		}
		desc[name] = fs[0].Descriptor
		if len(fs[0].Landmarks) != 68 {
			t.Errorf("%s: %d landmarks, want 68", name, len(fs[0].Landmarks))
		}
	}
	same := []string{"obama.jpg", "obama2.jpg", "obama3.jpg"}
	for i, a := range same {
		for _, b := range same[i+1:] {
			if d := Distance(desc[a], desc[b]); d > 0.6 {
				t.Errorf("%s–%s distance %.3f, want ≤ 0.6", a, b, d)
			}
		}
		if d := Distance(desc[a], desc["biden.jpg"]); d <= 0.6 {
			t.Errorf("%s–biden.jpg distance %.3f, want > 0.6", a, d)
		}
	}
}

func encode(t *testing.T, m gocv.Mat, params ...int) []byte {
	t.Helper()
	buf, err := gocv.IMEncodeWithParams(gocv.JPEGFileExt, m, params)
	if err != nil {
		t.Fatal(err)
	}
	defer buf.Close()
	return bytes.Clone(buf.GetBytes())
}

func readMat(t *testing.T, name string, flag gocv.IMReadFlag) gocv.Mat {
	t.Helper()
	m := gocv.IMRead(modeltest.Face(t, name), flag)
	if m.Empty() {
		t.Fatalf("cannot read %s", name)
	}
	return m
}

// withEXIFOrientation inserts an APP1 Exif segment with the orientation tag.
func withEXIFOrientation(jpg []byte, orientation uint16) []byte {
	var tiff bytes.Buffer
	tiff.WriteString("MM\x00\x2a\x00\x00\x00\x08")
	binary.Write(&tiff, binary.BigEndian, uint16(1))      // one IFD entry
	binary.Write(&tiff, binary.BigEndian, uint16(0x0112)) // Orientation
	binary.Write(&tiff, binary.BigEndian, uint16(3))      // SHORT
	binary.Write(&tiff, binary.BigEndian, uint32(1))
	binary.Write(&tiff, binary.BigEndian, orientation)
	binary.Write(&tiff, binary.BigEndian, uint16(0))
	binary.Write(&tiff, binary.BigEndian, uint32(0)) // no next IFD
	payload := append([]byte("Exif\x00\x00"), tiff.Bytes()...)
	seg := []byte{0xFF, 0xE1, 0, 0}
	binary.BigEndian.PutUint16(seg[2:], uint16(len(payload)+2))
	seg = append(seg, payload...)
	out := append([]byte{}, jpg[:2]...)
	out = append(out, seg...)
	return append(out, jpg[2:]...)
}

// pngHeader makes a PNG that declares w×h pixels and holds none.
func pngHeader(w, h uint32) []byte {
	var b bytes.Buffer
	b.WriteString("\x89PNG\r\n\x1a\n")
	ihdr := make([]byte, 13)
	binary.BigEndian.PutUint32(ihdr[0:], w)
	binary.BigEndian.PutUint32(ihdr[4:], h)
	ihdr[8], ihdr[9] = 8, 2 // 8-bit RGB
	binary.Write(&b, binary.BigEndian, uint32(13))
	chunk := append([]byte("IHDR"), ihdr...)
	b.Write(chunk)
	binary.Write(&b, binary.BigEndian, crc32.ChecksumIEEE(chunk))
	return b.Bytes()
}

// Every input go-face cannot take must either work or fail with a clear
// error naming the file.
func TestOddInputs(t *testing.T) {
	rec := testRecognizer(t)
	obama := modeltest.ReadFace(t, "obama.jpg")
	col := readMat(t, "obama.jpg", gocv.IMReadColor)
	defer col.Close()

	gray := readMat(t, "obama.jpg", gocv.IMReadGrayScale)
	defer gray.Close()
	grayJPG := encode(t, gray, gocv.IMWriteJpegQuality, 90)

	progJPG := encode(t, col, gocv.IMWriteJpegProgressive, 1)

	// Stored rotated a quarter turn counter-clockwise; EXIF 6 says "rotate
	// 90° clockwise to view", which makes it upright again.
	rot := gocv.NewMat()
	defer rot.Close()
	gocv.Rotate(col, &rot, gocv.Rotate90CounterClockwise)
	sideways := encode(t, rot, gocv.IMWriteJpegQuality, 95)
	exifJPG := withEXIFOrientation(sideways, 6)

	// 12000×12000 with the face scaled ×8 in the middle.
	bigFace := gocv.NewMat()
	defer bigFace.Close()
	gocv.Resize(col, &bigFace, image.Point{}, 8, 8, gocv.InterpolationLinear)
	big := gocv.NewMat()
	defer big.Close()
	padX, padY := (12000-bigFace.Cols())/2, (12000-bigFace.Rows())/2
	gocv.CopyMakeBorder(bigFace, &big, padY, 12000-bigFace.Rows()-padY, padX, 12000-bigFace.Cols()-padX, gocv.BorderReplicate, color.RGBA{})
	if big.Cols() != 12000 || big.Rows() != 12000 {
		t.Fatalf("fixture is %dx%d", big.Cols(), big.Rows())
	}
	bigJPG := encode(t, big, gocv.IMWriteJpegQuality, 80)

	cmykJPG := cmyk(t)

	cases := []struct {
		name      string
		data      []byte
		wantFaces int
		wantErr   error
	}{
		{"32bit.png", modeltest.ReadFace(t, "32bit.png"), 1, nil},
		{"grey.jpg", grayJPG, 1, nil},
		{"progressive.jpg", progJPG, 1, nil},
		{"cmyk.jpg", cmykJPG, 1, nil},
		{"exif-rotated.jpg", exifJPG, 1, nil},
		{"12000x12000.jpg", bigJPG, 1, nil},
		{"empty.jpg", nil, 0, ErrEmptyImage},
		{"notes.jpg", []byte("this is a text file, not a photo\n"), 0, ErrImageFormat},
		{"truncated.jpg", obama[:len(obama)/2], 0, ErrImageCorrupt},
		{"truncated-header.jpg", obama[:20], 0, ErrImageCorrupt},
		{"bomb.png", pngHeader(50000, 50000), 0, ErrImageTooLarge},
		{"huge-file.jpg", append(append([]byte{}, obama...), make([]byte, MaxImageBytes)...), 0, ErrImageTooLarge},
		{"truncated.png", modeltest.ReadFace(t, "32bit.png")[:5000], 0, ErrImageCorrupt},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			fs, err := rec.Faces(c.name, c.data)
			if c.wantErr != nil {
				var ie *ImageError
				if !errors.Is(err, c.wantErr) || !errors.As(err, &ie) || !strings.Contains(err.Error(), c.name) {
					t.Fatalf("got %v, want an ImageError naming %s wrapping %v", err, c.name, c.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(fs) != c.wantFaces {
				t.Fatalf("%d faces, want %d", len(fs), c.wantFaces)
			}
		})
	}

	// The EXIF case proves orientation is applied: the same pixels without
	// the tag hold no upright face, and the found box is in upright coordinates.
	t.Run("exif-needed", func(t *testing.T) {
		fs, err := rec.Faces("sideways.jpg", sideways)
		if err != nil || len(fs) != 0 {
			t.Fatalf("sideways image without EXIF: %d faces, err %v; want 0", len(fs), err)
		}
		up, _ := rec.Faces("exif.jpg", exifJPG)
		ref := facesIn(t, "obama.jpg")
		if len(up) != 1 || !near(up[0].Box, ref[0].Box, 12) {
			t.Fatalf("EXIF face box %v, upright original %v", up, ref[0].Box)
		}
	})
	// The 12000² case reports boxes in original coordinates.
	t.Run("big-box-scaled", func(t *testing.T) {
		fs, _ := rec.Faces("big.jpg", bigJPG)
		if len(fs) != 1 || fs[0].Box.Dx() < 1500 || !fs[0].Box.Overlaps(image.Rect(padX, padY, padX+bigFace.Cols(), padY+bigFace.Rows())) {
			t.Fatalf("box %v not in original 12000² coordinates", fs)
		}
	})
}

func near(a, b image.Rectangle, tol int) bool {
	abs := func(x int) int {
		if x < 0 {
			return -x
		}
		return x
	}
	return abs(a.Min.X-b.Min.X) <= tol && abs(a.Min.Y-b.Min.Y) <= tol && abs(a.Max.X-b.Max.X) <= tol && abs(a.Max.Y-b.Max.Y) <= tol
}

// cmyk writes obama.jpg as a CMYK JPEG with ImageMagick (installed by
// scripts/setup.sh test).
func cmyk(t *testing.T) []byte {
	t.Helper()
	// Debian's ImageMagick; some images put a stand-in earlier on PATH.
	conv := "/usr/bin/convert"
	if _, err := os.Stat(conv); err != nil {
		t.Fatal("ImageMagick's convert is needed for the CMYK fixture (scripts/setup.sh test)")
	}
	out := filepath.Join(t.TempDir(), "cmyk.jpg")
	if b, err := exec.Command(conv, modeltest.Face(t, "obama.jpg"), "-colorspace", "CMYK", out).CombinedOutput(); err != nil {
		t.Fatalf("convert: %v: %s", err, b)
	}
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	// Adobe APP14 marker with transform 0 = CMYK; make sure the fixture is what it claims.
	if !bytes.Contains(b[:min(len(b), 4096)], []byte("Adobe")) {
		t.Fatal("convert did not write an Adobe CMYK JPEG")
	}
	return b
}

func TestCNNDetection(t *testing.T) {
	rec := testRecognizer(t)
	if !rec.Manifest().MMODUsable() {
		t.Fatal("test models have no real MMOD detector (prepare with --from the mirror)")
	}
	fs, err := rec.FacesCNN("obama.jpg", modeltest.ReadFace(t, "obama.jpg"))
	if err != nil || len(fs) != 1 {
		t.Fatalf("CNN: %d faces, %v", len(fs), err)
	}
}

func TestSniffAndCheck(t *testing.T) {
	if f, ok := SniffFormat([]byte("\x89PNG\r\n\x1a\nxxxx")); !ok || f != FormatPNG {
		t.Error("PNG not sniffed")
	}
	if _, ok := SniffFormat([]byte("GIF89a")); ok {
		t.Error("GIF accepted")
	}
	if _, dim, err := CheckImage("ok.png", pngHeader(640, 480)); err != nil || dim != image.Pt(640, 480) {
		t.Errorf("CheckImage: %v %v", dim, err)
	}
}

func TestCheckJPEGComplete(t *testing.T) {
	obama := modeltest.ReadFace(t, "obama.jpg")
	if err := checkJPEGComplete(obama); err != nil {
		t.Fatalf("whole file: %v", err)
	}
	trailer := append(append([]byte{}, obama...), []byte("motion-photo trailer")...)
	if err := checkJPEGComplete(trailer); err != nil {
		t.Fatalf("trailing data after EOI must be accepted: %v", err)
	}
	for _, n := range []int{3, 100, len(obama) / 3, len(obama) - 2} {
		if err := checkJPEGComplete(obama[:n]); err == nil {
			t.Errorf("truncated at %d accepted", n)
		}
	}
}

func readFaceB(b *testing.B, name string) []byte { return modeltest.ReadFace(b, name) }
