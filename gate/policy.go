package gate

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"
)

// Direction says which way a door is passed.
type Direction string

const (
	DirIn   Direction = "in"
	DirOut  Direction = "out"
	DirBoth Direction = "both"
)

// SecurityLevel is what a door requires besides a recognised face.
type SecurityLevel string

const (
	LevelFace         SecurityLevel = "face"
	LevelFaceLiveness SecurityLevel = "face+liveness"
	LevelFacePIN      SecurityLevel = "face+pin"
)

// Area is a space doors lead into, e.g. "server room".
type Area struct {
	Name         string
	AntiPassback bool // no re-entry until an exit is recorded
}

// Door is one gate with its relay settings.
type Door struct {
	ID            string
	Name          string
	Area          string
	Direction     Direction
	OpenTime      time.Duration // relay pulse length
	HeldOpenAfter time.Duration // door-contact alarm threshold; 0 = no alarm
	Level         SecurityLevel
	Passage       *Schedule // scheduled passage mode: unlocked in these windows
}

// Rule gives access to doors within a schedule and validity period.
type Rule struct {
	Name       string
	Doors      []string // door IDs
	Schedule   Schedule
	ValidFrom  *Date // inclusive, site time
	ValidUntil *Date // inclusive, site time
	// ObserveHolidays: the rule does not apply on the site's holidays.
	ObserveHolidays bool
}

// Group is a set of people sharing rules.
type Group struct {
	Name  string
	Rules []Rule
}

// Person is who a face was matched to, as the policy sees them.
type Person struct {
	ID             int64
	Name           string
	Groups         []string
	Rules          []Rule // individual rules
	SuspendedSince *time.Time
	ExpiresAt      *time.Time
}

// Policy is a site's access configuration.
type Policy struct {
	Location *time.Location // the site's time zone; nil = UTC
	Areas    map[string]Area
	Doors    map[string]Door
	Groups   map[string]Group
	Holidays Holidays
}

// Validate checks references and values.
func (p *Policy) Validate() error {
	var errs []error
	for id, d := range p.Doors {
		if d.ID != id {
			errs = append(errs, fmt.Errorf("door %q: ID %q differs from its key", id, d.ID))
		}
		if _, ok := p.Areas[d.Area]; !ok {
			errs = append(errs, fmt.Errorf("door %q: unknown area %q", id, d.Area))
		}
		switch d.Direction {
		case DirIn, DirOut, DirBoth:
		default:
			errs = append(errs, fmt.Errorf("door %q: direction %q (want in, out or both)", id, d.Direction))
		}
		switch d.Level {
		case LevelFace, LevelFaceLiveness, LevelFacePIN:
		default:
			errs = append(errs, fmt.Errorf("door %q: security level %q (want face, face+liveness or face+pin)", id, d.Level))
		}
		if d.OpenTime <= 0 || d.OpenTime > MaxPulse {
			errs = append(errs, fmt.Errorf("door %q: open time %s out of range (0, %s]", id, d.OpenTime, MaxPulse))
		}
		if d.Passage != nil {
			if err := d.Passage.Validate(); err != nil {
				errs = append(errs, fmt.Errorf("door %q passage: %w", id, err))
			}
		}
	}
	for name, g := range p.Groups {
		for _, r := range g.Rules {
			if err := p.validateRule(r); err != nil {
				errs = append(errs, fmt.Errorf("group %q: %w", name, err))
			}
		}
	}
	return errors.Join(errs...)
}

func (p *Policy) validateRule(r Rule) error {
	if r.Name == "" {
		return errors.New("rule needs a name")
	}
	for _, d := range r.Doors {
		if _, ok := p.Doors[d]; !ok {
			return fmt.Errorf("rule %q: unknown door %q", r.Name, d)
		}
	}
	if r.ValidFrom != nil && r.ValidUntil != nil && r.ValidUntil.Before(*r.ValidFrom) {
		return fmt.Errorf("rule %q: valid until %s is before valid from %s", r.Name, r.ValidUntil, r.ValidFrom)
	}
	return r.Schedule.Validate()
}

// ReasonCode is a stable machine-readable reason (for storage and i18n).
type ReasonCode string

const (
	ReasonGranted         ReasonCode = "granted"
	ReasonUnknownFace     ReasonCode = "unknown_face"
	ReasonUnknownDoor     ReasonCode = "unknown_door"
	ReasonSuspended       ReasonCode = "suspended"
	ReasonExpired         ReasonCode = "expired"
	ReasonNoRule          ReasonCode = "no_rule"
	ReasonOutsideSchedule ReasonCode = "outside_schedule"
	ReasonNotValidYet     ReasonCode = "not_valid_yet"
	ReasonNoLongerValid   ReasonCode = "no_longer_valid"
	ReasonLiveness        ReasonCode = "liveness_required"
	ReasonPIN             ReasonCode = "pin_required"
	ReasonAntiPassback    ReasonCode = "anti_passback"
)

// Request is one attempt to pass a door.
type Request struct {
	Person *Person // nil: the face matched nobody
	Door   string
	Time   time.Time
	Live   bool // liveness check passed
	PINOK  bool // PIN entered and correct
	// PINWhy says what went wrong with the PIN, for the denial's reason
	// ("no PIN entered within 8 s", "wrong PIN (2 tries left)").
	PINWhy string
}

// Decision is the outcome, with a reason a human understands.
type Decision struct {
	Grant  bool
	Code   ReasonCode
	Reason string
	Rule   string // the rule that granted, if any
	Door   Door
	Time   time.Time
}

