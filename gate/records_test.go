package gate

import (
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/facegate/facegate/storage"
)

// The policy survives a round trip through the database and decides the
// same; a broken stored window is reported with its rule's name.
func TestPolicyFromStoredRecords(t *testing.T) {
	dir := t.TempDir()
	db, err := storage.Open(filepath.Join(dir, "f.db"), storage.Options{KeyDir: filepath.Join(dir, "keys")})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	sato, _ := db.Enroll("E1", "Sato", []storage.NewTemplate{{ModelVersion: "m"}})
	ito, _ := db.Enroll("E2", "Ito", []storage.NewTemplate{{ModelVersion: "m"}})
	susp := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	ito.SuspendedSince = &susp
	rec := &storage.Recorder{DB: db, Keys: db.Keys, Snapshots: storage.SnapshotStore{Dir: filepath.Join(dir, "s")}}
	recs := storage.PolicyRecords{
		Areas:        []storage.Area{{Name: "office"}, {Name: "server room", AntiPassback: true}},
		Doors:        []storage.Door{{ID: "front", Name: "Front door", Area: "office", Direction: "both", OpenMillis: 4000, Level: "face", PassageWindows: "Mon-Fri 09:00-10:00"}},
		Groups:       []storage.Group{{Name: "staff"}},
		Rules:        []storage.AccessRule{{GroupName: "staff", Name: "office hours", Doors: "front", ScheduleName: "office hours", Windows: "Mon-Fri 08:00-20:00", ObserveHolidays: true}},
		Holidays:     []storage.Holiday{{Date: "2026-11-23", Name: "勤労感謝の日"}},
		PersonGroups: []storage.PersonGroup{{PersonID: sato.ID, GroupName: "staff"}, {PersonID: ito.ID, GroupName: "staff"}},
		People:       []storage.Person{sato, ito},
	}
	if err := rec.SavePolicy(recs, "admin@example"); err != nil {
		t.Fatal(err)
	}
	loaded, err := db.LoadPolicy()
	if err != nil {
		t.Fatal(err)
	}
	tokyo, _ := time.LoadLocation("Asia/Tokyo")
	p, people, err := FromRecords(loaded, tokyo)
	if err != nil {
		t.Fatal(err)
	}
	at := func(s string) time.Time { v, _ := time.ParseInLocation("2006-01-02 15:04", s, tokyo); return v }
	if d := p.Decide(Request{Person: people[sato.ID], Door: "front", Time: at("2026-11-24 09:00")}, nil); !d.Grant {
		t.Fatalf("Sato on Tuesday: %s", d.Reason)
	}
	if d := p.Decide(Request{Person: people[sato.ID], Door: "front", Time: at("2026-11-23 09:00")}, nil); d.Grant || !strings.Contains(d.Reason, "勤労感謝の日") {
		t.Fatalf("Sato on the holiday: %s", d.Reason)
	}
	if d := p.Decide(Request{Person: people[ito.ID], Door: "front", Time: at("2026-11-24 09:00")}, nil); d.Code != ReasonSuspended {
		t.Fatalf("suspended Ito: %s", d.Reason)
	}
	if p.Doors["front"].Passage == nil || p.Doors["front"].OpenTime != 4*time.Second {
		t.Fatalf("door %+v", p.Doors["front"])
	}
	// The change is in the audit trail, inside the verified chain.
	log, _ := db.AuditLog(10)
	if len(log) != 1 || log[0].By != "admin@example" || log[0].Code != "policy_saved" {
		t.Fatalf("audit %+v", log)
	}
	if rep, err := db.Verify(db.Keys.Public, rec.Snapshots); err != nil || !rep.OK() {
		t.Fatalf("verify: %v %v", err, rep.Problems)
	}
	loaded.Rules[0].Windows = "Mon-Fry 08:00-20:00"
	if _, _, err := FromRecords(loaded, tokyo); err == nil || !strings.Contains(err.Error(), `rule "office hours"`) {
		t.Fatalf("broken window: %v", err)
	}
}
