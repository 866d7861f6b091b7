package gate

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"
)

type eventLog struct {
	mu sync.Mutex
	ev []Event
}

func (l *eventLog) emit(e Event) { l.mu.Lock(); l.ev = append(l.ev, e); l.mu.Unlock() }

func (l *eventLog) kinds() []EventKind {
	l.mu.Lock()
	defer l.mu.Unlock()
	var ks []EventKind
	for _, e := range l.ev {
		ks = append(ks, e.Kind)
	}
	return ks
}

func (l *eventLog) find(k EventKind) (Event, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, e := range l.ev {
		if e.Kind == k {
			return e, true
		}
	}
	return Event{}, false
}

func newDoor(t *testing.T, door string, mutate func(*Policy)) (*Controller, *recSwitch, *eventLog) {
	t.Helper()
	p := site(t)
	if mutate != nil {
		mutate(p)
	}
	sw := &recSwitch{}
	r, err := NewSwitchRelay(sw, nil)
	if err != nil {
		t.Fatal(err)
	}
	sw.Set(true) // pretend a previous run left it open: the controller must lock first
	log := &eventLog{}
	c, err := NewController(func() *Policy { return p }, door, r, nil, log.emit, nil)
	if err != nil {
		t.Fatal(err)
	}
	if on, _ := sw.last(); on {
		t.Fatal("controller did not lock at start")
	}
	t.Cleanup(func() { r.Halt() })
	return c, sw, log
}

func TestControllerGrantDenyAndEvents(t *testing.T) {
	c, sw, log := newDoor(t, "front", nil)
	staff := &Person{ID: 1, Name: "Sato", Groups: []string{"staff"}}
	if d := c.Attempt(Request{Person: staff, Time: jst(t, "2026-11-24 07:00")}); d.Grant {
		t.Fatal("granted outside schedule")
	}
	if on, _ := sw.last(); on {
		t.Fatal("relay pulsed on a denial")
	}
	if d := c.Attempt(Request{Person: staff, Time: jst(t, "2026-11-24 09:00")}); !d.Grant {
		t.Fatalf("denied: %s", d.Reason)
	}
	if on, _ := sw.last(); !on {
		t.Fatal("relay not pulsed on a grant")
	}
	c.Attempt(Request{Person: nil, Time: jst(t, "2026-11-24 09:01")})
	want := []EventKind{EventDenied, EventGranted, EventDenied}
	if got := log.kinds(); strings.Join(kindStrings(got), ",") != strings.Join(kindStrings(want), ",") {
		t.Fatalf("events %v, want %v", got, want)
	}
	e, _ := log.find(EventGranted)
	if e.PersonID != 1 || e.Rule != "staff office" || e.Code != ReasonGranted {
		t.Fatalf("grant event %+v", e)
	}
	if _, err := NewController(func() *Policy { return site(t) }, "roof", &SwitchRelay{sw: &recSwitch{}}, nil, log.emit, nil); err == nil {
		t.Fatal("unknown door accepted")
	}
}

func kindStrings(ks []EventKind) []string {
	var s []string
	for _, k := range ks {
		s = append(s, string(k))
	}
	return s
}

func TestControllerDoorContact(t *testing.T) {
	c, _, log := newDoor(t, "front", func(p *Policy) {
		d := p.Doors["front"]
		d.HeldOpenAfter = 30 * time.Second
		p.Doors["front"] = d
	})
	t0 := jst(t, "2026-11-24 09:00")
	// Opened with no grant: forced.
	if c.DoorOpen() {
		t.Fatal("door open before any report")
	}
	c.DoorChanged(true, t0)
	if _, ok := log.find(EventDoorForced); !ok {
		t.Fatal("forced door not reported")
	}
	if !c.DoorOpen() {
		t.Fatal("DoorOpen false after the contact opened")
	}
	c.DoorChanged(false, t0.Add(2*time.Second))
	if c.DoorOpen() {
		t.Fatal("DoorOpen true after the contact closed")
	}
	// Opened within a grant: fine; held open past the limit: alarm, once.
	staff := &Person{ID: 1, Name: "Sato", Groups: []string{"staff"}}
	c.Attempt(Request{Person: staff, Time: t0.Add(time.Minute)})
	c.DoorChanged(true, t0.Add(time.Minute+2*time.Second))
	c.Tick(t0.Add(time.Minute + 20*time.Second))
	if _, ok := log.find(EventDoorHeldOpen); ok {
		t.Fatal("held-open too early")
	}
	c.Tick(t0.Add(time.Minute + 33*time.Second))
	c.Tick(t0.Add(time.Minute + 40*time.Second))
	n := 0
	for _, k := range log.kinds() {
		if k == EventDoorHeldOpen {
			n++
		}
		if k == EventDoorForced {
			n += 100
		}
	}
	if n != 101 {
		t.Fatalf("want one forced and one held-open event, got %v", log.kinds())
	}
}

