package alert

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/facegate/facegate/storage"
)

// batch is how many events a step reads at once.
const batch = 100

// errNoSMTP: mails wait until the configuration names a server.
var errNoSMTP = errors.New("no smtp server configured")

// fired identifies an alert: one rule on one triggering event.
type fired struct {
	trigger int64
	rule    string
}

// engine evaluates the door's events after its cursor.
//
// Exactly once: an alert for trigger t is appended after t, so every
// alert not yet covered by the stored cursor has a seq above it. At start
// the engine reads those alerts (done) and skips their (trigger, rule)
// when it evaluates their triggers again; a crash between an append and
// the cursor's save therefore neither loses nor repeats an alert.
type engine struct {
	s      *Service
	cursor int64
	done   map[fired]bool
}

// runEngine starts the engine from its stored cursor and steps it until
// ctx ends or a step fails.
func (s *Service) runEngine(ctx context.Context) {
	if s.Config() == nil {
		return
	}
	e, err := s.startEngine()
	for err == nil && ctx.Err() == nil {
		cfg := s.Config()
		if cfg == nil {
			cfg = &Config{} // removed: no rules, and no backlog if it comes back
		}
		var n int
		n, err = e.step(cfg)
		if n == 0 && err == nil {
			s.sleep(ctx, s.opt.Poll)
		}
	}
	if err != nil {
		s.opt.Log.Error("alerts: engine stopped; restarting from its cursor", "err", err)
	}
}

// startEngine reads the engine's cursor (the head of the log on the first
// start: history raises no alerts) and the alerts appended after it.
func (s *Service) startEngine() (*engine, error) {
	e := &engine{s: s, done: map[fired]bool{}}
	cur, found, err := s.db.Cursor(s.engineCursor())
	if err != nil {
		return nil, err
	}
	if !found {
		if cur, err = s.db.EventCount(); err != nil {
			return nil, err
		}
		if err := s.db.SaveCursor(s.engineCursor(), cur); err != nil {
			return nil, err
		}
	}
	e.cursor = cur
	prior, err := s.db.Events(storage.EventFilter{Kind: storage.KindAlert, AfterSeq: cur, Door: s.opt.Door})
	if err != nil {
		return nil, err
	}
	for _, p := range prior {
		var a Alert
		if json.Unmarshal([]byte(p.Detail), &a) == nil {
			e.done[fired{a.TriggerSeq, a.Rule}] = true
		}
	}
	return e, nil
}

// step evaluates up to batch events after the cursor, appends the alerts
// they raise, and stores the cursor past them; n is how many it read.
func (e *engine) step(cfg *Config) (n int, err error) {
	evs, err := e.s.db.EventsAfter(e.cursor, batch)
	if err != nil || len(evs) == 0 {
		return 0, err
	}
	for _, ev := range evs {
		if ev.Door != e.s.opt.Door || ev.Kind == storage.KindAlert {
			continue
		}
		if err := e.evaluate(cfg, ev); err != nil {
			return 0, err
		}
	}
	last := evs[len(evs)-1].Seq
	if err := e.s.db.SaveCursor(e.s.engineCursor(), last); err != nil {
		return 0, err
	}
	e.cursor = last
	for f := range e.done {
		if f.trigger <= last {
			delete(e.done, f)
		}
	}
	return len(evs), nil
}

// evaluate appends the alerts ev raises that are not appended yet.
func (e *engine) evaluate(cfg *Config, ev storage.Event) error {
	h, err := e.history(cfg, ev)
	if err != nil {
		return err
	}
	for _, a := range cfg.Evaluate(ev, h, e.s.opt.Location) {
		if e.done[fired{a.TriggerSeq, a.Rule}] {
			continue
		}
		rec, err := e.s.opt.Recorder.Record(alertEvent(ev, a), nil, nil)
		if err != nil {
			return fmt.Errorf("alert %q on event %d not recorded: %w", a.Rule, ev.Seq, err)
		}
		e.done[fired{a.TriggerSeq, a.Rule}] = true
		e.s.opt.Log.Warn("alert", "rule", a.Rule, "kind", a.Kind, "door", a.Door, "seq", rec.Seq, "trigger", ev.Seq, "reason", a.Reason)
	}
	return nil
}

// history reads what cfg's rules need to judge ev.
func (e *engine) history(cfg *Config, ev storage.Event) (History, error) {
	var h History
	grants, window := cfg.Needs(ev)
	at := ev.At()
	if grants {
		gs, err := e.s.db.Events(storage.EventFilter{PersonID: ev.PersonID, Kind: storage.KindGranted,
			From: at.AddDate(0, 0, -LearnDays), To: at})
		if err != nil {
			return h, err
		}
		for _, g := range gs {
			if g.Seq < ev.Seq {
				h.Grants = append(h.Grants, g.At())
			}
		}
	}
	if window > 0 {
		for _, kind := range []string{storage.KindDenied, storage.KindAlert} {
			rs, err := e.s.db.Events(storage.EventFilter{Door: ev.Door, Kind: kind, From: at.Add(-window), To: at.Add(time.Microsecond)})
			if err != nil {
				return h, err
			}
			for _, r := range rs {
				if r.Seq < ev.Seq || r.Kind == storage.KindAlert {
					h.Recent = append(h.Recent, r)
				}
			}
		}
	}
	return h, nil
}

// alertEvent is the evidence of alert a raised by ev: at ev's time, door
// and person, the rule's name in Rule, its kind in Code, a as Detail. The
// Reason starts with the rule's name: webhook and MQTT payloads carry the
// reason but not Rule or Detail.
func alertEvent(ev storage.Event, a Alert) storage.Event {
	a.Reason = clip(a.Reason, 500)
	a.Cause = clip(a.Cause, 300)
	d, _ := json.Marshal(a)
	return storage.Event{Kind: storage.KindAlert, AtMicro: ev.AtMicro, Door: ev.Door, Area: ev.Area, Direction: ev.Direction,
		PersonID: ev.PersonID, PersonName: ev.PersonName, Code: a.Kind, Rule: clip(a.Rule, 200), Reason: clip(a.Rule+": "+a.Reason, 500),
		Detail: string(d)}
}

// clip shortens s to at most n characters (the log's column sizes).
func clip(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}
