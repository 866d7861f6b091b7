package notify

import (
	"crypto/x509"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/facegate/facegate/storage"
)

// BenchmarkHeadPoll is what the deliverer does every Poll while nothing
// happens: read the subscriptions (two) and the chain head, on a SQLite
// log of 10,000 events.
func BenchmarkHeadPoll(b *testing.B) {
	dir := b.TempDir()
	db, err := storage.Open(dir+"/facegate.db", storage.Options{KeyDir: dir + "/keys"})
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	for range 10000 {
		if _, err := db.Append(storage.Event{Kind: storage.KindGranted, Door: "front"}); err != nil {
			b.Fatal(err)
		}
	}
	for _, u := range []string{"https://a.example/h", "https://b.example/h"} {
		if _, err := db.AddWebhook(storage.Webhook{URL: u, Secret: secret, Enabled: true}); err != nil {
			b.Fatal(err)
		}
	}
	for b.Loop() {
		if _, err := db.Webhooks(); err != nil {
			b.Fatal(err)
		}
		if _, err := db.EventCount(); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkEventToReceiver is the latency from an event's append to its
// arrival at a local HTTPS receiver, with the default poll (one op is
// one event; ns/op is the mean latency, append included).
func BenchmarkEventToReceiver(b *testing.B) {
	dir := b.TempDir()
	db, err := storage.Open(dir+"/facegate.db", storage.Options{KeyDir: dir + "/keys"})
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	got := make(chan struct{}, 1)
	srv := httptest.NewTLSServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { got <- struct{}{} }))
	defer srv.Close()
	pool := x509.NewCertPool()
	pool.AddCert(srv.Certificate())
	if _, err := db.AddWebhook(storage.Webhook{URL: srv.URL, Secret: secret, Enabled: true}); err != nil {
		b.Fatal(err)
	}
	stop := run(db, Options{RootCAs: pool})
	defer stop()
	b.ResetTimer()
	for range b.N {
		// Events arrive at a door seconds apart, not back to back: each
		// one at a random point of the poll cycle, as it would.
		b.StopTimer()
		time.Sleep(time.Duration(rand.Int64N(int64(DefaultPoll))))
		b.StartTimer()
		if _, err := db.Append(storage.Event{Kind: storage.KindGranted, Door: "front"}); err != nil {
			b.Fatal(err)
		}
		<-got
	}
}
