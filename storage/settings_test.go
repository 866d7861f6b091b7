package storage

import (
	"path/filepath"
	"testing"
)

// A rule saved for one descriptor model is never applied to another: their
// distances are not comparable (dlib Euclidean 0.50, faceplugin cosine 0.40).
// Rules saved before models could be chosen (unqualified keys) are dlib's.
func TestSettingsRulePerModel(t *testing.T) {
	dir := t.TempDir()
	db, err := Open(filepath.Join(dir, "f.db"), Options{KeyDir: filepath.Join(dir, "keys")})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	rec := &Recorder{DB: db, Keys: db.Keys}
	dlib := Settings{Model: "dlib", Threshold: 0.45, Margin: 0.05, Door: "front"}
	if err := rec.SaveSettings(dlib, "test"); err != nil {
		t.Fatal(err)
	}
	fpDef := Settings{Model: "faceplugin", Threshold: 0.40, Margin: 0.03, Door: "front"}
	got, err := db.LoadSettings(fpDef)
	if err != nil || got.Threshold != 0.40 || got.Margin != 0.03 {
		t.Fatalf("faceplugin got dlib's rule: %+v %v", got, err)
	}
	fp := fpDef
	fp.Threshold = 0.35
	if err := rec.SaveSettings(fp, "test"); err != nil {
		t.Fatal(err)
	}
	if got, _ := db.LoadSettings(fpDef); got.Threshold != 0.35 {
		t.Fatalf("faceplugin rule not stored under its model: %+v", got)
	}
	if got, _ := db.LoadSettings(Settings{Model: "dlib", Threshold: 0.5, Door: "front"}); got.Threshold != 0.45 || got.Margin != 0.05 {
		t.Fatalf("dlib rule lost: %+v", got)
	}
	if got, _ := db.LoadSettings(Settings{Threshold: 0.5, Door: "front"}); got.Threshold != 0.45 {
		t.Fatalf("unqualified keys are dlib's: %+v", got)
	}
}
