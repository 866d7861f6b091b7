package web

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"unicode/utf8"

	"github.com/labstack/echo/v4"

	"github.com/facegate/facegate/storage"
)

// The privacy notice (APPI: purpose of use of face data, retention,
// contact) is shown at /privacy to anyone, for the people at the door.
// An admin's text for a language is an audit entry (privacyAction, detail
// {"lang", "text"}): it is in the chain, survives retention (which
// redacts names and reasons, not details) and needs no migration. An
// empty text goes back to the default, written from the retention
// settings in force.
const privacyAction = "privacy_notice_saved"

// privacyMaxChars bounds one language's text: the audit detail column is
// 2000 characters on PostgreSQL, and the JSON around the text takes ~30.
const privacyMaxChars = 1900

// privacyNotices follows the audit log: each read fetches only the admin
// entries after the last one it saw, so showing the notice costs one small
// query however long the log is, and every server on the database agrees.
type privacyNotices struct {
	mu   sync.Mutex
	upTo int64
	text map[string]string // lang → the admin's text; absent: the default
}

// notices returns the admin's texts by language.
func (s *Server) notices() (map[string]string, error) {
	p := &s.privacy
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.text == nil {
		p.text = map[string]string{}
	}
	for {
		evs, err := s.deps.DB.Events(storage.EventFilter{Kind: storage.KindAdmin, AfterSeq: p.upTo, Limit: 1000})
		if err != nil {
			return nil, err
		}
		for _, e := range evs {
			p.upTo = max(p.upTo, e.Seq)
			var d struct{ Lang, Text string }
			if e.Code == privacyAction && json.Unmarshal([]byte(e.Detail), &d) == nil {
				p.text[d.Lang] = d.Text
			}
		}
		if len(evs) < 1000 {
			return p.text, nil
		}
	}
}

// defaultNotice is the notice in lang written from the retention settings
// in force (unknown without a settings owner).
func (s *Server) defaultNotice(lang string) string {
	retention := translate(lang, "privacy.retention.unknown")
	if s.deps.Settings != nil {
		r := s.deps.Settings.Settings().Retention
		retention = fmt.Sprintf(translate(lang, "privacy.retention"),
			days(lang, r.GrantSnapshotDays), days(lang, r.DenySnapshotDays), days(lang, r.EventDays))
	}
	return strings.Join([]string{translate(lang, "privacy.purpose"), translate(lang, "privacy.kept"), retention,
		translate(lang, "privacy.contact")}, "\n\n")
}

// days says a retention period in lang: n days, or until erased for 0.
func days(lang string, n int) string {
	if n == 0 {
		return translate(lang, "privacy.forever")
	}
	return fmt.Sprintf(translate(lang, "privacy.days"), n)
}

// noticeIn is the notice shown in lang: the admin's text, else the default.
func (s *Server) noticeIn(lang string) (text string, custom bool, err error) {
	all, err := s.notices()
	if err != nil {
		return "", false, err
	}
	if t := all[lang]; t != "" {
		return t, true, nil
	}
	return s.defaultNotice(lang), false, nil
}

func (s *Server) privacyPage(c echo.Context) error {
	text, _, err := s.noticeIn(pickLang(c.Request()))
	if err != nil {
		return err
	}
	return s.render(c, "privacy", map[string]any{"Text": text})
}

// privacyForm is the edit page's data: the text in the page's language
// (the admin's or, to start from, the default) and why a save was
// refused. An admin edits each language's notice with the console in that
// language.
type privacyForm struct {
	Lang, Text, Error string
}

func (s *Server) privacyEditPage(c echo.Context) error {
	lang := pickLang(c.Request())
	t, _, err := s.noticeIn(lang)
	if err != nil {
		return err
	}
	return s.render(c, "privacy_edit", privacyForm{Lang: lang, Text: t})
}

// privacySave stores the text of one language (audited) when it changed;
// a text equal to the default, or empty, stores "": follow the default.
func (s *Server) privacySave(c echo.Context) error {
	f := privacyForm{Lang: c.FormValue("lang"), Text: strings.TrimSpace(strings.ReplaceAll(c.FormValue("text"), "\r\n", "\n"))}
	reader := pickLang(c.Request())
	if _, ok := messages[f.Lang]; !ok {
		return echo.NewHTTPError(http.StatusBadRequest, "lang must be one of the console's languages (en, ja)")
	}
	if n := utf8.RuneCountInString(f.Text); n > privacyMaxChars {
		f.Error = fmt.Sprintf(translate(reader, "privacy.toolong"), n, privacyMaxChars)
		return s.renderStatus(c, http.StatusUnprocessableEntity, "privacy_edit", f)
	}
	text := f.Text
	if text == s.defaultNotice(f.Lang) {
		text = ""
	}
	old, custom, err := s.noticeIn(f.Lang)
	if err != nil {
		return err
	}
	if (custom && old == text) || (!custom && text == "") {
		return c.Redirect(http.StatusSeeOther, "/privacy") // nothing changed: nothing to audit
	}
	u, _ := userOf(c)
	if _, err := s.deps.Recorder.Audit(u.Username, privacyAction, map[string]string{"lang": f.Lang, "text": text}); err != nil {
		return err
	}
	return c.Redirect(http.StatusSeeOther, "/privacy")
}
