package storage

import (
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/mattn/go-sqlite3"
	"gorm.io/gorm"
)

// Event kinds: every kind the log stores is declared here. Package gate
// names the door's kinds after these.
const (
	KindGranted          = "access_granted"
	KindDenied           = "access_denied"
	KindRemoteUnlock     = "remote_unlock"
	KindPassageStart     = "passage_start"
	KindPassageEnd       = "passage_end"
	KindDoorForced       = "door_forced"
	KindDoorHeldOpen     = "door_held_open"
	KindTailgating       = "tailgating"
	KindExitWithoutEntry = "exit_without_entry"
	KindRelayError       = "relay_error"
	KindIdentify         = "identify" // a photo identified through the API
	KindAlarm            = "alarm"
	KindRetention        = "retention"
	KindErasure          = "erasure"
	KindModelSwitch      = "model_switch" // templates re-derived under another descriptor model
	KindAdmin            = "admin_action" // admin audit entries, in the same chain so verify covers them
	KindPIN              = "pin_attempt"  // a PIN typed at a face+pin door: ok, wrong, locked, not set, or none
	KindAlert            = "alert"        // an alert rule fired (gate/alert): out-of-hours entry, unknown face, …
)

// GenesisHash is the "previous hash" of the first event.
var GenesisHash = strings.Repeat("0", 64)

// Event is one entry of the tamper-evident log. Everything but ID, the
// hashes and Redacted is covered by ContentHash; Hash chains it to the
// event before. Rows are never updated except by retention and erasure,
// which redact personal fields, set Redacted, and are themselves events.
type Event struct {
	ID            int64  `gorm:"primaryKey"`
	Seq           int64  `gorm:"not null;uniqueIndex"`
	AtMicro       int64  `gorm:"not null;index;index:idx_events_person_at,priority:2;index:idx_events_door_at,priority:2"`
	Kind          string `gorm:"size:40;not null;index"`
	Door          string `gorm:"size:64;index:idx_events_door_at,priority:1"`
	Area          string `gorm:"size:64"`
	Direction     string `gorm:"size:8"`
	PersonID      int64  `gorm:"index:idx_events_person_at,priority:1"`
	PersonName    string `gorm:"size:200"`
	Granted       bool
	Code          string `gorm:"size:40"`
	Reason        string `gorm:"size:500"`
	Rule          string `gorm:"size:200"`
	Distance      float64
	Margin        float64
	Frames        int
	Liveness      string `gorm:"size:20"`
	ModelVersion  string `gorm:"size:120"`
	SnapshotHash  string `gorm:"size:64"`
	FaceHash      string `gorm:"size:64"`
	SnapshotError string `gorm:"size:500"`
	By            string `gorm:"size:200"`
	Detail        string `gorm:"size:2000"`
	ContentHash   string `gorm:"size:64;not null"`
	PrevHash      string `gorm:"size:64;not null"`
	Hash          string `gorm:"size:64;not null"`
	Redacted      bool
}

// At is the event time in UTC.
func (e Event) At() time.Time { return time.UnixMicro(e.AtMicro).UTC() }

// eventContent is the canonical, hashed form: a fixed field order, floats
// in shortest round-trip form, time in microseconds.
type eventContent struct {
	Seq           int64  `json:"seq"`
	At            int64  `json:"at_us"`
	Kind          string `json:"kind"`
	Door          string `json:"door"`
	Area          string `json:"area"`
	Direction     string `json:"direction"`
	PersonID      int64  `json:"person_id"`
	PersonName    string `json:"person_name"`
	Granted       bool   `json:"granted"`
	Code          string `json:"code"`
	Reason        string `json:"reason"`
	Rule          string `json:"rule"`
	Distance      string `json:"distance"`
	Margin        string `json:"margin"`
	Frames        int    `json:"frames"`
	Liveness      string `json:"liveness"`
	ModelVersion  string `json:"model_version"`
	SnapshotHash  string `json:"snapshot"`
	FaceHash      string `json:"face"`
	SnapshotError string `json:"snapshot_error"`
	By            string `json:"by"`
	Detail        string `json:"detail"`
}

func fl(f float64) string { return strconv.FormatFloat(f, 'g', -1, 64) }

