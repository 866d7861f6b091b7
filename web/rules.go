package web

import (
	"net/http"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/facegate/facegate/gate"
	"github.com/facegate/facegate/storage"
)

func (s *Server) rulesPage(c echo.Context) error {
	return s.rulesPageWith(c, http.StatusOK, "")
}

func (s *Server) rulesPageWith(c echo.Context, code int, msg string) error {
	recs, err := s.deps.DB.LoadPolicy()
	if err != nil {
		return err
	}
	names := map[int64]string{}
	for _, p := range recs.People {
		names[p.ID] = p.Name + " (" + p.EmployeeID + ")"
	}
	return s.renderStatus(c, code, "rules", map[string]any{"R": recs, "Names": names, "Error": msg,
		"Directions": []gate.Direction{gate.DirIn, gate.DirOut, gate.DirBoth},
		"Levels":     []gate.SecurityLevel{gate.LevelFace, gate.LevelFaceLiveness, gate.LevelFacePIN}})
}

// changePolicy loads the records, applies edit, checks the result as the
// gate would, saves it (audited) and tells the running gate.
func (s *Server) changePolicy(c echo.Context, edit func(*storage.PolicyRecords) error) error {
	u, _ := userOf(c)
	recs, err := s.deps.DB.LoadPolicy()
	if err != nil {
		return err
	}
	if err := edit(&recs); err != nil {
		return s.rulesPageWith(c, http.StatusUnprocessableEntity, err.Error())
	}
	if len(recs.Doors) > 0 {
		if _, _, err := gate.FromRecords(recs, s.deps.Location); err != nil {
			return s.rulesPageWith(c, http.StatusUnprocessableEntity, err.Error())
		}
	}
	if err := s.deps.Recorder.SavePolicy(recs, u.Username); err != nil {
		return err
	}
	s.policyChanged()
	return c.Redirect(http.StatusSeeOther, "/rules")
}

type formError string

func (e formError) Error() string { return string(e) }

// requireFields checks that every named form field is filled in.
func requireFields(c echo.Context, names ...string) error {
	for _, n := range names {
		if strings.TrimSpace(c.FormValue(n)) == "" {
			return formError(n + " is required")
		}
	}
	return nil
}

func (s *Server) rulesAdd(c echo.Context) error {
	f := func(n string) string { return strings.TrimSpace(c.FormValue(n)) }
	return s.changePolicy(c, func(r *storage.PolicyRecords) error {
		switch c.Param("kind") {
		case "area":
			if err := requireFields(c, "name"); err != nil {
				return err
			}
			r.Areas = append(r.Areas, storage.Area{Name: f("name"), AntiPassback: f("anti_passback") == "on"})
		case "door":
			if err := requireFields(c, "id", "name", "area", "direction", "level"); err != nil {
				return err
			}
			ms, err := strconv.ParseInt(f("open_ms"), 10, 64)
			if err != nil {
				return formError("open time must be milliseconds")
			}
			held, _ := strconv.Atoi(f("held_open_s"))
			r.Doors = append(r.Doors, storage.Door{ID: f("id"), Name: f("name"), Area: f("area"), Direction: f("direction"),
				OpenMillis: ms, HeldOpenSeconds: held, Level: f("level"), PassageWindows: f("passage")})
		case "group":
			if err := requireFields(c, "name"); err != nil {
				return err
			}
			r.Groups = append(r.Groups, storage.Group{Name: f("name")})
		case "rule":
			if err := requireFields(c, "name", "group", "doors", "windows"); err != nil {
				return err
			}
			r.Rules = append(r.Rules, storage.AccessRule{GroupName: f("group"), Name: f("name"), Doors: f("doors"),
				ScheduleName: f("name"), Windows: f("windows"), ValidFrom: f("valid_from"), ValidUntil: f("valid_until"),
				ObserveHolidays: f("observe_holidays") == "on"})
		case "holiday":
			if err := requireFields(c, "date"); err != nil {
				return err
			}
			if _, err := gate.ParseDate(f("date")); err != nil {
				return err
			}
			r.Holidays = append(r.Holidays, storage.Holiday{Date: f("date"), Name: f("name")})
		case "member":
			if err := requireFields(c, "employee_id", "group"); err != nil {
				return err
			}
			p, err := s.deps.DB.PersonByEmployeeID(f("employee_id"))
			if err != nil {
				return formError("no person with employee ID " + f("employee_id"))
			}
			r.PersonGroups = append(r.PersonGroups, storage.PersonGroup{PersonID: p.ID, GroupName: f("group")})
		default:
			return formError("unknown kind of record")
		}
		return nil
	})
}

func (s *Server) rulesDelete(c echo.Context) error {
	key := strings.TrimSpace(c.FormValue("key"))
	return s.changePolicy(c, func(r *storage.PolicyRecords) error {
		switch c.Param("kind") {
		case "area":
			r.Areas = filter(r.Areas, func(a storage.Area) bool { return a.Name != key })
		case "door":
			r.Doors = filter(r.Doors, func(d storage.Door) bool { return d.ID != key })
		case "group":
			r.Groups = filter(r.Groups, func(g storage.Group) bool { return g.Name != key })
			r.Rules = filter(r.Rules, func(x storage.AccessRule) bool { return x.GroupName != key })
			r.PersonGroups = filter(r.PersonGroups, func(x storage.PersonGroup) bool { return x.GroupName != key })
		case "rule":
			r.Rules = filter(r.Rules, func(x storage.AccessRule) bool { return strconv.FormatInt(x.ID, 10) != key })
		case "holiday":
			r.Holidays = filter(r.Holidays, func(h storage.Holiday) bool { return h.Date != key })
		case "member":
			r.PersonGroups = filter(r.PersonGroups, func(x storage.PersonGroup) bool {
				return strconv.FormatInt(x.PersonID, 10)+"/"+x.GroupName != key
			})
		default:
			return formError("unknown kind of record")
		}
		return nil
	})
}

func filter[T any](xs []T, keep func(T) bool) []T {
	out := xs[:0]
	for _, x := range xs {
		if keep(x) {
			out = append(out, x)
		}
	}
	return out
}
