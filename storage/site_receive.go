package storage

import (
	"cmp"
	"crypto/ed25519"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"
)

// ChainHead is a chain position and its hash.
type ChainHead struct {
	Seq  int64  `json:"seq"`
	Hash string `json:"hash"`
}

// SitePush is one batch an appliance sends: events in chain order from
// the central's head on, the checkpoints it signed since the last push,
// and its own head as it reads it now (with no events, a heartbeat).
type SitePush struct {
	Events      []Event      `json:"events"`
	Checkpoints []Checkpoint `json:"checkpoints"`
	Head        ChainHead    `json:"head"`
	// Status is the door's camera and relay as it reads them now (nil from
	// a door that does not say: the console then shows nothing for them).
	Status *DoorStatus `json:"status,omitempty"`
}

// DoorStatus is what a door reports of its hardware with every push.
type DoorStatus struct {
	Camera string `json:"camera"` // the frame source's state: "running", "lost", ...
	Relay  string `json:"relay"`  // "locked", "unlocked", or "" without a relay
}

// SiteReceipt answers a push once it is committed: where the appliance's
// chain ends here (the appliance goes on from there), and what was found.
type SiteReceipt struct {
	HeadSeq    int64    `json:"head_seq"`
	Stored     int      `json:"stored"`
	Duplicates int      `json:"duplicates"`
	HeadsSeq   int64    `json:"heads_seq"` // the highest signed head stored
	Alarms     []string `json:"alarms,omitempty"`
	// Acks are the acknowledgements of the door's alarms asked for on the
	// central and not yet in its chain: the door records each (once).
	Acks []SiteAlarmAck `json:"acks,omitempty"`
	// Purge are the snapshots the door's retention or erasure events in
	// this push let go: the central deletes them from its store after the
	// commit, as the door did from its own.
	Purge []string `json:"-"`
}

// receiving is one push being stored, inside its transaction.
type receiving struct {
	tx  *gorm.DB
	a   SiteAppliance
	pub ed25519.PublicKey
	rec SiteReceipt
}

func (r *receiving) alarm(code string, seq int64, format string, args ...any) error {
	fresh, err := raise(r.tx, r.a.ID, code, seq, format, args...)
	if fresh {
		r.rec.Alarms = append(r.rec.Alarms, fmt.Sprintf("%s at %d: ", code, seq)+fmt.Sprintf(format, args...))
	}
	return err
}

// ReceivePush stores an appliance's batch as it is, in one transaction,
// and checks it on arrival: links, content and chain hashes, checkpoint
// signatures under the key it joined with, and its reported head against
// what it sent before. Anything wrong is an alarm; nothing stored is ever
// overwritten. Events already stored with the same hash are duplicates
// (a push retried after a lost answer) and are skipped.
func (db *DB) ReceivePush(applianceID int64, p SitePush) (SiteReceipt, error) {
	var r receiving
	err := db.g.Transaction(func(tx *gorm.DB) error {
		r = receiving{tx: tx}
		q := tx.Where("id = ?", applianceID)
		if db.dialect == "postgres" {
			q = q.Clauses(clause.Locking{Strength: "UPDATE"})
		}
		if err := q.Limit(1).Find(&r.a).Error; err != nil || r.a.ID == 0 {
			return cmp.Or(err, ErrUnknownAppliance)
		}
		var err error
		if r.pub, err = ParsePublicKey(r.a.PublicKey); err != nil {
			return err
		}
		old := r.a.HeadSeq
		if err := r.events(p.Events); err != nil {
			return err
		}
		if err := r.checkpoints(p.Checkpoints, old); err != nil {
			return err
		}
		if err := r.head(p.Head); err != nil {
			return err
		}
		if err := r.pendingAcks(); err != nil {
			return err
		}
		r.rec.HeadSeq = r.a.HeadSeq
		now := txNowMicro(r.tx)
		up := map[string]any{"head_seq": r.a.HeadSeq, "head_hash": r.a.HeadHash, "reported_seq": p.Head.Seq,
			"last_seen_micro": now, "synced_micro": now}
		if p.Status != nil {
			up["camera"], up["relay"] = clip(p.Status.Camera, 40), clip(p.Status.Relay, 20)
		}
		return tx.Model(&SiteAppliance{}).Where("id = ?", r.a.ID).Updates(up).Error
	})
	if err != nil {
		return r.rec, fmt.Errorf("storage: receive from appliance %d: %w", applianceID, err)
	}
	return r.rec, nil
}

func (r *receiving) storedHash(seq int64) (string, error) {
	var hs []string
	err := r.tx.Model(&siteEventRow{}).Where("appliance_id = ? AND seq = ?", r.a.ID, seq).Pluck("hash", &hs).Error
	if len(hs) == 0 {
		return "", err
	}
	return hs[0], err
}

