package notify

import (
	"context"
	"encoding/pem"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/facegate/facegate/storage"
)

// run starts a Deliverer on db; the returned stop cancels it and waits.
func run(db *storage.DB, opt Options) (stop func()) {
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Go(func() { New(db, opt).Run(ctx) })
	return func() { cancel(); wg.Wait() }
}

// Issue 14 acceptance: a receiver answers 503 for a while, then is gone
// (connection refused), then comes back, and the first event it takes
// loses its 2xx. Every matching event arrives, in seq order, none missing;
// the only repeat is the one whose answer was lost; every signature
// verifies; the delivery log shows the failures; the cursor ends at the head.
func TestReceiverDownThenBack(t *testing.T) {
	forEachDB(t, func(t *testing.T, db *storage.DB) {
		rc := newReceiver(t)
		rc.fail = http.StatusServiceUnavailable
		w, err := db.AddWebhook(storage.Webhook{URL: rc.url(), Secret: secret, Enabled: true,
			Kinds: []string{storage.KindGranted, storage.KindDenied}, Doors: []string{"front"}})
		if err != nil {
			t.Fatal(err)
		}
		var want []int64
		want = append(want, record(t, db, "front", storage.KindGranted, storage.KindDenied)...)
		record(t, db, "front", storage.KindDoorForced)
		record(t, db, "back", storage.KindGranted)
		stop := run(db, fastOptions(rc.pool))
		defer stop()
		failed := func(status int) func() bool {
			return func() bool {
				return deliveries(t, db, w.ID, func(d storage.WebhookDelivery) bool { return d.Status == status }) >= 3
			}
		}
		waitFor(t, "three 503s", failed(http.StatusServiceUnavailable))
		rc.srv.Close()
		waitFor(t, "three refused connections", failed(0))
		want = append(want, record(t, db, "front", storage.KindDenied, storage.KindGranted)...)
		if _, err := db.SignCheckpoint(db.Keys); err != nil {
			t.Fatal(err)
		}
		want = append(want, record(t, db, "front", storage.KindGranted)...)
		rc.mu.Lock()
		rc.fail, rc.dropNext = 0, true
		rc.mu.Unlock()
		rc.start(rc.addr)
		waitFor(t, "the backlog", func() bool { return len(rc.distinct()) == len(want) })
		checkDelivered(t, db, rc, w.ID, want)
	})
}

func checkDelivered(t *testing.T, db *storage.DB, rc *receiver, id int64, want []int64) {
	t.Helper()
	if got := rc.distinct(); !slices.Equal(got, want) {
		t.Fatalf("received %v, want %v in this order", got, want)
	}
	rc.mu.Lock()
	seen, bad := slices.Clone(rc.seen), rc.badSigs
	first := rc.bodies[want[0]]
	for _, seq := range want {
		if cp := rc.bodies[seq].Checkpoint; cp == nil || cp.Seq < seq || !storage.VerifyCheckpoint(*cp, db.Keys.Public) {
			t.Errorf("event %d's payload checkpoint %+v: want a signed one covering it", seq, cp)
		}
	}
	rc.mu.Unlock()
	if len(seen) != len(want)+1 || seen[0] != seen[1] {
		t.Errorf("arrivals %v: want the first (its 2xx lost) twice and every other once", seen)
	}
	if bad != 0 {
		t.Errorf("%d deliveries with a bad signature", bad)
	}
	e, _ := db.EventBySeq(want[0])
	if first.Hash != e.Hash || first.Kind != e.Kind || first.Door != "front" || !strings.HasSuffix(first.TimeLocal, "+09:00") {
		t.Errorf("payload %+v does not describe event %+v", first, e)
	}
	if cp := first.Checkpoint; cp == nil || cp.Seq < first.Seq || !storage.VerifyCheckpoint(*cp, db.Keys.Public) {
		t.Errorf("payload checkpoint %+v: want a signed one covering seq %d", cp, first.Seq)
	}
	head, _ := db.EventCount()
	waitFor(t, "the cursor at the head", func() bool { w, _ := db.WebhookByID(id); return w.Cursor == head })
	errs := deliveries(t, db, id, func(d storage.WebhookDelivery) bool { return d.Status == 0 && d.Error != "" })
	if errs < 4 { // three refused, one lost answer
		t.Errorf("delivery log holds %d failed connections, want at least 4", errs)
	}
}

