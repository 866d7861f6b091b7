package storage

import (
	"strings"
	"time"

	"gorm.io/gorm"
)

// Account lockout: the per-address rate limit stops one client, but a
// guesser spread over many addresses (or behind a proxy) is stopped per
// account. After LockoutAfter consecutive failures the account is locked
// for LockoutBase, doubling with every further failure up to LockoutMax.
// Failures are stored, so a restart does not reset them. Unknown usernames
// are counted alike, so the lock says nothing about which accounts exist.
const (
	LockoutAfter = 5
	LockoutBase  = time.Minute
	// LockoutMax: an hour at most, so a locked-out admin gets back in the
	// same day while a guesser gets a few dozen tries a day.
	LockoutMax = time.Hour
	// lockoutForget: failures older than this no longer count.
	lockoutForget = 24 * time.Hour
)

// loginFailure counts an account's consecutive failed logins.
type loginFailure struct {
	Username    string `gorm:"primaryKey;size:100"`
	Failures    int    `gorm:"not null"`
	LastMicro   int64  `gorm:"not null"`
	LockedUntil int64  `gorm:"not null"` // Unix µs; 0: not locked
}

func (loginFailure) TableName() string { return "login_failures" }

func lockoutKey(username string) string {
	k := strings.ToLower(strings.TrimSpace(username))
	if len(k) > 100 {
		k = k[:100]
	}
	return k
}

// LoginLockedUntil says until when username is locked (false if it is not).
func (db *DB) LoginLockedUntil(username string, now time.Time) (time.Time, bool) {
	var f loginFailure
	if err := db.g.Where("username = ?", lockoutKey(username)).Limit(1).Find(&f).Error; err != nil || f.Username == "" {
		return time.Time{}, false
	}
	until := time.UnixMicro(f.LockedUntil)
	return until, f.LockedUntil > 0 && now.Before(until)
}

// RecordLoginFailure counts a failed login of username and returns the
// consecutive failures and the time the account is now locked until
// (zero when it is not locked).
func (db *DB) RecordLoginFailure(username string, now time.Time) (int, time.Time, error) {
	var f loginFailure
	err := db.g.Transaction(func(tx *gorm.DB) error {
		if err := tx.Where("username = ?", lockoutKey(username)).Limit(1).Find(&f).Error; err != nil {
			return err
		}
		if f.Username == "" || now.Sub(time.UnixMicro(f.LastMicro)) > lockoutForget {
			f = loginFailure{Username: lockoutKey(username)}
		}
		f.Failures++
		f.LastMicro = now.UnixMicro()
		if f.Failures >= LockoutAfter {
			f.LockedUntil = now.Add(lockoutFor(f.Failures)).UnixMicro()
		}
		if err := tx.Save(&f).Error; err != nil {
			return err
		}
		// Forgotten failures (names tried once, long ago) are dropped, so
		// guessed names do not pile up.
		return tx.Where("last_micro < ?", now.Add(-lockoutForget).UnixMicro()).Delete(&loginFailure{}).Error
	})
	if err != nil || f.LockedUntil == 0 {
		return f.Failures, time.Time{}, err
	}
	return f.Failures, time.UnixMicro(f.LockedUntil), nil
}

// lockoutFor is the lock after n consecutive failures (n ≥ LockoutAfter).
func lockoutFor(n int) time.Duration {
	d := LockoutBase
	for i := LockoutAfter; i < n && d < LockoutMax; i++ {
		d *= 2
	}
	return min(d, LockoutMax)
}

// ClearLoginFailures forgets username's failures (after a good login, or
// an admin unlocking the account).
func (db *DB) ClearLoginFailures(username string) error {
	return db.g.Where("username = ?", lockoutKey(username)).Delete(&loginFailure{}).Error
}
