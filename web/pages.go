package web

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/facegate/facegate/gate"
	"github.com/facegate/facegate/gate/identity"
	"github.com/facegate/facegate/storage"
	"github.com/facegate/facegate/vision"
)

// entriesPage size: 100 rows render fast and paging is by chain position,
// so page 10,000 of 1M events costs the same as page 1.
const entriesPageSize = 100

func (s *Server) livePage(c echo.Context) error {
	return s.render(c, "live", map[string]any{"Health": s.health()})
}

// --- people ---

func (s *Server) peoplePage(c echo.Context) error {
	return s.peoplePageWith(c, http.StatusOK, nil)
}

func (s *Server) peoplePageWith(c echo.Context, code int, extra map[string]any) error {
	rows, err := s.deps.DB.SearchPeople(c.QueryParam("q"), 500)
	if err != nil {
		return err
	}
	data := map[string]any{"People": rows, "Q": c.QueryParam("q")}
	for k, v := range extra {
		data[k] = v
	}
	return s.renderStatus(c, code, "people", data)
}

// readUploads reads multipart files named field, each bounded; the
// content is checked later by decoding, never by its name or type header.
func readUploads(form *multipart.Form, field string) ([]identity.Photo, error) {
	var out []identity.Photo
	for _, fh := range form.File[field] {
		if fh.Size > vision.MaxImageBytes {
			return nil, fmt.Errorf("%s: %d bytes, limit %d", fh.Filename, fh.Size, vision.MaxImageBytes)
		}
		f, err := fh.Open()
		if err != nil {
			return nil, err
		}
		b, err := io.ReadAll(io.LimitReader(f, vision.MaxImageBytes+1))
		f.Close()
		if err != nil {
			return nil, err
		}
		out = append(out, identity.Photo{Name: fh.Filename, Data: b})
	}
	return out, nil
}

// enrolError maps refusals to the right status: a bad photo is 422, a
// clash 409.
func enrolError(err error) *echo.HTTPError {
	var ie *vision.ImageError
	var pe *identity.PhotoError
	var he *echo.HTTPError
	switch {
	case errors.As(err, &he):
		return he
	case errors.As(err, &ie), errors.As(err, &pe):
		return echo.NewHTTPError(http.StatusUnprocessableEntity, err.Error())
	case errors.Is(err, storage.ErrConflict):
		return echo.NewHTTPError(http.StatusConflict, err.Error())
	}
	return echo.NewHTTPError(http.StatusInternalServerError, err.Error())
}

// enrolForm enrols the person of a multipart form (name, employee_id,
// photos), audited; the people page and the API both use it.
func (s *Server) enrolForm(c echo.Context, via string) (identity.EnrolResult, *echo.HTTPError) {
	u, _ := userOf(c)
	form, err := c.MultipartForm()
	if err != nil {
		return identity.EnrolResult{}, echo.NewHTTPError(http.StatusBadRequest, "expected multipart/form-data with name, employee_id and photos")
	}
	photos, err := readUploads(form, "photos")
	if err != nil {
		return identity.EnrolResult{}, echo.NewHTTPError(http.StatusRequestEntityTooLarge, err.Error())
	}
	if len(photos) == 0 {
		return identity.EnrolResult{}, echo.NewHTTPError(http.StatusUnprocessableEntity, "choose at least one photo")
	}
	res, err := s.faces().Enrol(c.FormValue("employee_id"), c.FormValue("name"), photos)
	if err != nil {
		return res, enrolError(err)
	}
	s.audit(u.Username, "person_enrolled", map[string]any{"employee_id": res.Person.EmployeeID, "templates": res.Templates, "via": via})
	return res, nil
}

func (s *Server) enrolUpload(c echo.Context) error {
	res, he := s.enrolForm(c, "upload")
	if he != nil {
		return s.peoplePageWith(c, he.Code, map[string]any{"Error": fmt.Sprint(he.Message)})
	}
	return s.peoplePageWith(c, http.StatusOK, map[string]any{"Enrolled": res})
}

