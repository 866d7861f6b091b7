package web

import (
	"context"
	"sync"
	"time"

	"github.com/facegate/facegate/gate"
)

// WebKeypad is the PIN pad of a tablet at a face+pin door: the keypad
// page (served to a paired tablet, see page_keypad.go) posts each PIN,
// and Run hands it to the door's PIN pad like the USB keypad's
// (gate.EvdevKeypad). It does nothing until a tablet is paired to the
// door and someone types.
type WebKeypad struct {
	door  string
	typed chan gate.PINEntry

	mu      sync.Mutex
	matched time.Time // the last face matched at this door, waiting for a PIN
	closed  bool
}

// keypadQueue: PINs typed faster than the door takes them are dropped
// beyond this (the door only ever uses the newest anyway).
const keypadQueue = 8

// NewWebKeypad makes the web keypad of door.
func NewWebKeypad(door string) *WebKeypad {
	return &WebKeypad{door: door, typed: make(chan gate.PINEntry, keypadQueue)}
}

// Door is the door the keypad belongs to.
func (k *WebKeypad) Door() string { return k.door }

// Run delivers each PIN typed on a paired tablet until ctx ends.
func (k *WebKeypad) Run(ctx context.Context, entered func(gate.PINEntry)) error {
	for {
		select {
		case <-ctx.Done():
			return nil
		case e := <-k.typed:
			entered(e)
		}
	}
}

// Close stops taking PINs.
func (k *WebKeypad) Close() error {
	k.mu.Lock()
	k.closed = true
	k.mu.Unlock()
	return nil
}

// enter queues a PIN typed at t; false when the keypad is closed or full.
func (k *WebKeypad) enter(digits string, t time.Time) bool {
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.closed {
		return false
	}
	select {
	case k.typed <- gate.PINEntry{Digits: digits, At: t}:
		return true
	default:
		return false
	}
}

// FaceMatched tells the keypad a face was matched at its door at t and
// the door now waits for the PIN: the tablet says "enter your PIN".
func (k *WebKeypad) FaceMatched(t time.Time) {
	if k == nil {
		return
	}
	k.mu.Lock()
	k.matched = t
	k.mu.Unlock()
}

// awaiting reports whether the door waits for a PIN at now.
func (k *WebKeypad) awaiting(now time.Time) bool {
	k.mu.Lock()
	defer k.mu.Unlock()
	return !k.matched.IsZero() && now.Sub(k.matched) < gate.PINAfter
}
