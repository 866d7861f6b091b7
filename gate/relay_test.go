package gate

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/creack/pty"
	"github.com/warthog618/go-gpiocdev"
)

// recSwitch records every Set and can be told to fail.
type recSwitch struct {
	mu     sync.Mutex
	states []bool
	fail   int // fail this many next Set calls
	closed bool
}

func (r *recSwitch) Set(on bool) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.fail > 0 {
		r.fail--
		return errors.New("injected switch failure")
	}
	r.states = append(r.states, on)
	return nil
}

func (r *recSwitch) Close() error { r.closed = true; return nil }

func (r *recSwitch) last() (bool, int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.states) == 0 {
		return false, 0
	}
	return r.states[len(r.states)-1], len(r.states)
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(3 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestSwitchRelayFailSecure(t *testing.T) {
	sw := &recSwitch{}
	r, err := NewSwitchRelay(sw, nil)
	if err != nil {
		t.Fatal(err)
	}
	if on, n := sw.last(); on || n != 1 {
		t.Fatalf("not locked first: %v", sw.states)
	}
	if err := r.Pulse(60 * time.Millisecond); err != nil {
		t.Fatal(err)
	}
	if on, _ := sw.last(); !on || !r.Unlocked() {
		t.Fatal("pulse did not unlock")
	}
	// The pulse ends by itself: nobody calls anything.
	waitFor(t, "relock", func() bool { on, _ := sw.last(); return !on })
	if r.Unlocked() {
		t.Fatal("relay thinks it is unlocked")
	}

	// A longer pulse during a pulse extends it; a shorter one does not cut it.
	r.Pulse(80 * time.Millisecond)
	r.Pulse(10 * time.Millisecond)
	time.Sleep(40 * time.Millisecond)
	if on, _ := sw.last(); !on {
		t.Fatal("short pulse cut a longer one")
	}
	waitFor(t, "relock after longer pulse", func() bool { on, _ := sw.last(); return !on })

	// Halt cancels a pulse and locks at once.
	r.Pulse(time.Minute)
	if err := r.Halt(); err != nil {
		t.Fatal(err)
	}
	if on, _ := sw.last(); on || r.Unlocked() {
		t.Fatal("Halt did not lock")
	}
	for _, d := range []time.Duration{0, -time.Second, MaxPulse + time.Second} {
		if err := r.Pulse(d); !errors.Is(err, ErrPulseRange) {
			t.Errorf("Pulse(%s) = %v", d, err)
		}
	}
	if err := r.Close(); err != nil || !sw.closed {
		t.Fatal("Close did not halt and release")
	}
}

func TestSwitchRelayRetriesRelock(t *testing.T) {
	sw := &recSwitch{}
	var errs []error
	var mu sync.Mutex
	r, _ := NewSwitchRelay(sw, func(err error) { mu.Lock(); errs = append(errs, err); mu.Unlock() })
	r.Pulse(20 * time.Millisecond)
	sw.mu.Lock()
	sw.fail = 1 // the timer's first lock attempt fails
	sw.mu.Unlock()
	waitFor(t, "relock after retry", func() bool { on, _ := sw.last(); return !on })
	mu.Lock()
	defer mu.Unlock()
	if len(errs) != 1 {
		t.Fatalf("relock failure not reported: %v", errs)
	}
}

func TestSwitchRelayLockFailsAtStart(t *testing.T) {
	if _, err := NewSwitchRelay(&recSwitch{fail: 1}, nil); err == nil {
		t.Fatal("a relay that cannot lock at start was accepted")
	}
	// Failing unlock: reported, and the relay tries to lock.
	sw := &recSwitch{}
	r, _ := NewSwitchRelay(sw, nil)
	sw.fail = 1
	if err := r.Pulse(time.Second); err == nil || r.Unlocked() {
		t.Fatal("failed unlock not reported")
	}
}

// The serial driver talks to a pseudo-terminal; the test reads the bytes a
// relay board would receive.
func TestSerialSwitchFrames(t *testing.T) {
	ptmx, tty, err := pty.Open()
	if err != nil {
		t.Fatalf("pty: %v", err)
	}
	defer ptmx.Close()
	defer tty.Close()
	sw, err := OpenSerialSwitch(tty.Name(), 1)
	if err != nil {
		t.Fatal(err)
	}
	r, err := NewSwitchRelay(sw, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := r.Pulse(30 * time.Millisecond); err != nil {
		t.Fatal(err)
	}
	want := []byte{0xA0, 0x01, 0x00, 0xA1, 0xA0, 0x01, 0x01, 0xA2, 0xA0, 0x01, 0x00, 0xA1} // lock, unlock, relock
	got := make([]byte, len(want))
	ptmx.SetReadDeadline(time.Now().Add(3 * time.Second))
	if _, err := io.ReadFull(ptmx, got); err != nil {
		t.Fatalf("read from pty: %v (got % X)", err, got)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("frames % X, want % X", got, want)
	}
	r.Close()
	if _, err := OpenSerialSwitch(tty.Name(), 9); err == nil {
		t.Fatal("channel 9 accepted")
	}
	if _, err := OpenSerialSwitch(filepath.Join(t.TempDir(), "ttyUSB9"), 1); err == nil || !strings.Contains(err.Error(), "plugged in") {
		t.Fatalf("missing port: %v", err)
	}
}

func TestLCUSFrame(t *testing.T) {
	if f := lcusFrame(2, true); !bytes.Equal(f, []byte{0xA0, 0x02, 0x01, 0xA3}) {
		t.Fatalf("% X", f)
	}
}

// The HTTP driver talks to a Shelly-like RPC server.
func TestHTTPSwitch(t *testing.T) {
	var mu sync.Mutex
	var calls []map[string]any
	failNext := false
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var req struct {
			Method string         `json:"method"`
			Params map[string]any `json:"params"`
		}
		if r.Method != http.MethodPost || r.URL.Path != "/rpc" || json.NewDecoder(r.Body).Decode(&req) != nil || req.Method != "Switch.Set" {
			http.Error(w, "bad request", 400)
			return
		}
		mu.Lock()
		calls = append(calls, req.Params)
		f := failNext
		failNext = false
		mu.Unlock()
		if f {
			w.Write([]byte(`{"id":1,"error":{"code":-103,"message":"Invalid argument"}}`))
			return
		}
		w.Write([]byte(`{"id":1,"result":{"was_on":false}}`))
	}))
	defer srv.Close()
	sw := &HTTPSwitch{URL: srv.URL + "/rpc", ID: 0}
	r, err := NewSwitchRelay(sw, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := r.Pulse(1500 * time.Millisecond); err != nil {
		t.Fatal(err)
	}
	r.Halt()
	mu.Lock()
	if len(calls) != 3 || calls[0]["on"] != false || calls[1]["on"] != true || calls[1]["toggle_after"] != 2.0 || calls[2]["on"] != false {
		t.Fatalf("RPC calls %v: want lock, unlock with the device's toggle_after=2, lock", calls)
	}
	failNext = true
	mu.Unlock()
	if err := r.Pulse(time.Second); err == nil || !strings.Contains(err.Error(), "Invalid argument") {
		t.Fatalf("RPC error not reported: %v", err)
	}
	srv.Close()
	if err := (&HTTPSwitch{URL: srv.URL + "/rpc"}).Set(false); err == nil {
		t.Fatal("unreachable relay not reported")
	}
}

