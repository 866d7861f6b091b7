package storage

import (
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"sync"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"
)

// A door's own alarms (forced, held open, …) are acknowledged in that
// door's chain, by an audit event: at the door, or from the central, which
// keeps the request (SiteAlarmAck) until the door's acknowledgement comes
// back in its chain. The door records it at most once per alarm.

// ActionAlarmAck is the audit action that acknowledges a door's alarm;
// its detail is {"seq": the alarm's seq, "kind": its kind}.
const ActionAlarmAck = "alarm_acknowledged"

// AlarmKinds are the door's events a person must see and acknowledge.
var AlarmKinds = []string{KindDoorForced, KindDoorHeldOpen, KindTailgating, KindRelayError, KindAlarm}

// SiteAlarmAck is an acknowledgement asked for on the central and not yet
// seen in the door's chain (migration 17); one per (appliance, alarm).
// Every receipt to that door carries it until the door's audit event for
// the alarm arrives, which deletes it in the same transaction.
type SiteAlarmAck struct {
	ID          int64  `gorm:"primaryKey" json:"-"`
	ApplianceID int64  `gorm:"not null;uniqueIndex:idx_site_alarm_acks_key,priority:1" json:"-"`
	Seq         int64  `gorm:"not null;uniqueIndex:idx_site_alarm_acks_key,priority:2" json:"seq"`
	Kind        string `gorm:"size:40;not null" json:"kind"`
	By          string `gorm:"size:200;not null" json:"by"`
	AtMicro     int64  `gorm:"not null" json:"at_us"`
}

// migrateSiteAlarmAcks is migration 17's step (its struct frozen here).
func migrateSiteAlarmAcks(tx *gorm.DB) error {
	type SiteAlarmAck struct {
		ID          int64  `gorm:"primaryKey"`
		ApplianceID int64  `gorm:"not null;uniqueIndex:idx_site_alarm_acks_key,priority:1"`
		Seq         int64  `gorm:"not null;uniqueIndex:idx_site_alarm_acks_key,priority:2"`
		Kind        string `gorm:"size:40;not null"`
		By          string `gorm:"size:200;not null"`
		AtMicro     int64  `gorm:"not null"`
	}
	return tx.Migrator().CreateTable(&SiteAlarmAck{})
}

// AckedAlarm is the seq of the alarm e acknowledges (false: e is no
// acknowledgement).
func AckedAlarm(e Event) (int64, bool) {
	if e.Kind != KindAdmin || e.Code != ActionAlarmAck {
		return 0, false
	}
	var d struct {
		Seq int64 `json:"seq"`
	}
	if json.Unmarshal([]byte(e.Detail), &d) != nil || d.Seq <= 0 {
		return 0, false
	}
	return d.Seq, true
}

func ackedSeqs(evs []Event) map[int64]bool {
	acked := map[int64]bool{}
	for _, e := range evs {
		if seq, ok := AckedAlarm(e); ok {
			acked[seq] = true
		}
	}
	return acked
}

// AcknowledgedAlarms are the alarms this chain acknowledged after seq
// after (an acknowledgement always comes after its alarm).
func (db *DB) AcknowledgedAlarms(after int64) (map[int64]bool, error) {
	var evs []Event
	if err := db.g.Where("kind = ? AND code = ? AND seq > ?", KindAdmin, ActionAlarmAck, after).Find(&evs).Error; err != nil {
		return nil, fmt.Errorf("storage: acknowledged alarms: %w", err)
	}
	return ackedSeqs(evs), nil
}

// ackMu makes AcknowledgeAlarm's check and record one step within a
// process (the web app at the door and the central's requests).
var ackMu sync.Mutex

// AcknowledgeAlarm records that by acknowledged the alarm at seq, unless
// the chain already holds an acknowledgement of it (recorded false). An
// event that is not an alarm is ErrNotFound.
func (r *Recorder) AcknowledgeAlarm(seq int64, by string) (recorded bool, err error) {
	ackMu.Lock()
	defer ackMu.Unlock()
	e, err := r.DB.EventBySeq(seq)
	if err != nil {
		return false, err
	}
	if !slices.Contains(AlarmKinds, e.Kind) {
		return false, fmt.Errorf("event %d is a %s, not an alarm: %w", seq, e.Kind, ErrNotFound)
	}
	acked, err := r.DB.AcknowledgedAlarms(seq)
	if err != nil || acked[seq] {
		return false, err
	}
	if _, err := r.Audit(by, ActionAlarmAck, map[string]any{"seq": seq, "kind": e.Kind}); err != nil {
		return false, err
	}
	return true, nil
}

// siteAcked are the alarms an appliance's chain, as the central holds it,
// acknowledged after seq after.
func siteAcked(tx *gorm.DB, app, after int64) (map[int64]bool, error) {
	var rows []siteEventRow
	if err := tx.Where("appliance_id = ? AND kind = ? AND code = ? AND seq > ?", app, KindAdmin, ActionAlarmAck, after).
		Find(&rows).Error; err != nil {
		return nil, fmt.Errorf("storage: acknowledged alarms of appliance %d: %w", app, err)
	}
	evs := make([]Event, len(rows))
	for i, r := range rows {
		evs[i] = r.event()
	}
	return ackedSeqs(evs), nil
}

