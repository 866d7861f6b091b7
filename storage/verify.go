package storage

import (
	"cmp"
	"crypto/ed25519"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"slices"
)

// Problem is one finding of a verification, at a chain position.
type Problem struct {
	Seq  int64  `json:"seq"`
	What string `json:"what"`
}

// VerifyReport is the outcome of Verify or VerifyBundle.
type VerifyReport struct {
	Events         int64     `json:"events"`
	Checkpoints    int       `json:"checkpoints"`
	LastCheckpoint int64     `json:"last_checkpoint"`
	Redacted       int64     `json:"redacted"`
	Snapshots      int64     `json:"snapshots_checked"`
	Problems       []Problem `json:"problems"`
}

// OK reports whether nothing was found.
func (r VerifyReport) OK() bool { return len(r.Problems) == 0 }

// FirstBroken is the earliest chain position with a problem (0 if none).
func (r VerifyReport) FirstBroken() int64 {
	first := int64(0)
	for _, p := range r.Problems {
		if first == 0 || p.Seq < first {
			first = p.Seq
		}
	}
	return first
}

func (r *VerifyReport) add(seq int64, format string, args ...any) {
	r.Problems = append(r.Problems, Problem{seq, fmt.Sprintf(format, args...)})
}

// chainChecker walks events in chain order; the database and bundle
// verifiers both feed it.
type chainChecker struct {
	rep      *VerifyReport
	next     int64 // expected seq; 0 = take the first as the anchor
	prev     string
	hashes   map[int64]string // seq → hash, for checkpoints
	cpSeqs   map[int64]bool
	justify  justification
	redacted []Event
	missing  []Event // events whose snapshot file is gone
}

type justification struct {
	grantSnaps, denySnaps, events int64
	erased                        map[int64]bool // person → erased
	erasedSnaps                   map[int64]bool // person → erased with snapshots
}

func newChainChecker(rep *VerifyReport, cps []Checkpoint, anchored bool) *chainChecker {
	c := &chainChecker{rep: rep, hashes: map[int64]string{}, cpSeqs: map[int64]bool{},
		justify: justification{erased: map[int64]bool{}, erasedSnaps: map[int64]bool{}}}
	if anchored {
		c.next, c.prev = 1, GenesisHash
	}
	for _, cp := range cps {
		c.cpSeqs[cp.Seq] = true
	}
	return c
}

// event checks one chain entry. full says the content is present (a
// bundle's stubs carry only hashes).
func (c *chainChecker) event(e Event, full bool) {
	c.rep.Events++
	if c.next != 0 && e.Seq != c.next {
		if e.Seq > c.next {
			c.rep.add(c.next, "events %d–%d missing (deleted)", c.next, e.Seq-1)
		} else {
			c.rep.add(e.Seq, "event %d out of order after %d (inserted or reordered)", e.Seq, c.next-1)
		}
	}
	if c.next != 0 && e.PrevHash != c.prev {
		c.rep.add(e.Seq, "event %d does not link to the event before it (deleted, inserted or reordered)", e.Seq)
	}
	if full && !e.Redacted {
		if got := ComputeContentHash(e); got != e.ContentHash {
			c.rep.add(e.Seq, "event %d content was edited (content hash %s…, recorded %s…)", e.Seq, got[:12], short12(e.ContentHash))
		}
	}
	if e.Redacted {
		c.rep.Redacted++
		if full {
			c.redacted = append(c.redacted, e)
		}
	}
	if got := ChainHash(e.Seq, e.PrevHash, e.ContentHash); got != e.Hash {
		c.rep.add(e.Seq, "event %d chain hash was edited", e.Seq)
	}
	if c.cpSeqs[e.Seq] {
		c.hashes[e.Seq] = e.Hash
	}
	if full && !e.Redacted {
		c.learn(e)
	}
	c.next, c.prev = e.Seq+1, e.Hash
}

// learn records retention and erasure events, which justify redactions
// and purged snapshots.
func (c *chainChecker) learn(e Event) {
	switch e.Kind {
	case KindRetention:
		var d retentionDetail
		if json.Unmarshal([]byte(e.Detail), &d) == nil {
			c.justify.grantSnaps = max(c.justify.grantSnaps, d.GrantSnapshotsUpTo)
			c.justify.denySnaps = max(c.justify.denySnaps, d.DenySnapshotsUpTo)
			c.justify.events = max(c.justify.events, d.EventsUpTo)
		}
	case KindErasure:
		var d struct {
			PersonID  int64 `json:"person_id"`
			Snapshots bool  `json:"snapshots"`
		}
		if json.Unmarshal([]byte(e.Detail), &d) == nil {
			c.justify.erased[d.PersonID] = true
			c.justify.erasedSnaps[d.PersonID] = c.justify.erasedSnaps[d.PersonID] || d.Snapshots
		}
	}
}

