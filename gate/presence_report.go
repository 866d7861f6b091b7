package gate

import (
	"cmp"
	"slices"
	"time"

	"github.com/facegate/facegate/storage"
)

// Stay is one visit of a person to an area, from the in/out doors.
type Stay struct {
	PersonID int64
	Name     string
	Area     string
	In, Out  time.Time // zero when not recorded
	// Flag: "no_exit" (an entry followed by another entry), "no_entry"
	// (an exit with no entry); "" for complete stays and open ones (In set,
	// Out zero: still inside).
	Flag string
}

// Open reports whether the person is still inside.
func (s Stay) Open() bool { return !s.In.IsZero() && s.Out.IsZero() && s.Flag == "" }

// Length of a complete stay (0 otherwise).
func (s Stay) Length() time.Duration {
	if s.In.IsZero() || s.Out.IsZero() {
		return 0
	}
	return s.Out.Sub(s.In)
}

// Stays pairs granted passages through "in" and "out" doors, per person
// and area, in time order. Events through "both" doors say nothing about
// direction and are ignored.
func Stays(evs []storage.Event) []Stay {
	sorted := append([]storage.Event(nil), evs...)
	slices.SortStableFunc(sorted, func(a, b storage.Event) int { return cmp.Compare(a.AtMicro, b.AtMicro) })
	type key struct {
		p int64
		a string
	}
	open := map[key]int{}
	var out []Stay
	for _, e := range sorted {
		if !e.Granted || e.PersonID == 0 || (e.Direction != string(DirIn) && e.Direction != string(DirOut)) {
			continue
		}
		k := key{e.PersonID, e.Area}
		switch e.Direction {
		case string(DirIn):
			if i, ok := open[k]; ok {
				out[i].Flag = "no_exit"
			}
			out = append(out, Stay{PersonID: e.PersonID, Name: e.PersonName, Area: e.Area, In: e.At()})
			open[k] = len(out) - 1
		case string(DirOut):
			if i, ok := open[k]; ok {
				out[i].Out = e.At()
				delete(open, k)
			} else {
				out = append(out, Stay{PersonID: e.PersonID, Name: e.PersonName, Area: e.Area, Out: e.At(), Flag: "no_entry"})
			}
		}
	}
	return out
}

// Attendance is one person's first entry and last exit on a day.
type Attendance struct {
	PersonID         int64
	Name             string
	Day              string // YYYY-MM-DD in the site's zone
	FirstIn, LastOut time.Time
}

// AttendanceDays reduces stays to first in / last out per person and day.
func AttendanceDays(stays []Stay, loc *time.Location) []Attendance {
	type key struct {
		p   int64
		day string
	}
	m := map[key]*Attendance{}
	var keys []key
	touch := func(p int64, name string, t time.Time) *Attendance {
		k := key{p, t.In(loc).Format("2006-01-02")}
		a, ok := m[k]
		if !ok {
			a = &Attendance{PersonID: p, Name: name, Day: k.day}
			m[k] = a
			keys = append(keys, k)
		}
		return a
	}
	for _, s := range stays {
		if !s.In.IsZero() {
			a := touch(s.PersonID, s.Name, s.In)
			if a.FirstIn.IsZero() || s.In.Before(a.FirstIn) {
				a.FirstIn = s.In
			}
		}
		if !s.Out.IsZero() {
			a := touch(s.PersonID, s.Name, s.Out)
			if s.Out.After(a.LastOut) {
				a.LastOut = s.Out
			}
		}
	}
	slices.SortFunc(keys, func(a, b key) int { return cmp.Or(cmp.Compare(a.day, b.day), cmp.Compare(a.p, b.p)) })
	out := make([]Attendance, len(keys))
	for i, k := range keys {
		out[i] = *m[k]
	}
	return out
}
