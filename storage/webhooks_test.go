package storage

import (
	"errors"
	"strings"
	"testing"
	"time"
)

// Issue 14, webhooks: a subscription's secret is sealed at rest, its
// cursor starts at the head and only moves forward, and its delivery log
// is listed newest first and pruned by age.
func TestWebhookSubscriptions(t *testing.T) {
	forEachDB(t, func(t *testing.T, db *testDB) {
		for range 3 {
			if _, err := db.Append(Event{Kind: KindGranted, Door: "front"}); err != nil {
				t.Fatal(err)
			}
		}
		secret := "a secret of thirty-two characters"
		w, err := db.AddWebhook(Webhook{URL: "https://receiver.example/hook", Secret: secret,
			Kinds: []string{KindGranted, KindDenied}, Doors: []string{"front"}, Enabled: true})
		if err != nil {
			t.Fatal(err)
		}
		if w.Cursor != 3 {
			t.Fatalf("cursor of a new subscription = %d, want the head 3", w.Cursor)
		}
		var stored string
		db.g.Raw("SELECT secret FROM webhook_subscriptions WHERE id = ?", w.ID).Scan(&stored)
		if stored == "" || strings.Contains(stored, secret) {
			t.Fatalf("secret stored in clear: %q", stored)
		}
		db = db.reopen(t)
		got, err := db.WebhookByID(w.ID)
		if err != nil || got.Secret != secret || strings.Join(got.Kinds, ",") != "access_granted,access_denied" || got.Doors[0] != "front" {
			t.Fatalf("after reopening: %+v %v", got, err)
		}
		if !got.Matches(Event{Kind: KindGranted, Door: "front"}) || got.Matches(Event{Kind: KindGranted, Door: "back"}) ||
			got.Matches(Event{Kind: KindDoorForced, Door: "front"}) {
			t.Fatal("filters do not select by kind and door")
		}
		for _, seq := range []int64{7, 5} {
			if err := db.AdvanceWebhookCursor(w.ID, seq); err != nil {
				t.Fatal(err)
			}
		}
		if got, _ := db.WebhookByID(w.ID); got.Cursor != 7 {
			t.Fatalf("cursor = %d after advancing to 7 then 5, want 7 (never back)", got.Cursor)
		}
		checkDeliveryLog(t, db, w.ID)
		if err := db.SetWebhookEnabled(w.ID, false); err != nil {
			t.Fatal(err)
		}
		if all, _ := db.Webhooks(); len(all) != 1 || all[0].Enabled {
			t.Fatalf("after disabling: %+v", all)
		}
		if err := db.RemoveWebhook(w.ID); err != nil {
			t.Fatal(err)
		}
		if _, err := db.WebhookByID(w.ID); !errors.Is(err, ErrNotFound) {
			t.Fatalf("removed webhook: %v", err)
		}
		if err := db.RemoveWebhook(w.ID); !errors.Is(err, ErrNotFound) {
			t.Fatalf("removing twice: %v", err)
		}
	})
}

func checkDeliveryLog(t *testing.T, db *testDB, id int64) {
	t.Helper()
	old := time.Now().Add(-10 * 24 * time.Hour)
	for i, d := range []WebhookDelivery{
		{SubscriptionID: id, Seq: 4, AtMicro: old.UnixMicro(), Attempt: 1, Error: strings.Repeat("refused ", 100)},
		{SubscriptionID: id, Seq: 4, AtMicro: time.Now().UnixMicro(), Attempt: 2, Status: 503},
		{SubscriptionID: id, Seq: 4, AtMicro: time.Now().UnixMicro(), Attempt: 3, Status: 204},
	} {
		if err := db.LogWebhookDelivery(d); err != nil {
			t.Fatalf("attempt %d: %v", i, err)
		}
	}
	log, err := db.WebhookDeliveries(id, 10)
	if err != nil || len(log) != 3 || !log[0].OK() || log[1].OK() || log[2].Attempt != 1 || len(log[2].Error) != 500 {
		t.Fatalf("delivery log %+v %v", log, err)
	}
	n, err := db.PruneWebhookDeliveries(time.Now().Add(-7 * 24 * time.Hour))
	if err != nil || n != 1 {
		t.Fatalf("pruned %d, %v; want the one 10 days old", n, err)
	}
}

