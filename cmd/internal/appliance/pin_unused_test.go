package appliance

import (
	"context"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/facegate/facegate/gate"
	"github.com/facegate/facegate/storage"
)

// Issue 14: every PIN attempt is an event. A PIN typed with no face
// matched is recorded as pin_no_face once no match can take it, without
// its digits; a PIN a face took is not recorded twice.
func TestUnusedPINRecorded(t *testing.T) {
	db, rec := openDB(t)
	t0 := time.Date(2026, 11, 24, 9, 0, 0, 0, time.UTC)
	now := t0
	pad := gate.NewPINPad(func() time.Time { return now }, func(time.Duration) <-chan time.Time { return nil })
	a := &Appliance{cfg: Config{Door: "front"}, pinPad: pad, recorder: rec, log: slog.New(slog.NewTextHandler(io.Discard, nil))}
	pad.Enter(gate.PINEntry{Digits: "4711", At: t0})
	pad.Enter(gate.PINEntry{Digits: "2468", At: t0.Add(time.Second)})
	if _, ok := pad.Await(context.Background(), t0.Add(time.Second)); !ok {
		t.Fatal("the second PIN did not serve the face")
	}
	tick := make(chan time.Time)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { a.recordUnusedPINs(ctx, tick); close(done) }()
	tick <- now // too early: nothing yet
	now = t0.Add(time.Minute)
	tick <- now
	tick <- now // the first tick's records are written before the next is taken
	cancel()
	<-done
	evs, err := db.Events(storage.EventFilter{Kind: storage.KindPIN})
	if err != nil {
		t.Fatal(err)
	}
	if len(evs) != 1 || evs[0].Code != "pin_no_face" || evs[0].Granted || evs[0].Door != "front" || !evs[0].At().Equal(t0) {
		t.Fatalf("PIN events = %+v, want one pin_no_face at %s", evs, t0)
	}
	if strings.Contains(evs[0].Reason+evs[0].Detail, "4711") {
		t.Fatalf("the digits were recorded: %+v", evs[0])
	}
}
