package models

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/facegate/facegate/storage/atomicfile"
)

// File names go-face's NewRecognizer loads from its model directory.
const (
	FileLandmarks = "shape_predictor_5_face_landmarks.dat"
	FileResNet    = "dlib_face_recognition_resnet_model_v1.dat"
	FileMMOD      = "mmod_human_face_detector.dat"
	ManifestName  = "manifest.json"
)

// Pinned sources. A file that does not hash to its pin is refused.
const (
	FaceAPIPackage   = "@vladmandic/face-api@1.7.15"
	FaceAPIIntegrity = "sha512-WDMmK3CfNLo8jylWqMoQgf4nIst3M0fzx1dnac96wv/dvMTN4DxC/Pq1DGtduDk1lktCamQ3MIDXFnvrdHTXDw=="
	// LandmarksDeb is the Debian package that ships the 68-point predictor.
	LandmarksDeb        = "libdlib-data"
	LandmarksDebVersion = "19.24+dfsg-1"
	LandmarksDebPath    = "usr/share/dlib/shape_predictor_68_face_landmarks.dat"
	LandmarksSHA256     = "fbdc2cb80eb9aa7a758672cbfdda32ba6300efe9b6e6c7a299ff7e736b11b92f"
	MMODSHA256          = "4cb19393e2fbaf2b1609a9319ad5386618c886a6234ec1b971f3e87c85d87fe6"
	MMODURL             = "http://dlib.net/files/mmod_human_face_detector.dat.bz2"
)

// ManifestFormat is bumped when the manifest's JSON changes incompatibly.
const ManifestFormat = 1

// ErrVerify is wrapped by every verification failure.
var ErrVerify = errors.New("model verification failed")

// FileEntry describes one model file.
type FileEntry struct {
	Name    string `json:"name"`
	Source  string `json:"source"`
	SHA256  string `json:"sha256"`
	Size    int64  `json:"size"`
	Licence string `json:"licence"`
	// Inert marks a placeholder that loads but detects nothing.
	Inert bool `json:"inert,omitempty"`
	// Training says what the publisher states about the training data.
	Training string `json:"training,omitempty"`
	// ProvenanceUnknown marks weights whose training data is not stated:
	// the UI warns before they are used to open doors.
	ProvenanceUnknown bool `json:"provenance_unknown,omitempty"`
}

// Manifest lists the files of a prepared model directory.
type Manifest struct {
	Format    int         `json:"format"`
	CreatedAt time.Time   `json:"created_at"`
	Files     []FileEntry `json:"files"`
}

// File returns the entry named name.
func (m Manifest) File(name string) (FileEntry, bool) {
	for _, f := range m.Files {
		if f.Name == name {
			return f, true
		}
	}
	return FileEntry{}, false
}

// Version identifies the descriptor model: templates made by one version
// are only comparable with probes made by the same version.
func (m Manifest) Version() string {
	r, _ := m.File(FileResNet)
	l, _ := m.File(FileLandmarks)
	return "dlib-resnet-v1/" + short(r.SHA256) + "+lm/" + short(l.SHA256)
}

// FacepluginVersion identifies the ONNX embedder: feature and landmark
// nets, since both shape the descriptor.
func (m Manifest) FacepluginVersion() string {
	f, _ := m.File(FileFPFeature)
	l, _ := m.File(FileFPLandmark)
	return "faceplugin-fr-feature/" + short(f.SHA256) + "+lm/" + short(l.SHA256)
}

// MMODUsable reports whether the CNN detector holds real weights.
func (m Manifest) MMODUsable() bool {
	f, ok := m.File(FileMMOD)
	return ok && !f.Inert
}

func short(h string) string {
	if len(h) < 12 {
		return h
	}
	return h[:12]
}

// ReadManifest reads DIR/manifest.json.
func ReadManifest(dir string) (Manifest, error) {
	var m Manifest
	b, err := os.ReadFile(filepath.Join(dir, ManifestName))
	if err != nil {
		return m, fmt.Errorf("%w: %v (run `facegate models prepare --dir %s`)", ErrVerify, err, dir)
	}
	if err := json.Unmarshal(b, &m); err != nil {
		return m, fmt.Errorf("%w: %s is not valid JSON: %v", ErrVerify, filepath.Join(dir, ManifestName), err)
	}
	if m.Format != ManifestFormat {
		return m, fmt.Errorf("%w: manifest format %d, this build reads %d: run `facegate models prepare`", ErrVerify, m.Format, ManifestFormat)
	}
	return m, nil
}

func writeManifest(dir string, m Manifest) error {
	b, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return err
	}
	return atomicfile.WriteFile(filepath.Join(dir, ManifestName), b, 0o644)
}

// pinFor returns the expected hash of a real (non-inert) file.
func pinFor(name string) string {
	switch name {
	case FileResNet:
		return resnetPin
	case FileLandmarks:
		return LandmarksSHA256
	case FileMMOD:
		return MMODSHA256
	}
	return facepluginPins[name]
}

// RequiredFiles are the files Verify checks: dlib's three and the ONNX ones.
func RequiredFiles() []string {
	return append([]string{FileLandmarks, FileResNet, FileMMOD}, FacepluginFiles...)
}

// Verify checks that DIR holds every required file with the sizes and hashes the
// manifest records, and that every non-inert file matches its pin.
func Verify(dir string) (Manifest, error) {
	m, err := ReadManifest(dir)
	if err != nil {
		return m, err
	}
	for _, name := range RequiredFiles() {
		e, ok := m.File(name)
		if !ok {
			return m, fmt.Errorf("%w: manifest has no entry for %s (run `facegate models prepare --dir %s`)", ErrVerify, name, dir)
		}
		if err := checkFile(filepath.Join(dir, name), e.Size, e.SHA256); err != nil {
			return m, err
		}
		if pin := pinFor(name); !e.Inert && e.SHA256 != pin {
			return m, fmt.Errorf("%w: %s hashes to %s, the pinned build is %s", ErrVerify, name, e.SHA256, pin)
		}
	}
	return m, nil
}

func checkFile(path string, size int64, sum string) error {
	st, err := os.Stat(path)
	if err != nil {
		return fmt.Errorf("%w: %v (run `facegate models prepare`)", ErrVerify, err)
	}
	if st.Size() != size {
		return fmt.Errorf("%w: %s is %d bytes, manifest says %d", ErrVerify, path, st.Size(), size)
	}
	got, err := fileSHA256(path)
	if err != nil {
		return fmt.Errorf("%w: %v", ErrVerify, err)
	}
	if got != sum {
		return fmt.Errorf("%w: %s has sha256 %s, manifest says %s", ErrVerify, path, got, sum)
	}
	return nil
}

func fileSHA256(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", fmt.Errorf("read %s: %w", path, err)
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

func entryFor(path, name, source, licence string, inert bool) (FileEntry, error) {
	st, err := os.Stat(path)
	if err != nil {
		return FileEntry{}, err
	}
	sum, err := fileSHA256(path)
	if err != nil {
		return FileEntry{}, err
	}
	return FileEntry{Name: name, Source: source, SHA256: sum, Size: st.Size(), Licence: licence, Inert: inert}, nil
}

// resnetPin is the SHA-256 of the descriptor network rebuilt from
// FaceAPIPackage; the build is deterministic, so a different hash means
// different weights or conversion code.
const resnetPin = "cdb1d47b961fe310ef1f3aa2974c5f65d29c079346760f6b6785c7e405f7266a"

func sha256Hex(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}
