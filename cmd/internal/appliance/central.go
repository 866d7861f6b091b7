package appliance

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/facegate/facegate/gate/site"
	"github.com/facegate/facegate/storage"
)

// A door that joined a central keeps deciding and recording locally,
// always: its SQLite is the truth for its door. Beside that it pulls the
// site's people and policy by revision (long poll) and pushes its chain.

// DefaultCentralStale: a door that has not reached its central for longer
// says so in its status and in every event it records.
const DefaultCentralStale = 5 * time.Minute

// Sync pacing: a long poll of pullWait; a push every pushEvery (and at
// once while a backlog remains), in batches of pushBatch; retry after
// retryEvery while the central is unreachable.
const (
	pullWait   = 20 * time.Second
	pushEvery  = time.Second
	pushBatch  = 200
	retryEvery = time.Second
)

// Cursors a door keeps about its central.
const (
	pushCursor    = "central-push"    // every event up to here is committed on the central
	contactCursor = "central-contact" // Unix µs of the last answer from the central
)

// validateCentral checks the --central… settings.
func (c *Config) validateCentral() error {
	if c.Central == "" {
		if c.Join != "" || c.CentralCA != "" {
			return &ConfigError{"join", "--join and --central-ca need --central URL"}
		}
		return nil
	}
	if err := site.CheckURL(c.Central); err != nil {
		return &ConfigError{"central", err.Error()}
	}
	return nil
}

// centralSync is the door's side of the site.
type centralSync struct {
	a       *Appliance
	client  *site.Client
	contact atomic.Int64 // Unix µs of the last answer
	// lastWarn is when a failed exchange was last logged (0: none since
	// the last answer).
	lastWarn atomic.Int64
	stale    time.Duration
	// ackFailed are the central's acknowledgement requests this door could
	// not record (logged once each; the central asks with every receipt).
	ackFailed map[int64]bool
}

func (a *Appliance) newCentralSync() (*centralSync, error) {
	var ca []byte
	if a.cfg.CentralCA != "" {
		var err error
		if ca, err = os.ReadFile(a.cfg.CentralCA); err != nil {
			return nil, &ConfigError{"central-ca", err.Error()}
		}
	}
	cl, err := site.NewClient(a.cfg.Central, a.db.Keys.Signing, ca)
	if err != nil {
		return nil, &ConfigError{"central", err.Error()}
	}
	s := &centralSync{a: a, client: cl, stale: a.cfg.CentralStale}
	if s.stale <= 0 {
		s.stale = DefaultCentralStale
	}
	if at, ok, _ := a.db.Cursor(contactCursor); ok {
		s.contact.Store(at)
	}
	a.recorder.Annotate = s.annotate
	return s, nil
}

// syncCentral joins (once) and then pulls, pushes and serves the live view
// until ctx ends.
func (a *Appliance) syncCentral(ctx context.Context) {
	s := a.central
	if s == nil {
		return
	}
	if !s.hello(ctx) {
		return
	}
	var wg sync.WaitGroup
	wg.Go(func() { s.pull(ctx) })
	wg.Go(func() { s.live(ctx) })
	s.push(ctx)
	wg.Wait()
}

// hello asks the central who this door is, joining with the token when
// it does not know; it retries until it has an answer (or ctx ends).
func (s *centralSync) hello(ctx context.Context) bool {
	for {
		app, err := s.client.Hello(ctx)
		if errors.Is(err, site.ErrNotJoined) && s.a.cfg.Join != "" {
			app, err = s.client.Join(ctx, s.a.cfg.Join)
		}
		if err == nil && app.Door != s.a.cfg.Door {
			err = fmt.Errorf("the central knows this door as %q but serve runs --door %s: use the token's door", app.Door, s.a.cfg.Door)
		}
		if err == nil {
			s.touched()
			s.a.log.Info("central joined", "central", s.a.cfg.Central, "appliance", app.ID, "door", app.Door)
			return true
		}
		s.unreached("central not joined or not reached; deciding from the local copy", err)
		if !sleep(ctx, retryEvery) {
			return false
		}
	}
}

func sleep(ctx context.Context, d time.Duration) bool {
	select {
	case <-ctx.Done():
		return false
	case <-time.After(d):
		return true
	}
}

// unreached logs a failed exchange with the central: the first of a
// streak, then one a minute (a door offline for a day logs 1,440 lines,
// not 170,000).
func (s *centralSync) unreached(msg string, err error) {
	now := time.Now().UnixMicro()
	if last := s.lastWarn.Load(); now-last >= int64(time.Minute/time.Microsecond) && s.lastWarn.CompareAndSwap(last, now) {
		s.a.log.Warn(msg, "err", err, "last_answer_ago", s.ago())
	}
}

