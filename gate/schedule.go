package gate

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
	_ "time/tzdata" // site time zones work on a box without /usr/share/zoneinfo
)

// Clock is a wall-clock time of day in minutes since midnight (0–1440).
// Windows are wall-clock so that a DST change never shifts "08:00".
type Clock int

// ParseClock reads "HH:MM" (24 h; "24:00" is the end of the day).
func ParseClock(s string) (Clock, error) {
	h, m, ok := strings.Cut(strings.TrimSpace(s), ":")
	if !ok || len(m) != 2 || len(h) < 1 || len(h) > 2 {
		return 0, fmt.Errorf("time of day %q: want HH:MM", s)
	}
	hh, err1 := strconv.Atoi(h)
	mm, err2 := strconv.Atoi(m)
	if err1 != nil || err2 != nil || hh < 0 || hh > 24 || mm < 0 || mm > 59 || (hh == 24 && mm != 0) {
		return 0, fmt.Errorf("time of day %q: want 00:00–24:00", s)
	}
	return Clock(hh*60 + mm), nil
}

func (c Clock) String() string { return fmt.Sprintf("%02d:%02d", int(c)/60, int(c)%60) }

func clockOf(t time.Time) Clock { return Clock(t.Hour()*60 + t.Minute()) }

// Window is a weekly time window: on each of Days, from Start to End. An End
// at or before Start crosses midnight: "Fri 22:00–06:00" runs into Saturday
// morning and belongs to Friday (for its weekday and holiday checks).
type Window struct {
	Days  [7]bool // indexed by time.Weekday
	Start Clock
	End   Clock
}

var dayNames = [7]string{"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"}

// jaDayNames are the weekdays' Japanese names, as people at a Japanese
// site write them: "月-金 08:00-20:00", "土・日 10:00〜14:00", "月曜日".
var jaDayNames = [7]string{"日", "月", "火", "水", "木", "金", "土"}

// jaPunct maps the Japanese forms of the window syntax to the ASCII ones:
// wave dashes for ranges, ideographic comma and middle dot between days,
// the ideographic space and the full-width colon.
var jaPunct = strings.NewReplacer("–", "-", "〜", "-", "～", "-", "、", ",", "・", ",", "　", " ", "：", ":")

// ParseWindow reads "Mon-Fri 08:00-20:00", "Sat,Sun 10:00-14:00",
// "Daily 22:00-06:00" (en dash accepted too), and the same in Japanese:
// "月-金 08:00-20:00", "土・日 10:00〜14:00", "毎日 22:00-06:00".
func ParseWindow(s string) (Window, error) {
	var w Window
	s = jaPunct.Replace(strings.TrimSpace(s))
	days, times, ok := strings.Cut(strings.TrimSpace(s), " ")
	if !ok {
		return w, fmt.Errorf("window %q: want DAYS HH:MM-HH:MM", s)
	}
	if err := parseDays(strings.TrimSpace(days), &w.Days); err != nil {
		return w, fmt.Errorf("window %q: %w", s, err)
	}
	a, b, ok := strings.Cut(strings.TrimSpace(times), "-")
	if !ok {
		return w, fmt.Errorf("window %q: want HH:MM-HH:MM", s)
	}
	var err error
	if w.Start, err = ParseClock(a); err != nil {
		return w, fmt.Errorf("window %q: %w", s, err)
	}
	if w.End, err = ParseClock(b); err != nil {
		return w, fmt.Errorf("window %q: %w", s, err)
	}
	if w.Start == w.End {
		return w, fmt.Errorf("window %q: empty (start equals end); use 00:00-24:00 for all day", s)
	}
	return w, nil
}

// dayIndex reads "Mon" (any case), "月", "月曜" or "月曜日".
func dayIndex(s string) (int, bool) {
	ja := strings.TrimSuffix(s, "曜日")
	if ja == s {
		ja = strings.TrimSuffix(s, "曜")
	}
	for i := range dayNames {
		if strings.EqualFold(dayNames[i], s) || jaDayNames[i] == ja {
			return i, true
		}
	}
	return 0, false
}

