package web

import (
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/facegate/facegate/storage"
)

// In Chromium, in Japanese: an admin adds a weekend rule with the pickers
// (a refused first try keeps every value), reads denials and the audit log
// in Japanese, and asks Presence for a reversed period.
func TestBrowserConsoleJapanese(t *testing.T) {
	h := newFaceHarness(t)
	h.user("ada", storage.RoleAdmin)
	fillConsole(t, h)
	bctx, base, shot := browserOn(t, h)
	q := chromedp.ByQuery
	// As the appliance publishes a decision to live pages.
	h.s.deps.Hub.PublishDecision(map[string]any{"time": "09:00:00", "person": "unknown", "result": "unknown_face",
		"granted": false, "distance": "0.712", "liveness": "not live"})
	var errText, name, reasons, audit, presence, live string
	var satChecked bool
	err := chromedp.Run(bctx,
		chromedp.Navigate(base+"/login"), chromedp.WaitVisible("#username", q),
		chromedp.SendKeys("#username", "ada", q), chromedp.SendKeys("#password", testPassword, q),
		chromedp.Click("#login", q), chromedp.WaitVisible("nav", q),
		chromedp.Navigate(base+"/lang/ja"), chromedp.Navigate(base+"/live"), chromedp.WaitVisible("#decisions", q),
		chromedp.Poll(`document.querySelectorAll('#decisions tbody tr').length > 0`, nil),
		chromedp.Text("#decisions tbody", &live, q),
		chromedp.Navigate(base+"/rules"), chromedp.WaitVisible("#rule-form", q),
		chromedp.SendKeys(`#rule-form input[name=name]`, "週末", q),
		chromedp.Click(`#rule-form input[name=doors][value="lab-in"]`, q),
		chromedp.Click(`#rule-form input[name=days][value=Sat]`, q),
		chromedp.Click(`#rule-form input[name=days][value=Sun]`, q),
		chromedp.SetValue(`#rule-form input[name=start]`, "10:00", q),
		// No end time: refused, the ticks and the name stay.
		chromedp.Click(`#rule-form button`, q), chromedp.WaitVisible("#error", q),
		chromedp.Text("#error", &errText, q), chromedp.Value(`#rule-form input[name=name]`, &name, q),
		chromedp.JavascriptAttribute(`#rule-form input[name=days][value=Sat]`, "checked", &satChecked, q),
		shot("40-ja-rules-refused"),
		chromedp.SetValue(`#rule-form input[name=end]`, "14:00", q),
		chromedp.Click(`#rule-form button`, q), chromedp.WaitNotPresent("#error", q),
		shot("41-ja-rules"),
		chromedp.Navigate(base+"/entries"), chromedp.WaitVisible("#entries", q), chromedp.Text("#entries", &reasons, q),
		shot("42-ja-entries"),
		chromedp.Navigate(base+"/audit"), chromedp.WaitVisible("#audit", q), chromedp.Text("#audit", &audit, q),
		shot("43-ja-audit"),
		chromedp.Navigate(base+"/presence?from=2026-11-24&to=2026-11-01"), chromedp.WaitVisible("#error", q),
		chromedp.Text("main", &presence, q), shot("44-ja-presence-reversed"),
	)
	if err != nil {
		t.Fatalf("console in Japanese: %v", err)
	}
	if !strings.Contains(live, "未登録の顔") || !strings.Contains(live, "非生体") || strings.Contains(live, "unknown") ||
		strings.Contains(live, "not live") {
		t.Errorf("live decision not in Japanese: %q", live)
	}
	if !strings.Contains(errText, "曜日を 1 つ以上選び") || name != "週末" || !satChecked {
		t.Errorf("refused rule: error %q, name kept %q, Saturday still ticked %v", errText, name, satChecked)
	}
	recs, _ := h.db.LoadPolicy()
	if len(recs.Rules) != 2 || recs.Rules[1].Windows != "Sat,Sun 10:00-14:00" {
		t.Errorf("rule saved from the pickers: %+v", recs.Rules)
	}
	for _, want := range []string{"時間帯 'weekdays' (月–金 08:00–20:00) の範囲外", "通行拒否", "扉が 45s 開いたままです"} {
		if !strings.Contains(reasons, want) {
			t.Errorf("entries lack %q", want)
		}
	}
	if !strings.Contains(audit, "アクセス権限の保存") || strings.Contains(audit, "policy_saved") {
		t.Errorf("audit log not in Japanese: %q", audit)
	}
	if !strings.Contains(presence, "期間が逆です") || !strings.Contains(presence, "現在の在室者") {
		t.Errorf("presence with a reversed period: %q", presence)
	}
}

// In Chromium: the people page shows the enrolment photo; erasing asks for
// the employee ID on a page of its own, then erases.
func TestBrowserPeopleErase(t *testing.T) {
	h := newFaceHarness(t)
	h.user("ada", storage.RoleAdmin)
	fill(t, h)
	bctx, base, shot := browserOn(t, h)
	q := chromedp.ByQuery
	var loaded bool
	var what, people string
	err := chromedp.Run(bctx,
		chromedp.Navigate(base+"/login"), chromedp.WaitVisible("#username", q),
		chromedp.SendKeys("#username", "ada", q), chromedp.SendKeys("#password", testPassword, q),
		chromedp.Click("#login", q), chromedp.WaitVisible("nav", q),
		chromedp.Navigate(base+"/people"), chromedp.WaitVisible("#people img.thumb", q),
		chromedp.Poll(`document.querySelector('#people img.thumb').complete`, nil),
		chromedp.Evaluate(`document.querySelector('#people img.thumb').naturalWidth > 0`, &loaded),
		shot("45-people-thumbnails"),
		chromedp.Click(`#people a.danger`, q), chromedp.WaitVisible("#erase-form", q),
		chromedp.Text("#erase-what", &what, q), shot("46-people-erase-confirm"),
		chromedp.SendKeys("#confirm_employee_id", "E001", q), chromedp.Click("#erase", q),
		chromedp.WaitVisible("#people", q), chromedp.Text("#people", &people, q),
	)
	if err != nil {
		t.Fatalf("people page: %v", err)
	}
	if !loaded || !strings.Contains(what, "Barack Obama (E001)") || strings.Contains(people, "Obama") {
		t.Errorf("thumbnail loaded %v; confirmation %q; people after erase %q", loaded, what, people)
	}
}
