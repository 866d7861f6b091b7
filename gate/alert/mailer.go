package alert

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/facegate/facegate/storage"
)

// runMailer mails the door's alert events after its cursor, one mail per
// alert, each retried until the server accepts it; the cursor moves past
// an alert only then, so a server down for an hour misses nothing. It
// starts (at the head of the log) once a server is configured.
func (s *Service) runMailer(ctx context.Context) {
	if cfg := s.Config(); cfg == nil || cfg.SMTP == nil {
		return
	}
	cur, found, err := s.db.Cursor(s.mailCursor())
	if err == nil && !found {
		if cur, err = s.db.EventCount(); err == nil {
			err = s.db.SaveCursor(s.mailCursor(), cur)
		}
	}
	for err == nil && ctx.Err() == nil {
		var n int
		if n, cur, err = s.mailStep(ctx, cur); n == 0 && err == nil {
			s.sleep(ctx, s.opt.Poll)
		}
	}
	if err != nil && ctx.Err() == nil {
		s.opt.Log.Error("alerts: mailer stopped; restarting from its cursor", "err", err)
	}
}

// mailStep mails the alerts among the events after cur and returns how
// many events it read and the cursor it stored.
func (s *Service) mailStep(ctx context.Context, cur int64) (int, int64, error) {
	evs, err := s.db.EventsAfter(cur, batch)
	if err != nil || len(evs) == 0 {
		return 0, cur, err
	}
	for _, e := range evs {
		if e.Kind != storage.KindAlert || e.Door != s.opt.Door {
			continue
		}
		if err := s.retry(ctx, fmt.Sprintf("alert %d", e.Seq), func(cfg *Config) error {
			m := cfg.AlertMessage(e, s.opt.Location)
			if len(m.To) == 0 { // its rule was removed, and there is no top-level "to"
				s.opt.Log.Warn("alerts: alert not mailed: no recipients", "seq", e.Seq, "rule", e.Rule)
				return nil
			}
			return cfg.SMTP.Send(ctx, m)
		}); err != nil {
			return 0, cur, err
		}
		if err := s.db.SaveCursor(s.mailCursor(), e.Seq); err != nil {
			return 0, cur, err
		}
		cur = e.Seq
	}
	last := evs[len(evs)-1].Seq
	if err := s.db.SaveCursor(s.mailCursor(), last); err != nil {
		return 0, cur, err
	}
	return len(evs), last, nil
}

// AlertMessage is the e-mail of alert event e, in the configured
// language, to the recipients of its rule.
func (c *Config) AlertMessage(e storage.Event, loc *time.Location) Message {
	var a Alert
	if json.Unmarshal([]byte(e.Detail), &a) != nil || a.Kind == "" {
		a = Alert{Rule: e.Rule, Kind: e.Code, Door: e.Door, Person: e.PersonName, AtMicro: e.AtMicro, Reason: e.Reason}
	}
	m := messages[c.Language]
	t := time.UnixMicro(a.AtMicro).In(loc)
	who := a.Person
	if who == "" {
		who = m["unknown"]
	}
	var b strings.Builder
	line := func(k, v string) { fmt.Fprintf(&b, "%s: %s\n", m[k], v) }
	line("alert", a.Rule)
	line("what", a.Render(c.Language, loc))
	line("door", a.Door)
	line("person", who)
	line("when", t.Format("2006-01-02 15:04:05")+" ("+loc.String()+")")
	line("evidence", fmt.Sprintf(m["evidenceLine"], a.TriggerSeq, e.Seq))
	b.WriteString("\n-- \n" + m["footer"] + "\n")
	return Message{To: c.Recipients(a.Rule), Subject: fmt.Sprintf(m["subject"], a.Rule, a.Door), Body: b.String(),
		MessageID: fmt.Sprintf("<alert.%d.%.16s@facegate>", e.Seq, e.Hash), Date: t}
}

// TestMessage is `facegate alert test`'s mail, to every recipient the
// configuration names.
func (c *Config) TestMessage(now time.Time) Message {
	var to []string
	add := func(as []string) {
		for _, a := range as {
			if !slices.ContainsFunc(to, func(x string) bool { return strings.EqualFold(x, a) }) {
				to = append(to, a)
			}
		}
	}
	add(c.To)
	for _, r := range c.Rules {
		add(r.To)
	}
	if c.Digest != nil {
		add(c.Digest.To)
	}
	m := messages[c.Language]
	return Message{To: to, Subject: m["testSubject"], Body: m["testBody"] + "\n", Date: now,
		MessageID: fmt.Sprintf("<test.%d@facegate>", now.UnixNano())}
}
