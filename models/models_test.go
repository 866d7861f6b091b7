package models

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/facegate/facegate/models/internal/dlibnet"
)

func tfjsFixture(t *testing.T) ([]byte, []byte) {
	t.Helper()
	m := []map[string]any{{
		"paths": []string{"x.bin"},
		"weights": []map[string]any{
			{"name": "q8", "shape": []int{3}, "dtype": "float32", "quantization": map[string]any{"dtype": "uint8", "scale": 0.5, "min": -1.0}},
			{"name": "f32", "shape": []int{2}, "dtype": "float32"},
			{"name": "q16", "shape": []int{1}, "dtype": "float32", "quantization": map[string]any{"dtype": "uint16", "scale": 0.25, "min": 1.0}},
		},
	}}
	js, _ := json.Marshal(m)
	var bin bytes.Buffer
	bin.Write([]byte{0, 2, 255})
	binary.Write(&bin, binary.LittleEndian, []float32{1.5, -2})
	binary.Write(&bin, binary.LittleEndian, uint16(8))
	return js, bin.Bytes()
}

func TestParseTFJS(t *testing.T) {
	js, bin := tfjsFixture(t)
	ts, err := ParseTFJS(js, bin)
	if err != nil {
		t.Fatal(err)
	}
	want := [][]float32{{-1, 0, 126.5}, {1.5, -2}, {3}}
	if len(ts) != len(want) {
		t.Fatalf("got %d tensors, want %d", len(ts), len(want))
	}
	for i, w := range want {
		for j := range w {
			if ts[i].Values[j] != w[j] {
				t.Errorf("%s[%d] = %v, want %v", ts[i].Name, j, ts[i].Values[j], w[j])
			}
		}
	}
}

func TestParseTFJSRejects(t *testing.T) {
	js, bin := tfjsFixture(t)
	cases := []struct {
		name string
		js   []byte
		bin  []byte
		want string
	}{
		{"truncated binary", js, bin[:len(bin)-1], "ends inside"},
		{"trailing bytes", js, append(append([]byte{}, bin...), 0), "trailing"},
		{"not json", []byte("<html>"), bin, "not TF.js JSON"},
		{"two groups", []byte(`[{"weights":[]},{"weights":[]}]`), nil, "one weight group"},
		{"bad dtype", []byte(`[{"weights":[{"name":"x","shape":[1],"dtype":"int32"}]}]`), []byte{0, 0, 0, 0}, "unsupported dtype"},
		{"bad shape", []byte(`[{"weights":[{"name":"x","shape":[-1],"dtype":"float32"}]}]`), nil, "bad dimension"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := ParseTFJS(c.js, c.bin)
			if !errors.Is(err, ErrWeights) || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("got %v, want ErrWeights containing %q", err, c.want)
			}
		})
	}
}

// The conv transposition [kh,kw,in,out] → [out][in][kh][kw] is the part most
// easily got wrong; check it element by element on a small tensor.
func TestDlibResNetParamsLayout(t *testing.T) {
	kh, kw, in, on := 2, 3, 4, 5
	f := Tensor{Name: "c/conv/filters", Shape: []int{kh, kw, in, on}, Values: make([]float32, kh*kw*in*on)}
	for i := range f.Values {
		f.Values[i] = float32(i)
	}
	b := Tensor{Name: "c/conv/bias", Shape: []int{on}, Values: []float32{-1, -2, -3, -4, -5}}
	g := Tensor{Name: "c/scale/weights", Shape: []int{on}, Values: []float32{10, 11, 12, 13, 14}}
	be := Tensor{Name: "c/scale/biases", Shape: []int{on}, Values: []float32{20, 21, 22, 23, 24}}
	fc := Tensor{Name: "fc", Shape: []int{2, 2}, Values: []float32{7, 8, 9, 10}}
	p, err := DlibResNetParams([]Tensor{f, b, g, be, fc})
	if err != nil {
		t.Fatal(err)
	}
	if len(p) != kh*kw*in*on+on+2*on+4 {
		t.Fatalf("len = %d", len(p))
	}
	for o := 0; o < on; o++ {
		for c := 0; c < in; c++ {
			for y := 0; y < kh; y++ {
				for x := 0; x < kw; x++ {
					got := p[((o*in+c)*kh+y)*kw+x]
					want := float32(((y*kw+x)*in+c)*on + o)
					if got != want {
						t.Fatalf("filter o=%d i=%d y=%d x=%d: got %v want %v", o, c, y, x, got, want)
					}
				}
			}
		}
	}
	rest := p[kh*kw*in*on:]
	wantRest := []float32{-1, -2, -3, -4, -5, 10, 11, 12, 13, 14, 20, 21, 22, 23, 24, 7, 8, 9, 10}
	for i, w := range wantRest {
		if rest[i] != w {
			t.Fatalf("rest[%d] = %v, want %v", i, rest[i], w)
		}
	}
	if _, err := DlibResNetParams([]Tensor{f}); err == nil {
		t.Fatal("filters without bias accepted")
	}
	if _, err := DlibResNetParams([]Tensor{{Name: "mystery"}}); err == nil {
		t.Fatal("unknown tensor accepted")
	}
}

