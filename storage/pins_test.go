package storage

import (
	"errors"
	"testing"
	"time"
)

func TestPINFormat(t *testing.T) {
	for pin, ok := range map[string]bool{"2468": true, "90817263": true, "123": false, "123456789": false, "12a4": false,
		"1111": false, "1234": false, "98765": false, "": false, " 2468": false} {
		if err := CheckPINFormat(pin); (err == nil) != ok || (err != nil && !errors.Is(err, ErrBadPIN)) {
			t.Errorf("%q: %v, want ok=%v", pin, err, ok)
		}
	}
}

// Wrong PINs are counted per person across a reopen, lock after
// PINMaxFailures, the lock doubles, a right PIN unlocks only after the lock
// ends, and erasure takes the PIN with the person.
func TestPINLockout(t *testing.T) {
	forEachDB(t, func(t *testing.T, db *testDB) {
		p, err := db.Enroll("E001", "Ada", []NewTemplate{{ModelVersion: "m"}})
		if err != nil {
			t.Fatal(err)
		}
		if c, err := db.CheckPIN(p.ID, "2468", time.Now()); err != nil || !c.NoPIN || c.OK {
			t.Fatalf("no PIN set: %+v %v", c, err)
		}
		if err := db.SetPIN(p.ID, "2468"); err != nil {
			t.Fatal(err)
		}
		now := time.Date(2026, 11, 24, 9, 0, 0, 0, time.UTC)
		if c, _ := db.CheckPIN(p.ID, "2468", now); !c.OK || c.Failures != 0 {
			t.Fatalf("right PIN: %+v", c)
		}
		for i := 1; i < PINMaxFailures; i++ {
			if c, _ := db.CheckPIN(p.ID, "1357", now); c.OK || c.Failures != i || !c.Locked.IsZero() {
				t.Fatalf("wrong PIN %d: %+v", i, c)
			}
		}
		db = db.reopen(t) // the count is stored, not remembered
		c, err := db.CheckPIN(p.ID, "1357", now)
		if err != nil || c.Failures != PINMaxFailures || !c.Locked.Equal(now.Add(PINLockout)) {
			t.Fatalf("fifth wrong PIN: %+v %v, want locked for %s", c, err, PINLockout)
		}
		if c, _ := db.CheckPIN(p.ID, "2468", now.Add(time.Minute)); c.OK || c.Locked.IsZero() {
			t.Fatalf("right PIN while locked: %+v", c)
		}
		later := now.Add(PINLockout + time.Second)
		if c, _ := db.CheckPIN(p.ID, "1357", later); !c.Locked.Equal(later.Add(2 * PINLockout)) {
			t.Fatalf("sixth wrong PIN: %+v, want the lock doubled", c)
		}
		if c, _ := db.CheckPIN(p.ID, "2468", later.Add(2*PINLockout+time.Second)); !c.OK {
			t.Fatalf("right PIN after the lock: %+v", c)
		}
		if err := (&Recorder{DB: db.DB, Snapshots: db.snaps, Keys: db.Keys}).ErasePerson(p.ID, "test", false); err != nil {
			t.Fatal(err)
		}
		if c, _ := db.CheckPIN(p.ID, "2468", later); !c.NoPIN {
			t.Fatalf("PIN kept after erasure: %+v", c)
		}
	})
}
