package web

import (
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/facegate/facegate/gate"
	"github.com/facegate/facegate/storage"
)

// presenceWindow: the presence page looks this far back by default.
const presenceWindow = 7 * 24 * time.Hour

// periodError is a period the reader typed that cannot be shown: a day
// that does not parse (400) or "from" after "to" (422).
type periodError struct {
	status   int
	key      string // catalogue format, with the two days
	from, to string
}

func (e *periodError) Error() string { return fmt.Sprintf(messages["en"][e.key], e.from, e.to) }

// asHTTP answers a period error with its status and English message.
func asHTTP(err error) error {
	var pe *periodError
	if errors.As(err, &pe) {
		return echo.NewHTTPError(pe.status, pe.Error())
	}
	return err
}

func (s *Server) presencePeriod(c echo.Context) (storage.EventFilter, error) {
	to := s.deps.Now()
	granted := true
	f := storage.EventFilter{From: to.Add(-presenceWindow), To: to, Granted: &granted, Door: c.QueryParam("door")}
	from, until := c.QueryParam("from"), c.QueryParam("to")
	if err := f.SetDays(from, until, s.deps.Location); err != nil {
		var de *storage.DayError
		errors.As(err, &de)
		return f, &periodError{http.StatusBadRequest, "presence.badday", de.Field, de.Value}
	}
	if !f.From.Before(f.To) {
		return f, &periodError{http.StatusUnprocessableEntity, "presence.reversed", from, until}
	}
	return f, nil
}

func (s *Server) presenceData(c echo.Context) ([]gate.Stay, storage.EventFilter, error) {
	f, err := s.presencePeriod(c)
	if err != nil {
		return nil, f, err
	}
	evs, err := s.events(f, "")
	if err != nil {
		return nil, f, err
	}
	return gate.Stays(evs), f, nil
}

// insideNow: everyone whose last passage into an area was "in", whatever
// the period shown below.
func (s *Server) insideNow() ([]gate.Stay, error) {
	last, err := s.lastPassages(s.deps.Now().Add(time.Microsecond))
	if err != nil {
		return nil, err
	}
	var inside []gate.Stay
	for _, e := range last {
		if e.Direction == string(gate.DirIn) {
			inside = append(inside, gate.Stay{PersonID: e.PersonID, Name: e.PersonName, Area: e.Area, In: e.At()})
		}
	}
	return inside, nil
}

func (s *Server) presencePage(c echo.Context) error {
	inside, err := s.insideNow()
	if err != nil {
		return err
	}
	stays, f, err := s.presenceData(c)
	data := map[string]any{"Inside": inside, "Stays": stays, "Doors": s.siteDoors(), "Door": c.QueryParam("door"),
		"From": f.From.In(s.deps.Location).Format(storage.DayLayout), "To": f.To.Add(-time.Second).In(s.deps.Location).Format(storage.DayLayout)}
	var pe *periodError
	if errors.As(err, &pe) { // the values as typed, and what to do
		lang := pickLang(c.Request())
		data["From"], data["To"] = c.QueryParam("from"), c.QueryParam("to")
		a, b := pe.from, pe.to
		if pe.key == "presence.badday" { // the field's name, then the value
			a = translate(lang, "entries."+a)
		}
		data["Error"] = fmt.Sprintf(translate(lang, pe.key), a, b)
		return s.renderStatus(c, pe.status, "presence", data)
	}
	if err != nil {
		return err
	}
	return s.render(c, "presence", data)
}

func (s *Server) attendanceCSV(c echo.Context) error {
	stays, _, err := s.presenceData(c)
	if err != nil {
		return asHTTP(err)
	}
	out := startCSV(c, "attendance.csv")
	out.row("day", "person", "first_in", "last_out")
	hm := func(t time.Time) string {
		if t.IsZero() {
			return ""
		}
		return t.In(s.deps.Location).Format("15:04")
	}
	for _, a := range gate.AttendanceDays(stays, s.deps.Location) {
		out.row(a.Day, a.Name, hm(a.FirstIn), hm(a.LastOut))
	}
	return out.done()
}