func (s *Server) personParam(c echo.Context) (storage.Person, error) {
	id, err := strconv.ParseInt(c.Param("id"), 10, 64)
	if err != nil {
		return storage.Person{}, echo.NewHTTPError(http.StatusBadRequest, "bad person id")
	}
	p, err := s.deps.DB.PersonByID(id)
	if errors.Is(err, storage.ErrNotFound) {
		return p, echo.NewHTTPError(http.StatusNotFound, "no such person")
	}
	return p, err
}

// setSuspended suspends (now) or reinstates a person, audited; the gate
// picks it up at once.
func (s *Server) setSuspended(by string, p storage.Person, suspend bool) error {
	var since *time.Time
	action := "person_reinstated"
	if suspend {
		now := s.deps.Now().UTC()
		since, action = &now, "person_suspended"
	}
	if err := s.deps.DB.SetSuspended(p.ID, since); err != nil {
		return err
	}
	s.audit(by, action, map[string]any{"employee_id": p.EmployeeID})
	s.policyChanged()
	return nil
}

// erasePerson erases a person (recorded as an erasure event by whom) and
// drops their templates from the live gallery.
func (s *Server) erasePerson(by string, p storage.Person, withSnapshots bool) error {
	if err := s.deps.Recorder.ErasePerson(p.ID, by, withSnapshots); err != nil {
		return err
	}
	if err := s.faces().Reload(); err != nil {
		return err
	}
	s.policyChanged()
	return nil
}

func (s *Server) suspend(c echo.Context) error { return s.suspendPage(c, true) }
func (s *Server) resume(c echo.Context) error  { return s.suspendPage(c, false) }

func (s *Server) suspendPage(c echo.Context, suspend bool) error {
	u, _ := userOf(c)
	p, err := s.personParam(c)
	if err != nil {
		return err
	}
	if err := s.setSuspended(u.Username, p, suspend); err != nil {
		return err
	}
	return c.Redirect(http.StatusSeeOther, "/people")
}

func (s *Server) rename(c echo.Context) error {
	u, _ := userOf(c)
	p, err := s.personParam(c)
	if err != nil {
		return err
	}
	if err := s.deps.DB.RenamePerson(p.ID, c.FormValue("name")); err != nil {
		return s.peoplePageWith(c, http.StatusUnprocessableEntity, map[string]any{"Error": err.Error()})
	}
	s.audit(u.Username, "person_renamed", map[string]any{"employee_id": p.EmployeeID, "from": p.Name, "to": c.FormValue("name")})
	s.policyChanged()
	return c.Redirect(http.StatusSeeOther, "/people")
}

func (s *Server) erase(c echo.Context) error {
	u, _ := userOf(c)
	p, err := s.personParam(c)
	if err != nil {
		return err
	}
	if err := s.erasePerson(u.Username, p, c.FormValue("snapshots") == "on"); err != nil {
		return err
	}
	return c.Redirect(http.StatusSeeOther, "/people")
}

func (s *Server) policyChanged() {
	if s.deps.PolicyChanged != nil {
		s.deps.PolicyChanged()
	}
}

// --- webcam enrolment: shots are checked one by one, kept per session ---

// pendingTTL: an abandoned webcam enrolment is forgotten after this.
const pendingTTL = 15 * time.Minute

type pendingEnrolments struct {
	mu sync.Mutex
	m  map[string]*pending
}

type pending struct {
	shots   []identity.Photo
	updated time.Time
}

func newPendingEnrolments() *pendingEnrolments { return &pendingEnrolments{m: map[string]*pending{}} }

func (p *pendingEnrolments) add(key string, ph identity.Photo, now time.Time) int {
	p.mu.Lock()
	defer p.mu.Unlock()
	for k, v := range p.m {
		if now.Sub(v.updated) > pendingTTL {
			delete(p.m, k)
		}
	}
	e := p.m[key]
	if e == nil {
		e = &pending{}
		p.m[key] = e
	}
	e.shots = append(e.shots, ph)
	e.updated = now
	return len(e.shots)
}

