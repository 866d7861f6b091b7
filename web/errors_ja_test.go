package web

import (
	"html"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/facegate/facegate/storage"
)

// Each refusal a Japanese reader can provoke on the rules and settings
// pages is in Japanese: the gate's checks of a whole policy and the
// settings' ranges, which used to reach the page as English.
func TestErrorPathsInJapanese(t *testing.T) {
	h := newHarness(t)
	h.s.deps.Settings = &savingOwner{rec: h.rec, cur: storage.Settings{Threshold: 0.5, Margin: 0.06, Door: "front",
		Retention: storage.RetentionPolicy{GrantSnapshotDays: 90, DenySnapshotDays: 30, EventDays: 365}}}
	h.user("ada", storage.RoleAdmin)
	c := h.login("ada")
	get(t, c, h.ts.URL+"/lang/ja")
	if code, _ := h.postForm(c, "/rules", "/rules/area", url.Values{"name": {"lab"}}); code != http.StatusSeeOther {
		t.Fatalf("area: %d", code)
	}
	door := func(k, v string) url.Values {
		f := url.Values{"id": {"d1"}, "name": {"Lab"}, "area": {"lab"}, "direction": {"in"}, "open_ms": {"3000"}, "level": {"face"}}
		f.Set(k, v)
		return f
	}
	settings := func(k, v string) url.Values {
		f := url.Values{"threshold": {"0.45"}, "margin": {"0.08"}, "retain_grant": {"60"}, "retain_deny": {"14"}, "retain_events": {"180"}}
		f.Set(k, v)
		return f
	}
	for _, tc := range []struct {
		page, path string
		form       url.Values
		want       string
	}{
		{"/rules", "/rules/door", door("direction", "sideways"), `扉 "d1": 方向 "sideways" は使えません`},
		{"/rules", "/rules/door", door("level", "face+iris"), `セキュリティレベル "face+iris" は使えません`},
		{"/rules", "/rules/door", door("open_ms", "0"), `扉 "d1": 解錠時間 0s が範囲 (0, `},
		{"/rules", "/rules/door", door("area", "attic"), `扉 "d1": エリア "attic" はありません`},
		{"/settings", "/settings", settings("threshold", "abc"), `各欄には数値を入力してください（"abc" は数値ではありません）`},
		{"/settings", "/settings", settings("threshold", "1.3"), `設定: しきい値 1.300 が範囲 (0, 1.2] の外です`},
		{"/settings", "/settings", settings("margin", "0.6"), `設定: マージン 0.600 が範囲 [0, しきい値) の外です`},
		{"/settings", "/settings", settings("retain_deny", "-1"), `設定: 保存日数は負にできません`},
		{"/settings", "/settings/threshold", url.Values{"threshold": {"x"}}, `しきい値 "x": 0.35 のような数値`},
	} {
		code, body := h.postForm(c, tc.page, tc.path, tc.form)
		msg := html.UnescapeString(between(body, `id="error"`, "</p>"))
		if code != http.StatusUnprocessableEntity || !strings.Contains(msg, tc.want) {
			t.Errorf("%s %v: %d %q, want 422 saying %q", tc.path, tc.form, code, msg, tc.want)
		}
	}
}

// A rename refused on the people page says why in Japanese.
func TestRenameRefusedInJapanese(t *testing.T) {
	h := newHarness(t)
	h.user("ada", storage.RoleAdmin)
	p, err := h.db.Enroll("E7", "Hanako", []storage.NewTemplate{{Descriptor: make([]float32, 128), ModelVersion: "m", SourceName: "a.jpg"}})
	if err != nil {
		t.Fatal(err)
	}
	c := h.login("ada")
	get(t, c, h.ts.URL+"/lang/ja")
	code, body := h.postForm(c, "/people", "/people/"+itoa(p.ID)+"/rename", url.Values{"name": {strings.Repeat("名", 201)}})
	if msg := html.UnescapeString(between(body, `id="error"`, "</p>")); code != http.StatusUnprocessableEntity || !strings.Contains(msg, "名前は 1〜200 文字にしてください") {
		t.Errorf("rename refused: %d %q", code, msg)
	}
}

// An entries filter with a day that is not a date, and an export for an
// unknown employee ID, are explained in Japanese on the error page.
func TestEntriesErrorsInJapanese(t *testing.T) {
	h := newHarness(t)
	h.user("ivy", storage.RoleInvestigator)
	c := h.login("ivy")
	get(t, c, h.ts.URL+"/lang/ja")
	code, body := get(t, c, h.ts.URL+"/entries?from=yesterday")
	if msg := html.UnescapeString(between(body, `id="error"`, "</p>")); code != http.StatusBadRequest || !strings.Contains(msg, "「yesterday」は日付ではありません") {
		t.Errorf("bad day: %d %q", code, msg)
	}
	code, body = h.postForm(c, "/entries", "/entries/export", url.Values{"person": {"X9"}})
	if msg := html.UnescapeString(between(body, `id="error"`, "</p>")); code != http.StatusNotFound || !strings.Contains(msg, "社員番号 X9 の人物はいません") {
		t.Errorf("unknown employee: %d %q", code, msg)
	}
}
