package mqtt

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"time"

	paho "github.com/eclipse/paho.mqtt.golang"

	"github.com/facegate/facegate/storage"
)

// cursorName is the publisher's cursor in storage: per door, so that
// appliances sharing one PostgreSQL log each keep their own.
func (p *Publisher) cursorName() string { return "mqtt:" + p.opts.Door }

// pump publishes the chain past the cursor, in order, for as long as ctx
// lives. The cursor moves only past events the broker acknowledged (QoS 1
// PUBACK), so a broker that was down, or an appliance that restarted,
// gets the backlog: nothing is lost, an event may come twice (same seq).
func (p *Publisher) pump(ctx context.Context) {
	cursor, err := p.startCursor()
	for err != nil {
		p.log.Error("mqtt: cursor not read", "err", err)
		if !sleep(ctx, p.opts.Poll) {
			return
		}
		cursor, err = p.startCursor()
	}
	p.initLastPerson()
	for ctx.Err() == nil {
		n := 0
		if p.client.IsConnectionOpen() {
			n, err = p.publishBatch(ctx, &cursor)
			if err != nil && ctx.Err() == nil {
				p.log.Warn("mqtt: events not yet published; retrying", "after_seq", cursor, "err", err)
			}
		}
		if n < batchSize && !sleep(ctx, p.opts.Poll) {
			return
		}
	}
}

// startCursor reads the cursor. On the first start it is set to the
// chain's head: the history before MQTT was enabled stays in the evidence
// log and is not replayed to the broker.
func (p *Publisher) startCursor() (int64, error) {
	db := p.deps.Recorder.DB
	seq, found, err := db.Cursor(p.cursorName())
	if err != nil || found {
		return seq, err
	}
	if seq, err = db.EventCount(); err != nil {
		return 0, err
	}
	p.log.Info("mqtt: first start: events after this one are published", "seq", seq)
	return seq, db.SaveCursor(p.cursorName(), seq)
}

// initLastPerson starts the last-person state from the log.
func (p *Publisher) initLastPerson() {
	evs, err := p.deps.Recorder.DB.Events(storage.EventFilter{Door: p.opts.Door, Kind: storage.KindGranted, Newest: true, Limit: 1})
	if err != nil {
		p.log.Warn("mqtt: last person not read", "err", err)
	} else if len(evs) == 1 {
		p.setLastPerson(evs[0].PersonName)
	}
}

// publishBatch publishes up to batchSize events after *cursor, all in
// flight at once (the client sends them in order on one connection),
// with one checkpoint covering them all, and moves the cursor past those
// acknowledged.
func (p *Publisher) publishBatch(ctx context.Context, cursor *int64) (int, error) {
	db := p.deps.Recorder.DB
	// A seq window, not a LIMIT: Events orders by time, the feed by seq.
	evs, err := db.Events(storage.EventFilter{AfterSeq: *cursor, BeforeSeq: *cursor + batchSize + 1})
	if err != nil || len(evs) == 0 {
		return 0, err
	}
	slices.SortFunc(evs, func(a, b storage.Event) int { return cmp.Compare(a.Seq, b.Seq) })
	// Signs the head unless it is signed already: at most one new
	// checkpoint per batch, and every event leaves with one covering it.
	cp, err := db.SignCheckpoint(p.deps.Recorder.Keys)
	if err != nil {
		return 0, err
	}
	toks := make([]paho.Token, len(evs)) // nil: another door's event
	for i, e := range evs {
		if p.mine(e) {
			toks[i] = p.client.Publish(p.topics.Event(), 1, false, mustJSON(NewEventMessage(e, cp)))
		}
	}
	grace, cancel := afterGrace(ctx, ackGrace)
	defer cancel()
	for i, tok := range toks {
		if tok == nil {
			continue
		}
		if err := wait(grace, tok); err != nil {
			p.advance(cursor, evs[:i])
			return i, fmt.Errorf("event %d: %w", evs[i].Seq, err)
		}
	}
	p.advance(cursor, evs)
	return len(evs), nil
}

// advance saves the cursor past done and notes the last person granted.
func (p *Publisher) advance(cursor *int64, done []storage.Event) {
	if len(done) == 0 {
		return
	}
	*cursor = done[len(done)-1].Seq
	if err := p.deps.Recorder.DB.SaveCursor(p.cursorName(), *cursor); err != nil {
		// Not fatal: after a restart these events go out again.
		p.log.Error("mqtt: cursor not saved", "seq", *cursor, "err", err)
	}
	for _, e := range slices.Backward(done) {
		if e.Kind == storage.KindGranted && e.Door == p.opts.Door && e.PersonName != "" {
			p.setLastPerson(e.PersonName)
			break
		}
	}
}

// mine tells whether this appliance publishes e: its own door's events and
// those of no door (admin actions, retention …). Where several gates share
// one PostgreSQL log, each gate's events go out once, from its appliance.
func (p *Publisher) mine(e storage.Event) bool { return e.Door == "" || e.Door == p.opts.Door }

// ackGrace: on shutdown, acknowledgements already on their way still move
// the cursor (on loopback a PUBACK takes well under a millisecond), so a
// clean restart does not send the last events twice.
const ackGrace = 2 * time.Second

// afterGrace is a context that ends d after ctx ends (one grace for the
// whole batch: a shutdown with the broker away waits d, not d per event).
func afterGrace(ctx context.Context, d time.Duration) (context.Context, context.CancelFunc) {
	g, cancel := context.WithCancel(context.WithoutCancel(ctx))
	stop := context.AfterFunc(ctx, func() { time.AfterFunc(d, cancel) })
	return g, func() { stop(); cancel() }
}
