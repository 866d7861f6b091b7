package web

import (
	"context"
	"time"

	"github.com/labstack/echo/v4"
)

// streamRecheck: a live stream re-checks its session or token this often,
// so it ends within this long of an expiry, a disabled account, a new
// password or a revoked token (at once on logout). One database look-up
// per stream every 2 s costs nothing measurable.
const streamRecheck = 2 * time.Second

// streamContext is the request's context, cancelled as well when the
// session (or bearer token) that opened the stream ends.
func (s *Server) streamContext(c echo.Context) (context.Context, context.CancelFunc) {
	ctx, cancel := context.WithCancel(c.Request().Context())
	check := s.credentialCheck(c)
	var ended <-chan struct{}
	if ck, err := c.Cookie(sessionCookie); err == nil && bearer(c) == "" {
		se, ok := s.sessions.get(ck.Value, s.deps.Now(), false)
		if !ok { // logged out since the request was let in
			cancel()
			return ctx, cancel
		}
		ended = se.done
	}
	go func() {
		defer cancel()
		t := time.NewTicker(streamRecheck)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-ended:
				return
			case <-t.C:
				if !check() {
					return
				}
			}
		}
	}()
	return ctx, cancel
}

// credentialCheck says, each time it is called, whether what logged the
// request in still holds.
func (s *Server) credentialCheck(c echo.Context) func() bool {
	if t := bearer(c); t != "" {
		return func() bool { _, ok := s.deps.DB.UserForToken(t, s.deps.Now()); return ok }
	}
	ck, err := c.Cookie(sessionCookie)
	if err != nil {
		return func() bool { return false }
	}
	return func() bool { _, ok := s.sessionUser(ck.Value, false); return ok }
}
