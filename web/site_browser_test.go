package web

import (
	"strings"
	"testing"

	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"

	"github.com/facegate/facegate/storage"
)

// In Chromium, on a central with doors that pushed: the admin reads the
// doors page, makes a join token, acknowledges a door's alarm, filters
// the entries to one door and opens one with its snapshot; then the same
// in Japanese. axe finds nothing on the central's pages in either
// language, and they fit a tablet held upright.
func TestBrowserCentralConsole(t *testing.T) {
	src := axeSource(t)
	h := newHarness(t)
	h.user("ada", storage.RoleAdmin)
	_, back := fillSite(t, h)
	back.db.Append(storage.Event{Kind: storage.KindDenied, Door: "back"})
	h.db.ReceivePush(back.app.ID, storage.SitePush{Head: storage.ChainHead{Seq: 1, Hash: "0000"}}) // an alarm to acknowledge
	h.db.TouchAppliance(back.app.ID, -1, h.now())
	bctx, base, shot := browserOn(t, h)
	q := chromedp.ByQuery
	var token, rows, acked, ja string
	err := chromedp.Run(bctx,
		chromedp.Navigate(base+"/login"), chromedp.WaitVisible("#username", q),
		chromedp.SendKeys("#username", "ada", q), chromedp.SendKeys("#password", testPassword, q),
		chromedp.Click("#login", q), chromedp.WaitVisible("nav", q),
		chromedp.Click(`nav a[href="/doors"]`, q), chromedp.WaitVisible("#doors", q), shot("80-central-doors"),
		chromedp.SendKeys(`#join-form input[name=door]`, "lab", q), chromedp.Click(`#join-form button`, q),
		chromedp.WaitVisible("#token", q), chromedp.Text("#token", &token, q), shot("81-central-join-token"),
		chromedp.Click(`#site-alarms form button`, q), chromedp.WaitVisible(`//td[contains(., "acknowledged (ada)")]`, chromedp.BySearch),
		chromedp.Text("#site-alarms", &acked, q),
		chromedp.Navigate(base+"/entries"), chromedp.WaitVisible("#entries", q),
		chromedp.SetValue(`form.filters select[name=door]`, "front", q), chromedp.Click(`form.filters button`, q),
		chromedp.WaitReady(`form.filters option[value="front"][selected]`, q), chromedp.Text("#entries tbody", &rows, q), shot("82-central-entries-front"),
		chromedp.Click(`#entries img.thumb`, q), chromedp.WaitVisible("#frame", q), shot("83-central-entry"),
		chromedp.Navigate(base+"/lang/ja?next=/doors"), chromedp.WaitVisible("#doors", q),
		chromedp.Text("h1", &ja, q), shot("84-central-doors-ja"),
		chromedp.Navigate(base+"/entries"), chromedp.WaitVisible("#entries", q), shot("85-central-entries-ja"),
	)
	if err != nil {
		t.Fatalf("central console: %v", err)
	}
	if len(token) < 20 {
		t.Errorf("join token %q", token)
	}
	if !strings.Contains(acked, "acknowledged (ada)") {
		t.Errorf("alarm after acknowledging: %q", acked)
	}
	if !strings.Contains(rows, "front") || strings.Contains(rows, "back") {
		t.Errorf("entries of the front door: %q", rows)
	}
	if ja != "サイトの扉" {
		t.Errorf("doors page in Japanese: %q", ja)
	}
	for _, lang := range []string{"en", "ja"} {
		for _, p := range []string{"/doors", "/entries", "/presence", "/audit"} {
			var found []axeViolation
			err := chromedp.Run(bctx, chromedp.Navigate(base+"/lang/"+lang+"?next="+p), chromedp.WaitVisible("main", q),
				chromedp.Evaluate(src, nil),
				chromedp.Evaluate(axeRun, &found, func(p *runtime.EvaluateParams) *runtime.EvaluateParams { return p.WithAwaitPromise(true) }))
			if err != nil {
				t.Fatalf("%s (%s): %v", p, lang, err)
			}
			for _, v := range found {
				t.Errorf("%s (%s): %s (%s): %s at %s", p, lang, v.ID, v.Impact, v.Help, strings.Join(v.Targets, "; "))
			}
		}
	}
	// On a tablet held upright: no sideways scroll, 44 px touch targets.
	if err := chromedp.Run(bctx, emulation.SetDeviceMetricsOverride(768, 1024, 1, true), emulation.SetTouchEmulationEnabled(true)); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{"/doors", "/entries", "/audit"} {
		var sideways bool
		var small []string
		err := chromedp.Run(bctx, chromedp.Navigate(base+p), chromedp.WaitVisible("main", q),
			chromedp.Evaluate(`document.documentElement.scrollWidth > window.innerWidth`, &sideways),
			chromedp.Evaluate(`[...document.querySelectorAll('button')].filter(function (b) {
				return b.offsetParent !== null && b.getBoundingClientRect().height < 44; }).map(function (b) { return b.textContent.trim(); })`, &small),
			shot("86-central-tablet"+strings.ReplaceAll(p, "/", "-")))
		if err != nil {
			t.Fatalf("%s on a tablet: %v", p, err)
		}
		if sideways || len(small) > 0 {
			t.Errorf("%s on a 768 px tablet: scrolls sideways %v, buttons under 44 px %q", p, sideways, small)
		}
	}
}
