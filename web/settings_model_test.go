package web

import (
	"context"
	"fmt"
	"html"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/facegate/facegate/storage"
	"github.com/facegate/facegate/vision/eval"
)

// pairsOwner stands in for the appliance's model owner (which describes
// the kept photos with cgo): it calibrates fixed pair distances with the
// real eval.Calibrate.
type pairsOwner struct {
	info       ModelInfo
	pairs      eval.Pairs
	calibrated *bool
}

func (o pairsOwner) ModelInfo() ModelInfo { return o.info }

func (o pairsOwner) Calibrate(_ context.Context, far float64) (Calibration, error) {
	c, err := eval.Calibrate(o.pairs, far, eval.DefaultOptions.Safety)
	*o.calibrated = err == nil
	return Calibration{Calibration: c, Model: o.info.Name, People: 4, Photos: 7}, err
}

func (o pairsOwner) SitePairs() (SitePairs, bool) {
	return SitePairs{At: time.Date(2026, 11, 23, 16, 40, 0, 0, time.UTC), People: 4, Photos: 7,
		Genuine: slices.Sorted(slices.Values(o.pairs.Genuine)), Impostor: slices.Sorted(slices.Values(o.pairs.Impostor))}, *o.calibrated
}

// facepluginSafe is vision's faceplugin calibration (vision.CalibrationFor).
var facepluginSafe = &SafeRange{MaxThreshold: 0.445, MinMargin: 0.04, Faces: 130, GenuinePairs: 188, ImpostorPairs: 8197,
	Points: []RatePoint{{0.30, 0, 103}, {0.35, 0, 67}, {0.40, 0, 47}, {0.45, 1, 29}, {0.50, 1, 15}, {0.55, 4, 7}, {0.60, 29, 5}}}

// rangeOwner refuses rules outside the model's range as the appliance's
// settings owner does (SafeRange.Check before saving).
type rangeOwner struct {
	*savingOwner
	safe *SafeRange
}

func (o rangeOwner) SaveSettings(s storage.Settings, by string) error {
	if err := o.safe.Check("faceplugin", s.Threshold, s.Margin); err != nil {
		return err
	}
	return o.savingOwner.SaveSettings(s, by)
}

var facepluginInfo = ModelInfo{Name: "faceplugin", Version: "faceplugin-fr-feature/abc", Dim: 512, Metric: "cosine",
	Licence: "MIT", Training: "not stated by the publisher", ProvenanceUnknown: true}

func settingsHarness(t *testing.T, info ModelInfo) (*harness, *savingOwner) {
	h := newHarness(t)
	owner := &savingOwner{rec: h.rec, cur: storage.Settings{Model: info.Name, Threshold: 0.4, Margin: 0.05, Door: "front",
		Retention: storage.RetentionPolicy{GrantSnapshotDays: 90, DenySnapshotDays: 30, EventDays: 365}}}
	h.s.deps.Settings = owner
	h.s.deps.Model = pairsOwner{info: info, pairs: eval.Pairs{Genuine: []float64{0.2, 0.3, 0.45},
		Impostor: []float64{0.62, 0.55, 0.8, 0.71, 0.9, 0.66}}, calibrated: new(bool)}
	h.user("ada", storage.RoleAdmin)
	h.user("ivy", storage.RoleInvestigator)
	return h, owner
}

func getLang(t *testing.T, c *http.Client, u, lang string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, u, nil)
	req.Header.Set("Accept", "text/html")
	req.Header.Set("Accept-Language", lang)
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, html.UnescapeString(string(b))
}

