package alert

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/facegate/facegate/gate"
	"github.com/facegate/facegate/storage"
)

// digestLines bounds the people and alerts listed per door; the counts
// stay exact.
const digestLines = 50

// dayNumber is a date as the digest cursor stores it: YYYYMMDD.
func dayNumber(d gate.Date) int64 { return int64(d.Year*10000 + int(d.Month)*100 + d.Day) }

// runDigest sends yesterday's digest once the configured local time has
// passed today, unless the digest cursor says today's was sent: once a
// day, across restarts (an appliance down at that time sends it when it is
// back, the same day).
func (s *Service) runDigest(ctx context.Context) {
	cfg := s.Config()
	if cfg == nil || cfg.Digest == nil || cfg.SMTP == nil || (cfg.Digest.Door != "" && cfg.Digest.Door != s.opt.Door) {
		return
	}
	now := s.opt.Now().In(s.opt.Location)
	today := gate.DateOf(now)
	if gate.Clock(now.Hour()*60+now.Minute()) < cfg.Digest.at {
		return
	}
	sent, _, err := s.db.Cursor(DigestCursor)
	if err != nil || sent >= dayNumber(today) {
		return
	}
	dayStart := time.Date(today.Year, today.Month, today.Day-1, 0, 0, 0, 0, s.opt.Location)
	dayEnd := time.Date(today.Year, today.Month, today.Day, 0, 0, 0, 0, s.opt.Location)
	evs, err := s.db.Events(storage.EventFilter{From: dayStart, To: dayEnd})
	if err != nil {
		s.opt.Log.Error("alerts: digest events not read", "err", err)
		return
	}
	day := gate.DateOf(dayStart)
	if err := s.retry(ctx, "digest "+day.String(), func(cfg *Config) error {
		if cfg.Digest == nil {
			return nil // removed meanwhile
		}
		return cfg.SMTP.Send(ctx, cfg.DigestMessage(day, s.opt.Location, evs, now))
	}); err != nil {
		return
	}
	if err := s.db.SaveCursor(DigestCursor, dayNumber(today)); err != nil {
		s.opt.Log.Error("alerts: digest sent but not noted; it may be sent again", "err", err)
		return
	}
	s.opt.Log.Info("alerts: digest sent", "day", day.String(), "events", len(evs))
}

// doorDay is one door's day in the digest.
type doorDay struct {
	entries, denials, unknown int
	people                    []personDay
	alerts                    []string
}

type personDay struct {
	id    int64
	name  string
	first time.Time
	n     int
}

// DigestMessage is the digest of day (events are that day's, in time
// order) in the configured language: per door the entries (each person's
// first entry and count), the denials and unknown faces, and the alerts.
func (c *Config) DigestMessage(day gate.Date, loc *time.Location, evs []storage.Event, now time.Time) Message {
	m := messages[c.Language]
	doors := map[string]*doorDay{}
	for _, e := range evs {
		if e.Door == "" {
			continue
		}
		d := doors[e.Door]
		if d == nil {
			d = &doorDay{}
			doors[e.Door] = d
		}
		d.add(c.Language, loc, e)
	}
	var b strings.Builder
	fmt.Fprintf(&b, m["digestTitle"]+"\n", day, loc)
	if len(doors) == 0 {
		b.WriteString("\n" + m["digestNothing"] + "\n")
	}
	names := make([]string, 0, len(doors))
	for n := range doors {
		names = append(names, n)
	}
	slices.Sort(names)
	for _, n := range names {
		doors[n].write(&b, m, n, loc)
	}
	return Message{To: c.Digest.To, Subject: fmt.Sprintf(m["digestSubject"], day), Body: b.String(), Date: now,
		MessageID: fmt.Sprintf("<digest.%s@facegate>", day)}
}

func (d *doorDay) add(lang string, loc *time.Location, e storage.Event) {
	switch e.Kind {
	case storage.KindGranted:
		d.entries++
		i := slices.IndexFunc(d.people, func(p personDay) bool { return p.id == e.PersonID && p.name == e.PersonName })
		if i < 0 {
			d.people = append(d.people, personDay{id: e.PersonID, name: e.PersonName, first: e.At()})
			i = len(d.people) - 1
		}
		d.people[i].n++
		if e.At().Before(d.people[i].first) {
			d.people[i].first = e.At()
		}
	case storage.KindDenied:
		d.denials++
		if e.Code == string(gate.ReasonUnknownFace) {
			d.unknown++
		}
	case storage.KindAlert:
		var a Alert
		text := e.Reason
		if json.Unmarshal([]byte(e.Detail), &a) == nil && a.Kind != "" {
			text = a.Render(lang, loc)
		}
		d.alerts = append(d.alerts, e.At().In(loc).Format("15:04")+" "+e.Rule+" — "+text)
	}
}

func (d *doorDay) write(b *strings.Builder, m map[string]string, door string, loc *time.Location) {
	fmt.Fprintf(b, "\n"+m["digestDoor"]+"\n", door)
	fmt.Fprintf(b, "  "+m["digestEntries"]+"\n", d.entries, len(d.people))
	slices.SortStableFunc(d.people, func(x, y personDay) int { return x.first.Compare(y.first) })
	for i, p := range d.people {
		if i == digestLines {
			fmt.Fprintf(b, "    "+m["digestMore"]+"\n", len(d.people)-i)
			break
		}
		name := p.name
		if name == "" {
			name = fmt.Sprintf("#%d", p.id) // redacted by retention
		}
		fmt.Fprintf(b, "    "+m["digestTimes"]+"\n", name, p.first.In(loc).Format("15:04"), p.n)
	}
	fmt.Fprintf(b, "  "+m["digestDenials"]+"\n", d.denials, d.unknown)
	fmt.Fprintf(b, "  "+m["digestAlerts"]+"\n", len(d.alerts))
	for i, a := range d.alerts {
		if i == digestLines {
			fmt.Fprintf(b, "    "+m["digestMore"]+"\n", len(d.alerts)-i)
			break
		}
		b.WriteString("    " + a + "\n")
	}
}