func (s *centralSync) ago() string {
	if _, ago := s.Stale(); ago > 0 {
		return ago.Round(time.Second).String()
	}
	return "never"
}

func (s *centralSync) touched() {
	if s.lastWarn.Swap(0) != 0 {
		s.a.log.Info("central reached again", "central", s.a.cfg.Central)
	}
	now := time.Now().UnixMicro()
	prev := s.contact.Swap(now)
	if now-prev > int64(10*time.Second/time.Microsecond) { // persisted at most every 10 s
		s.a.db.SaveCursor(contactCursor, now)
	}
}

// Stale reports whether the central was last reached longer ago than the
// staleness, and how long ago (0: never).
func (s *centralSync) Stale() (bool, time.Duration) {
	at := s.contact.Load()
	if at == 0 {
		return true, 0
	}
	ago := time.Since(time.UnixMicro(at))
	return ago > s.stale, ago
}

// Status is a one-line state for the status page.
func (s *centralSync) Status() string {
	stale, ago := s.Stale()
	switch {
	case ago == 0:
		return "central: never reached (deciding from the local copy)"
	case stale:
		return fmt.Sprintf("central: OFFLINE for %s (deciding from the local copy)", ago.Round(time.Second))
	}
	return fmt.Sprintf("central: online (last answer %s ago)", ago.Round(time.Second))
}

// annotate marks every event recorded while the central is stale.
func (s *centralSync) annotate(e *storage.Event) {
	stale, ago := s.Stale()
	if !stale {
		return
	}
	m := map[string]any{}
	if e.Detail != "" && json.Unmarshal([]byte(e.Detail), &m) != nil {
		m = map[string]any{"detail": e.Detail}
	}
	m["central"] = "offline"
	m["central_unreached_s"] = int64(ago.Seconds())
	if b, err := json.Marshal(m); err == nil && len(b) <= 2000 {
		e.Detail = string(b)
	}
}

// pull applies the central's changes as they come (long poll).
func (s *centralSync) pull(ctx context.Context) {
	for ctx.Err() == nil {
		rev, found, err := s.a.db.Cursor(storage.CentralRevCursor)
		if !found {
			rev = -1 // never pulled: everything
		}
		var ch storage.SiteChanges
		if err == nil {
			ch, err = s.client.Changes(ctx, rev, pullWait)
		}
		if err != nil {
			if ctx.Err() == nil {
				s.unreached("central changes not pulled", err)
				sleep(ctx, retryEvery)
			}
			continue
		}
		s.touched()
		if ch.Empty() && ch.Rev == rev {
			continue
		}
		apply := s.apply
		if ch.Full {
			apply = func(ch storage.SiteChanges) error { return s.applyPages(ctx, ch) }
		}
		if err := apply(ch); err != nil {
			s.a.log.Error("central changes not applied", "rev", ch.Rev, "err", err)
			sleep(ctx, retryEvery)
		}
	}
}

// apply erases the people the central erased (recorded in this door's
// chain; with their snapshots if the central's erasure deleted its), stores
// the rest, and reloads the gallery and the policy at once.
func (s *centralSync) apply(ch storage.SiteChanges) error {
	for _, id := range slices.Compact(slices.Sorted(slices.Values(append(slices.Clone(ch.Deleted), ch.EraseSnapshots...)))) {
		snaps := slices.Contains(ch.EraseSnapshots, id)
		if _, err := s.a.db.PersonByID(id); err == nil || snaps {
			if err := s.a.recorder.ErasePerson(id, "central", snaps); err != nil {
				return err
			}
		}
	}
	// Someone erased with their snapshots while this answer was read is
	// not put back: the next answer deletes them.
	ch.People = slices.DeleteFunc(ch.People, func(p storage.SitePerson) bool { return slices.Contains(ch.EraseSnapshots, p.Person.ID) })
	if err := s.a.db.ApplySiteChanges(ch); err != nil {
		return err
	}
	return s.reload(ch.Rev, len(ch.People), len(ch.Deleted), ch.Policy != nil, false)
}

// applyPages applies a full pull page by page, asking for each next one;
// a failure leaves the cursor where it was and the next pull starts again.
func (s *centralSync) applyPages(ctx context.Context, ch storage.SiteChanges) error {
	f := &storage.SiteFullPull{}
	people := 0
	for {
		done, err := s.a.db.ApplySitePage(f, ch)
		if err != nil {
			return err
		}
		people += len(ch.People)
		if done {
			return s.reload(f.Rev, people, 0, true, true)
		}
		next := ch.Next
		if ch, err = s.client.FullPage(ctx, next); err != nil {
			return fmt.Errorf("the page after person %d: %w", next, err)
		}
	}
}

