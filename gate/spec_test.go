package gate

import (
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestOpenRelaySpecs(t *testing.T) {
	dir := t.TempDir()
	r, err := OpenRelay("sim:"+filepath.Join(dir, "state"), nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	if on, _ := ReadFileSwitch(filepath.Join(dir, "state")); on {
		t.Fatal("sim relay not locked at open")
	}
	r.Close()
	bad := map[string]string{
		"":                          "unknown kind",
		"relay":                     "unknown kind",
		"sim:":                      "want sim:PATH",
		"gpio:gpiochip0":            "want gpio:CHIP:OFFSET",
		"gpio:gpiochip0:x":          "not a number",
		"gpio:gpiochip0:4:inverted": "want gpio:CHIP:OFFSET",
		"serial::1":                 "want serial:PATH",
		"serial:/dev/ttyX:one":      "not a number",
		"http://h/rpc#x":            "switch id",
		"gpio:nochip:3":             "gpiodetect",
	}
	for spec, want := range bad {
		if _, err := OpenRelay(spec, nil, nil); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("OpenRelay(%q) = %v, want error containing %q", spec, err, want)
		}
	}
}

func TestParseSensor(t *testing.T) {
	if s, err := ParseSensor(""); s != nil || err != nil {
		t.Fatal("empty spec must mean no sensor")
	}
	s, err := ParseSensor("gpio:gpiochip0:22:open-low")
	g, ok := s.(*GPIOSensor)
	if err != nil || !ok || g.Chip != "gpiochip0" || g.Offset != 22 || g.OpenHigh {
		t.Fatalf("%+v %v", s, err)
	}
	for _, bad := range []string{"gpio:x", "gpio:c:1:sideways", "serial:/dev/x", "gpio:c:-1"} {
		if _, err := ParseSensor(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

func TestSingleDoorPolicy(t *testing.T) {
	p := SingleDoorPolicy("front", time.UTC, 4*time.Second, LevelFace)
	if err := p.Validate(); err != nil {
		t.Fatal(err)
	}
	who := &Person{ID: 1, Name: "A", Groups: []string{EveryoneGroup}}
	for _, at := range []string{"2026-11-22T00:00:00Z", "2026-11-24T23:59:00Z"} {
		tm, _ := time.Parse(time.RFC3339, at)
		if d := p.Decide(Request{Person: who, Door: "front", Time: tm}, nil); !d.Grant {
			t.Fatalf("%s: %s", at, d.Reason)
		}
	}
	if d := p.Decide(Request{Person: &Person{ID: 2, Name: "B"}, Door: "front", Time: time.Now()}, nil); d.Grant {
		t.Fatal("person outside the group granted")
	}
}

// An http:// spec locks the device at open, on loopback here.
func TestOpenRelayHTTPLocksAtOpen(t *testing.T) {
	var got string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		got = string(b)
		w.Write([]byte(`{"id":1,"result":{}}`))
	}))
	defer srv.Close()
	r, err := OpenRelay(srv.URL+"/rpc#2", nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if !strings.Contains(got, `"id":2`) || !strings.Contains(got, `"on":false`) {
		t.Fatalf("lock at open sent %s", got)
	}
	srv.Close()
	if _, err := OpenRelay(srv.URL+"/rpc", nil, nil); err == nil {
		t.Fatal("relay that cannot be locked at open was accepted")
	}
}
