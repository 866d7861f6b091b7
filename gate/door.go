package gate

import (
	"context"
	"fmt"
	"sync"
	"time"
)

// Tunables of the door controller.
const (
	// grantGrace: after a pulse ends, the door may still be opened this
	// long without counting as forced (the latch releases slowly, people
	// pull late).
	grantGrace = 3 * time.Second
	// passagePulse and passageRefresh: passage mode keeps the door open with
	// pulses re-armed well before they end, so a dead process relocks the
	// door within passagePulse.
	passagePulse   = 90 * time.Second
	passageRefresh = 30 * time.Second
	// tickEvery is how often passage mode and held-open are checked.
	tickEvery = time.Second
)

// Controller runs one door: it applies decisions to the relay, keeps the
// passage schedule, and watches the door contact.
type Controller struct {
	policy   func() *Policy
	door     string
	relay    Relay
	presence *Presence
	emit     func(Event)
	now      func() time.Time

	mu           sync.Mutex
	authUntil    time.Time // door may be opened until then
	grantFaces   int       // faces seen in the current grant window
	tailgateSent bool
	passage      bool
	lastPassage  time.Time
	open         bool
	openedAt     time.Time
	heldSent     bool
}

// NewController locks the relay first (fail secure) and returns the door's
// controller. policy is read on every decision so edits apply at once.
func NewController(policy func() *Policy, door string, relay Relay, presence *Presence, emit func(Event), now func() time.Time) (*Controller, error) {
	if now == nil {
		now = time.Now
	}
	if _, ok := policy().Doors[door]; !ok {
		return nil, fmt.Errorf("gate: unknown door %q", door)
	}
	if err := relay.Halt(); err != nil {
		return nil, fmt.Errorf("gate: door %s: lock at start: %w", door, err)
	}
	if presence == nil {
		presence = NewPresence()
	}
	return &Controller{policy: policy, door: door, relay: relay, presence: presence, emit: emit, now: now}, nil
}

func (c *Controller) doorCfg() Door { return c.policy().Doors[c.door] }

// Attempt decides a request at this door and, on a grant, pulses the relay.
func (c *Controller) Attempt(req Request) Decision {
	req.Door = c.door
	if req.Time.IsZero() {
		req.Time = c.now()
	}
	d := c.policy().Decide(req, c.presence)
	ev := Event{Door: c.door, Time: req.Time, Code: d.Code, Reason: d.Reason, Rule: d.Rule}
	if req.Person != nil {
		ev.PersonID = req.Person.ID
	}
	if !d.Grant {
		ev.Kind = EventDenied
		c.emit(ev)
		return d
	}
	if err := c.relay.Pulse(d.Door.OpenTime); err != nil {
		c.emit(Event{Kind: EventRelayError, Door: c.door, Time: req.Time, Reason: err.Error()})
		d.Grant, d.Reason = false, "relay failed: "+err.Error()
		ev.Kind, ev.Reason = EventDenied, d.Reason
		c.emit(ev)
		return d
	}
	c.mu.Lock()
	c.authUntil = req.Time.Add(d.Door.OpenTime + grantGrace)
	c.grantFaces, c.tailgateSent = 1, false
	c.mu.Unlock()
	ev.Kind = EventGranted
	c.emit(ev)
	if c.presence.Record(ev.PersonID, d.Door, req.Time) {
		c.emit(Event{Kind: EventExitWithoutEntry, Door: c.door, Time: req.Time, PersonID: ev.PersonID,
			Reason: "exit recorded with no entry into " + d.Door.Area})
	}
	return d
}

// RemoteUnlock pulses the door on an admin's order, recorded with who and why.
func (c *Controller) RemoteUnlock(by, reason string) error {
	t := c.now()
	d := c.doorCfg()
	if err := c.relay.Pulse(d.OpenTime); err != nil {
		c.emit(Event{Kind: EventRelayError, Door: c.door, Time: t, By: by, Reason: err.Error()})
		return err
	}
	c.mu.Lock()
	c.authUntil = t.Add(d.OpenTime + grantGrace)
	c.grantFaces, c.tailgateSent = 0, true // nobody to tailgate
	c.mu.Unlock()
	c.emit(Event{Kind: EventRemoteUnlock, Door: c.door, Time: t, By: by, Reason: reason})
	return nil
}

