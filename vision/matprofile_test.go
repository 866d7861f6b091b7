//go:build matprofile

package vision

import (
	"bytes"
	"context"
	"testing"
	"time"

	"gocv.io/x/gocv"

	"github.com/facegate/facegate/models"
	"github.com/facegate/facegate/models/modeltest"
)

// Run with `go test -tags matprofile`: every Mat the pipeline, the sources
// and the image paths create is closed again.
func TestNoMatLeak(t *testing.T) {
	rec := testRecognizer(t)
	gallery := demoGallery(t)
	if n := gocv.MatProfile.Count(); n != 0 {
		var b bytes.Buffer
		gocv.MatProfile.WriteTo(&b, 1)
		t.Fatalf("%d Mats open before the run:\n%s", n, b.String())
	}
	// Pipeline over the whole clip, on-demand source.
	ds, _ := runClip(t, NewPipelineConfig(testRecognizer(t).Info()))
	if len(ds) == 0 {
		t.Fatal("no decisions: the run did not exercise the describe path")
	}
	// A paced, looping source stopped mid-stream.
	src, err := OpenSource(clipPath(t), SourceOptions{Paced: true, Loop: true})
	if err != nil {
		t.Fatal(err)
	}
	det, err := NewDetector("")
	if err != nil {
		t.Fatal(err)
	}
	p := &Pipeline{Source: src, Detector: det, Embedder: rec, Gallery: gallery, Config: NewPipelineConfig(rec.Info())}
	ctx, cancel := context.WithTimeout(context.Background(), 1500*time.Millisecond)
	p.Run(ctx)
	cancel()
	det.Close()
	src.Close()
	// Photo paths, including refused ones.
	for _, name := range []string{"obama.jpg", "32bit.png", "two_people.jpg"} {
		rec.Faces(name, modeltest.ReadFace(t, name))
	}
	rec.Faces("truncated.jpg", modeltest.ReadFace(t, "obama.jpg")[:5000])
	// The ONNX embedder: photos, and a pipeline with fr_detect per frame.
	fp := testFaceplugin(t)
	for _, name := range []string{"obama.jpg", "32bit.png", "two_people.jpg"} {
		fp.Faces(name, modeltest.ReadFace(t, name))
	}
	fp.Faces("truncated.jpg", modeltest.ReadFace(t, "obama.jpg")[:5000])
	nd, err := NewNetDetector(modeltest.ModelsDir(t))
	if err != nil {
		t.Fatal(err)
	}
	src2, err := OpenSource(clipPath(t), SourceOptions{})
	if err != nil {
		t.Fatal(err)
	}
	p2 := &Pipeline{Source: src2, Detector: nd, Embedder: fp, Gallery: NewGalleryFor(MetricCosine, nil), Config: NewPipelineConfig(fp.Info())}
	ctx2, cancel2 := context.WithTimeout(context.Background(), 1500*time.Millisecond)
	p2.Run(ctx2)
	cancel2()
	if p2.Stats().Summary().Stages[StageDescribe][0] == 0 {
		t.Error("the faceplugin pipeline described no face")
	}
	nd.Close()
	src2.Close()
	// BlazeFace, measured only: photos through the same working image.
	bf := testBlazeFace(t, models.FileBlazeFaceBack, 256)
	for _, name := range []string{"obama.jpg", "32bit.png", "two_people.jpg"} {
		dec, err := decodeImage(name, modeltest.ReadFace(t, name))
		if err != nil {
			t.Fatal(err)
		}
		if len(bf.Detect(dec.mat)) == 0 {
			t.Errorf("BlazeFace found no face in %s", name)
		}
		dec.mat.Close()
	}
	bf.Close()
	if n := gocv.MatProfile.Count(); n != 0 {
		var b bytes.Buffer
		gocv.MatProfile.WriteTo(&b, 1)
		t.Fatalf("%d Mats leaked:\n%s", n, b.String())
	}
}
