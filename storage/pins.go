package storage

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"golang.org/x/crypto/bcrypt"
	"gorm.io/gorm"
	"gorm.io/gorm/clause"
)

// PIN rules for face+pin doors: 4–8 digits, a slow salted hash, and a
// per-person lockout, so the 10,000 four-digit PINs cannot be tried at a
// door: after PINMaxFailures wrong PINs in a row the person's PIN is
// locked for PINLockout, doubling with each further failure up to a day.
const (
	MinPINLen      = 4
	MaxPINLen      = 8
	PINMaxFailures = 5
	PINLockout     = 5 * time.Minute
	pinLockoutMax  = 24 * time.Hour
	// pinCost: bcrypt cost 10 takes ~60 ms on the 2-core box, paid once
	// per attempt at the door (the lockout, not the hash, stops guessing).
	pinCost = 10
)

// ErrBadPIN is wrapped by every refusal of a PIN to be set.
var ErrBadPIN = errors.New("unusable PIN")

// personPIN is a person's PIN hash and lockout state.
type personPIN struct {
	PersonID    int64  `gorm:"primaryKey"`
	Hash        string `gorm:"size:100;not null"`
	Failures    int    `gorm:"not null"`
	LockedUntil int64  `gorm:"not null"` // unix µs; 0: not locked
	UpdatedAt   time.Time
}

func (personPIN) TableName() string { return "person_pins" }

// CheckPINFormat says why pin cannot be a PIN, or nil.
func CheckPINFormat(pin string) error {
	if len(pin) < MinPINLen || len(pin) > MaxPINLen || strings.Trim(pin, "0123456789") != "" {
		return fmt.Errorf("%w: a PIN is %d to %d digits", ErrBadPIN, MinPINLen, MaxPINLen)
	}
	if strings.Count(pin, pin[:1]) == len(pin) || strings.Contains("0123456789012345678", pin) || strings.Contains("9876543210987654321", pin) {
		return fmt.Errorf("%w: %s is guessed first (one digit repeated, or a run); choose another", ErrBadPIN, strings.Repeat("•", len(pin)))
	}
	return nil
}

// SetPIN stores a person's PIN (replacing any) and clears its lockout.
func (db *DB) SetPIN(personID int64, pin string) error {
	if err := CheckPINFormat(pin); err != nil {
		return err
	}
	h, err := bcrypt.GenerateFromPassword([]byte(pin), pinCost)
	if err != nil {
		return err
	}
	row := personPIN{PersonID: personID, Hash: string(h), UpdatedAt: db.now().UTC()}
	return db.g.Clauses(clause.OnConflict{UpdateAll: true}).Create(&row).Error
}

// ClearPIN removes a person's PIN: a face+pin door then refuses them.
func (db *DB) ClearPIN(personID int64) error {
	return db.g.Where("person_id = ?", personID).Delete(&personPIN{}).Error
}

// PINCheck is the outcome of one PIN typed at a door.
type PINCheck struct {
	OK       bool
	NoPIN    bool      // the person has no PIN set
	Locked   time.Time // non-zero: locked until then (this attempt was not even compared)
	Failures int       // wrong PINs in a row, this one included
}

// CheckPIN compares pin with personID's, counting failures and locking the
// PIN after PINMaxFailures in a row; a correct PIN resets the count. The
// count survives restarts (it is a row, not memory).
func (db *DB) CheckPIN(personID int64, pin string, now time.Time) (PINCheck, error) {
	var res PINCheck
	err := db.g.Transaction(func(tx *gorm.DB) error {
		var row personPIN
		if err := tx.Clauses(clause.Locking{Strength: "UPDATE"}).Where("person_id = ?", personID).Limit(1).Find(&row).Error; err != nil {
			return err
		}
		if row.PersonID == 0 {
			res.NoPIN = true
			return nil
		}
		if row.LockedUntil > now.UnixMicro() {
			res.Locked, res.Failures = time.UnixMicro(row.LockedUntil), row.Failures
			return nil
		}
		if bcrypt.CompareHashAndPassword([]byte(row.Hash), []byte(pin)) == nil {
			res.OK = true
			return tx.Model(&row).Updates(map[string]any{"failures": 0, "locked_until": 0}).Error
		}
		row.Failures++
		res.Failures = row.Failures
		if row.Failures >= PINMaxFailures {
			lock := min(PINLockout<<(row.Failures-PINMaxFailures), pinLockoutMax)
			row.LockedUntil = now.Add(lock).UnixMicro()
			res.Locked = time.UnixMicro(row.LockedUntil)
		}
		return tx.Model(&row).Updates(map[string]any{"failures": row.Failures, "locked_until": row.LockedUntil}).Error
	})
	return res, err
}
