package web

import (
	"context"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/chromedp/cdproto/emulation"
	cdppage "github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"

	"github.com/facegate/facegate/storage"
)

func privacyAudits(t *testing.T, h *harness) []storage.Event {
	t.Helper()
	log, err := h.db.AuditLog(100)
	if err != nil {
		t.Fatal(err)
	}
	return slices.DeleteFunc(log, func(e storage.Event) bool { return e.Code != privacyAction })
}

// The privacy notice is shown to anyone at /privacy in the reader's
// language, by default written from the retention settings in force; an
// admin's text for one language replaces it (audited, read back from the
// audit log by every server on the database), an empty one restores it;
// a text too long is refused and kept; nobody else may edit.
func TestPrivacyNotice(t *testing.T) {
	h := newHarness(t)
	h.user("ada", storage.RoleAdmin)
	h.user("vic", storage.RoleViewer)
	h.s.deps.Settings = &savingOwner{rec: h.rec, cur: storage.Settings{Retention: storage.RetentionPolicy{GrantSnapshotDays: 30, DenySnapshotDays: 90}}}
	anon := h.client()
	checkLanguages(t, anon, h.ts.URL, "/privacy", http.StatusOK)
	_, en := getPage(t, anon, h.ts.URL+"/privacy", "en")
	_, ja := getPage(t, anon, h.ts.URL+"/privacy", "ja")
	if !strings.Contains(en, "photos of granted entries for 30 days; photos of refusals and unknown faces for 90 days; entry records until erased") {
		t.Errorf("English default notice lacks the retention in force")
	}
	if !strings.Contains(ja, "許可された通行の写真は30日間、拒否および未登録の顔の写真は90日間、通行記録は削除まで") || !strings.Contains(ja, "利用目的") {
		t.Errorf("Japanese default notice lacks the purpose or the retention in force")
	}
	ada := h.login("ada")
	save := func(c *http.Client, lang, text, reader string) (int, string) {
		req, _ := http.NewRequest(http.MethodPost, h.ts.URL+"/settings/privacy", strings.NewReader(url.Values{
			"_csrf": {h.csrf(c, "/account")}, "lang": {lang}, "text": {text}}.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Accept", "text/html")
		req.Header.Set("Accept-Language", reader)
		return doBody(t, c, req)
	}
	if _, edit := getPage(t, ada, h.ts.URL+"/settings/privacy", "ja"); !strings.Contains(edit, "利用目的") || !strings.Contains(edit, `name="lang" value="ja"`) {
		t.Error("the Japanese edit page does not start from the Japanese default")
	}
	custom := "利用目的：入退室管理のみ。\n\nお問い合わせ：総務部 03-0000-0000"
	if code, _ := save(ada, "ja", custom, "ja"); code != http.StatusSeeOther {
		t.Fatalf("save: status %d", code)
	}
	save(ada, "ja", custom, "ja") // unchanged: not audited again
	if _, ja = getPage(t, anon, h.ts.URL+"/privacy", "ja"); !strings.Contains(ja, "総務部 03-0000-0000") {
		t.Error("the admin's Japanese notice is not shown")
	}
	if _, en = getPage(t, anon, h.ts.URL+"/privacy", "en"); !strings.Contains(en, "Purpose of use") {
		t.Error("the English notice changed with the Japanese one")
	}
	other, err := New(h.s.deps, Options{PlainHTTP: true}) // another server on the same database
	if err != nil {
		t.Fatal(err)
	}
	if text, custom, err := other.noticeIn("ja"); err != nil || !custom || !strings.Contains(text, "総務部") {
		t.Errorf("another server reads %q (custom %v, %v)", text, custom, err)
	}
	if a := privacyAudits(t, h); len(a) != 1 || a[0].By != "ada" || !strings.Contains(a[0].Detail, "総務部") {
		t.Errorf("the notice is not audited once: %+v", a)
	}
	code, body := save(ada, "ja", strings.Repeat("長", privacyMaxChars+1), "ja")
	if code != http.StatusUnprocessableEntity || !strings.Contains(body, "1901 文字あります") || !strings.Contains(body, strings.Repeat("長", 50)) {
		t.Errorf("a text too long: status %d, error in Japanese with the text kept: %v", code, strings.Contains(body, "1901"))
	}
	if code, _ := save(ada, "fr", "x", "en"); code != http.StatusBadRequest {
		t.Errorf("lang fr: status %d, want 400", code)
	}
	save(ada, "ja", "", "ja")
	if _, ja = getPage(t, anon, h.ts.URL+"/privacy", "ja"); !strings.Contains(ja, "利用目的：この扉は") {
		t.Error("an empty text did not restore the default")
	}
	vic := h.login("vic")
	if code, _ := get(t, vic, h.ts.URL+"/settings/privacy"); code != http.StatusForbidden {
		t.Errorf("a viewer opens the editor: status %d", code)
	}
	if code, _ := save(vic, "ja", "x", "ja"); code != http.StatusForbidden {
		t.Errorf("a viewer saves: status %d", code)
	}
	if code, _ := get(t, anon, h.ts.URL+"/settings/privacy"); code != http.StatusSeeOther {
		t.Errorf("the editor without a login: status %d, want 303 to /login", code)
	}
	if n := len(privacyAudits(t, h)); n != 2 {
		t.Errorf("%d privacy audit entries, want 2 (saved, restored)", n)
	}
}

func doBody(t *testing.T, c *http.Client, req *http.Request) (int, string) {
	t.Helper()
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, string(b)
}

var mediaBox = regexp.MustCompile(`/MediaBox \[0 0 ([\d.]+) ([\d.]+)\]`)

// Printed from Chromium without a login, the Japanese notice is one A4
// page (595×842 pt) without the console's header or buttons.
func TestBrowserPrivacyPrintsOnA4(t *testing.T) {
	h := newHarness(t)
	h.s.deps.Settings = &savingOwner{rec: h.rec, cur: storage.Settings{Retention: storage.RetentionPolicy{GrantSnapshotDays: 30, DenySnapshotDays: 90, EventDays: 365}}}
	bctx, base, shot := browserOn(t, h)
	var pdf []byte
	var headerShown, buttonShown string
	err := chromedp.Run(bctx,
		chromedp.Navigate(base+"/lang/ja"), chromedp.Navigate(base+"/privacy"), chromedp.WaitVisible("#privacy", chromedp.ByQuery),
		shot("60-ja-privacy"),
		chromedp.ActionFunc(func(ctx context.Context) error {
			var err error
			pdf, _, err = cdppage.PrintToPDF().WithPreferCSSPageSize(true).Do(ctx)
			return err
		}),
		emulation.SetEmulatedMedia().WithMedia("print"),
		chromedp.Evaluate(`getComputedStyle(document.querySelector('header')).display`, &headerShown),
		chromedp.Evaluate(`getComputedStyle(document.getElementById('print')).display`, &buttonShown),
	)
	if err != nil {
		t.Fatalf("privacy page: %v", err)
	}
	boxes := mediaBox.FindAllSubmatch(pdf, -1)
	if len(boxes) != 1 {
		t.Fatalf("the notice prints on %d pages, want 1", len(boxes))
	}
	w, _ := strconv.ParseFloat(string(boxes[0][1]), 64)
	ht, _ := strconv.ParseFloat(string(boxes[0][2]), 64)
	if w < 594 || w > 597 || ht < 841 || ht > 843 {
		t.Errorf("printed page %.1f×%.1f pt, want A4 595×842", w, ht)
	}
	if headerShown != "none" || buttonShown != "none" {
		t.Errorf("printed with the header (%s) or the print button (%s)", headerShown, buttonShown)
	}
}
