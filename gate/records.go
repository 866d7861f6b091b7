package gate

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/facegate/facegate/storage"
)

// FromRecords builds a policy and its people from stored records. Every
// schedule window and date is parsed; any error names the record.
func FromRecords(r storage.PolicyRecords, loc *time.Location) (*Policy, map[int64]*Person, error) {
	p := &Policy{Location: loc, Areas: map[string]Area{}, Doors: map[string]Door{}, Groups: map[string]Group{}, Holidays: Holidays{}}
	var errs []error
	for _, a := range r.Areas {
		p.Areas[a.Name] = Area{Name: a.Name, AntiPassback: a.AntiPassback}
	}
	for _, d := range r.Doors {
		door := Door{ID: d.ID, Name: d.Name, Area: d.Area, Direction: Direction(d.Direction),
			OpenTime: time.Duration(d.OpenMillis) * time.Millisecond, HeldOpenAfter: time.Duration(d.HeldOpenSeconds) * time.Second,
			Level: SecurityLevel(d.Level)}
		if strings.TrimSpace(d.PassageWindows) != "" {
			ws, err := parseWindows(d.PassageWindows)
			if err != nil {
				errs = append(errs, fmt.Errorf("door %q passage: %w", d.ID, err))
			}
			door.Passage = &Schedule{Name: "passage " + d.ID, Windows: ws}
		}
		p.Doors[d.ID] = door
	}
	for _, g := range r.Groups {
		p.Groups[g.Name] = Group{Name: g.Name}
	}
	for _, h := range r.Holidays {
		d, err := ParseDate(h.Date)
		if err != nil {
			errs = append(errs, fmt.Errorf("holiday: %w", err))
			continue
		}
		p.Holidays[d] = h.Name
	}
	people := map[int64]*Person{}
	for _, pe := range r.People {
		people[pe.ID] = &Person{ID: pe.ID, Name: pe.Name, SuspendedSince: pe.SuspendedSince, ExpiresAt: pe.ExpiresAt}
	}
	for _, pg := range r.PersonGroups {
		if who, ok := people[pg.PersonID]; ok {
			who.Groups = append(who.Groups, pg.GroupName)
		}
	}
	for _, ar := range r.Rules {
		rule, err := ruleFromRecord(ar)
		if err != nil {
			errs = append(errs, fmt.Errorf("rule %q: %w", ar.Name, err))
			continue
		}
		switch {
		case ar.GroupName != "":
			g := p.Groups[ar.GroupName]
			g.Name = ar.GroupName
			g.Rules = append(g.Rules, rule)
			p.Groups[ar.GroupName] = g
		case ar.PersonID != 0:
			if who, ok := people[ar.PersonID]; ok {
				who.Rules = append(who.Rules, rule)
			}
		default:
			errs = append(errs, fmt.Errorf("rule %q belongs to neither a group nor a person", ar.Name))
		}
	}
	if err := p.Validate(); err != nil {
		errs = append(errs, err)
	}
	return p, people, errors.Join(errs...)
}

func parseWindows(s string) ([]Window, error) {
	var ws []Window
	for _, part := range strings.Split(s, ";") {
		if strings.TrimSpace(part) == "" {
			continue
		}
		w, err := ParseWindow(part)
		if err != nil {
			return nil, err
		}
		ws = append(ws, w)
	}
	return ws, nil
}

func ruleFromRecord(ar storage.AccessRule) (Rule, error) {
	ws, err := parseWindows(ar.Windows)
	if err != nil {
		return Rule{}, err
	}
	r := Rule{Name: ar.Name, Schedule: Schedule{Name: ar.ScheduleName, Windows: ws}, ObserveHolidays: ar.ObserveHolidays}
	for _, d := range strings.Split(ar.Doors, ",") {
		if d = strings.TrimSpace(d); d != "" {
			r.Doors = append(r.Doors, d)
		}
	}
	if ar.ValidFrom != "" {
		d, err := ParseDate(ar.ValidFrom)
		if err != nil {
			return r, err
		}
		r.ValidFrom = &d
	}
	if ar.ValidUntil != "" {
		d, err := ParseDate(ar.ValidUntil)
		if err != nil {
			return r, err
		}
		r.ValidUntil = &d
	}
	return r, nil
}
