package storage

import "time"

// DayLayout is how a day is written in filters and forms.
const DayLayout = "2006-01-02"

// DayError names the day that does not parse.
type DayError struct{ Field, Value string }

func (e *DayError) Error() string { return e.Field + ": want YYYY-MM-DD, not " + `"` + e.Value + `"` }

// SetDays limits f to whole days in loc: from from's midnight to the
// midnight after to, so to is included. An empty day leaves that end
// as it was.
func (f *EventFilter) SetDays(from, to string, loc *time.Location) error {
	for _, d := range []struct {
		field, v string
		dst      *time.Time
		after    int
	}{{"from", from, &f.From, 0}, {"to", to, &f.To, 1}} {
		if d.v == "" {
			continue
		}
		t, err := time.ParseInLocation(DayLayout, d.v, loc)
		if err != nil {
			return &DayError{d.field, d.v}
		}
		*d.dst = t.AddDate(0, 0, d.after)
	}
	return nil
}
