package alert

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/facegate/facegate/gate"
	"github.com/facegate/facegate/gate/alert/alerttest"
	"github.com/facegate/facegate/storage"
)

// clock is an injectable clock tests move by hand.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Set(t time.Time) {
	c.mu.Lock()
	c.t = t
	c.mu.Unlock()
}

// dayEvents records a Monday (2026-11-23, Tokyo) at two doors, plus
// events the day before and after that the digest must leave out.
func dayEvents(t *testing.T, r *storage.Recorder) {
	t.Helper()
	person := func(id int64, name, door string, tm time.Time) storage.Event {
		return storage.Event{Kind: storage.KindGranted, Granted: true, Code: "granted", Door: door, PersonID: id, PersonName: name, AtMicro: tm.UnixMicro()}
	}
	for _, e := range []storage.Event{
		person(1, "Aiko Tanaka", "front", at(22, 23, 59)), // Sunday: not in Monday's digest
		person(1, "Aiko Tanaka", "front", at(23, 8, 59)),
		person(2, "Ken Sato", "front", at(23, 8, 30)),
		person(1, "Aiko Tanaka", "front", at(23, 13, 5)),
		person(1, "Aiko Tanaka", "server-room", at(23, 0, 0)), // midnight belongs to Monday
		denial(0, "front", "unknown_face", at(23, 12, 0)),
		denial(0, "front", "outside_schedule", at(23, 21, 0)),
		person(2, "Ken Sato", "front", at(24, 0, 0)), // Tuesday
	} {
		appendEvent(t, r, e)
	}
	trigger := person(1, "Aiko Tanaka", "server-room", at(23, 23, 40))
	trigger = appendEvent(t, r, trigger)
	a := Alert{Rule: "server room at night", Kind: KindOutsideHours, TriggerSeq: trigger.Seq, Door: "server-room",
		PersonID: 1, Person: "Aiko Tanaka", AtMicro: trigger.AtMicro, Usual: "Mon–Fri 07:00–20:00", UsualFrom: "site", Entries: 3}
	a.Reason = a.Render("en", tokyo)
	appendEvent(t, r, alertEvent(trigger, a))
}

// TestDigestOncePerDay: with an injected clock, the digest is not sent
// before its time, is sent once after it (also across a restart), and
// again the next day, each time with the previous local day's events.
func TestDigestOncePerDay(t *testing.T) {
	forEachDB(t, func(t *testing.T, r *storage.Recorder) {
		srv := alerttest.Start(t)
		body := strings.Replace(mailConfig(t, srv, "ja"), `"rules"`, `"digest": {"at": "07:30", "to": ["admin@example.org"]}, "rules"`, 1)
		saveConfig(t, r, body)
		dayEvents(t, r)
		clk := &clock{}
		opt := testOptions(r)
		opt.Now = clk.Now
		ctx := context.Background()
		steps := []struct {
			now   time.Time
			mails int
		}{
			{at(24, 7, 29), 0}, // before its time
			{at(24, 7, 30), 1}, // Monday's digest
			{at(24, 7, 31), 1}, // sent already
			{at(24, 23, 0), 1},
			{at(25, 7, 0), 1},
			{at(25, 9, 0), 2}, // the appliance was off at 07:30: Tuesday's digest when it is back
		}
		for i, st := range steps {
			clk.Set(st.now)
			New(opt).runDigest(ctx) // a new Service each time: as across restarts
			if got := len(srv.Received()); got != st.mails {
				t.Fatalf("step %d (%s): %d digests sent, want %d", i, st.now.Format("Jan 2 15:04"), got, st.mails)
			}
		}
		mails := srv.Received()
		m := mails[0]
		if s := m.Subject; s != "[facegate] 日次レポート 2026-11-23" || m.To[0] != "admin@example.org" {
			t.Errorf("subject %q to %v", s, m.To)
		}
		for _, want := range []string{
			"facegate 日次レポート 2026-11-23(Asia/Tokyo)",
			"扉 front\n  入室:3回(2人)\n    Ken Sato 最初 08:30、1回\n    Aiko Tanaka 最初 08:59、2回\n  拒否:2回(うち未登録の顔 1回)\n  アラート:0件\n",
			"扉 server-room\n  入室:2回(1人)\n    Aiko Tanaka 最初 00:00、2回\n  拒否:0回(うち未登録の顔 0回)\n  アラート:1件\n    23:40 server room at night — Aiko Tanakaがserver-roomに23:40(月)に入室しました。普段の時間帯 月–金 07:00–20:00(サイトの時間帯",
		} {
			if !strings.Contains(m.Body, want) {
				t.Errorf("digest lacks %q:\n%s", want, m.Body)
			}
		}
		if !strings.Contains(mails[1].Body, "2026-11-24") || !strings.Contains(mails[1].Body, "Ken Sato 最初 00:00、1回") {
			t.Errorf("Tuesday's digest:\n%s", mails[1].Body)
		}
		if c, _ := cursorAt(t, r.DB, DigestCursor); c != 20261125 {
			t.Errorf("digest cursor %d, want 20261125", c)
		}
	})
}

func TestDigestEnglishAndEmpty(t *testing.T) {
	c := testConfig(t, `{"language": "en", "smtp": {"server": "m:587", "from": "f@example.org"},
		"digest": {"at": "06:00", "to": ["a@example.org"]}, "rules": []}`)
	day := gate.Date{Year: 2026, Month: 11, Day: 23}
	empty := c.DigestMessage(day, tokyo, nil, at(24, 6, 0))
	if !strings.Contains(empty.Body, "No entries, denials or alerts that day.") || empty.Subject != "[facegate] daily digest 2026-11-23" {
		t.Errorf("empty digest: %q\n%s", empty.Subject, empty.Body)
	}
	var evs []storage.Event
	for i := range digestLines + 3 {
		evs = append(evs, storage.Event{Kind: storage.KindGranted, Door: "front", PersonID: int64(i + 1),
			PersonName: fmt.Sprintf("P%02d", i), AtMicro: at(23, 8, i).UnixMicro()})
	}
	m := c.DigestMessage(day, tokyo, evs, at(24, 6, 0))
	for _, want := range []string{"Door front\n  Entries: 53 (people: 53)\n    P00 first 08:00, 1×\n", "    P49 first 08:49, 1×\n    … and 3 more\n  Denials: 0"} {
		if !strings.Contains(m.Body, want) {
			t.Errorf("digest lacks %q:\n%s", want, m.Body)
		}
	}
}
