package site

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"encoding/pem"
	"errors"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"
)

func signedRequest(t *testing.T, key ed25519.PrivateKey, body string, at time.Time) *http.Request {
	t.Helper()
	r, err := http.NewRequest(http.MethodPost, "http://central:8444/v1/events?x=1", bytes.NewReader([]byte(body)))
	if err != nil {
		t.Fatal(err)
	}
	Sign(r, []byte(body), key, at)
	return r
}

// A signed request verifies once, within the window, with its own body,
// method and path only.
func TestSignedRequests(t *testing.T) {
	_, key, _ := ed25519.GenerateKey(nil)
	now := time.Now()
	var v Verifier
	r := signedRequest(t, key, `{"events":[]}`, now)
	if k, err := v.Verify(r, []byte(`{"events":[]}`), now); err != nil || !strings.HasPrefix(k, "ed25519:") {
		t.Fatalf("a good request: %q %v", k, err)
	}
	cases := []struct {
		name string
		req  func() (*http.Request, string)
		want string
	}{
		{"replayed", func() (*http.Request, string) { return r, `{"events":[]}` }, "replayed"},
		{"body swapped", func() (*http.Request, string) {
			return signedRequest(t, key, `{"events":[]}`, now.Add(time.Millisecond)), `{"events":[1]}`
		}, "does not verify"},
		{"path changed", func() (*http.Request, string) {
			q := signedRequest(t, key, "", now.Add(2*time.Millisecond))
			q.URL.RawQuery = "x=2"
			return q, ""
		}, "does not verify"},
		{"too old", func() (*http.Request, string) { return signedRequest(t, key, "", now.Add(-2*time.Minute)), "" }, "check the door's clock"},
		{"from the future", func() (*http.Request, string) { return signedRequest(t, key, "", now.Add(2*time.Minute)), "" }, "check the door's clock"},
		{"no key", func() (*http.Request, string) {
			q := signedRequest(t, key, "", now.Add(3*time.Millisecond))
			q.Header.Set(HeaderKey, "/etc/hostname")
			return q, ""
		}, "missing or not"},
		{"another key", func() (*http.Request, string) {
			_, other, _ := ed25519.GenerateKey(nil)
			q := signedRequest(t, key, "", now.Add(4*time.Millisecond))
			q.Header.Set(HeaderKey, signedRequest(t, other, "", now).Header.Get(HeaderKey))
			return q, ""
		}, "does not verify"},
	}
	for _, c := range cases {
		req, body := c.req()
		_, err := v.Verify(req, []byte(body), now)
		if !errors.Is(err, ErrSignature) || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v, want %q", c.name, err, c.want)
		}
	}
}

func TestNewClientRefusesPlainHTTPOffLoopback(t *testing.T) {
	_, key, _ := ed25519.GenerateKey(nil)
	for url, ok := range map[string]bool{"https://central.lan:8444": true, "http://127.0.0.1:8444": true,
		"http://central.lan:8444": false, "central.lan:8444": false, "ftp://x": false} {
		if _, err := NewClient(url, key, nil); (err == nil) != ok {
			t.Errorf("%s: %v, want ok=%v", url, err, ok)
		}
	}
}

// A central with its own certificate is reached with that certificate as
// the CA (--central-ca), and refused without it; the signature still goes
// through TLS.
func TestClientTrustsTheCentralsCertificate(t *testing.T) {
	var v Verifier
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if _, err := v.Verify(r, nil, time.Now()); err != nil {
			http.Error(w, err.Error(), http.StatusUnauthorized)
			return
		}
		w.Write([]byte(`{"id":1,"door":"front"}`))
	}))
	defer srv.Close()
	_, key, _ := ed25519.GenerateKey(nil)
	ca := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw})
	cl, err := NewClient(srv.URL, key, ca)
	if err != nil {
		t.Fatal(err)
	}
	if a, err := cl.Hello(context.Background()); err != nil || a.Door != "front" {
		t.Fatalf("with the central's certificate: %+v %v", a, err)
	}
	cl, _ = NewClient(srv.URL, key, nil)
	if _, err := cl.Hello(context.Background()); err == nil || !strings.Contains(err.Error(), "certificate") {
		t.Fatalf("without it: %v, want a certificate error", err)
	}
	if _, err := NewClient(srv.URL, key, []byte("not pem")); err == nil {
		t.Fatal("a CA file without a certificate was accepted")
	}
}

// A door streaming its live view signs 8 requests a second: the replay
// cache holds about two windows of them however long it streams, and a
// replay within the window is still refused.
func TestReplayCacheStaysBounded(t *testing.T) {
	_, key, _ := ed25519.GenerateKey(nil)
	v := Verifier{Window: 10 * time.Second}
	start := time.Now()
	const perSecond = 8
	var recent *http.Request
	for i := range 200 * perSecond { // 200 s of streaming, 20 windows
		at := start.Add(time.Duration(i) * time.Second / perSecond)
		r := signedRequest(t, key, "frame", at)
		if _, err := v.Verify(r, []byte("frame"), at); err != nil {
			t.Fatalf("request %d: %v", i, err)
		}
		recent = r
		if n := v.Held(); n > 2*10*perSecond+1 {
			t.Fatalf("after %d requests the cache holds %d signatures, want at most two windows (%d)", i+1, n, 2*10*perSecond+1)
		}
	}
	end := start.Add(200 * time.Second)
	if _, err := v.Verify(recent, []byte("frame"), end); err == nil || !strings.Contains(err.Error(), "replayed") {
		t.Fatalf("the last request replayed: %v, want refused as replayed", err)
	}
	t.Logf("held after 200 s at %d/s: %d signatures", perSecond, v.Held())
}

// BenchmarkVerify is one signed request checked (ed25519 verify, SHA-256
// of the body, the replay cache), with a 40 KB live frame as the body.
func BenchmarkVerify(b *testing.B) {
	_, key, _ := ed25519.GenerateKey(nil)
	body := bytes.Repeat([]byte{0xff}, 40<<10)
	v := Verifier{}
	now := time.Now()
	reqs := make([]*http.Request, b.N)
	for i := range reqs {
		r, _ := http.NewRequest(http.MethodPost, "http://central/v1/live/frame?n="+strconv.Itoa(i), nil)
		Sign(r, body, key, now)
		reqs[i] = r
	}
	b.ResetTimer()
	for i := range b.N {
		if _, err := v.Verify(reqs[i], body, now); err != nil {
			b.Fatal(err)
		}
	}
}
