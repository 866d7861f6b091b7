package web

import (
	"encoding/json"
	"encoding/pem"
	"html"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/facegate/facegate/gate/notify"
	"github.com/facegate/facegate/storage"
)

// receiver is a local HTTPS webhook receiver that can be made to fail.
type receiver struct {
	ts     *httptest.Server
	fail   atomic.Bool
	mu     sync.Mutex
	bodies [][]byte
	sigs   []string
}

func newReceiver(t *testing.T) *receiver {
	r := &receiver{}
	r.ts = httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		b, _ := io.ReadAll(req.Body)
		r.mu.Lock()
		r.bodies, r.sigs = append(r.bodies, b), append(r.sigs, req.Header.Get(notify.SignatureHeader))
		r.mu.Unlock()
		if r.fail.Load() {
			http.Error(w, "down for maintenance", http.StatusServiceUnavailable)
		}
	}))
	t.Cleanup(r.ts.Close)
	return r
}

func (r *receiver) caPEM() string {
	return string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: r.ts.Certificate().Raw}))
}

var secretRE = regexp.MustCompile(`<code id="secret">([^<]+)</code>`)

// An admin adds a webhook to a local HTTPS receiver (its own CA), sends a
// test (signed with the secret shown once, logged, audited), sees a failed
// test explained in Japanese, pauses, resumes and removes it; a bad URL
// is refused in the reader's language.
func TestWebhooksPage(t *testing.T) {
	h := newHarness(t)
	h.user("ada", storage.RoleAdmin)
	c := h.login("ada")
	rcv := newReceiver(t)
	get(t, c, h.ts.URL+"/lang/ja")
	code, page := h.postForm(c, "/webhooks", "/webhooks", url.Values{"url": {"http://example.com/hook"}})
	if msg := html.UnescapeString(between(page, `id="error"`, "</p>")); code != http.StatusUnprocessableEntity || !strings.Contains(msg, "平文の http") {
		t.Fatalf("plain http refused: %d %q", code, msg)
	}
	get(t, c, h.ts.URL+"/lang/en")
	code, page = h.postForm(c, "/webhooks", "/webhooks", url.Values{"url": {rcv.ts.URL + "/hook"}, "kinds": {storage.KindDenied},
		"ca_cert": {rcv.caPEM()}})
	m := secretRE.FindStringSubmatch(page)
	if code != http.StatusOK || m == nil {
		t.Fatalf("add: %d, no secret shown: %s", code, between(page, `id="error"`, "</p>"))
	}
	secret := m[1]
	subs, _ := h.db.Webhooks()
	if len(subs) != 1 || subs[0].Kinds[0] != storage.KindDenied {
		t.Fatalf("subscriptions: %+v", subs)
	}
	id := "/webhooks/" + strconv.FormatInt(subs[0].ID, 10)
	_, page = h.postForm(c, "/webhooks", id+"/test", url.Values{})
	if !strings.Contains(page, `id="test-result" class="ok"`) {
		t.Fatalf("test not delivered: %s", between(page, `id="test-result"`, "</p>"))
	}
	rcv.mu.Lock()
	body, sig := rcv.bodies[0], rcv.sigs[0]
	rcv.mu.Unlock()
	var p notify.Payload
	if err := json.Unmarshal(body, &p); err != nil || !p.Test {
		t.Errorf("test payload: %s %v", body, err)
	}
	if err := notify.Verify(secret, sig, body, time.Now(), time.Minute); err != nil {
		t.Errorf("the test payload does not verify with the secret shown: %v", err)
	}
	rcv.fail.Store(true)
	get(t, c, h.ts.URL+"/lang/ja")
	_, page = h.postForm(c, "/webhooks", id+"/test", url.Values{})
	if msg := html.UnescapeString(between(page, `id="test-result"`, "</p>")); !strings.Contains(msg, "受信側の応答: 503 Service Unavailable") {
		t.Errorf("failed test in Japanese: %q", msg)
	}
	if n := strings.Count(between(page, `id="deliveries"`, "</table>"), "<tr class="); n != 2 {
		t.Errorf("delivery log shows %d attempts, want 2", n)
	}
	for _, action := range []string{"disable", "enable", "remove"} {
		if code, _ := h.postForm(c, "/webhooks", id+"/"+action, url.Values{}); code != http.StatusSeeOther {
			t.Fatalf("%s: %d", action, code)
		}
		if action == "disable" {
			if w, _ := h.db.WebhookByID(subs[0].ID); w.Enabled {
				t.Error("still enabled after disable")
			}
		}
	}
	if subs, _ := h.db.Webhooks(); len(subs) != 0 {
		t.Errorf("%d subscriptions after remove", len(subs))
	}
	audit, _ := h.db.AuditLog(20)
	var codes []string
	for _, a := range audit {
		codes = append(codes, a.Code)
	}
	for _, want := range []string{"webhook_added", "webhook_tested", "webhook_disabled", "webhook_enabled", "webhook_removed"} {
		if !strings.Contains(strings.Join(codes, " "), want) {
			t.Errorf("audit log lacks %s", want)
		}
	}
}

// In Chromium: an admin adds a webhook on the page (the receiver's CA
// pasted), sends a test and reads the answer in the delivery log, then
// sees the list in Japanese.
func TestBrowserWebhooks(t *testing.T) {
	h := newHarness(t)
	h.user("ada", storage.RoleAdmin)
	rcv := newReceiver(t)
	bctx, base, shot := browserOn(t, h)
	q := chromedp.ByQuery
	var secret, result, ja string
	err := chromedp.Run(bctx,
		chromedp.Navigate(base+"/login"), chromedp.WaitVisible("#username", q),
		chromedp.SendKeys("#username", "ada", q), chromedp.SendKeys("#password", testPassword, q),
		chromedp.Click("#login", q), chromedp.WaitVisible("nav", q),
		chromedp.Navigate(base+"/webhooks"), chromedp.WaitVisible("#webhook-form", q),
		chromedp.SendKeys(`#webhook-form input[name=url]`, rcv.ts.URL+"/facegate", q),
		chromedp.Click(`#webhook-form input[name=kinds][value=access_denied]`, q),
		chromedp.SetValue(`#webhook-form textarea[name=ca_cert]`, rcv.caPEM(), q),
		chromedp.Click("#add-webhook", q), chromedp.WaitVisible("#secret", q), chromedp.Text("#secret", &secret, q),
		chromedp.Click(`#webhooks button.send-test`, q), chromedp.WaitVisible("#test-result", q),
		chromedp.Text("#test-result", &result, q), shot("50-webhook-test"),
		chromedp.Navigate(base+"/lang/ja?next=/webhooks"), chromedp.WaitVisible("#webhooks", q),
		chromedp.Text("#webhooks", &ja, q), shot("51-ja-webhooks"),
	)
	if err != nil {
		t.Fatalf("webhooks page: %v", err)
	}
	if !strings.HasPrefix(secret, "whsec_") || !strings.Contains(result, "HTTP 200") || !strings.Contains(ja, "通行拒否") {
		t.Errorf("secret %q, test result %q, Japanese list %q", secret, result, ja)
	}
}

// Every kind a webhook can subscribe to has a name in both languages (the
// page's checkboxes).
func TestWebhookKindsNamed(t *testing.T) {
	for _, k := range storage.WebhookKinds {
		for _, lang := range []string{"en", "ja"} {
			if _, ok := messages[lang]["kind."+k]; !ok {
				t.Errorf("kind %s has no name in %s", k, lang)
			}
		}
	}
}
