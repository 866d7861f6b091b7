package notify

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"os"
	"strconv"
	"time"

	"github.com/facegate/facegate/storage"
)

// Options configure a Deliverer; zero values take the defaults.
type Options struct {
	Location *time.Location // site zone of time_local (default UTC)
	// RootCAs verifies receivers' certificates (nil: the system's roots).
	// Tests pass their local server's CA here; verification is never off.
	RootCAs *x509.CertPool
	Timeout time.Duration // per request (default 10 s)
	// Poll is how often the chain head and the subscriptions are re-read
	// (default DefaultPoll).
	Poll time.Duration
	// MinBackoff and MaxBackoff bound the wait between attempts (default
	// 1 s doubling to 5 min, with jitter); tests make them short.
	MinBackoff, MaxBackoff time.Duration
	// Lease is how long a deliverer holds a subscription without renewing
	// (default 30 s): when gates share a PostgreSQL log one delivers, and
	// if it dies another takes over within this time.
	Lease time.Duration
	// Owner names this deliverer in the leases (default host/pid/random).
	// A stable name (the appliance gives its door and host) lets a gate
	// restarted after a crash resume at once instead of after its lease.
	Owner   string
	LogDays int // delivery log kept this many days (default 30)
	Batch   int // events read at once (default 100)
	Now     func() time.Time
	Log     *slog.Logger
}

// DefaultPoll: an event reaches a local receiver 268 ms after its append
// on average (BenchmarkEventToReceiver, within half a second). A poll
// (subscriptions and MAX(seq)) takes 57 µs on a 10,000-event SQLite log
// (BenchmarkHeadPoll), 0.01 % of a core at this rate; and polling also sees
// events written by other processes (the CLI, gates sharing PostgreSQL),
// which an in-process signal would not.
const DefaultPoll = 500 * time.Millisecond

