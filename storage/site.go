package storage

import (
	"errors"
	"fmt"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"
)

// txNowMicro is the database's clock (Options.Now) inside a transaction.
func txNowMicro(tx *gorm.DB) int64 { return tx.NowFunc().UnixMicro() }

// JoinPurpose is the one-time-link purpose of a door's join token.
const JoinPurpose = "join"

// ErrUnknownAppliance: no appliance joined with this key.
var ErrUnknownAppliance = errors.New("no appliance joined with this key: join it with a token from `facegate central join-token`")

// ErrRevoked: the appliance's key was revoked on the central.
var ErrRevoked = errors.New("this appliance's key was revoked on the central (`facegate central revoke`): a new key and a new join token are needed")

// JoinAppliance uses a join token and registers the appliance's public key
// for the token's door. A key that joined already gets its record back
// (a door killed before it saw the answer joins again with no new token).
func (db *DB) JoinAppliance(token, publicKey string, now time.Time) (SiteAppliance, error) {
	if a, err := db.ApplianceByKey(publicKey); err == nil || errors.Is(err, ErrRevoked) {
		return a, err
	}
	if _, err := ParsePublicKey(publicKey); err != nil {
		return SiteAppliance{}, err
	}
	door, err := db.UseOneTimeLink(JoinPurpose, token, now)
	if err != nil {
		return SiteAppliance{}, err
	}
	a := SiteAppliance{Door: door, PublicKey: publicKey, JoinedMicro: now.UnixMicro(), LastSeenMicro: now.UnixMicro(), HeadHash: GenesisHash}
	if err := db.g.Create(&a).Error; err != nil {
		return a, fmt.Errorf("storage: register appliance: %w", err)
	}
	return a, nil
}

// ApplianceByKey finds a joined appliance by its public key.
func (db *DB) ApplianceByKey(publicKey string) (SiteAppliance, error) {
	var a SiteAppliance
	if err := db.g.Where("public_key = ?", publicKey).Limit(1).Find(&a).Error; err != nil {
		return a, err
	}
	if a.ID == 0 {
		return a, ErrUnknownAppliance
	}
	if a.RevokedMicro != 0 {
		return a, ErrRevoked
	}
	return a, nil
}

// RevokeAppliances revokes the keys of the door's appliances: they are
// refused from now on; what they sent stays.
func (db *DB) RevokeAppliances(door string, now time.Time) (int64, error) {
	res := db.g.Model(&SiteAppliance{}).Where("door = ? AND revoked_micro = 0", door).Update("revoked_micro", now.UnixMicro())
	return res.RowsAffected, res.Error
}

// Appliances lists the joined appliances.
func (db *DB) Appliances() ([]SiteAppliance, error) {
	var out []SiteAppliance
	err := db.g.Order("id").Find(&out).Error
	return out, err
}

// TouchAppliance records that the appliance was heard from (and, for a
// pull, which revision it asked from).
func (db *DB) TouchAppliance(id int64, pulledRev int64, now time.Time) error {
	up := map[string]any{"last_seen_micro": now.UnixMicro()}
	if pulledRev >= 0 {
		up["pulled_rev"] = pulledRev
	}
	return db.g.Model(&SiteAppliance{}).Where("id = ?", id).Updates(up).Error
}

// SiteAlarms lists the alarms raised about an appliance (0: all), oldest first.
func (db *DB) SiteAlarms(applianceID int64) ([]SiteAlarm, error) {
	var out []SiteAlarm
	q := db.g.Order("id")
	if applianceID != 0 {
		q = q.Where("appliance_id = ?", applianceID)
	}
	err := q.Find(&out).Error
	return out, err
}

// SiteChain returns an appliance's stored events with seq > after, in
// chain order.
func (db *DB) SiteChain(applianceID, after int64, limit int) ([]Event, error) {
	var rows []siteEventRow
	err := db.g.Where("appliance_id = ? AND seq > ?", applianceID, after).Order("seq").Limit(limit).Find(&rows).Error
	out := make([]Event, len(rows))
	for i, r := range rows {
		out[i] = r.event()
	}
	return out, err
}

