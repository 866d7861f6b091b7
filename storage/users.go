package storage

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"gorm.io/gorm"
)

// Account lifecycle: list, disable, demote, reset a password; the web
// app re-reads the user on every request, so a change takes effect at once.

// ErrLastAdmin refuses to disable or demote the last enabled admin: nobody
// could then manage the appliance from the web.
var ErrLastAdmin = errors.New("this is the last enabled admin: make another admin first")

// DefaultTokenTTL is how long an API token lives unless told otherwise.
const DefaultTokenTTL = 90 * 24 * time.Hour

// ListUsers lists the web users by name.
func (db *DB) ListUsers() ([]User, error) {
	var out []User
	err := db.g.Order("username").Find(&out).Error
	return out, err
}

// UserByID looks a web user up by ID.
func (db *DB) UserByID(id int64) (User, error) {
	var u User
	if err := db.g.Where("id = ?", id).Limit(1).Find(&u).Error; err != nil {
		return u, fmt.Errorf("storage: user %d: %w", id, err)
	}
	if u.ID == 0 {
		return u, fmt.Errorf("no user %d: %w", id, ErrNotFound)
	}
	return u, nil
}

// SetUserDisabled disables or re-enables a user. A disabled user cannot log
// in, and their sessions and tokens stop working.
func (db *DB) SetUserDisabled(username string, disabled bool) error {
	return db.changeUser(username, func(tx *gorm.DB, u *User) error {
		if disabled && u.Role == RoleAdmin {
			if err := lastAdminGuard(tx, u.ID); err != nil {
				return err
			}
		}
		return tx.Model(u).Update("disabled", disabled).Error
	})
}

// SetUserRole gives a user another role.
func (db *DB) SetUserRole(username, role string) error {
	if _, ok := roleRank[role]; !ok {
		return ErrBadRole
	}
	return db.changeUser(username, func(tx *gorm.DB, u *User) error {
		if u.Role == RoleAdmin && role != RoleAdmin {
			if err := lastAdminGuard(tx, u.ID); err != nil {
				return err
			}
		}
		return tx.Model(u).Update("role", role).Error
	})
}

// SetPassword sets a new password (an admin's reset, or a change after the
// old one was checked). It also clears the account's login failures.
func (db *DB) SetPassword(username, password string) error {
	if err := CheckPassword(username, password); err != nil {
		return err
	}
	h, err := hashPassword(password)
	if err != nil {
		return err
	}
	err = db.changeUser(username, func(tx *gorm.DB, u *User) error {
		return tx.Model(u).Update("password_hash", h).Error
	})
	if err != nil {
		return err
	}
	return db.ClearLoginFailures(username)
}

// ChangePassword is a user's own change: the current password must match.
func (db *DB) ChangePassword(username, current, password string) error {
	if _, err := db.CheckLogin(username, current); err != nil {
		return fmt.Errorf("the current password is wrong: %w", ErrLogin)
	}
	return db.SetPassword(username, password)
}

func (db *DB) changeUser(username string, fn func(tx *gorm.DB, u *User) error) error {
	return db.g.Transaction(func(tx *gorm.DB) error {
		var u User
		if err := tx.Where("username = ?", strings.TrimSpace(username)).Limit(1).Find(&u).Error; err != nil {
			return err
		}
		if u.ID == 0 {
			return fmt.Errorf("no user %q: %w", username, ErrNotFound)
		}
		return fn(tx, &u)
	})
}

func lastAdminGuard(tx *gorm.DB, except int64) error {
	var n int64
	if err := tx.Model(&User{}).Where("role = ? AND disabled = ? AND id <> ?", RoleAdmin, false, except).Count(&n).Error; err != nil {
		return err
	}
	if n == 0 {
		return ErrLastAdmin
	}
	return nil
}

// TokenInfo describes an API token (never its secret).
type TokenInfo struct {
	ID        int64
	Username  string
	Name      string
	CreatedAt time.Time
	ExpiresAt time.Time
}

// NewAPIToken makes a named bearer token for a user's JSON API use that
// expires at expires; the token is returned once, only its hash is kept.
func (db *DB) NewAPIToken(username, name string, expires time.Time) (string, error) {
	u, err := db.UserByName(username)
	if err != nil {
		return "", err
	}
	name = strings.TrimSpace(name)
	if len(name) > 100 {
		return "", errors.New("token name: at most 100 characters")
	}
	t := "fgt_" + RandomToken()
	if err := db.g.Create(&APIToken{UserID: u.ID, Name: name, TokenHash: hashToken(t), ExpiresMicro: expires.UnixMicro()}).Error; err != nil {
		return "", err
	}
	return t, nil
}

// APITokens lists the tokens of username ("" for everyone's), newest first.
func (db *DB) APITokens(username string) ([]TokenInfo, error) {
	q := db.g.Table("api_tokens").Select("api_tokens.id, admin_users.username, api_tokens.name, api_tokens.created_at, api_tokens.expires_micro").
		Joins("JOIN admin_users ON admin_users.id = api_tokens.user_id").Order("api_tokens.id DESC")
	if username != "" {
		q = q.Where("admin_users.username = ?", username)
	}
	var rows []struct {
		ID           int64
		Username     string
		Name         string
		CreatedAt    time.Time
		ExpiresMicro int64
	}
	if err := q.Scan(&rows).Error; err != nil {
		return nil, err
	}
	out := make([]TokenInfo, len(rows))
	for i, r := range rows {
		out[i] = TokenInfo{ID: r.ID, Username: r.Username, Name: r.Name, CreatedAt: r.CreatedAt, ExpiresAt: time.UnixMicro(r.ExpiresMicro)}
	}
	return out, nil
}

// RevokeAPIToken deletes token id; with username set, only if it is theirs.
func (db *DB) RevokeAPIToken(id int64, username string) (TokenInfo, error) {
	toks, err := db.APITokens(username)
	if err != nil {
		return TokenInfo{}, err
	}
	for _, t := range toks {
		if t.ID == id {
			return t, db.g.Delete(&APIToken{}, id).Error
		}
	}
	return TokenInfo{}, fmt.Errorf("no API token %d: %w", id, ErrNotFound)
}
