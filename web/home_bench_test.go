package web

import (
	"io"
	"net/http"
	"testing"
	"time"

	"github.com/facegate/facegate/storage"
)

// The home page on SQLite with a busy day behind it: 2,000 decisions
// today (a door passing one face every 30 s for 16 hours) and 200 alarms
// in the last 24 hours, 100 of them acknowledged.
func BenchmarkHomePage(b *testing.B) {
	h := newHarness(b)
	h.user("ada", storage.RoleAdmin)
	start := h.now().Add(-16 * time.Hour)
	for i := range 2000 {
		e := storage.Event{AtMicro: start.Add(time.Duration(i) * 28 * time.Second).UnixMicro(), Kind: storage.KindGranted, Granted: true, PersonID: 1, Code: "granted"}
		if i%4 == 0 {
			e.Kind, e.Granted, e.PersonID, e.Code = storage.KindDenied, false, 0, "unknown_face"
		}
		if _, err := h.rec.Record(e, nil, nil); err != nil {
			b.Fatal(err)
		}
	}
	for i := range 200 {
		se, err := h.rec.Record(storage.Event{AtMicro: start.Add(time.Duration(i) * 4 * time.Minute).UnixMicro(), Kind: storage.KindDoorHeldOpen, Door: "lab-in"}, nil, nil)
		if err != nil {
			b.Fatal(err)
		}
		if i%2 == 0 {
			h.s.audit("ada", storage.ActionAlarmAck, map[string]any{"seq": se.Seq, "kind": se.Kind})
		}
	}
	c := h.login("ada")
	b.ResetTimer()
	for b.Loop() {
		resp, err := c.Get(h.ts.URL + "/")
		if err != nil {
			b.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			b.Fatalf("home: status %d", resp.StatusCode)
		}
	}
}
