package web

import (
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/facegate/facegate/gate"
	"github.com/facegate/facegate/storage"
)

// Editing in place: a door, group or rule row links to /rules?edit=KIND&key=KEY,
// which opens that kind's form prefilled with a hidden "replace" field
// holding the key; saving it replaces the record where it stood (and, for a
// renamed door or group, the references to it) instead of adding one.

// editForm is the form values of the record of kind with key, or nil.
func editForm(r storage.PolicyRecords, kind, key string) url.Values {
	v := url.Values{"replace": {key}}
	switch kind {
	case "door":
		i := slices.IndexFunc(r.Doors, func(d storage.Door) bool { return d.ID == key })
		if i < 0 {
			return nil
		}
		d := r.Doors[i]
		v.Set("id", d.ID)
		v.Set("name", d.Name)
		v.Set("area", d.Area)
		v.Set("direction", d.Direction)
		v.Set("level", d.Level)
		v.Set("open_ms", strconv.FormatInt(d.OpenMillis, 10))
		if d.HeldOpenSeconds > 0 {
			v.Set("held_open_s", strconv.Itoa(d.HeldOpenSeconds))
		}
		windowValues(v, "passage_", d.PassageWindows)
	case "group":
		if !slices.ContainsFunc(r.Groups, func(g storage.Group) bool { return g.Name == key }) {
			return nil
		}
		v.Set("name", key)
	case "rule":
		i := slices.IndexFunc(r.Rules, func(x storage.AccessRule) bool { return strconv.FormatInt(x.ID, 10) == key })
		if i < 0 {
			return nil
		}
		x := r.Rules[i]
		v.Set("name", x.Name)
		v.Set("group", x.GroupName)
		v["doors"] = strings.Split(x.Doors, ",")
		windowValues(v, "", x.Windows)
		v.Set("valid_from", x.ValidFrom)
		v.Set("valid_until", x.ValidUntil)
		if x.ObserveHolidays {
			v.Set("observe_holidays", "on")
		}
	default:
		return nil
	}
	return v
}

// windowValues puts stored windows into the pickers when the first is
// one they can show (any days, times a time input holds: not 24:00), the
// rest (or all) into the free-text field.
func windowValues(v url.Values, prefix, windows string) {
	parts := strings.Split(windows, ";")
	for i := range parts {
		parts[i] = strings.TrimSpace(parts[i])
	}
	parts = slices.DeleteFunc(parts, func(s string) bool { return s == "" })
	if len(parts) > 0 {
		if w, err := gate.ParseWindow(parts[0]); err == nil && w.End < 24*60 {
			for i, d := range weekdays { // Monday first; Days is Sunday first
				if w.Days[(i+1)%7] {
					v.Add(prefix+"days", d)
				}
			}
			v.Set(prefix+"start", w.Start.String())
			v.Set(prefix+"end", w.End.String())
			parts = parts[1:]
		}
	}
	if len(parts) > 0 {
		v.Set(prefix+"windows", strings.Join(parts, "; "))
	}
}

// put appends x, or replaces the record whose key is old (an edit); false
// when that record is gone (deleted meanwhile).
func put[T any](xs []T, x T, old string, key func(T) string) ([]T, bool) {
	if old == "" {
		return append(xs, x), true
	}
	i := slices.IndexFunc(xs, func(y T) bool { return key(y) == old })
	if i < 0 {
		return xs, false
	}
	xs[i] = x
	return xs, true
}

// renameRefs follows a door or group renamed by an edit in the records
// that name it.
func renameRefs(r *storage.PolicyRecords, kind, old, now string) {
	if old == "" || old == now {
		return
	}
	switch kind {
	case "door":
		for i, x := range r.Rules {
			ds := strings.Split(x.Doors, ",")
			for j, d := range ds {
				if d == old {
					ds[j] = now
				}
			}
			r.Rules[i].Doors = strings.Join(ds, ",")
		}
	case "group":
		for i := range r.Rules {
			if r.Rules[i].GroupName == old {
				r.Rules[i].GroupName = now
			}
		}
		for i := range r.PersonGroups {
			if r.PersonGroups[i].GroupName == old {
				r.PersonGroups[i].GroupName = now
			}
		}
	}
}