func (o *Options) fill() {
	if o.Location == nil {
		o.Location = time.UTC
	}
	def := func(d *time.Duration, v time.Duration) {
		if *d <= 0 {
			*d = v
		}
	}
	def(&o.Timeout, 10*time.Second)
	def(&o.Poll, DefaultPoll)
	def(&o.MinBackoff, time.Second)
	def(&o.MaxBackoff, 5*time.Minute)
	def(&o.Lease, 30*time.Second)
	if o.LogDays <= 0 {
		o.LogDays = 30
	}
	if o.Batch <= 0 {
		o.Batch = 100
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
}

// Deliverer posts the evidence log's events to the webhook subscriptions.
type Deliverer struct {
	db     *storage.DB
	opt    Options
	client *http.Client
	owner  string              // this deliverer's name in the leases
	held   map[int64]time.Time // leases held, until when (Run's goroutine only)
}

// New makes a Deliverer; Run starts it.
func New(db *storage.DB, opt Options) *Deliverer {
	opt.fill()
	owner := opt.Owner
	if owner == "" {
		host, _ := os.Hostname()
		owner = fmt.Sprintf("%.60s/%d/%x", host, os.Getpid(), rand.Uint32())
	}
	return &Deliverer{db: db, opt: opt, client: newClient(opt.RootCAs, opt.Timeout), owner: owner, held: map[int64]time.Time{}}
}

func newClient(roots *x509.CertPool, timeout time.Duration) *http.Client {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.TLSClientConfig = &tls.Config{RootCAs: roots, MinVersion: tls.VersionTLS12}
	return &http.Client{Transport: tr, Timeout: timeout,
		// A redirect is not followed: it could lead the signed body to
		// plain http or another host. The 3xx is a failed attempt.
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

// clientFor is the client for w: one trusting only w's own CA when it
// names one (checked when it was added), else the shared one.
func (d *Deliverer) clientFor(w storage.Webhook) *http.Client {
	if w.CACert == "" {
		return d.client
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM([]byte(w.CACert))
	return newClient(pool, d.opt.Timeout)
}

// Backoff is the wait before attempt n+1 after n failed ones: min doubling
// to max, then a random part of it taken off (jitter in [d/2, d]) so
// subscriptions that failed together do not retry in step.
func Backoff(n int, minD, maxD time.Duration, rnd func() float64) time.Duration {
	d := minD
	for i := 1; i < n && d < maxD; i++ {
		d *= 2
	}
	d = min(d, maxD)
	return d/2 + time.Duration(rnd()*float64(d/2))
}

// post makes one attempt and logs it. key is the X-Facegate-Event value.
func (d *Deliverer) post(ctx context.Context, c *http.Client, w storage.Webhook, seq int64, key string, body []byte, attempt int) storage.WebhookDelivery {
	start := d.opt.Now()
	rec := storage.WebhookDelivery{SubscriptionID: w.ID, Seq: seq, AtMicro: start.UnixMicro(), Attempt: attempt}
	rec.Status, rec.Error = d.do(ctx, c, w, key, body, start)
	rec.DurationMicro = d.opt.Now().Sub(start).Microseconds()
	if err := d.db.LogWebhookDelivery(rec); err != nil {
		d.opt.Log.Error("webhook delivery not logged", "webhook", w.ID, "seq", seq, "err", err)
	}
	return rec
}

// do sends body and returns the HTTP status, or 0 and why none came.
func (d *Deliverer) do(ctx context.Context, c *http.Client, w storage.Webhook, key string, body []byte, now time.Time) (int, string) {
	if err := storage.CheckWebhookURL(w.URL, w.AllowHTTP); err != nil {
		return 0, err.Error()
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, w.URL, bytes.NewReader(body))
	if err != nil {
		return 0, err.Error()
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "facegate-webhook/1")
	req.Header.Set(EventHeader, key)
	req.Header.Set(SignatureHeader, Sign(w.Secret, now, body))
	resp, err := c.Do(req)
	if err != nil {
		return 0, err.Error()
	}
	defer resp.Body.Close()
	io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10)) // lets the connection be reused
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return resp.StatusCode, "receiver answered " + resp.Status
	}
	return resp.StatusCode, ""
}

// SendTest posts a test payload to w now, once, and logs it (seq 0).
func (d *Deliverer) SendTest(ctx context.Context, w storage.Webhook) storage.WebhookDelivery {
	now := d.opt.Now()
	return d.post(ctx, d.clientFor(w), w, 0, "test-"+strconv.FormatInt(now.UnixNano(), 10), testPayload(now, d.opt.Location).Marshal(), 1)
}

// deliver sends e until the receiver acknowledges it, waiting Backoff
// between attempts; it gives up only when ctx ends.
func (d *Deliverer) deliver(ctx context.Context, c *http.Client, w storage.Webhook, e storage.Event, employeeID string) error {
	key := strconv.FormatInt(e.Seq, 10)
	for attempt := 1; ; attempt++ {
		// Every payload carries a signed checkpoint covering its event: the
		// head is signed unless it is already (as gate/mqtt does per batch),
		// so a receiver can prove even a quiet door's last event.
		var cp *storage.Checkpoint
		if c, err := d.db.SignCheckpoint(d.db.Keys); err == nil && c.Seq != 0 {
			cp = &c
		} else if c, ok, err := d.db.LatestCheckpoint(); err == nil && ok {
			cp = &c
		}
		body := NewPayload(e, employeeID, cp, d.opt.Location).Marshal()
		rec := d.post(ctx, c, w, e.Seq, key, body, attempt)
		if rec.OK() {
			return nil
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		wait := Backoff(attempt, d.opt.MinBackoff, d.opt.MaxBackoff, rand.Float64)
		d.opt.Log.Warn("webhook delivery failed; retrying", "webhook", w.ID, "seq", e.Seq, "attempt", attempt,
			"status", rec.Status, "err", rec.Error, "retry_in", wait.Round(time.Millisecond))
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(wait):
		}
	}
}