// ComputeContentHash hashes the event's canonical content.
func ComputeContentHash(e Event) string {
	c := eventContent{e.Seq, e.AtMicro, e.Kind, e.Door, e.Area, e.Direction, e.PersonID, e.PersonName, e.Granted,
		e.Code, e.Reason, e.Rule, fl(e.Distance), fl(e.Margin), e.Frames, e.Liveness, e.ModelVersion,
		e.SnapshotHash, e.FaceHash, e.SnapshotError, e.By, e.Detail}
	b, _ := json.Marshal(c)
	s := sha256.Sum256(append([]byte("facegate event v1\n"), b...))
	return hex.EncodeToString(s[:])
}

// ChainHash links an event's content hash to the previous event's hash.
func ChainHash(seq int64, prev, content string) string {
	s := sha256.Sum256([]byte(fmt.Sprintf("facegate chain v1\n%d\n%s\n%s\n", seq, prev, content)))
	return hex.EncodeToString(s[:])
}

// chainLockID serialises appends on PostgreSQL (pg_advisory_xact_lock);
// SQLite serialises them with BEGIN IMMEDIATE.
const chainLockID = 0x66616365 // "face"

// Append adds e at the head of the chain in one transaction and returns it
// with its position and hashes. When Append returns nil the event is
// durable (synchronous=FULL on SQLite; commit on PostgreSQL).
func (db *DB) Append(e Event) (Event, error) {
	if e.AtMicro == 0 {
		e.AtMicro = db.nowMicro()
	}
	if e.Kind == "" {
		return e, errors.New("storage: event without a kind")
	}
	var err error
	for attempt := 0; ; attempt++ {
		e, err = db.appendOnce(e)
		if err == nil || !isBusy(err) || attempt == appendRetries {
			break
		}
		// Another process holds the database past the busy timeout (a
		// backup, a second facegate): wait and try again, never drop it.
		time.Sleep(time.Duration(attempt+1) * appendBackoff)
	}
	if err != nil {
		return e, fmt.Errorf("storage: append event: %w", err)
	}
	return e, nil
}

// Append retries: on top of SQLite's 5 s busy timeout per attempt, an event
// survives a lock held for about half a minute.
const (
	appendRetries = 4
	appendBackoff = 500 * time.Millisecond
)

func isBusy(err error) bool {
	var se sqlite3.Error
	if errors.As(err, &se) {
		return se.Code == sqlite3.ErrBusy || se.Code == sqlite3.ErrLocked
	}
	return strings.Contains(err.Error(), "database is locked")
}

// lockedHead reads the chain head inside tx, with the chain locked
// against other writers: PostgreSQL by an advisory lock, SQLite by its
// immediate transactions.
func (db *DB) lockedHead(tx *gorm.DB) (Event, error) {
	if db.dialect == "postgres" {
		if err := tx.Exec("SELECT pg_advisory_xact_lock(?)", chainLockID).Error; err != nil {
			return Event{}, err
		}
	}
	var last Event
	err := tx.Select("seq", "hash").Order("seq DESC").Limit(1).Find(&last).Error
	return last, err
}

func (db *DB) appendOnce(e Event) (Event, error) {
	err := db.g.Transaction(func(tx *gorm.DB) error {
		last, err := db.lockedHead(tx)
		if err != nil {
			return err
		}
		e.ID = 0
		e.Seq = last.Seq + 1
		e.PrevHash = GenesisHash
		if last.Seq > 0 {
			e.PrevHash = last.Hash
		}
		e.Redacted = false
		storable(&e)
		e.ContentHash = ComputeContentHash(e)
		e.Hash = ChainHash(e.Seq, e.PrevHash, e.ContentHash)
		return tx.Create(&e).Error
	})
	return e, err
}

// storable makes e's floats what the database gives back: SQLite stores a
// NaN as NULL (read back as 0), so an event hashed with one would fail
// its own verification. A NaN comes from an empty gallery (margin = Inf −
// Inf: no runner-up, as with one person enrolled), so it is stored as +Inf.
func storable(e *Event) {
	for _, f := range []*float64{&e.Distance, &e.Margin} {
		if math.IsNaN(*f) {
			*f = math.Inf(1)
		}
	}
}

// Checkpoint is a signed statement of the chain head.
type Checkpoint struct {
	ID        int64  `gorm:"primaryKey" json:"-"`
	Seq       int64  `gorm:"not null;uniqueIndex" json:"seq"`
	Hash      string `gorm:"size:64;not null" json:"hash"`
	AtMicro   int64  `gorm:"not null" json:"at_us"`
	PublicKey string `gorm:"size:80;not null" json:"public_key"`
	Signature string `gorm:"size:128;not null" json:"signature"`
}

