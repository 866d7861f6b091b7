package storage

import (
	"fmt"
	"strings"
	"time"

	"gorm.io/gorm"
)

// schemaMigration records an applied migration.
type schemaMigration struct {
	Version   int `gorm:"primaryKey;autoIncrement:false"`
	Name      string
	AppliedAt time.Time
}

func (schemaMigration) TableName() string { return "schema_migrations" }

// migration is one schema step. Each uses its own frozen copies of the
// structs it creates, so that changing today's entities never rewrites what
// an old step did on an installed appliance.
type migration struct {
	version int
	name    string
	up      func(tx *gorm.DB) error
	// upKeys is up for a step that needs the appliance's keys (to seal
	// data an older facegate stored in clear).
	upKeys func(tx *gorm.DB, k *Keys) error
}

var migrations = []migration{
	{1, "people and face templates", func(tx *gorm.DB) error {
		type Person struct {
			ID         int64  `gorm:"primaryKey"`
			EmployeeID string `gorm:"size:64;not null;uniqueIndex"`
			Name       string `gorm:"size:200;not null"`
			CreatedAt  time.Time
			UpdatedAt  time.Time
		}
		type FaceTemplate struct {
			ID           int64  `gorm:"primaryKey"`
			PersonID     int64  `gorm:"not null;index"`
			Person       Person `gorm:"constraint:OnDelete:CASCADE"`
			Descriptor   []byte `gorm:"not null"`
			ModelVersion string `gorm:"size:120;not null"`
			SourceName   string `gorm:"size:300"`
			PhotoSHA256  string `gorm:"size:64;index"`
			FaceWidth    int
			Sharpness    float64
			CreatedAt    time.Time
		}
		return tx.Migrator().CreateTable(&Person{}, &FaceTemplate{})
	}, nil},
	{2, "events, checkpoints, admin users", func(tx *gorm.DB) error {
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
		type Checkpoint struct {
			ID        int64  `gorm:"primaryKey"`
			Seq       int64  `gorm:"not null;uniqueIndex"`
			Hash      string `gorm:"size:64;not null"`
			AtMicro   int64  `gorm:"not null"`
			PublicKey string `gorm:"size:80;not null"`
			Signature string `gorm:"size:128;not null"`
		}
		type AdminUser struct {
			ID           int64  `gorm:"primaryKey"`
			Username     string `gorm:"size:100;not null;uniqueIndex"`
			PasswordHash string `gorm:"size:200;not null"`
			Role         string `gorm:"size:20;not null"`
			TOTPSecret   string `gorm:"size:100"`
			Disabled     bool
			CreatedAt    time.Time
			UpdatedAt    time.Time
		}
		return tx.Migrator().CreateTable(&Event{}, &Checkpoint{}, &AdminUser{})
	}, nil},
	{3, "access policy: areas, doors, groups, rules, holidays; account status", func(tx *gorm.DB) error {
		type Area struct {
			Name         string `gorm:"primaryKey;size:64"`
			AntiPassback bool
		}
		type Door struct {
			ID              string `gorm:"primaryKey;size:64"`
			Name            string `gorm:"size:200;not null"`
			Area            string `gorm:"size:64;not null"`
			Direction       string `gorm:"size:8;not null"`
			OpenMillis      int64  `gorm:"not null"`
			HeldOpenSeconds int
			Level           string `gorm:"size:20;not null"`
			PassageWindows  string `gorm:"size:500"`
		}
		type Group struct {
			Name string `gorm:"primaryKey;size:100"`
		}
		type AccessRule struct {
			ID              int64  `gorm:"primaryKey"`
			GroupName       string `gorm:"size:100;index"`
			PersonID        int64  `gorm:"index"`
			Name            string `gorm:"size:200;not null"`
			Doors           string `gorm:"size:1000;not null"`
			ScheduleName    string `gorm:"size:200;not null"`
			Windows         string `gorm:"size:1000;not null"`
			ValidFrom       string `gorm:"size:10"`
			ValidUntil      string `gorm:"size:10"`
			ObserveHolidays bool
		}
		type Holiday struct {
			Date string `gorm:"primaryKey;size:10"`
			Name string `gorm:"size:200"`
		}
		type PersonGroup struct {
			PersonID  int64  `gorm:"primaryKey"`
			GroupName string `gorm:"primaryKey;size:100"`
		}
		if err := tx.Migrator().CreateTable(&Area{}, &Door{}, &Group{}, &AccessRule{}, &Holiday{}, &PersonGroup{}); err != nil {
			return err
		}
		type Person struct {
			SuspendedSince *time.Time
			ExpiresAt      *time.Time
		}
		for _, col := range []string{"SuspendedSince", "ExpiresAt"} {
			if err := tx.Table("people").Migrator().AddColumn(&Person{}, col); err != nil {
				return err
			}
		}
		return nil
	}, nil},
	{4, "API tokens", func(tx *gorm.DB) error {
		type APIToken struct {
			ID        int64  `gorm:"primaryKey"`
			UserID    int64  `gorm:"not null;index"`
			TokenHash string `gorm:"size:64;not null;uniqueIndex"`
			CreatedAt time.Time
		}
		return tx.Migrator().CreateTable(&APIToken{})
	}, nil},
	{5, "settings", func(tx *gorm.DB) error {
		type Setting struct {
			Key   string `gorm:"primaryKey;size:100"`
			Value string `gorm:"size:1000;not null"`
		}
		return tx.Migrator().CreateTable(&Setting{})
	}, nil},
	{6, "login failures (per-account lockout)", func(tx *gorm.DB) error {
		type LoginFailure struct {
			Username    string `gorm:"primaryKey;size:100"`
			Failures    int    `gorm:"not null"`
			LastMicro   int64  `gorm:"not null"`
			LockedUntil int64  `gorm:"not null"`
		}
		return tx.Migrator().CreateTable(&LoginFailure{})
	}, nil},
	{7, "TOTP: last used step, secrets sealed", nil, func(tx *gorm.DB, k *Keys) error {
		type AdminUser struct {
			ID           int64
			TOTPSecret   string
			TOTPLastStep int64 `gorm:"not null;default:0"`
		}
		if err := tx.Table("admin_users").Migrator().AddColumn(&AdminUser{}, "TOTPLastStep"); err != nil {
			return err
		}
		var users []AdminUser
		if err := tx.Table("admin_users").Where("totp_secret <> ''").Find(&users).Error; err != nil {
			return err
		}
		for _, u := range users {
			if strings.HasPrefix(u.TOTPSecret, sealedTOTPPrefix) {
				continue
			}
			sealed, err := k.sealTOTP(u.ID, u.TOTPSecret)
			if err != nil {
				return err
			}
			if err := tx.Table("admin_users").Where("id = ?", u.ID).Update("totp_secret", sealed).Error; err != nil {
				return err
			}
		}
		return nil
	}},
	{8, "API tokens: name and expiry", func(tx *gorm.DB) error {
		type APIToken struct {
			Name         string `gorm:"size:100;not null;default:''"`
			ExpiresMicro int64  `gorm:"not null;default:0"`
		}
		for _, col := range []string{"Name", "ExpiresMicro"} {
			if err := tx.Table("api_tokens").Migrator().AddColumn(&APIToken{}, col); err != nil {
				return err
			}
		}
		// Tokens made before expiry existed get the default lifetime from now.
		return tx.Exec("UPDATE api_tokens SET expires_micro = ?", tx.NowFunc().Add(DefaultTokenTTL).UnixMicro()).Error
	}, nil},
	{9, "webhook subscriptions and delivery log", func(tx *gorm.DB) error {
		type WebhookSubscription struct {
			ID        int64  `gorm:"primaryKey"`
			URL       string `gorm:"size:2000;not null"`
			Secret    string `gorm:"size:300;not null"`
			Kinds     string `gorm:"size:1000;not null"`
			Doors     string `gorm:"size:1000;not null"`
			Enabled   bool   `gorm:"not null"`
			AllowHTTP bool   `gorm:"not null"`
			CursorSeq int64  `gorm:"not null"`
			CACert    string `gorm:"size:20000;not null;default:''"`
			// The appliance delivering (gates sharing a PostgreSQL log
			// take turns), and until when.
			LeaseOwner      string `gorm:"size:100;not null;default:''"`
			LeaseUntilMicro int64  `gorm:"not null;default:0"`
			CreatedAt       time.Time
		}
		type WebhookDelivery struct {
			ID             int64  `gorm:"primaryKey"`
			SubscriptionID int64  `gorm:"not null;index"`
			Seq            int64  `gorm:"not null"`
			AtMicro        int64  `gorm:"not null;index"`
			Attempt        int    `gorm:"not null"`
			Status         int    `gorm:"not null"`
			Error          string `gorm:"size:500"`
			DurationMicro  int64  `gorm:"not null"`
		}
		return tx.Migrator().CreateTable(&WebhookSubscription{}, &WebhookDelivery{})
	}, nil},
	{10, "delivery cursors of outbound feeds (MQTT)", migrateCursors, nil},
	{11, "PINs for face+pin doors", func(tx *gorm.DB) error {
		type PersonPIN struct {
			PersonID    int64  `gorm:"primaryKey"`
			Hash        string `gorm:"size:100;not null"`
			Failures    int    `gorm:"not null"`
			LockedUntil int64  `gorm:"not null"`
			UpdatedAt   time.Time
		}
		return tx.Table("person_pins").Migrator().CreateTable(&PersonPIN{})
	}, nil},
	{12, "configuration documents (alert rules)", migrateDocuments, nil},
	{13, "one-time links (PIN links, keypad pairing)", migrateLinks, nil},
	{14, "site: appliances, their chains and signed heads, alarms, revision log", migrateSite, nil},
	{15, "site console: a door's last push, camera and relay; alarm acknowledgement", migrateSiteConsole, nil},
	{16, "site: PINs in the revision log", migrateSitePINs, nil},
	{17, "site: door alarm acknowledgements asked for on the central", migrateSiteAlarmAcks, nil},
}

