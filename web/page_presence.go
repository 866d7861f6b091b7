package web

import (
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/facegate/facegate/gate"
	"github.com/facegate/facegate/storage"
)

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
