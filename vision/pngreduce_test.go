package vision

import (
	"bytes"
	"compress/zlib"
	"encoding/binary"
	"errors"
	"hash/crc32"
	"image"
	"image/color"
	"image/png"
	"math/rand/v2"
	"testing"
)

// testImage fills an image of the given kind with noise over gradients,
// so the encoder picks every filter type across its rows.
func testImage(kind string, w, h int) image.Image {
	rng := rand.New(rand.NewPCG(1, 2))
	r := image.Rect(0, 0, w, h)
	var pal color.Palette
	for i := range 256 {
		pal = append(pal, color.RGBA{uint8(i), uint8(255 - i), uint8(i * 7), 255})
	}
	var img interface {
		image.Image
		Set(x, y int, c color.Color)
	}
	switch kind {
	case "gray8":
		img = image.NewGray(r)
	case "gray16":
		img = image.NewGray16(r)
	case "rgb8":
		img = image.NewRGBA(r) // opaque: written as 8-bit RGB
	case "rgb16":
		img = image.NewRGBA64(r)
	case "rgba8":
		img = image.NewNRGBA(r)
	case "rgba16":
		img = image.NewNRGBA64(r)
	case "pal1", "pal2", "pal4", "pal8":
		n := map[string]int{"pal1": 2, "pal2": 4, "pal4": 16, "pal8": 256}[kind]
		img = image.NewPaletted(r, pal[:n])
	}
	for y := range h {
		for x := range w {
			v := uint8(x*3+y*5) + uint8(rng.IntN(40))
			a := uint8(255)
			if kind == "rgba8" || kind == "rgba16" {
				a = uint8(rng.IntN(256))
			}
			c := color.NRGBA{v, uint8(y * 2), v ^ uint8(x), a}
			if p, ok := img.(*image.Paletted); ok {
				p.SetColorIndex(x, y, uint8(rng.IntN(len(p.Palette))))
				continue
			}
			img.Set(x, y, c)
		}
	}
	return img
}

