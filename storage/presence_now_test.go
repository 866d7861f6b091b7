package storage

import (
	"slices"
	"testing"
	"time"
)

// Who is inside: each person's last passage per area, however old, and
// none after the given time; the photos of each person's templates.
func TestLastPassagesAndPhotoHashes(t *testing.T) {
	forEachDB(t, func(t *testing.T, db *testDB) {
		rec := db.recorder()
		t0 := time.Date(2026, 11, 24, 9, 0, 0, 0, time.UTC)
		for _, e := range []Event{
			{AtMicro: t0.AddDate(0, -2, 0).UnixMicro(), PersonID: 1, PersonName: "A", Area: "lab", Direction: "in", Granted: true},
			{AtMicro: t0.Add(-time.Hour).UnixMicro(), PersonID: 2, PersonName: "B", Area: "lab", Direction: "in", Granted: true},
			{AtMicro: t0.Add(-time.Minute).UnixMicro(), PersonID: 2, PersonName: "B", Area: "lab", Direction: "out", Granted: true},
			{AtMicro: t0.Add(-time.Minute).UnixMicro(), PersonID: 2, PersonName: "B", Area: "office", Direction: "both", Granted: true},
			{AtMicro: t0.Add(-time.Minute).UnixMicro(), PersonID: 3, PersonName: "C", Area: "lab", Direction: "in", Granted: false},
			{AtMicro: t0.Add(time.Hour).UnixMicro(), PersonID: 4, PersonName: "D", Area: "lab", Direction: "in", Granted: true},
		} {
			e.Kind = KindGranted
			if _, err := rec.Record(e, nil, nil); err != nil {
				t.Fatal(err)
			}
		}
		last, err := db.LastPassages(t0)
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, e := range last {
			got = append(got, e.PersonName+" "+e.Area+" "+e.Direction)
		}
		if want := []string{"A lab in", "B lab out"}; !slices.Equal(got, want) {
			t.Fatalf("last passages %v, want %v", got, want)
		}

		p, err := db.Enroll("E1", "A", []NewTemplate{{Descriptor: make([]float32, 4), ModelVersion: "m", PhotoSHA256: "aa"},
			{Descriptor: make([]float32, 4), ModelVersion: "m", PhotoSHA256: "bb"}})
		if err != nil {
			t.Fatal(err)
		}
		hs, err := db.PhotoHashes([]int64{p.ID, 999})
		if err != nil || !slices.Equal(hs[p.ID], []string{"aa", "bb"}) || len(hs) != 1 {
			t.Fatalf("photo hashes %v %v", hs, err)
		}
		if ok, err := db.IsEnrolmentPhoto("bb"); !ok || err != nil {
			t.Fatalf("bb not an enrolment photo: %v", err)
		}
		if ok, _ := db.IsEnrolmentPhoto("cc"); ok {
			t.Fatal("cc taken for an enrolment photo")
		}
	})
}
