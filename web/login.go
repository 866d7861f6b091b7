package web

import (
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/facegate/facegate/storage"
)

// setupPending reports whether the first-admin page is still open: it
// closes as soon as any web user exists (made there or by the CLI).
func (s *Server) setupPending() bool {
	s.setup.mu.Lock()
	open := s.setup.token != ""
	s.setup.mu.Unlock()
	if open {
		if n, err := s.deps.DB.CountUsers(); err == nil && n > 0 {
			s.setup.consume()
			return false
		}
	}
	return open
}

func (s *Server) loginPage(c echo.Context) error {
	if s.setupPending() {
		return c.Redirect(http.StatusSeeOther, "/setup")
	}
	return s.render(c, "login", nil)
}

func (s *Server) startSession(c echo.Context, u storage.User) {
	c.SetCookie(&http.Cookie{Name: sessionCookie, Value: s.sessions.create(u, s.deps.Now()), Path: "/", HttpOnly: true,
		Secure: !s.opts.PlainHTTP, SameSite: http.SameSiteStrictMode})
}

func (s *Server) login(c echo.Context) error {
	name, ip, now := c.FormValue("username"), c.RealIP(), s.deps.Now()
	if until, locked := s.deps.DB.LoginLockedUntil(name, now); locked {
		// No password check while locked: a guess now could not succeed.
		return s.renderStatus(c, http.StatusTooManyRequests, "login", map[string]any{"LockedUntil": until.In(s.deps.Location).Format("15:04:05")})
	}
	u, err := s.deps.DB.CheckLogin(name, c.FormValue("password"))
	if err == nil && u.TOTPSecret != "" && !s.deps.DB.UseTOTP(u, c.FormValue("code"), now) {
		err = storage.ErrLogin
	}
	if err != nil {
		return s.loginFailed(c, name, ip, now)
	}
	if err := s.deps.DB.ClearLoginFailures(name); err != nil {
		s.deps.Log.Error("login failures not cleared", "username", u.Username, "err", err)
	}
	s.startSession(c, u)
	s.audit(u.Username, "login", map[string]any{"ip": ip})
	return c.Redirect(http.StatusSeeOther, "/")
}

// loginFailed counts the failure against the account, audits it with the
// client's real address, and answers 401 (429 once the account locks).
func (s *Server) loginFailed(c echo.Context, name, ip string, now time.Time) error {
	n, until, err := s.deps.DB.RecordLoginFailure(name, now)
	if err != nil {
		s.deps.Log.Error("login failure not counted", "username", name, "err", err)
	}
	s.deps.Log.Warn("login failed", "username", name, "ip", ip, "failures", n)
	detail := map[string]any{"username": name, "ip": ip, "failures": n}
	if !until.IsZero() {
		detail["locked_until"] = until.UTC().Format(time.RFC3339)
	}
	s.audit(name, "login_failed", detail)
	if !until.IsZero() {
		return s.renderStatus(c, http.StatusTooManyRequests, "login", map[string]any{"LockedUntil": until.In(s.deps.Location).Format("15:04:05")})
	}
	return s.renderStatus(c, http.StatusUnauthorized, "login", map[string]any{"Failed": true})
}

func (s *Server) logout(c echo.Context) error {
	if ck, err := c.Cookie(sessionCookie); err == nil {
		s.sessions.delete(ck.Value)
	}
	c.SetCookie(&http.Cookie{Name: sessionCookie, Value: "", Path: "/", MaxAge: -1})
	return c.Redirect(http.StatusSeeOther, "/login")
}

func (s *Server) setupPage(c echo.Context) error {
	if !s.setupPending() {
		return c.Redirect(http.StatusSeeOther, "/login")
	}
	return s.render(c, "setup", map[string]any{"Token": c.QueryParam("token")})
}

func (s *Server) setupSubmit(c echo.Context) error {
	if !s.setupPending() || !s.setup.check(c.FormValue("token")) {
		return echo.NewHTTPError(http.StatusForbidden, "wrong or used setup token (see the appliance log)")
	}
	if err := s.deps.DB.CreateUser(c.FormValue("username"), c.FormValue("password"), storage.RoleAdmin); err != nil {
		return s.renderStatus(c, http.StatusUnprocessableEntity, "setup", map[string]any{"Error": err.Error(), "Token": c.FormValue("token")})
	}
	s.setup.consume()
	u, _ := s.deps.DB.CheckLogin(c.FormValue("username"), c.FormValue("password"))
	s.audit(u.Username, "first_admin_created", map[string]any{"ip": c.RealIP()})
	s.startSession(c, u)
	return c.Redirect(http.StatusSeeOther, "/")
}
