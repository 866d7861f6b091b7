package web

import (
	"context"
	"encoding/json"
	"net"
	"net/http"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/facegate/facegate/gate/alert"
	"github.com/facegate/facegate/storage"
)

// alertRuleRow is one rule of the alerts form, as typed (kept on refusal).
type alertRuleRow struct{ Name, Kind, Doors, To, Count, Seconds string }

// alertForm is the alert configuration as the page's form holds it: lists
// comma-separated, site hours one a line, the server split in host and
// port. The password is never in it (password_file or $FACEGATE_SMTP_PASSWORD).
type alertForm struct {
	Language, SiteHours, To                               string
	Host, Port, TLS, From, Username, PasswordFile, CAFile string
	DigestAt, DigestTo, DigestDoor                        string
	Rules                                                 []alertRuleRow
	// Unreadable is why the stored document does not parse (written by
	// another version): the form starts empty and a save replaces it.
	Unreadable error
}

// alertEventRow is one alert of the log, rendered in the reader's language.
type alertEventRow struct {
	storage.Event
	Trigger  int64
	Sentence string
}

// recentAlerts is how many alert events the page lists.
const recentAlerts = 50

// alertTestTimeout bounds "send test mail": the page waits for the server.
const alertTestTimeout = 30 * time.Second

func (s *Server) alertsPage(c echo.Context) error {
	f, _, err := s.storedAlertForm()
	if err != nil {
		return err
	}
	return s.alertsWith(c, http.StatusOK, f, nil)
}

// storedAlertForm is the stored document as a form (empty when none).
func (s *Server) storedAlertForm() (alertForm, *alert.Config, error) {
	body, found, err := s.deps.DB.Document(alert.DocumentKey)
	if err != nil || !found {
		return alertForm{Language: "en", TLS: "starttls"}, nil, err
	}
	cfg, err := alert.Parse([]byte(body))
	if err != nil {
		return alertForm{Language: "en", TLS: "starttls", Unreadable: err}, nil, nil
	}
	return formOfAlerts(cfg), cfg, nil
}

func (s *Server) alertsWith(c echo.Context, code int, f alertForm, extra map[string]any) error {
	lang := pickLang(c.Request())
	evs, err := s.deps.DB.Events(storage.EventFilter{Kind: storage.KindAlert, Newest: true, Limit: recentAlerts})
	if err != nil {
		return err
	}
	rows := make([]alertEventRow, len(evs))
	for i, e := range evs {
		rows[i] = alertEventRow{Event: e, Sentence: e.Reason}
		if a, ok := alertOf(e.Kind, e.Detail); ok {
			rows[i].Trigger, rows[i].Sentence = a.TriggerSeq, renderAlert(lang, s.deps.Location, a)
		}
	}
	recs, err := s.deps.DB.LoadPolicy()
	if err != nil {
		return err
	}
	f.Rules = append(f.Rules, alertRuleRow{}) // a blank row adds a rule
	data := map[string]any{"F": f, "Kinds": alert.Kinds, "Langs": alert.Languages, "Doors": recs.Doors, "Events": rows,
		"Password": passwordState(lang, f), "PasswordEnv": alert.PasswordEnv}
	if f.Unreadable != nil {
		data["Error"] = fmtMsg(lang, "alerts.unreadable", localize(lang, f.Unreadable.Error()))
	}
	for k, v := range extra {
		data[k] = v
	}
	return s.renderStatus(c, code, "alerts", data)
}

// passwordState says where the SMTP password comes from and whether it is
// there, never what it is.
func passwordState(lang string, f alertForm) string {
	if f.Host == "" || f.Username == "" {
		return ""
	}
	if f.PasswordFile == "" {
		if os.Getenv(alert.PasswordEnv) == "" {
			return fmtMsg(lang, "alerts.pw.envmissing", alert.PasswordEnv)
		}
		return fmtMsg(lang, "alerts.pw.env", alert.PasswordEnv)
	}
	if _, err := (&alert.SMTP{PasswordFile: f.PasswordFile}).Password(); err != nil {
		return fmtMsg(lang, "alerts.pw.fileunreadable", f.PasswordFile)
	}
	return fmtMsg(lang, "alerts.pw.file", f.PasswordFile)
}

