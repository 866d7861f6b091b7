package alert

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/facegate/facegate/gate"
	"github.com/facegate/facegate/storage"
)

// Learning a person's usual hours: from their grants in the LearnDays
// before an entry, when there are at least LearnMin of them on at least
// LearnMinDays distinct days (about two working weeks); otherwise the
// site's hours apply. The earliest and latest tenth of the entries are left
// out (one night in the server room must not make nights usual), and the
// span is widened by LearnSlack each side (a person who usually comes at
// 08:30 is not alerted at 08:10).
const (
	LearnDays    = 30
	LearnMin     = 10
	LearnMinDays = 5
	LearnSlack   = 60 // minutes
)

// Alert is one rule firing on one event: the Detail JSON of the alert
// event, and what its e-mail says.
type Alert struct {
	Rule       string `json:"rule"`
	Kind       string `json:"kind"`
	TriggerSeq int64  `json:"trigger_seq"`
	Door       string `json:"door,omitempty"`
	PersonID   int64  `json:"person_id,omitempty"`
	Person     string `json:"person,omitempty"`
	AtMicro    int64  `json:"at_us"`
	Reason     string `json:"reason"` // English; Render gives ja too
	// Outside usual hours: the window the entry fell outside of, and
	// whether it was learned ("learned", with Entries) or the site's ("site").
	Usual     string `json:"usual,omitempty"`
	UsualFrom string `json:"usual_from,omitempty"`
	Entries   int    `json:"entries,omitempty"`
	// Denials: how many within how many seconds.
	Count   int `json:"count,omitempty"`
	Seconds int `json:"seconds,omitempty"`
	// Cause is the triggering event's own sentence (held open, tailgating).
	Cause string `json:"cause,omitempty"`
}

// History is what the rules need besides the event itself; the engine
// reads it from the log (Needs says which parts), tests write it.
type History struct {
	// Grants are the person's granted entries (any door) in the LearnDays
	// before the event.
	Grants []time.Time
	// Recent are the denials and alert events at the event's door in the
	// longest denials window before it (the event itself not included).
	Recent []storage.Event
}

// Needs says which History e needs: the person's grants, and the denials
// and alerts at its door within window before it (0: none).
func (c *Config) Needs(e storage.Event) (grants bool, window time.Duration) {
	for _, r := range c.Rules {
		if !r.appliesTo(e) {
			continue
		}
		switch r.Kind {
		case KindOutsideHours:
			grants = true
		case KindDenials:
			window = max(window, time.Duration(r.Seconds)*time.Second)
		}
	}
	return grants, window
}

// appliesTo reports whether e is the kind of event r watches, at one of its doors.
func (r Rule) appliesTo(e storage.Event) bool {
	if len(r.Doors) > 0 && !slices.Contains(r.Doors, e.Door) {
		return false
	}
	switch r.Kind {
	case KindOutsideHours:
		return e.Kind == storage.KindGranted && e.PersonID != 0
	case KindUnknownFace:
		return e.Kind == storage.KindDenied && e.Code == string(gate.ReasonUnknownFace)
	case KindHeldOpen:
		return e.Kind == storage.KindDoorHeldOpen
	case KindTailgating:
		return e.Kind == storage.KindTailgating
	case KindDenials:
		return e.Kind == storage.KindDenied
	}
	return false
}

// Evaluate returns the alerts e raises, in rule order. It is pure: the
// same event, history and zone give the same alerts.
func (c *Config) Evaluate(e storage.Event, h History, loc *time.Location) []Alert {
	var out []Alert
	for _, r := range c.Rules {
		if !r.appliesTo(e) {
			continue
		}
		a := Alert{Rule: r.Name, Kind: r.Kind, TriggerSeq: e.Seq, Door: e.Door, PersonID: e.PersonID,
			Person: e.PersonName, AtMicro: e.AtMicro}
		switch r.Kind {
		case KindOutsideHours:
			if !c.outsideHours(&a, e.At().In(loc), h.Grants, loc) {
				continue
			}
		case KindDenials:
			if !r.denialsReached(e, h.Recent) {
				continue
			}
			a.Count, a.Seconds = r.Count, r.Seconds
		case KindHeldOpen, KindTailgating:
			a.Cause = e.Reason
		}
		a.Reason = a.Render("en", loc)
		out = append(out, a)
	}
	return out
}

