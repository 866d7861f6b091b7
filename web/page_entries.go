package web

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/facegate/facegate/storage"
)

// entriesPage size: 100 rows render fast and paging is by chain position,
// so page 10,000 of 1M events costs the same as page 1.
const entriesPageSize = 100

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
	if v := c.QueryParam("before"); v != "" && s.deps.Site == nil { // a central pages by time: see events
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
	evs, err := s.events(f, c.QueryParam("before"))
	if err != nil {
		return err
	}
	next := ""
	if len(evs) == entriesPageSize {
		q := c.QueryParams()
		q.Set("before", s.nextBefore(evs[len(evs)-1]))
		next = "/entries?" + q.Encode()
	}
	return s.render(c, "entries", map[string]any{"Events": evs, "Next": next, "Query": c.QueryParams(),
		"CSV": "/entries.csv?" + c.QueryParams().Encode(), "Site": s.deps.Site != nil, "Doors": s.siteDoors()})
}

func (s *Server) entryPage(c echo.Context) error {
	seq, err := strconv.ParseInt(c.Param("seq"), 10, 64)
	if err != nil {
		return echo.NewHTTPError(http.StatusBadRequest, "bad entry number")
	}
	e, err := s.eventByRef(seq)
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
	evs, err := s.events(f, "")
	if err != nil {
		return err
	}
	out := startCSV(c, "entries.csv")
	out.row("seq", "time", "kind", "door", "area", "direction", "employee", "person", "granted", "code", "reason", "distance", "margin", "liveness", "snapshot", "hash")
	emp := map[int64]string{}
	for _, e := range evs {
		if _, ok := emp[e.PersonID]; !ok && e.PersonID > 0 {
			if p, err := s.deps.DB.PersonByID(e.PersonID); err == nil {
				emp[e.PersonID] = p.EmployeeID
			}
		}
		out.row(strconv.FormatInt(e.Seq, 10), e.At().In(s.deps.Location).Format(time.RFC3339), e.Kind, e.Door, e.Area,
			e.Direction, emp[e.PersonID], e.PersonName, strconv.FormatBool(e.Granted), e.Code, e.Reason,
			fmt.Sprintf("%.3f", e.Distance), fmt.Sprintf("%.3f", e.Margin), e.Liveness, e.SnapshotHash, e.Hash)
	}
	u, _ := userOf(c)
	s.audit(u.Username, "entries_csv", map[string]any{"rows": len(evs), "query": c.QueryString()})
	return out.done()
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
	n, err := s.export(f, w)
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