func (p *pendingEnrolments) take(key string) []identity.Photo {
	p.mu.Lock()
	defer p.mu.Unlock()
	e := p.m[key]
	delete(p.m, key)
	if e == nil {
		return nil
	}
	return e.shots
}

// Webcam enrolment bounds.
const (
	minShots = 3
	maxShots = 5
)

func (s *Server) pendingKey(c echo.Context) string {
	ck, _ := c.Cookie(sessionCookie)
	v := ""
	if ck != nil {
		v = ck.Value
	}
	return v + "|" + strings.TrimSpace(c.FormValue("employee_id"))
}

func (s *Server) webcamPage(c echo.Context) error {
	return s.render(c, "webcam", map[string]any{"Min": minShots, "Max": maxShots})
}

func (s *Server) webcamShot(c echo.Context) error {
	if strings.TrimSpace(c.FormValue("employee_id")) == "" {
		return echo.NewHTTPError(http.StatusBadRequest, "employee_id is required")
	}
	fh, err := c.FormFile("shot")
	if err != nil {
		return echo.NewHTTPError(http.StatusBadRequest, "expected a shot")
	}
	form := &multipart.Form{File: map[string][]*multipart.FileHeader{"shot": {fh}}}
	photos, err := readUploads(form, "shot")
	if err != nil {
		return echo.NewHTTPError(http.StatusRequestEntityTooLarge, err.Error())
	}
	ph := photos[0]
	ph.Name = fmt.Sprintf("webcam shot %s", s.deps.Now().Format("15:04:05.000"))
	f, err := s.faces().CheckPhoto(ph)
	if err != nil {
		return c.JSON(http.StatusOK, map[string]any{"accepted": false, "reason": err.Error()})
	}
	n := s.enrol.add(s.pendingKey(c), ph, s.deps.Now())
	return c.JSON(http.StatusOK, map[string]any{"accepted": true, "shots": n, "face_width": f.Width(), "sharpness": int(f.Sharpness)})
}

func (s *Server) webcamFinish(c echo.Context) error {
	u, _ := userOf(c)
	shots := s.enrol.take(s.pendingKey(c))
	if len(shots) < minShots {
		return c.JSON(http.StatusUnprocessableEntity, map[string]any{"error": fmt.Sprintf("%d accepted shots, need %d", len(shots), minShots)})
	}
	if len(shots) > maxShots {
		shots = shots[len(shots)-maxShots:]
	}
	res, err := s.faces().Enrol(c.FormValue("employee_id"), c.FormValue("name"), shots)
	if err != nil {
		he := enrolError(err)
		return c.JSON(he.Code, map[string]any{"error": fmt.Sprint(he.Message)})
	}
	s.audit(u.Username, "person_enrolled", map[string]any{"employee_id": res.Person.EmployeeID, "templates": res.Templates, "via": "webcam"})
	var warns []string
	for _, w := range res.Warnings {
		warns = append(warns, w.Message)
	}
	return c.JSON(http.StatusOK, map[string]any{"enrolled": res.Person.Name, "templates": res.Templates, "warnings": warns})
}

// --- entries ---

func (s *Server) filterFrom(c echo.Context) (storage.EventFilter, error) {
	f := storage.EventFilter{Door: c.QueryParam("door"), Area: c.QueryParam("area"), Newest: true, Limit: entriesPageSize,
		ExcludeKinds: []string{storage.KindAdmin}}
	if emp := strings.TrimSpace(c.QueryParam("person")); emp != "" {
		p, err := s.deps.DB.PersonByEmployeeID(emp)
		if err != nil {
			f.PersonID = -1 // nobody: an empty result, not an error
		} else {
			f.PersonID = p.ID
		}
	}
	if v := c.QueryParam("person_id"); v != "" { // a person's timeline, even after erasure
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			return f, echo.NewHTTPError(http.StatusBadRequest, "person_id: want a number")
		}
		f.PersonID = n
	}
	switch c.QueryParam("result") {
	case "granted":
		t := true
		f.Granted = &t
	case "denied":
		v := false
		f.Granted = &v
	}
	if err := f.SetDays(c.QueryParam("from"), c.QueryParam("to"), s.deps.Location); err != nil {
		return f, echo.NewHTTPError(http.StatusBadRequest, err.Error())
	}
	if v := c.QueryParam("before"); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			return f, echo.NewHTTPError(http.StatusBadRequest, "before: want a number")
		}
		f.BeforeSeq = n
	}
	return f, nil
}

