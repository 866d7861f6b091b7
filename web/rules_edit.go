package web

import (
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"

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

// pickable is one window the pickers can show: weekdays, then a time range.
var pickable = regexp.MustCompile(`^((?:Mon|Tue|Wed|Thu|Fri|Sat|Sun)(?:,(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun))*) (\d\d:\d\d)-(\d\d:\d\d)$`)

// windowValues puts stored windows into the pickers when the first is
// one they can show, the rest (or all) into the free-text field.
func windowValues(v url.Values, prefix, windows string) {
	parts := strings.Split(windows, ";")
	for i := range parts {
		parts[i] = strings.TrimSpace(parts[i])
	}
	parts = slices.DeleteFunc(parts, func(s string) bool { return s == "" })
	if len(parts) > 0 {
		if m := pickable.FindStringSubmatch(parts[0]); m != nil {
			v[prefix+"days"] = strings.Split(m[1], ",")
			v.Set(prefix+"start", m[2])
			v.Set(prefix+"end", m[3])
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
