package storage

import (
	"errors"
	"sync"
	"testing"
	"time"
)

func TestOneTimeLinks(t *testing.T) {
	forEachDB(t, func(t *testing.T, db *testDB) {
		now := time.Unix(1_800_000_000, 0)
		tok, err := db.NewOneTimeLink("pin", "42", now.Add(time.Hour), "alice")
		if err != nil {
			t.Fatal(err)
		}
		if _, err := db.PeekOneTimeLink("keypad", tok, now); !errors.Is(err, ErrLinkInvalid) {
			t.Fatalf("another purpose: err = %v", err)
		}
		if _, err := db.PeekOneTimeLink("pin", tok, now.Add(time.Hour)); !errors.Is(err, ErrLinkInvalid) {
			t.Fatalf("expired: err = %v", err)
		}
		if s, err := db.PeekOneTimeLink("pin", tok, now); err != nil || s != "42" {
			t.Fatalf("peek = %q, %v", s, err)
		}
		// Of concurrent uses exactly one wins.
		var wg sync.WaitGroup
		var mu sync.Mutex
		won := 0
		for range 4 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				if s, err := db.UseOneTimeLink("pin", tok, now); err == nil && s == "42" {
					mu.Lock()
					won++
					mu.Unlock()
				}
			}()
		}
		wg.Wait()
		if won != 1 {
			t.Fatalf("%d uses succeeded, want 1", won)
		}
		tok2, _ := db.NewOneTimeLink("pin", "42", now.Add(time.Hour), "alice")
		if err := db.RevokeOneTimeLinks("pin", "42", now); err != nil {
			t.Fatal(err)
		}
		if _, err := db.UseOneTimeLink("pin", tok2, now); !errors.Is(err, ErrLinkInvalid) {
			t.Fatalf("revoked: err = %v", err)
		}
	})
}
