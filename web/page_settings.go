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
	S         storage.Settings // in force
	Form      settingsForm     // the edit form: what was entered, or what is in force
	Error     string           // why the last save or calibration was refused
	PublicKey string           // the appliance's, for verifying exported bundles
	Model     *ModelInfo
	Preview   *farPreview // expected rates at the form's threshold
	TargetFAR string      // the calibration form's value
	Cal       *calView    // the last calibration, shown with its apply button
	// Unsafe warns that the rule in force lies outside the model's safe
	// range (kept, not applied by this page: the admin must choose).
	Unsafe string
}

// settingsForm holds the edit form's fields as entered, so a refused
// form comes back as the admin typed it.
type settingsForm struct {
	entered                               bool
	Threshold, Margin                     string
	RetainGrant, RetainDeny, RetainEvents string
	Liveness                              bool
}

func formOf(st storage.Settings) settingsForm {
	r := st.Retention
	return settingsForm{Threshold: fmt.Sprintf("%.3f", st.Threshold), Margin: fmt.Sprintf("%.3f", st.Margin), Liveness: st.Liveness,
		RetainGrant: strconv.Itoa(r.GrantSnapshotDays), RetainDeny: strconv.Itoa(r.DenySnapshotDays), RetainEvents: strconv.Itoa(r.EventDays)}
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
	if !d.Form.entered {
		d.Form = formOf(d.S)
	}
	if s.deps.Model != nil {
		mi := s.deps.Model.ModelInfo()
		d.Model = &mi
		if mi.Safe != nil && mi.Safe.Check(mi.Name, d.S.Threshold, d.S.Margin) != nil {
			d.Unsafe = fmt.Sprintf(translate(pickLang(c.Request()), "settings.inforce.unsafe"), d.S.Threshold, d.S.Margin,
				mi.Name, mi.Safe.MaxThreshold, mi.Safe.MinMargin)
		}
		if th, err := strconv.ParseFloat(d.Form.Threshold, 64); err == nil && s.deps.Settings != nil {
			d.Preview = s.preview(pickLang(c.Request()), th)
		}
	}
	if d.TargetFAR == "" {
		d.TargetFAR = "0"
	}
	d.PublicKey = storage.PublicKeyString(s.deps.DB.Keys.Public)
	return s.renderStatus(c, code, "settings", d)
}

// settingsFromForm reads the edit form over the settings in force.
func (s *Server) settingsFromForm(c echo.Context) (storage.Settings, settingsForm, error) {
	f := settingsForm{entered: true, Threshold: strings.TrimSpace(c.FormValue("threshold")), Margin: strings.TrimSpace(c.FormValue("margin")),
		RetainGrant: c.FormValue("retain_grant"), RetainDeny: c.FormValue("retain_deny"), RetainEvents: c.FormValue("retain_events"),
		Liveness: c.FormValue("liveness") == "on"}
	st := s.deps.Settings.Settings()
	th, err1 := strconv.ParseFloat(f.Threshold, 64)
	mg, err2 := strconv.ParseFloat(f.Margin, 64)
	rg, err3 := strconv.Atoi(f.RetainGrant)
	rd, err4 := strconv.Atoi(f.RetainDeny)
	re, err5 := strconv.Atoi(f.RetainEvents)
	var bad []string
	for i, err := range []error{err1, err2, err3, err4, err5} {
		if err != nil {
			bad = append(bad, []string{f.Threshold, f.Margin, f.RetainGrant, f.RetainDeny, f.RetainEvents}[i])
		}
	}
	if len(bad) > 0 {
		return st, f, fmt.Errorf("a number is expected in each field, not %q", strings.Join(bad, `", "`))
	}
	st.Threshold, st.Margin, st.Liveness = th, mg, f.Liveness
	st.Retention = storage.RetentionPolicy{GrantSnapshotDays: rg, DenySnapshotDays: rd, EventDays: re}
	return st, f, nil
}