func (s *Server) entriesPage(c echo.Context) error {
	f, err := s.filterFrom(c)
	if err != nil {
		return err
	}
	evs, err := s.deps.DB.Events(f)
	if err != nil {
		return err
	}
	next := ""
	if len(evs) == entriesPageSize {
		q := c.QueryParams()
		q.Set("before", strconv.FormatInt(evs[len(evs)-1].Seq, 10))
		next = "/entries?" + q.Encode()
	}
	return s.render(c, "entries", map[string]any{"Events": evs, "Next": next, "Query": c.QueryParams(),
		"CSV": "/entries.csv?" + c.QueryParams().Encode()})
}

func (s *Server) entryPage(c echo.Context) error {
	seq, err := strconv.ParseInt(c.Param("seq"), 10, 64)
	if err != nil {
		return echo.NewHTTPError(http.StatusBadRequest, "bad entry number")
	}
	e, err := s.deps.DB.EventBySeq(seq)
	if errors.Is(err, storage.ErrNotFound) {
		return echo.NewHTTPError(http.StatusNotFound, "no such entry")
	}
	if err != nil {
		return err
	}
	return s.render(c, "entry", map[string]any{"E": e})
}

func (s *Server) entriesCSV(c echo.Context) error {
	f, err := s.filterFrom(c)
	if err != nil {
		return err
	}
	f.Limit = 0
	f.BeforeSeq = 0
	evs, err := s.deps.DB.Events(f)
	if err != nil {
		return err
	}
	w := c.Response()
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	w.Header().Set("Content-Disposition", `attachment; filename="entries.csv"`)
	w.Write([]byte("\xef\xbb\xbf")) // BOM: Excel in Japanese locales reads UTF-8 then
	cw := csv.NewWriter(w)
	cw.Write([]string{"seq", "time", "kind", "door", "area", "direction", "employee", "person", "granted", "code", "reason", "distance", "margin", "liveness", "snapshot", "hash"})
	emp := map[int64]string{}
	for _, e := range evs {
		if _, ok := emp[e.PersonID]; !ok && e.PersonID > 0 {
			if p, err := s.deps.DB.PersonByID(e.PersonID); err == nil {
				emp[e.PersonID] = p.EmployeeID
			}
		}
		cw.Write([]string{strconv.FormatInt(e.Seq, 10), e.At().In(s.deps.Location).Format(time.RFC3339), e.Kind, e.Door, e.Area,
			e.Direction, emp[e.PersonID], csvSafe(e.PersonName), strconv.FormatBool(e.Granted), e.Code, csvSafe(e.Reason),
			fmt.Sprintf("%.3f", e.Distance), fmt.Sprintf("%.3f", e.Margin), e.Liveness, e.SnapshotHash, e.Hash})
	}
	cw.Flush()
	u, _ := userOf(c)
	s.audit(u.Username, "entries_csv", map[string]any{"rows": len(evs), "query": c.QueryString()})
	return cw.Error()
}

// csvSafe stops spreadsheet formula injection from names and reasons.
func csvSafe(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}

func (s *Server) exportBundle(c echo.Context) error {
	u, _ := userOf(c)
	f := storage.EventFilter{Door: c.FormValue("door")}
	if emp := strings.TrimSpace(c.FormValue("person")); emp != "" {
		p, err := s.deps.DB.PersonByEmployeeID(emp)
		if err != nil {
			return echo.NewHTTPError(http.StatusNotFound, "no person with employee ID "+emp)
		}
		f.PersonID = p.ID
	}
	if err := f.SetDays(c.FormValue("from"), c.FormValue("to"), s.deps.Location); err != nil {
		return echo.NewHTTPError(http.StatusBadRequest, err.Error())
	}
	w := c.Response()
	w.Header().Set("Content-Type", "application/zip")
	w.Header().Set("Content-Disposition", `attachment; filename="facegate-evidence.zip"`)
	n, err := s.deps.Recorder.Export(f, w)
	if err != nil {
		if !w.Committed {
			return echo.NewHTTPError(http.StatusUnprocessableEntity, err.Error())
		}
		return err
	}
	s.audit(u.Username, "evidence_exported", map[string]any{"events": n, "person": c.FormValue("person"), "door": f.Door,
		"from": c.FormValue("from"), "to": c.FormValue("to")})
	return nil
}