// The settings page names the model in force, its licence and training
// data, and warns (in either language) when the provenance is unknown.
func TestSettingsShowModel(t *testing.T) {
	h, _ := settingsHarness(t, facepluginInfo)
	c := h.login("ivy")
	for _, lang := range []string{"en", "ja"} {
		code, body := getLang(t, c, h.ts.URL+"/settings", lang)
		want := []string{`id="model-name">faceplugin<`, "faceplugin-fr-feature/abc", "512 " + translate(lang, "settings.model.dims"),
			translate(lang, "settings.metric.cosine"), `id="model-licence">MIT<`, `id="model-training">not stated by the publisher<`,
			`id="provenance-warning">` + translate(lang, "settings.model.provenance")}
		for _, w := range want {
			if code != 200 || !strings.Contains(body, w) {
				t.Errorf("%s: status %d, page lacks %q", lang, code, w)
			}
		}
		if strings.Contains(body, missingPrefix) || strings.Contains(body, `id="calibrate"`) {
			t.Errorf("%s: missing translation, or calibration offered to an investigator", lang)
		}
	}
	dlib := ModelInfo{Name: "dlib", Version: "dlib-resnet-v1/x", Dim: 128, Metric: "euclidean", Licence: "CC0"}
	h, _ = settingsHarness(t, dlib)
	_, body := getLang(t, h.login("ada"), h.ts.URL+"/settings", "ja")
	if strings.Contains(body, "provenance-warning") || !strings.Contains(body, "128 次元, ユークリッド距離") ||
		!strings.Contains(body, translate("ja", "settings.model.training.no")) || !strings.Contains(body, `id="calibrate"`) {
		t.Errorf("dlib in Japanese: warning shown, metric or missing training statement wrong, or no calibration:\n%s", body)
	}
}

func postForm(t *testing.T, h *harness, c *http.Client, path, lang string, form url.Values) (int, string) {
	t.Helper()
	form.Set("_csrf", h.csrf(c, "/settings"))
	req, _ := http.NewRequest(http.MethodPost, h.ts.URL+path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "text/html")
	req.Header.Set("Accept-Language", lang)
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, html.UnescapeString(string(b))
}

// An admin calibrates, sees the recommendation with its support, and
// applies it: the threshold is saved through the settings owner, audited.
func TestSettingsCalibrateAndApply(t *testing.T) {
	h, owner := settingsHarness(t, facepluginInfo)
	if code, _ := postForm(t, h, h.login("ivy"), "/settings/calibrate", "en", url.Values{"target_far": {"0"}}); code != http.StatusForbidden {
		t.Fatalf("investigator calibrated: %d", code)
	}
	ada := h.login("ada")
	for _, bad := range []string{"1", "-0.1", "often"} {
		code, body := postForm(t, h, ada, "/settings/calibrate", "en", url.Values{"target_far": {bad}})
		if code != http.StatusUnprocessableEntity || !strings.Contains(body, "a number in [0, 1) expected") {
			t.Errorf("target FAR %q: %d", bad, code)
		}
	}
	want, _ := h.s.deps.Model.Calibrate(context.Background(), 0)
	for _, lang := range []string{"en", "ja"} {
		code, body := postForm(t, h, ada, "/settings/calibrate", lang, url.Values{"target_far": {"0"}})
		for _, w := range []string{`id="cal-threshold">0.53<`, `id="cal-far">0.0 %<`, `id="cal-fnmr">0.0 %<`,
			`name="threshold" value="0.53"`, fmt.Sprintf(translate(lang, "settings.cal.warning"), 6, 0.5)} {
			if code != 200 || !strings.Contains(body, w) {
				t.Errorf("%s: status %d, page lacks %q", lang, code, w)
			}
		}
		if float64(want.Threshold) != 0.53 || strings.Contains(body, missingPrefix) {
			t.Errorf("%s: eval recommends %v; missing translation?", lang, want.Threshold)
		}
	}
	if code, _ := postForm(t, h, ada, "/settings/threshold", "en", url.Values{"threshold": {"0.53"}}); code != http.StatusSeeOther {
		t.Fatalf("apply: %d", code)
	}
	if owner.saved != 1 || owner.cur.Threshold != 0.53 || owner.cur.Margin != 0.05 || owner.cur.Retention.EventDays != 365 {
		t.Fatalf("applied %+v (%d saves), want threshold 0.53 and the rest kept", owner.cur, owner.saved)
	}
	if code, body := postForm(t, h, ada, "/settings/threshold", "en", url.Values{"threshold": {"0.01"}}); code != http.StatusUnprocessableEntity ||
		!strings.Contains(body, "margin") || owner.saved != 1 {
		t.Fatalf("threshold under the margin: %d", code)
	}
	log, _ := h.db.AuditLog(5)
	if len(log) == 0 || log[0].Code != "settings_saved" || log[0].By != "ada" {
		t.Fatalf("audit %+v", log)
	}
}

