package web

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/facegate/facegate/gate"
	"github.com/facegate/facegate/storage"
)

// withKeypad restarts the harness's app with a web keypad at door "front".
func withKeypad(t *testing.T, h *harness) *WebKeypad {
	k := NewWebKeypad("front")
	d := h.s.deps
	d.Keypad = k
	s, err := New(d, Options{PlainHTTP: true})
	if err != nil {
		t.Fatal(err)
	}
	h.mu.Lock()
	h.s = s
	h.mu.Unlock()
	return k
}

var linkRE = regexp.MustCompile(`id="pairing-link" href="[^"]*code=([0-9a-f]+)"`)

// A tablet pairs once with the admin's link (a second use and another
// tablet are refused), types PINs into the door's keypad with no session
// (digits only), reaches nothing else, and loses the keypad when the
// admin revokes it.
func TestKeypadPairingAndRevocation(t *testing.T) {
	h := newHarness(t)
	h.user("ada", storage.RoleAdmin)
	k := withKeypad(t, h)
	admin := h.login("ada")
	_, page := h.postForm(admin, "/keypad", "/keypad/pair", url.Values{})
	m := linkRE.FindStringSubmatch(page)
	if m == nil {
		t.Fatalf("no pairing link on the page")
	}
	tablet := h.client()
	if code, _ := get(t, tablet, h.ts.URL+"/keypad/pad"); code != http.StatusUnauthorized {
		t.Fatalf("unpaired tablet: %d, want 401", code)
	}
	if code, _ := h.postForm(tablet, "/keypad/join?code="+m[1], "/keypad/join", url.Values{"code": {m[1]}, "name": {"entrance"}}); code != http.StatusSeeOther {
		t.Fatalf("pairing: %d", code)
	}
	other := h.client()
	code, body := h.postForm(other, "/keypad/join?code="+m[1], "/keypad/join", url.Values{"code": {m[1]}, "name": {"thief"}})
	if code != http.StatusGone || !strings.Contains(body, "not valid") {
		t.Fatalf("the link used twice: %d, want 410 saying it is not valid", code)
	}
	if code, _ := get(t, tablet, h.ts.URL+"/people"); code == http.StatusOK {
		t.Fatal("the tablet's credential opened an admin page")
	}
	got := make(chan gate.PINEntry, 1)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go k.Run(ctx, func(e gate.PINEntry) { got <- e })
	if code, _ := h.postForm(tablet, "/keypad/pad", "/keypad/pin", url.Values{"pin": {"12a4"}}); code != http.StatusUnprocessableEntity {
		t.Errorf("letters in a PIN: %d, want 422", code)
	}
	if code, _ := h.postForm(tablet, "/keypad/pad", "/keypad/pin", url.Values{"pin": {"2468"}}); code != http.StatusOK {
		t.Fatalf("PIN typed: %d", code)
	}
	select {
	case e := <-got:
		if e.Digits != "2468" {
			t.Errorf("keypad delivered %q", e.Digits)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the PIN typed never reached the door's keypad")
	}
	_, page = get(t, admin, h.ts.URL+"/keypad")
	id := regexp.MustCompile(`/keypad/tablets/([0-9a-f]+)/revoke`).FindStringSubmatch(page)
	if id == nil || !strings.Contains(page, "entrance") {
		t.Fatalf("the paired tablet is not listed")
	}
	if code, _ := h.postForm(admin, "/keypad", "/keypad/tablets/"+id[1]+"/revoke", url.Values{}); code != http.StatusSeeOther {
		t.Fatalf("revoke: %d", code)
	}
	req, _ := http.NewRequest(http.MethodGet, h.ts.URL+"/keypad/pad", nil)
	req.Header.Set("Accept", "text/html")
	req.Header.Set("Accept-Language", "ja")
	resp, err := tablet.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b := readAll(resp)
	if resp.StatusCode != http.StatusUnauthorized || !strings.Contains(b, "ペアリングされていません") {
		t.Fatalf("revoked tablet: %d, want 401 saying so in Japanese", resp.StatusCode)
	}
}

// The language switch returns to a page of this app, never elsewhere.
func TestLanguageSwitchStaysHere(t *testing.T) {
	h := newHarness(t)
	c := h.client()
	for next, want := range map[string]string{"/keypad/pad": "/keypad/pad", "//evil.example/x": "/", "/\t/evil.example": "/",
		"/\\evil.example": "/", "https://evil.example/": "/", "/people/1/erase": "/people/1/erase"} {
		resp, err := c.Get(h.ts.URL + "/lang/ja?next=" + url.QueryEscape(next))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if got := resp.Header.Get("Location"); got != want {
			t.Errorf("next=%q: sent to %q, want %q", next, got, want)
		}
	}
}

// The tablet's status follows the door: face first, then the outcome of
// the PIN it sent (wrong with the tries left, locked, granted), and
// "enter your PIN" while a matched face waits for one; in Japanese.
func TestKeypadStates(t *testing.T) {
	h := newHarness(t)
	h.user("ada", storage.RoleAdmin)
	k := withKeypad(t, h)
	admin := h.login("ada")
	_, page := h.postForm(admin, "/keypad", "/keypad/pair", url.Values{})
	code := linkRE.FindStringSubmatch(page)[1]
	tablet := h.client()
	h.postForm(tablet, "/keypad/join?code="+code, "/keypad/join", url.Values{"code": {code}, "name": {"entrance"}})
	state := func(q string) (string, string) {
		t.Helper()
		req, _ := http.NewRequest(http.MethodGet, h.ts.URL+"/keypad/state"+q, nil)
		req.Header.Set("Accept-Language", "ja")
		resp, err := tablet.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		var s struct{ State, Text string }
		if err := json.NewDecoder(resp.Body).Decode(&s); err != nil {
			t.Fatalf("state %s: %d %v", q, resp.StatusCode, err)
		}
		resp.Body.Close()
		return s.State, s.Text
	}
	typed := func() string {
		t.Helper()
		c, body := h.postForm(tablet, "/keypad/pad", "/keypad/pin", url.Values{"pin": {"2468"}})
		var j struct{ At, After int64 }
		if err := json.Unmarshal([]byte(body), &j); c != http.StatusOK || err != nil {
			t.Fatalf("PIN: %d %s", c, body)
		}
		return fmt.Sprintf("?at=%d&after=%d", j.At, j.After)
	}
	record := func(e storage.Event) {
		e.AtMicro, e.Door = h.now().UnixMicro(), "front"
		if _, err := h.rec.Record(e, nil, nil); err != nil {
			t.Fatal(err)
		}
	}
	if s, text := state(""); s != "idle" || !strings.Contains(text, "カメラを見てから") {
		t.Errorf("idle: %s %q", s, text)
	}
	k.FaceMatched(h.now())
	if s, text := state(""); s != "enter" || !strings.Contains(text, "暗証番号を入力してください") {
		t.Errorf("face matched: %s %q", s, text)
	}
	if s, text := state(typed()); s != "checking" || !strings.Contains(text, "確認中") {
		t.Errorf("PIN sent while the face waits: %s %q", s, text)
	}
	h.advance(gate.PINAfter + time.Second) // the face has stopped waiting
	if s, _ := state(""); s != "idle" {
		t.Errorf("after the wait: %s, want idle", s)
	}
	for _, tc := range []struct {
		events   []storage.Event
		want, ja string
	}{
		{nil, "face", "カメラを見てください"},
		{[]storage.Event{{Kind: storage.KindPIN, Code: "pin_wrong", Reason: "PIN: wrong PIN (2 of 5 tries left before a lockout)"}}, "wrong", "残り 2 回"},
		{[]storage.Event{{Kind: storage.KindPIN, Code: "pin_locked", Reason: "PIN: PIN locked until 2026-11-24 09:05 after 5 wrong PINs"}}, "locked", "ロックされました"},
		{[]storage.Event{{Kind: storage.KindPIN, Code: "pin_ok", Granted: true}}, "checking", "確認中"},
		{[]storage.Event{{Kind: storage.KindPIN, Code: "pin_ok", Granted: true}, {Kind: storage.KindGranted, Granted: true}}, "granted", "許可されました"},
		{[]storage.Event{{Kind: storage.KindPIN, Code: "pin_ok", Granted: true}, {Kind: storage.KindDenied}}, "denied", "通行できません"},
	} {
		q := typed()
		for _, e := range tc.events {
			record(e)
		}
		if s, text := state(q); s != tc.want || !strings.Contains(text, tc.ja) {
			t.Errorf("after %v: %s %q, want %s saying %q", tc.events, s, text, tc.want, tc.ja)
		}
	}
}
