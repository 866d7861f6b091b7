package gate

import (
	"errors"
	"fmt"
	"sync"
	"time"
)

// MaxPulse bounds any single unlock: a door is never unlocked for longer
// by one command, so a lost "lock" can only leave it open this long.
// Passage mode re-pulses within it.
const MaxPulse = 2 * time.Minute

// Relay drives a lock. Pulse unlocks and relocks by itself after d, even if
// the caller goes away: the timer lives in the driver. Halt locks now and
// cancels any pulse.
type Relay interface {
	Pulse(d time.Duration) error
	Halt() error
	Unlocked() bool
}

// Switch is the raw output a relay drives: Set(true) unlocks.
type Switch interface {
	Set(unlocked bool) error
	Close() error
}

// PulseSwitch is a switch that can itself turn off after d (e.g. Shelly's
// toggle_after), so the door relocks even if this process dies mid-pulse.
type PulseSwitch interface {
	Switch
	SetFor(d time.Duration) error
}

// SwitchRelay gives any Switch fail-secure relay behaviour: locked on
// creation, every pulse timed in here, Halt locks.
type SwitchRelay struct {
	mu       sync.Mutex
	sw       Switch
	timer    *time.Timer
	until    time.Time
	unlocked bool
	onError  func(error)
	now      func() time.Time
}

var _ Relay = (*SwitchRelay)(nil)

// NewSwitchRelay locks sw before anything else and returns the relay.
// onError (may be nil) hears of failures to relock from the timer.
func NewSwitchRelay(sw Switch, onError func(error)) (*SwitchRelay, error) {
	if err := sw.Set(false); err != nil {
		return nil, fmt.Errorf("relay: lock at start: %w", err)
	}
	if onError == nil {
		onError = func(error) {}
	}
	return &SwitchRelay{sw: sw, onError: onError, now: time.Now}, nil
}

// ErrPulseRange is returned for a pulse of zero or more than MaxPulse.
var ErrPulseRange = errors.New("relay: pulse length out of range")

// Pulse unlocks for d. A pulse during a pulse extends it to the later end.
func (r *SwitchRelay) Pulse(d time.Duration) error {
	if d <= 0 || d > MaxPulse {
		return fmt.Errorf("%w: %s (want (0, %s])", ErrPulseRange, d, MaxPulse)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	end := r.now().Add(d)
	if r.unlocked && end.Before(r.until) {
		return nil
	}
	var err error
	if ps, ok := r.sw.(PulseSwitch); ok {
		err = ps.SetFor(d)
	} else {
		err = r.sw.Set(true)
	}
	if err != nil {
		// Unknown state: try to lock, report the failure to unlock.
		r.sw.Set(false)
		r.unlocked = false
		return fmt.Errorf("relay: unlock: %w", err)
	}
	r.unlocked, r.until = true, end
	if r.timer != nil {
		r.timer.Stop()
	}
	r.timer = time.AfterFunc(d, r.expire)
	return nil
}

func (r *SwitchRelay) expire() {
	r.mu.Lock()
	defer r.mu.Unlock()
	if !r.unlocked || r.now().Before(r.until) {
		return
	}
	if err := r.lockLocked(); err != nil {
		r.onError(err)
		// Keep trying: a door must not stay unlocked.
		r.timer = time.AfterFunc(time.Second, r.expire)
	}
}

func (r *SwitchRelay) lockLocked() error {
	if err := r.sw.Set(false); err != nil {
		return fmt.Errorf("relay: lock: %w", err)
	}
	r.unlocked = false
	return nil
}

// Halt locks now and cancels any pulse.
func (r *SwitchRelay) Halt() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.timer != nil {
		r.timer.Stop()
		r.timer = nil
	}
	r.unlocked = true // force the write even if we think it is locked
	return r.lockLocked()
}

// Close halts and releases the switch.
func (r *SwitchRelay) Close() error {
	err := r.Halt()
	return errors.Join(err, r.sw.Close())
}

// Unlocked reports what the relay last commanded.
func (r *SwitchRelay) Unlocked() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.unlocked
}
