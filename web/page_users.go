package web

import (
	"errors"
	"net/http"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/facegate/facegate/storage"
)

// The users page (admins): every web user and API token; create a user,
// change a role, disable or enable, reset a password, revoke a token. A
// change takes effect at once: sessions re-read the user on each request.

func (s *Server) usersPage(c echo.Context) error { return s.usersPageWith(c, http.StatusOK, "") }

func (s *Server) usersPageWith(c echo.Context, code int, msg string) error {
	users, err := s.deps.DB.ListUsers()
	if err != nil {
		return err
	}
	toks, err := s.deps.DB.APITokens("")
	if err != nil {
		return err
	}
	return s.renderStatus(c, code, "users", map[string]any{"Users": users, "Tokens": toks, "Error": msg,
		"Roles": []string{storage.RoleAdmin, storage.RoleInvestigator, storage.RoleViewer}})
}

// userError shows a refusal on the users page with the right status.
func (s *Server) userError(c echo.Context, err error) error {
	code := http.StatusUnprocessableEntity
	switch {
	case errors.Is(err, storage.ErrNotFound):
		code = http.StatusNotFound
	case errors.Is(err, storage.ErrLastAdmin):
		code = http.StatusConflict
	}
	return s.usersPageWith(c, code, err.Error())
}

func (s *Server) userCreate(c echo.Context) error {
	me, _ := userOf(c)
	name, role := strings.TrimSpace(c.FormValue("username")), c.FormValue("role")
	if err := s.deps.DB.CreateUser(name, c.FormValue("password"), role); err != nil {
		return s.userError(c, err)
	}
	s.audit(me.Username, "web_user_created", map[string]any{"username": name, "role": role})
	return c.Redirect(http.StatusSeeOther, "/users")
}

// userAction is POST /users/:action with the form's username: role,
// disable, enable or password (an admin's reset).
func (s *Server) userAction(c echo.Context) error {
	me, _ := userOf(c)
	name, action := strings.TrimSpace(c.FormValue("username")), c.Param("action")
	if name == me.Username && action != "password" {
		return s.userError(c, errors.New("you cannot disable or change the role of your own account: ask another admin"))
	}
	var err error
	detail := map[string]any{"username": name}
	switch action {
	case "role":
		err = s.deps.DB.SetUserRole(name, c.FormValue("role"))
		detail["role"] = c.FormValue("role")
	case "disable", "enable":
		err = s.deps.DB.SetUserDisabled(name, action == "disable")
	case "password":
		err = s.deps.DB.SetPassword(name, c.FormValue("password"))
	default:
		return echo.NewHTTPError(http.StatusNotFound, "no such user action")
	}
	if err != nil {
		return s.userError(c, err)
	}
	if action == "password" && name == me.Username {
		s.keepSession(c, me.ID) // an admin resetting their own password stays logged in here
	}
	s.audit(me.Username, userAudit[action], detail)
	return c.Redirect(http.StatusSeeOther, "/users")
}

var userAudit = map[string]string{"role": "user_role_changed", "disable": "user_disabled", "enable": "user_enabled",
	"password": "password_reset"}

func (s *Server) userTokenRevoke(c echo.Context) error {
	me, _ := userOf(c)
	id, _ := strconv.ParseInt(c.FormValue("id"), 10, 64)
	t, err := s.deps.DB.RevokeAPIToken(id, "")
	if err != nil {
		return s.userError(c, err)
	}
	s.audit(me.Username, "api_token_revoked", map[string]any{"id": id, "username": t.Username, "name": t.Name})
	return c.Redirect(http.StatusSeeOther, "/users")
}