// snapshot serves evidence by hash only; the path is never user-chosen.
func (s *Server) snapshot(c echo.Context) error {
	h, ok := strings.CutSuffix(c.Param("file"), ".jpg")
	if !ok {
		return echo.NewHTTPError(http.StatusNotFound, "no such snapshot")
	}
	b, err := s.deps.Recorder.Snapshots.Get(h)
	if err != nil {
		return echo.NewHTTPError(http.StatusNotFound, "no such snapshot")
	}
	c.Response().Header().Set("Cache-Control", "private, max-age=3600")
	return c.Blob(http.StatusOK, "image/jpeg", b)
}

// --- presence ---

// presenceWindow: the presence page looks this far back by default.
const presenceWindow = 7 * 24 * time.Hour

func (s *Server) presenceData(c echo.Context) ([]gate.Stay, time.Time, time.Time, error) {
	to := s.deps.Now()
	granted := true
	f := storage.EventFilter{From: to.Add(-presenceWindow), To: to, Granted: &granted}
	if err := f.SetDays(c.QueryParam("from"), c.QueryParam("to"), s.deps.Location); err != nil {
		return nil, f.From, f.To, echo.NewHTTPError(http.StatusBadRequest, err.Error())
	}
	evs, err := s.deps.DB.Events(f)
	if err != nil {
		return nil, f.From, f.To, err
	}
	return gate.Stays(evs), f.From, f.To, nil
}

func (s *Server) presencePage(c echo.Context) error {
	stays, from, to, err := s.presenceData(c)
	if err != nil {
		return err
	}
	var inside []gate.Stay
	for _, st := range stays {
		if st.Open() {
			inside = append(inside, st)
		}
	}
	return s.render(c, "presence", map[string]any{"Inside": inside, "Stays": stays,
		"From": from.In(s.deps.Location).Format(storage.DayLayout), "To": to.Add(-time.Second).In(s.deps.Location).Format(storage.DayLayout)})
}

func (s *Server) attendanceCSV(c echo.Context) error {
	stays, _, _, err := s.presenceData(c)
	if err != nil {
		return err
	}
	w := c.Response()
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	w.Header().Set("Content-Disposition", `attachment; filename="attendance.csv"`)
	w.Write([]byte("\xef\xbb\xbf"))
	cw := csv.NewWriter(w)
	cw.Write([]string{"day", "person", "first_in", "last_out"})
	hm := func(t time.Time) string {
		if t.IsZero() {
			return ""
		}
		return t.In(s.deps.Location).Format("15:04")
	}
	for _, a := range gate.AttendanceDays(stays, s.deps.Location) {
		cw.Write([]string{a.Day, csvSafe(a.Name), hm(a.FirstIn), hm(a.LastOut)})
	}
	cw.Flush()
	return cw.Error()
}

// --- audit, settings ---

func (s *Server) auditPage(c echo.Context) error {
	log, err := s.deps.DB.AuditLog(500)
	if err != nil {
		return err
	}
	return s.render(c, "audit", map[string]any{"Log": log})
}

func (s *Server) settingsPage(c echo.Context) error {
	return s.settingsPageWith(c, http.StatusOK, "")
}

func (s *Server) settingsPageWith(c echo.Context, code int, msg string) error {
	var st storage.Settings
	if s.deps.Settings != nil {
		st = s.deps.Settings.Settings()
	}
	return s.renderStatus(c, code, "settings", map[string]any{"S": st, "Error": msg,
		"PublicKey": storage.PublicKeyString(s.deps.DB.Keys.Public)})
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
