package web

import (
	"errors"
	"fmt"
	"math"
	"net/http"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/facegate/facegate/storage"
)

func (s *Server) settingsPage(c echo.Context) error {
	return s.settingsPageWith(c, http.StatusOK, settingsData{})
}

// settingsData is what the settings page shows.
type settingsData struct {
	S         storage.Settings
	Error     string // why the last save or calibration was refused
	PublicKey string // the appliance's, for verifying exported bundles
	Model     *ModelInfo
	TargetFAR string   // the calibration form's value
	Cal       *calView // the last calibration, shown with its apply button
}

// calView is a calibration as the page shows it.
type calView struct {
	Calibration
	Threshold  string // two decimals: the value the apply button saves
	FAR, FNMR  string // percentages
	Pairs      string // "N impostor pairs, M genuine pairs from P people (K photos)"
	Warning    string // the support the impostor pairs give, when too few
	CanApply   bool   // the recommendation validates with the margin in force
	ApplyError string
}

func (s *Server) settingsPageWith(c echo.Context, code int, d settingsData) error {
	if s.deps.Settings != nil {
		d.S = s.deps.Settings.Settings()
	}
	if s.deps.Model != nil {
		mi := s.deps.Model.ModelInfo()
		d.Model = &mi
	}
	if d.TargetFAR == "" {
		d.TargetFAR = "0"
	}
	d.PublicKey = storage.PublicKeyString(s.deps.DB.Keys.Public)
	return s.renderStatus(c, code, "settings", d)
}

func (s *Server) saveSettings(c echo.Context) error {
	if s.deps.Settings == nil {
		return echo.NewHTTPError(http.StatusNotFound, "this server has no appliance settings to edit")
	}
	st := s.deps.Settings.Settings()
	th, err1 := strconv.ParseFloat(c.FormValue("threshold"), 64)
	mg, err2 := strconv.ParseFloat(c.FormValue("margin"), 64)
	rg, err3 := strconv.Atoi(c.FormValue("retain_grant"))
	rd, err4 := strconv.Atoi(c.FormValue("retain_deny"))
	re, err5 := strconv.Atoi(c.FormValue("retain_events"))
	if err := errors.Join(err1, err2, err3, err4, err5); err != nil {
		return s.settingsPageWith(c, http.StatusUnprocessableEntity, settingsData{Error: "numbers expected: " + err.Error()})
	}
	st.Threshold, st.Margin, st.Liveness = th, mg, c.FormValue("liveness") == "on"
	st.Retention = storage.RetentionPolicy{GrantSnapshotDays: rg, DenySnapshotDays: rd, EventDays: re}
	return s.storeSettings(c, st)
}

// storeSettings validates st and saves it through the settings owner
// (audited, applied at once).
func (s *Server) storeSettings(c echo.Context, st storage.Settings) error {
	if err := st.Validate(); err != nil {
		return s.settingsPageWith(c, http.StatusUnprocessableEntity, settingsData{Error: err.Error()})
	}
	u, _ := userOf(c)
	if err := s.deps.Settings.SaveSettings(st, u.Username); err != nil {
		return err
	}
	return c.Redirect(http.StatusSeeOther, "/settings")
}

// applyThreshold saves a threshold (the calibration's apply button) and
// keeps every other setting in force.
func (s *Server) applyThreshold(c echo.Context) error {
	if s.deps.Settings == nil {
		return echo.NewHTTPError(http.StatusNotFound, "this server has no appliance settings to edit")
	}
	th, err := strconv.ParseFloat(c.FormValue("threshold"), 64)
	if err != nil {
		return s.settingsPageWith(c, http.StatusUnprocessableEntity,
			settingsData{Error: fmt.Sprintf("threshold %q: a number expected, e.g. 0.35", c.FormValue("threshold"))})
	}
	st := s.deps.Settings.Settings()
	st.Threshold = th
	return s.storeSettings(c, st)
}

// calibrate recommends a threshold from the enrolled people's photos and
// shows it with a button that applies it. Describing every photo takes a
// while (about 20 ms a photo with faceplugin on one core).
func (s *Server) calibrate(c echo.Context) error {
	if s.deps.Model == nil || s.deps.Settings == nil {
		return echo.NewHTTPError(http.StatusNotFound, "this server has no recognition to calibrate")
	}
	raw := strings.TrimSpace(c.FormValue("target_far"))
	d := settingsData{TargetFAR: raw}
	far, err := strconv.ParseFloat(raw, 64)
	if err != nil || !(far >= 0 && far < 1) {
		d.Error = fmt.Sprintf("target false-accept rate %q: a number in [0, 1) expected, e.g. 0 or 0.001", raw)
		return s.settingsPageWith(c, http.StatusUnprocessableEntity, d)
	}
	cal, err := s.deps.Model.Calibrate(c.Request().Context(), far)
	if err != nil {
		d.Error = err.Error()
		return s.settingsPageWith(c, http.StatusUnprocessableEntity, d)
	}
	d.Cal = s.calView(pickLang(c.Request()), cal)
	return s.settingsPageWith(c, http.StatusOK, d)
}

func (s *Server) calView(lang string, cal Calibration) *calView {
	v := &calView{Calibration: cal, Threshold: fmt.Sprintf("%.2f", float64(cal.Threshold)),
		FAR: percent(float64(cal.ExpectedFAR)), FNMR: percent(float64(cal.ExpectedFNMR)),
		Pairs: fmt.Sprintf(translate(lang, "settings.cal.pairs"), cal.ImpostorPairs, cal.GenuinePairs, cal.People, cal.Photos)}
	if cal.Warning != "" {
		v.Warning = fmt.Sprintf(translate(lang, "settings.cal.warning"), cal.ImpostorPairs, 3/float64(cal.ImpostorPairs))
	}
	st := s.deps.Settings.Settings()
	st.Threshold, _ = strconv.ParseFloat(v.Threshold, 64)
	if err := st.Validate(); err != nil {
		v.ApplyError = err.Error()
	} else {
		v.CanApply = true
	}
	return v
}

// percent formats a rate; "–" when it is undefined (no genuine pairs).
func percent(r float64) string {
	if math.IsNaN(r) {
		return "–"
	}
	return fmt.Sprintf("%.1f %%", 100*r)
}
