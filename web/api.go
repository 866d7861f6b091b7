package web

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/facegate/facegate/gate"
	"github.com/facegate/facegate/gate/identity"
	"github.com/facegate/facegate/storage"
	"github.com/facegate/facegate/vision"
)

func (s *Server) apiPeople(c echo.Context) error {
	rows, err := s.deps.DB.SearchPeople(c.QueryParam("q"), 1000)
	if err != nil {
		return err
	}
	type person struct {
		ID         int64      `json:"id"`
		EmployeeID string     `json:"employee_id"`
		Name       string     `json:"name"`
		Templates  int64      `json:"templates"`
		Suspended  *time.Time `json:"suspended_since,omitempty"`
	}
	out := make([]person, len(rows))
	for i, r := range rows {
		out[i] = person{r.ID, r.EmployeeID, r.Name, r.Templates, r.SuspendedSince}
	}
	return c.JSON(http.StatusOK, out)
}

func (s *Server) apiEnrol(c echo.Context) error {
	res, he := s.enrolForm(c, "api")
	if he != nil {
		return he
	}
	return c.JSON(http.StatusCreated, map[string]any{"id": res.Person.ID, "employee_id": res.Person.EmployeeID,
		"templates": res.Templates, "warnings": res.Warnings})
}

func (s *Server) apiPerson(c echo.Context) (storage.Person, error) {
	p, err := s.deps.DB.PersonByEmployeeID(c.Param("employee"))
	if errors.Is(err, storage.ErrNotFound) {
		return p, echo.NewHTTPError(http.StatusNotFound, "no such person")
	}
	return p, err
}

func (s *Server) apiSuspend(c echo.Context) error {
	u, _ := userOf(c)
	p, err := s.apiPerson(c)
	if err != nil {
		return err
	}
	if err := s.setSuspended(u.Username, p, c.QueryParam("resume") != "true"); err != nil {
		return err
	}
	return c.NoContent(http.StatusNoContent)
}

func (s *Server) apiErase(c echo.Context) error {
	u, _ := userOf(c)
	p, err := s.apiPerson(c)
	if err != nil {
		return err
	}
	if err := s.erasePerson(u.Username, p, c.QueryParam("snapshots") == "true"); err != nil {
		return err
	}
	return c.NoContent(http.StatusNoContent)
}

// apiIdentify identifies the faces in an uploaded photo and records the
// result as an "identify" event with the photo as its snapshot.
func (s *Server) apiIdentify(c echo.Context) error {
	u, _ := userOf(c)
	fh, err := c.FormFile("photo")
	if err != nil {
		return echo.NewHTTPError(http.StatusBadRequest, "expected multipart/form-data with a photo")
	}
	f, err := fh.Open()
	if err != nil {
		return err
	}
	b := make([]byte, 0, fh.Size)
	buf := make([]byte, 64<<10)
	for {
		n, rerr := f.Read(buf)
		b = append(b, buf[:n]...)
		if len(b) > vision.MaxImageBytes {
			f.Close()
			return echo.NewHTTPError(http.StatusRequestEntityTooLarge, "photo larger than the limit")
		}
		if rerr != nil {
			break
		}
	}
	f.Close()
	res, err := s.faces().Identify(identity.Photo{Name: fh.Filename, Data: b})
	if err != nil {
		return enrolError(err)
	}
	snap, err := vision.Reencode(fh.Filename, b)
	if err != nil {
		return err
	}
	var seqs []int64
	for _, r := range res {
		ev := storage.Event{Kind: storage.KindIdentify, Code: string(r.Verdict), Reason: r.Reason, By: u.Username,
			Granted: r.Verdict == vision.VerdictMatch, ModelVersion: s.deps.ModelVersion}
		if r.Distance != nil {
			ev.Distance = *r.Distance
		}
		if r.Distance != nil && r.RunnerUpD != nil {
			ev.Margin = *r.RunnerUpD - *r.Distance
		}
		if r.Person != nil {
			ev.PersonID, ev.PersonName = r.Person.ID, r.Person.Name
		}
		rec, err := s.deps.Recorder.Record(ev, snap, nil)
		if err != nil {
			return err
		}
		seqs = append(seqs, rec.Seq)
	}
	return c.JSON(http.StatusOK, map[string]any{"faces": res, "events": seqs})
}

