package storage

import (
	"errors"
	"strings"
	"testing"
)

func TestDocumentSavedAndAudited(t *testing.T) {
	forEachDB(t, func(t *testing.T, tdb *testDB) {
		r := tdb.recorder()
		if _, found, err := tdb.Document("alerts"); err != nil || found {
			t.Fatalf("empty store: found=%v err=%v", found, err)
		}
		for _, body := range []string{`{"rules":[1]}`, `{"rules":[2]}`} {
			if err := r.SaveDocument("alerts", body, "alice"); err != nil {
				t.Fatal(err)
			}
			got, found, err := tdb.Document("alerts")
			if err != nil || !found || got != body {
				t.Fatalf("Document = %q %v %v, want %q", got, found, err, body)
			}
		}
		log, err := tdb.AuditLog(10)
		if err != nil || len(log) != 2 || log[0].Code != "document_saved" || log[0].By != "alice" {
			t.Fatalf("audit = %+v, %v", log, err)
		}
		if err := r.SaveDocument("", "x", "a"); err == nil {
			t.Fatal("empty key accepted")
		}
		if err := r.SaveDocument("big", strings.Repeat("x", maxDocument+1), "a"); err == nil {
			t.Fatal("oversized document accepted")
		}
	})
}

func TestRemoveTemplateKeepsTheLast(t *testing.T) {
	forEachDB(t, func(t *testing.T, tdb *testDB) {
		r := tdb.recorder()
		ts := []NewTemplate{{Descriptor: []float32{1, 0}, ModelVersion: "m", PhotoSHA256: "a"},
			{Descriptor: []float32{0, 1}, ModelVersion: "m", PhotoSHA256: "b"}}
		p, err := tdb.Enroll("E1", "Aiko", ts)
		if err != nil {
			t.Fatal(err)
		}
		rows, _ := tdb.PersonTemplates(p.ID)
		if _, err := r.RemoveTemplate(p.ID+1, rows[0].ID, "alice"); err == nil {
			t.Fatal("removed a template through another person's ID")
		}
		got, err := r.RemoveTemplate(p.ID, rows[0].ID, "alice")
		if err != nil || got.PhotoSHA256 != "a" {
			t.Fatalf("RemoveTemplate = %+v, %v", got, err)
		}
		if _, err := r.RemoveTemplate(p.ID, rows[1].ID, "alice"); !errors.Is(err, ErrLastTemplate) {
			t.Fatalf("last template: err = %v, want ErrLastTemplate", err)
		}
		if n, _ := tdb.CountTemplates(p.ID); n != 1 {
			t.Fatalf("%d templates left, want 1", n)
		}
		log, _ := tdb.AuditLog(1)
		if len(log) != 1 || log[0].Code != "template_removed" {
			t.Fatalf("audit = %+v", log)
		}
	})
}
