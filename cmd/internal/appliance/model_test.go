package appliance

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/facegate/facegate/gate/identity"
	"github.com/facegate/facegate/models/modeltest"
	"github.com/facegate/facegate/storage"
	"github.com/facegate/facegate/vision"
	"github.com/facegate/facegate/vision/eval"
	"github.com/facegate/facegate/web"
)

// calPeople are enrolled for the calibration tests: five with two photos
// (genuine and impostor pairs), one with a single photo (impostor only).
var calPeople = map[string][]string{"cn101": {"1", "2"}, "cn102": {"1", "2"}, "cn103": {"1", "2"}, "cn104": {"1", "3"},
	"cn105": {"2", "3"}, "cn106": {"1"}}

// testAppliance starts a faceplugin appliance on a fresh data directory
// (real SQLite, the demo clip as camera) and enrols calPeople through its
// identity service, which keeps their photos.
func testAppliance(t *testing.T) *Appliance {
	t.Helper()
	td := modeltest.Testdata(t)
	cfg := Config{DataDir: t.TempDir(), ModelsDir: modeltest.ModelsDir(t), Rule: vision.FacepluginRule, Embedder: vision.EmbedderFaceplugin,
		Source: filepath.Join(td, "video", "short_hamilton_clip.mp4"), OpenTime: time.Second, SiteTZ: "UTC",
		Retention: storage.RetentionPolicy{EventDays: 365}, Web: web.Options{Addr: "127.0.0.1:0", PlainHTTP: true}}
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	a, err := New(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { a.Close() })
	for person, ns := range calPeople {
		var photos []identity.Photo
		for _, n := range ns {
			b, err := os.ReadFile(filepath.Join(td, "faces-eastasia", person, n+".jpg"))
			if err != nil {
				t.Fatal(err)
			}
			photos = append(photos, identity.Photo{Name: person + "/" + n + ".jpg", Data: b})
		}
		if _, err := a.recog.svc.Enrol("E-"+person, person, photos); err != nil {
			t.Fatal(err)
		}
	}
	return a
}

// keptPhotoDirs writes every person's kept enrolment photos (read back by
// person, not through TemplateSources) into DIR/<employee id>/ for
// eval.LoadDirs: the same photos by another path.
func keptPhotoDirs(t *testing.T, a *Appliance) string {
	t.Helper()
	dir := t.TempDir()
	people, err := a.db.SearchPeople("", 100)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range people {
		ts, err := a.db.PersonTemplates(p.ID)
		if err != nil {
			t.Fatal(err)
		}
		os.MkdirAll(filepath.Join(dir, p.EmployeeID), 0o755)
		for i, tpl := range ts {
			b, err := a.cfg.Snapshots().Get(tpl.PhotoSHA256)
			if err != nil {
				t.Fatal(err)
			}
			os.WriteFile(filepath.Join(dir, p.EmployeeID, fmt.Sprintf("%d.jpg", i)), b, 0o644)
		}
	}
	return dir
}

// The Settings page's calibration reads the enrolled people's kept photos
// and recommends what eval computes on those photos directly; applying it
// through the settings owner puts it in force.
func TestCalibrateEnrolledPhotos(t *testing.T) {
	a := testAppliance(t)
	owner := modelOwner{emb: a.recog.rec, modelsDir: a.cfg.ModelsDir, db: a.db, photos: a.cfg.Snapshots()}
	got, err := owner.Calibrate(context.Background(), 0)
	if err != nil {
		t.Fatal(err)
	}
	set, _, err := eval.LoadDirs(keptPhotoDirs(t, a))
	if err != nil {
		t.Fatal(err)
	}
	want, err := eval.CalibrateSet(context.Background(), EvalModel(a.recog.rec, vision.FacepluginRule), set, 0, eval.DefaultOptions.Safety)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("site calibration: %+v", got)
	// 11 photos: 55 pairs, 5 of them genuine.
	if got.Calibration != want || got.People != 6 || got.Photos != 11 || got.ImpostorPairs != 50 || got.GenuinePairs != 5 ||
		got.Warning == "" || got.Model != "faceplugin" {
		t.Fatalf("calibration %+v\nwant %+v from eval directly (6 people, 11 photos, 50 impostor pairs)", got, want)
	}
	st := a.Settings()
	if float64(got.Threshold) == st.Threshold {
		t.Fatalf("recommendation %.2f is the rule in force already: the apply check would prove nothing", got.Threshold)
	}
	st.Threshold = float64(got.Threshold)
	if err := a.settings.SaveSettings(st, "ada"); err != nil {
		t.Fatal(err)
	}
	if a.recog.svc.Rule.Threshold != float64(got.Threshold) || a.Settings().Threshold != float64(got.Threshold) {
		t.Fatalf("applied %.2f, identity rule in force %+v", got.Threshold, a.recog.svc.Rule)
	}
	log, _ := a.db.AuditLog(1)
	if len(log) != 1 || log[0].Code != "settings_saved" || log[0].By != "ada" {
		t.Fatalf("apply not audited: %+v", log)
	}
}

// The model in force is described with the manifest's licence and
// training statement; faceplugin's unknown provenance is flagged.
func TestModelInfoFromManifest(t *testing.T) {
	dir := modeltest.ModelsDir(t)
	fp, err := vision.OpenEmbedder(dir, vision.EmbedderFaceplugin)
	if err != nil {
		t.Fatal(err)
	}
	defer fp.Close()
	mi := ModelInfoOf(fp.Info(), dir)
	if mi.Name != "faceplugin" || mi.Dim != 512 || mi.Metric != "cosine" || !mi.ProvenanceUnknown ||
		!strings.Contains(mi.Licence, "MIT") || mi.Training == "" || mi.Version != fp.ModelVersion() {
		t.Fatalf("faceplugin: %+v", mi)
	}
}

// Too few people enrolled: a clear error, not a threshold from nothing.
func TestCalibrateNeedsTwoPeople(t *testing.T) {
	db, _ := openDB(t)
	fp, err := vision.OpenEmbedder(modeltest.ModelsDir(t), vision.EmbedderFaceplugin)
	if err != nil {
		t.Fatal(err)
	}
	defer fp.Close()
	_, err = CalibrateEnrolled(context.Background(), db, storage.SnapshotStore{Dir: t.TempDir()}, fp, 0, 0.02)
	if err == nil || !strings.Contains(err.Error(), "enrol at least two people") {
		t.Fatalf("no one enrolled: %v", err)
	}
}
