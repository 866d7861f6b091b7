package appliance

import (
	"context"
	"errors"
	"fmt"
	"html"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
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

// calPeople are enrolled for the calibration tests: six with two photos
// (genuine and impostor pairs), two with a single photo (impostor only).
// cn108/4 and cn109/3 are the calibration photos' closest impostor pair
// (0.446 with faceplugin), so the site's recommendation lies in the
// model's safe range and can be applied.
var calPeople = map[string][]string{"cn101": {"1", "2"}, "cn102": {"1", "2"}, "cn103": {"1", "2"}, "cn104": {"1", "3"},
	"cn105": {"2", "3"}, "cn106": {"1"}, "cn108": {"1", "4"}, "cn109": {"3"}}

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
		if _, err := a.recog.svc.Enroll("E-"+person, person, photos); err != nil {
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
	if _, ok := a.model.SitePairs(); ok {
		t.Fatal("site pairs before any calibration")
	}
	got, err := a.model.Calibrate(context.Background(), 0)
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
	// 14 photos: 91 pairs, 6 of them genuine.
	if got.Calibration != want || got.People != 8 || got.Photos != 14 || got.ImpostorPairs != 85 || got.GenuinePairs != 6 ||
		got.Warning == "" || got.Model != "faceplugin" {
		t.Fatalf("calibration %+v\nwant %+v from eval directly (8 people, 14 photos, 85 impostor pairs)", got, want)
	}
	if sp, ok := a.model.SitePairs(); !ok || len(sp.Impostor) != 85 || sp.Impostor[0] != float64(got.Quantile) {
		t.Fatalf("site pairs kept for the preview: %v, %d impostor pairs", ok, len(sp.Impostor))
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
	if c, _ := vision.CalibrationFor("faceplugin"); mi.Safe == nil || mi.Safe.MaxThreshold != c.SafeMaxThreshold ||
		mi.Safe.MinMargin != c.MinMargin || len(mi.Safe.Points) != len(c.Points) || mi.Safe.Points[2].GenuineRefused != c.Points[2].GenuineRefused {
		t.Fatalf("faceplugin's safe range %+v, want vision's calibration %+v", mi.Safe, c)
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

// Issue 15, item 7: threshold 1.2 with margin 0 was saved and a stranger
// at 0.827 then matched. The appliance's settings owner now refuses a
// rule outside the model's calibrated range, at the owner and through the
// settings page; the rule in force does not change.
func TestUnsafeRuleRefused(t *testing.T) {
	a := testAppliance(t)
	before := a.Settings()
	unsafe := before
	unsafe.Threshold, unsafe.Margin = 1.2, 0
	var re *web.RangeError
	err := a.settings.SaveSettings(unsafe, "ada")
	if !errors.As(err, &re) || re.Field != "threshold" || re.Limit != 0.445 || !strings.Contains(err.Error(), "enter a threshold in (0, 0.445]") {
		t.Fatalf("threshold 1.2 margin 0 at the owner: %v", err)
	}
	unsafe.Threshold = 0.40
	if err := a.settings.SaveSettings(unsafe, "ada"); !errors.As(err, &re) || re.Field != "margin" || re.Limit != 0.04 {
		t.Fatalf("margin 0 at the owner: %v", err)
	}
	if a.Settings() != before || a.recog.svc.Rule.Threshold != before.Threshold {
		t.Fatalf("refused rule in force: %+v", a.Settings())
	}

	ts := httptest.NewServer(a.web.Handler())
	defer ts.Close()
	if err := a.db.CreateUser("ada", "correct horse battery", storage.RoleAdmin); err != nil {
		t.Fatal(err)
	}
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	post := func(path string, form url.Values) (int, string) {
		page := "/settings" // the token of the page the form is on
		if path == "/login" {
			page = path
		}
		form.Set("_csrf", csrfOf(t, c, ts.URL+page))
		resp, err := c.PostForm(ts.URL+path, form)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, html.UnescapeString(string(b))
	}
	if code, _ := post("/login", url.Values{"username": {"ada"}, "password": {"correct horse battery"}}); code != http.StatusSeeOther {
		t.Fatalf("login: %d", code)
	}
	form := url.Values{"threshold": {"1.2"}, "margin": {"0"}, "retain_grant": {"90"}, "retain_deny": {"30"}, "retain_events": {"365"}}
	code, body := post("/settings", form)
	if code != http.StatusUnprocessableEntity || !strings.Contains(body, "Threshold 1.200 refused") || !strings.Contains(body, "at most 0.445") ||
		!strings.Contains(body, `name="threshold" value="1.2"`) {
		t.Fatalf("threshold 1.2 margin 0 through the page: %d\n%s", code, body)
	}
	if a.Settings() != before {
		t.Fatalf("saved through the page: %+v", a.Settings())
	}
	// Calibrate on the enrolled photos and apply the recommendation (0.42,
	// in the range) with the page's button: it is the rule in force.
	code, body = post("/settings/calibrate", url.Values{"target_far": {"0"}})
	if code != http.StatusOK || !strings.Contains(body, `id="cal-threshold">0.42<`) || !strings.Contains(body, `name="threshold" value="0.42"`) {
		t.Fatalf("calibrate through the page: %d\n%s", code, body)
	}
	if code, body := post("/settings/threshold", url.Values{"threshold": {"0.42"}}); code != http.StatusSeeOther || a.recog.svc.Rule.Threshold != 0.42 {
		t.Fatalf("apply: %d, in force %+v\n%s", code, a.recog.svc.Rule, body)
	}
}

var csrfRE = regexp.MustCompile(`name="csrf-token" content="([^"]+)"`)

func csrfOf(t *testing.T, c *http.Client, u string) string {
	t.Helper()
	resp, err := c.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	m := csrfRE.FindSubmatch(b)
	if m == nil {
		t.Fatalf("no CSRF token on %s (status %d)", u, resp.StatusCode)
	}
	return string(m[1])
}

// A rule saved before the range was enforced (1.2, margin 0) does not
// come back into force at start: the flags' rule does; the rest of the
// stored settings still apply.
func TestStoredUnsafeRuleNotLoaded(t *testing.T) {
	db, rec := openDB(t)
	def := storage.Settings{Model: "faceplugin", Threshold: 0.4, Margin: 0.05, Door: "front", Retention: storage.RetentionPolicy{EventDays: 365}}
	if err := rec.SaveSettings(storage.Settings{Model: "faceplugin", Threshold: 1.2, Margin: 0, Door: "front",
		Retention: storage.RetentionPolicy{EventDays: 30}}, "before"); err != nil {
		t.Fatal(err)
	}
	o := newSettingsOwner(db, rec, def, discard(), func(storage.Settings) error { return nil })
	o.safe = safeRangeFor("faceplugin")
	if err := o.Load(); err != nil || o.Settings().Threshold != 0.4 || o.Settings().Margin != 0.05 || o.Settings().Retention.EventDays != 30 {
		t.Fatalf("loaded %+v (%v): want the flags' rule 0.4/0.05 and the stored retention", o.Settings(), err)
	}
}

// dlib's default rule lies outside dlib's safe range. In force from the
// flags, it must not block saving the other settings (only a changed rule
// must keep to the range), and the page says it is unsafe.
func TestRuleInForceOutsideRange(t *testing.T) {
	cfg := Config{DataDir: t.TempDir(), ModelsDir: modeltest.ModelsDir(t), Rule: vision.DefaultRule, Embedder: vision.EmbedderDlib,
		Source: filepath.Join(modeltest.Testdata(t), "video", "short_hamilton_clip.mp4"), OpenTime: time.Second, SiteTZ: "UTC",
		Retention: storage.RetentionPolicy{EventDays: 365}, Web: web.Options{Addr: "127.0.0.1:0", PlainHTTP: true}}
	a, err := New(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	st := a.Settings()
	if st.Threshold != vision.DefaultThreshold || a.settings.safe == nil || a.settings.safe.Check(st.Model, st.Threshold, st.Margin) == nil {
		t.Fatalf("premise: dlib's default %+v should lie outside its safe range %+v", st, a.settings.safe)
	}
	st.Retention.EventDays, st.Liveness = 400, true
	if err := a.settings.SaveSettings(st, "ada"); err != nil {
		t.Fatalf("saving retention and liveness with the rule in force: %v", err)
	}
	if a.Settings().Retention.EventDays != 400 {
		t.Fatalf("retention not in force: %+v", a.Settings())
	}
	st.Threshold = 0.49
	var re *web.RangeError
	if err := a.settings.SaveSettings(st, "ada"); !errors.As(err, &re) {
		t.Fatalf("a changed rule outside the range: %v, want a RangeError", err)
	}
	ts := httptest.NewServer(a.web.Handler())
	defer ts.Close()
	if err := a.db.CreateUser("ada", "correct horse battery", storage.RoleAdmin); err != nil {
		t.Fatal(err)
	}
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	form := url.Values{"username": {"ada"}, "password": {"correct horse battery"}, "_csrf": {csrfOf(t, c, ts.URL+"/login")}}
	if resp, err := c.PostForm(ts.URL+"/login", form); err != nil || resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("login: %v %v", resp, err)
	}
	resp, err := c.Get(ts.URL + "/settings")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if page := html.UnescapeString(string(b)); !strings.Contains(page, `id="inforce-unsafe"`) || !strings.Contains(page, "outside dlib's safe range") {
		t.Fatalf("settings page does not warn about the rule in force:\n%s", page)
	}
}