// FacesAtDoor reports how many distinct faces the camera tracks passing
// the door now; more than one during a single grant is tailgating.
func (c *Controller) FacesAtDoor(n int, t time.Time) {
	c.mu.Lock()
	if t.After(c.authUntil) || c.passage || c.tailgateSent {
		c.mu.Unlock()
		return
	}
	if n > c.grantFaces {
		c.grantFaces = n
	}
	faces := c.grantFaces
	tailgate := faces > 1
	c.tailgateSent = c.tailgateSent || tailgate
	c.mu.Unlock()
	if tailgate {
		c.emit(Event{Kind: EventTailgating, Door: c.door, Time: t, Reason: fmt.Sprintf("%d faces passed on one grant", faces)})
	}
}

// Tick applies the passage schedule and the held-open alarm at time t.
func (c *Controller) Tick(t time.Time) {
	p := c.policy()
	d := p.Doors[c.door]
	inPassage := false
	if d.Passage != nil {
		_, inPassage = d.Passage.activeWindow(t.In(p.loc()), func(Date) bool { return false })
	}
	c.mu.Lock()
	was := c.passage
	c.passage = inPassage
	refresh := inPassage && (!was || t.Sub(c.lastPassage) >= passageRefresh)
	if refresh {
		c.lastPassage = t
	}
	held := c.open && !c.heldSent && d.HeldOpenAfter > 0 && !inPassage && t.Sub(c.openedAt) >= d.HeldOpenAfter
	if held {
		c.heldSent = true
	}
	openedAt := c.openedAt
	c.mu.Unlock()

	switch {
	case refresh:
		if err := c.relay.Pulse(passagePulse); err != nil {
			c.emit(Event{Kind: EventRelayError, Door: c.door, Time: t, Reason: err.Error()})
		}
		if !was {
			c.emit(Event{Kind: EventPassageStart, Door: c.door, Time: t, Reason: "scheduled passage " + d.Passage.String()})
		}
	case was && !inPassage:
		if err := c.relay.Halt(); err != nil {
			c.emit(Event{Kind: EventRelayError, Door: c.door, Time: t, Reason: err.Error()})
		}
		c.emit(Event{Kind: EventPassageEnd, Door: c.door, Time: t, Reason: "scheduled passage ended"})
	}
	if held {
		c.emit(Event{Kind: EventDoorHeldOpen, Door: c.door, Time: t,
			Reason: fmt.Sprintf("door open for %s (limit %s)", t.Sub(openedAt).Round(time.Second), d.HeldOpenAfter)})
	}
}

// DoorChanged reports the door contact. Opening with no grant, remote
// unlock or passage window running is a forced door.
func (c *Controller) DoorChanged(open bool, t time.Time) {
	c.mu.Lock()
	if open == c.open {
		c.mu.Unlock()
		return
	}
	c.open = open
	forced := false
	if open {
		c.openedAt, c.heldSent = t, false
		forced = t.After(c.authUntil) && !c.passage
	}
	c.mu.Unlock()
	if forced {
		c.emit(Event{Kind: EventDoorForced, Door: c.door, Time: t, Reason: "door opened with no grant"})
	}
}

// DoorOpen is the door contact's last report (false before any, and
// always with no sensor).
func (c *Controller) DoorOpen() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.open
}

// Run ticks the controller and follows the door sensor (may be nil) until
// ctx ends; then it locks the relay.
func (c *Controller) Run(ctx context.Context, sensor DoorSensor) error {
	defer c.relay.Halt()
	if sensor != nil {
		go sensor.Watch(ctx, c.DoorChanged)
	}
	tk := time.NewTicker(tickEvery)
	defer tk.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-tk.C:
			c.Tick(c.now())
		}
	}
}

// Halt locks the door now (shutdown, panic recovery, lost camera).
func (c *Controller) Halt() error { return c.relay.Halt() }