// A subscription gets only its kinds at its doors; a disabled one gets
// nothing and keeps its cursor, and on being enabled gets what it missed.
func TestFiltersAndDisabled(t *testing.T) {
	forEachDB(t, func(t *testing.T, db *storage.DB) {
		forced, all := newReceiver(t), newReceiver(t)
		wf, err := db.AddWebhook(storage.Webhook{URL: forced.url(), Secret: secret, Enabled: true,
			Kinds: []string{storage.KindDoorForced}, Doors: []string{"back"}})
		if err != nil {
			t.Fatal(err)
		}
		wa, err := db.AddWebhook(storage.Webhook{URL: all.url(), Secret: secret})
		if err != nil {
			t.Fatal(err)
		}
		pool := forced.pool // httptest servers share one certificate
		stop := run(db, fastOptions(pool))
		defer stop()
		var want, every []int64
		every = append(every, record(t, db, "front", storage.KindDoorForced, storage.KindGranted)...)
		want = append(want, record(t, db, "back", storage.KindDoorForced)...)
		every = append(every, want...)
		every = append(every, record(t, db, "back", storage.KindDenied, storage.KindDoorHeldOpen)...)
		want = append(want, record(t, db, "back", storage.KindDoorForced)...)
		every = append(every, want[1])
		head, _ := db.EventCount()
		waitFor(t, "the filtered cursor at the head", func() bool { w, _ := db.WebhookByID(wf.ID); return w.Cursor == head })
		if got := forced.distinct(); !slices.Equal(got, want) {
			t.Fatalf("door_forced at back: got %v, want %v", got, want)
		}
		if got := all.distinct(); len(got) != 0 {
			t.Fatalf("a disabled subscription received %v", got)
		}
		if w, _ := db.WebhookByID(wa.ID); w.Cursor != 0 {
			t.Fatalf("a disabled subscription's cursor moved to %d", w.Cursor)
		}
		if err := db.SetWebhookEnabled(wa.ID, true); err != nil {
			t.Fatal(err)
		}
		waitFor(t, "the missed events", func() bool { return len(all.distinct()) == len(every) })
		if got := all.distinct(); !slices.Equal(got, every) {
			t.Fatalf("after enabling: got %v, want %v", got, every)
		}
	})
}

// Restart: a deliverer cancelled in the middle of a backlog, started again,
// resumes from its stored cursor: nothing lost, at most the one in flight
// sent twice.
func TestRestartResumes(t *testing.T) {
	forEachDB(t, func(t *testing.T, db *storage.DB) {
		rc := newReceiver(t)
		w, err := db.AddWebhook(storage.Webhook{URL: rc.url(), Secret: secret, Enabled: true})
		if err != nil {
			t.Fatal(err)
		}
		kinds := make([]string, 40)
		for i := range kinds {
			kinds[i] = storage.KindGranted
		}
		want := record(t, db, "front", kinds...)
		half := make(chan struct{})
		rc.onEvent = func(n int) {
			if n == 15 {
				close(half)
			}
		}
		stop := run(db, fastOptions(rc.pool))
		<-half
		stop()
		cur, _ := db.WebhookByID(w.ID)
		if cur.Cursor < 13 || cur.Cursor >= want[len(want)-1] {
			t.Fatalf("cursor %d after 15 of %d deliveries: want it mid-backlog", cur.Cursor, len(want))
		}
		stop = run(db, fastOptions(rc.pool))
		defer stop()
		waitFor(t, "the rest of the backlog", func() bool { return len(rc.distinct()) == len(want) })
		if got := rc.distinct(); !slices.Equal(got, want) {
			t.Fatalf("received %v, want %v", got, want)
		}
		rc.mu.Lock()
		defer rc.mu.Unlock()
		if len(rc.seen) > len(want)+1 {
			t.Fatalf("%d arrivals for %d events: more than the one in flight repeated", len(rc.seen), len(want))
		}
	})
}

// Verify accepts the signature Sign made and refuses a changed body, a
// wrong secret, an old or future timestamp and a malformed header.
func TestVerify(t *testing.T) {
	body := []byte(`{"seq":7,"kind":"access_granted"}`)
	now := time.Unix(1_800_000_000, 0)
	h := Sign(secret, now, body)
	if err := Verify(secret, h, body, now.Add(time.Minute), DefaultTolerance); err != nil {
		t.Fatalf("a good signature: %v", err)
	}
	if err := Verify(secret, h+",v1=00ff", body, now, DefaultTolerance); err != nil {
		t.Fatalf("a good signature beside a stale one (secret roll): %v", err)
	}
	for name, c := range map[string]struct {
		secret, header string
		body           []byte
		at             time.Time
		want           string
	}{
		"tampered body": {secret, h, []byte(`{"seq":7,"kind":"access_denied"}`), now, "no v1 signature matches"},
		"wrong secret":  {"another secret of some length", h, body, now, "no v1 signature matches"},
		"old":           {secret, h, body, now.Add(6 * time.Minute), "beyond 5m0s"},
		"future":        {secret, h, body, now.Add(-6 * time.Minute), "beyond 5m0s"},
		"no v1":         {secret, "t=1800000000", body, now, "want t=<unix>,v1=<hex>"},
		"no t":          {secret, "v1=abcd", body, now, "want t=<unix>,v1=<hex>"},
		"empty":         {secret, "", body, now, "want t=<unix>"},
	} {
		err := Verify(c.secret, c.header, c.body, c.at, DefaultTolerance)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v, want an error saying %q", name, err, c.want)
		}
	}
}

