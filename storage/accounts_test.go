package storage

import (
	"testing"
	"time"
)

// Failed logins lock an account with a doubling lock that survives a
// reopen; unknown names lock alike; a good login clears the count.
func TestLoginLockout(t *testing.T) {
	forEachDB(t, func(t *testing.T, db *testDB) {
		now := time.Date(2026, 11, 24, 9, 0, 0, 0, time.UTC)
		for i := 1; i < LockoutAfter; i++ {
			if n, until, err := db.RecordLoginFailure("Alice", now); err != nil || n != i || !until.IsZero() {
				t.Fatalf("failure %d: %d %v %v", i, n, until, err)
			}
		}
		_, until, _ := db.RecordLoginFailure(" alice ", now)
		if !until.Equal(now.Add(LockoutBase)) {
			t.Fatalf("locked until %v, want %v", until, now.Add(LockoutBase))
		}
		db = db.reopen(t)
		if _, locked := db.LoginLockedUntil("ALICE", now.Add(LockoutBase/2)); !locked {
			t.Fatal("lock lost on reopen")
		}
		if _, locked := db.LoginLockedUntil("alice", now.Add(LockoutBase)); locked {
			t.Fatal("lock outlived its time")
		}
		_, until, _ = db.RecordLoginFailure("alice", now.Add(LockoutBase))
		if got := until.Sub(now.Add(LockoutBase)); got != 2*LockoutBase {
			t.Fatalf("second lock %v, want %v", got, 2*LockoutBase)
		}
		for range 20 {
			_, until, _ = db.RecordLoginFailure("alice", now)
		}
		if until.Sub(now) != LockoutMax {
			t.Fatalf("lock grew to %v, want at most %v", until.Sub(now), LockoutMax)
		}
		if err := db.ClearLoginFailures("Alice"); err != nil {
			t.Fatal(err)
		}
		if _, locked := db.LoginLockedUntil("alice", now); locked {
			t.Fatal("still locked after clearing")
		}
		if n, _, _ := db.RecordLoginFailure("nobody-here", now); n != 1 {
			t.Fatalf("unknown name: %d failures", n)
		}
		db.RecordLoginFailure("someone-else", now.Add(25*time.Hour))
		var left int64
		db.g.Model(&loginFailure{}).Count(&left)
		if left != 1 {
			t.Fatalf("%d failure rows kept after a day, want only the new one", left)
		}
	})
}
