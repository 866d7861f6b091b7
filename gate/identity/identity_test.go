package identity

import (
	"bytes"
	"errors"
	"image"
	"image/color"
	"image/jpeg"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/facegate/facegate/models/modeltest"
	"github.com/facegate/facegate/storage"
	"github.com/facegate/facegate/vision"
)

var (
	recOnce sync.Once
	rec     *vision.Recognizer
	recErr  error
)

func newService(t *testing.T, rule vision.Rule) *Service {
	t.Helper()
	models := modeltest.ModelsDir(t)
	recOnce.Do(func() { rec, recErr = vision.NewRecognizer(models) })
	if recErr != nil {
		t.Fatal(recErr)
	}
	dir := t.TempDir()
	db, err := storage.Open(filepath.Join(dir, "facegate.db"), storage.Options{KeyDir: filepath.Join(dir, "keys")})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	s, err := New(db, rec, rule)
	if err != nil {
		t.Fatal(err)
	}
	s.Photos = storage.SnapshotStore{Dir: filepath.Join(dir, "snapshots")}
	return s
}

func photo(t *testing.T, name string) Photo {
	return Photo{Name: name, Data: modeltest.ReadFace(t, name)}
}

// noFace is a smooth gradient: a valid JPEG with nothing face-like in it.
func noFace(t *testing.T) Photo {
	img := image.NewRGBA(image.Rect(0, 0, 640, 480))
	for y := 0; y < 480; y++ {
		for x := 0; x < 640; x++ {
			img.Set(x, y, color.RGBA{uint8(x / 3), uint8(y / 2), 128, 255})
		}
	}
	var b bytes.Buffer
	if err := jpeg.Encode(&b, img, nil); err != nil {
		t.Fatal(err)
	}
	return Photo{Name: "wall.jpg", Data: b.Bytes()}
}

func countPeople(t *testing.T, s *Service) int64 {
	t.Helper()
	n, err := s.DB.CountPeople()
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func TestEnrollAndIdentify(t *testing.T) {
	s := newService(t, vision.DefaultRule)
	res, err := s.Enroll("E001", "Barack Obama", []Photo{photo(t, "obama.jpg"), photo(t, "obama2.jpg")})
	if err != nil {
		t.Fatal(err)
	}
	if res.Templates != 2 || len(res.Warnings) != 0 {
		t.Fatalf("enrol result %+v", res)
	}
	if _, err := s.Enroll("E002", "Joe Biden", []Photo{photo(t, "biden.jpg")}); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		photo   string
		faces   int
		verdict vision.Verdict
		person  string
	}{
		{"obama3.jpg", 1, vision.VerdictMatch, "E001"},
		{"obama-1080p.jpg", 1, vision.VerdictMatch, "E001"},
		{"lin-manuel-miranda.png", 1, vision.VerdictUnknown, ""},
		{"alex-lacamoire.png", 1, vision.VerdictUnknown, ""},
	}
	for _, c := range cases {
		t.Run(c.photo, func(t *testing.T) {
			got, err := s.Identify(photo(t, c.photo))
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != c.faces {
				t.Fatalf("%d faces, want %d", len(got), c.faces)
			}
			f := got[0]
			if f.Verdict != c.verdict {
				t.Fatalf("verdict %s (%s), want %s", f.Verdict, f.Reason, c.verdict)
			}
			if c.person != "" && (f.Person == nil || f.Person.EmployeeID != c.person) {
				t.Fatalf("person %+v, want %s", f.Person, c.person)
			}
			if c.person == "" && f.Person != nil {
				t.Fatalf("stranger identified as %+v", f.Person)
			}
			if f.Distance == nil || f.RunnerUpD == nil || *f.RunnerUpD < *f.Distance {
				t.Fatalf("distances missing or unordered: %+v", f)
			}
		})
	}
}

func TestEnrollRefusals(t *testing.T) {
	s := newService(t, vision.DefaultRule)
	cases := []struct {
		name   string
		photos []Photo
		want   error
		says   string
	}{
		{"no face", []Photo{noFace(t)}, ErrNoFace, "wall.jpg"},
		{"two faces", []Photo{photo(t, "two_people.jpg")}, ErrManyFaces, "two_people.jpg: more than one face: 2 faces"},
		{"one bad among good", []Photo{photo(t, "obama.jpg"), photo(t, "two_people.jpg")}, ErrManyFaces, "1 of 2 photos refused"},
		{"not an image", []Photo{{Name: "cv.jpg", Data: []byte("%PDF-1.4")}}, vision.ErrImageFormat, "cv.jpg"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := s.Enroll("E9", "Someone", c.photos)
			if !errors.Is(err, c.want) || !strings.Contains(err.Error(), c.says) {
				t.Fatalf("got %v, want %v saying %q", err, c.want, c.says)
			}
			if n := countPeople(t, s); n != 0 {
				t.Fatalf("%d people stored after a refused enrolment", n)
			}
		})
	}
}

func TestDuplicateEnrolmentWarns(t *testing.T) {
	s := newService(t, vision.DefaultRule)
	if _, err := s.Enroll("E001", "Barack Obama", []Photo{photo(t, "obama.jpg")}); err != nil {
		t.Fatal(err)
	}
	res, err := s.Enroll("E777", "Not Obama", []Photo{photo(t, "obama2.jpg")})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Warnings) != 1 || !strings.Contains(res.Warnings[0].Message, "Barack Obama (E001)") {
		t.Fatalf("warnings %+v, want a duplicate warning naming E001", res.Warnings)
	}
	// More photos of the same person are not duplicates of themselves.
	res, err = s.Enroll("E001", "Barack Obama", []Photo{photo(t, "obama3.jpg")})
	if err != nil {
		t.Fatal(err)
	}
	for _, w := range res.Warnings {
		if strings.Contains(w.Message, "(E001)") {
			t.Fatalf("warned about self: %+v", w)
		}
	}
	// Someone else entirely: no warning.
	res, err = s.Enroll("E002", "Joe Biden", []Photo{photo(t, "biden.jpg")})
	if err != nil || len(res.Warnings) != 0 {
		t.Fatalf("unexpected warnings %+v, %v", res.Warnings, err)
	}
}

// Two enrolled people who both look like the probe: the margin rule
// refuses to pick one.
func TestMarginRefusesAmbiguousMatch(t *testing.T) {
	s := newService(t, vision.Rule{Threshold: 0.5, MinMargin: 0.15})
	for _, p := range []struct{ id, photo string }{{"A", "obama.jpg"}, {"B", "obama2.jpg"}} {
		// B is stored with a duplicate warning: two people who look alike.
		if _, err := s.Enroll(p.id, "Person "+p.id, []Photo{photo(t, p.photo)}); err != nil {
			t.Fatal(err)
		}
	}
	if n := countPeople(t, s); n != 2 {
		t.Fatalf("%d people stored, want 2", n)
	}
	got, err := s.Identify(photo(t, "obama3.jpg"))
	if err != nil || len(got) != 1 {
		t.Fatal(got, err)
	}
	if got[0].Verdict != vision.VerdictUnknown || !strings.Contains(got[0].Reason, "margin") || got[0].Person != nil {
		t.Fatalf("ambiguous match accepted: %+v", got[0])
	}
	if got[0].Nearest == nil || got[0].RunnerUp == nil {
		t.Fatalf("nearest and runner-up must still be reported: %+v", got[0])
	}
}
