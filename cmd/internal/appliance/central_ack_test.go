package appliance

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/facegate/facegate/cmd/internal/central"
	"github.com/facegate/facegate/storage"
)

// An alarm acknowledged on the central while its door is offline reaches
// the door's own chain once, by the door's real push loop against an
// in-process central: across a lost receipt (the central committed, the
// door never heard) and a door restart after recording it but before
// pushing it. An alarm the door acknowledged itself meanwhile gets nothing
// more.
func TestSiteAlarmAckFromCentral(t *testing.T) {
	dir := t.TempDir()
	c, err := central.Open(central.Config{DataDir: dir, DB: filepath.Join(dir, "central.db")})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	var loseReceipt atomic.Bool
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/v1/events" && loseReceipt.CompareAndSwap(true, false) {
			c.Handler().ServeHTTP(httptest.NewRecorder(), r) // committed on the central…
			http.Error(w, "connection lost", http.StatusBadGateway)
			return
		}
		c.Handler().ServeHTTP(w, r)
	}))
	defer srv.Close()
	door := joinDoor(t, c, srv.URL, "front")
	rec := &storage.Recorder{DB: door.db, Keys: door.db.Keys}
	forced, _ := rec.Record(storage.Event{Kind: storage.KindDoorForced, Door: "front", Reason: "door opened while locked"}, nil, nil)
	held, _ := rec.Record(storage.Event{Kind: storage.KindDoorHeldOpen, Door: "front"}, nil, nil)
	sync := func() *doorPush {
		a := &Appliance{cfg: Config{Door: "front", DataDir: t.TempDir()}, db: door.db, recorder: rec, log: discard()}
		return &doorPush{t: t, s: &centralSync{a: a, client: door.client, stale: time.Minute}, head: -1}
	}
	s := sync()
	s.push(2) // joined, pushed its alarms, then offline
	open, err := c.DB().SiteOpenDoorAlarms(time.Now().Add(-time.Hour), 100)
	if err != nil || len(open) != 2 {
		t.Fatalf("the central's open alarms: %+v %v", open, err)
	}
	for _, a := range open {
		if _, _, err := c.DB().RequestDoorAlarmAck(a.ID, "ivy@central", time.Now()); err != nil {
			t.Fatal(err)
		}
	}
	if ok, err := rec.AcknowledgeAlarm(held.Seq, "frank"); !ok || err != nil { // at the door, while offline
		t.Fatalf("acknowledged at the door: %v %v", ok, err)
	}
	// Back: the first push's receipt is lost (the central committed it),
	// the next one asks again and the door records.
	loseReceipt.Store(true)
	if _, err := s.s.pushOnce(context.Background(), &s.head, &s.heads); err == nil {
		t.Fatal("a lost receipt was not an error")
	}
	s.head = -1 // as push does after an error
	s.push(1)
	if got := acks(t, door.db); len(got) != 2 || got[forced.Seq] != "ivy@central" || got[held.Seq] != "frank" {
		t.Fatalf("the door's acknowledgements: %v, want the forced door by ivy@central and the held-open one by frank", got)
	}
	// Restarted before it pushed that: asked again, nothing more recorded;
	// then it arrives and the alarms are no longer open on the central.
	s = sync()
	s.push(3)
	if got := acks(t, door.db); len(got) != 2 {
		t.Fatalf("after a restart: %v", got)
	}
	if open, err := c.DB().SiteOpenDoorAlarms(time.Now().Add(-time.Hour), 100); len(open) != 0 || err != nil {
		t.Fatalf("open on the central after the door's acknowledgements arrived: %+v %v", open, err)
	}
	if _, _, err := c.DB().RequestDoorAlarmAck(open[0].ID, "ivy@central", time.Now()); !errors.Is(err, storage.ErrAlarmAcknowledged) {
		t.Fatalf("asked again after the door's acknowledgement: %v", err)
	}
}

// doorPush drives a door's push loop one exchange at a time.
type doorPush struct {
	t           *testing.T
	s           *centralSync
	head, heads int64
}

// push runs n exchanges (the first after a start or an error only learns
// the central's head).
func (d *doorPush) push(n int) {
	d.t.Helper()
	for range n {
		if _, err := d.s.pushOnce(context.Background(), &d.head, &d.heads); err != nil {
			d.t.Fatal(err)
		}
	}
}

// acks are the door chain's acknowledgements: alarm seq → by whom; two for
// one alarm fail the test.
func acks(t *testing.T, db *storage.DB) map[int64]string {
	t.Helper()
	log, err := db.AuditLog(1000)
	if err != nil {
		t.Fatal(err)
	}
	out := map[int64]string{}
	for _, e := range log {
		if seq, ok := storage.AckedAlarm(e); ok {
			if _, twice := out[seq]; twice {
				t.Fatalf("alarm %d acknowledged twice in the door's chain", seq)
			}
			out[seq] = e.By
		}
	}
	return out
}
