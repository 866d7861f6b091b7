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
// within the window, so each is accepted once.
type Verifier struct {
	Window time.Duration
	mu     sync.Mutex
	seen   map[string]int64 // signature → its moment (ms)
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
	if !v.once(string(sig), at, now.Add(-w).UnixMilli()) {
		return "", fmt.Errorf("%w: replayed", ErrSignature)
	}
	return key, nil
}

// isKey refuses a file name: ParsePublicKey also reads files.
func isKey(s string) bool {
	return len(s) == len("ed25519:")+2*ed25519.PublicKeySize && s[:8] == "ed25519:"
}

// once records sig and reports whether it is new; signatures older than
// horizon are forgotten (the window refuses them anyway).
func (v *Verifier) once(sig string, at, horizon int64) bool {
	v.mu.Lock()
	defer v.mu.Unlock()
	if v.seen == nil {
		v.seen = map[string]int64{}
	}
	if _, dup := v.seen[sig]; dup {
		return false
	}
	if len(v.seen) > 1024 {
		for s, t := range v.seen {
			if t < horizon {
				delete(v.seen, s)
			}
		}
	}
	v.seen[sig] = at
	return true
}
