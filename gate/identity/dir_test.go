package identity

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/facegate/facegate/vision"
)

func writeFile(t *testing.T, path string, b []byte) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

// ScanDir takes photos by extension (any case), sorted, one person per
// sub-folder that holds one; other files and empty folders are ignored.
func TestScanDir(t *testing.T) {
	dir := t.TempDir()
	for _, f := range []string{"ann/2.jpg", "ann/1.PNG", "ann/notes.txt", "bob/a.jpeg", "empty/readme.md", "top.jpg"} {
		writeFile(t, filepath.Join(dir, f), []byte("x"))
	}
	if err := os.Mkdir(filepath.Join(dir, "ann", "sub.jpg"), 0o755); err != nil {
		t.Fatal(err)
	}
	people, total, err := ScanDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	want := []DirPerson{
		{"ann", []string{filepath.Join(dir, "ann", "1.PNG"), filepath.Join(dir, "ann", "2.jpg")}},
		{"bob", []string{filepath.Join(dir, "bob", "a.jpeg")}},
	}
	if total != 3 || !slices.EqualFunc(people, want, func(a, b DirPerson) bool {
		return a.Name == b.Name && slices.Equal(a.Photos, b.Photos)
	}) {
		t.Fatalf("got %d photos %+v, want 3 %+v", total, people, want)
	}

	if _, _, err := ScanDir(filepath.Join(dir, "empty")); err == nil || !strings.Contains(err.Error(), "no DIR/<person>/") {
		t.Errorf("folder without person folders: %v", err)
	}
	if _, _, err := ScanDir(filepath.Join(dir, "missing")); !os.IsNotExist(err) {
		t.Errorf("missing folder: %v", err)
	}
}

// EnrollDir enrols a person from the photos that pass, refuses a photo
// without a face and a person with no usable photo, and stops on cancel.
func TestEnrollDir(t *testing.T) {
	s := newService(t, vision.DefaultRule)
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "obama", "1.jpg"), photo(t, "obama.jpg").Data)
	writeFile(t, filepath.Join(dir, "obama", "2.jpg"), noFace(t).Data)
	writeFile(t, filepath.Join(dir, "wall", "1.jpg"), noFace(t).Data)
	people, total, err := ScanDir(dir)
	if err != nil || total != 3 {
		t.Fatalf("%d photos, %v", total, err)
	}
	var steps []string
	r, err := s.EnrollDir(context.Background(), people, func(p string) { steps = append(steps, p) })
	if err != nil {
		t.Fatal(err)
	}
	if r.People != 1 || r.Templates != 1 || len(r.Refused) != 3 || len(steps) != 3 {
		t.Fatalf("result %+v after %d steps; want 1 person, 1 template, 3 refused (2 photos, 1 person), 3 steps", r, len(steps))
	}
	if !strings.Contains(r.Refused[2].Error(), "wall: not enrolled") {
		t.Errorf("refusal of the person without a usable photo: %v", r.Refused[2])
	}
	if n := countPeople(t, s); n != 1 {
		t.Errorf("%d people stored, want 1", n)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := s.EnrollDir(ctx, people, nil); err != context.Canceled {
		t.Errorf("cancelled: %v", err)
	}
}