func (r *receiving) events(evs []Event) error {
	slices.SortFunc(evs, func(a, b Event) int { return cmp.Compare(a.Seq, b.Seq) })
	for _, e := range evs {
		if e.Seq <= r.a.HeadSeq {
			h, err := r.storedHash(e.Seq)
			if err != nil {
				return err
			}
			if h == e.Hash {
				r.rec.Duplicates++
			} else if err := r.alarm("fork", e.Seq, "event %d sent again with another hash (%s… here, %s… now): the appliance's log was rewritten after sync",
				e.Seq, short12(h), short12(e.Hash)); err != nil {
				return err
			}
			continue
		}
		if err := r.check(e); err != nil {
			return err
		}
		if err := r.tx.Create(ptr(toSiteRow(r.a.ID, e))).Error; err != nil {
			return err
		}
		r.a.HeadSeq, r.a.HeadHash = e.Seq, e.Hash
		r.rec.Stored++
		if err := r.mirror(e); err != nil {
			return err
		}
		if err := r.purgeErased(e); err != nil {
			return err
		}
	}
	return nil
}

// mirror applies a door's retention or erasure event to the central's
// copy of that door's chain, as the door applied it to its own: the same
// event justifies the redactions and missing snapshots in both.
func (r *receiving) mirror(e Event) error {
	if e.Redacted || (e.Kind != KindRetention && e.Kind != KindErasure) {
		return nil
	}
	mine := r.tx.Model(&siteEventRow{}).Where("appliance_id = ? AND redacted = ? AND kind NOT IN ?", r.a.ID, false,
		[]string{KindRetention, KindErasure})
	if e.Kind == KindErasure {
		var d struct {
			PersonID  int64 `json:"person_id"`
			Snapshots bool  `json:"snapshots"`
		}
		if json.Unmarshal([]byte(e.Detail), &d) != nil || d.PersonID == 0 {
			return nil
		}
		if d.Snapshots {
			if err := r.purge("person_id = ? AND seq < ?", d.PersonID, e.Seq); err != nil {
				return err
			}
		}
		return mine.Where("person_id = ? AND seq < ?", d.PersonID, e.Seq).Updates(redaction()).Error
	}
	var d retentionDetail
	if json.Unmarshal([]byte(e.Detail), &d) != nil {
		return nil
	}
	if err := r.purge("seq <= ? AND granted = ?", d.GrantSnapshotsUpTo, true); err != nil {
		return err
	}
	if err := r.purge("seq <= ? AND granted = ?", d.DenySnapshotsUpTo, false); err != nil {
		return err
	}
	if d.EventsUpTo == 0 {
		return nil
	}
	return mine.Where("seq <= ?", d.EventsUpTo).Updates(redaction()).Error
}

// purge adds the snapshots of this door's events matching where to the
// receipt's Purge list.
func (r *receiving) purge(where string, args ...any) error {
	var rows []siteEventRow
	err := r.tx.Select("snapshot_hash", "face_hash").Where("appliance_id = ?", r.a.ID).Where(where, args...).
		Where("(snapshot_hash <> '' OR face_hash <> '')").Find(&rows).Error
	for _, row := range rows {
		for _, h := range []string{row.SnapshotHash, row.FaceHash} {
			if h != "" {
				r.rec.Purge = append(r.rec.Purge, h)
			}
		}
	}
	return err
}

// purgeErased lets go of the snapshots of an event that reached the
// central after its person was erased here with snapshots: the door
// recorded it before it heard of the erasure, and deletes its own copy
// when it does (TestSite caught the central keeping one).
func (r *receiving) purgeErased(e Event) error {
	if e.PersonID == 0 || e.SnapshotHash == "" && e.FaceHash == "" || e.Kind == KindErasure {
		return nil
	}
	var n int64
	err := r.tx.Model(&SiteChange{}).Where("entity = ? AND key = ?", siteEraseSnapshots, e.PersonID).Count(&n).Error
	if err != nil || n == 0 {
		return err
	}
	for _, h := range []string{e.SnapshotHash, e.FaceHash} {
		if h != "" {
			r.rec.Purge = append(r.rec.Purge, h)
		}
	}
	return nil
}

func ptr[T any](v T) *T { return &v }

// check raises the alarms one new event deserves; it is stored either way.
func (r *receiving) check(e Event) error {
	var err error
	switch {
	case e.Seq > r.a.HeadSeq+1:
		err = r.alarm("gap", r.a.HeadSeq+1, "events %d–%d never arrived: deleted on the appliance before they were synced", r.a.HeadSeq+1, e.Seq-1)
	case e.PrevHash != r.a.HeadHash:
		err = r.alarm("fork", e.Seq, "event %d does not link to event %d as received: the appliance's log was rewritten after sync", e.Seq, r.a.HeadSeq)
	}
	if err != nil {
		return err
	}
	if !e.Redacted && ComputeContentHash(e) != e.ContentHash {
		if err := r.alarm("edit", e.Seq, "event %d: content does not match its content hash (edited)", e.Seq); err != nil {
			return err
		}
	}
	if ChainHash(e.Seq, e.PrevHash, e.ContentHash) != e.Hash {
		return r.alarm("edit", e.Seq, "event %d: chain hash does not match its content (edited)", e.Seq)
	}
	return nil
}

