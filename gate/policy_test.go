package gate

import (
	"strings"
	"testing"
	"time"
)

func mustWindow(t testing.TB, s string) Window {
	t.Helper()
	w, err := ParseWindow(s)
	if err != nil {
		t.Fatal(err)
	}
	return w
}

func mustDate(t testing.TB, s string) *Date {
	t.Helper()
	d, err := ParseDate(s)
	if err != nil {
		t.Fatal(err)
	}
	return &d
}

func TestParseWindowRoundTrip(t *testing.T) {
	cases := map[string]string{
		"Mon-Fri 08:00-20:00":    "Mon–Fri 08:00–20:00",
		"mon–fri 08:00–20:00":    "Mon–Fri 08:00–20:00",
		"Sat,Sun 10:00-14:00":    "Sat,Sun 10:00–14:00",
		"Daily 22:00-06:00":      "Daily 22:00–06:00",
		"Fri-Mon 20:00-24:00":    "Mon,Fri–Sun 20:00–24:00",
		"Mon,Wed,Thu 9:30-17:00": "Mon,Wed,Thu 09:30–17:00",
		"Tue-Sat 00:00-24:00":    "Tue–Sat 00:00–24:00",
		// Japanese weekday names and punctuation, as written at a Japanese site.
		"月-金 08:00-20:00":    "Mon–Fri 08:00–20:00",
		"土 10:00-14:00":      "Sat 10:00–14:00",
		"日 10:00-14:00":      "Sun 10:00–14:00",
		"土・日 10:00〜14:00":    "Sat,Sun 10:00–14:00",
		"月曜日〜金曜日 9:00～17:30": "Mon–Fri 09:00–17:30",
		"月曜、水曜 08:00-12:00":  "Mon,Wed 08:00–12:00",
		"日曜日 00:00-24:00":    "Sun 00:00–24:00",
		"毎日 22:00-06:00":     "Daily 22:00–06:00",
		"金-月　20:00-24:00":    "Mon,Fri–Sun 20:00–24:00",
		"月-金 08：00-20：00":    "Mon–Fri 08:00–20:00",
	}
	for in, want := range cases {
		w, err := ParseWindow(in)
		if err != nil {
			t.Errorf("%q: %v", in, err)
			continue
		}
		if got := w.String(); got != want {
			t.Errorf("%q → %q, want %q", in, got, want)
		}
	}
	for _, bad := range []string{"", "Mon", "Mon 08:00", "Xyz 08:00-09:00", "Mon 25:00-26:00", "Mon 08:00-08:00",
		"Mon 8-9", "Mon 08:60-09:00", "Mon 24:30-01:00", "Mon-Funday 08:00-09:00",
		"月", "月-金", "曜 08:00-09:00", "月日 08:00-09:00", "月曜曜 08:00-09:00", "祝 08:00-09:00"} {
		if _, err := ParseWindow(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

// site builds a small policy in Tokyo: an office with office hours, a server
// room with anti-passback entered by an in-door and left by an out-door, a
// night-shift rule crossing midnight, and a contractor rule with validity.
func site(t testing.TB) *Policy {
	tokyo, err := time.LoadLocation("Asia/Tokyo")
	if err != nil {
		t.Fatal(err)
	}
	office := Schedule{Name: "office hours", Windows: []Window{mustWindow(t, "Mon-Fri 08:00-20:00")}}
	night := Schedule{Name: "night shift", Windows: []Window{mustWindow(t, "Fri 22:00-06:00")}}
	always := Schedule{Name: "always", Windows: []Window{mustWindow(t, "Daily 00:00-24:00")}}
	return &Policy{
		Location: tokyo,
		Areas:    map[string]Area{"office": {Name: "office"}, "server room": {Name: "server room", AntiPassback: true}},
		Doors: map[string]Door{
			"front":  {ID: "front", Name: "Front door", Area: "office", Direction: DirBoth, OpenTime: 5 * time.Second, Level: LevelFace},
			"sr-in":  {ID: "sr-in", Name: "Server room (in)", Area: "server room", Direction: DirIn, OpenTime: 3 * time.Second, Level: LevelFaceLiveness},
			"sr-out": {ID: "sr-out", Name: "Server room (out)", Area: "server room", Direction: DirOut, OpenTime: 3 * time.Second, Level: LevelFace},
			"vault":  {ID: "vault", Name: "Vault", Area: "office", Direction: DirBoth, OpenTime: 3 * time.Second, Level: LevelFacePIN},
		},
		Groups: map[string]Group{
			"staff":       {Name: "staff", Rules: []Rule{{Name: "staff office", Doors: []string{"front"}, Schedule: office, ObserveHolidays: true}}},
			"night":       {Name: "night", Rules: []Rule{{Name: "night shift", Doors: []string{"front"}, Schedule: night, ObserveHolidays: true}}},
			"admins":      {Name: "admins", Rules: []Rule{{Name: "admins anywhere", Doors: []string{"front", "sr-in", "sr-out", "vault"}, Schedule: always}}},
			"contractors": {Name: "contractors", Rules: []Rule{{Name: "contract", Doors: []string{"front"}, Schedule: office, ValidFrom: mustDate(t, "2026-11-02"), ValidUntil: mustDate(t, "2026-11-30")}}},
		},
		Holidays: Holidays{{2026, 11, 23}: "勤労感謝の日 Labour Thanksgiving Day", {2026, 11, 28}: "company holiday"},
	}
}

func jst(t testing.TB, s string) time.Time {
	t.Helper()
	loc, _ := time.LoadLocation("Asia/Tokyo")
	v, err := time.ParseInLocation("2006-01-02 15:04", s, loc)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func TestDecide(t *testing.T) {
	p := site(t)
	if err := p.Validate(); err != nil {
		t.Fatal(err)
	}
	staff := &Person{ID: 1, Name: "Sato", Groups: []string{"staff"}}
	nightP := &Person{ID: 2, Name: "Suzuki", Groups: []string{"night"}}
	admin := &Person{ID: 3, Name: "Takahashi", Groups: []string{"admins"}}
	contractor := &Person{ID: 4, Name: "Tanaka", Groups: []string{"contractors"}}
	susp := jst(t, "2026-11-01 00:00")
	suspended := &Person{ID: 5, Name: "Ito", Groups: []string{"staff"}, SuspendedSince: &susp}
	exp := jst(t, "2026-11-20 18:00")
	expired := &Person{ID: 6, Name: "Watanabe", Groups: []string{"staff"}, ExpiresAt: &exp}
	individual := &Person{ID: 7, Name: "Yamamoto", Rules: []Rule{{Name: "weekend pass", Doors: []string{"front"},
		Schedule: Schedule{Name: "weekend", Windows: []Window{mustWindow(t, "Sat,Sun 10:00-14:00")}}}}}

	cases := []struct {
		name   string
		who    *Person
		door   string
		at     string
		live   bool
		pin    bool
		grant  bool
		code   ReasonCode
		reason string
	}{
		// Weekday windows (2026-11-24 is a Tuesday; the 23rd a holiday Monday).
		{"office hours start", staff, "front", "2026-11-24 08:00", false, false, true, ReasonGranted, `rule "staff office"`},
		{"before office hours", staff, "front", "2026-11-24 07:59", false, false, false, ReasonOutsideSchedule, "outside schedule 'office hours' (Mon–Fri 08:00–20:00)"},
		{"end is exclusive", staff, "front", "2026-11-24 20:00", false, false, false, ReasonOutsideSchedule, "Mon–Fri 08:00–20:00"},
		{"saturday", staff, "front", "2026-11-21 10:00", false, false, false, ReasonOutsideSchedule, "office hours"},
		// Holidays.
		{"holiday monday", staff, "front", "2026-11-23 10:00", false, false, false, ReasonOutsideSchedule, "holiday (勤労感謝の日"},
		{"admins ignore holidays", admin, "front", "2026-11-23 10:00", false, false, true, ReasonGranted, "admins anywhere"},
		// Midnight crossing: Fri 22:00–06:00.
		{"night shift friday 23:30", nightP, "front", "2026-11-20 23:30", false, false, true, ReasonGranted, "night shift"},
		{"night shift saturday 05:59", nightP, "front", "2026-11-21 05:59", false, false, true, ReasonGranted, "night shift"},
		{"night shift saturday 06:00", nightP, "front", "2026-11-21 06:00", false, false, false, ReasonOutsideSchedule, "Fri 22:00–06:00"},
		{"night shift friday 21:59", nightP, "front", "2026-11-20 21:59", false, false, false, ReasonOutsideSchedule, "night shift"},
		{"not a thursday night", nightP, "front", "2026-11-20 03:00", false, false, false, ReasonOutsideSchedule, "night shift"},
		{"friday holiday: no night shift into saturday", nightP, "front", "2026-11-28 23:00", false, false, false, ReasonOutsideSchedule, "night shift"},
		// Validity (inclusive, in site time).
		{"day before valid", contractor, "front", "2026-11-01 10:00", false, false, false, ReasonNotValidYet, "valid from 2026-11-02"},
		{"first valid day", contractor, "front", "2026-11-02 08:00", false, false, true, ReasonGranted, "contract"},
		{"last valid day", contractor, "front", "2026-11-30 19:59", false, false, true, ReasonGranted, "contract"},
		{"day after, JST midnight (still Nov 30 in UTC)", contractor, "front", "2026-12-01 09:00", false, false, false, ReasonNoLongerValid, "expired after 2026-11-30"},
		// Accounts.
		{"suspended", suspended, "front", "2026-11-24 10:00", false, false, false, ReasonSuspended, "suspended since 2026-11-01"},
		{"expired account", expired, "front", "2026-11-24 10:00", false, false, false, ReasonExpired, "account expired on 2026-11-20"},
		{"expiry instant not yet", expired, "front", "2026-11-20 17:59", false, false, true, ReasonGranted, ""},
		{"unknown face", nil, "front", "2026-11-24 10:00", false, false, false, ReasonUnknownFace, "face not recognised"},
		{"unknown door", staff, "roof", "2026-11-24 10:00", false, false, false, ReasonUnknownDoor, `"roof"`},
		{"no rule for door", staff, "sr-in", "2026-11-24 10:00", true, false, false, ReasonNoRule, "no rule gives Sato access to Server room (in)"},
		{"individual rule", individual, "front", "2026-11-22 11:00", false, false, true, ReasonGranted, "weekend pass"},
		// Security levels.
		{"liveness required", admin, "sr-in", "2026-11-24 10:00", false, false, false, ReasonLiveness, "requires a live face"},
		{"liveness passed", admin, "sr-in", "2026-11-24 10:00", true, false, true, ReasonGranted, ""},
		{"pin required", admin, "vault", "2026-11-24 10:00", true, false, false, ReasonPIN, "face and PIN"},
		{"pin given", admin, "vault", "2026-11-24 10:00", false, true, true, ReasonGranted, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			d := p.Decide(Request{Person: c.who, Door: c.door, Time: jst(t, c.at), Live: c.live, PINOK: c.pin}, NewPresence())
			if d.Grant != c.grant || d.Code != c.code || !strings.Contains(d.Reason, c.reason) {
				t.Fatalf("got grant=%v %s %q, want grant=%v %s containing %q", d.Grant, d.Code, d.Reason, c.grant, c.code, c.reason)
			}
		})
	}
}

func TestAntiPassback(t *testing.T) {
	p := site(t)
	pr := NewPresence()
	admin := &Person{ID: 3, Name: "Takahashi", Groups: []string{"admins"}}
	in := func(at string) Decision {
		d := p.Decide(Request{Person: admin, Door: "sr-in", Time: jst(t, at), Live: true}, pr)
		if d.Grant {
			pr.Record(admin.ID, d.Door, d.Time)
		}
		return d
	}
	out := func(at string) (Decision, bool) {
		d := p.Decide(Request{Person: admin, Door: "sr-out", Time: jst(t, at)}, pr)
		return d, d.Grant && pr.Record(admin.ID, d.Door, d.Time)
	}
	if d := in("2026-11-24 09:00"); !d.Grant {
		t.Fatalf("first entry denied: %s", d.Reason)
	}
	if d := in("2026-11-24 09:05"); d.Grant || d.Code != ReasonAntiPassback || !strings.Contains(d.Reason, "already inside server room since 2026-11-24 09:00") {
		t.Fatalf("re-entry: %+v", d)
	}
	// The office (no anti-passback) is unaffected.
	if d := p.Decide(Request{Person: admin, Door: "front", Time: jst(t, "2026-11-24 09:06")}, pr); !d.Grant {
		t.Fatalf("front door: %s", d.Reason)
	}
	if d, noEntry := out("2026-11-24 10:00"); !d.Grant || noEntry {
		t.Fatalf("exit: %+v noEntry=%v", d, noEntry)
	}
	if d := in("2026-11-24 10:05"); !d.Grant {
		t.Fatalf("entry after exit denied: %s", d.Reason)
	}
	out("2026-11-24 11:00")
	// Exit is never refused (free egress), but an exit with no entry is flagged.
	if d, noEntry := out("2026-11-24 11:30"); !d.Grant || !noEntry {
		t.Fatalf("second exit: %+v noEntry=%v", d, noEntry)
	}
}

// Windows are wall-clock: DST changes must not shift or break them.
func TestDSTDoesNotBreakWindows(t *testing.T) {
	berlin, err := time.LoadLocation("Europe/Berlin")
	if err != nil {
		t.Fatal(err)
	}
	p := site(t)
	p.Location = berlin
	p.Holidays = nil
	p.Groups["early"] = Group{Name: "early", Rules: []Rule{{Name: "early", Doors: []string{"front"},
		Schedule: Schedule{Name: "early", Windows: []Window{mustWindow(t, "Sun 01:00-04:00"), mustWindow(t, "Sat 23:00-01:30")}}}}}
	who := &Person{ID: 9, Name: "Schmidt", Groups: []string{"early", "staff"}}
	at := func(utc string) time.Time {
		v, err := time.Parse("2006-01-02 15:04", utc)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	cases := []struct {
		name  string
		utc   string // instants given in UTC to hit both sides of the change
		grant bool
	}{
		// 2026-03-29: 02:00 CET → 03:00 CEST.
		{"spring: 01:30 CET", "2026-03-29 00:30", true},
		{"spring: 03:30 CEST (wall clock), 1h30 after 02:00 UTC", "2026-03-29 01:30", true},
		{"spring: 04:00 CEST is the end", "2026-03-29 02:00", false},
		// 2026-10-25: 03:00 CEST → 02:00 CET; 02:30 happens twice.
		{"autumn: first 02:30 (CEST)", "2026-10-25 00:30", true},
		{"autumn: second 02:30 (CET)", "2026-10-25 01:30", true},
		{"autumn: 04:00 CET", "2026-10-25 03:00", false},
		// Office hours on the Monday after the change start at 08:00 local.
		{"monday after: 07:59 CET", "2026-10-26 06:59", false},
		{"monday after: 08:00 CET", "2026-10-26 07:00", true},
		{"monday before: 08:00 CEST", "2026-10-19 06:00", true},
		{"monday before: 07:00 CEST (=08:00 CET)", "2026-10-19 05:00", false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			d := p.Decide(Request{Person: who, Door: "front", Time: at(c.utc)}, nil)
			if d.Grant != c.grant {
				t.Fatalf("grant=%v (%s) at %s local, want %v", d.Grant, d.Reason, at(c.utc).In(berlin).Format("Mon 15:04 MST"), c.grant)
			}
		})
	}
}

func TestPolicyValidate(t *testing.T) {
	p := site(t)
	p.Doors["bad"] = Door{ID: "bad", Name: "Bad", Area: "attic", Direction: "sideways", OpenTime: time.Hour, Level: "retina"}
	p.Groups["x"] = Group{Name: "x", Rules: []Rule{{Name: "r", Doors: []string{"nowhere"}, Schedule: Schedule{Name: "s", Windows: []Window{mustWindow(t, "Mon 08:00-09:00")}}}}}
	err := p.Validate()
	for _, want := range []string{`unknown area "attic"`, `direction "sideways"`, `security level "retina"`, "open time 1h0m0s", `unknown door "nowhere"`} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("Validate: %v, want it to mention %s", err, want)
		}
	}
}
