package storage

import (
	"fmt"

	"gorm.io/gorm"
)

// Site tables (migration 14). On a central they hold the appliances that
// joined, each appliance's evidence chain as it was received, every signed
// head it sent and every anomaly found on arrival. site_changes is the
// revision log both sides keep: a trigger on every table the central
// hands out (people, templates, groups, rules, holidays, doors, areas)
// adds a row in the transaction that changed it, so no writer (web app,
// CLI, another process) can change the site's truth without a revision.

// SiteAppliance is a door appliance that joined the central.
type SiteAppliance struct {
	ID            int64  `gorm:"primaryKey" json:"id"`
	Door          string `gorm:"size:64;not null" json:"door"`
	PublicKey     string `gorm:"size:80;not null;uniqueIndex" json:"public_key"`
	JoinedMicro   int64  `gorm:"not null" json:"joined_us"`
	LastSeenMicro int64  `gorm:"not null" json:"last_seen_us"`
	HeadSeq       int64  `gorm:"not null" json:"head_seq"` // the last event stored here
	HeadHash      string `gorm:"size:64;not null" json:"head_hash"`
	ReportedSeq   int64  `gorm:"not null" json:"reported_seq"` // the head the appliance last reported
	PulledRev     int64  `gorm:"not null" json:"pulled_rev"`
	RevokedMicro  int64  `gorm:"not null;default:0" json:"revoked_us,omitempty"` // 0: in service
	// Migration 15: when a push was last committed, and the door's camera
	// and relay as it last reported them ("" when it did not).
	SyncedMicro int64  `gorm:"not null;default:0" json:"synced_us,omitempty"`
	Camera      string `gorm:"size:40;not null;default:''" json:"camera,omitempty"`
	Relay       string `gorm:"size:20;not null;default:''" json:"relay,omitempty"`
}

// SiteHead is a signed checkpoint an appliance sent: the central keeps
// every one, so a later rewrite of the appliance's log is caught.
type SiteHead struct {
	ID            int64  `gorm:"primaryKey"`
	ApplianceID   int64  `gorm:"not null;uniqueIndex:idx_site_heads_app_seq,priority:1"`
	Seq           int64  `gorm:"not null;uniqueIndex:idx_site_heads_app_seq,priority:2"`
	Hash          string `gorm:"size:64;not null"`
	AtMicro       int64  `gorm:"not null"`
	Signature     string `gorm:"size:128;not null"`
	ReceivedMicro int64  `gorm:"not null"`
}

// SiteAlarm is an anomaly found in an appliance's chain: a gap, an edit, a
// fork, a bad signature, a log shorter or different than what it sent.
// One per (appliance, code, seq): a push retried does not repeat it.
type SiteAlarm struct {
	ID          int64  `gorm:"primaryKey" json:"id"`
	ApplianceID int64  `gorm:"not null;uniqueIndex:idx_site_alarms_key,priority:1" json:"appliance_id"`
	Code        string `gorm:"size:40;not null;uniqueIndex:idx_site_alarms_key,priority:2" json:"code"`
	Seq         int64  `gorm:"not null;uniqueIndex:idx_site_alarms_key,priority:3" json:"seq"`
	What        string `gorm:"size:500;not null" json:"what"`
	AtMicro     int64  `gorm:"not null" json:"at_us"`
	// Migration 15: acknowledged in the console (0: open), and by whom.
	AckedMicro int64  `gorm:"not null;default:0" json:"acked_us,omitempty"`
	AckedBy    string `gorm:"size:200;not null;default:''" json:"acked_by,omitempty"`
}

// SiteChange is one row of the revision log: entity "person" (Key = the
// person's ID), "policy" (Key 0), or "erase_snapshots" (Key = the person
// erased with their snapshots: the doors delete theirs too).
type SiteChange struct {
	Rev    int64  `gorm:"primaryKey;autoIncrement"`
	Entity string `gorm:"size:20;not null"`
	Key    int64  `gorm:"not null"`
}

