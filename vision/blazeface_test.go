package vision

import (
	"testing"

	"github.com/facegate/facegate/models"
	"github.com/facegate/facegate/models/modeltest"
)

// TestBlazeFaceBoxes checks the anchor decoding: on obama.jpg (one face)
// and two_people.jpg (two) each BlazeFace model finds as many faces as
// fr_detect, each box overlapping one of fr_detect's by IoU ≥ 0.4 (the two
// detectors draw their boxes to different conventions).
func TestBlazeFaceBoxes(t *testing.T) {
	nd, err := NewNetDetector(modeltest.ModelsDir(t))
	if err != nil {
		t.Fatal(err)
	}
	defer nd.Close()
	for _, m := range []struct {
		file string
		size int
	}{{models.FileBlazeFaceFront, 128}, {models.FileBlazeFaceBack, 256}} {
		bf := testBlazeFace(t, m.file, m.size)
		for _, name := range []string{"obama.jpg", "two_people.jpg"} {
			dec, err := decodeImage(name, modeltest.ReadFace(t, name))
			if err != nil {
				t.Fatal(err)
			}
			want, got := nd.Detect(dec.mat), bf.Detect(dec.mat)
			dec.mat.Close()
			if len(got) != len(want) {
				t.Errorf("%s on %s: %d faces %v, fr_detect %d %v", m.file, name, len(got), got, len(want), want)
				continue
			}
			for _, g := range got {
				best := 0.0
				for _, w := range want {
					best = max(best, iou(g, w))
				}
				t.Logf("%s on %s: %v, IoU %.2f with fr_detect's nearest of %v", m.file, name, g, best, want)
				if best < 0.4 {
					t.Errorf("%s on %s: box %v overlaps fr_detect's %v by IoU %.2f", m.file, name, g, want, best)
				}
			}
		}
		bf.Close()
	}
}
