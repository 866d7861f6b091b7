package vision

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/facegate/facegate/models/modeltest"
)

// RunBench on the demo clip: every frame is processed, Lin-Manuel Miranda
// is granted under the name he was enrolled with, and the report prints it.
func TestRunBench(t *testing.T) {
	det, err := NewDetector("")
	if err != nil {
		t.Fatal(err)
	}
	r, err := RunBench(context.Background(), BenchConfig{Source: clipPath(t), Embedder: testRecognizer(t), Detector: det,
		Pipeline: NewPipelineConfig(testRecognizer(t).Info()), Enroll: []string{"lmm=" + modeltest.Face(t, "lin-manuel-miranda.png"), modeltest.Face(t, "obama.jpg")}})
	if err != nil {
		t.Fatal(err)
	}
	if r.Summary.Frames != 275 || r.Calls[StageDecode] == 0 || r.Calls[StageDescribe] == 0 {
		t.Errorf("frames %d, calls %v; want 275 frames and timed decode and describe", r.Summary.Frames, r.Calls)
	}
	if r.Names[1] != "lmm" || r.Names[2] != "obama" {
		t.Errorf("names %v: want lmm (NAME=PHOTO) and obama (base name)", r.Names)
	}
	granted := false
	for _, d := range r.Decisions {
		granted = granted || d.Verdict == VerdictMatch && d.PersonID == 1
	}
	if !granted {
		t.Fatal("Lin-Manuel Miranda never granted")
	}
	var out bytes.Buffer
	r.Print(&out)
	for _, want := range []string{"pipeline: 275 frames", "ms per frame", "embedder " + r.Info.Name, "describe", " match    lmm ", "decision latency: mean"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("report lacks %q:\n%s", want, out.String())
		}
	}
}

// An enrolment photo must hold exactly one face; the error says which.
func TestRunBenchRefusesEnrolPhoto(t *testing.T) {
	det, err := NewDetector("")
	if err != nil {
		t.Fatal(err)
	}
	_, err = RunBench(context.Background(), BenchConfig{Source: clipPath(t), Embedder: testRecognizer(t), Detector: det,
		Pipeline: NewPipelineConfig(testRecognizer(t).Info()), Enroll: []string{modeltest.Face(t, "two_people.jpg")}})
	if err == nil || !strings.Contains(err.Error(), "two_people.jpg: 2 faces, need exactly one") {
		t.Fatalf("two faces: %v", err)
	}
}
