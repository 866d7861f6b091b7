package web

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/facegate/facegate/gate"
	"github.com/facegate/facegate/storage"
)

func (s *Server) rulesPage(c echo.Context) error {
	return s.rulesPageWith(c, http.StatusOK, "")
}

// rulesPageWith shows the rules; after a refused edit (code ≥ 400) the
// form that was sent keeps its values.
func (s *Server) rulesPageWith(c echo.Context, code int, msg string) error {
	recs, err := s.deps.DB.LoadPolicy()
	if err != nil {
		return err
	}
	names := map[int64]string{}
	for _, p := range recs.People {
		names[p.ID] = p.Name + " (" + p.EmployeeID + ")"
	}
	forms := map[string]url.Values{}
	if code >= http.StatusBadRequest {
		forms[c.Param("kind")] = c.Request().PostForm
	} else if kind := c.QueryParam("edit"); kind != "" {
		forms[kind] = editForm(recs, kind, c.QueryParam("key"))
	}
	return s.renderStatus(c, code, "rules", map[string]any{"R": recs, "Names": names, "Error": msg, "Forms": forms,
		"Directions": []gate.Direction{gate.DirIn, gate.DirOut, gate.DirBoth},
		"Levels":     []gate.SecurityLevel{gate.LevelFace, gate.LevelFaceLiveness, gate.LevelFacePIN}})
}

// weekdays are the values of the weekday checkboxes, Monday first.
var weekdays = []string{"Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"}

// windowData is the data of the "window" partial (rules.html).
type windowData struct {
	Form      url.Values
	Prefix, L string
	Days      []string
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
		return s.rulesPageWith(c, http.StatusUnprocessableEntity, formMessage(pickLang(c.Request()), err))
	}
	if len(recs.Doors) > 0 {
		if _, _, err := gate.FromRecords(recs, s.deps.Location); err != nil {
			return s.rulesPageWith(c, http.StatusUnprocessableEntity, formMessage(pickLang(c.Request()), err))
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

// fieldError is a form field the reader must fill in or correct: key
// is its catalogue message, taking the field's label and the value.
type fieldError struct{ key, field, value string }

func (e *fieldError) Error() string { return e.in("en") }

func (e *fieldError) in(lang string) string {
	args := []any{translate(lang, "rules.field."+e.field)}
	if e.value != "" {
		args = append(args, e.value)
	}
	return fmt.Sprintf(translate(lang, e.key), args...)
}

// formMessage is err in lang when it is one of ours, else as it is (the
// gate's checks of the whole policy, in English).
func formMessage(lang string, err error) string {
	var fe *fieldError
	if errors.As(err, &fe) {
		return fe.in(lang)
	}
	// The gate's checks are joined one a line.
	lines := strings.Split(err.Error(), "\n")
	for i, l := range lines {
		lines[i] = localize(lang, l)
	}
	return strings.Join(lines, messages[lang]["sep"])
}

// requireFields checks that every named form field is filled in.
func requireFields(c echo.Context, names ...string) error {
	for _, n := range names {
		if strings.TrimSpace(c.FormValue(n)) == "" {
			return &fieldError{"rules.err.required", n, ""}
		}
	}
	return nil
}

// windowsFrom reads a schedule from the pickers (weekday checkboxes and
// two times, under prefix) and the free-text windows beside them, e.g.
// "土 10:00-14:00"; "" when nothing was picked.
func windowsFrom(c echo.Context, prefix string) (string, error) {
	start, end := strings.TrimSpace(c.FormValue(prefix+"start")), strings.TrimSpace(c.FormValue(prefix+"end"))
	days := c.Request().PostForm[prefix+"days"] // parsed by FormValue
	var ws []string
	if len(days) > 0 || start != "" || end != "" {
		if len(days) == 0 || start == "" || end == "" {
			return "", &fieldError{"rules.err.window", prefix + "window", ""}
		}
		ws = append(ws, strings.Join(days, ",")+" "+start+"-"+end)
	}
	if more := strings.TrimSpace(c.FormValue(prefix + "windows")); more != "" {
		ws = append(ws, more)
	}
	joined := strings.Join(ws, "; ")
	for _, part := range strings.Split(joined, ";") {
		if _, err := gate.ParseWindow(part); err != nil && strings.TrimSpace(part) != "" {
			return "", &fieldError{"rules.err.windowtext", prefix + "window", strings.TrimSpace(part)}
		}
	}
	return joined, nil
}

func (s *Server) rulesAdd(c echo.Context) error {
	f := func(n string) string { return strings.TrimSpace(c.FormValue(n)) }
	old, ok := f("replace"), true
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
			d, err := doorFrom(c)
			if err != nil {
				return err
			}
			r.Doors, ok = put(r.Doors, d, old, func(x storage.Door) string { return x.ID })
			renameRefs(r, "door", old, d.ID)
		case "group":
			if err := requireFields(c, "name"); err != nil {
				return err
			}
			r.Groups, ok = put(r.Groups, storage.Group{Name: f("name")}, old, func(x storage.Group) string { return x.Name })
			renameRefs(r, "group", old, f("name"))
		case "rule":
			if err := requireFields(c, "name", "group", "doors"); err != nil {
				return err
			}
			ar, err := ruleFrom(c)
			if err != nil {
				return err
			}
			ar.ID, _ = strconv.ParseInt(old, 10, 64)
			r.Rules, ok = put(r.Rules, ar, old, func(x storage.AccessRule) string { return strconv.FormatInt(x.ID, 10) })
		case "holiday":
			if err := requireFields(c, "date"); err != nil {
				return err
			}
			if _, err := gate.ParseDate(f("date")); err != nil {
				return &fieldError{"rules.err.date", "date", f("date")}
			}
			r.Holidays = append(r.Holidays, storage.Holiday{Date: f("date"), Name: f("name")})
		case "member":
			if err := requireFields(c, "employee_id", "group"); err != nil {
				return err
			}
			p, err := s.deps.DB.PersonByEmployeeID(f("employee_id"))
			if err != nil {
				return &fieldError{"rules.err.person", "employee_id", f("employee_id")}
			}
			r.PersonGroups = append(r.PersonGroups, storage.PersonGroup{PersonID: p.ID, GroupName: f("group")})
		default:
			return formError("unknown kind of record")
		}
		if !ok {
			return &fieldError{"rules.err.gone", "replace", old}
		}
		return nil
	})
}

