package web

import (
	"context"
	"fmt"
	"html"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/facegate/facegate/storage"
	"github.com/facegate/facegate/vision/eval"
)

// pairsOwner stands in for the appliance's model owner (which describes
// the kept photos with cgo): it calibrates fixed pair distances with the
// real eval.Calibrate.
type pairsOwner struct {
	info  ModelInfo
	pairs eval.Pairs
}

func (o pairsOwner) ModelInfo() ModelInfo { return o.info }

func (o pairsOwner) Calibrate(_ context.Context, far float64) (Calibration, error) {
	c, err := eval.Calibrate(o.pairs, far, eval.DefaultOptions.Safety)
	return Calibration{Calibration: c, Model: o.info.Name, People: 4, Photos: 7}, err
}

var facepluginInfo = ModelInfo{Name: "faceplugin", Version: "faceplugin-fr-feature/abc", Dim: 512, Metric: "cosine",
	Licence: "MIT", Training: "not stated by the publisher", ProvenanceUnknown: true}

func settingsHarness(t *testing.T, info ModelInfo) (*harness, *savingOwner) {
	h := newHarness(t)
	owner := &savingOwner{rec: h.rec, cur: storage.Settings{Model: info.Name, Threshold: 0.4, Margin: 0.05, Door: "front",
		Retention: storage.RetentionPolicy{GrantSnapshotDays: 90, DenySnapshotDays: 30, EventDays: 365}}}
	h.s.deps.Settings = owner
	h.s.deps.Model = pairsOwner{info: info, pairs: eval.Pairs{Genuine: []float64{0.2, 0.3, 0.45},
		Impostor: []float64{0.62, 0.55, 0.8, 0.71, 0.9, 0.66}}}
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
