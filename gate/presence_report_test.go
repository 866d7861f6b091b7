package gate

import (
	"testing"
	"time"

	"github.com/facegate/facegate/storage"
)

func TestStaysAndAttendance(t *testing.T) {
	tokyo, _ := time.LoadLocation("Asia/Tokyo")
	at := func(s string) int64 { v, _ := time.ParseInLocation("2006-01-02 15:04", s, tokyo); return v.UnixMicro() }
	ev := func(p int64, dir, when string, granted bool) storage.Event {
		return storage.Event{PersonID: p, PersonName: map[int64]string{1: "Sato", 2: "Ito"}[p], Area: "server room",
			Direction: dir, AtMicro: at(when), Granted: granted}
	}
	evs := []storage.Event{
		ev(1, "in", "2026-11-24 09:00", true),
		ev(1, "out", "2026-11-24 09:30", true),
		ev(1, "in", "2026-11-24 13:00", true),
		ev(1, "in", "2026-11-24 14:00", true), // no exit recorded for 13:00
		ev(1, "out", "2026-11-24 18:00", true),
		ev(2, "out", "2026-11-24 10:00", true), // no entry
		ev(2, "in", "2026-11-24 11:00", false), // denied: not a passage
		ev(2, "in", "2026-11-24 12:00", true),  // still inside
		{PersonID: 2, Area: "server room", Direction: "both", AtMicro: at("2026-11-24 12:30"), Granted: true},
	}
	st := Stays(evs)
	if len(st) != 5 {
		t.Fatalf("%d stays: %+v", len(st), st)
	}
	if st[0].Length() != 30*time.Minute || st[0].Flag != "" {
		t.Errorf("first stay %+v", st[0])
	}
	var at13 Stay
	for _, s := range st {
		if s.In.In(tokyo).Format("15:04") == "13:00" {
			at13 = s
		}
	}
	if at13.Flag != "no_exit" || !at13.Out.IsZero() {
		t.Errorf("13:00 stay %+v", at13)
	}
	var open, noEntry int
	for _, s := range st {
		if s.Open() {
			open++
			if s.PersonID != 2 {
				t.Errorf("open stay %+v", s)
			}
		}
		if s.Flag == "no_entry" {
			noEntry++
		}
	}
	if open != 1 || noEntry != 1 {
		t.Errorf("open %d, no_entry %d", open, noEntry)
	}
	att := AttendanceDays(st, tokyo)
	if len(att) != 2 || att[0].Name != "Sato" || att[0].FirstIn.In(tokyo).Format("15:04") != "09:00" || att[0].LastOut.In(tokyo).Format("15:04") != "18:00" {
		t.Fatalf("attendance %+v", att)
	}
}
