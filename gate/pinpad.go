package gate

import (
	"context"
	"sync"
	"time"
)

// A face+pin attempt takes the newest PIN typed from PINBefore before the
// face was matched to PINAfter after it: people type while they walk up,
// or once the display tells them their face was seen.
const (
	PINBefore = 10 * time.Second
	PINAfter  = 8 * time.Second
)

// PINPad gathers the PINs typed at one door, from any number of keypads
// (Enter is the callback of Keypad.Run), and hands each to at most one
// face match.
type PINPad struct {
	mu      sync.Mutex
	entries []PINEntry // oldest first, none older than PINBefore
	unused  []PINEntry // dropped without serving a face match, until Unused
	wake    chan struct{}
	now     func() time.Time
	after   func(time.Duration) <-chan time.Time
}

// NewPINPad makes a pad on the given clock (time.Now and time.After when
// nil; tests inject theirs).
func NewPINPad(now func() time.Time, after func(time.Duration) <-chan time.Time) *PINPad {
	if now == nil {
		now = time.Now
	}
	if after == nil {
		after = time.After
	}
	return &PINPad{wake: make(chan struct{}), now: now, after: after}
}

// Enter takes one PIN as typed.
func (p *PINPad) Enter(e PINEntry) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.entries = append(p.entries, e)
	p.prune(p.now())
	close(p.wake) // wakes every Await
	p.wake = make(chan struct{})
}

func (p *PINPad) prune(now time.Time) {
	n := 0
	for n < len(p.entries) && now.Sub(p.entries[n].At) > PINBefore {
		n++
	}
	n = max(n, len(p.entries)-8) // a child at the keypad: keep the newest
	p.unused = append(p.unused, p.entries[:n]...)
	p.entries = p.entries[n:]
}

// unusedAfter is how old an entry must be before Unused reports it: past
// PINBefore no new match can take it, and a match is decided up to a
// couple of seconds after its frame (measured p95 122 ms; 2 s is slack).
const unusedAfter = PINBefore + 2*time.Second

// Unused removes and returns the PINs that no face match took: typed more
// than PINBefore (plus slack) ago, or pushed out by newer ones. Every PIN
// typed is an attempt the door records, including those without a face.
func (p *PINPad) Unused() []PINEntry {
	p.mu.Lock()
	defer p.mu.Unlock()
	now := p.now()
	n := 0
	for n < len(p.entries) && now.Sub(p.entries[n].At) > unusedAfter {
		n++
	}
	out := append(p.unused, p.entries[:n]...)
	p.entries, p.unused = p.entries[n:], nil
	return out
}

// Await returns the newest PIN typed within [matched−PINBefore,
// matched+PINAfter], waiting until matched+PINAfter for one; the PIN is
// used up. false: none came (or ctx ended).
func (p *PINPad) Await(ctx context.Context, matched time.Time) (PINEntry, bool) {
	deadline := p.after(max(0, matched.Add(PINAfter).Sub(p.now())))
	for {
		p.mu.Lock()
		if e, ok := p.take(matched); ok {
			p.mu.Unlock()
			return e, true
		}
		wake := p.wake
		p.mu.Unlock()
		select {
		case <-wake:
		case <-deadline:
			return PINEntry{}, false
		case <-ctx.Done():
			return PINEntry{}, false
		}
	}
}

// take removes and returns the newest entry in the window. Caller holds mu.
func (p *PINPad) take(matched time.Time) (PINEntry, bool) {
	for i := len(p.entries) - 1; i >= 0; i-- {
		e := p.entries[i]
		if !e.At.Before(matched.Add(-PINBefore)) && !e.At.After(matched.Add(PINAfter)) {
			p.entries = append(p.entries[:i:i], p.entries[i+1:]...)
			return e, true
		}
	}
	return PINEntry{}, false
}
