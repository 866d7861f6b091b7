package mqtt

import (
	"encoding/json"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/facegate/facegate/storage"
)

// Every event goes out in chain order with a checkpoint that covers it
// and verifies; while the broker is down events pile up in the log, and
// when it is back the backlog arrives, in order, with nothing lost.
func TestEventsInOrderAcrossBrokerRestart(t *testing.T) {
	b := ownBroker(t)
	door := newDoorID()
	rec := openRecorder(t)
	_, events := client(t, b, "sub-"+door, true, Topics{door}.Event())
	lg := &logs{}
	start(t, b.options(door), Deps{Recorder: rec, Log: lg.with()})
	lg.waitFor(t, 10*time.Second, "mqtt: connected")

	record := func(i int) {
		e := storage.Event{Kind: storage.KindGranted, Door: door, Granted: true, Code: "granted", PersonID: int64(i),
			PersonName: fmt.Sprintf("person %d", i), Reason: "rule staff", AtMicro: time.Now().UnixMicro()}
		if i%3 == 0 {
			e = storage.Event{Kind: storage.KindDenied, Door: door, Code: "unknown_face", Reason: "face not recognised", AtMicro: time.Now().UnixMicro()}
		}
		if _, err := rec.Record(e, nil, nil); err != nil {
			t.Fatal(err)
		}
	}
	var got []EventMessage
	collect := func(until int64) {
		await(t, events, 60*time.Second, func(m message) bool {
			var em EventMessage
			if err := json.Unmarshal([]byte(m.Payload), &em); err != nil {
				t.Fatalf("event payload %q: %v", m.Payload, err)
			}
			got = append(got, em)
			return em.Seq >= until
		})
	}
	for i := 1; i <= 5; i++ {
		record(i)
	}
	collect(5)

	b.script(t, "stop")
	lg.waitFor(t, 10*time.Second, "broker connection lost")
	for i := 6; i <= 40; i++ {
		record(i)
	}
	time.Sleep(300 * time.Millisecond) // the publisher polls the log while the broker is away
	b.script(t, "start")
	collect(40)

	checkFeed(t, rec, got, 40)
}

// checkFeed: seqs never go back (a resend repeats, it does not reorder),
// every seq 1..n arrived, each message is its event as logged, and its
// checkpoint covers it and verifies under the appliance's key.
func checkFeed(t *testing.T, rec *storage.Recorder, got []EventMessage, n int64) {
	t.Helper()
	var seqs []int64
	for i, m := range got {
		if i > 0 && m.Seq < got[i-1].Seq {
			t.Errorf("seq %d arrived after %d", m.Seq, got[i-1].Seq)
		}
		seqs = append(seqs, m.Seq)
		e, err := rec.DB.EventBySeq(m.Seq)
		if err != nil {
			t.Fatal(err)
		}
		if m.Hash != e.Hash || m.PrevHash != e.PrevHash || m.Kind != e.Kind || m.Person != e.PersonName || m.Granted != e.Granted ||
			m.Code != e.Code || m.Reason != e.Reason || m.Time != e.At().Format(time.RFC3339Nano) {
			t.Errorf("message %+v\nis not event %+v", m, e)
		}
		if m.Checkpoint.Seq < m.Seq || !storage.VerifyCheckpoint(m.Checkpoint, rec.Keys.Public) {
			t.Errorf("seq %d: checkpoint %+v does not cover it or does not verify", m.Seq, m.Checkpoint)
		}
	}
	seqs = slices.Compact(seqs)
	for i, s := range seqs {
		if s != int64(i+1) {
			t.Fatalf("seqs received %v: want every one of 1..%d", seqs, n)
		}
	}
	if int64(len(seqs)) != n {
		t.Fatalf("%d distinct events received, want %d", len(seqs), n)
	}
}

// The cursor is in the database: a publisher that stops (an appliance
// restart) goes on after the last event the broker acknowledged, sends
// what was recorded meanwhile, and does not send the rest again. On its
// very first start it begins at the chain's head: the history before
// MQTT was enabled is not replayed. Another door's events (a shared
// PostgreSQL log) are left to that door's appliance.
func TestCursorSurvivesPublisherRestart(t *testing.T) {
	b := broker(t)
	door := newDoorID()
	rec := openRecorder(t)
	record := func(n int) { recordAt(t, rec, door, n) }
	record(3) // before MQTT was enabled
	_, events := client(t, b, "sub-"+door, true, Topics{door}.Event())
	lg := &logs{}
	stop := startStoppable(t, b.options(door), Deps{Recorder: rec, Log: lg.with()})
	lg.waitFor(t, 10*time.Second, "first start", "seq=3")
	record(2)
	var seqs []int64
	next := func(until int64) {
		await(t, events, 30*time.Second, func(m message) bool {
			var em EventMessage
			json.Unmarshal([]byte(m.Payload), &em)
			seqs = append(seqs, em.Seq)
			return em.Seq >= until
		})
	}
	next(5)
	stop()
	record(2)
	recordAt(t, rec, "other-door", 1) // its own appliance publishes it
	record(1)
	start(t, b.options(door), Deps{Recorder: rec, Log: (&logs{}).with()})
	next(9)
	if want := []int64{4, 5, 6, 7, 9}; !slices.Equal(seqs, want) {
		t.Fatalf("seqs %v, want %v", seqs, want)
	}
	// The subscriber may see 9 before the publisher has its PUBACK.
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		seq, _, _ := rec.DB.Cursor("mqtt:" + door)
		if seq == 9 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("cursor %d, want 9", seq)
		}
	}
}

// recordAt records n denials at door.
func recordAt(t *testing.T, rec *storage.Recorder, door string, n int) {
	t.Helper()
	for range n {
		if _, err := rec.Record(storage.Event{Kind: storage.KindDenied, Door: door, Code: "unknown_face", AtMicro: time.Now().UnixMicro()}, nil, nil); err != nil {
			t.Fatal(err)
		}
	}
}
