package appliance

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/facegate/facegate/gate"
	"github.com/facegate/facegate/models/modeltest"
	"github.com/facegate/facegate/storage"
	"github.com/facegate/facegate/vision"
	"github.com/facegate/facegate/web"
)

// testKeypad stands in for a USB keypad at the hardware boundary: the
// test types on it.
type testKeypad struct{ typed chan gate.PINEntry }

func (k *testKeypad) Run(ctx context.Context, entered func(gate.PINEntry)) error {
	for {
		select {
		case <-ctx.Done():
			return nil
		case e := <-k.typed:
			entered(e)
		}
	}
}
func (k *testKeypad) Close() error { return nil }

// A face+pin door on the demo clip: Lin-Manuel's face alone does not open
// it; with his PIN it does; a wrong PIN and no PIN are refused, each saying
// which factor failed, and every attempt is an event.
func TestFacePINDoor(t *testing.T) {
	for _, tc := range []struct {
		name, typed, code, reason string
		granted                   bool
	}{
		{"right PIN", "2468", "pin_ok", "", true},
		{"wrong PIN", "1357", "pin_wrong", "face matched, wrong PIN (4 of 5 tries left", false},
		{"no PIN", "", "pin_missing", "face matched, no PIN entered within 8s", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			kp := &testKeypad{typed: make(chan gate.PINEntry, 1)}
			cfg := Config{DataDir: t.TempDir(), ModelsDir: modeltest.ModelsDir(t), DemoDir: modeltest.Testdata(t), Rule: vision.FacepluginRule,
				Source: filepath.Join(modeltest.Testdata(t), "video", "short_hamilton_clip.mp4"), OpenTime: time.Second, SiteTZ: "UTC",
				Level: gate.LevelFacePIN, Keypad: kp, Web: web.Options{Addr: "127.0.0.1:0", PlainHTTP: true}}
			a, err := New(context.Background(), cfg)
			if err != nil {
				t.Fatal(err)
			}
			defer a.Close()
			lmm, err := a.db.PersonByEmployeeID("DEMO-001")
			if err != nil {
				t.Fatal(err)
			}
			if err := a.db.SetPIN(lmm.ID, "2468"); err != nil {
				t.Fatal(err)
			}
			if tc.typed != "" { // typed as he walks up: before his face is matched
				kp.typed <- gate.PINEntry{Digits: tc.typed, At: time.Now()}
			}
			ctx, cancel := context.WithCancel(context.Background())
			done := make(chan error, 1)
			go func() { done <- a.Run(ctx) }()
			pin, door := waitPersonEvents(t, a.db, lmm.ID, 40*time.Second)
			cancel()
			if err := <-done; err != nil {
				t.Fatal(err)
			}
			if pin.Code != tc.code || pin.Granted != tc.granted {
				t.Errorf("PIN event %s granted=%v (%s), want %s", pin.Code, pin.Granted, pin.Reason, tc.code)
			}
			if door.Granted != tc.granted || (door.Kind == storage.KindGranted) != tc.granted || !strings.Contains(door.Reason, tc.reason) {
				t.Errorf("door event %s granted=%v %q, want granted=%v saying %q", door.Kind, door.Granted, door.Reason, tc.granted, tc.reason)
			}
		})
	}
}

// waitPersonEvents waits for the first PIN attempt and the first access
// event about person id.
func waitPersonEvents(t *testing.T, db *storage.DB, id int64, within time.Duration) (pin, door storage.Event) {
	t.Helper()
	deadline := time.Now().Add(within)
	for time.Now().Before(deadline) {
		evs, err := db.Events(storage.EventFilter{PersonID: id, Limit: 100})
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range evs {
			switch e.Kind {
			case storage.KindPIN:
				if pin.Seq == 0 {
					pin = e
				}
			case storage.KindGranted, storage.KindDenied:
				if door.Seq == 0 {
					door = e
				}
			}
		}
		if pin.Seq != 0 && door.Seq != 0 {
			return pin, door
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("no PIN attempt and door event for person %d within %s (PIN %+v, door %+v)", id, within, pin, door)
	return
}

func TestPINOutcome(t *testing.T) {
	until := time.Date(2026, 11, 24, 9, 5, 0, 0, time.UTC)
	for _, tc := range []struct {
		c    storage.PINCheck
		err  error
		code string
		ok   bool
		says string
	}{
		{storage.PINCheck{OK: true}, nil, "pin_ok", true, "correct"},
		{storage.PINCheck{Failures: 2}, nil, "pin_wrong", false, "3 of 5 tries left"},
		{storage.PINCheck{Failures: 5, Locked: until}, nil, "pin_locked", false, "locked until 2026-11-24 18:05 after 5 wrong PINs"},
		{storage.PINCheck{NoPIN: true}, nil, "pin_not_set", false, "facegate pin set"},
		{storage.PINCheck{}, errors.New("database is locked"), "pin_error", false, "database is locked"},
	} {
		code, why, ok := pinOutcome(tc.c, tc.err, time.FixedZone("JST", 9*3600))
		if code != tc.code || ok != tc.ok || !strings.Contains(why, tc.says) {
			t.Errorf("%+v: %s %v %q, want %s %v saying %q", tc.c, code, ok, why, tc.code, tc.ok, tc.says)
		}
	}
}

// The live page's decisions carry the face box in frame pixels, so the
// browser can draw each verdict where the face is, in any script.
func TestLiveDecisionsCarryTheBox(t *testing.T) {
	cfg := Config{DataDir: t.TempDir(), ModelsDir: modeltest.ModelsDir(t), DemoDir: modeltest.Testdata(t), Rule: vision.FacepluginRule,
		Source: filepath.Join(modeltest.Testdata(t), "video", "short_hamilton_clip.mp4"), OpenTime: time.Second, SiteTZ: "UTC",
		Web: web.Options{Addr: "127.0.0.1:0", PlainHTTP: true}}
	a, err := New(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	ts := httptest.NewServer(a.web.Handler())
	defer ts.Close()
	if err := a.db.CreateUser("ada", "correct horse battery", storage.RoleAdmin); err != nil {
		t.Fatal(err)
	}
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	form := url.Values{"username": {"ada"}, "password": {"correct horse battery"}, "_csrf": {csrfOf(t, c, ts.URL+"/login")}}
	if resp, err := c.PostForm(ts.URL+"/login", form); err != nil || resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("login: %v %v", resp, err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- a.Run(ctx) }()
	defer func() { cancel(); <-done }() // Run ends before Close frees what it uses
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, ts.URL+"/events/stream", nil)
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	deadline := time.AfterFunc(40*time.Second, cancel)
	defer deadline.Stop()
	for sc.Scan() {
		data, ok := strings.CutPrefix(sc.Text(), "data: ")
		if !ok {
			continue
		}
		var d struct {
			Person string
			Box    struct{ Min, Max struct{ X, Y int } }
		}
		if json.Unmarshal([]byte(data), &d) != nil || d.Person != "Lin-Manuel Miranda" {
			continue
		}
		if b := d.Box; b.Max.X <= b.Min.X || b.Max.Y <= b.Min.Y || b.Max.X > 640 || b.Max.Y > 360 {
			t.Fatalf("decision box %+v: want a face box inside the 640×360 frame", b)
		}
		return
	}
	t.Fatal("no decision about Lin-Manuel on the live stream within 40 s")
}
