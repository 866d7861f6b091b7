package web

import (
	"context"
	"strings"
	"testing"
	"time"

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
	front, back := fillSite(t, h)
	at := h.now().Add(-10 * time.Minute).UnixMicro()
	front.rec.Record(storage.Event{AtMicro: at, Kind: storage.KindDoorForced, Door: "front", Reason: "door opened while locked"}, nil, nil)
	front.rec.Record(storage.Event{AtMicro: at + 1, Kind: storage.KindDoorHeldOpen, Door: "front"}, nil, nil)
	front.push(t, h, nil) // two door alarms: one acknowledged from Home, one left with its button
	back.db.Append(storage.Event{Kind: storage.KindDenied, Door: "back"})
	h.db.ReceivePush(back.app.ID, storage.SitePush{Head: storage.ChainHead{Seq: 1, Hash: "0000"}}) // an alarm to acknowledge
	h.db.TouchAppliance(back.app.ID, -1, h.now())
	bctx, base, shot := browserOn(t, h)
	q := chromedp.ByQuery
	var token, rows, acked, ja, waiting string
	err := chromedp.Run(bctx,
		chromedp.Navigate(base+"/login"), chromedp.WaitVisible("#username", q),
		chromedp.SendKeys("#username", "ada", q), chromedp.SendKeys("#password", testPassword, q),
		chromedp.Click("#login", q), chromedp.WaitVisible("nav", q),
		chromedp.Navigate(base+"/"), chromedp.WaitVisible("#home-doors", q), shot("79-central-home"),
		chromedp.Click(`#door-alarms tbody tr:last-child form button`, q), chromedp.WaitVisible(".ack-waiting", q),
		chromedp.Text("#door-alarms", &waiting, q), shot("79-central-home-ack-waiting"),
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
	if !strings.Contains(waiting, "sent by ada@central, waiting for the door") || !strings.Contains(waiting, "Acknowledge — front") {
		t.Errorf("door alarms after acknowledging the forced door from Home: %q", waiting)
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
		for _, p := range []string{"/", "/doors", "/entries", "/presence", "/audit"} {
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
	for _, p := range []string{"/", "/doors", "/entries", "/audit"} {
		var sideways bool
		var small []string
		err := chromedp.Run(bctx, chromedp.Navigate(base+p), chromedp.WaitVisible("main", q),
			chromedp.Evaluate(`document.documentElement.scrollWidth > window.innerWidth`, &sideways),
			chromedp.Evaluate(`[...document.querySelectorAll('button')].filter(function (b) {
				return b.offsetParent !== null && b.getBoundingClientRect().height < 44; }).map(function (b) { return b.textContent.trim(); })`, &small),
			shot("86-central-tablet"+strings.TrimSuffix(strings.ReplaceAll(p, "/", "-"), "-")))
		if err != nil {
			t.Fatalf("%s on a tablet: %v", p, err)
		}
		if sideways || len(small) > 0 {
			t.Errorf("%s on a 768 px tablet: scrolls sideways %v, buttons under 44 px %q", p, sideways, small)
		}
	}
}

// In Chromium, on a central: from the doors page the admin opens a door's
// live view; the door (played by the test as a door does it: it sends
// only once wanted) streams, the picture shows (naturalWidth > 0) and
// "waiting for the door…" goes; a decision from the door is listed. The
// same in Japanese; axe finds nothing in either language.
func TestBrowserCentralDoorLive(t *testing.T) {
	src := axeSource(t)
	h := newHarness(t)
	h.user("ada", storage.RoleAdmin)
	fillSite(t, h)
	live := h.server().deps.Live
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	frame := grey640(t)
	go func() { // the front door: waits to be wanted, then 5 frames a second
		for live.WaitWanted(ctx, "front") {
			for ctx.Err() == nil && live.Frame("front", frame) {
				time.Sleep(200 * time.Millisecond)
			}
		}
	}()
	bctx, base, shot := browserOn(t, h)
	q := chromedp.ByQuery
	var waiting bool
	var rows string
	err := chromedp.Run(bctx,
		chromedp.Navigate(base+"/login"), chromedp.WaitVisible("#username", q),
		chromedp.SendKeys("#username", "ada", q), chromedp.SendKeys("#password", testPassword, q),
		chromedp.Click("#login", q), chromedp.WaitVisible("nav", q),
		chromedp.Navigate(base+"/doors"), chromedp.WaitVisible("#doors", q),
		chromedp.Click(`#doors a[href="/doors/front/live"]`, q), chromedp.WaitVisible("#camera", q),
		chromedp.Poll(`document.getElementById('camera').naturalWidth > 0`, nil, chromedp.WithPollingTimeout(20*time.Second)),
		chromedp.Poll(`document.getElementById('waiting').hidden`, nil, chromedp.WithPollingTimeout(5*time.Second)),
		chromedp.ActionFunc(func(context.Context) error {
			waitSubscribers(t, live.Hub("front"), 1)
			live.Decision("front", []byte(`{"time":"09:00:00","person":"Ada","result":"granted","granted":true,"distance":"0.412","liveness":"off"}`))
			return nil
		}),
		chromedp.Poll(`document.querySelectorAll('#decisions tbody tr').length == 1`, nil, chromedp.WithPollingTimeout(10*time.Second)),
		chromedp.Text("#decisions tbody", &rows, q), shot("87-central-door-live"),
		chromedp.Navigate(base+"/lang/ja?next=/doors/front/live"), chromedp.WaitVisible("#camera", q),
		chromedp.Poll(`document.getElementById('camera').naturalWidth > 0`, nil, chromedp.WithPollingTimeout(20*time.Second)),
		chromedp.Sleep(500*time.Millisecond), chromedp.Evaluate(`document.getElementById('waiting').hidden`, &waiting),
		shot("88-central-door-live-ja"),
	)
	if err != nil {
		t.Fatalf("a door's live view on the central: %v", err)
	}
	if !strings.Contains(rows, "Ada") {
		t.Errorf("the door's decision on the live page: %q", rows)
	}
	if !waiting {
		t.Error("in Japanese the page still says it waits for the door after the picture came")
	}
	for _, lang := range []string{"en", "ja"} {
		var found []axeViolation
		err := chromedp.Run(bctx, chromedp.Navigate(base+"/lang/"+lang+"?next=/doors/front/live"), chromedp.WaitVisible("main", q),
			chromedp.Evaluate(src, nil),
			chromedp.Evaluate(axeRun, &found, func(p *runtime.EvaluateParams) *runtime.EvaluateParams { return p.WithAwaitPromise(true) }))
		if err != nil {
			t.Fatalf("live (%s): %v", lang, err)
		}
		for _, v := range found {
			t.Errorf("/doors/front/live (%s): %s (%s): %s at %s", lang, v.ID, v.Impact, v.Help, strings.Join(v.Targets, "; "))
		}
	}
}
