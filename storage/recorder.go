package storage

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"gorm.io/gorm"
)

// CheckpointEvery: a signed checkpoint every this many events bounds what
// an attacker with the database but not the key could silently truncate.
const CheckpointEvery = 100

// CheckpointInterval bounds in time what CheckpointEvery bounds in events:
// a quiet door may take days to reach 100 events, and until a checkpoint
// covers them its last events could be deleted unnoticed. KeepSigned signs
// an unsigned head at least this often.
const CheckpointInterval = time.Minute

// Recorder writes decisions as events with their snapshots.
type Recorder struct {
	DB        *DB
	Snapshots SnapshotStore
	Keys      *Keys
	// Annotate, when set, may amend every event before it is chained (a
	// door cut off from its central says so in each event's Detail).
	Annotate func(*Event)
}

// Record stores the snapshots, then the event. A snapshot that cannot be
// written (disk full, I/O error) never stops the event: the event says the
// snapshot is missing and why, and an alarm event follows it.
func (r *Recorder) Record(e Event, snapshot, face []byte) (Event, error) {
	var failures []error
	put := func(b []byte, what string) string {
		if len(b) == 0 {
			return ""
		}
		h, err := r.Snapshots.Put(b)
		if err != nil {
			failures = append(failures, fmt.Errorf("%s: %w", what, err))
			return ""
		}
		return h
	}
	if r.Annotate != nil {
		r.Annotate(&e)
	}
	e.SnapshotHash = put(snapshot, "frame")
	e.FaceHash = put(face, "face crop")
	if len(failures) > 0 {
		e.SnapshotError = "snapshot not stored: " + errors.Join(failures...).Error()
	}
	ev, err := r.DB.Append(e)
	if err != nil {
		return ev, err
	}
	if len(failures) > 0 {
		if _, err := r.DB.Append(Event{Kind: KindAlarm, Code: "snapshot_write_failed", Door: e.Door,
			Reason: fmt.Sprintf("evidence for event %d not stored: %s (check free space on the data disk)", ev.Seq, e.SnapshotError),
			Detail: fmt.Sprintf(`{"event_seq":%d}`, ev.Seq)}); err != nil {
			return ev, err
		}
	}
	if ev.Seq%CheckpointEvery == 0 {
		if _, err := r.DB.SignCheckpoint(r.Keys); err != nil {
			return ev, err
		}
	}
	return ev, nil
}

// RetentionPolicy says how long each kind of record is kept, in days
// (0 = forever).
type RetentionPolicy struct {
	GrantSnapshotDays int // snapshots of granted entries
	DenySnapshotDays  int // snapshots of denials and unknown faces
	EventDays         int // event details (personal fields are redacted; hashes stay)
}

// retentionDetail is recorded in a retention event: everything up to these
// chain positions may be purged or redacted.
type retentionDetail struct {
	GrantSnapshotsUpTo int64 `json:"grant_snapshots_up_to,omitempty"`
	DenySnapshotsUpTo  int64 `json:"deny_snapshots_up_to,omitempty"`
	EventsUpTo         int64 `json:"events_up_to,omitempty"`
}

// RetentionResult counts what ApplyRetention did.
type RetentionResult struct {
	SnapshotsDeleted int
	EventsRedacted   int
}

func (db *DB) horizon(before time.Time) (int64, error) {
	var seq int64
	err := db.g.Model(&Event{}).Where("at_micro < ?", before.UnixMicro()).Select("COALESCE(MAX(seq), 0)").Scan(&seq).Error
	return seq, err
}

// ApplyRetention deletes what is due at now and records that it did. The
// chain stays verifiable: hashes are kept, and the retention event says up
// to which position records were purged.
func (r *Recorder) ApplyRetention(p RetentionPolicy, now time.Time) (RetentionResult, error) {
	var res RetentionResult
	var d retentionDetail
	day := 24 * time.Hour
	var err error
	if p.GrantSnapshotDays > 0 {
		if d.GrantSnapshotsUpTo, err = r.DB.horizon(now.Add(-time.Duration(p.GrantSnapshotDays) * day)); err != nil {
			return res, err
		}
	}
	if p.DenySnapshotDays > 0 {
		if d.DenySnapshotsUpTo, err = r.DB.horizon(now.Add(-time.Duration(p.DenySnapshotDays) * day)); err != nil {
			return res, err
		}
	}
	if p.EventDays > 0 {
		if d.EventsUpTo, err = r.DB.horizon(now.Add(-time.Duration(p.EventDays) * day)); err != nil {
			return res, err
		}
	}
	if d == (retentionDetail{}) {
		return res, nil
	}
	// Record first: a crash after this leaves purgeable records, never
	// unexplained missing ones.
	detail, _ := json.Marshal(d)
	if _, err := r.DB.Append(Event{Kind: KindRetention, Code: "retention", Detail: string(detail),
		Reason: fmt.Sprintf("retention: grant snapshots %d d, denial snapshots %d d, events %d d",
			p.GrantSnapshotDays, p.DenySnapshotDays, p.EventDays)}); err != nil {
		return res, err
	}
	purge := func(upTo int64, granted bool) error {
		if upTo == 0 {
			return nil
		}
		var evs []Event
		if err := r.DB.g.Where("seq <= ? AND granted = ? AND (snapshot_hash <> '' OR face_hash <> '')", upTo, granted).
			Select("seq", "snapshot_hash", "face_hash").Find(&evs).Error; err != nil {
			return err
		}
		for _, e := range evs {
			for _, h := range []string{e.SnapshotHash, e.FaceHash} {
				if h != "" && r.Snapshots.Delete(h) == nil {
					res.SnapshotsDeleted++
				}
			}
		}
		return nil
	}
	if err := purge(d.GrantSnapshotsUpTo, true); err != nil {
		return res, err
	}
	if err := purge(d.DenySnapshotsUpTo, false); err != nil {
		return res, err
	}
	if d.EventsUpTo > 0 {
		tx := r.DB.g.Model(&Event{}).Where("seq <= ? AND redacted = ? AND kind NOT IN ?", d.EventsUpTo, false,
			[]string{KindRetention, KindErasure}).Updates(redaction())
		if tx.Error != nil {
			return res, tx.Error
		}
		res.EventsRedacted = int(tx.RowsAffected)
	}
	return res, nil
}

