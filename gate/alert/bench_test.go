package alert

import (
	"path/filepath"
	"testing"
	"time"

	"github.com/facegate/facegate/storage"
)

// BenchmarkEngineBacklog measures the engine catching up on a backlog of
// grants (each reads the person's 30 days of grants) and denials (each
// reads its door's window) on SQLite; about a fifth of them raise an alert.
func BenchmarkEngineBacklog(b *testing.B) {
	dir := b.TempDir()
	r := openRecorder(b, filepath.Join(dir, "facegate.db"), dir)
	const rules = `{"rules": [{"name": "hours", "kind": "outside_usual_hours"}, {"name": "guessing", "kind": "denials", "count": 3, "seconds": 900},
		{"name": "stranger", "kind": "unknown_face"}]}`
	if err := r.SaveDocument(DocumentKey, rules, "bench"); err != nil {
		b.Fatal(err)
	}
	s := New(Options{Recorder: r, Door: "front", Location: tokyo})
	cfg := s.Config()
	start := time.Date(2026, 11, 1, 9, 0, 0, 0, tokyo)
	e, err := s.startEngine()
	if err != nil {
		b.Fatal(err)
	}
	for i := range b.N {
		ev := storage.Event{Kind: storage.KindGranted, Door: "front", PersonID: int64(i%20 + 1), PersonName: "P",
			AtMicro: start.Add(time.Duration(i) * 7 * time.Minute).UnixMicro()}
		if i%5 == 4 {
			ev = storage.Event{Kind: storage.KindDenied, Door: "front", Code: "no_rule", AtMicro: ev.AtMicro}
		}
		if _, err := r.DB.Append(ev); err != nil {
			b.Fatal(err)
		}
	}
	b.ResetTimer() // ns/op is per event of the backlog
	for {
		n, err := e.step(cfg)
		if err != nil {
			b.Fatal(err)
		}
		if n == 0 {
			break
		}
	}
	b.StopTimer()
	alerts, _ := r.DB.Events(storage.EventFilter{Kind: storage.KindAlert})
	b.ReportMetric(float64(len(alerts))/float64(b.N), "alerts/event")
}
