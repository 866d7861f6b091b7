package web

import (
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/facegate/facegate/storage"
)

const (
	sessionCookie = "fg_session"
	ctxUser       = "user"
)

// loadUser puts the session's or bearer token's user in the context.
func (s *Server) loadUser(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		if t := bearer(c); t != "" {
			if u, ok := s.deps.DB.UserForToken(t, s.deps.Now()); ok {
				c.Set(ctxUser, u)
			}
		} else if ck, err := c.Cookie(sessionCookie); err == nil {
			if u, ok := s.sessionUser(ck.Value, true); ok {
				c.Set(ctxUser, u)
			}
		}
		return next(c)
	}
}

func bearer(c echo.Context) string {
	t, ok := strings.CutPrefix(c.Request().Header.Get("Authorization"), "Bearer ")
	if !ok {
		return ""
	}
	return strings.TrimSpace(t)
}

func userOf(c echo.Context) (storage.User, bool) {
	u, ok := c.Get(ctxUser).(storage.User)
	return u, ok
}

func isAPI(c echo.Context) bool { return strings.HasPrefix(c.Path(), "/api/") }

// requireRole admits users of at least role; others go to the login page (pages)
// or get 401/403 (API and forbidden roles).
func (s *Server) requireRole(role string) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			u, ok := userOf(c)
			if !ok {
				if isAPI(c) {
					return echo.NewHTTPError(http.StatusUnauthorized, "log in or send Authorization: Bearer <token>")
				}
				return c.Redirect(http.StatusSeeOther, "/login")
			}
			if !u.Can(role) {
				return echo.NewHTTPError(http.StatusForbidden, "your role ("+u.Role+") does not allow this")
			}
			return next(c)
		}
	}
}
