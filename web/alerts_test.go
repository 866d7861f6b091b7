package web

import (
	"context"
	"encoding/json"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/facegate/facegate/gate/alert"
	"github.com/facegate/facegate/gate/alert/alerttest"
	"github.com/facegate/facegate/storage"
)

// storedAlerts parses the stored document as the appliance does.
func storedAlerts(t *testing.T, h *harness) *alert.Config {
	t.Helper()
	body, found, err := h.db.Document(alert.DocumentKey)
	if err != nil || !found {
		t.Fatalf("no alert document stored (%v)", err)
	}
	c, err := alert.Parse([]byte(body))
	if err != nil {
		t.Fatalf("stored document does not parse: %v\n%s", err, body)
	}
	return c
}

// alertsForm is a configuration with a mail server at srv, a denials and
// an unknown-face rule and a digest.
func alertsForm(srv *alerttest.Server) url.Values {
	host, port, _ := net.SplitHostPort(srv.Addr)
	return url.Values{"language": {"ja"}, "to": {"security@example.org"}, "site_hours": {"Mon-Fri 07:00-20:00\nSat 09:00-12:00"},
		"smtp_host": {host}, "smtp_port": {port}, "smtp_tls": {"starttls"}, "smtp_from": {"facegate@example.org"},
		"smtp_username": {srv.User}, "smtp_ca_file": {srv.CAFile}, "digest_at": {"07:30"}, "digest_to": {"admin@example.org"},
		"rule_name": {"guessing", "stranger", ""}, "rule_kind": {"denials", "unknown_face", ""}, "rule_doors": {"lab-in", "", ""},
		"rule_to": {"", "guard@example.org, boss@example.org", ""}, "rule_count": {"3", "", ""}, "rule_seconds": {"60", "", ""}}
}

// An admin stores a configuration from the form (parsed back as the
// appliance reads it, audited), is refused in Japanese with the values
// kept and nothing stored, sends a test mail through a real SMTP server
// (STARTTLS, login with the password from the environment), and reads the
// recent alerts in Japanese with links to their triggering entries.
func TestAlertsPage(t *testing.T) {
	h := newHarness(t)
	h.user("ada", storage.RoleAdmin)
	c := h.login("ada")
	srv := alerttest.Start(t)
	t.Setenv(alert.PasswordEnv, srv.PW)
	// A document another version wrote, which this one cannot read.
	if err := h.rec.SaveDocument(alert.DocumentKey, `{"rules": [{"name": "x", "kind": "loitering"}]}`, "cli"); err != nil {
		t.Fatal(err)
	}
	if _, page := getPage(t, c, h.ts.URL+"/alerts", "ja"); !strings.Contains(page, "保存されているアラート設定を読み込めません（ルール「x」: 種類「loitering」") {
		t.Errorf("an unreadable stored document is not explained:\n%s", page)
	}

	code, body := postForm(t, h, c, "/alerts", "en", alertsForm(srv))
	if code != http.StatusOK || !strings.Contains(body, "2 rules in force") {
		t.Fatalf("save: %d\n%s", code, body)
	}
	cfg := storedAlerts(t, h)
	if len(cfg.Rules) != 2 || cfg.Rules[0].Name != "guessing" || cfg.Rules[0].Count != 3 || cfg.Rules[0].Seconds != 60 || !slices.Equal(cfg.Rules[0].Doors, []string{"lab-in"}) ||
		!slices.Equal(cfg.Rules[1].To, []string{"guard@example.org", "boss@example.org"}) || cfg.Language != "ja" ||
		cfg.SMTP == nil || cfg.SMTP.Server != srv.Addr || cfg.SMTP.CAFile != srv.CAFile || cfg.Digest == nil || cfg.Digest.At != "07:30" ||
		len(cfg.SiteHours) != 2 {
		t.Errorf("stored configuration: %+v smtp %+v digest %+v", cfg, cfg.SMTP, cfg.Digest)
	}
	if raw, _, _ := h.db.Document(alert.DocumentKey); strings.Contains(raw, srv.PW) || strings.Contains(raw, "password\"") {
		t.Errorf("the password or a password field reached the document:\n%s", raw)
	}
	audit, _ := h.db.AuditLog(10)
	if !slices.ContainsFunc(audit, func(e storage.Event) bool { return e.Code == "document_saved" && e.By == "ada" }) {
		t.Error("the save is not audited")
	}
	if _, page := getPage(t, c, h.ts.URL+"/alerts", "en"); !strings.Contains(page, "Password: from $"+alert.PasswordEnv) ||
		!strings.Contains(page, `value="guard@example.org, boss@example.org"`) {
		t.Errorf("stored form not shown back, or the password's source not said:\n%s", page)
	}

	bad := alertsForm(srv)
	bad["rule_to"] = []string{"", "not-an-address", ""}
	code, body = postForm(t, h, c, "/alerts", "ja", bad)
	if code != http.StatusUnprocessableEntity || !strings.Contains(body, "ルール「stranger」: to: 「not-an-address」は単純なメールアドレスではありません") ||
		!strings.Contains(body, `value="not-an-address"`) || !strings.Contains(body, `value="guessing"`) {
		t.Errorf("bad address: %d, want a Japanese refusal with the form kept:\n%s", code, body)
	}
	bad = alertsForm(srv)
	bad["smtp_port"] = []string{"smtp"}
	if code, body = postForm(t, h, c, "/alerts", "ja", bad); code != http.StatusUnprocessableEntity || !strings.Contains(body, "ポート「smtp」") {
		t.Errorf("bad port: %d\n%s", code, body)
	}
	bad = alertsForm(srv)
	bad["rule_count"] = []string{"1", "", ""}
	if code, body = postForm(t, h, c, "/alerts", "ja", bad); code != http.StatusUnprocessableEntity || !strings.Contains(body, "回数（2〜1000）") {
		t.Errorf("denials count 1: %d\n%s", code, body)
	}
	if len(storedAlerts(t, h).Rules[1].To) != 2 {
		t.Error("a refused save changed the stored document")
	}

	code, body = postForm(t, h, c, "/alerts/test", "ja", url.Values{})
	mails := srv.Received()
	if code != http.StatusOK || len(mails) != 1 || !mails[0].TLS || !strings.Contains(body, "テストメールを security@example.org, guard@example.org, boss@example.org, admin@example.org に") {
		t.Errorf("test mail: %d, %d mails\n%s", code, len(mails), body)
	}
	srv.SetFailing(true)
	if _, body = postForm(t, h, c, "/alerts/test", "en", url.Values{}); !strings.Contains(body, "Test mail not sent") {
		t.Errorf("a refused test mail is not reported:\n%s", body)
	}
	testAlertEvents(t, h, c)
}