// Backoff: 1 s doubling to 5 min, jittered into [d/2, d].
func TestBackoff(t *testing.T) {
	lo, hi := func() float64 { return 0 }, func() float64 { return 0.999999 }
	for n, d := range map[int]time.Duration{1: time.Second, 2: 2 * time.Second, 5: 16 * time.Second, 9: 256 * time.Second,
		10: 5 * time.Minute, 100: 5 * time.Minute} {
		if got := Backoff(n, time.Second, 5*time.Minute, lo); got != d/2 {
			t.Errorf("attempt %d, least jitter: %v, want %v", n, got, d/2)
		}
		if got := Backoff(n, time.Second, 5*time.Minute, hi); got > d || got < d-time.Millisecond {
			t.Errorf("attempt %d, most jitter: %v, want just under %v", n, got, d)
		}
	}
}

// `webhook test` sends a signed test payload once and logs it as seq 0; a
// receiver whose certificate is not trusted is refused (verification on).
func TestSendTest(t *testing.T) {
	dir := t.TempDir()
	db := openDB(t, dir+"/facegate.db", dir)
	rc := newReceiver(t)
	w, err := db.AddWebhook(storage.Webhook{URL: rc.url(), Secret: secret, Enabled: true})
	if err != nil {
		t.Fatal(err)
	}
	if d := New(db, fastOptions(rc.pool)).SendTest(context.Background(), w); !d.OK() || d.Seq != 0 {
		t.Fatalf("test delivery %+v", d)
	}
	rc.mu.Lock()
	p, got := rc.bodies[0]
	rc.mu.Unlock()
	if !got || !p.Test || p.Kind != "test" {
		t.Fatalf("receiver got %+v", p)
	}
	d := New(db, Options{}).SendTest(context.Background(), w)
	if d.OK() || !strings.Contains(d.Error, "certificate") {
		t.Fatalf("untrusted receiver: %+v", d)
	}
	if n := deliveries(t, db, w.ID, func(storage.WebhookDelivery) bool { return true }); n != 2 {
		t.Fatalf("delivery log holds %d attempts, want 2", n)
	}
	// A receiver with a private CA: the subscription names the CA, and the
	// appliance's default client (system roots) trusts it for it alone.
	ca := string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: rc.srv.Certificate().Raw}))
	wc, err := db.AddWebhook(storage.Webhook{URL: rc.url(), Secret: secret, Enabled: true, CACert: ca})
	if err != nil {
		t.Fatal(err)
	}
	if d := New(db, Options{}).SendTest(context.Background(), wc); !d.OK() {
		t.Fatalf("receiver with its CA in the subscription: %+v", d)
	}
}

// Two gates sharing one log (PostgreSQL) deliver each event once: one
// holds the subscription's lease; when it stops, the other takes over
// from the stored cursor.
func TestTwoDeliverersTakeTurns(t *testing.T) {
	forEachDB(t, func(t *testing.T, db *storage.DB) {
		rc := newReceiver(t)
		if _, err := db.AddWebhook(storage.Webhook{URL: rc.url(), Secret: secret, Enabled: true}); err != nil {
			t.Fatal(err)
		}
		opt := fastOptions(rc.pool)
		opt.Lease = time.Second
		stopA := run(db, opt)
		want := record(t, db, "front", storage.KindGranted, storage.KindDenied, storage.KindGranted)
		waitFor(t, "gate A's deliveries", func() bool { return len(rc.distinct()) == len(want) })
		stopB := run(db, opt)
		defer stopB()
		want = append(want, record(t, db, "front", storage.KindGranted, storage.KindDenied)...)
		waitFor(t, "deliveries with two gates", func() bool { return len(rc.distinct()) == len(want) })
		time.Sleep(3 * opt.Lease / 2) // B's polls keep trying for the lease A renews
		stopA()
		want = append(want, record(t, db, "front", storage.KindGranted, storage.KindDenied)...)
		waitFor(t, "gate B taking over", func() bool { return len(rc.distinct()) == len(want) })
		rc.mu.Lock()
		defer rc.mu.Unlock()
		if !slices.Equal(rc.seen, want) {
			t.Fatalf("arrivals %v, want each of %v once, in order", rc.seen, want)
		}
	})
}

// A gate back from a crash (its lease never released) resumes at once
// under its stable name; another gate waits for the lease to run out.
func TestCrashedGateResumesItsLease(t *testing.T) {
	dir := t.TempDir()
	db := openDB(t, dir+"/facegate.db", dir)
	rc := newReceiver(t)
	w, err := db.AddWebhook(storage.Webhook{URL: rc.url(), Secret: secret, Enabled: true})
	if err != nil {
		t.Fatal(err)
	}
	if ok, err := db.LeaseWebhook(w.ID, "door:front@gate1", time.Now(), time.Hour); !ok || err != nil {
		t.Fatalf("lease: %v %v", ok, err)
	}
	want := record(t, db, "front", storage.KindGranted)
	opt := fastOptions(rc.pool)
	opt.Owner = "door:back@gate2"
	stop := run(db, opt)
	time.Sleep(50 * opt.Poll)
	stop()
	if got := rc.distinct(); len(got) != 0 {
		t.Fatalf("another gate delivered %v under a live lease", got)
	}
	opt.Owner = "door:front@gate1"
	stop = run(db, opt)
	defer stop()
	waitFor(t, "the restarted gate's delivery", func() bool { return slices.Equal(rc.distinct(), want) })
}
