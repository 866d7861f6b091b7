package web

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"

	"github.com/facegate/facegate/storage"
)

// axeDir holds axe-core, pinned with its integrity in package-lock.json.
const axeDir = "testdata/axe"

// axeSource is axe.min.js, installed with `npm ci` from the lockfile when
// it is not there yet (npm checks the pinned integrity).
func axeSource(t *testing.T) string {
	t.Helper()
	js := filepath.Join(axeDir, "node_modules", "axe-core", "axe.min.js")
	if _, err := os.Stat(js); err != nil {
		cmd := exec.Command("npm", "ci", "--no-audit", "--no-fund", "--prefix", axeDir)
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("axe-core is needed for the accessibility test: `npm ci --prefix web/testdata/axe` failed: %v\n%s", err, out)
		}
	}
	b, err := os.ReadFile(js)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// axeViolation is what the test reports of one serious or critical rule.
type axeViolation struct {
	ID      string   `json:"id"`
	Impact  string   `json:"impact"`
	Help    string   `json:"help"`
	Targets []string `json:"targets"`
}

// axeRun runs axe-core on the page (evaluated through DevTools, which the
// page's CSP does not govern) and returns its serious and critical
// violations.
const axeRun = `axe.run(document, {resultTypes: ['violations']}).then(function (r) {
  return r.violations.filter(function (v) { return v.impact === 'serious' || v.impact === 'critical'; })
    .map(function (v) { return {id: v.id, impact: v.impact, help: v.help,
      targets: v.nodes.slice(0, 5).map(function (n) { return String(n.target); })}; });
})`

// Every page, in English and Japanese, has no serious or critical
// accessibility violation by axe-core in Chromium.
func TestBrowserAccessibility(t *testing.T) {
	src := axeSource(t)
	h := newFaceHarness(t)
	h.user("ada", storage.RoleAdmin)
	fillConsole(t, h)
	withKeypad(t, h)
	if _, err := h.db.AddWebhook(storage.Webhook{URL: "https://example.com/hook", Secret: "0123456789abcdef0", Enabled: true}); err != nil {
		t.Fatal(err)
	}
	pinCode, err := h.db.NewOneTimeLink(purposePINLink, "1", h.now().Add(time.Hour), "ada")
	if err != nil {
		t.Fatal(err)
	}
	bctx, base, _ := browserOn(t, h)
	q := chromedp.ByQuery
	checked := 0
	check := func(path string) {
		var found []axeViolation
		err := chromedp.Run(bctx, chromedp.Navigate(base+path), chromedp.WaitVisible("main", q),
			chromedp.Evaluate(src, nil),
			chromedp.Evaluate(axeRun, &found, func(p *runtime.EvaluateParams) *runtime.EvaluateParams { return p.WithAwaitPromise(true) }))
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		checked++
		for _, v := range found {
			t.Errorf("%s: %s (%s): %s at %s", path, v.ID, v.Impact, v.Help, strings.Join(v.Targets, "; "))
		}
	}
	for _, lang := range []string{"en", "ja"} {
		if err := chromedp.Run(bctx, chromedp.Navigate(base+"/lang/"+lang)); err != nil {
			t.Fatal(err)
		}
		check("/login")
		check("/privacy")
	}
	if err := chromedp.Run(bctx, chromedp.Navigate(base+"/login"), chromedp.WaitVisible("#username", q),
		chromedp.SendKeys("#username", "ada", q), chromedp.SendKeys("#password", testPassword, q),
		chromedp.Click("#login", q), chromedp.WaitVisible("nav", q)); err != nil {
		t.Fatal(err)
	}
	// This browser is also a tablet paired as the door's keypad.
	var link string
	if err := chromedp.Run(bctx, chromedp.Navigate(base+"/keypad"), chromedp.Click("#pair", q), chromedp.WaitVisible("#pairing-link", q),
		chromedp.AttributeValue("#pairing-link", "href", &link, nil, q)); err != nil {
		t.Fatal(err)
	}
	if err := chromedp.Run(bctx, chromedp.Navigate(link), chromedp.WaitVisible("#tablet-name", q),
		chromedp.SendKeys("#tablet-name", "entrance", q), chromedp.Click("#join", q), chromedp.WaitVisible("#keypad", q)); err != nil {
		t.Fatalf("pairing with %q: %v", link, err)
	}
	pages := []string{"/", "/live", "/presence", "/entries", "/entries/3", "/people", "/people/1/erase", "/people/webcam",
		"/rules", "/audit", "/users", "/account", "/settings", "/settings/privacy", "/privacy",
		"/webhooks", "/webhooks/1", "/alerts", "/keypad", "/keypad/pad", "/pin?code=" + pinCode}
	for _, lang := range []string{"en", "ja"} {
		if err := chromedp.Run(bctx, chromedp.Navigate(base+"/lang/"+lang)); err != nil {
			t.Fatal(err)
		}
		for _, p := range pages {
			check(p)
		}
	}
	if checked != 2*2+2*len(pages) {
		t.Errorf("axe ran on %d pages, want %d", checked, 2*2+2*len(pages))
	}
}

// On a tablet held upright (768×1024, touch), no page scrolls sideways
// (a wide table scrolls inside main) and every button is a 44 px target.
func TestBrowserTabletLayout(t *testing.T) {
	h := newFaceHarness(t)
	h.user("ada", storage.RoleAdmin)
	fillConsole(t, h)
	bctx, base, shot := browserOn(t, h)
	q := chromedp.ByQuery
	if err := chromedp.Run(bctx,
		emulation.SetDeviceMetricsOverride(768, 1024, 1, true), emulation.SetTouchEmulationEnabled(true),
		chromedp.Navigate(base+"/login"), chromedp.WaitVisible("#username", q),
		chromedp.SendKeys("#username", "ada", q), chromedp.SendKeys("#password", testPassword, q),
		chromedp.Click("#login", q), chromedp.WaitVisible("nav", q), chromedp.Navigate(base+"/lang/ja")); err != nil {
		t.Fatal(err)
	}
	for i, p := range tabletPages {
		var sideways bool
		var small []string
		err := chromedp.Run(bctx, chromedp.Navigate(base+p), chromedp.WaitVisible("main", q),
			chromedp.Evaluate(`document.documentElement.scrollWidth > window.innerWidth`, &sideways),
			chromedp.Evaluate(`[...document.querySelectorAll('button')].filter(function (b) {
				return b.offsetParent !== null && b.getBoundingClientRect().height < 44; }).map(function (b) { return b.textContent.trim(); })`, &small),
			shot(fmt.Sprintf("7%d-ja-tablet%s", i, strings.ReplaceAll(p, "/", "-"))))
		if err != nil {
			t.Fatalf("%s: %v", p, err)
		}
		if sideways {
			t.Errorf("%s scrolls sideways on a 768 px tablet", p)
		}
		if len(small) > 0 {
			t.Errorf("%s: buttons under 44 px on a touch screen: %q", p, small)
		}
	}
}

var tabletPages = []string{"/", "/live", "/entries", "/people", "/rules", "/settings", "/users", "/webhooks", "/alerts"}