// realModelsDir finds the prepared models without importing modeltest
// (which imports this package).
func realModelsDir(t *testing.T) string {
	t.Helper()
	dir := os.Getenv("FACEGATE_TEST_MODELS")
	if dir == "" {
		dir = filepath.Join("..", "data", "models")
	}
	if _, err := Verify(dir); err != nil {
		t.Fatalf("no prepared models (run `make models`): %v", err)
	}
	return dir
}

func sourcesOf(t *testing.T, dir string) (tarball, landmarks, mirror string) {
	t.Helper()
	matches := []string{filepath.Join(dir, ".sources", faceAPITarball)}
	if checkIntegrity(matches[0], FaceAPIIntegrity) != nil {
		t.Fatalf("no cached face-api tarball in %s/.sources (prepare it with npm first)", dir)
	}
	mirror = os.Getenv("FACEGATE_TESTDATA")
	if mirror == "" {
		mirror = filepath.Join("..", "..", "shared", "testdata")
	}
	return matches[0], filepath.Join(dir, FileLandmarks), filepath.Join(mirror, "..", "models")
}

func TestRealWeightsFitTheNetwork(t *testing.T) {
	tarball, _, _ := sourcesOf(t, realModelsDir(t))
	files, err := readTarGz(tarball, map[string]bool{
		"package/model/face_recognition_model-weights_manifest.json": true,
		"package/model/face_recognition_model.bin":                   true,
	})
	if err != nil {
		t.Fatal(err)
	}
	ts, err := ParseTFJS(files["package/model/face_recognition_model-weights_manifest.json"], files["package/model/face_recognition_model.bin"])
	if err != nil {
		t.Fatal(err)
	}
	if len(ts) != 117 {
		t.Errorf("face-api ResNet has %d tensors, want 117", len(ts))
	}
	p, err := DlibResNetParams(ts)
	if err != nil {
		t.Fatal(err)
	}
	if len(p) != dlibnet.ResNetParamCount() {
		t.Fatalf("%d parameters, dlib's network takes %d", len(p), dlibnet.ResNetParamCount())
	}
	for i, v := range p {
		if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
			t.Fatalf("parameter %d is %v", i, v)
		}
	}
}

// Prepare rebuilds the network byte-identically (its hash is pinned), takes
// the MMOD detector from the mirror, and keeps good files on a second run.
func TestPrepareFromMirror(t *testing.T) {
	tarball, landmarks, mirror := sourcesOf(t, realModelsDir(t))
	dir := t.TempDir()
	opts := PrepareOptions{Dir: dir, From: mirror, FaceAPITarball: tarball, LandmarksFile: landmarks, Offline: true,
		FacepluginTarball: facepluginTarballOf(t)}
	m, err := Prepare(context.Background(), opts)
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range FacepluginFiles {
		if e, _ := m.File(name); !e.ProvenanceUnknown || e.Training == "" || !strings.Contains(e.Licence, "MIT") {
			t.Errorf("%s: provenance not recorded: %+v", name, e)
		}
	}
	for _, name := range RequiredFiles() {
		e, ok := m.File(name)
		if !ok || e.SHA256 != pinFor(name) || e.Inert {
			t.Errorf("%s: entry %+v, want pinned hash %s", name, e, pinFor(name))
		}
	}
	if !m.MMODUsable() {
		t.Error("MMOD from mirror not usable")
	}
	st1, _ := os.Stat(filepath.Join(dir, FileResNet))
	time.Sleep(10 * time.Millisecond)
	if _, err := Prepare(context.Background(), opts); err != nil {
		t.Fatal(err)
	}
	st2, _ := os.Stat(filepath.Join(dir, FileResNet))
	if !st1.ModTime().Equal(st2.ModTime()) {
		t.Error("warm prepare rebuilt a file that was already good")
	}
}

func TestPrepareWithoutDetectorWritesInertPlaceholder(t *testing.T) {
	tarball, landmarks, _ := sourcesOf(t, realModelsDir(t))
	dir := t.TempDir()
	m, err := Prepare(context.Background(), PrepareOptions{Dir: dir, From: t.TempDir(), FaceAPITarball: tarball,
		LandmarksFile: landmarks, Offline: true, FacepluginTarball: facepluginTarballOf(t)})
	if err != nil {
		t.Fatal(err)
	}
	e, _ := m.File(FileMMOD)
	if !e.Inert || m.MMODUsable() || !strings.Contains(e.Licence, "INERT") {
		t.Fatalf("placeholder not marked inert: %+v", e)
	}
	if _, err := Verify(dir); err != nil {
		t.Fatalf("inert directory should verify: %v", err)
	}
}

// facepluginTarballOf is the cached ONNX package of the real model dir.
func facepluginTarballOf(t *testing.T) string {
	t.Helper()
	p := filepath.Join(realModelsDir(t), ".sources", facepluginTarball)
	if err := checkIntegrity(p, FacepluginIntegrity); err != nil {
		t.Fatalf("no cached %s (run `make models`): %v", FacepluginPackage, err)
	}
	return p
}

