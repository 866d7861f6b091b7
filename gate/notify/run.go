package notify

import (
	"context"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/facegate/facegate/storage"
)

// worker is the goroutine delivering to one enabled subscription.
type worker struct {
	config string // what it was started with; a change restarts it
	wake   chan struct{}
	stop   context.CancelFunc
	done   chan struct{}
}

// ended reports whether the worker gave up (its cursor could not be
// stored): the next sync starts it again from the stored cursor.
func (wk *worker) ended() bool {
	select {
	case <-wk.done:
		return true
	default:
		return false
	}
}

// configKey is everything of a subscription but its cursor.
func configKey(w storage.Webhook) string {
	return strings.Join([]string{w.URL, w.Secret, strings.Join(w.Kinds, ","), strings.Join(w.Doors, ","),
		map[bool]string{true: "http", false: "https"}[w.AllowHTTP], w.CACert}, "\x00")
}

// Run delivers until ctx ends: one worker per enabled subscription whose
// lease it holds, so a receiver that is down delays only its own events.
// Every Poll it re-reads the subscriptions (the CLI may change them while
// the appliance runs) and the chain head, waking the workers when events
// arrive. On return its leases are released.
func (d *Deliverer) Run(ctx context.Context) {
	workers := map[int64]*worker{}
	defer func() {
		for _, wk := range workers {
			wk.stop()
			<-wk.done
		}
		if err := d.db.ReleaseWebhookLeases(d.owner); err != nil {
			d.opt.Log.Error("webhook leases not released; another gate takes over when they run out", "err", err)
		}
	}()
	var head int64 = -1
	var pruned time.Time
	tick := time.NewTicker(d.opt.Poll)
	defer tick.Stop()
	for {
		d.sync(ctx, workers)
		if h, err := d.db.EventCount(); err == nil && h != head {
			head = h
			for _, wk := range workers {
				select {
				case wk.wake <- struct{}{}:
				default: // already woken
				}
			}
		}
		if now := d.opt.Now(); now.Sub(pruned) > 24*time.Hour {
			pruned = now
			if _, err := d.db.PruneWebhookDeliveries(now.AddDate(0, 0, -d.opt.LogDays)); err != nil {
				d.opt.Log.Error("webhook delivery log not pruned", "err", err)
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}

// sync starts a worker for each enabled subscription without one, and
// stops those of subscriptions removed, disabled or changed.
func (d *Deliverer) sync(ctx context.Context, workers map[int64]*worker) {
	subs, err := d.db.Webhooks()
	if err != nil {
		d.opt.Log.Error("webhook subscriptions not read", "err", err)
		return
	}
	want := map[int64]storage.Webhook{}
	for _, w := range subs {
		if w.Enabled && d.hold(w.ID) {
			want[w.ID] = w
		}
	}
	for id, wk := range workers {
		if w, ok := want[id]; !ok || configKey(w) != wk.config || wk.ended() {
			wk.stop()
			<-wk.done // its last cursor move is stored before the next worker reads it
			delete(workers, id)
		}
	}
	for id, w := range want {
		if workers[id] != nil {
			continue
		}
		wctx, stop := context.WithCancel(ctx)
		wk := &worker{config: configKey(w), wake: make(chan struct{}, 1), stop: stop, done: make(chan struct{})}
		workers[id] = wk
		go func() {
			defer close(wk.done)
			d.work(wctx, id, wk.wake)
		}()
	}
}

// work delivers subscription id's events in seq order: it reads the
// events after its stored cursor, posts the matching ones one at a time
// (each until acknowledged), and moves the cursor after each.
func (d *Deliverer) work(ctx context.Context, id int64, wake <-chan struct{}) {
	w, err := d.db.WebhookByID(id)
	if err != nil {
		d.opt.Log.Error("webhook not read", "webhook", id, "err", err)
		return
	}
	client := d.clientFor(w)
	for ctx.Err() == nil {
		evs, err := d.db.EventsAfter(w.Cursor, d.opt.Batch)
		if err != nil {
			d.opt.Log.Error("webhook: events not read", "webhook", id, "err", err)
		}
		if len(evs) == 0 {
			select {
			case <-ctx.Done():
			case <-wake:
			case <-time.After(time.Minute): // a missed wake costs a minute at most
			}
			continue
		}
		if err := d.batch(ctx, client, &w, evs); err != nil {
			return
		}
	}
}

// batch delivers the matching events of evs and moves w's cursor past
// all of them; it stops early only when ctx ends.
func (d *Deliverer) batch(ctx context.Context, c *http.Client, w *storage.Webhook, evs []storage.Event) error {
	employees := d.employeeIDs(evs)
	for _, e := range evs {
		if !w.Matches(e) {
			continue
		}
		if err := d.deliver(ctx, c, *w, e, employees[e.PersonID]); err != nil {
			return err
		}
		if err := d.advance(w, e.Seq); err != nil {
			return err
		}
	}
	return d.advance(w, evs[len(evs)-1].Seq)
}

// advance stores w's cursor at seq. If it cannot be stored the worker
// stops (the supervisor starts it again from the stored cursor): going on
// would deliver past a cursor a restart does not know.
func (d *Deliverer) advance(w *storage.Webhook, seq int64) error {
	if seq <= w.Cursor {
		return nil
	}
	if err := d.db.AdvanceWebhookCursor(w.ID, seq); err != nil {
		d.opt.Log.Error("webhook cursor not stored", "webhook", w.ID, "seq", seq, "err", err)
		return err
	}
	w.Cursor = seq
	return nil
}

// employeeIDs maps the people of evs to their employee IDs.
func (d *Deliverer) employeeIDs(evs []storage.Event) map[int64]string {
	var ids []int64
	for _, e := range evs {
		if e.PersonID != 0 && !slices.Contains(ids, e.PersonID) {
			ids = append(ids, e.PersonID)
		}
	}
	out := map[int64]string{}
	people, err := d.db.People(ids)
	if err != nil {
		d.opt.Log.Error("webhook: people not read", "err", err)
	}
	for id, p := range people {
		out[id] = p.EmployeeID
	}
	return out
}

// hold reports whether this deliverer holds subscription id's lease,
// renewing it when half of it is left (one write per 15 s by default).
func (d *Deliverer) hold(id int64) bool {
	now := d.opt.Now()
	if until, ok := d.held[id]; ok && until.Sub(now) > d.opt.Lease/2 {
		return true
	}
	ok, err := d.db.LeaseWebhook(id, d.owner, now, d.opt.Lease)
	if err != nil {
		d.opt.Log.Error("webhook lease not renewed", "webhook", id, "err", err)
		return d.held[id].After(now)
	}
	if !ok {
		delete(d.held, id)
		return false
	}
	d.held[id] = now.Add(d.opt.Lease)
	return true
}
