package dlibnet

import (
	"path/filepath"
	"strings"
	"testing"
)

// The descriptor network's parameter count is fixed by its architecture; a
// change here means the network type drifted from go-face's.
func TestResNetParamCount(t *testing.T) {
	const want = 5614592 // sum of the 117 tensors of face-api's port of dlib_face_recognition_resnet_model_v1
	if got := ResNetParamCount(); got != want {
		t.Fatalf("ResNetParamCount() = %d, want %d", got, want)
	}
}

func TestBuildResNetRejectsWrongCount(t *testing.T) {
	err := BuildResNet(make([]float32, 10), filepath.Join(t.TempDir(), "x.dat"))
	if err == nil || !strings.Contains(err.Error(), "mismatch") {
		t.Fatalf("want count mismatch error, got %v", err)
	}
}
