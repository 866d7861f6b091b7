package atomicfile

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"testing"
)

func TestWriteFileReplacesAndLeavesNoTemp(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "state")
	for _, want := range []string{"locked\n", "unlocked\n"} {
		if err := WriteFile(p, []byte(want), 0o640); err != nil {
			t.Fatal(err)
		}
		if b, err := os.ReadFile(p); err != nil || string(b) != want {
			t.Fatalf("read %q, %v; want %q", b, err, want)
		}
	}
	if fi, err := os.Stat(p); err != nil || fi.Mode().Perm() != 0o640 {
		t.Fatalf("mode %v (%v), want 0640", fi.Mode(), err)
	}
	assertOnly(t, dir, "state")
}

func TestWriteNewNeverReplaces(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "key")
	if err := WriteNew(p, []byte("first"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := WriteNew(p, []byte("second"), 0o600); !errors.Is(err, os.ErrExist) {
		t.Fatalf("second write: %v, want os.ErrExist", err)
	}
	if b, _ := os.ReadFile(p); string(b) != "first" {
		t.Fatalf("file replaced: %q", b)
	}
	assertOnly(t, dir, "key")
}

func TestStreamFailureLeavesNothing(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "bundle.zip")
	boom := errors.New("disk full")
	err := Stream(p, 0o644, func(w io.Writer) error { w.Write([]byte("half")); return boom })
	if !errors.Is(err, boom) {
		t.Fatalf("got %v, want the fill's error", err)
	}
	assertOnly(t, dir)
}

func assertOnly(t *testing.T, dir string, names ...string) {
	t.Helper()
	es, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range es {
		got = append(got, e.Name())
	}
	if len(got) != len(names) || (len(names) > 0 && got[0] != names[0]) {
		t.Fatalf("directory holds %v, want %v", got, names)
	}
}

// Commit replaces path with tmp's bytes and leaves no tmp, also when the
// rename fails (here: path is a non-empty directory).
func TestCommit(t *testing.T) {
	dir := t.TempDir()
	p, tmp := filepath.Join(dir, "model.dat"), filepath.Join(dir, "model.dat.partial")
	for _, want := range []string{"old", "new"} {
		if err := os.WriteFile(tmp, []byte(want), 0o644); err != nil {
			t.Fatal(err)
		}
		if err := Commit(tmp, p); err != nil {
			t.Fatal(err)
		}
		if b, err := os.ReadFile(p); err != nil || string(b) != want {
			t.Fatalf("read %q, %v; want %q", b, err, want)
		}
		if _, err := os.Stat(tmp); !errors.Is(err, os.ErrNotExist) {
			t.Fatalf("tmp left behind: %v", err)
		}
	}
	busy := filepath.Join(dir, "busy")
	if err := os.MkdirAll(filepath.Join(busy, "x"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(tmp, []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := Commit(tmp, busy); err == nil {
		t.Fatal("rename onto a non-empty directory succeeded")
	}
	if _, err := os.Stat(tmp); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("tmp left behind after a failed Commit: %v", err)
	}
	if err := Commit(filepath.Join(dir, "missing"), p); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("missing tmp: %v", err)
	}
}