// fakeLine stands in for *gpiocdev.Line where the kernel offers no GPIO
// simulator (as in CI's sandbox).
type fakeLine struct{ values []int }

func (f *fakeLine) SetValue(v int) error { f.values = append(f.values, v); return nil }
func (f *fakeLine) Close() error         { return nil }

func TestGPIOSwitch(t *testing.T) {
	l := &fakeLine{}
	r, err := NewSwitchRelay(&GPIOSwitch{line: l}, nil)
	if err != nil {
		t.Fatal(err)
	}
	r.Pulse(20 * time.Millisecond)
	waitFor(t, "relock", func() bool { return !r.Unlocked() })
	if len(l.values) != 3 || l.values[0] != 0 || l.values[1] != 1 || l.values[2] != 0 {
		t.Fatalf("line values %v, want 0 1 0", l.values)
	}
	if _, err := OpenGPIOSwitch("gpiochip-nonexistent", 4, true); err == nil || !strings.Contains(err.Error(), "gpiodetect") {
		t.Fatalf("missing chip: %v", err)
	}
	for _, c := range []struct {
		edge     gpiocdev.LineEventType
		openHigh bool
		open     bool
	}{
		{gpiocdev.LineEventRisingEdge, true, true},
		{gpiocdev.LineEventFallingEdge, true, false},
		{gpiocdev.LineEventRisingEdge, false, false},
		{gpiocdev.LineEventFallingEdge, false, true},
	} {
		if got := edgeOpen(c.edge, c.openHigh); got != c.open {
			t.Errorf("edgeOpen(%v, openHigh=%v) = %v, want %v", c.edge, c.openHigh, got, c.open)
		}
	}
}

func TestFileSwitch(t *testing.T) {
	path := filepath.Join(t.TempDir(), "relay", "state")
	sw, err := OpenFileSwitch(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	r, _ := NewSwitchRelay(sw, nil)
	if on, err := ReadFileSwitch(path); err != nil || on {
		t.Fatalf("state after start: %v %v", on, err)
	}
	r.Pulse(time.Second)
	if on, _ := ReadFileSwitch(path); !on {
		t.Fatal("file does not say unlocked")
	}
	r.Close()
	if on, _ := ReadFileSwitch(path); on {
		t.Fatal("file does not say locked after Close")
	}
	log, _ := os.ReadFile(path + ".log")
	if got := strings.Count(string(log), "\n"); got != 3 { // lock at start, unlock, lock on Close
		t.Fatalf("log has %d lines:\n%s", got, log)
	}
}