// RequestDoorAlarmAck asks, on the central, that the door acknowledge its
// alarm (eventID: the site row SiteEvents gave it) for by. It is the
// alarm's event; fresh is false when the request was already waiting.
// An alarm the door's chain already acknowledged is ErrAlarmAcknowledged;
// a revoked door is ErrRevoked (it will never push again).
func (db *DB) RequestDoorAlarmAck(eventID int64, by string, now time.Time) (e Event, fresh bool, err error) {
	var rows []siteEventRow
	if err := db.g.Where("id = ?", eventID).Limit(1).Find(&rows).Error; err != nil {
		return e, false, fmt.Errorf("storage: door alarm %d: %w", eventID, err)
	}
	if len(rows) == 0 || !slices.Contains(AlarmKinds, rows[0].Kind) {
		return e, false, fmt.Errorf("door alarm %d: %w", eventID, ErrNotFound)
	}
	row := rows[0]
	evs, err := db.siteEvents(rows)
	if err != nil {
		return e, false, err
	}
	e = evs[0]
	if a, err := db.applianceByID(row.ApplianceID); err != nil {
		return e, false, err
	} else if a.RevokedMicro != 0 {
		return e, false, fmt.Errorf("door %s: %w", a.Door, ErrRevoked)
	}
	if acked, err := siteAcked(db.g, row.ApplianceID, row.Seq); err != nil {
		return e, false, err
	} else if acked[row.Seq] {
		return e, false, ErrAlarmAcknowledged
	}
	res := db.g.Clauses(clause.OnConflict{DoNothing: true}).Create(&SiteAlarmAck{ApplianceID: row.ApplianceID, Seq: row.Seq,
		Kind: row.Kind, By: clip(by, 200), AtMicro: now.UnixMicro()})
	if res.Error != nil {
		return e, false, fmt.Errorf("storage: request acknowledgement of door alarm %d: %w", eventID, res.Error)
	}
	return e, res.RowsAffected == 1, nil
}

// ErrAlarmAcknowledged: the door's chain already acknowledges the alarm.
var ErrAlarmAcknowledged = errors.New("the alarm is already acknowledged in its door's log")

// pendingAcks puts this door's waiting requests in the receipt, after
// deleting those its chain now acknowledges (this push's events included).
func (r *receiving) pendingAcks() error {
	var reqs []SiteAlarmAck
	if err := r.tx.Where("appliance_id = ?", r.a.ID).Order("seq").Find(&reqs).Error; err != nil || len(reqs) == 0 {
		return err
	}
	acked, err := siteAcked(r.tx, r.a.ID, reqs[0].Seq)
	if err != nil {
		return err
	}
	var done []int64
	for _, q := range reqs {
		if acked[q.Seq] {
			done = append(done, q.ID)
		} else {
			r.rec.Acks = append(r.rec.Acks, q)
		}
	}
	if len(done) == 0 {
		return nil
	}
	return r.tx.Delete(&SiteAlarmAck{}, done).Error
}

// DoorAlarm is a door's alarm as the central's Home lists it, with the
// acknowledgement asked for on the central and not yet in the door's
// chain (nil: none).
type DoorAlarm struct {
	Event
	Requested *SiteAlarmAck
}

// SiteOpenDoorAlarms are the doors' alarms since from that their door's
// chain does not acknowledge, newest first; limit bounds the alarms read
// (acknowledged ones included).
func (db *DB) SiteOpenDoorAlarms(from time.Time, limit int) ([]DoorAlarm, error) {
	var rows []siteEventRow
	if err := db.g.Where("kind IN ? AND at_micro >= ?", AlarmKinds, from.UnixMicro()).Order("at_micro DESC, id DESC").
		Limit(limit).Find(&rows).Error; err != nil {
		return nil, fmt.Errorf("storage: door alarms: %w", err)
	}
	first := map[int64]int64{} // appliance → its oldest alarm listed
	for _, r := range rows {
		if s, ok := first[r.ApplianceID]; !ok || r.Seq < s {
			first[r.ApplianceID] = r.Seq
		}
	}
	acked := map[int64]map[int64]bool{}
	for app, seq := range first {
		var err error
		if acked[app], err = siteAcked(db.g, app, seq); err != nil {
			return nil, err
		}
	}
	var reqs []SiteAlarmAck
	if err := db.g.Where("appliance_id IN ?", slices.Collect(maps.Keys(first))).Find(&reqs).Error; err != nil {
		return nil, fmt.Errorf("storage: requested acknowledgements: %w", err)
	}
	evs, err := db.siteEvents(rows)
	if err != nil {
		return nil, err
	}
	var out []DoorAlarm
	for i, r := range rows {
		if acked[r.ApplianceID][r.Seq] {
			continue
		}
		d := DoorAlarm{Event: evs[i]}
		if j := slices.IndexFunc(reqs, func(q SiteAlarmAck) bool { return q.ApplianceID == r.ApplianceID && q.Seq == r.Seq }); j >= 0 {
			d.Requested = &reqs[j]
		}
		out = append(out, d)
	}
	return out, nil
}
