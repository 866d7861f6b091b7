package notify

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Headers of every delivery.
const (
	// SignatureHeader is "t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>." + body)>".
	SignatureHeader = "X-Facegate-Signature"
	// EventHeader is the event's seq ("test-<unix nanoseconds>" for a test
	// payload): the idempotency key. A delivery whose 2xx was lost is sent
	// again, so a receiver drops a seq it has already handled.
	EventHeader = "X-Facegate-Event"
)

// DefaultTolerance is how old a signature timestamp a receiver accepts.
const DefaultTolerance = 5 * time.Minute

// ErrSignature is wrapped by every Verify failure.
var ErrSignature = errors.New("webhook signature")

// Sign returns the signature header value for body sent at t.
func Sign(secret string, t time.Time, body []byte) string {
	ts := strconv.FormatInt(t.Unix(), 10)
	return "t=" + ts + ",v1=" + mac(secret, ts, body)
}

func mac(secret, ts string, body []byte) string {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte(ts + "."))
	m.Write(body)
	return hex.EncodeToString(m.Sum(nil))
}

// Verify checks a signature header against body: the HMAC must match (any
// v1 entry, so a receiver can roll secrets) and the timestamp must be
// within tolerance of now (a replayed old delivery fails).
func Verify(secret, header string, body []byte, now time.Time, tolerance time.Duration) error {
	var ts string
	var sigs []string
	for part := range strings.SplitSeq(header, ",") {
		k, v, _ := strings.Cut(strings.TrimSpace(part), "=")
		switch k {
		case "t":
			ts = v
		case "v1":
			sigs = append(sigs, v)
		}
	}
	unix, err := strconv.ParseInt(ts, 10, 64)
	if err != nil || len(sigs) == 0 {
		return fmt.Errorf("%w: header %q: want t=<unix>,v1=<hex>", ErrSignature, header)
	}
	if age := now.Sub(time.Unix(unix, 0)); age > tolerance || age < -tolerance {
		return fmt.Errorf("%w: timestamp %d is %s from now, beyond %s (a replay, or a clock off)", ErrSignature, unix, age.Round(time.Second), tolerance)
	}
	want := mac(secret, ts, body)
	for _, s := range sigs {
		if hmac.Equal([]byte(s), []byte(want)) {
			return nil
		}
	}
	return fmt.Errorf("%w: no v1 signature matches the body (wrong secret, or the body was changed)", ErrSignature)
}
