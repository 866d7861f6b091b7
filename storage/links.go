package storage

import (
	"errors"
	"fmt"
	"time"

	"gorm.io/gorm"
)

// OneTimeLink is a secret that works once and for a limited time: a
// person's "set your PIN" link, a tablet's keypad pairing code. Only the
// hash of its token is kept; the token is shown once when it is made.
type OneTimeLink struct {
	ID           int64  `gorm:"primaryKey"`
	Purpose      string `gorm:"size:40;not null"`  // "pin", "keypad", …: a token never works for another purpose
	Subject      string `gorm:"size:100;not null"` // what it acts on: a person's ID, a door
	TokenHash    string `gorm:"size:64;not null;uniqueIndex"`
	ExpiresMicro int64  `gorm:"not null"`
	UsedMicro    int64  `gorm:"not null"` // 0 until used
	CreatedBy    string `gorm:"size:200"`
	CreatedAt    time.Time
}

// ErrLinkInvalid is the one answer for a link that is unknown, of another
// purpose, expired or used: telling them apart would help a guesser.
var ErrLinkInvalid = errors.New("this link is not valid (expired, already used, or mistyped): ask an admin for a new one")

// NewOneTimeLink makes a link for purpose and subject valid until expires
// and returns its token (shown once).
func (db *DB) NewOneTimeLink(purpose, subject string, expires time.Time, by string) (string, error) {
	if purpose == "" || subject == "" {
		return "", errors.New("storage: a one-time link needs a purpose and a subject")
	}
	t := RandomToken()
	l := OneTimeLink{Purpose: purpose, Subject: subject, TokenHash: hashToken(t), ExpiresMicro: expires.UnixMicro(), CreatedBy: by}
	if err := db.g.Create(&l).Error; err != nil {
		return "", fmt.Errorf("storage: one-time link: %w", err)
	}
	return t, nil
}

// PeekOneTimeLink returns the subject of a valid link without using it
// (to show the form the link leads to).
func (db *DB) PeekOneTimeLink(purpose, token string, now time.Time) (string, error) {
	var l OneTimeLink
	err := db.g.Where("token_hash = ? AND purpose = ? AND used_micro = 0 AND expires_micro > ?",
		hashToken(token), purpose, now.UnixMicro()).Limit(1).Find(&l).Error
	if err != nil {
		return "", fmt.Errorf("storage: one-time link: %w", err)
	}
	if l.ID == 0 {
		return "", ErrLinkInvalid
	}
	return l.Subject, nil
}

// UseOneTimeLink marks a valid link used and returns its subject; of two
// concurrent uses exactly one succeeds.
func (db *DB) UseOneTimeLink(purpose, token string, now time.Time) (string, error) {
	subject, err := db.PeekOneTimeLink(purpose, token, now)
	if err != nil {
		return "", err
	}
	res := db.g.Model(&OneTimeLink{}).Where("token_hash = ? AND purpose = ? AND used_micro = 0 AND expires_micro > ?",
		hashToken(token), purpose, now.UnixMicro()).Update("used_micro", now.UnixMicro())
	if res.Error != nil {
		return "", fmt.Errorf("storage: one-time link: %w", res.Error)
	}
	if res.RowsAffected != 1 {
		return "", ErrLinkInvalid
	}
	return subject, nil
}

// RevokeOneTimeLinks makes every unused link of purpose and subject
// invalid (a new link replaces the old; a pairing is withdrawn).
func (db *DB) RevokeOneTimeLinks(purpose, subject string, now time.Time) error {
	return db.g.Model(&OneTimeLink{}).Where("purpose = ? AND subject = ? AND used_micro = 0", purpose, subject).
		Update("used_micro", now.UnixMicro()).Error
}

// migrateLinks is migration 13's step.
func migrateLinks(tx *gorm.DB) error {
	type OneTimeLink struct {
		ID           int64  `gorm:"primaryKey"`
		Purpose      string `gorm:"size:40;not null"`
		Subject      string `gorm:"size:100;not null"`
		TokenHash    string `gorm:"size:64;not null;uniqueIndex"`
		ExpiresMicro int64  `gorm:"not null"`
		UsedMicro    int64  `gorm:"not null"`
		CreatedBy    string `gorm:"size:200"`
		CreatedAt    time.Time
	}
	return tx.Migrator().CreateTable(&OneTimeLink{})
}