func TestControllerTailgating(t *testing.T) {
	c, _, log := newDoor(t, "front", nil)
	staff := &Person{ID: 1, Name: "Sato", Groups: []string{"staff"}}
	t0 := jst(t, "2026-11-24 09:00")
	c.Attempt(Request{Person: staff, Time: t0})
	c.FacesAtDoor(1, t0.Add(time.Second))
	if _, ok := log.find(EventTailgating); ok {
		t.Fatal("one face is not tailgating")
	}
	c.FacesAtDoor(2, t0.Add(2*time.Second))
	c.FacesAtDoor(3, t0.Add(3*time.Second))
	e, ok := log.find(EventTailgating)
	if !ok || !strings.Contains(e.Reason, "2 faces") {
		t.Fatalf("tailgating not reported once: %v", log.kinds())
	}
	// Outside the grant window, faces are just passers-by.
	c2, _, log2 := newDoor(t, "front", nil)
	c2.FacesAtDoor(2, t0.Add(time.Hour))
	if _, ok := log2.find(EventTailgating); ok {
		t.Fatal("tailgating without a grant")
	}
}

func TestControllerPassageAndRemoteUnlock(t *testing.T) {
	c, sw, log := newDoor(t, "front", func(p *Policy) {
		d := p.Doors["front"]
		d.Passage = &Schedule{Name: "lobby open", Windows: []Window{mustWindow(t, "Mon-Fri 09:00-12:00")}}
		p.Doors["front"] = d
	})
	c.Tick(jst(t, "2026-11-24 08:59"))
	if _, ok := log.find(EventPassageStart); ok {
		t.Fatal("passage early")
	}
	c.Tick(jst(t, "2026-11-24 09:00"))
	if e, ok := log.find(EventPassageStart); !ok || !strings.Contains(e.Reason, "Mon–Fri 09:00–12:00") {
		t.Fatalf("passage start: %v", log.kinds())
	}
	if on, _ := sw.last(); !on {
		t.Fatal("door not unlocked in passage mode")
	}
	// Opening the door in passage mode is not forced.
	c.DoorChanged(true, jst(t, "2026-11-24 10:00"))
	if _, ok := log.find(EventDoorForced); ok {
		t.Fatal("passage opening reported as forced")
	}
	c.DoorChanged(false, jst(t, "2026-11-24 10:00"))
	c.Tick(jst(t, "2026-11-24 12:00"))
	if _, ok := log.find(EventPassageEnd); !ok {
		t.Fatal("passage end not reported")
	}
	if on, _ := sw.last(); on {
		t.Fatal("door left unlocked after passage")
	}
	if err := c.RemoteUnlock("admin@example", "courier delivery"); err != nil {
		t.Fatal(err)
	}
	e, ok := log.find(EventRemoteUnlock)
	if !ok || e.By != "admin@example" || e.Reason != "courier delivery" {
		t.Fatalf("remote unlock event %+v", e)
	}
	if on, _ := sw.last(); !on {
		t.Fatal("remote unlock did not pulse")
	}
}

func TestControllerRunLocksOnStop(t *testing.T) {
	c, sw, _ := newDoor(t, "front", nil)
	fake := NewFakeSensor()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- c.Run(ctx, fake) }()
	c.RemoteUnlock("admin", "test")
	fake.Set(true)
	waitFor(t, "sensor reaches controller", func() bool { c.mu.Lock(); defer c.mu.Unlock(); return c.open })
	cancel()
	<-done
	if on, _ := sw.last(); on {
		t.Fatal("door left unlocked when the controller stopped")
	}
}