// redaction clears an event's personal fields; its hashes stay.
func redaction() map[string]any {
	return map[string]any{"person_name": "", "reason": "", "distance": 0, "margin": 0, "redacted": true}
}

// ErasePerson deletes a person's templates and enrolment photos (and, if
// asked, the snapshots of their events), redacts their events, and records
// the erasure. The chain still verifies.
func (r *Recorder) ErasePerson(personID int64, by string, withSnapshots bool) error {
	var tpls []FaceTemplate
	if err := r.DB.g.Where("person_id = ?", personID).Find(&tpls).Error; err != nil {
		return err
	}
	detail, _ := json.Marshal(map[string]any{"person_id": personID, "snapshots": withSnapshots, "templates": len(tpls)})
	if _, err := r.DB.Append(Event{Kind: KindErasure, Code: "erasure", PersonID: personID, By: by, Detail: string(detail),
		Reason: "person erased"}); err != nil {
		return err
	}
	for _, t := range tpls {
		if t.PhotoSHA256 != "" {
			r.Snapshots.Delete(t.PhotoSHA256)
		}
	}
	if withSnapshots {
		if err := r.eraseSnapshotsOf(personID); err != nil {
			return err
		}
	}
	if err := r.DB.g.Model(&Event{}).Where("person_id = ? AND kind <> ?", personID, KindErasure).Updates(redaction()).Error; err != nil {
		return err
	}
	// On a central, the copies of the doors' events too.
	if err := r.DB.g.Model(&siteEventRow{}).Where("person_id = ? AND kind <> ?", personID, KindErasure).Updates(redaction()).Error; err != nil {
		return err
	}
	if err := r.DB.ClearPIN(personID); err != nil {
		return err
	}
	return r.DB.g.Exec("DELETE FROM people WHERE id = ?", personID).Error // templates cascade
}

// eraseSnapshotsOf deletes the snapshots of a person's events: this
// log's, and on a central its copies of the doors' (the doors are told
// by an erase_snapshots revision, and delete theirs).
func (r *Recorder) eraseSnapshotsOf(personID int64) error {
	var hashes []string
	for _, table := range []string{"events", "site_events"} {
		var evs []Event
		err := r.DB.g.Table(table).Where("person_id = ? AND kind <> ?", personID, KindErasure).Select("snapshot_hash", "face_hash").Find(&evs).Error
		if err != nil {
			return err
		}
		for _, e := range evs {
			hashes = append(hashes, e.SnapshotHash, e.FaceHash)
		}
	}
	for _, h := range hashes {
		if h != "" {
			r.Snapshots.Delete(h)
		}
	}
	var apps int64
	if err := r.DB.g.Model(&SiteAppliance{}).Count(&apps).Error; err != nil || apps == 0 {
		return err // a door, or a central no door joined yet: nobody to tell
	}
	return r.DB.g.Transaction(func(tx *gorm.DB) error {
		if r.DB.dialect == "postgres" { // numbered and committed in order, as the triggers do
			if err := tx.Exec("SELECT pg_advisory_xact_lock(?)", siteLockID).Error; err != nil {
				return err
			}
		}
		return tx.Create(&SiteChange{Entity: siteEraseSnapshots, Key: personID}).Error
	})
}

// KeepSigned signs the chain head at once (so the tail written before a
// restart is covered) and again at every tick until ctx ends; in production
// tick is a CheckpointInterval ticker. A head already signed is left as it
// is, so a quiet door adds no checkpoints. A failed signing goes to onErr and
// the next tick tries again: a locked database must not stop the door.
func (r *Recorder) KeepSigned(ctx context.Context, tick <-chan time.Time, onErr func(error)) {
	for {
		if _, err := r.DB.SignCheckpoint(r.Keys); err != nil {
			onErr(err)
		}
		select {
		case <-ctx.Done():
			return
		case <-tick:
		}
	}
}
