package mqtt

import (
	"testing"
	"time"

	"github.com/facegate/facegate/storage"
)

// BenchmarkBacklog: a backlog of b.N events (a broker that was down, or
// an appliance that restarted) from the SQLite log to a subscriber over
// TLS on loopback, QoS 1 both ways; reports events/s and checkpoints
// signed per 100 events.
func BenchmarkBacklog(b *testing.B) {
	br := broker(b)
	door := newDoorID()
	rec := openRecorder(b)
	_, events := client(b, br, "bench-"+door, false, Topics{door}.Event())
	if err := rec.DB.SaveCursor("mqtt:"+door, 0); err != nil {
		b.Fatal(err)
	}
	for range b.N {
		if _, err := rec.Record(storage.Event{Kind: storage.KindDenied, Door: door, Code: "unknown_face", Reason: "face not recognised",
			AtMicro: time.Now().UnixMicro()}, nil, nil); err != nil {
			b.Fatal(err)
		}
	}
	b.ResetTimer()
	start(b, br.options(door), Deps{Recorder: rec})
	for got := 0; got < b.N; {
		select {
		case <-events:
			got++
		case <-time.After(60 * time.Second):
			b.Fatalf("%d of %d events in 60 s", got, b.N)
		}
	}
	b.StopTimer()
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
	rep, err := rec.DB.Verify(rec.Keys.Public, rec.Snapshots)
	if err != nil || !rep.OK() {
		b.Fatalf("verify: %+v %v", rep, err)
	}
	b.ReportMetric(float64(rep.Checkpoints)*100/float64(b.N), "checkpoints/100events")
}
