package gate

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/warthog618/go-gpiocdev"
	"go.bug.st/serial"

	"github.com/facegate/facegate/storage/atomicfile"
)

// --- GPIO (Linux character device) ---

// gpioLine is what GPIOSwitch needs of a requested output line;
// *gpiocdev.Line is the real one.
type gpioLine interface {
	SetValue(int) error
	Close() error
}

// GPIOSwitch drives a relay board input from a GPIO line.
type GPIOSwitch struct{ line gpioLine }

var _ Switch = (*GPIOSwitch)(nil)

// OpenGPIOSwitch requests chip/offset as an output, initially locked.
// activeLow is for boards whose relay closes when the pin is pulled low
// (most opto-isolated 5 V boards).
func OpenGPIOSwitch(chip string, offset int, activeLow bool) (*GPIOSwitch, error) {
	opts := []gpiocdev.LineReqOption{gpiocdev.AsOutput(0), gpiocdev.WithConsumer("facegate-relay")}
	if activeLow {
		opts = append(opts, gpiocdev.AsActiveLow)
	}
	l, err := gpiocdev.RequestLine(chip, offset, opts...)
	if err != nil {
		return nil, fmt.Errorf("gpio %s line %d: %w (check the chip name with gpiodetect and that no other process holds the line)", chip, offset, err)
	}
	return &GPIOSwitch{line: l}, nil
}

// Set drives the line: logical 1 unlocks; active-low is handled by the kernel.
func (g *GPIOSwitch) Set(unlocked bool) error {
	v := 0
	if unlocked {
		v = 1
	}
	return g.line.SetValue(v)
}

func (g *GPIOSwitch) Close() error { return g.line.Close() }

// --- USB-serial relay boards (LCUS type) ---

// lcusFrame is the LCUS command: A0, channel, state, checksum (sum of the
// first three bytes), e.g. A0 01 01 A2 closes relay 1, A0 01 00 A1 opens it.
func lcusFrame(channel int, on bool) []byte {
	s := byte(0)
	if on {
		s = 1
	}
	c := byte(channel)
	return []byte{0xA0, c, s, 0xA0 + c + s}
}

// SerialSwitch drives one channel of an LCUS-type USB relay board.
type SerialSwitch struct {
	mu      sync.Mutex
	port    io.ReadWriteCloser
	channel int
}

var _ Switch = (*SerialSwitch)(nil)

// lcusBaud is the LCUS boards' fixed speed.
const lcusBaud = 9600

// OpenSerialSwitch opens the board's serial port (e.g. /dev/ttyUSB0).
func OpenSerialSwitch(path string, channel int) (*SerialSwitch, error) {
	if channel < 1 || channel > 8 {
		return nil, fmt.Errorf("serial relay channel %d: want 1–8", channel)
	}
	p, err := serial.Open(path, &serial.Mode{BaudRate: lcusBaud, DataBits: 8, Parity: serial.NoParity, StopBits: serial.OneStopBit})
	if err != nil {
		return nil, fmt.Errorf("serial relay %s: %w (is the board plugged in, and is the user in group dialout?)", path, err)
	}
	return &SerialSwitch{port: p, channel: channel}, nil
}

func (s *SerialSwitch) Set(unlocked bool) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	f := lcusFrame(s.channel, unlocked)
	n, err := s.port.Write(f)
	if err == nil && n != len(f) {
		err = io.ErrShortWrite
	}
	return err
}

func (s *SerialSwitch) Close() error { return s.port.Close() }

// --- HTTP relay (Shelly Gen2+ RPC) ---

// HTTPSwitch drives a Shelly-style relay with the Switch.Set RPC. Pulses use
// the device's own toggle_after, so the device relocks even if facegate dies.
type HTTPSwitch struct {
	URL    string // e.g. http://192.0.2.10/rpc
	ID     int    // switch component id
	Client *http.Client
}

var _ PulseSwitch = (*HTTPSwitch)(nil)

// httpRelayTimeout: a relay on the LAN answers in milliseconds; waiting
// longer only delays the fail-secure path.
const httpRelayTimeout = 3 * time.Second

func (h *HTTPSwitch) call(params map[string]any) error {
	body, _ := json.Marshal(map[string]any{"id": 1, "method": "Switch.Set", "params": params})
	c := h.Client
	if c == nil {
		c = &http.Client{Timeout: httpRelayTimeout}
	}
	ctx, cancel := context.WithTimeout(context.Background(), httpRelayTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, h.URL, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := c.Do(req)
	if err != nil {
		return fmt.Errorf("http relay %s: %w", h.URL, err)
	}
	defer resp.Body.Close()
	var rpc struct {
		Error *struct {
			Code    int    `json:"code"`
			Message string `json:"message"`
		} `json:"error"`
	}
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("http relay %s: %s: %s", h.URL, resp.Status, bytes.TrimSpace(b))
	}
	if json.Unmarshal(b, &rpc) == nil && rpc.Error != nil {
		return fmt.Errorf("http relay %s: RPC error %d: %s", h.URL, rpc.Error.Code, rpc.Error.Message)
	}
	return nil
}

func (h *HTTPSwitch) Set(unlocked bool) error {
	return h.call(map[string]any{"id": h.ID, "on": unlocked})
}

// SetFor unlocks with the device's own timer (whole seconds, rounded up).
func (h *HTTPSwitch) SetFor(d time.Duration) error {
	return h.call(map[string]any{"id": h.ID, "on": true, "toggle_after": math.Ceil(d.Seconds())})
}

func (h *HTTPSwitch) Close() error { return nil }

// --- Simulated relay ---

// FileSwitch is the simulated relay of the demo and tests: it writes its
// state ("locked"/"unlocked") to a file, fsynced, and appends every
// transition to a log beside it, so another process can watch the "lock".
type FileSwitch struct {
	mu   sync.Mutex
	path string
	log  *os.File
	hook func(unlocked bool) // optional, for logging
}

var _ Switch = (*FileSwitch)(nil)

// OpenFileSwitch opens a simulated relay whose state lives in path.
func OpenFileSwitch(path string, hook func(unlocked bool)) (*FileSwitch, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return nil, err
	}
	lf, err := os.OpenFile(path+".log", os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
	if err != nil {
		return nil, fmt.Errorf("simulated relay: %w", err)
	}
	return &FileSwitch{path: path, log: lf, hook: hook}, nil
}

func (f *FileSwitch) Set(unlocked bool) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	state := "locked"
	if unlocked {
		state = "unlocked"
	}
	if _, err := fmt.Fprintf(f.log, "%s %d %d\n", state, os.Getpid(), time.Now().UnixNano()); err != nil {
		return err
	}
	if err := f.log.Sync(); err != nil {
		return err
	}
	if err := atomicfile.WriteFile(f.path, []byte(state+"\n"), 0o644); err != nil {
		return err
	}
	if f.hook != nil {
		f.hook(unlocked)
	}
	return nil
}

func (f *FileSwitch) Close() error { return f.log.Close() }

// ReadFileSwitch reads a simulated relay's state.
func ReadFileSwitch(path string) (unlocked bool, err error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return false, err
	}
	switch string(bytes.TrimSpace(b)) {
	case "locked":
		return false, nil
	case "unlocked":
		return true, nil
	}
	return false, errors.New("simulated relay file holds neither locked nor unlocked")
}
