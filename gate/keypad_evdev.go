package gate

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"sync"
	"time"

	"github.com/holoplot/go-evdev"
)

// EvdevKeypad reads a USB/HID numeric keypad from /dev/input/event*. The
// device is grabbed, so the digits never reach a console or another
// program. The user needs read access to the device (the `input` group).
type EvdevKeypad struct {
	dev       eventDevice
	closeOnce sync.Once
}

var _ Keypad = (*EvdevKeypad)(nil)

// eventDevice is what EvdevKeypad needs of *evdev.InputDevice: recorded
// event streams stand in for it in tests.
type eventDevice interface {
	ReadOne() (*evdev.InputEvent, error)
	Close() error
}

// OpenEvdevKeypad opens and grabs the keypad at path (find it under
// /dev/input/by-id/*-event-kbd). A device without digit keys is refused.
func OpenEvdevKeypad(path string) (*EvdevKeypad, error) {
	d, err := evdev.Open(path)
	if err != nil {
		return nil, fmt.Errorf("keypad %s: %w (is the user in the input group?)", path, err)
	}
	keys := d.CapableEvents(evdev.EV_KEY)
	if !slices.Contains(keys, evdev.KEY_KP1) && !slices.Contains(keys, evdev.KEY_1) {
		name, _ := d.Name()
		d.Close()
		return nil, fmt.Errorf("keypad %s (%q) has no digit keys: pick the keypad's event device under /dev/input/by-id", path, name)
	}
	if err := d.Grab(); err != nil {
		d.Close()
		return nil, fmt.Errorf("keypad %s: grab: %w (is another program holding it?)", path, err)
	}
	return &EvdevKeypad{dev: d}, nil
}

// Run reads key events until ctx ends (then it closes the device, which
// ends the blocked read) or the device fails (unplugged: an error).
func (k *EvdevKeypad) Run(ctx context.Context, entered func(PINEntry)) error {
	stop := context.AfterFunc(ctx, func() { k.Close() })
	defer stop()
	var buf pinBuffer
	for {
		ev, err := k.dev.ReadOne()
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			if errors.Is(err, io.EOF) || errors.Is(err, os.ErrClosed) {
				return fmt.Errorf("keypad: device gone: %w", err)
			}
			return fmt.Errorf("keypad: %w", err)
		}
		// Only presses count: value 2 is the kernel's auto-repeat of a held
		// key, which must not type the digit again; 0 is the release.
		if ev.Type != evdev.EV_KEY || ev.Value != 1 {
			continue
		}
		key, digit := evdevKey(ev.Code)
		if key == KeyNone {
			continue
		}
		at := time.Unix(ev.Time.Sec, ev.Time.Usec*1000)
		if e, ok := buf.press(key, digit, at); ok {
			entered(e)
		}
	}
}

// Close releases the device (safe to call twice).
func (k *EvdevKeypad) Close() error {
	var err error
	k.closeOnce.Do(func() { err = k.dev.Close() })
	return err
}

// evdevKey maps a key code to a PIN pad key: the keypad's own digits and
// the top-row digits (some keypads send those), Enter on either block,
// Backspace, and Esc or the keypad's * to start again.
func evdevKey(c evdev.EvCode) (Key, byte) {
	switch {
	case c >= evdev.KEY_1 && c <= evdev.KEY_9:
		return KeyDigit, byte(c-evdev.KEY_1) + 1
	case c == evdev.KEY_0 || c == evdev.KEY_KP0:
		return KeyDigit, 0
	case c >= evdev.KEY_KP7 && c <= evdev.KEY_KP9:
		return KeyDigit, byte(c-evdev.KEY_KP7) + 7
	case c >= evdev.KEY_KP4 && c <= evdev.KEY_KP6:
		return KeyDigit, byte(c-evdev.KEY_KP4) + 4
	case c >= evdev.KEY_KP1 && c <= evdev.KEY_KP3:
		return KeyDigit, byte(c-evdev.KEY_KP1) + 1
	case c == evdev.KEY_ENTER || c == evdev.KEY_KPENTER:
		return KeyEnter, 0
	case c == evdev.KEY_BACKSPACE:
		return KeyBack, 0
	case c == evdev.KEY_ESC || c == evdev.KEY_KPASTERISK:
		return KeyClear, 0
	}
	return KeyNone, 0
}
