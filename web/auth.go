package web

import (
	"crypto/subtle"
	"sync"
	"time"

	"github.com/facegate/facegate/storage"
)

// SessionIdle: a session idle this long must log in again.
const SessionIdle = 30 * time.Minute

// session is a logged-in browser.
type session struct {
	user     storage.User
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
	s.m[t] = &session{user: u, lastSeen: now, done: make(chan struct{})}
	s.mu.Unlock()
	return t
}

// get returns the session's user, refreshing it, or false if unknown or idle.
func (s *sessions) get(token string, now time.Time) (storage.User, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	se, ok := s.live(token, now)
	if !ok {
		return storage.User{}, false
	}
	se.lastSeen = now
	return se.user, true
}

// live is the session if it is known and not idle; an idle one is ended.
// The caller holds s.mu.
func (s *sessions) live(token string, now time.Time) (*session, bool) {
	se, ok := s.m[token]
	if !ok {
		return nil, false
	}
	if now.Sub(se.lastSeen) > SessionIdle {
		s.end(token)
		return nil, false
	}
	return se, true
}

// alive says whether the session still runs, without refreshing it (a
// stream is not activity) and gives the channel closed when it ends.
func (s *sessions) alive(token string, now time.Time) (<-chan struct{}, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	se, ok := s.live(token, now)
	if !ok {
		return nil, false
	}
	return se.done, true
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
