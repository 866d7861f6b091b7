package web

import (
	"context"
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
