package alert

import (
	"strings"
	"testing"
	"time"

	"github.com/facegate/facegate/storage"
)

var tokyo = mustLoc("Asia/Tokyo")

func mustLoc(name string) *time.Location {
	l, err := time.LoadLocation(name)
	if err != nil {
		panic(err)
	}
	return l
}

// at is a Tokyo wall-clock time on 2026-11-<day> (the 23rd is a Monday).
func at(day, hour, minute int) time.Time {
	return time.Date(2026, 11, day, hour, minute, 0, 0, tokyo)
}

func testConfig(t *testing.T, body string) *Config {
	t.Helper()
	c, err := Parse([]byte(body))
	if err != nil {
		t.Fatal(err)
	}
	return c
}

const rulesJSON = `{"rules": [
  {"name": "night", "kind": "outside_usual_hours", "doors": ["server-room"]},
  {"name": "stranger", "kind": "unknown_face", "doors": ["front"]},
  {"name": "held", "kind": "door_held_open"},
  {"name": "tail", "kind": "tailgating"},
  {"name": "guessing", "kind": "denials", "count": 3, "seconds": 60}
]}`

func grant(door string, t time.Time) storage.Event {
	return storage.Event{Seq: 1000, Kind: storage.KindGranted, Door: door, PersonID: 7, PersonName: "Aiko Tanaka",
		Granted: true, Code: "granted", AtMicro: t.UnixMicro()}
}

func denial(seq int64, door, code string, t time.Time) storage.Event {
	return storage.Event{Seq: seq, Kind: storage.KindDenied, Door: door, Code: code, AtMicro: t.UnixMicro()}
}

// officeGrants are 12 entries on six weekdays between 08:40 and 18:10.
func officeGrants() []time.Time {
	var gs []time.Time
	for i, d := range []int{9, 10, 11, 12, 13, 16} { // Mon 9 … Fri 13, Mon 16
		gs = append(gs, at(d, 8, 40+i), at(d, 17, 50+i*4))
	}
	return gs
}

