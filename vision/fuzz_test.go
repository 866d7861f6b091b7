package vision

import (
	"testing"

	"github.com/facegate/facegate/models/modeltest"
)

// FuzzImageInput: any bytes given as a photo are either refused with an
// *ImageError or decoded and re-encoded; nothing panics or crashes OpenCV.
func FuzzImageInput(f *testing.F) {
	for _, name := range []string{"obama_small.jpg", "32bit.png"} {
		f.Add(modeltest.ReadFace(f, name))
	}
	f.Add([]byte("\xff\xd8\xff\xe0\x00\x10JFIF"))
	f.Add(pngHeader(50000, 50000))
	f.Add([]byte("\x89PNG\r\n\x1a\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		if len(b) > 2<<20 {
			return
		}
		out, err := Reencode("fuzz.jpg", b)
		if err != nil {
			if _, ok := err.(*ImageError); !ok {
				t.Fatalf("error of type %T: %v", err, err)
			}
			return
		}
		if _, ok := SniffFormat(out); !ok {
			t.Fatal("re-encoded output is not an image")
		}
	})
}

// FuzzJPEGStructure: the truncation check terminates on any input.
func FuzzJPEGStructure(f *testing.F) {
	f.Add(modeltest.ReadFace(f, "obama_small.jpg"))
	f.Add([]byte{0xFF, 0xD8, 0xFF, 0xDA, 0x00, 0x02, 0xFF})
	f.Fuzz(func(t *testing.T, b []byte) {
		checkJPEGComplete(b)
	})
}
