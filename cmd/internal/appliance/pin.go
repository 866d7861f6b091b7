package appliance

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/facegate/facegate/gate"
	"github.com/facegate/facegate/storage"
	"github.com/facegate/facegate/vision"
)

// openKeypads opens the configured PIN pads ("evdev:PATH"), plus the
// injected one.
func openKeypads(cfg Config) ([]gate.Keypad, error) {
	var out []gate.Keypad
	for _, spec := range cfg.Keypads {
		path, ok := strings.CutPrefix(spec, "evdev:")
		if !ok {
			return out, fmt.Errorf("keypad %q: use evdev:/dev/input/by-id/…-event-kbd", spec)
		}
		k, err := gate.OpenEvdevKeypad(path)
		if err != nil {
			return out, err
		}
		out = append(out, k)
	}
	if cfg.Keypad != nil {
		out = append(out, cfg.Keypad)
	}
	return out, nil
}

// readKeypads feeds every keypad's PINs to the door's pad; a keypad that
// fails (unplugged) is logged, and a face+pin door then denies for want of
// a PIN (fail secure).
func (a *Appliance) readKeypads(ctx context.Context) {
	done := make(chan struct{}, len(a.keypads))
	for _, k := range a.keypads {
		go func() {
			if err := k.Run(ctx, a.pinPad.Enter); err != nil {
				a.log.Error("keypad stopped: face+pin decisions will deny until it is back (restart facegate)", "err", err)
			}
			done <- struct{}{}
		}()
	}
	if len(a.keypads) > 0 {
		a.recordUnusedPINs(ctx, time.NewTicker(time.Second).C)
	}
	for range a.keypads {
		<-done
	}
}

// recordUnusedPINs records, at each tick until ctx ends, every PIN that no
// face match took (typed at a door whose face was not recognised, or not
// looked at the camera): every attempt at the keypad is an event. The
// digits are never recorded.
func (a *Appliance) recordUnusedPINs(ctx context.Context, tick <-chan time.Time) {
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick:
		}
		for _, e := range a.pinPad.Unused() {
			ev := storage.Event{AtMicro: e.At.UnixMicro(), Kind: storage.KindPIN, Door: a.cfg.Door, Code: "pin_no_face",
				Reason: fmt.Sprintf("PIN: a PIN was typed but no face was matched within %s of it", gate.PINBefore)}
			if _, err := a.recorder.Record(ev, nil, nil); err != nil {
				a.log.Error("PIN attempt not recorded", "err", err)
			}
		}
	}
}

// needsPIN: this door is face+pin in the policy in force.
func (a *Appliance) needsPIN() bool {
	d, ok := a.policy.Policy().Doors[a.cfg.Door]
	return ok && d.Level == gate.LevelFacePIN
}

// decideWithPIN waits for the PIN typed with this face, checks it against
// the matched person's (counted and locked in storage), records the attempt,
// then lets the gate decide, saying which factor failed.
func (a *Appliance) decideWithPIN(d vision.Decision, req gate.Request, name string) {
	p := req.Person
	ev := storage.Event{AtMicro: a.cfg.Now().UnixMicro(), Kind: storage.KindPIN, Door: a.cfg.Door, PersonID: p.ID, PersonName: p.Name}
	a.webKeypad.FaceMatched(d.At) // a paired tablet asks for the PIN
	e, typed := a.pinPad.Await(a.runCtx, d.At)
	switch {
	case !typed:
		ev.Code, req.PINWhy = "pin_missing", fmt.Sprintf("no PIN entered within %s", gate.PINAfter)
	default:
		c, err := a.db.CheckPIN(p.ID, e.Digits, a.cfg.Now())
		ev.Code, req.PINWhy, req.PINOK = pinOutcome(c, err, a.cfg.loc)
	}
	ev.Granted, ev.Reason = req.PINOK, "PIN: "+req.PINWhy
	if _, err := a.recorder.Record(ev, nil, nil); err != nil {
		a.log.Error("PIN attempt not recorded", "err", err)
	}
	a.decide(d, req, name)
}

// pinOutcome turns a PIN check into an event code, a reason and the verdict.
func pinOutcome(c storage.PINCheck, err error, loc *time.Location) (code, why string, ok bool) {
	switch {
	case err != nil:
		return "pin_error", "the PIN could not be checked (" + err.Error() + ")", false
	case c.NoPIN:
		return "pin_not_set", "no PIN is set for this person (an admin sets one: facegate pin set)", false
	case c.OK:
		return "pin_ok", "PIN correct", true
	case !c.Locked.IsZero():
		return "pin_locked", fmt.Sprintf("PIN locked until %s after %d wrong PINs", c.Locked.In(loc).Format("2006-01-02 15:04"), c.Failures), false
	}
	return "pin_wrong", fmt.Sprintf("wrong PIN (%d of %d tries left before a lockout)", storage.PINMaxFailures-c.Failures, storage.PINMaxFailures), false
}