// alertsSave stores the form through gate/alert's validation; a refusal
// is shown in the reader's language with the form as sent. SaveDocument
// audits the change (document_saved); the appliance applies it within a
// second.
func (s *Server) alertsSave(c echo.Context) error {
	u, _ := userOf(c)
	lang := pickLang(c.Request())
	f := alertFormOf(c)
	body, msg := f.document(lang)
	if msg == "" {
		if _, err := alert.Parse(body); err != nil {
			msg = localize(lang, err.Error())
		}
	}
	if msg != "" {
		return s.alertsWith(c, http.StatusUnprocessableEntity, f, map[string]any{"Error": msg})
	}
	if err := s.deps.Recorder.SaveDocument(alert.DocumentKey, string(body), u.Username); err != nil {
		return err
	}
	stored, _, err := s.storedAlertForm()
	if err != nil {
		return err
	}
	return s.alertsWith(c, http.StatusOK, stored, map[string]any{"Saved": len(stored.Rules)})
}

// alertsTest sends the test mail of `facegate alert test` through the
// stored configuration and shows the server's answer; audited.
func (s *Server) alertsTest(c echo.Context) error {
	u, _ := userOf(c)
	lang := pickLang(c.Request())
	f, cfg, err := s.storedAlertForm()
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(c.Request().Context(), alertTestTimeout)
	defer cancel()
	result, ok := sendTestMail(ctx, lang, cfg, s.deps.Now())
	s.audit(u.Username, "alert_test_mail", map[string]any{"sent": ok})
	return s.alertsWith(c, http.StatusOK, f, map[string]any{"Test": result, "TestOK": ok})
}

// sendTestMail sends cfg's test mail and says in lang what came of it.
func sendTestMail(ctx context.Context, lang string, cfg *alert.Config, now time.Time) (string, bool) {
	if cfg == nil {
		return translate(lang, "alerts.test.nodoc"), false
	}
	if cfg.SMTP == nil {
		return translate(lang, "alerts.test.nosmtp"), false
	}
	m := cfg.TestMessage(now)
	if len(m.To) == 0 {
		return translate(lang, "alerts.test.noone"), false
	}
	if err := cfg.SMTP.Send(ctx, m); err != nil {
		return fmtMsg(lang, "alerts.test.failed", err.Error()), false
	}
	return fmtMsg(lang, "alerts.test.ok", strings.Join(m.To, ", "), cfg.SMTP.Server), true
}

// formOfAlerts is a stored configuration as the form shows it.
func formOfAlerts(c *alert.Config) alertForm {
	f := alertForm{Language: c.Language, SiteHours: strings.Join(c.SiteHours, "\n"), To: strings.Join(c.To, ", "), TLS: "starttls"}
	if m := c.SMTP; m != nil {
		f.Host, f.Port, _ = net.SplitHostPort(m.Server)
		f.TLS, f.From, f.Username, f.PasswordFile, f.CAFile = m.TLS, m.From, m.Username, m.PasswordFile, m.CAFile
	}
	if d := c.Digest; d != nil {
		f.DigestAt, f.DigestTo, f.DigestDoor = d.At, strings.Join(d.To, ", "), d.Door
	}
	for _, r := range c.Rules {
		row := alertRuleRow{Name: r.Name, Kind: r.Kind, Doors: strings.Join(r.Doors, ", "), To: strings.Join(r.To, ", ")}
		if r.Kind == alert.KindDenials {
			row.Count, row.Seconds = strconv.Itoa(r.Count), strconv.Itoa(r.Seconds)
		}
		f.Rules = append(f.Rules, row)
	}
	return f
}