// testAlertEvents records a denial and the alert it raised, as the
// engine writes them, and reads them on the page in Japanese.
func testAlertEvents(t *testing.T, h *harness, c *http.Client) {
	t.Helper()
	at := h.now().UnixMicro()
	trig, err := h.rec.Record(storage.Event{AtMicro: at, Kind: storage.KindDenied, Door: "lab-in", Code: "unknown_face", Reason: "face not recognised"}, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	a := alert.Alert{Rule: "guessing", Kind: alert.KindDenials, TriggerSeq: trig.Seq, Door: "lab-in", AtMicro: at, Count: 3, Seconds: 60}
	a.Reason = a.Render("en", h.s.deps.Location)
	d, _ := json.Marshal(a)
	ev, err := h.rec.Record(storage.Event{AtMicro: at, Kind: storage.KindAlert, Door: "lab-in", Code: a.Kind, Rule: a.Rule,
		Reason: a.Rule + ": " + a.Reason, Detail: string(d)}, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	held := alert.Alert{Rule: "held", Kind: alert.KindHeldOpen, TriggerSeq: trig.Seq, Door: "lab-in", AtMicro: at, Cause: "door open for 45s (limit 30s)"}
	d, _ = json.Marshal(held)
	h.rec.Record(storage.Event{AtMicro: at, Kind: storage.KindAlert, Door: "lab-in", Code: held.Kind, Rule: held.Rule, Detail: string(d)}, nil, nil)
	_, page := getPage(t, c, h.ts.URL+"/alerts", "ja")
	for _, want := range []string{a.Render("ja", h.s.deps.Location), "扉が 45s 開いたままです（上限 30s）", `href="/entries/` + itoa(trig.Seq) + `"`, `id="alert-` + itoa(ev.Seq) + `"`, "連続した拒否"} {
		if !strings.Contains(page, want) {
			t.Errorf("recent alerts lack %q", want)
		}
	}
}

// In Chromium, in English then in Japanese: an admin stores a rule on the
// page and sees it in force (the stored document parsed back as the
// appliance parses it), then adds a second rule in Japanese.
func TestBrowserAlerts(t *testing.T) {
	h := newHarness(t)
	h.user("ada", storage.RoleAdmin)
	bctx, base, shot := browserOn(t, h)
	q := chromedp.ByQuery
	last := `#alert-rules tr.alert-rule:last-child `
	var saved, ja, events string
	err := chromedp.Run(bctx,
		chromedp.Navigate(base+"/login"), chromedp.WaitVisible("#username", q),
		chromedp.SendKeys("#username", "ada", q), chromedp.SendKeys("#password", testPassword, q),
		chromedp.Click("#login", q), chromedp.WaitVisible("nav", q),
		chromedp.Navigate(base+"/alerts"), chromedp.WaitVisible("#alerts-form", q),
		chromedp.SendKeys(last+`input[name=rule_name]`, "PIN or face guessing", q),
		chromedp.SetValue(last+`select[name=rule_kind]`, alert.KindDenials, q),
		chromedp.SendKeys(last+`input[name=rule_count]`, "3", q), chromedp.SendKeys(last+`input[name=rule_seconds]`, "60", q),
		chromedp.Click("#save-alerts", q), chromedp.WaitVisible("#saved", q), chromedp.Text("#saved", &saved, q), shot("60-alerts-saved"),
	)
	if err != nil {
		t.Fatalf("alerts page (en): %v", err)
	}
	if cfg := storedAlerts(t, h); !strings.Contains(saved, "1 rules in force") || len(cfg.Rules) != 1 || cfg.Rules[0].Count != 3 {
		t.Fatalf("after the English save: %q, %+v", saved, cfg.Rules)
	}
	trigger := runAlertsOnDenials(t, h)
	err = chromedp.Run(bctx,
		chromedp.Navigate(base+"/lang/ja?next=/alerts"), chromedp.WaitVisible("#alerts-form", q),
		chromedp.SendKeys(last+`input[name=rule_name]`, "見知らぬ顔", q),
		chromedp.SetValue(last+`select[name=rule_kind]`, alert.KindUnknownFace, q),
		chromedp.Click("#save-alerts", q), chromedp.WaitVisible("#saved", q), chromedp.Text("#saved", &ja, q),
		chromedp.Text("#alert-events", &events, q), shot("61-ja-alerts-saved"),
	)
	if err != nil {
		t.Fatalf("alerts page (ja): %v", err)
	}
	cfg := storedAlerts(t, h)
	if !strings.Contains(ja, "2 件のルールが有効です") || len(cfg.Rules) != 2 || cfg.Rules[1].Name != "見知らぬ顔" || cfg.Rules[1].Kind != alert.KindUnknownFace {
		t.Errorf("after the Japanese save: %q, %+v", ja, cfg.Rules)
	}
	if !strings.Contains(events, "PIN or face guessing") || !strings.Contains(events, "連続した拒否") || !strings.Contains(events, "#"+itoa(trigger)) {
		t.Errorf("the alert raised by the stored rule is not listed in Japanese with its trigger #%d:\n%s", trigger, events)
	}
}

// runAlertsOnDenials runs gate/alert's service on the stored document, as
// serve does, records three denials at its door and waits for the alert
// the stored rule raises; it returns the triggering entry's seq.
func runAlertsOnDenials(t *testing.T, h *harness) int64 {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	svc := alert.New(alert.Options{Recorder: h.rec, Door: "front", Poll: 20 * time.Millisecond, Now: h.now})
	done := make(chan struct{})
	go func() { svc.Run(ctx); close(done) }()
	defer func() { cancel(); <-done }()
	// The engine starts at the head of the log (history raises nothing):
	// wait until it has saved that cursor.
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		if _, found, _ := h.db.Cursor("alerts:front"); found {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the alert engine did not start in 10 s")
		}
	}
	var last storage.Event
	for range 3 {
		ev, err := h.rec.Record(storage.Event{AtMicro: h.now().UnixMicro(), Kind: storage.KindDenied, Door: "front",
			Code: "unknown_face", Reason: "face not recognised"}, nil, nil)
		if err != nil {
			t.Fatal(err)
		}
		last = ev
	}
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		if evs, _ := h.db.Events(storage.EventFilter{Kind: storage.KindAlert}); len(evs) > 0 {
			if evs[0].Rule != "PIN or face guessing" {
				t.Fatalf("alert from rule %q", evs[0].Rule)
			}
			return last.Seq
		}
	}
	t.Fatal("the stored denials rule raised no alert in 10 s")
	return 0
}