// A webhook URL must be https, or http to a loopback address when allowed;
// kinds must be known and the secret long enough.
func TestWebhookRefusals(t *testing.T) {
	forEachDB(t, func(t *testing.T, db *testDB) {
		secret := "0123456789abcdef"
		for _, c := range []struct {
			w    Webhook
			want string
		}{
			{Webhook{URL: "http://receiver.example/h", Secret: secret}, "use https"},
			{Webhook{URL: "http://192.168.1.9/h", Secret: secret, AllowHTTP: true}, "only to localhost"},
			{Webhook{URL: "ftp://receiver.example/h", Secret: secret}, "want https"},
			{Webhook{URL: "receiver.example/h", Secret: secret}, "want https://host"},
			{Webhook{URL: "https://r.example/h", Secret: secret, Kinds: []string{"access_grant"}}, `kind "access_grant"`},
			{Webhook{URL: "https://r.example/h", Secret: "short"}, "at least 16"},
			{Webhook{URL: "https://r.example/h", Secret: secret, CACert: "not a certificate"}, "no PEM certificate"},
		} {
			if _, err := db.AddWebhook(c.w); err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("%+v: %v, want %q", c.w, err, c.want)
			}
		}
		if _, err := db.AddWebhook(Webhook{URL: "http://127.0.0.1:9/h", Secret: secret, AllowHTTP: true}); err != nil {
			t.Fatalf("loopback http with AllowHTTP: %v", err)
		}
		// Alerts (gate/alert) are events a receiver may subscribe to alone.
		if _, err := db.AddWebhook(Webhook{URL: "https://r.example/a", Secret: secret, Kinds: []string{KindAlert}}); err != nil {
			t.Fatalf("a subscription to alerts: %v", err)
		}
	})
}

// LatestCheckpoint is the newest signed head, none on a new log.
func TestLatestCheckpoint(t *testing.T) {
	forEachDB(t, func(t *testing.T, db *testDB) {
		if _, ok, err := db.LatestCheckpoint(); ok || err != nil {
			t.Fatalf("checkpoint on an empty log: %v %v", ok, err)
		}
		for range 2 {
			db.Append(Event{Kind: KindAlarm})
			if _, err := db.SignCheckpoint(db.Keys); err != nil {
				t.Fatal(err)
			}
		}
		c, ok, err := db.LatestCheckpoint()
		if !ok || err != nil || c.Seq != 2 || !VerifyCheckpoint(c, db.Keys.Public) {
			t.Fatalf("latest checkpoint %+v %v %v", c, ok, err)
		}
	})
}

// EventsAfter follows the chain, not the clock: a decision stamped before
// an event appended ahead of it still comes after it.
func TestEventsAfterInChainOrder(t *testing.T) {
	forEachDB(t, func(t *testing.T, db *testDB) {
		now := time.Now()
		for _, at := range []time.Time{now, now.Add(-time.Minute), now.Add(time.Second)} {
			if _, err := db.Append(Event{Kind: KindGranted, AtMicro: at.UnixMicro()}); err != nil {
				t.Fatal(err)
			}
		}
		evs, err := db.EventsAfter(1, 10)
		if err != nil || len(evs) != 2 || evs[0].Seq != 2 || evs[1].Seq != 3 {
			t.Fatalf("events after 1: %+v %v", evs, err)
		}
		if evs, _ := db.EventsAfter(0, 1); len(evs) != 1 || evs[0].Seq != 1 {
			t.Fatalf("limit 1: %+v", evs)
		}
	})
}

// One deliverer at a time holds a subscription's lease: the holder renews
// it, another gets it once it runs out or is released.
func TestWebhookLease(t *testing.T) {
	forEachDB(t, func(t *testing.T, db *testDB) {
		w, err := db.AddWebhook(Webhook{URL: "https://r.example/h", Secret: "0123456789abcdef", Enabled: true})
		if err != nil {
			t.Fatal(err)
		}
		now, ttl := time.Now(), 30*time.Second
		for _, c := range []struct {
			owner string
			at    time.Time
			want  bool
		}{
			{"gate-a", now, true},
			{"gate-b", now.Add(time.Second), false},
			{"gate-a", now.Add(20 * time.Second), true}, // renewed to 50 s
			{"gate-b", now.Add(40 * time.Second), false},
			{"gate-b", now.Add(51 * time.Second), true}, // run out
			{"gate-a", now.Add(52 * time.Second), false},
		} {
			if got, err := db.LeaseWebhook(w.ID, c.owner, c.at, ttl); err != nil || got != c.want {
				t.Fatalf("%s at +%v: %v %v, want %v", c.owner, c.at.Sub(now), got, err, c.want)
			}
		}
		if err := db.ReleaseWebhookLeases("gate-b"); err != nil {
			t.Fatal(err)
		}
		if got, _ := db.LeaseWebhook(w.ID, "gate-a", now.Add(53*time.Second), ttl); !got {
			t.Fatal("a released lease was not taken")
		}
	})
}
