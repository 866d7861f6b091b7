package web

import (
	"crypto/subtle"
	"sync"
	"time"

	"github.com/facegate/facegate/storage"
)

// Session lifetimes: idle this long, or logged in this long (a working
// day and a half of shifts), and the user must log in again.
const (
	SessionIdle = 30 * time.Minute
	SessionMax  = 12 * time.Hour
)

// session is a logged-in browser. It keeps who logged in, not their role:
// the user is read from storage on every request, so a demotion, a
// disabled account or a new password takes effect at once.
type session struct {
	userID   int64
	pwHash   string // the password hash at login: a changed password ends the session
	created  time.Time
	lastSeen time.Time
	// done is closed when the session ends (logout, expiry): the live
	// streams opened with it stop then.
	done chan struct{}
}

// sessions are kept in memory: a restart logs everyone out, which is
// acceptable for an appliance and keeps session secrets off the disk.
type sessions struct {
	mu sync.Mutex
	m  map[string]*session
}

func newSessions() *sessions { return &sessions{m: map[string]*session{}} }

func (s *sessions) create(u storage.User, now time.Time) string {
	t := storage.RandomToken()
	s.mu.Lock()
	s.m[t] = &session{userID: u.ID, pwHash: u.PasswordHash, created: now, lastSeen: now, done: make(chan struct{})}
	s.mu.Unlock()
	return t
}

// get returns a copy of the session, refreshing it when asked (a request
// is activity, a stream's re-check is not), or false if unknown or expired.
func (s *sessions) get(token string, now time.Time, refresh bool) (session, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	se, ok := s.m[token]
	if !ok {
		return session{}, false
	}
	if now.Sub(se.lastSeen) > SessionIdle || now.Sub(se.created) > SessionMax {
		s.end(token)
		return session{}, false
	}
	if refresh {
		se.lastSeen = now
	}
	return *se, true
}

// rehash keeps a session valid across its own user's password change.
func (s *sessions) rehash(token, pwHash string) {
	s.mu.Lock()
	if se, ok := s.m[token]; ok {
		se.pwHash = pwHash
	}
	s.mu.Unlock()
}

func (s *sessions) delete(token string) {
	s.mu.Lock()
	s.end(token)
	s.mu.Unlock()
}

// end removes a session and closes its done channel; the caller holds s.mu.
func (s *sessions) end(token string) {
	if se, ok := s.m[token]; ok {
		close(se.done)
		delete(s.m, token)
	}
}

// sessionUser is the session's user as storage has it now; a session
// whose user is gone, disabled or has a new password is ended.
func (s *Server) sessionUser(token string, refresh bool) (storage.User, bool) {
	se, ok := s.sessions.get(token, s.deps.Now(), refresh)
	if !ok {
		return storage.User{}, false
	}
	u, err := s.deps.DB.UserByID(se.userID)
	if err != nil || u.Disabled || u.PasswordHash != se.pwHash {
		s.sessions.delete(token)
		return storage.User{}, false
	}
	return u, true
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