// CheckpointMessage is the exact text a checkpoint signs.
func CheckpointMessage(seq int64, hash string, atMicro int64) []byte {
	return []byte(fmt.Sprintf("facegate checkpoint v1\nseq %d\nhash %s\nat %d\n", seq, hash, atMicro))
}

// VerifyCheckpoint checks a checkpoint's signature under pub.
func VerifyCheckpoint(c Checkpoint, pub ed25519.PublicKey) bool {
	sig, err := hex.DecodeString(c.Signature)
	return err == nil && ed25519.Verify(pub, CheckpointMessage(c.Seq, c.Hash, c.AtMicro), sig)
}

// SignCheckpoint signs the current head (a no-op if it is signed already,
// or the chain is empty).
func (db *DB) SignCheckpoint(keys *Keys) (Checkpoint, error) {
	var c Checkpoint
	err := db.g.Transaction(func(tx *gorm.DB) error {
		last, err := db.lockedHead(tx)
		if err != nil {
			return err
		}
		if last.Seq == 0 {
			return nil
		}
		if err := tx.Where("seq = ?", last.Seq).Limit(1).Find(&c).Error; err != nil || c.ID != 0 {
			return err
		}
		c = Checkpoint{Seq: last.Seq, Hash: last.Hash, AtMicro: db.nowMicro(), PublicKey: PublicKeyString(keys.Public)}
		c.Signature = hex.EncodeToString(ed25519.Sign(keys.Signing, CheckpointMessage(c.Seq, c.Hash, c.AtMicro)))
		return tx.Create(&c).Error
	})
	if err != nil {
		return c, fmt.Errorf("storage: checkpoint: %w", err)
	}
	return c, nil
}

// EventFilter selects events for history queries and exports.
type EventFilter struct {
	From, To time.Time // [From, To); zero = open
	Door     string
	PersonID int64
	Kind     string
	Granted  *bool
	AfterSeq int64 // keyset pagination: events with seq > AfterSeq
	// Newest lists newest first; BeforeSeq then pages back (seq < BeforeSeq).
	Newest    bool
	BeforeSeq int64
	Area      string
	// ExcludeKinds leaves these kinds out (the entries page hides admin
	// audit rows, which have their own page).
	ExcludeKinds []string
	Limit        int
}

func (f EventFilter) apply(q *gorm.DB) *gorm.DB {
	if !f.From.IsZero() {
		q = q.Where("at_micro >= ?", f.From.UnixMicro())
	}
	if !f.To.IsZero() {
		q = q.Where("at_micro < ?", f.To.UnixMicro())
	}
	if f.Door != "" {
		q = q.Where("door = ?", f.Door)
	}
	if f.PersonID != 0 {
		q = q.Where("person_id = ?", f.PersonID)
	}
	if f.Kind != "" {
		q = q.Where("kind = ?", f.Kind)
	}
	if f.Granted != nil {
		q = q.Where("granted = ?", *f.Granted)
	}
	if f.AfterSeq > 0 {
		q = q.Where("seq > ?", f.AfterSeq)
	}
	if f.BeforeSeq > 0 {
		q = q.Where("seq < ?", f.BeforeSeq)
	}
	if f.Area != "" {
		q = q.Where("area = ?", f.Area)
	}
	if len(f.ExcludeKinds) > 0 {
		q = q.Where("kind NOT IN ?", f.ExcludeKinds)
	}
	return q
}

// Events runs a filtered history query, oldest first.
func (db *DB) Events(f EventFilter) ([]Event, error) {
	order := "at_micro, seq"
	if f.Newest {
		order = "seq DESC"
	}
	q := f.apply(db.g.Model(&Event{})).Order(order)
	if f.Limit > 0 {
		q = q.Limit(f.Limit)
	}
	var out []Event
	if err := q.Find(&out).Error; err != nil {
		return nil, fmt.Errorf("storage: events: %w", err)
	}
	return out, nil
}

// EventBySeq returns one event.
func (db *DB) EventBySeq(seq int64) (Event, error) {
	var e Event
	err := db.g.Where("seq = ?", seq).Limit(1).Find(&e).Error
	if err == nil && e.ID == 0 {
		err = fmt.Errorf("event %d: %w", seq, ErrNotFound)
	}
	return e, err
}

// EventCount is how many events the log holds: positions are gapless
// from 1 and events are never deleted (retention and erasure redact), so
// it is the head's position, one index lookup rather than a COUNT(*).
func (db *DB) EventCount() (int64, error) {
	var n int64
	err := db.g.Model(&Event{}).Select("COALESCE(MAX(seq), 0)").Scan(&n).Error
	return n, err
}
