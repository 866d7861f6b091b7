package web

import (
	"errors"
	"net/http"
	"strconv"

	"github.com/labstack/echo/v4"

	"github.com/facegate/facegate/storage"
)

func (s *Server) settingsPage(c echo.Context) error {
	return s.settingsPageWith(c, http.StatusOK, "")
}

// settingsData is what the settings page shows.
type settingsData struct {
	S         storage.Settings
	Error     string // why the last save was refused
	PublicKey string // the appliance's, for verifying exported bundles
}

func (s *Server) settingsPageWith(c echo.Context, code int, msg string) error {
	var st storage.Settings
	if s.deps.Settings != nil {
		st = s.deps.Settings.Settings()
	}
	return s.renderStatus(c, code, "settings", settingsData{S: st, Error: msg,
		PublicKey: storage.PublicKeyString(s.deps.DB.Keys.Public)})
}

func (s *Server) saveSettings(c echo.Context) error {
	if s.deps.Settings == nil {
		return echo.NewHTTPError(http.StatusNotFound, "this server has no appliance settings to edit")
	}
	u, _ := userOf(c)
	st := s.deps.Settings.Settings()
	th, err1 := strconv.ParseFloat(c.FormValue("threshold"), 64)
	mg, err2 := strconv.ParseFloat(c.FormValue("margin"), 64)
	rg, err3 := strconv.Atoi(c.FormValue("retain_grant"))
	rd, err4 := strconv.Atoi(c.FormValue("retain_deny"))
	re, err5 := strconv.Atoi(c.FormValue("retain_events"))
	if err := errors.Join(err1, err2, err3, err4, err5); err != nil {
		return s.settingsPageWith(c, http.StatusUnprocessableEntity, "numbers expected: "+err.Error())
	}
	st.Threshold, st.Margin, st.Liveness = th, mg, c.FormValue("liveness") == "on"
	st.Retention = storage.RetentionPolicy{GrantSnapshotDays: rg, DenySnapshotDays: rd, EventDays: re}
	if err := st.Validate(); err != nil {
		return s.settingsPageWith(c, http.StatusUnprocessableEntity, err.Error())
	}
	if err := s.deps.Settings.SaveSettings(st, u.Username); err != nil {
		return err
	}
	return c.Redirect(http.StatusSeeOther, "/settings")
}