func TestEvaluate(t *testing.T) {
	c := testConfig(t, rulesJSON)
	recent3 := []storage.Event{denial(10, "front", "no_rule", at(23, 9, 0)), denial(11, "front", "pin_required", at(23, 9, 0).Add(20*time.Second))}
	cases := []struct {
		name  string
		e     storage.Event
		h     History
		rules []string // rules expected to fire, in order
		want  string   // in the English reason of the first
	}{
		{"site hours: 06:30 Monday", grant("server-room", at(23, 6, 30)), History{}, []string{"night"}, "the site's hours: 0 entries"},
		{"site hours: 09:00 Monday", grant("server-room", at(23, 9, 0)), History{}, nil, ""},
		{"site hours: 19:59 Monday", grant("server-room", at(23, 19, 59)), History{}, nil, ""},
		{"site hours: 20:00 Monday", grant("server-room", at(23, 20, 0)), History{}, []string{"night"}, "Mon–Fri 07:00–20:00"},
		{"site hours: Saturday 10:00", grant("server-room", at(28, 10, 0)), History{}, []string{"night"}, "(Sat)"},
		{"other door: no rule", grant("front", at(23, 3, 0)), History{}, nil, ""},
		{"learned: 03:12", grant("server-room", at(23, 3, 12)), History{Grants: officeGrants()}, []string{"night"}, "learned from 12 entries"},
		{"learned: 08:00 is within the slack", grant("server-room", at(23, 8, 0)), History{Grants: officeGrants()}, nil, ""},
		{"learned: 19:30 past the span", grant("server-room", at(23, 19, 30)), History{Grants: officeGrants()}, []string{"night"}, "Mon–Fri 07:41–19:07"},
		{"learned: never on Saturdays", grant("server-room", at(28, 10, 0)), History{Grants: officeGrants()}, []string{"night"}, "at 10:00 (Sat)"},
		{"too few to learn: site hours", grant("server-room", at(23, 7, 30)), History{Grants: officeGrants()[:9]}, nil, ""},
		{"unknown face at front", denial(20, "front", "unknown_face", at(23, 12, 0)), History{}, []string{"stranger"}, "unknown face denied at front"},
		{"unknown face elsewhere", denial(20, "garage", "unknown_face", at(23, 12, 0)), History{}, nil, ""},
		{"held open", storage.Event{Seq: 5, Kind: storage.KindDoorHeldOpen, Door: "garage", Reason: "open for 45s", AtMicro: at(23, 12, 0).UnixMicro()},
			History{}, []string{"held"}, "door garage held open: open for 45s"},
		{"tailgating", storage.Event{Seq: 5, Kind: storage.KindTailgating, Door: "front", AtMicro: at(23, 12, 0).UnixMicro()},
			History{}, []string{"tail"}, "tailgating at front"},
		{"third denial in 60 s", denial(12, "front", "no_rule", at(23, 9, 0).Add(50*time.Second)), History{Recent: recent3}, []string{"guessing"}, "3 denials within 60 s at front"},
		{"third denial, first out of the window", denial(12, "front", "no_rule", at(23, 9, 1)), History{Recent: recent3}, nil, ""},
		{"denials at another door do not count", denial(12, "garage", "no_rule", at(23, 9, 0).Add(50*time.Second)), History{Recent: recent3}, nil, ""},
		{"already fired in the window", denial(13, "front", "no_rule", at(23, 9, 0).Add(55*time.Second)),
			History{Recent: append(recent3, denial(12, "front", "no_rule", at(23, 9, 0).Add(50*time.Second)),
				storage.Event{Seq: 14, Kind: storage.KindAlert, Door: "front", Rule: "guessing", AtMicro: at(23, 9, 0).Add(50 * time.Second).UnixMicro()})}, nil, ""},
		{"unknown face: two rules", denial(12, "front", "unknown_face", at(23, 9, 0).Add(50*time.Second)), History{Recent: recent3}, []string{"stranger", "guessing"}, "unknown face"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := c.Evaluate(tc.e, tc.h, tokyo)
			var names []string
			for _, a := range got {
				names = append(names, a.Rule)
				if a.TriggerSeq != tc.e.Seq || a.Door != tc.e.Door {
					t.Errorf("alert %+v does not name its trigger", a)
				}
			}
			if strings.Join(names, ",") != strings.Join(tc.rules, ",") {
				t.Fatalf("fired %v, want %v (%+v)", names, tc.rules, got)
			}
			if len(got) > 0 && !strings.Contains(got[0].Reason, tc.want) {
				t.Errorf("reason %q does not say %q", got[0].Reason, tc.want)
			}
		})
	}
}

// TestSiteZone: the same instant is 03:00 in Tokyo and 18:00 in UTC; the
// site's zone decides.
func TestSiteZone(t *testing.T) {
	c := testConfig(t, rulesJSON)
	e := grant("server-room", at(24, 3, 0)) // Tuesday 03:00 Tokyo = Monday 18:00 UTC
	if got := c.Evaluate(e, History{}, tokyo); len(got) != 1 || !strings.Contains(got[0].Reason, "at 03:00 (Tue)") {
		t.Errorf("Tokyo: %+v, want one alert at 03:00 (Tue)", got)
	}
	if got := c.Evaluate(e, History{}, time.UTC); len(got) != 0 {
		t.Errorf("UTC: %+v, want none (18:00 on a Monday is within site hours)", got)
	}
}

// TestNightWindow: a site window crossing midnight belongs to its first day.
func TestNightWindow(t *testing.T) {
	c := testConfig(t, `{"site_hours": ["Fri 22:00-06:00"], "rules": [{"name": "n", "kind": "outside_usual_hours"}]}`)
	for _, tc := range []struct {
		t    time.Time
		fire bool
	}{{at(27, 23, 0), false}, {at(28, 5, 59), false}, {at(28, 6, 0), true}, {at(28, 23, 0), true}, {at(26, 23, 0), true}} {
		if got := len(c.Evaluate(grant("x", tc.t), History{}, tokyo)) == 1; got != tc.fire {
			t.Errorf("%s: fired %v, want %v", tc.t.Format("Mon 15:04"), got, tc.fire)
		}
	}
}

