package alert

import (
	"context"
	"log/slog"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/facegate/facegate/gate/notify"
	"github.com/facegate/facegate/storage"
)

// Options configure a Service; zero values take the defaults.
type Options struct {
	Recorder *storage.Recorder // the evidence log alerts are read from and appended to
	Door     string            // this gate's door: its events are evaluated, its alerts mailed
	Location *time.Location    // site zone: usual hours, mail times, the digest's day (default UTC)
	Log      *slog.Logger
	// Now is the clock of the digest (when to send, which day); default time.Now.
	Now func() time.Time
	// Poll is how often the log and the configuration are re-read
	// (default notify.DefaultPoll, 500 ms).
	Poll time.Duration
	// MinBackoff and MaxBackoff bound the wait between failed mail
	// attempts (default 1 s doubling to 5 min, jittered); tests shorten them.
	MinBackoff, MaxBackoff time.Duration
}

func (o *Options) fill() {
	if o.Location == nil {
		o.Location = time.UTC
	}
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	def := func(d *time.Duration, v time.Duration) {
		if *d <= 0 {
			*d = v
		}
	}
	def(&o.Poll, notify.DefaultPoll)
	def(&o.MinBackoff, time.Second)
	def(&o.MaxBackoff, 5*time.Minute)
}

// Service runs the alert engine, the alert mailer and the daily digest
// for one gate, each from its own persistent cursor.
type Service struct {
	opt Options
	db  *storage.DB

	mu      sync.Mutex
	body    string  // the configuration document last read
	cfg     *Config // parsed from body; nil when none or invalid
	badBody string  // an invalid body already logged
}

// New makes a Service; nothing runs until Run.
func New(opt Options) *Service {
	opt.fill()
	return &Service{opt: opt, db: opt.Recorder.DB}
}

// Cursor names. The engine's and the mailer's carry the door, so gates
// sharing a PostgreSQL log each handle their own door's events; the
// digest is per site.
func (s *Service) engineCursor() string { return "alerts:" + s.opt.Door }
func (s *Service) mailCursor() string   { return "alert-mail:" + s.opt.Door }

// DigestCursor holds the local date (YYYYMMDD) of the last day a digest
// was sent on.
const DigestCursor = "digest"

// Run evaluates, mails and digests until ctx ends. Each part waits, doing
// nothing, while no configuration is stored (`facegate alert set` on a
// running appliance takes effect within a poll).
func (s *Service) Run(ctx context.Context) {
	var wg sync.WaitGroup
	wg.Go(func() { s.loop(ctx, s.runEngine) })
	wg.Go(func() { s.loop(ctx, s.runMailer) })
	wg.Go(func() { s.loop(ctx, s.runDigest) })
	wg.Wait()
}

// loop runs part until ctx ends; a part that returns (an error it logged)
// is started again after a poll, from its stored cursor.
func (s *Service) loop(ctx context.Context, part func(context.Context)) {
	for ctx.Err() == nil {
		part(ctx)
		s.sleep(ctx, s.opt.Poll)
	}
}

// sleep waits d or until ctx ends; false if ctx ended.
func (s *Service) sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}

// Config is the configuration in force: the stored document, parsed; nil
// when none is stored. An invalid stored body (only possible if written
// around `facegate alert set`) is logged once and leaves the last good one
// in force.
func (s *Service) Config() *Config {
	body, found, err := s.db.Document(DocumentKey)
	s.mu.Lock()
	defer s.mu.Unlock()
	switch {
	case err != nil:
		s.opt.Log.Error("alerts: configuration not read", "err", err)
	case !found:
		s.body, s.cfg = "", nil
	case body != s.body && body != s.badBody:
		c, err := Parse([]byte(body))
		if err != nil {
			s.opt.Log.Error("alerts: stored configuration invalid; the previous one stays in force", "err", err)
			s.badBody = body
			break
		}
		s.body, s.cfg = body, c
	}
	return s.cfg
}

// retry calls send until it succeeds or ctx ends, re-reading the
// configuration before each attempt (a fixed password file or server
// applies at the next one) and waiting notify.Backoff between attempts.
func (s *Service) retry(ctx context.Context, what string, send func(*Config) error) error {
	for attempt := 1; ; attempt++ {
		cfg := s.Config()
		err := errNoSMTP
		if cfg != nil && cfg.SMTP != nil {
			if err = send(cfg); err == nil {
				return nil
			}
		}
		wait := notify.Backoff(attempt, s.opt.MinBackoff, s.opt.MaxBackoff, rand.Float64)
		s.opt.Log.Warn("alerts: mail not sent; retrying", "mail", what, "attempt", attempt, "retry_in", wait.Round(time.Millisecond), "err", err)
		if !s.sleep(ctx, wait) {
			return ctx.Err()
		}
	}
}