// alertFormOf reads the posted form; the rule fields come as parallel
// lists, one entry a row.
func alertFormOf(c echo.Context) alertForm {
	v := func(k string) string { return strings.TrimSpace(c.FormValue(k)) }
	f := alertForm{Language: v("language"), SiteHours: v("site_hours"), To: v("to"), Host: v("smtp_host"), Port: v("smtp_port"),
		TLS: v("smtp_tls"), From: v("smtp_from"), Username: v("smtp_username"), PasswordFile: v("smtp_password_file"),
		CAFile: v("smtp_ca_file"), DigestAt: v("digest_at"), DigestTo: v("digest_to"), DigestDoor: v("digest_door")}
	form, _ := c.FormParams()
	col := func(k string, i int) string {
		if i < len(form[k]) {
			return strings.TrimSpace(form[k][i])
		}
		return ""
	}
	for i := range form["rule_name"] {
		r := alertRuleRow{Name: col("rule_name", i), Kind: col("rule_kind", i), Doors: col("rule_doors", i),
			To: col("rule_to", i), Count: col("rule_count", i), Seconds: col("rule_seconds", i)}
		if r != (alertRuleRow{}) {
			f.Rules = append(f.Rules, r)
		}
	}
	return f
}

// document is the form as the JSON document, or a refusal in lang for
// what the JSON cannot say (a port or a count that is not a number).
func (f alertForm) document(lang string) ([]byte, string) {
	c := alert.Config{Language: f.Language, SiteHours: lines(f.SiteHours), To: list(f.To), Rules: []alert.Rule{}}
	if f.Host != "" || f.Port != "" || f.From != "" {
		if p, err := strconv.Atoi(f.Port); err != nil || p < 1 || p > 65535 {
			return nil, fmtMsg(lang, "alerts.err.port", f.Port)
		}
		c.SMTP = &alert.SMTP{Server: net.JoinHostPort(f.Host, f.Port), TLS: f.TLS, From: f.From, Username: f.Username,
			PasswordFile: f.PasswordFile, CAFile: f.CAFile}
	}
	if f.DigestAt != "" || f.DigestTo != "" {
		c.Digest = &alert.Digest{At: f.DigestAt, To: list(f.DigestTo), Door: f.DigestDoor}
	}
	for _, r := range f.Rules {
		rule := alert.Rule{Name: r.Name, Kind: r.Kind, Doors: list(r.Doors), To: list(r.To)}
		if r.Kind == alert.KindDenials {
			n, err1 := strconv.Atoi(r.Count)
			sec, err2 := strconv.Atoi(r.Seconds)
			if err1 != nil || err2 != nil {
				return nil, fmtMsg(lang, "alerts.err.counts", r.Name)
			}
			rule.Count, rule.Seconds = n, sec
		}
		c.Rules = append(c.Rules, rule)
	}
	b, err := json.MarshalIndent(c, "", "  ")
	if err != nil {
		return nil, err.Error()
	}
	return append(b, '\n'), ""
}

// list splits a comma-separated field, leaving out blanks.
func list(s string) []string {
	var out []string
	for _, p := range strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == '\n' || r == '、' }) {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// lines splits a textarea one entry a line.
func lines(s string) []string {
	var out []string
	for _, p := range strings.Split(s, "\n") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// alertOf reads the alert an alert event carries in its detail.
func alertOf(kind, detail string) (alert.Alert, bool) {
	var a alert.Alert
	if kind != storage.KindAlert || json.Unmarshal([]byte(detail), &a) != nil || a.Kind == "" {
		return a, false
	}
	return a, true
}

// renderAlert is an alert's sentence in lang, the door's own cause (held
// open, tailgating) included.
func renderAlert(lang string, loc *time.Location, a alert.Alert) string {
	a.Cause = localize(lang, a.Cause)
	return a.Render(lang, loc)
}

// eventReason is an event's reason in lang: an alert's rebuilt from its
// detail (its stored reason is English), any other's by pattern.
func eventReason(lang string, loc *time.Location, kind, reason, detail string) string {
	if a, ok := alertOf(kind, detail); ok {
		return renderAlert(lang, loc, a)
	}
	return localize(lang, reason)
}
