package web

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
	"unicode/utf8"

	"github.com/pquerna/otp"
	"github.com/pquerna/otp/totp"
	"golang.org/x/crypto/bcrypt"

	"github.com/facegate/facegate/storage"
)

// Roles, most to least privileged.
const (
	RoleAdmin        = "admin"        // everything
	RoleInvestigator = "investigator" // read events and snapshots, export
	RoleViewer       = "viewer"       // live view and presence only
)

var roleRank = map[string]int{RoleViewer: 1, RoleInvestigator: 2, RoleAdmin: 3}

// Auth tunables.
const (
	// MinPasswordLen: length beats composition rules (NIST SP 800-63B).
	MinPasswordLen = 12
	// bcryptCost 12 takes ~250 ms on the 2-core box: slow for a guesser,
	// fine for a login.
	bcryptCost = 12
	// SessionIdle: an admin session idle this long must log in again.
	SessionIdle = 30 * time.Minute
)

// Errors of account handling.
var (
	ErrWeakPassword = fmt.Errorf("password must be at least %d characters", MinPasswordLen)
	ErrBadRole      = errors.New("role must be admin, investigator or viewer")
	ErrLogin        = errors.New("wrong username or password")
)

// CreateAdmin stores a new web user with a bcrypt-hashed password.
func CreateAdmin(db *storage.DB, username, password, role string) error {
	username = strings.TrimSpace(username)
	if username == "" || len(username) > 100 {
		return errors.New("username must be 1–100 characters")
	}
	if utf8.RuneCountInString(password) < MinPasswordLen {
		return ErrWeakPassword
	}
	if _, ok := roleRank[role]; !ok {
		return ErrBadRole
	}
	h, err := bcrypt.GenerateFromPassword([]byte(password), bcryptCost)
	if err != nil {
		return err
	}
	u := storage.AdminUser{Username: username, PasswordHash: string(h), Role: role}
	if err := db.Create(&u).Error; err != nil {
		return fmt.Errorf("create user %s: %w", username, err)
	}
	return nil
}

// EnableTOTP gives a user a new TOTP secret (RFC 6238, 30 s, 6 digits) and
// returns the otpauth:// URL for their authenticator app.
func EnableTOTP(db *storage.DB, username string) (string, error) {
	var u storage.AdminUser
	if err := db.Where("username = ?", username).Limit(1).Find(&u).Error; err != nil || u.ID == 0 {
		return "", fmt.Errorf("no user %q", username)
	}
	key, err := totp.Generate(totp.GenerateOpts{Issuer: "facegate", AccountName: username})
	if err != nil {
		return "", err
	}
	if err := db.Model(&u).Update("totp_secret", key.Secret()).Error; err != nil {
		return "", err
	}
	return key.URL(), nil
}

// checkTOTP accepts the code of the current 30 s step or the one either
// side (clock drift between phone and appliance).
func checkTOTP(secret, code string, now time.Time) bool {
	ok, err := totp.ValidateCustom(strings.TrimSpace(code), secret, now, totp.ValidateOpts{Period: 30, Skew: 1, Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1})
	return err == nil && ok
}

// checkLogin verifies a username and password; it spends the same time
// whether or not the user exists.
func checkLogin(db *storage.DB, username, password string) (storage.AdminUser, error) {
	var u storage.AdminUser
	err := db.Where("username = ? AND disabled = ?", strings.TrimSpace(username), false).Limit(1).Find(&u).Error
	hash := []byte(u.PasswordHash)
	if err != nil || u.ID == 0 {
		hash = dummyHash
	}
	if bcrypt.CompareHashAndPassword(hash, []byte(password)) != nil || u.ID == 0 {
		return u, ErrLogin
	}
	return u, nil
}

var dummyHash, _ = bcrypt.GenerateFromPassword([]byte("facegate timing equaliser"), bcryptCost)

// session is a logged-in browser.
type session struct {
	user     storage.AdminUser
	lastSeen time.Time
}

// sessions are kept in memory: a restart logs everyone out, which is
// acceptable for an appliance and keeps session secrets off the disk.
type sessions struct {
	mu sync.Mutex
	m  map[string]*session
}

func newSessions() *sessions { return &sessions{m: map[string]*session{}} }

func randomToken() string {
	b := make([]byte, 32)
	rand.Read(b)
	return hex.EncodeToString(b)
}

func (s *sessions) create(u storage.AdminUser, now time.Time) string {
	t := randomToken()
	s.mu.Lock()
	s.m[t] = &session{user: u, lastSeen: now}
	s.mu.Unlock()
	return t
}

// get returns the session's user, refreshing it, or false if unknown or idle.
func (s *sessions) get(token string, now time.Time) (storage.AdminUser, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	se, ok := s.m[token]
	if !ok {
		return storage.AdminUser{}, false
	}
	if now.Sub(se.lastSeen) > SessionIdle {
		delete(s.m, token)
		return storage.AdminUser{}, false
	}
	se.lastSeen = now
	return se.user, true
}

func (s *sessions) delete(token string) {
	s.mu.Lock()
	delete(s.m, token)
	s.mu.Unlock()
}

// setupToken guards the one-time first-admin page; it is printed in the log.
type setupToken struct {
	mu    sync.Mutex
	token string
}

func (s *setupToken) check(t string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.token != "" && subtle.ConstantTimeCompare([]byte(s.token), []byte(t)) == 1
}

func (s *setupToken) consume() { s.mu.Lock(); s.token = ""; s.mu.Unlock() }

// API tokens are random, shown once, stored hashed.
func hashToken(t string) string {
	h := sha256.Sum256([]byte(t))
	return hex.EncodeToString(h[:])
}

// CreateAPIToken makes a bearer token for a user's JSON API use.
func CreateAPIToken(db *storage.DB, username string) (string, error) {
	var u storage.AdminUser
	if err := db.Where("username = ?", username).Limit(1).Find(&u).Error; err != nil || u.ID == 0 {
		return "", fmt.Errorf("no user %q", username)
	}
	t := "fgt_" + randomToken()
	if err := db.Create(&storage.APIToken{UserID: u.ID, TokenHash: hashToken(t)}).Error; err != nil {
		return "", err
	}
	return t, nil
}

func userForToken(db *storage.DB, t string) (storage.AdminUser, bool) {
	var tok storage.APIToken
	if err := db.Where("token_hash = ?", hashToken(t)).Limit(1).Find(&tok).Error; err != nil || tok.ID == 0 {
		return storage.AdminUser{}, false
	}
	var u storage.AdminUser
	if err := db.Where("id = ? AND disabled = ?", tok.UserID, false).Limit(1).Find(&u).Error; err != nil || u.ID == 0 {
		return u, false
	}
	return u, true
}
