package storage

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/pquerna/otp"
	"github.com/pquerna/otp/totp"
)

// Roles of web users, most to least privileged.
const (
	RoleAdmin        = "admin"        // everything
	RoleInvestigator = "investigator" // read events and snapshots, export
	RoleViewer       = "viewer"       // live view and presence only
)

var roleRank = map[string]int{RoleViewer: 1, RoleInvestigator: 2, RoleAdmin: 3}

// Account tunables.
const (
	// bcryptCost 12 takes ~250 ms on the 2-core box: slow for a guesser,
	// fine for a login.
	bcryptCost = 12
)

// Errors of account handling.
var (
	ErrBadRole = errors.New("role must be admin, investigator or viewer")
	ErrLogin   = errors.New("wrong username or password")
)

// User is a web user of any role (admin, investigator, viewer). The
// password is a bcrypt hash.
type User struct {
	ID           int64  `gorm:"primaryKey"`
	Username     string `gorm:"size:100;not null;uniqueIndex"`
	PasswordHash string `gorm:"size:200;not null"`
	Role         string `gorm:"size:20;not null"`
	TOTPSecret   string `gorm:"size:100"` // sealed (see Keys.sealTOTP)
	// TOTPLastStep is the 30 s step of the last code accepted: a code
	// works once, never again within its window.
	TOTPLastStep int64 `gorm:"not null;default:0"`
	Disabled     bool
	CreatedAt    time.Time
	UpdatedAt    time.Time
}

// TableName keeps the table the first schema made.
func (User) TableName() string { return "admin_users" }

// Can says whether the user's role is at least role.
func (u User) Can(role string) bool { return RoleAtLeast(u.Role, role) }

// RoleAtLeast says whether role has at least the rights of need.
func RoleAtLeast(role, need string) bool {
	return roleRank[role] >= roleRank[need] && roleRank[need] > 0
}

// APIToken is a hashed bearer token of a web user.
type APIToken struct {
	ID        int64  `gorm:"primaryKey"`
	UserID    int64  `gorm:"not null;index"`
	Name      string `gorm:"size:100;not null;default:''"`
	TokenHash string `gorm:"size:64;not null;uniqueIndex"`
	CreatedAt time.Time
	// ExpiresMicro is when the token stops working (Unix µs).
	ExpiresMicro int64 `gorm:"not null;default:0"`
}

// CountUsers counts web users.
func (db *DB) CountUsers() (int64, error) {
	var n int64
	err := db.g.Model(&User{}).Count(&n).Error
	return n, err
}

// CreateUser stores a new web user with a bcrypt-hashed password.
func (db *DB) CreateUser(username, password, role string) error {
	username = strings.TrimSpace(username)
	if username == "" || len(username) > 100 {
		return errors.New("username must be 1–100 characters")
	}
	if err := CheckPassword(username, password); err != nil {
		return err
	}
	if _, ok := roleRank[role]; !ok {
		return ErrBadRole
	}
	h, err := hashPassword(password)
	if err != nil {
		return err
	}
	u := User{Username: username, PasswordHash: h, Role: role}
	if err := db.g.Create(&u).Error; err != nil {
		return fmt.Errorf("create user %s: %w", username, err)
	}
	return nil
}

// UserByName looks a web user up.
func (db *DB) UserByName(username string) (User, error) {
	var u User
	if err := db.g.Where("username = ?", username).Limit(1).Find(&u).Error; err != nil {
		return u, fmt.Errorf("storage: user %q: %w", username, err)
	}
	if u.ID == 0 {
		return u, fmt.Errorf("no user %q: %w", username, ErrNotFound)
	}
	return u, nil
}

// EnableTOTP gives a user a new TOTP secret (RFC 6238, 30 s, 6 digits) and
// returns the otpauth:// URL for their authenticator app. The secret is
// stored sealed with the key directory's key.
func (db *DB) EnableTOTP(username string) (string, error) {
	u, err := db.UserByName(username)
	if err != nil {
		return "", err
	}
	key, err := totp.Generate(totp.GenerateOpts{Issuer: "facegate", AccountName: username})
	if err != nil {
		return "", err
	}
	sealed, err := db.Keys.sealTOTP(u.ID, key.Secret())
	if err != nil {
		return "", err
	}
	if err := db.g.Model(&u).Updates(map[string]any{"totp_secret": sealed, "totp_last_step": 0}).Error; err != nil {
		return "", err
	}
	return key.URL(), nil
}

// totpPeriod is RFC 6238's 30 s step.
const totpPeriod = 30

// UseTOTP accepts a code of the current 30 s step or the one either side
// (clock drift between phone and appliance), once: the step is stored, and
// a code of that step or an earlier one is refused afterwards.
func (db *DB) UseTOTP(u User, code string, now time.Time) bool {
	secret, err := db.Keys.openTOTP(u.ID, u.TOTPSecret)
	if err != nil {
		return false
	}
	code = strings.TrimSpace(code)
	opts := totp.ValidateOpts{Period: totpPeriod, Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1}
	cur := now.Unix() / totpPeriod
	for step := cur - 1; step <= cur+1; step++ {
		want, err := totp.GenerateCodeCustom(secret, time.Unix(step*totpPeriod, 0), opts)
		if err != nil || subtle.ConstantTimeCompare([]byte(want), []byte(code)) != 1 {
			continue
		}
		// One UPDATE decides, so two logins racing with one code cannot both win.
		res := db.g.Model(&User{}).Where("id = ? AND totp_last_step < ?", u.ID, step).Update("totp_last_step", step)
		return res.Error == nil && res.RowsAffected == 1
	}
	return false
}

// CheckLogin verifies a username and password; it spends the same time
// whether or not the user exists.
func (db *DB) CheckLogin(username, password string) (User, error) {
	var u User
	err := db.g.Where("username = ? AND disabled = ?", strings.TrimSpace(username), false).Limit(1).Find(&u).Error
	hash := u.PasswordHash
	if err != nil || u.ID == 0 {
		hash = dummyHash()
	}
	if !passwordMatches(hash, password) || u.ID == 0 {
		return u, ErrLogin
	}
	return u, nil
}

// dummyHash is checked for unknown users, so they take as long.
var dummyHash = sync.OnceValue(func() string { h, _ := hashPassword("facegate timing equaliser"); return h })

// RandomToken is 32 random bytes in hex.
func RandomToken() string {
	b := make([]byte, 32)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// API tokens are random, shown once, stored hashed.
func hashToken(t string) string {
	h := sha256.Sum256([]byte(t))
	return hex.EncodeToString(h[:])
}

// CreateAPIToken makes a bearer token for a user's JSON API use that
// expires after DefaultTokenTTL.
func (db *DB) CreateAPIToken(username string) (string, error) {
	return db.NewAPIToken(username, "", db.now().Add(DefaultTokenTTL))
}

// UserForToken is the enabled user an unexpired bearer token belongs to.
func (db *DB) UserForToken(t string, now time.Time) (User, bool) {
	var tok APIToken
	if err := db.g.Where("token_hash = ?", hashToken(t)).Limit(1).Find(&tok).Error; err != nil || tok.ID == 0 {
		return User{}, false
	}
	if now.UnixMicro() >= tok.ExpiresMicro {
		return User{}, false
	}
	var u User
	if err := db.g.Where("id = ? AND disabled = ?", tok.UserID, false).Limit(1).Find(&u).Error; err != nil || u.ID == 0 {
		return u, false
	}
	return u, true
}