func (s *Server) apiEvents(c echo.Context) error {
	f, err := s.filterFrom(c)
	if err != nil {
		return err
	}
	if n, err := strconv.Atoi(c.QueryParam("limit")); err == nil && n > 0 && n <= 1000 {
		f.Limit = n
	}
	evs, err := s.events(f, c.QueryParam("before")) // on a central, every door's
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, evs)
}

func (s *Server) apiPresence(c echo.Context) error {
	stays, _, err := s.presenceData(c)
	if err != nil {
		return asHTTP(err)
	}
	type stay struct {
		PersonID int64      `json:"person_id"`
		Name     string     `json:"name"`
		Area     string     `json:"area"`
		In       *time.Time `json:"in,omitempty"`
		Out      *time.Time `json:"out,omitempty"`
		Flag     string     `json:"flag,omitempty"`
		Inside   bool       `json:"inside"`
	}
	out := []stay{}
	for _, st := range stays {
		x := stay{PersonID: st.PersonID, Name: st.Name, Area: st.Area, Flag: st.Flag, Inside: st.Open()}
		if !st.In.IsZero() {
			in := st.In
			x.In = &in
		}
		if !st.Out.IsZero() {
			o := st.Out
			x.Out = &o
		}
		out = append(out, x)
	}
	return c.JSON(http.StatusOK, out)
}

// apiRules returns the stored access policy records.
func (s *Server) apiRules(c echo.Context) error {
	recs, err := s.deps.DB.LoadPolicy()
	if err != nil {
		return err
	}
	recs.People = nil
	return c.JSON(http.StatusOK, recs)
}

// apiPutRules replaces the access policy (areas, doors, groups, rules,
// holidays, memberships), checked as the gate would.
func (s *Server) apiPutRules(c echo.Context) error {
	var in storage.PolicyRecords
	if err := json.NewDecoder(io.LimitReader(c.Request().Body, 1<<20)).Decode(&in); err != nil {
		return echo.NewHTTPError(http.StatusBadRequest, "body must be the JSON of GET /api/v1/rules: "+err.Error())
	}
	u, _ := userOf(c)
	cur, err := s.deps.DB.LoadPolicy()
	if err != nil {
		return err
	}
	in.People = cur.People
	if len(in.Doors) > 0 {
		if _, _, err := gate.FromRecords(in, s.deps.Location); err != nil {
			return echo.NewHTTPError(http.StatusUnprocessableEntity, err.Error())
		}
	}
	if err := s.deps.Recorder.SavePolicy(in, u.Username); err != nil {
		return err
	}
	s.policyChanged()
	return c.NoContent(http.StatusNoContent)
}

// apiUnlock pulses the door on an admin's order. The reason is required:
// the audit entry and the door's remote_unlock event both carry it.
func (s *Server) apiUnlock(c echo.Context) error {
	if s.deps.Door == nil {
		return echo.NewHTTPError(http.StatusNotFound, "this server controls no door")
	}
	u, _ := userOf(c)
	reason := strings.TrimSpace(c.FormValue("reason"))
	if reason == "" || len(reason) > 200 {
		return echo.NewHTTPError(http.StatusBadRequest, "reason: say why the door is unlocked (1–200 characters)")
	}
	s.audit(u.Username, "remote_unlock", map[string]any{"reason": reason})
	if err := s.deps.Door.RemoteUnlock(u.Username, reason); err != nil {
		return echo.NewHTTPError(http.StatusBadGateway, "relay: "+err.Error())
	}
	return c.JSON(http.StatusOK, map[string]any{"unlocked": true})
}
