package web

import (
	"net/http"

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
	u, err := s.deps.DB.CheckLogin(c.FormValue("username"), c.FormValue("password"))
	if err == nil && u.TOTPSecret != "" && !storage.CheckTOTP(u.TOTPSecret, c.FormValue("code"), s.deps.Now()) {
		err = storage.ErrLogin
	}
	if err != nil {
		s.deps.Log.Warn("login failed", "username", c.FormValue("username"), "ip", c.RealIP())
		return s.renderStatus(c, http.StatusUnauthorized, "login", map[string]any{"Failed": true})
	}
	s.startSession(c, u)
	s.audit(u.Username, "login", map[string]any{"ip": c.RealIP()})
	return c.Redirect(http.StatusSeeOther, "/")
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
