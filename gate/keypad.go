package gate

import (
	"context"
	"time"
)

// Keypad is a PIN entry device at a door: a USB numeric keypad read from
// Linux input events (EvdevKeypad), or the web keypad page on a tablet.
// Run delivers each PIN typed (digits, then Enter) until ctx ends or the
// device fails; a device that fails returns its error and the door's
// face+pin decisions then deny with "no PIN entered" (fail secure).
type Keypad interface {
	Run(ctx context.Context, entered func(PINEntry)) error
	Close() error
}

// PINEntry is one PIN as typed. Its length is not checked here (the policy
// refuses one outside 4–8 digits, as a wrong PIN).
type PINEntry struct {
	Digits string
	At     time.Time
}

// Key is one key of a PIN pad, whatever the device.
type Key int

const (
	KeyNone  Key = iota
	KeyDigit     // 0–9, the digit passed beside it
	KeyEnter     // submit the digits typed
	KeyBack      // delete the last digit
	KeyClear     // start again
)

const (
	// PINIdle: keys more than this apart start a new PIN, so digits left by
	// someone who walked away do not prefix the next person's PIN.
	PINIdle = 10 * time.Second
	// maxPINBuffer bounds what is kept of a key held down or a child at
	// the keypad; a PIN that long is refused by the policy anyway.
	maxPINBuffer = 16
)

// pinBuffer turns key presses into PIN entries. It is the part every
// keypad driver shares; the time of each key comes from the device.
type pinBuffer struct {
	digits []byte
	last   time.Time
}

// press applies one key pressed at t and returns the entry it completes.
func (b *pinBuffer) press(k Key, digit byte, t time.Time) (PINEntry, bool) {
	if !b.last.IsZero() && t.Sub(b.last) > PINIdle {
		b.digits = b.digits[:0]
	}
	b.last = t
	switch k {
	case KeyDigit:
		if len(b.digits) < maxPINBuffer {
			b.digits = append(b.digits, '0'+digit)
		}
	case KeyBack:
		if len(b.digits) > 0 {
			b.digits = b.digits[:len(b.digits)-1]
		}
	case KeyClear:
		b.digits = b.digits[:0]
	case KeyEnter:
		if len(b.digits) == 0 {
			return PINEntry{}, false
		}
		e := PINEntry{Digits: string(b.digits), At: t}
		b.digits = b.digits[:0]
		return e, true
	}
	return PINEntry{}, false
}
