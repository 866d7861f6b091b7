package web

import (
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/facegate/facegate/storage"
)

// In Chromium: an admin opens a rule for editing from its row (prefilled)
// and saves a change in place; then, in Japanese, makes a PIN link on the
// People page, and the person sets their PIN through it.
func TestBrowserRuleEditAndPINLink(t *testing.T) {
	h := newFaceHarness(t)
	h.user("ada", storage.RoleAdmin)
	fillConsole(t, h)
	bctx, base, shot := browserOn(t, h)
	q := chromedp.ByQuery
	var name, link, done string
	var monChecked bool
	err := chromedp.Run(bctx,
		chromedp.Navigate(base+"/login"), chromedp.WaitVisible("#username", q),
		chromedp.SendKeys("#username", "ada", q), chromedp.SendKeys("#password", testPassword, q),
		chromedp.Click("#login", q), chromedp.WaitVisible("nav", q),
		chromedp.Navigate(base+"/rules"), chromedp.WaitVisible("#rule-form", q),
		chromedp.Click(`a.edit[href^="/rules?edit=rule"]`, q), chromedp.WaitReady(`#rule-form input[name=replace]`, q),
		chromedp.Value(`#rule-form input[name=name]`, &name, q),
		chromedp.JavascriptAttribute(`#rule-form input[name=days][value=Mon]`, "checked", &monChecked, q),
		shot("52-rule-edit"),
		chromedp.Click(`#rule-form input[name=days][value=Sat]`, q),
		chromedp.Click(`#rule-form button.save`, q), chromedp.WaitVisible(`#rule-form button:not(.save)`, q),
		chromedp.Navigate(base+"/lang/ja?next=/people"), chromedp.WaitVisible("#people", q),
		chromedp.Click(`#people form.pin-link button`, q), chromedp.WaitVisible("#pin-link", q),
		chromedp.AttributeValue("#pin-link", "href", &link, nil, q), shot("53-ja-pin-link"),
	)
	if err != nil {
		t.Fatalf("rule edit and PIN link: %v", err)
	}
	if name != "weekdays" || !monChecked {
		t.Errorf("rule opened for editing: name %q, Monday ticked %v", name, monChecked)
	}
	recs, _ := h.db.LoadPolicy()
	if len(recs.Rules) != 1 || recs.Rules[0].Windows != "Mon,Tue,Wed,Thu,Fri,Sat 08:00-20:00" {
		t.Errorf("rules after the edit: %+v", recs.Rules)
	}
	err = chromedp.Run(bctx, chromedp.Navigate(link), chromedp.WaitVisible("#pin-form", q),
		chromedp.SendKeys("#pin", "2580", q), chromedp.SendKeys("#pin2", "2580", q), chromedp.Click("#set-pin", q),
		chromedp.WaitVisible("#done", q), chromedp.Text("#done", &done, q), shot("54-ja-pin-set"))
	if err != nil {
		t.Fatalf("setting the PIN through the link: %v", err)
	}
	p, _ := h.db.PersonByEmployeeID("E001")
	if c, err := h.db.CheckPIN(p.ID, "2580", h.now()); err != nil || !c.OK || !strings.Contains(done, "暗証番号を設定しました") {
		t.Errorf("PIN set through the link: %+v %v; page %q", c, err, done)
	}
}