func parseDays(s string, out *[7]bool) error {
	if strings.EqualFold(s, "daily") || s == "毎日" {
		for i := range out {
			out[i] = true
		}
		return nil
	}
	for _, part := range strings.Split(s, ",") {
		a, b, isRange := strings.Cut(part, "-")
		i, ok := dayIndex(a)
		if !ok {
			return fmt.Errorf("unknown day %q (Mon…Sun, 月…日 or Daily)", a)
		}
		if !isRange {
			out[i] = true
			continue
		}
		j, ok := dayIndex(b)
		if !ok {
			return fmt.Errorf("unknown day %q (Mon…Sun or 月…日)", b)
		}
		for k := i; ; k = (k + 1) % 7 {
			out[k] = true
			if k == j {
				break
			}
		}
	}
	return nil
}

func (w Window) crossesMidnight() bool { return w.End <= w.Start }

func (w Window) String() string {
	var b strings.Builder
	all := true
	for _, d := range w.Days {
		all = all && d
	}
	if all {
		b.WriteString("Daily")
	} else {
		// Runs of consecutive days, Monday first: "Mon–Fri", "Sat,Sun".
		order := []int{1, 2, 3, 4, 5, 6, 0}
		var parts []string
		for i := 0; i < 7; {
			if !w.Days[order[i]] {
				i++
				continue
			}
			j := i
			for j+1 < 7 && w.Days[order[j+1]] {
				j++
			}
			if j-i >= 2 {
				parts = append(parts, dayNames[order[i]]+"–"+dayNames[order[j]])
			} else {
				for k := i; k <= j; k++ {
					parts = append(parts, dayNames[order[k]])
				}
			}
			i = j + 1
		}
		b.WriteString(strings.Join(parts, ","))
	}
	fmt.Fprintf(&b, " %s–%s", w.Start, w.End)
	return b.String()
}

// Date is a civil date in the site's time zone.
type Date struct {
	Year  int
	Month time.Month
	Day   int
}

// ParseDate reads YYYY-MM-DD.
func ParseDate(s string) (Date, error) {
	t, err := time.Parse("2006-01-02", strings.TrimSpace(s))
	if err != nil {
		return Date{}, fmt.Errorf("date %q: want YYYY-MM-DD", s)
	}
	return DateOf(t), nil
}

// DateOf is t's civil date in t's location.
func DateOf(t time.Time) Date { y, m, d := t.Date(); return Date{y, m, d} }

func (d Date) String() string { return fmt.Sprintf("%04d-%02d-%02d", d.Year, d.Month, d.Day) }

// Before reports whether d is earlier than o.
func (d Date) Before(o Date) bool {
	if d.Year != o.Year {
		return d.Year < o.Year
	}
	if d.Month != o.Month {
		return d.Month < o.Month
	}
	return d.Day < o.Day
}

func (d Date) addDays(n int) Date {
	return DateOf(time.Date(d.Year, d.Month, d.Day+n, 12, 0, 0, 0, time.UTC))
}

func (d Date) weekday() time.Weekday {
	return time.Date(d.Year, d.Month, d.Day, 12, 0, 0, 0, time.UTC).Weekday()
}

// Schedule is a named set of weekly windows.
type Schedule struct {
	Name    string
	Windows []Window
}

func (s Schedule) String() string {
	var ws []string
	for _, w := range s.Windows {
		ws = append(ws, w.String())
	}
	return fmt.Sprintf("'%s' (%s)", s.Name, strings.Join(ws, "; "))
}

// Holidays is a set of dates.
type Holidays map[Date]string

// activeWindow returns the day a window that contains local time t started
// on (today, or yesterday for a window crossing midnight), or false.
// skip reports days on which windows do not apply (holidays).
func (s Schedule) activeWindow(t time.Time, skip func(Date) bool) (Date, bool) {
	today := DateOf(t)
	now := clockOf(t)
	for _, w := range s.Windows {
		// Started today?
		if w.Days[today.weekday()] && !skip(today) {
			if w.crossesMidnight() {
				if now >= w.Start {
					return today, true
				}
			} else if now >= w.Start && now < w.End {
				return today, true
			}
		}
		// Started yesterday and runs past midnight?
		if y := today.addDays(-1); w.crossesMidnight() && w.Days[y.weekday()] && !skip(y) && now < w.End {
			return y, true
		}
	}
	return Date{}, false
}

// errNoWindows guards against a schedule that can never open.
var errNoWindows = errors.New("schedule has no windows")

// Validate checks a schedule.
func (s Schedule) Validate() error {
	if s.Name == "" {
		return errors.New("schedule needs a name")
	}
	if len(s.Windows) == 0 {
		return fmt.Errorf("schedule '%s': %w", s.Name, errNoWindows)
	}
	return nil
}
