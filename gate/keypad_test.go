package gate

import (
	"context"
	"encoding/binary"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/holoplot/go-evdev"
)

// evtestLine is one line of evtest's output: the form in which a keypad's
// event stream is recorded and kept in testdata.
var evtestLine = regexp.MustCompile(`time (\d+)\.(\d+), (?:type (\d+) \([^)]*\), code (\d+) \([^)]*\), value (-?\d+)|-+ SYN_REPORT)`)

// kernelStream writes the events of an evtest log in the kernel's own
// layout (struct input_event, little-endian) to a file, as the device
// node delivers them.
func kernelStream(t *testing.T, log string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "event0")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	for _, line := range strings.Split(log, "\n") {
		m := evtestLine.FindStringSubmatch(line)
		if m == nil {
			continue
		}
		sec, _ := strconv.ParseInt(m[1], 10, 64)
		usec, _ := strconv.ParseInt(m[2], 10, 64)
		ev := evdev.InputEvent{}
		ev.Time.Sec, ev.Time.Usec = sec, usec
		if m[3] != "" {
			typ, _ := strconv.Atoi(m[3])
			code, _ := strconv.Atoi(m[4])
			val, _ := strconv.Atoi(m[5])
			ev.Type, ev.Code, ev.Value = evdev.EvType(typ), evdev.EvCode(code), int32(val)
		}
		if err := binary.Write(f, binary.LittleEndian, &ev); err != nil {
			t.Fatal(err)
		}
	}
	return path
}

// fileDevice reads a kernel event stream the way evdev.InputDevice.ReadOne
// does.
type fileDevice struct{ f *os.File }

func (d fileDevice) ReadOne() (*evdev.InputEvent, error) {
	var ev evdev.InputEvent
	if err := binary.Read(d.f, binary.LittleEndian, &ev); err != nil {
		return nil, err
	}
	return &ev, nil
}
func (d fileDevice) Close() error { return d.f.Close() }

// press is the evtest log of one key pressed and released at sec, as a
// USB HID keypad sends it (scan code, key, sync).
func press(sec float64, code evdev.EvCode, repeats int) string {
	var b strings.Builder
	at := func(s float64) string { return fmt.Sprintf("%d.%06d", int64(s), int64((s-float64(int64(s)))*1e6+0.5)) }
	fmt.Fprintf(&b, "Event: time %s, type 4 (EV_MSC), code 4 (MSC_SCAN), value 70059\n", at(sec))
	fmt.Fprintf(&b, "Event: time %s, type 1 (EV_KEY), code %d (%s), value 1\n", at(sec), code, evdev.CodeName(evdev.EV_KEY, code))
	fmt.Fprintf(&b, "Event: time %s, -------------- SYN_REPORT ------------\n", at(sec))
	for i := 1; i <= repeats; i++ {
		fmt.Fprintf(&b, "Event: time %s, type 1 (EV_KEY), code %d (%s), value 2\n", at(sec+0.25+0.033*float64(i)), code, evdev.CodeName(evdev.EV_KEY, code))
		fmt.Fprintf(&b, "Event: time %s, -------------- SYN_REPORT ------------\n", at(sec+0.25+0.033*float64(i)))
	}
	fmt.Fprintf(&b, "Event: time %s, type 1 (EV_KEY), code %d (%s), value 0\n", at(sec+0.08+0.033*float64(repeats)), code, evdev.CodeName(evdev.EV_KEY, code))
	fmt.Fprintf(&b, "Event: time %s, -------------- SYN_REPORT ------------\n", at(sec+0.08+0.033*float64(repeats)))
	return b.String()
}

// typed is the log of keys pressed 0.4 s apart from start.
func typed(start float64, codes ...evdev.EvCode) string {
	var b strings.Builder
	for i, c := range codes {
		b.WriteString(press(start+0.4*float64(i), c, 0))
	}
	return b.String()
}

func runKeypad(t *testing.T, log string) ([]PINEntry, error) {
	t.Helper()
	f, err := os.Open(kernelStream(t, log))
	if err != nil {
		t.Fatal(err)
	}
	k := &EvdevKeypad{dev: fileDevice{f}}
	var got []PINEntry
	err = k.Run(context.Background(), func(e PINEntry) { got = append(got, e) })
	return got, err
}

