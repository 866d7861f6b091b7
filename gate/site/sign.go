package site

import (
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/facegate/facegate/storage"
)

// Request signature headers.
const (
	HeaderKey       = "X-Facegate-Key"
	HeaderTime      = "X-Facegate-Time"
	HeaderSignature = "X-Facegate-Signature"
)

// DefaultWindow is how far a request's moment may be from the central's
// clock: doors keep NTP time; a minute covers a slow network and drift.
const DefaultWindow = time.Minute

// message is the exact text a request signature covers.
func message(method, uri string, atMilli int64, body []byte) []byte {
	sum := sha256.Sum256(body)
	return fmt.Appendf(nil, "facegate request v1\n%s\n%s\n%d\n%s\n", method, uri, atMilli, hex.EncodeToString(sum[:]))
}

// Sign sets the signature headers of r, whose body is body.
func Sign(r *http.Request, body []byte, key ed25519.PrivateKey, now time.Time) {
	at := now.UnixMilli()
	r.Header.Set(HeaderKey, storage.PublicKeyString(key.Public().(ed25519.PublicKey)))
	r.Header.Set(HeaderTime, strconv.FormatInt(at, 10))
	r.Header.Set(HeaderSignature, hex.EncodeToString(ed25519.Sign(key, message(r.Method, r.URL.RequestURI(), at, body))))
}

// ErrSignature is wrapped by every refused signature.
var ErrSignature = errors.New("request signature")

// Verifier checks signed requests and remembers the signatures it accepted
// while the window could still accept them, so each is accepted once.
type Verifier struct {
	Window time.Duration
	mu     sync.Mutex
	seen   map[string]bool
	queue  []seenSig // in the order accepted
}

// seenSig is an accepted signature and the moment (Unix ms) after which
// the window refuses it anyway.
type seenSig struct {
	sig   string
	until int64
}

// Verify checks r's signature over body at now and returns the signing
// key as storage.PublicKeyString spells it.
func (v *Verifier) Verify(r *http.Request, body []byte, now time.Time) (string, error) {
	key := r.Header.Get(HeaderKey)
	pub, err := storage.ParsePublicKey(key)
	if err != nil || !isKey(key) {
		return "", fmt.Errorf("%w: %s missing or not ed25519:<hex>", ErrSignature, HeaderKey)
	}
	at, err := strconv.ParseInt(r.Header.Get(HeaderTime), 10, 64)
	if err != nil {
		return "", fmt.Errorf("%w: %s is not Unix milliseconds", ErrSignature, HeaderTime)
	}
	w := v.Window
	if w <= 0 {
		w = DefaultWindow
	}
	if d := now.Sub(time.UnixMilli(at)); d > w || d < -w {
		return "", fmt.Errorf("%w: signed %s from the central's clock (allowed %s): check the door's clock (NTP)", ErrSignature, d.Round(time.Second), w)
	}
	sig, err := hex.DecodeString(r.Header.Get(HeaderSignature))
	if err != nil || !ed25519.Verify(pub, message(r.Method, r.URL.RequestURI(), at, body), sig) {
		return "", fmt.Errorf("%w: does not verify with %s", ErrSignature, key)
	}
	if !v.once(string(sig), at+w.Milliseconds(), now.UnixMilli()) {
		return "", fmt.Errorf("%w: replayed", ErrSignature)
	}
	return key, nil
}

// isKey refuses a file name: ParsePublicKey also reads files.
func isKey(s string) bool {
	return len(s) == len("ed25519:")+2*ed25519.PublicKeySize && s[:8] == "ed25519:"
}

// once records sig and reports whether it is new. Signatures whose
// window has passed are forgotten first: the queue is in the order they
// were accepted, and each was accepted at most one window before its
// moment, so the cache holds at most two windows of requests (at 8
// requests a second, 960) and each costs O(1).
func (v *Verifier) once(sig string, until, now int64) bool {
	v.mu.Lock()
	defer v.mu.Unlock()
	if v.seen == nil {
		v.seen = map[string]bool{}
	}
	for len(v.queue) > 0 && v.queue[0].until < now {
		delete(v.seen, v.queue[0].sig)
		v.queue = v.queue[1:]
	}
	if v.seen[sig] {
		return false
	}
	v.seen[sig] = true
	v.queue = append(v.queue, seenSig{sig, until})
	return true
}

// Held is how many signatures the replay cache holds.
func (v *Verifier) Held() int {
	v.mu.Lock()
	defer v.mu.Unlock()
	return len(v.seen)
}
