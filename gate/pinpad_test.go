package gate

import (
	"context"
	"testing"
	"time"
)

func TestPINPadWindow(t *testing.T) {
	t0 := time.Date(2026, 11, 24, 9, 0, 0, 0, time.UTC)
	now := t0
	never := func(time.Duration) <-chan time.Time { return nil }
	fired := func(time.Duration) <-chan time.Time { c := make(chan time.Time, 1); c <- now; return c }
	for _, tc := range []struct {
		name    string
		typed   []time.Duration // relative to the match
		want    string
		timeout bool
	}{
		{"typed just before the face", []time.Duration{-3 * time.Second}, "PIN-3s", false},
		{"the newest of two", []time.Duration{-9 * time.Second, -1 * time.Second}, "PIN-1s", false},
		{"too long before", []time.Duration{-11 * time.Second}, "", true},
		{"typed after the face", []time.Duration{2 * time.Second}, "PIN2s", false},
		{"nothing typed", nil, "", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			after := never
			if tc.timeout {
				after = fired
			}
			p := NewPINPad(func() time.Time { return now }, after)
			for _, d := range tc.typed {
				now = t0.Add(d)
				p.Enter(PINEntry{Digits: "PIN" + d.String(), At: t0.Add(d)})
			}
			now = t0
			e, ok := p.Await(context.Background(), t0)
			if ok == tc.timeout || e.Digits != tc.want {
				t.Fatalf("got %q %v, want %q", e.Digits, ok, tc.want)
			}
		})
	}
}

// A PIN typed while a match waits wakes it; a PIN serves one match only.
func TestPINPadWaitsAndUsesUp(t *testing.T) {
	p := NewPINPad(nil, nil)
	matched := time.Now()
	got := make(chan PINEntry, 1)
	go func() { e, _ := p.Await(context.Background(), matched); got <- e }()
	time.Sleep(20 * time.Millisecond) // let Await block first (the test also passes if it has not)
	p.Enter(PINEntry{Digits: "2468", At: time.Now()})
	select {
	case e := <-got:
		if e.Digits != "2468" {
			t.Fatalf("got %q", e.Digits)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("a typed PIN did not wake the waiting match")
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if e, ok := p.Await(ctx, matched); ok {
		t.Fatalf("the PIN was used twice: %+v", e)
	}
}

// Every PIN typed is accounted for: one a face took is not reported
// unused; one no face took is, once no match can take it any more; one
// pushed out by a ninth is reported at once.
func TestPINPadUnused(t *testing.T) {
	t0 := time.Date(2026, 11, 24, 9, 0, 0, 0, time.UTC)
	now := t0
	never := func(time.Duration) <-chan time.Time { return nil }
	p := NewPINPad(func() time.Time { return now }, never)
	p.Enter(PINEntry{Digits: "1111", At: t0})
	p.Enter(PINEntry{Digits: "2222", At: t0.Add(time.Second)})
	if e, ok := p.Await(context.Background(), t0.Add(time.Second)); !ok || e.Digits != "2222" {
		t.Fatalf("Await = %q %v", e.Digits, ok)
	}
	now = t0.Add(PINBefore + time.Second)
	if u := p.Unused(); len(u) != 0 {
		t.Fatalf("reported %v while a match could still take it", u)
	}
	now = t0.Add(unusedAfter + time.Second)
	if u := p.Unused(); len(u) != 1 || u[0].Digits != "1111" {
		t.Fatalf("Unused = %v, want the 1111 no face took", u)
	}
	for i := range 9 {
		p.Enter(PINEntry{Digits: string(rune('0' + i)), At: now})
	}
	if u := p.Unused(); len(u) != 1 || u[0].Digits != "0" {
		t.Fatalf("Unused after 9 PINs = %v, want the first pushed out", u)
	}
	if u := p.Unused(); len(u) != 0 {
		t.Fatalf("reported twice: %v", u)
	}
}