// reload makes the gallery and the policy what was applied.
func (s *centralSync) reload(rev int64, people, deleted int, policy, full bool) error {
	s.a.policy.Reload()
	if err := s.a.recog.svc.Reload(); err != nil {
		return err
	}
	s.a.log.Info("central changes applied", "rev", rev, "full", full, "people", people, "deleted", deleted,
		"policy", policy, "templates", s.a.recog.svc.Gallery().Len())
	if n := s.a.recog.svc.SkippedTemplates(); n > 0 { // the central switched model: this door must too
		s.a.log.Error("templates from the central were made by another embedder and are not used: restart with the central's --embedder",
			"embedder", s.a.cfg.Embedder, "skipped", n)
	}
	return nil
}

// push sends the chain after what the central has, snapshots first, in
// batches; the central's receipt (after its commit) moves the cursor.
func (s *centralSync) push(ctx context.Context) {
	head, heads := int64(-1), int64(0) // unknown until the central says
	for ctx.Err() == nil {
		n, err := s.pushOnce(ctx, &head, &heads)
		if err != nil {
			if ctx.Err() == nil {
				s.unreached("events not pushed to the central (kept here, sent later)", err)
			}
			head = -1 // ask again: the central's head is the truth
			sleep(ctx, retryEvery)
			continue
		}
		if n < pushBatch {
			sleep(ctx, pushEvery)
		}
	}
}

func (s *centralSync) pushOnce(ctx context.Context, head, heads *int64) (int, error) {
	var p storage.SitePush
	var err error
	if *head >= 0 {
		if p.Events, err = s.a.db.ChainAfter(*head, pushBatch); err != nil {
			return 0, err
		}
		if p.Checkpoints, err = s.a.db.CheckpointsAfter(*heads); err != nil {
			return 0, err
		}
		if err := s.snapshots(ctx, p.Events); err != nil {
			return 0, err
		}
	}
	// Read after the batch: the head is never behind what is sent.
	if p.Head, err = s.a.db.Head(); err != nil {
		return 0, err
	}
	p.Status = s.a.doorStatus()
	r, err := s.client.Push(ctx, p)
	if err != nil {
		return 0, err
	}
	s.touched()
	*head, *heads = r.HeadSeq, r.HeadsSeq
	for _, al := range r.Alarms {
		s.a.log.Error("the central raised an alarm about this door's log", "alarm", al)
	}
	if r.Stored > 0 {
		if err := s.a.db.SaveCursor(pushCursor, r.HeadSeq); err != nil {
			return 0, err
		}
	}
	s.acknowledge(r.Acks)
	return len(p.Events), nil
}

// acknowledge records the acknowledgements of this door's alarms asked
// for on the central, as the door's own audit events (they go up with the
// next push, which ends the request there). The central asks again until
// then, so each is recorded only if the chain does not hold one yet.
func (s *centralSync) acknowledge(acks []storage.SiteAlarmAck) {
	for _, q := range acks {
		ok, err := s.a.recorder.AcknowledgeAlarm(q.Seq, q.By)
		switch {
		case err != nil && !s.ackFailed[q.Seq]:
			if s.ackFailed == nil {
				s.ackFailed = map[int64]bool{}
			}
			s.ackFailed[q.Seq] = true
			s.a.log.Error("alarm acknowledgement from the central not recorded", "seq", q.Seq, "by", q.By, "err", err)
		case ok:
			s.a.log.Info("alarm acknowledged from the central", "seq", q.Seq, "kind", q.Kind, "by", q.By)
		}
	}
}

// snapshots uploads the photos of evs (gone ones, purged by retention or
// never written, are said so by their events and skipped).
func (s *centralSync) snapshots(ctx context.Context, evs []storage.Event) error {
	store := s.a.cfg.Snapshots()
	for _, e := range evs {
		for _, h := range []string{e.SnapshotHash, e.FaceHash} {
			if h == "" {
				continue
			}
			b, err := store.Get(h)
			if errors.Is(err, os.ErrNotExist) {
				continue
			} else if err != nil {
				return err
			}
			if err := s.client.PutSnapshot(ctx, h, b); err != nil {
				return err
			}
		}
	}
	return nil
}

// doorStatus is the camera and relay the central's console shows.
func (a *Appliance) doorStatus() *storage.DoorStatus {
	st := &storage.DoorStatus{Relay: relayState(a.relay)}
	if a.recog != nil && a.recog.src != nil {
		st.Camera = string(a.recog.src.Status().State)
	}
	return st
}
