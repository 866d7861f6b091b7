package web

import (
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/facegate/facegate/storage"
)

// The account page (every user): change one's own password, and make,
// list and revoke one's own API tokens.

// Token lifetimes offered, in days.
const (
	tokenDaysDefault = 90
	tokenDaysMax     = 365
)

func (s *Server) accountPage(c echo.Context) error {
	return s.accountPageWith(c, http.StatusOK, map[string]any{})
}

func (s *Server) accountPageWith(c echo.Context, code int, data map[string]any) error {
	me, _ := userOf(c)
	toks, err := s.deps.DB.APITokens(me.Username)
	if err != nil {
		return err
	}
	data["Tokens"], data["DaysDefault"], data["DaysMax"] = toks, tokenDaysDefault, tokenDaysMax
	return s.renderStatus(c, code, "account", data)
}

func (s *Server) accountPassword(c echo.Context) error {
	me, _ := userOf(c)
	err := s.deps.DB.ChangePassword(me.Username, c.FormValue("current"), c.FormValue("password"))
	if err != nil {
		code := http.StatusUnprocessableEntity
		if errors.Is(err, storage.ErrLogin) {
			code = http.StatusForbidden
		}
		return s.accountPageWith(c, code, map[string]any{"Error": err.Error()})
	}
	s.keepSession(c, me.ID)
	s.audit(me.Username, "password_changed", map[string]any{"ip": c.RealIP()})
	return s.accountPageWith(c, http.StatusOK, map[string]any{"Changed": true})
}

// keepSession keeps this request's session valid after its user's new
// password; the user's other sessions end (their hash no longer matches).
func (s *Server) keepSession(c echo.Context, userID int64) {
	u, err := s.deps.DB.UserByID(userID)
	ck, cerr := c.Cookie(sessionCookie)
	if err == nil && cerr == nil {
		s.sessions.rehash(ck.Value, u.PasswordHash)
	}
}

func (s *Server) accountTokenCreate(c echo.Context) error {
	me, _ := userOf(c)
	days, err := strconv.Atoi(strings.TrimSpace(c.FormValue("days")))
	if err != nil || days < 1 || days > tokenDaysMax {
		return s.accountPageWith(c, http.StatusUnprocessableEntity,
			map[string]any{"Error": "token lifetime: a whole number of days from 1 to " + strconv.Itoa(tokenDaysMax)})
	}
	expires := s.deps.Now().Add(time.Duration(days) * 24 * time.Hour)
	t, err := s.deps.DB.NewAPIToken(me.Username, c.FormValue("name"), expires)
	if err != nil {
		return s.accountPageWith(c, http.StatusUnprocessableEntity, map[string]any{"Error": err.Error()})
	}
	s.audit(me.Username, "api_token_created", map[string]any{"name": c.FormValue("name"), "days": days})
	return s.accountPageWith(c, http.StatusOK, map[string]any{"NewToken": t})
}

func (s *Server) accountTokenRevoke(c echo.Context) error {
	me, _ := userOf(c)
	id, _ := strconv.ParseInt(c.FormValue("id"), 10, 64)
	t, err := s.deps.DB.RevokeAPIToken(id, me.Username)
	if err != nil {
		return echo.NewHTTPError(http.StatusNotFound, "no such token of yours")
	}
	s.audit(me.Username, "api_token_revoked", map[string]any{"id": id, "username": t.Username, "name": t.Name})
	return c.Redirect(http.StatusSeeOther, "/account")
}
