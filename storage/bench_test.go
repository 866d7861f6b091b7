package storage

import (
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"sort"
	"testing"
	"time"
)

// BenchmarkRecordWithSnapshots is the insert rate of decisions with a
// 60 kB frame and a 6 kB face crop each (SQLite, synchronous=FULL).
func BenchmarkRecordWithSnapshots(b *testing.B) {
	dir := b.TempDir()
	db, err := Open(filepath.Join(dir, "f.db"), Options{KeyDir: filepath.Join(dir, "keys")})
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	r := &Recorder{DB: db, Snapshots: SnapshotStore{Dir: filepath.Join(dir, "snaps")}, Keys: db.Keys}
	frame, face := make([]byte, 60<<10), make([]byte, 6<<10)
	n := 0
	for b.Loop() {
		n++
		frame[0], frame[1], frame[2] = byte(n), byte(n>>8), byte(n>>16)
		face[0], face[1], face[2] = byte(n), byte(n>>8), byte(n>>16)
		if _, err := r.Record(Event{Kind: "access_granted", Granted: true, PersonID: int64(n % 500), Door: "front"}, frame, face); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
}

// BenchmarkHistoryQuery1M: filtered history queries (person + time range,
// door + time range, time range only; 100 rows a page) over 1,000,000
// events in SQLite, with p95 latency. The rows are inserted in bulk (their
// hashes do not matter to query speed).
func BenchmarkHistoryQuery1M(b *testing.B) {
	const total, persons, doors = 1_000_000, 2000, 20
	dir := b.TempDir()
	db, err := Open(filepath.Join(dir, "f.db"), Options{KeyDir: filepath.Join(dir, "keys")})
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	start := time.Date(2025, 11, 1, 0, 0, 0, 0, time.UTC)
	span := 365 * 24 * time.Hour
	rng := rand.New(rand.NewPCG(1, 1))
	batch := make([]Event, 0, 2000)
	for i := 1; i <= total; i++ {
		at := start.Add(time.Duration(int64(i) * int64(span) / total))
		batch = append(batch, Event{Seq: int64(i), AtMicro: at.UnixMicro(), Kind: "access_granted", Granted: rng.IntN(10) > 0,
			Door: fmt.Sprint("door-", rng.IntN(doors)), PersonID: int64(1 + rng.IntN(persons)), PersonName: "x",
			ContentHash: "c", PrevHash: "p", Hash: "h"})
		if len(batch) == cap(batch) {
			if err := db.g.CreateInBatches(batch, 500).Error; err != nil {
				b.Fatal(err)
			}
			batch = batch[:0]
		}
	}
	queries := []struct {
		name string
		f    func() EventFilter
	}{
		{"person+week", func() EventFilter {
			from := start.Add(time.Duration(rng.Int64N(int64(span - 7*24*time.Hour))))
			return EventFilter{PersonID: int64(1 + rng.IntN(persons)), From: from, To: from.Add(7 * 24 * time.Hour), Limit: 100}
		}},
		{"door+day", func() EventFilter {
			from := start.Add(time.Duration(rng.Int64N(int64(span - 24*time.Hour))))
			return EventFilter{Door: fmt.Sprint("door-", rng.IntN(doors)), From: from, To: from.Add(24 * time.Hour), Limit: 100}
		}},
		{"range-only", func() EventFilter {
			from := start.Add(time.Duration(rng.Int64N(int64(span - 24*time.Hour))))
			return EventFilter{From: from, To: from.Add(24 * time.Hour), Limit: 100}
		}},
	}
	for _, q := range queries {
		b.Run(q.name, func(b *testing.B) {
			var lat []time.Duration
			for b.Loop() {
				for i := 0; i < 200; i++ {
					f := q.f()
					t := time.Now()
					if _, err := db.Events(f); err != nil {
						b.Fatal(err)
					}
					lat = append(lat, time.Since(t))
				}
			}
			sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
			b.ReportMetric(float64(lat[len(lat)*95/100].Microseconds())/1000, "p95-ms")
			b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1000, "p50-ms")
		})
	}
}