// checkpoints keeps every signed head; one that does not verify, or
// contradicts a stored event or head, is an alarm.
func (r *receiving) checkpoints(cps []Checkpoint, oldHead int64) error {
	start := txNowMicro(r.tx)
	for _, cp := range cps {
		if !VerifyCheckpoint(cp, r.pub) {
			if err := r.alarm("signature", cp.Seq, "checkpoint at %d does not verify with the key the appliance joined with", cp.Seq); err != nil {
				return err
			}
			continue
		}
		var have SiteHead
		if err := r.tx.Where("appliance_id = ? AND seq = ?", r.a.ID, cp.Seq).Limit(1).Find(&have).Error; err != nil {
			return err
		}
		if have.ID != 0 {
			if have.Hash != cp.Hash {
				if err := r.alarm("head_rewritten", cp.Seq, "a second signed head at %d with another hash: the log was rewritten and signed again", cp.Seq); err != nil {
					return err
				}
			}
			continue
		}
		h := SiteHead{ApplianceID: r.a.ID, Seq: cp.Seq, Hash: cp.Hash, AtMicro: cp.AtMicro, Signature: cp.Signature, ReceivedMicro: txNowMicro(r.tx)}
		if err := r.tx.Create(&h).Error; err != nil {
			return err
		}
	}
	if err := r.tx.Model(&SiteHead{}).Where("appliance_id = ?", r.a.ID).Select("COALESCE(MAX(seq), 0)").Scan(&r.rec.HeadsSeq).Error; err != nil {
		return err
	}
	// Heads now covered by stored events must sign exactly those events.
	var heads []SiteHead
	if err := r.tx.Where("appliance_id = ? AND seq <= ?", r.a.ID, r.a.HeadSeq).Where("seq > ? OR received_micro >= ?", oldHead, start).Find(&heads).Error; err != nil {
		return err
	}
	for _, h := range heads {
		if stored, err := r.storedHash(h.Seq); err != nil {
			return err
		} else if stored != h.Hash {
			if err := r.alarm("head_mismatch", h.Seq, "signed head at %d differs from the event stored here", h.Seq); err != nil {
				return err
			}
		}
	}
	return nil
}

// head compares the appliance's own view of its head with what it sent:
// a shorter log lost events after sync; another hash was rewritten.
func (r *receiving) head(h ChainHead) error {
	if h.Seq < r.a.HeadSeq {
		if err := r.alarm("truncated", h.Seq+1, "the appliance's log ends at %d, but events up to %d were received from it: events deleted after sync",
			h.Seq, r.a.HeadSeq); err != nil {
			return err
		}
	}
	if h.Seq == 0 || h.Seq > r.a.HeadSeq {
		return nil
	}
	stored, err := r.storedHash(h.Seq)
	if err != nil || stored == h.Hash {
		return err
	}
	return r.alarm("rewritten", h.Seq, "the appliance's event %d now hashes to %s…, not %s… as received: its log was edited after sync",
		h.Seq, short12(h.Hash), short12(stored))
}

// wireEvent is an event as JSON carries it: distance and margin as text,
// since an unknown face's margin is +Inf, which JSON numbers cannot hold.
type wireEvent struct {
	Event
	Distance string
	Margin   string
}

type wirePush struct {
	Events      []wireEvent  `json:"events"`
	Checkpoints []Checkpoint `json:"checkpoints"`
	Head        ChainHead    `json:"head"`
	Status      *DoorStatus  `json:"status,omitempty"`
}

// MarshalJSON writes the events' floats as text (see wireEvent).
func (p SitePush) MarshalJSON() ([]byte, error) {
	w := wirePush{Checkpoints: p.Checkpoints, Head: p.Head, Status: p.Status, Events: make([]wireEvent, len(p.Events))}
	for i, e := range p.Events {
		w.Events[i] = wireEvent{e, fl(e.Distance), fl(e.Margin)}
	}
	return json.Marshal(w)
}

// UnmarshalJSON reads what MarshalJSON wrote.
func (p *SitePush) UnmarshalJSON(b []byte) error {
	var w wirePush
	if err := json.Unmarshal(b, &w); err != nil {
		return err
	}
	*p = SitePush{Checkpoints: w.Checkpoints, Head: w.Head, Status: w.Status, Events: make([]Event, len(w.Events))}
	for i, we := range w.Events {
		e := we.Event
		var err1, err2 error
		e.Distance, err1 = strconv.ParseFloat(we.Distance, 64)
		e.Margin, err2 = strconv.ParseFloat(we.Margin, 64)
		if err := errors.Join(err1, err2); err != nil {
			return fmt.Errorf("event %d: %w", e.Seq, err)
		}
		p.Events[i] = e
	}
	return nil
}

// clip cuts s to n bytes (a door's report must fit its column).
func clip(s string, n int) string {
	if len(s) > n {
		return s[:n]
	}
	return s
}