// reference reduces Go's own full decode the same way (alpha dropped,
// 16-bit cut to 8, rounded block means), in BGR.
func reference(t *testing.T, b []byte, k int) (int, int, []byte) {
	t.Helper()
	img, err := png.Decode(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	W, H := img.Bounds().Dx(), img.Bounds().Dy()
	w, h := (W+k-1)/k, (H+k-1)/k
	out := make([]byte, 0, w*h*3)
	for oy := range h {
		for ox := range w {
			var s [3]uint32
			var n uint32
			for y := oy * k; y < min(H, oy*k+k); y++ {
				for x := ox * k; x < min(W, ox*k+k); x++ {
					r, g, b := rgb8(img.At(x, y))
					s[0], s[1], s[2], n = s[0]+uint32(r), s[1]+uint32(g), s[2]+uint32(b), n+1
				}
			}
			out = append(out, byte((s[2]+n/2)/n), byte((s[1]+n/2)/n), byte((s[0]+n/2)/n))
		}
	}
	return w, h, out
}

// rgb8 is a colour's stored (not premultiplied) 8-bit R, G, B.
func rgb8(c color.Color) (uint8, uint8, uint8) {
	switch c := c.(type) {
	case color.NRGBA:
		return c.R, c.G, c.B
	case color.NRGBA64:
		return uint8(c.R >> 8), uint8(c.G >> 8), uint8(c.B >> 8)
	}
	r, g, b, _ := c.RGBA() // opaque kinds: premultiplied is the same
	return uint8(r >> 8), uint8(g >> 8), uint8(b >> 8)
}

func TestPNGReducedMatchesFullDecode(t *testing.T) {
	for _, kind := range []string{"gray8", "gray16", "rgb8", "rgb16", "rgba8", "rgba16", "pal1", "pal2", "pal4", "pal8"} {
		var buf bytes.Buffer
		if err := png.Encode(&buf, testImage(kind, 97, 61)); err != nil {
			t.Fatal(err)
		}
		for _, k := range []int{1, 2, 3, 8} {
			w, h, got, err := decodePNGReduced(buf.Bytes(), k)
			if err != nil {
				t.Fatalf("%s k=%d: %v", kind, k, err)
			}
			rw, rh, want := reference(t, buf.Bytes(), k)
			if w != rw || h != rh || !bytes.Equal(got, want) {
				t.Fatalf("%s k=%d: %d×%d, differs from Go's decode reduced the same way (%d×%d)", kind, k, w, h, rw, rh)
			}
		}
	}
}

// rawPNG writes a PNG by hand: for what Go's encoder never makes (grey
// at 1, 2 or 4 bits, interlacing, damage).
func rawPNG(w, h uint32, depth, colour, interlace byte, rows []byte) []byte {
	var b bytes.Buffer
	b.WriteString("\x89PNG\r\n\x1a\n")
	chunk := func(typ string, data []byte) {
		binary.Write(&b, binary.BigEndian, uint32(len(data)))
		c := append([]byte(typ), data...)
		b.Write(c)
		binary.Write(&b, binary.BigEndian, crc32.ChecksumIEEE(c))
	}
	ihdr := make([]byte, 13)
	binary.BigEndian.PutUint32(ihdr, w)
	binary.BigEndian.PutUint32(ihdr[4:], h)
	ihdr[8], ihdr[9], ihdr[12] = depth, colour, interlace
	chunk("IHDR", ihdr)
	var z bytes.Buffer
	zw := zlib.NewWriter(&z)
	zw.Write(rows)
	zw.Close()
	chunk("IDAT", z.Bytes())
	chunk("IEND", nil)
	return b.Bytes()
}

func TestPNGReducedLowDepthGrey(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for _, depth := range []byte{1, 2, 4} {
		const w, h = 13, 7
		stride := (w*int(depth) + 7) / 8
		var rows []byte
		for range h {
			rows = append(rows, 0) // filter none
			for range stride {
				rows = append(rows, byte(rng.IntN(256)))
			}
		}
		b := rawPNG(w, h, depth, 0, 0, rows)
		for _, k := range []int{1, 2, 5} {
			gw, gh, got, err := decodePNGReduced(b, k)
			if err != nil {
				t.Fatalf("%d-bit k=%d: %v", depth, k, err)
			}
			rw, rh, want := reference(t, b, k)
			if gw != rw || gh != rh || !bytes.Equal(got, want) {
				t.Fatalf("%d-bit grey k=%d differs from Go's decode", depth, k)
			}
		}
	}
}

func TestPNGReducedRefusesWhatItCannotRead(t *testing.T) {
	good := rawPNG(4, 2, 8, 2, 0, make([]byte, 2*(1+12)))
	for _, tc := range []struct {
		name string
		b    []byte
		want string
	}{
		{"interlaced", rawPNG(4, 2, 8, 2, 1, make([]byte, 64)), "interlaced"},
		{"rows missing", rawPNG(4, 2, 8, 2, 0, make([]byte, 1+12)), "row 1"},
		{"unknown filter", rawPNG(4, 1, 8, 2, 0, append([]byte{9}, make([]byte, 12)...)), "filter"},
		{"bad depth", rawPNG(4, 1, 3, 2, 0, make([]byte, 13)), "not valid"},
		{"palette without PLTE", rawPNG(4, 1, 8, 3, 0, make([]byte, 5)), "without a palette"},
		{"cut short", good[:len(good)-14], "past the end"},
		{"header only", good[:40], "no pixel data"},
	} {
		_, _, _, err := decodePNGReduced(tc.b, 2)
		if err == nil || !bytes.Contains([]byte(err.Error()), []byte(tc.want)) {
			t.Errorf("%s: %v, want an error saying %q", tc.name, err, tc.want)
		}
	}
	if _, _, _, err := decodePNGReduced(rawPNG(4, 2, 8, 2, 1, nil), 2); !errors.Is(err, errInterlaced) {
		t.Errorf("interlaced: %v is not errInterlaced", err)
	}
	if _, _, _, err := decodePNGReduced(good, 2); err != nil {
		t.Errorf("good: %v", err)
	}
}
