package vision

import (
	"bytes"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/facegate/facegate/models/modeltest"
)

// posterImage is a 12000×12000 grey canvas with obama.jpg enlarged 8× in
// its middle, computed pixel by pixel so that writing it as PNG never holds
// it in memory.
type posterImage struct {
	face       image.Image
	off, scale int
}

func (p posterImage) ColorModel() color.Model { return color.RGBAModel }
func (p posterImage) Bounds() image.Rectangle { return image.Rect(0, 0, 12000, 12000) }
func (p posterImage) At(x, y int) color.Color {
	b := p.face.Bounds()
	fx, fy := (x-p.off)/p.scale+b.Min.X, (y-p.off)/p.scale+b.Min.Y
	if x < p.off || y < p.off || !image.Pt(fx, fy).In(b) {
		return color.RGBA{128, 128, 128, 255}
	}
	return p.face.At(fx, fy)
}

// posterPNG writes the 12000×12000 PNG.
func posterPNG(t *testing.T) []byte {
	t.Helper()
	f, err := jpeg.Decode(bytes.NewReader(modeltest.ReadFace(t, "obama.jpg")))
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	enc := png.Encoder{CompressionLevel: png.BestSpeed}
	if err := enc.Encode(&buf, posterImage{face: f, off: 4000, scale: 8}); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// peakRSS is the process's peak resident memory since the last reset.
func peakRSS(t *testing.T) int64 {
	t.Helper()
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kb, _ := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")), 10, 64)
			return kb << 10
		}
	}
	t.Fatal("no VmHWM in /proc/self/status")
	return 0
}

// Six parallel reads of a 12000×12000 PNG (432 MB each decoded in full;
// 2.8 GB for six through the web app before) stay within 300 MB more than
// the process already held, and the face in it is still found.
func TestBigPNGMemoryBounded(t *testing.T) {
	fp := testFaceplugin(t)
	b := posterPNG(t)
	t.Logf("poster PNG: %d kB", len(b)>>10)
	if err := os.WriteFile("/proc/self/clear_refs", []byte("5"), 0); err != nil {
		t.Skipf("cannot reset the peak RSS here: %v", err)
	}
	base := peakRSS(t)
	var wg sync.WaitGroup
	faces := make([][]Face, 6)
	errs := make([]error, 6)
	for i := range 6 {
		wg.Go(func() { faces[i], errs[i] = fp.Faces("poster.png", b) })
	}
	wg.Wait()
	grew := peakRSS(t) - base
	t.Logf("peak RSS grew %d MB for six parallel 12000×12000 PNG reads", grew>>20)
	for i := range 6 {
		if errs[i] != nil || len(faces[i]) != 1 {
			t.Fatalf("read %d: %d faces, %v", i, len(faces[i]), errs[i])
		}
	}
	if box := faces[0][0].Box; box.Min.X < 4000 || box.Max.X > 12000 || box.Dx() < 800 {
		t.Errorf("face at %v, want it in the enlarged photo at (4000, 4000) in full-size coordinates", box)
	}
	if grew > 300<<20 {
		t.Errorf("peak RSS grew %d MB: large PNGs are not decoded reduced, or too many at once", grew>>20)
	}
}