func deny(code ReasonCode, format string, args ...any) Decision {
	return Decision{Code: code, Reason: fmt.Sprintf(format, args...)}
}

func (p *Policy) loc() *time.Location {
	if p.Location == nil {
		return time.UTC
	}
	return p.Location
}

// Decide says whether req.Person may pass req.Door at req.Time. presence
// may be nil when no area uses anti-passback.
func (p *Policy) Decide(req Request, presence *Presence) Decision {
	d := p.decide(req, presence)
	d.Time = req.Time
	return d
}

func (p *Policy) decide(req Request, presence *Presence) Decision {
	door, ok := p.Doors[req.Door]
	if !ok {
		return deny(ReasonUnknownDoor, "unknown door %q", req.Door)
	}
	withDoor := func(d Decision) Decision { d.Door = door; return d }
	if req.Person == nil {
		return withDoor(deny(ReasonUnknownFace, "face not recognised"))
	}
	who := req.Person
	t := req.Time.In(p.loc())
	if s := who.SuspendedSince; s != nil && !t.Before(*s) {
		return withDoor(deny(ReasonSuspended, "suspended since %s", s.In(p.loc()).Format("2006-01-02")))
	}
	if e := who.ExpiresAt; e != nil && !t.Before(*e) {
		return withDoor(deny(ReasonExpired, "account expired on %s", e.In(p.loc()).Format("2006-01-02")))
	}

	var reasons []string
	code := ReasonNoRule
	granted := ""
	for _, r := range p.rulesFor(who) {
		if !slices.Contains(r.Doors, door.ID) {
			continue
		}
		c, why := p.ruleAllows(r, t)
		if c == ReasonGranted {
			granted = r.Name
			break
		}
		if code == ReasonNoRule {
			code = c
		}
		reasons = append(reasons, why)
	}
	if granted == "" {
		if len(reasons) == 0 {
			return withDoor(deny(ReasonNoRule, "no rule gives %s access to %s", who.Name, door.Name))
		}
		return withDoor(deny(code, "%s", strings.Join(reasons, "; ")))
	}

	switch door.Level {
	case LevelFaceLiveness:
		if !req.Live {
			return withDoor(deny(ReasonLiveness, "%s requires a live face; liveness check not passed", door.Name))
		}
	case LevelFacePIN:
		if !req.PINOK {
			why := req.PINWhy
			if why == "" {
				why = "no correct PIN entered"
			}
			return withDoor(deny(ReasonPIN, "%s requires face and PIN: face matched, %s", door.Name, why))
		}
	}

	if a := p.Areas[door.Area]; a.AntiPassback && door.Direction == DirIn && presence != nil {
		if since, inside := presence.Inside(who.ID, a.Name); inside {
			return withDoor(deny(ReasonAntiPassback, "anti-passback: already inside %s since %s (no exit recorded)",
				a.Name, since.In(p.loc()).Format("2006-01-02 15:04")))
		}
	}
	return Decision{Grant: true, Code: ReasonGranted, Rule: granted, Door: door,
		Reason: fmt.Sprintf("granted by rule %q", granted)}
}

func (p *Policy) rulesFor(who *Person) []Rule {
	rules := append([]Rule(nil), who.Rules...)
	for _, g := range who.Groups {
		rules = append(rules, p.Groups[g].Rules...)
	}
	return rules
}

// ruleAllows checks one rule at local time t.
func (p *Policy) ruleAllows(r Rule, t time.Time) (ReasonCode, string) {
	today := DateOf(t)
	if r.ValidFrom != nil && today.Before(*r.ValidFrom) {
		return ReasonNotValidYet, fmt.Sprintf("rule %q valid from %s", r.Name, r.ValidFrom)
	}
	if r.ValidUntil != nil && r.ValidUntil.Before(today) {
		return ReasonNoLongerValid, fmt.Sprintf("rule %q expired after %s", r.Name, r.ValidUntil)
	}
	skip := func(d Date) bool {
		if !r.ObserveHolidays {
			return false
		}
		_, hol := p.Holidays[d]
		return hol
	}
	if _, ok := r.Schedule.activeWindow(t, skip); ok {
		return ReasonGranted, ""
	}
	if name, hol := p.Holidays[today]; hol && r.ObserveHolidays {
		return ReasonOutsideSchedule, fmt.Sprintf("holiday (%s): schedule %s does not apply", name, r.Schedule)
	}
	return ReasonOutsideSchedule, fmt.Sprintf("outside schedule %s", r.Schedule)
}

// Presence tracks who is inside which anti-passback area. It is rebuilt
// from the event log on start (storage) and updated on every grant.
type Presence struct {
	mu     sync.Mutex
	inside map[presenceKey]time.Time
}

type presenceKey struct {
	person int64
	area   string
}

// NewPresence returns an empty tracker.
func NewPresence() *Presence { return &Presence{inside: map[presenceKey]time.Time{}} }

// Inside reports whether person is recorded inside area, and since when.
func (p *Presence) Inside(person int64, area string) (time.Time, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	t, ok := p.inside[presenceKey{person, area}]
	return t, ok
}

// Record applies a granted passage. It returns true when an exit had no
// recorded entry (to be flagged for investigators).
func (p *Presence) Record(person int64, door Door, t time.Time) (exitWithoutEntry bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	k := presenceKey{person, door.Area}
	switch door.Direction {
	case DirIn:
		p.inside[k] = t
	case DirOut:
		_, was := p.inside[k]
		delete(p.inside, k)
		return !was
	}
	return false
}