// siteEventRow is an appliance's event as the central stores it: the
// event's own columns (so redaction and verification work as on the
// appliance) plus the appliance it came from.
type siteEventRow struct {
	ID            int64  `gorm:"primaryKey"`
	ApplianceID   int64  `gorm:"not null;uniqueIndex:idx_site_events_app_seq,priority:1"`
	Seq           int64  `gorm:"not null;uniqueIndex:idx_site_events_app_seq,priority:2"`
	AtMicro       int64  `gorm:"not null;index"`
	Kind          string `gorm:"size:40;not null"`
	Door          string `gorm:"size:64"`
	Area          string `gorm:"size:64"`
	Direction     string `gorm:"size:8"`
	PersonID      int64  `gorm:"index"`
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

func (siteEventRow) TableName() string { return "site_events" }

func toSiteRow(app int64, e Event) siteEventRow {
	return siteEventRow{0, app, e.Seq, e.AtMicro, e.Kind, e.Door, e.Area, e.Direction, e.PersonID, e.PersonName, e.Granted,
		e.Code, e.Reason, e.Rule, e.Distance, e.Margin, e.Frames, e.Liveness, e.ModelVersion, e.SnapshotHash, e.FaceHash,
		e.SnapshotError, e.By, e.Detail, e.ContentHash, e.PrevHash, e.Hash, e.Redacted}
}

func (r siteEventRow) event() Event {
	return Event{0, r.Seq, r.AtMicro, r.Kind, r.Door, r.Area, r.Direction, r.PersonID, r.PersonName, r.Granted,
		r.Code, r.Reason, r.Rule, r.Distance, r.Margin, r.Frames, r.Liveness, r.ModelVersion, r.SnapshotHash, r.FaceHash,
		r.SnapshotError, r.By, r.Detail, r.ContentHash, r.PrevHash, r.Hash, r.Redacted}
}

// siteTracked are the tables whose changes bump the revision, with the
// entity and the column naming the person ("" for policy tables).
var siteTracked = []struct{ table, entity, column string }{
	{"people", "person", "id"},
	{"face_templates", "person", "person_id"},
	{"person_groups", "person", "person_id"},
	{"areas", "policy", ""},
	{"doors", "policy", ""},
	{"groups", "policy", ""},
	{"access_rules", "policy", ""},
	{"holidays", "policy", ""},
}

// siteLockID serialises the transactions that change tracked tables on
// PostgreSQL, from their first change to their commit: revisions then
// commit in the order they were numbered, and an appliance that read "up
// to R" can never miss a change numbered below R that committed later.
const siteLockID = 0x73697465 // "site"

// migrateSite is migration 14's step. SiteHead, SiteChange and
// siteEventRow are new in it and frozen from here on; SiteAppliance and
// SiteAlarm as they were then are the copies below (migration 15 added
// columns to them).
func migrateSite(tx *gorm.DB) error {
	type SiteAppliance struct {
		ID            int64  `gorm:"primaryKey"`
		Door          string `gorm:"size:64;not null"`
		PublicKey     string `gorm:"size:80;not null;uniqueIndex"`
		JoinedMicro   int64  `gorm:"not null"`
		LastSeenMicro int64  `gorm:"not null"`
		HeadSeq       int64  `gorm:"not null"`
		HeadHash      string `gorm:"size:64;not null"`
		ReportedSeq   int64  `gorm:"not null"`
		PulledRev     int64  `gorm:"not null"`
		RevokedMicro  int64  `gorm:"not null;default:0"`
	}
	type SiteAlarm struct {
		ID          int64  `gorm:"primaryKey"`
		ApplianceID int64  `gorm:"not null;uniqueIndex:idx_site_alarms_key,priority:1"`
		Code        string `gorm:"size:40;not null;uniqueIndex:idx_site_alarms_key,priority:2"`
		Seq         int64  `gorm:"not null;uniqueIndex:idx_site_alarms_key,priority:3"`
		What        string `gorm:"size:500;not null"`
		AtMicro     int64  `gorm:"not null"`
	}
	if err := tx.Migrator().CreateTable(&SiteAppliance{}, &SiteHead{}, &SiteAlarm{}, &SiteChange{}, &siteEventRow{}); err != nil {
		return err
	}
	if tx.Dialector.Name() == "postgres" {
		return sitePostgresTriggers(tx)
	}
	return siteSQLiteTriggers(tx)
}

func siteSQLiteTriggers(tx *gorm.DB) error {
	for _, t := range siteTracked {
		for _, op := range []struct{ when, row string }{{"INSERT", "NEW"}, {"UPDATE", "NEW"}, {"DELETE", "OLD"}} {
			key := "0"
			if t.column != "" {
				key = op.row + "." + t.column
			}
			sql := fmt.Sprintf(`CREATE TRIGGER site_change_%s_%s AFTER %s ON %s BEGIN `+
				`INSERT INTO site_changes(entity, key) VALUES ('%s', %s); END`, t.table, op.when, op.when, t.table, t.entity, key)
			if err := tx.Exec(sql).Error; err != nil {
				return err
			}
		}
	}
	return nil
}

func sitePostgresTriggers(tx *gorm.DB) error {
	fn := fmt.Sprintf(`CREATE OR REPLACE FUNCTION site_change() RETURNS trigger AS $$
DECLARE r jsonb;
BEGIN
  PERFORM pg_advisory_xact_lock(%d);
  IF TG_OP = 'DELETE' THEN r := to_jsonb(OLD); ELSE r := to_jsonb(NEW); END IF;
  INSERT INTO site_changes(entity, key) VALUES (TG_ARGV[0], COALESCE((r->>TG_ARGV[1])::bigint, 0));
  RETURN NULL;
END $$ LANGUAGE plpgsql`, siteLockID)
	if err := tx.Exec(fn).Error; err != nil {
		return err
	}
	for _, t := range siteTracked {
		sql := fmt.Sprintf(`CREATE TRIGGER site_change_%s AFTER INSERT OR UPDATE OR DELETE ON %s FOR EACH ROW `+
			`EXECUTE FUNCTION site_change('%s', '%s')`, t.table, t.table, t.entity, t.column)
		if err := tx.Exec(sql).Error; err != nil {
			return err
		}
	}
	return nil
}

// migrateSiteConsole is migration 15's step: what the console shows of a
// door (last push, camera, relay) and alarm acknowledgement.
func migrateSiteConsole(tx *gorm.DB) error {
	type SiteAppliance struct {
		SyncedMicro int64  `gorm:"not null;default:0"`
		Camera      string `gorm:"size:40;not null;default:''"`
		Relay       string `gorm:"size:20;not null;default:''"`
	}
	type SiteAlarm struct {
		AckedMicro int64  `gorm:"not null;default:0"`
		AckedBy    string `gorm:"size:200;not null;default:''"`
	}
	for _, col := range []string{"SyncedMicro", "Camera", "Relay"} {
		if err := tx.Table("site_appliances").Migrator().AddColumn(&SiteAppliance{}, col); err != nil {
			return err
		}
	}
	for _, col := range []string{"AckedMicro", "AckedBy"} {
		if err := tx.Table("site_alarms").Migrator().AddColumn(&SiteAlarm{}, col); err != nil {
			return err
		}
	}
	return nil
}

// migrateSitePINs is migration 16's step: PINs become the central's too.
// A trigger on person_pins bumps the person's revision when a PIN is set,
// replaced or cleared; not when a door counts a wrong PIN (failures and
// lockout stay each door's own). Frozen: siteTracked is migration 14's.
func migrateSitePINs(tx *gorm.DB) error {
	if tx.Dialector.Name() == "postgres" {
		return tx.Exec(`CREATE TRIGGER site_change_person_pins AFTER INSERT OR UPDATE OF hash OR DELETE ON person_pins ` +
			`FOR EACH ROW EXECUTE FUNCTION site_change('person', 'person_id')`).Error
	}
	for _, op := range []struct{ when, row string }{{"INSERT", "NEW"}, {"UPDATE OF hash", "NEW"}, {"DELETE", "OLD"}} {
		sql := fmt.Sprintf(`CREATE TRIGGER site_change_person_pins_%s AFTER %s ON person_pins BEGIN `+
			`INSERT INTO site_changes(entity, key) VALUES ('person', %s.person_id); END`, op.when[:6], op.when, op.row)
		if err := tx.Exec(sql).Error; err != nil {
			return err
		}
	}
	return nil
}