// Issue 15, item 7: threshold 1.2 with margin 0 was saved. Now the
// settings owner refuses a rule outside the model's calibrated range; the
// page keeps what was entered and says, in the reader's language, what
// range to keep to; the check button shows the expected false-accept rate
// of the entered threshold without saving.
func TestSettingsUnsafeRuleRefused(t *testing.T) {
	info := facepluginInfo
	info.Safe = facepluginSafe
	h, owner := settingsHarness(t, info)
	h.s.deps.Settings = rangeOwner{owner, facepluginSafe}
	ada := h.login("ada")
	form := func(th, mg string) url.Values {
		return url.Values{"threshold": {th}, "margin": {mg}, "retain_grant": {"90"}, "retain_deny": {"30"}, "retain_events": {"365"}}
	}
	for _, lang := range []string{"en", "ja"} {
		code, body := postForm(t, h, ada, "/settings", lang, form("1.2", "0"))
		want := fmt.Sprintf(translate(lang, "settings.err.threshold"), 1.2, "faceplugin", 0.445, 0.445)
		if code != http.StatusUnprocessableEntity || !strings.Contains(body, want) || !strings.Contains(body, `name="threshold" value="1.2"`) ||
			!strings.Contains(body, `name="margin" value="0"`) {
			t.Errorf("%s: threshold 1.2 margin 0: status %d, want 422 with %q and the entered values", lang, code, want)
		}
		code, body = postForm(t, h, ada, "/settings", lang, form("0.40", "0"))
		if want := fmt.Sprintf(translate(lang, "settings.err.margin"), 0.0, "faceplugin", 0.04, 0.04); code != 422 || !strings.Contains(body, want) {
			t.Errorf("%s: margin 0: status %d, want %q", lang, code, want)
		}
	}
	if owner.saved != 0 || owner.cur.Threshold != 0.4 {
		t.Fatalf("an unsafe rule was saved: %+v", owner.cur)
	}
	// The check shows the rates at the entered threshold and saves nothing.
	code, body := postForm(t, h, ada, "/settings/check", "en", form("0.50", "0.05"))
	if code != 422 || !strings.Contains(body, `<tr id="far-model"><td>Calibration photos of faceplugin (130 faces)</td><td>1 of 8197 (0.01 %)</td><td>15 of 188 (7.98 %)</td>`) ||
		!strings.Contains(body, `id="far-unsafe"`) || !strings.Contains(body, `value="0.50"`) {
		t.Errorf("check 0.50: status %d, page:\n%s", code, body)
	}
	code, body = postForm(t, h, ada, "/settings/check", "ja", form("0.42", "0.05"))
	if code != 200 || !strings.Contains(body, "<td>8197 組中 0 組（0.00 %）</td><td>188 組中 29–47 組（15.43–25.00 %）</td>") ||
		strings.Contains(body, "far-unsafe") || strings.Contains(body, "far-site") {
		t.Errorf("check 0.42 in Japanese: status %d, page:\n%s", code, body)
	}
	// Once calibrated on the site's photos, both figures are shown.
	// The site's recommendation (0.53) is above the model's safe maximum:
	// shown, with why it cannot be applied, and no apply button.
	code, body = postForm(t, h, ada, "/settings/calibrate", "ja", url.Values{"target_far": {"0"}})
	if want := fmt.Sprintf(translate("ja", "settings.cal.unsafe"), 0.53, "faceplugin", 0.445, 0.445); code != 200 ||
		!strings.Contains(body, want) || strings.Contains(body, "apply-threshold") {
		t.Errorf("unsafe recommendation: status %d, want %q and no apply button", code, want)
	}
	code, body = postForm(t, h, ada, "/settings/check", "en", form("0.44", "0.05"))
	if code != 200 || !strings.Contains(body, `<tr id="far-site"><td>Your enrolled photos (4 people, 7 photos; calibrated 2026-11-23 16:40)</td><td>0 of 6 (0.00 %)</td><td>1 of 3 (33.33 %)</td>`) {
		t.Errorf("check 0.44 after calibration: status %d, page:\n%s", code, body)
	}
	if owner.saved != 0 {
		t.Fatalf("check saved: %+v", owner.cur)
	}
	if code, _ := postForm(t, h, ada, "/settings", "en", form("0.44", "0.05")); code != http.StatusSeeOther || owner.cur.Threshold != 0.44 {
		t.Fatalf("safe rule: %d, in force %+v", code, owner.cur)
	}
}