func short12(s string) string {
	if len(s) > 12 {
		return s[:12]
	}
	return s
}

func (c *chainChecker) checkpoints(cps []Checkpoint, pub ed25519.PublicKey, last int64) {
	slices.SortFunc(cps, func(a, b Checkpoint) int { return cmp.Compare(a.Seq, b.Seq) })
	for _, cp := range cps {
		c.rep.Checkpoints++
		if !VerifyCheckpoint(cp, pub) {
			c.rep.add(cp.Seq, "checkpoint at %d: signature does not verify with the appliance key", cp.Seq)
			continue
		}
		h, ok := c.hashes[cp.Seq]
		switch {
		case !ok && cp.Seq > last:
			c.rep.add(last+1, "checkpoint at %d signs events that are gone (events after %d deleted)", cp.Seq, last)
		case !ok:
			c.rep.add(cp.Seq, "checkpoint at %d: its event is missing", cp.Seq)
		case h != cp.Hash:
			c.rep.add(cp.Seq, "checkpoint at %d: chain hash differs from the signed one (events rewritten)", cp.Seq)
		default:
			c.rep.LastCheckpoint = cp.Seq
		}
	}
}

// finish judges redactions and missing snapshots against the retention and
// erasure records seen anywhere in the chain.
func (c *chainChecker) finish() {
	j := c.justify
	for _, e := range c.redacted {
		if e.Seq > j.events && !j.erased[e.PersonID] {
			c.rep.add(e.Seq, "event %d was redacted with no retention or erasure record covering it", e.Seq)
		}
	}
	for _, e := range c.missing {
		horizon := j.denySnaps
		if e.Granted {
			horizon = j.grantSnaps
		}
		if e.Seq > horizon && !j.erasedSnaps[e.PersonID] {
			c.rep.add(e.Seq, "event %d: snapshot %s… is missing and no retention or erasure record covers it", e.Seq, short12(e.SnapshotHash+e.FaceHash))
		}
	}
	slices.SortFunc(c.rep.Problems, func(a, b Problem) int { return cmp.Compare(a.Seq, b.Seq) })
}

// verifyBatch is how many events Verify reads at a time.
const verifyBatch = 2000

// Verify checks the whole database and snapshot store: every event's
// content and link, every snapshot's hash, every checkpoint's signature.
func (db *DB) Verify(pub ed25519.PublicKey, snaps SnapshotStore) (VerifyReport, error) {
	var rep VerifyReport
	var cps []Checkpoint
	if err := db.g.Order("seq").Find(&cps).Error; err != nil {
		return rep, err
	}
	err := verifyChain(newChainChecker(&rep, cps, true), pub, cps, snaps, -1<<62, func(after int64) ([]Event, error) {
		var evs []Event
		return evs, db.g.Where("seq > ?", after).Order("seq").Limit(verifyBatch).Find(&evs).Error
	})
	return rep, err
}

// verifyChain walks a chain in batches from after (next reads the batch
// after a seq, verifyBatch long unless it is the last), checking every
// event and its snapshots, then the checkpoints up to the last event.
func verifyChain(c *chainChecker, pub ed25519.PublicKey, cps []Checkpoint, snaps SnapshotStore, after int64,
	next func(after int64) ([]Event, error)) error {
	last := int64(0)
	for {
		evs, err := next(after)
		if err != nil {
			return err
		}
		for _, e := range evs {
			c.event(e, true)
			c.snapshots(e, snaps)
			last = e.Seq
		}
		if len(evs) < verifyBatch {
			break
		}
		after = evs[len(evs)-1].Seq
	}
	c.checkpoints(cps, pub, last)
	c.finish()
	return nil
}

// snapshots checks that e's snapshot files are there and intact.
func (c *chainChecker) snapshots(e Event, snaps SnapshotStore) {
	for _, h := range []string{e.SnapshotHash, e.FaceHash} {
		if h == "" {
			continue
		}
		c.rep.Snapshots++
		if _, err := snaps.Get(h); err != nil {
			if errors.Is(err, os.ErrNotExist) {
				c.missing = append(c.missing, e)
			} else {
				c.rep.add(e.Seq, "event %d: %v", e.Seq, err)
			}
		}
	}
}