// outsideHours reports whether local time t is outside the person's usual
// hours, and fills in which hours those were and where they came from.
func (c *Config) outsideHours(a *Alert, t time.Time, grants []time.Time, loc *time.Location) bool {
	ws, n := learnHours(grants, loc)
	a.UsualFrom, a.Entries = "learned", n
	if ws == nil {
		ws, a.UsualFrom = c.siteHours, "site"
	}
	var names []string
	for _, w := range ws {
		names = append(names, w.String())
	}
	a.Usual = strings.Join(names, "; ")
	return !within(ws, t)
}

// learnHours is the usual window of a person with enough grants (see
// LearnMin): the weekdays they came on, and the span of their entry times
// without the earliest and latest tenth, widened by LearnSlack. nil when
// there are too few grants; n is how many there were.
func learnHours(grants []time.Time, loc *time.Location) (ws []gate.Window, n int) {
	days := map[gate.Date]bool{}
	var clocks []int
	var w gate.Window
	for _, g := range grants {
		l := g.In(loc)
		days[gate.DateOf(l)] = true
		w.Days[l.Weekday()] = true
		clocks = append(clocks, l.Hour()*60+l.Minute())
	}
	if len(clocks) < LearnMin || len(days) < LearnMinDays {
		return nil, len(clocks)
	}
	slices.Sort(clocks)
	trim := len(clocks) / 10
	w.Start = gate.Clock(max(0, clocks[trim]-LearnSlack))
	w.End = gate.Clock(min(24*60, clocks[len(clocks)-1-trim]+LearnSlack+1))
	return []gate.Window{w}, len(clocks)
}

// within reports whether local time t falls in one of ws. A window ending
// at or before its start runs past midnight and belongs to its first day.
func within(ws []gate.Window, t time.Time) bool {
	now := gate.Clock(t.Hour()*60 + t.Minute())
	today, yesterday := t.Weekday(), (t.Weekday()+6)%7
	for _, w := range ws {
		if w.End > w.Start {
			if w.Days[today] && now >= w.Start && now < w.End {
				return true
			}
			continue
		}
		if (w.Days[today] && now >= w.Start) || (w.Days[yesterday] && now < w.End) {
			return true
		}
	}
	return false
}

// denialsReached reports whether e is at least the Count-th denial at its
// door within Seconds, and the rule has not fired at that door within the
// window already (a burst of ten denials is one alert, not eight).
func (r Rule) denialsReached(e storage.Event, recent []storage.Event) bool {
	from := e.AtMicro - int64(r.Seconds)*1e6
	n := 1 // e itself
	for _, p := range recent {
		if p.Door != e.Door || p.AtMicro <= from || p.AtMicro > e.AtMicro {
			continue
		}
		switch {
		case p.Kind == storage.KindAlert && p.Rule == r.Name:
			return false
		case p.Kind == storage.KindDenied:
			n++
		}
	}
	return n >= r.Count
}

// jaWindow writes a window's days in Japanese, as gate.ParseWindow reads them.
var jaWindow = strings.NewReplacer("Mon", "月", "Tue", "火", "Wed", "水", "Thu", "木", "Fri", "金", "Sat", "土", "Sun", "日", "Daily", "毎日")

// Render is the alert's sentence in lang ("en" or "ja"), times in loc.
func (a Alert) Render(lang string, loc *time.Location) string {
	t := time.UnixMicro(a.AtMicro).In(loc)
	m := messages[lang]
	if m == nil {
		m = messages["en"]
	}
	who := a.Person
	if who == "" {
		who = m["someone"]
	}
	switch a.Kind {
	case KindOutsideHours:
		src := fmt.Sprintf(m["learned"], a.Entries, LearnDays)
		if a.UsualFrom == "site" {
			src = fmt.Sprintf(m["site"], a.Entries, LearnDays)
		}
		usual := a.Usual
		if lang == "ja" {
			usual = jaWindow.Replace(usual)
		}
		return fmt.Sprintf(m[a.Kind], who, a.Door, t.Format("15:04"), m[t.Weekday().String()[:3]], usual, src)
	case KindDenials:
		return fmt.Sprintf(m[a.Kind], a.Count, a.Seconds, a.Door)
	case KindHeldOpen, KindTailgating:
		s := fmt.Sprintf(m[a.Kind], a.Door)
		if a.Cause != "" {
			s += m["sep"] + a.Cause
		}
		return s
	}
	return fmt.Sprintf(m[KindUnknownFace], a.Door)
}