// SiteHeads lists an appliance's signed heads, in chain order.
func (db *DB) SiteHeads(applianceID int64) ([]Checkpoint, error) {
	var hs []SiteHead
	err := db.g.Where("appliance_id = ?", applianceID).Order("seq").Find(&hs).Error
	out := make([]Checkpoint, len(hs))
	a, _ := db.applianceByID(applianceID)
	for i, h := range hs {
		out[i] = Checkpoint{Seq: h.Seq, Hash: h.Hash, AtMicro: h.AtMicro, PublicKey: a.PublicKey, Signature: h.Signature}
	}
	return out, err
}

func (db *DB) applianceByID(id int64) (SiteAppliance, error) {
	var a SiteAppliance
	err := db.g.Where("id = ?", id).Limit(1).Find(&a).Error
	if err == nil && a.ID == 0 {
		err = ErrUnknownAppliance
	}
	return a, err
}

// raise stores an alarm (once per appliance, code and position).
func raise(tx *gorm.DB, app int64, code string, seq int64, format string, args ...any) (bool, error) {
	what := fmt.Sprintf(format, args...)
	if len(what) > 500 {
		what = what[:500]
	}
	res := tx.Clauses(clause.OnConflict{DoNothing: true}).Create(&SiteAlarm{ApplianceID: app, Code: code, Seq: seq, What: what, AtMicro: txNowMicro(tx)})
	return res.RowsAffected == 1, res.Error
}

// VerifyAppliance checks an appliance's chain as the central stores it:
// every link, content and chain hash, every signed head under the key it
// joined with, every snapshot in snaps (the central's store).
func (db *DB) VerifyAppliance(applianceID int64, snaps SnapshotStore) (VerifyReport, error) {
	var rep VerifyReport
	a, err := db.applianceByID(applianceID)
	if err != nil {
		return rep, err
	}
	pub, err := ParsePublicKey(a.PublicKey)
	if err != nil {
		return rep, err
	}
	cps, err := db.SiteHeads(applianceID)
	if err != nil {
		return rep, err
	}
	err = verifyChain(newChainChecker(&rep, cps, true), pub, cps, snaps, 0, func(after int64) ([]Event, error) {
		return db.SiteChain(applianceID, after, verifyBatch)
	})
	return rep, err
}

// ChainAfter returns up to limit events after seq in chain order (what a
// door pushes next).
func (db *DB) ChainAfter(seq int64, limit int) ([]Event, error) {
	var out []Event
	err := db.g.Where("seq > ?", seq).Order("seq").Limit(limit).Find(&out).Error
	return out, err
}

// CheckpointsAfter returns the signed checkpoints after seq, in order.
func (db *DB) CheckpointsAfter(seq int64) ([]Checkpoint, error) {
	var out []Checkpoint
	err := db.g.Where("seq > ?", seq).Order("seq").Find(&out).Error
	return out, err
}

// Head is the chain's last position and hash (zero when empty).
func (db *DB) Head() (ChainHead, error) {
	var e Event
	err := db.g.Select("seq", "hash").Order("seq DESC").Limit(1).Find(&e).Error
	return ChainHead{e.Seq, e.Hash}, err
}

// SitePassage is a person's newest granted passage into or out of an
// area at any door of the site, as the central knows it.
type SitePassage struct {
	Known     bool   `json:"known"` // false: no passage through that area on record
	Direction string `json:"direction,omitempty"`
	AtMicro   int64  `json:"at_us,omitempty"`
	Door      string `json:"door,omitempty"`
}

// LastSitePassage is what anti-passback asks the central: whether the
// person's last passage through area, at whichever door, was in or out.
func (db *DB) LastSitePassage(personID int64, area string) (SitePassage, error) {
	var rows []siteEventRow
	err := db.g.Select("direction", "at_micro", "door").Where("person_id = ? AND area = ? AND granted = ? AND direction IN ?",
		personID, area, true, []string{"in", "out"}).Order("at_micro DESC").Limit(1).Find(&rows).Error
	if err != nil || len(rows) == 0 {
		return SitePassage{}, err
	}
	return SitePassage{true, rows[0].Direction, rows[0].AtMicro, rows[0].Door}, nil
}