func TestPrepareRefusesTamperedFacepluginTarball(t *testing.T) {
	tarball, landmarks, mirror := sourcesOf(t, realModelsDir(t))
	b, _ := os.ReadFile(facepluginTarballOf(t))
	b[len(b)/3] ^= 1
	bad := filepath.Join(t.TempDir(), "bad.tgz")
	os.WriteFile(bad, b, 0o644)
	_, err := Prepare(context.Background(), PrepareOptions{Dir: t.TempDir(), From: mirror, FaceAPITarball: tarball,
		LandmarksFile: landmarks, Offline: true, FacepluginTarball: bad})
	if !errors.Is(err, ErrVerify) || !strings.Contains(err.Error(), "integrity") {
		t.Fatalf("got %v, want integrity failure", err)
	}
}

func TestPrepareRefusesTamperedTarball(t *testing.T) {
	tarball, landmarks, _ := sourcesOf(t, realModelsDir(t))
	b, _ := os.ReadFile(tarball)
	b[len(b)/2] ^= 1
	bad := filepath.Join(t.TempDir(), "bad.tgz")
	os.WriteFile(bad, b, 0o644)
	_, err := Prepare(context.Background(), PrepareOptions{Dir: t.TempDir(), FaceAPITarball: bad, LandmarksFile: landmarks, Offline: true})
	if !errors.Is(err, ErrVerify) || !strings.Contains(err.Error(), "integrity") {
		t.Fatalf("got %v, want integrity failure", err)
	}
}

func TestVerifyDetectsTampering(t *testing.T) {
	real := realModelsDir(t)
	abs, _ := filepath.Abs(real)
	cases := []struct {
		name   string
		tamper func(dir string)
		want   string
	}{
		{"flipped byte in detector", func(dir string) {
			b, _ := os.ReadFile(filepath.Join(abs, FileMMOD))
			b[100] ^= 0xFF
			os.Remove(filepath.Join(dir, FileMMOD))
			os.WriteFile(filepath.Join(dir, FileMMOD), b, 0o644)
		}, "sha256"},
		{"missing file", func(dir string) { os.Remove(filepath.Join(dir, FileResNet)) }, "no such file"},
		{"manifest lies about hash", func(dir string) {
			m, _ := ReadManifest(dir)
			for i := range m.Files {
				if m.Files[i].Name == FileMMOD {
					m.Files[i].SHA256 = strings.Repeat("0", 64)
				}
			}
			writeManifest(dir, m)
		}, "sha256"},
		{"no manifest", func(dir string) { os.Remove(filepath.Join(dir, ManifestName)) }, "prepare"},
		{"flipped byte in ONNX embedder", func(dir string) {
			b, _ := os.ReadFile(filepath.Join(abs, FileFPFeature))
			b[len(b)/2] ^= 0xFF
			os.Remove(filepath.Join(dir, FileFPFeature))
			os.WriteFile(filepath.Join(dir, FileFPFeature), b, 0o644)
		}, "sha256"},
		{"missing ONNX detector", func(dir string) { os.Remove(filepath.Join(dir, FileFPDetect)) }, "no such file"},
		{"old manifest without the ONNX models", func(dir string) {
			m, _ := ReadManifest(dir)
			m.Files = m.Files[:3]
			writeManifest(dir, m)
		}, "no entry for"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			for _, n := range RequiredFiles() {
				if err := os.Symlink(filepath.Join(abs, n), filepath.Join(dir, n)); err != nil {
					t.Fatal(err)
				}
			}
			b, _ := os.ReadFile(filepath.Join(abs, ManifestName))
			os.WriteFile(filepath.Join(dir, ManifestName), b, 0o644)
			if _, err := Verify(dir); err != nil {
				t.Fatalf("untampered copy fails: %v", err)
			}
			c.tamper(dir)
			_, err := Verify(dir)
			if !errors.Is(err, ErrVerify) || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("got %v, want ErrVerify mentioning %q", err, c.want)
			}
		})
	}
}

// The fallback when libdlib-data is not installed: apt-get download and
// dpkg-deb -x, checked against the pinned hash.
func TestDownloadDebLandmarks(t *testing.T) {
	path, cleanup, err := downloadDeb(context.Background(), slogDiscard())
	if err != nil {
		t.Fatalf("apt-get download path: %v", err)
	}
	defer cleanup()
	if got := fileSHA256OrEmpty(path); got != LandmarksSHA256 {
		t.Fatalf("downloaded predictor hashes to %s, want %s", got, LandmarksSHA256)
	}
}

func slogDiscard() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

func TestFetchBlazeFaceRefusesUnknownFile(t *testing.T) {
	dir := t.TempDir()
	_, err := FetchBlazeFace(context.Background(), dir, "face_detection_full_range.tflite")
	if err == nil || !strings.Contains(err.Error(), FileBlazeFaceFront) {
		t.Fatalf("got %v, want an error naming the pinned files", err)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Fatalf("fetched %d files for an unknown name", len(entries))
	}
}