func TestRenderJapanese(t *testing.T) {
	c := testConfig(t, rulesJSON)
	got := c.Evaluate(grant("server-room", at(23, 3, 12)), History{Grants: officeGrants()}, tokyo)
	if len(got) != 1 {
		t.Fatalf("got %+v", got)
	}
	ja := got[0].Render("ja", tokyo)
	for _, want := range []string{"Aiko Tanakaがserver-roomに03:12(月)に入室しました", "過去30日間の入室12回から学習", "月–金 07:41–19:07"} {
		if !strings.Contains(ja, want) {
			t.Errorf("%q does not contain %q", ja, want)
		}
	}
	d := Alert{Kind: KindDenials, Count: 3, Seconds: 60, Door: "front"}
	if s := d.Render("ja", tokyo); s != "frontで60秒以内に3回拒否されました" {
		t.Errorf("denials in ja: %q", s)
	}
}

func TestParseErrors(t *testing.T) {
	cases := []struct{ body, want string }{
		{`{"language": "fr", "rules": []}`, `language "fr": use en or ja`},
		{`{"rules": [{"kind": "tailgating"}]}`, "rules[0]: needs a name"},
		{`{"rules": [{"name": "a", "kind": "tailgating"}, {"name": "a", "kind": "tailgating"}]}`, "rules[1] (a): two rules have this name"},
		{`{"rules": [{"name": "a", "kind": "fire"}]}`, `kind "fire": use one of outside_usual_hours, unknown_face`},
		{`{"rules": [{"name": "a", "kind": "denials"}]}`, `needs count (2–1000) and seconds`},
		{`{"rules": [{"name": "a", "kind": "tailgating", "count": 3}]}`, "count and seconds belong to denials rules only"},
		{`{"site_hours": ["weekdays 9-5"], "rules": []}`, "site_hours: window"},
		{`{"to": ["Boss <b@example.org>"], "rules": []}`, `"Boss <b@example.org>" is not a plain e-mail address`},
		{`{"smtp": {"server": "mail.example.org", "from": "f@example.org"}, "to": ["a@example.org"], "rules": []}`, "smtp.server \"mail.example.org\": want host:port"},
		{`{"smtp": {"server": "m:25", "from": "f@example.org", "tls": "none"}, "rules": []}`, "plain SMTP is not supported"},
		{`{"smtp": {"server": "m:587", "from": "f@example.org", "password": "x"}, "rules": []}`, "smtp.password is not allowed"},
		{`{"smtp": {"server": "m:587", "from": "f@example.org"}, "rules": [{"name": "a", "kind": "tailgating"}]}`, "rules[0] (a): no recipients"},
		{`{"digest": {"at": "07:30", "to": ["a@example.org"]}, "rules": []}`, "digest needs an smtp server"},
		{`{"smtp": {"server": "m:587", "from": "f@example.org"}, "digest": {"at": "7.30", "to": ["a@example.org"]}, "rules": []}`, `digest.at "7.30": want the local time HH:MM`},
		{`{"smtp": {"server": "m:587", "from": "f@example.org"}, "digest": {"at": "07:30"}, "rules": []}`, "digest.to: who receives the digest?"},
		{`{"rulez": []}`, `unknown field "rulez"`},
		{`{"rules": [{"name": "` + strings.Repeat("長", 101) + `", "kind": "tailgating"}]}`, "rules[0]: name longer than 100 characters"},
	}
	for _, tc := range cases {
		_, err := Parse([]byte(tc.body))
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s:\n got %v\nwant …%s…", tc.body, err, tc.want)
		}
	}
	c := testConfig(t, Example)
	if c.Language != "en" || len(c.Rules) != 5 || c.SMTP.TLS != "starttls" || c.Digest.at != 7*60+30 {
		t.Errorf("Example parsed as %+v", c)
	}
	if got := c.Recipients("tailgating"); len(got) != 1 || got[0] != "security@example.org" {
		t.Errorf("Recipients: %v", got)
	}
}