// doorFrom reads the door form; its passage windows come from the
// pickers and, as the form before them and the API had, "passage".
func doorFrom(c echo.Context) (storage.Door, error) {
	f := func(n string) string { return strings.TrimSpace(c.FormValue(n)) }
	ms, err := strconv.ParseInt(f("open_ms"), 10, 64)
	if err != nil {
		return storage.Door{}, &fieldError{"rules.err.number", "open_ms", f("open_ms")}
	}
	passage, err := windowsFrom(c, "passage_")
	if err != nil {
		return storage.Door{}, err
	}
	if old := f("passage"); old != "" {
		passage = strings.Join(slices.DeleteFunc([]string{passage, old}, func(s string) bool { return s == "" }), "; ")
	}
	held, _ := strconv.Atoi(f("held_open_s"))
	return storage.Door{ID: f("id"), Name: f("name"), Area: f("area"), Direction: f("direction"),
		OpenMillis: ms, HeldOpenSeconds: held, Level: f("level"), PassageWindows: passage}, nil
}

// ruleFrom reads the rule form: the doors ticked, the windows picked or
// typed (at least one), the validity days.
func ruleFrom(c echo.Context) (storage.AccessRule, error) {
	f := func(n string) string { return strings.TrimSpace(c.FormValue(n)) }
	windows, err := windowsFrom(c, "")
	if err != nil {
		return storage.AccessRule{}, err
	}
	if windows == "" {
		return storage.AccessRule{}, &fieldError{"rules.err.window", "window", ""}
	}
	if err := checkDays(f("valid_from"), f("valid_until")); err != nil {
		return storage.AccessRule{}, err
	}
	return storage.AccessRule{GroupName: f("group"), Name: f("name"), Doors: strings.Join(c.Request().PostForm["doors"], ","),
		ScheduleName: f("name"), Windows: windows, ValidFrom: f("valid_from"), ValidUntil: f("valid_until"),
		ObserveHolidays: f("observe_holidays") == "on"}, nil
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

// checkDays: each validity day, when given, is a date and until is not
// before from.
func checkDays(from, until string) error {
	var ds [2]gate.Date
	for i, d := range []struct{ field, v string }{{"valid_from", from}, {"valid_until", until}} {
		if d.v == "" {
			continue
		}
		day, err := gate.ParseDate(d.v)
		if err != nil {
			return &fieldError{"rules.err.date", d.field, d.v}
		}
		ds[i] = day
	}
	if from != "" && until != "" && ds[1].Before(ds[0]) {
		return &fieldError{"rules.err.reversed", "valid_until", until}
	}
	return nil
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