// SchemaVersion is the version the current code migrates to.
func SchemaVersion() int { return migrations[len(migrations)-1].version }

// Migrate applies every migration not yet applied, each in its own
// transaction, and refuses a database newer than this code.
func (db *DB) Migrate() error { return db.migrateTo(SchemaVersion()) }

// migrateTo applies the migrations up to version target (tests build an
// older facegate's database with it).
func (db *DB) migrateTo(target int) error {
	if err := db.g.AutoMigrate(&schemaMigration{}); err != nil {
		return fmt.Errorf("storage: migrations table: %w", err)
	}
	var applied []schemaMigration
	if err := db.g.Order("version").Find(&applied).Error; err != nil {
		return fmt.Errorf("storage: read migrations: %w", err)
	}
	done := map[int]bool{}
	latest := 0
	for _, a := range applied {
		done[a.Version] = true
		latest = max(latest, a.Version)
	}
	if latest > SchemaVersion() {
		return fmt.Errorf("storage: database schema version %d is newer than this facegate (%d): upgrade facegate", latest, SchemaVersion())
	}
	for _, m := range migrations {
		if done[m.version] || m.version > target {
			continue
		}
		up := m.up
		if m.upKeys != nil {
			if db.Keys == nil {
				return fmt.Errorf("storage: migration %d (%s) needs the keys, and none are loaded", m.version, m.name)
			}
			up = func(tx *gorm.DB) error { return m.upKeys(tx, db.Keys) }
		}
		err := db.g.Transaction(func(tx *gorm.DB) error {
			if err := up(tx); err != nil {
				return err
			}
			return tx.Create(&schemaMigration{Version: m.version, Name: m.name, AppliedAt: tx.NowFunc()}).Error
		})
		if err != nil {
			return fmt.Errorf("storage: migration %d (%s): %w", m.version, m.name, err)
		}
	}
	return nil
}