func TestEvdevKeypadStreams(t *testing.T) {
	const (
		kp1, kp2, kp3, kp4 = evdev.KEY_KP1, evdev.KEY_KP2, evdev.KEY_KP3, evdev.KEY_KP4
		kp5, kp6, kp7, kp8 = evdev.KEY_KP5, evdev.KEY_KP6, evdev.KEY_KP7, evdev.KEY_KP8
		kp9, kp0, enter    = evdev.KEY_KP9, evdev.KEY_KP0, evdev.KEY_KPENTER
	)
	const t0 = 1763884800.0 // 2025-11-23 08:00 UTC
	for _, tc := range []struct {
		name string
		log  string
		want []string
	}{
		{"four digits and enter", typed(t0, kp1, kp2, kp3, kp4, enter), []string{"1234"}},
		{"every keypad digit", typed(t0, kp7, kp8, kp9, kp4, kp5, kp6, kp1, kp2, kp3, kp0, enter), []string{"7894561230"}},
		{"top-row digits and main enter", typed(t0, evdev.KEY_9, evdev.KEY_0, evdev.KEY_1, evdev.KEY_5, evdev.KEY_ENTER), []string{"9015"}},
		{"a held key types once", typed(t0, kp1) + press(t0+1, kp2, 12) + typed(t0+2, kp3, kp4, enter), []string{"1234"}},
		{"backspace corrects", typed(t0, kp1, kp2, kp9, evdev.KEY_BACKSPACE, kp3, kp4, enter), []string{"1234"}},
		{"* starts again", typed(t0, kp5, kp5, evdev.KEY_KPASTERISK, kp1, kp2, kp3, kp4, enter), []string{"1234"}},
		{"digits left 11 s ago are dropped", typed(t0, kp9, kp9) + typed(t0+12, kp5, kp6, kp7, kp8, enter), []string{"5678"}},
		{"digits 9 s apart still count", typed(t0, kp1, kp2) + typed(t0+9.5, kp3, kp4, enter), []string{"1234"}},
		{"enter alone is nothing", typed(t0, enter, enter), nil},
		{"two people in turn", typed(t0, kp1, kp2, kp3, kp4, enter) + typed(t0+5, kp4, kp3, kp2, kp1, kp0, enter), []string{"1234", "43210"}},
		{"keys other than the pad's are ignored", typed(t0, kp1, evdev.KEY_A, kp2, evdev.KEY_KPPLUS, kp3, kp4, enter), []string{"1234"}},
		{"a stuck key is bounded", typed(t0, kp1, kp1, kp1, kp1, kp1, kp1, kp1, kp1, kp1, kp1, kp1, kp1, kp1, kp1, kp1, kp1, kp1, kp1, kp1, kp1, enter), []string{"1111111111111111"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := runKeypad(t, tc.log)
			if err == nil || !strings.Contains(err.Error(), "device gone") {
				t.Errorf("end of stream: %v, want a device-gone error", err)
			}
			var digits []string
			for _, e := range got {
				digits = append(digits, e.Digits)
			}
			if strings.Join(digits, ",") != strings.Join(tc.want, ",") {
				t.Fatalf("entries %q, want %q", digits, tc.want)
			}
			if len(got) > 0 && (got[0].At.Before(time.Unix(int64(t0), 0)) || got[0].At.After(time.Unix(int64(t0)+30, 0))) {
				t.Errorf("entry time %s is not the device's event time", got[0].At)
			}
		})
	}
}

// Run ends without error when its context ends, even while a read blocks,
// and the device is closed.
func TestEvdevKeypadStopsOnCancel(t *testing.T) {
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	k := &EvdevKeypad{dev: fileDevice{r}}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- k.Run(ctx, func(PINEntry) {}) }()
	time.AfterFunc(50*time.Millisecond, cancel)
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("Run after cancel: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Run still blocked 10 s after cancel")
	}
	if _, err := r.Read(make([]byte, 1)); err == nil {
		t.Fatal("device still open after Run ended")
	}
}

// Opening something that is not an input device says what to pick.
func TestOpenEvdevKeypadRefusesNonDevices(t *testing.T) {
	_, err := OpenEvdevKeypad(filepath.Join(t.TempDir(), "missing"))
	if err == nil || !strings.Contains(err.Error(), "keypad") {
		t.Fatalf("missing device: %v", err)
	}
	f := filepath.Join(t.TempDir(), "plain")
	os.WriteFile(f, []byte("not a device"), 0o600)
	if _, err := OpenEvdevKeypad(f); err == nil {
		t.Fatal("a plain file opened as a keypad")
	}
}
