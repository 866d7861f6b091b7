//go:build load

package main

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"path/filepath"
	"sort"
	"sync"
	"testing"
	"time"

	"gorm.io/driver/sqlite"
	"gorm.io/gorm"
	"gorm.io/gorm/logger"

	"github.com/facegate/facegate/models/modeltest"
	"github.com/facegate/facegate/storage"
)

// Load tunables: loopback only, fixed duration, bounded workers.
const (
	loadWorkers  = 8
	loadDuration = 15 * time.Second
	loadEvents   = 200_000 // entries in the log while browsing
)

// TestLoad: the appliance on the demo clip while 8 clients browse the
// entries page and the events API for 15 s. Reports requests/s, p95 and
// the pipeline's fps with and without the load. `make load`.
func TestLoad(t *testing.T) {
	data := t.TempDir()
	db, err := storage.Open(filepath.Join(data, "facegate.db"), storage.Options{KeyDir: filepath.Join(data, "keys")})
	if err != nil {
		t.Fatal(err)
	}
	batch := make([]storage.Event, 0, 2000)
	start := time.Now().Add(-30 * 24 * time.Hour)
	for i := 1; i <= loadEvents; i++ {
		batch = append(batch, storage.Event{Seq: int64(i), AtMicro: start.Add(time.Duration(i) * 13 * time.Second).UnixMicro(),
			Kind: "access_granted", Granted: i%7 != 0, Door: fmt.Sprint("door-", i%12), PersonID: int64(1 + i%500),
			PersonName: fmt.Sprint("person ", i%500), Reason: "granted by rule \"staff\"", ContentHash: "c", PrevHash: "p", Hash: "h"})
		if len(batch) == cap(batch) {
			seedEvents(t, filepath.Join(data, "facegate.db"), batch)
			batch = batch[:0]
		}
	}
	db.CreateUser("load", "load-test-password", storage.RoleAdmin)
	token, _ := db.CreateAPIToken("load")
	db.Close()

	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	addr := ln.Addr().String()
	ln.Close()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go run(ctx, []string{"serve", "--data-dir", data, "--models-dir", modeltest.ModelsDir(t), "--demo-dir", modeltest.Testdata(t),
		"--web-listen", addr, "--log-level", "warn"}, io.Discard, io.Discard)
	client := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: loadWorkers,
		TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}}
	base := "https://" + addr
	// /healthz shows its counters only to a logged-in user: the token's.
	frames := func() int64 {
		req, _ := http.NewRequest(http.MethodGet, base+"/healthz", nil)
		req.Header.Set("Authorization", "Bearer "+token)
		resp, err := client.Do(req)
		if err != nil {
			return -1
		}
		defer resp.Body.Close()
		var h struct{ Frames int64 }
		json.NewDecoder(resp.Body).Decode(&h)
		return h.Frames
	}
	for deadline := time.Now().Add(60 * time.Second); frames() <= 0; time.Sleep(200 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("serve did not start")
		}
	}
	measure := func(d time.Duration) float64 {
		f0, t0 := frames(), time.Now()
		time.Sleep(d)
		return float64(frames()-f0) / time.Since(t0).Seconds()
	}
	idle := measure(loadDuration)

	var mu sync.Mutex
	var lat []time.Duration
	errs := 0
	stop := time.Now().Add(loadDuration)
	var wg sync.WaitGroup
	f0, t0 := frames(), time.Now()
	for w := 0; w < loadWorkers; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			paths := []string{"/entries", "/api/v1/events?limit=100", fmt.Sprintf("/entries?door=door-%d", w), "/api/v1/events?person=x"}
			for i := 0; time.Now().Before(stop); i++ {
				req, _ := http.NewRequest(http.MethodGet, base+paths[i%len(paths)], nil)
				req.Header.Set("Authorization", "Bearer "+token)
				s := time.Now()
				resp, err := client.Do(req)
				d := time.Since(s)
				ok := err == nil && resp.StatusCode == 200
				if err == nil {
					io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
				}
				mu.Lock()
				lat = append(lat, d)
				if !ok {
					errs++
				}
				mu.Unlock()
			}
		}(w)
	}
	wg.Wait()
	loaded := float64(frames()-f0) / time.Since(t0).Seconds()
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	rps := float64(len(lat)) / loadDuration.Seconds()
	p50, p95 := lat[len(lat)/2], lat[len(lat)*95/100]
	fmt.Printf("load: %d workers, %s, %d events in the log\n", loadWorkers, loadDuration, loadEvents)
	fmt.Printf("requests: %d (%.0f/s), errors %d, p50 %s, p95 %s\n", len(lat), rps, errs, p50.Round(time.Millisecond), p95.Round(time.Millisecond))
	fmt.Printf("pipeline: %.1f fps idle, %.1f fps under load (%.0f%% drop)\n", idle, loaded, 100*(1-loaded/idle))
	if errs > 0 {
		t.Fatalf("%d failed requests", errs)
	}
}

// seedEvents writes made-up log rows straight into the file: a load
// test needs 200 000 entries fast, not a valid chain.
func seedEvents(t *testing.T, path string, evs []storage.Event) {
	t.Helper()
	g, err := gorm.Open(sqlite.Open(path), &gorm.Config{Logger: logger.Discard})
	if err != nil {
		t.Fatal(err)
	}
	if err := g.CreateInBatches(evs, 500).Error; err != nil {
		t.Fatal(err)
	}
	if d, err := g.DB(); err == nil {
		d.Close()
	}
}