func (s *Server) saveSettings(c echo.Context) error {
	if s.deps.Settings == nil {
		return echo.NewHTTPError(http.StatusNotFound, "this server has no appliance settings to edit")
	}
	st, f, err := s.settingsFromForm(c)
	if err != nil {
		return s.settingsPageWith(c, http.StatusUnprocessableEntity, settingsData{Form: f, Error: s.settingsError(c, err)})
	}
	return s.storeSettings(c, st, f)
}

// checkSettings shows what the entered rule would do, and whether it is
// in the model's safe range, without saving it.
func (s *Server) checkSettings(c echo.Context) error {
	if s.deps.Settings == nil {
		return echo.NewHTTPError(http.StatusNotFound, "this server has no appliance settings to edit")
	}
	st, f, err := s.settingsFromForm(c)
	if err == nil {
		err = st.Validate()
	}
	if err == nil && s.deps.Model != nil {
		if r := s.deps.Model.ModelInfo().Safe; r != nil {
			err = r.Check(s.deps.Model.ModelInfo().Name, st.Threshold, st.Margin)
		}
	}
	if err != nil {
		return s.settingsPageWith(c, http.StatusUnprocessableEntity, settingsData{Form: f, Error: s.settingsError(c, err)})
	}
	return s.settingsPageWith(c, http.StatusOK, settingsData{Form: f})
}

// storeSettings validates st and saves it through the settings owner
// (which refuses a rule outside the model's calibrated range; audited,
// applied at once). A refused form comes back as entered, with why.
func (s *Server) storeSettings(c echo.Context, st storage.Settings, f settingsForm) error {
	err := st.Validate()
	if err == nil {
		u, _ := userOf(c)
		err = s.deps.Settings.SaveSettings(st, u.Username)
	}
	var se *storage.SettingsError
	var re *RangeError
	switch {
	case err == nil:
		return c.Redirect(http.StatusSeeOther, "/settings")
	case errors.As(err, &se), errors.As(err, &re):
		return s.settingsPageWith(c, http.StatusUnprocessableEntity, settingsData{Form: f, Error: s.settingsError(c, err)})
	}
	return err
}

// settingsError is a refusal in the reader's language where it is a
// rule outside the model's range (which says what range to keep to).
func (s *Server) settingsError(c echo.Context, err error) string {
	return s.settingsErrorIn(pickLang(c.Request()), err)
}

func (s *Server) settingsErrorIn(lang string, err error) string {
	var re *RangeError
	if !errors.As(err, &re) {
		return localize(lang, err.Error())
	}
	if re.Field == "threshold" {
		return fmt.Sprintf(translate(lang, "settings.err.threshold"), re.Value, re.Model, re.Limit, re.Limit)
	}
	return fmt.Sprintf(translate(lang, "settings.err.margin"), re.Value, re.Model, re.Limit, re.Limit)
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
			settingsData{Error: localize(pickLang(c.Request()), fmt.Sprintf("threshold %q: a number expected, e.g. 0.35", c.FormValue("threshold")))})
	}
	st := s.deps.Settings.Settings()
	st.Threshold = th
	f := formOf(st)
	f.entered = true
	return s.storeSettings(c, st, f)
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
		d.Error = localize(pickLang(c.Request()), fmt.Sprintf("target false-accept rate %q: a number in [0, 1) expected, e.g. 0 or 0.001", raw))
		return s.settingsPageWith(c, http.StatusUnprocessableEntity, d)
	}
	cal, err := s.deps.Model.Calibrate(c.Request().Context(), far)
	if err != nil {
		d.Error = localize(pickLang(c.Request()), err.Error())
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
	err := st.Validate()
	if mi := s.deps.Model.ModelInfo(); err == nil && mi.Safe != nil {
		err = mi.Safe.Check(mi.Name, st.Threshold, st.Margin)
	}
	var re *RangeError
	switch {
	case errors.As(err, &re) && re.Field == "threshold":
		v.ApplyError = fmt.Sprintf(translate(lang, "settings.cal.unsafe"), re.Value, re.Model, re.Limit, re.Limit)
	case err != nil:
		v.ApplyError = s.settingsErrorIn(lang, err)
	default:
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
