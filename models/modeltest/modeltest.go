// Package modeltest locates the real model directory and the shared test
// data for tests. A test that needs them fails when they are missing: a
// skipped recognition test proves nothing in CI.
package modeltest

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/facegate/facegate/models"
)

// RepoRoot is the directory holding go.mod.
func RepoRoot(t testing.TB) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("modeltest: no go.mod above the test's directory")
		}
		dir = parent
	}
}

// ModelsDir is $FACEGATE_TEST_MODELS, else <repo>/data/models, verified.
func ModelsDir(t testing.TB) string {
	t.Helper()
	dir := os.Getenv("FACEGATE_TEST_MODELS")
	if dir == "" {
		dir = filepath.Join(RepoRoot(t), "data", "models")
	}
	if _, err := models.Verify(dir); err != nil {
		t.Fatalf("modeltest: no prepared models (run `make models` or set FACEGATE_TEST_MODELS): %v", err)
	}
	return dir
}

// Testdata is $FACEGATE_TESTDATA, else <repo>/../shared/testdata.
func Testdata(t testing.TB) string {
	t.Helper()
	dir := os.Getenv("FACEGATE_TESTDATA")
	if dir == "" {
		dir = filepath.Join(RepoRoot(t), "..", "shared", "testdata")
	}
	if _, err := os.Stat(filepath.Join(dir, "SOURCES.md")); err != nil {
		t.Fatalf("modeltest: shared test data not found at %s (set FACEGATE_TESTDATA): %v", dir, err)
	}
	return dir
}

// Face is the path of a file under testdata/faces.
func Face(t testing.TB, name string) string {
	t.Helper()
	return filepath.Join(Testdata(t), "faces", name)
}

// ReadFace reads a file under testdata/faces.
func ReadFace(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(Face(t, name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}
