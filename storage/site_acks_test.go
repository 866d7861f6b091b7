package storage

import (
	"errors"
	"path/filepath"
	"testing"
	"time"
)

// An acknowledgement asked for on the central travels in every receipt to
// its door until the door's audit event for the alarm arrives; the door
// records it once however often it is asked, and one made at the door
// first makes the request moot.
func TestSiteAlarmAckRequest(t *testing.T) {
	forEachDB(t, func(t *testing.T, central *testDB) {
		dir := t.TempDir()
		door := openTestDB(t, filepath.Join(dir, "door.db"), dir)
		tok, _ := central.NewOneTimeLink(JoinPurpose, "front", time.Now().Add(time.Hour), "test")
		app, err := central.JoinAppliance(tok, PublicKeyString(door.Keys.Public), time.Now())
		if err != nil {
			t.Fatal(err)
		}
		rec := door.recorder()
		forced, _ := door.Append(Event{Kind: KindDoorForced, Door: "front", Reason: "door opened while locked"})
		held, _ := door.Append(Event{Kind: KindDoorHeldOpen, Door: "front"})
		granted, _ := door.Append(Event{Kind: KindGranted, Granted: true, Door: "front", PersonID: 1})
		pushAll(t, central, door, app.ID, 0)
		open := openAlarms(t, central)
		if len(open) != 2 || open[0].Seq != held.Seq || open[1].Seq != forced.Seq || open[0].Door != "front" || open[0].Requested != nil {
			t.Fatalf("open alarms on the central: %+v", open)
		}
		if _, _, err := central.RequestDoorAlarmAck(siteRowOf(t, central, granted.Seq), "ivy@central", time.Now()); !errors.Is(err, ErrNotFound) {
			t.Fatalf("a granted entry acknowledged as an alarm: %v", err)
		}
		e, fresh, err := central.RequestDoorAlarmAck(open[1].ID, "ivy@central", time.Now())
		if err != nil || !fresh || e.Seq != forced.Seq || e.Door != "front" {
			t.Fatalf("request: %+v %v %v", e, fresh, err)
		}
		if _, fresh, err := central.RequestDoorAlarmAck(open[1].ID, "ivy@central", time.Now()); err != nil || fresh {
			t.Fatalf("the same request again: fresh %v, %v (want one request, no error)", fresh, err)
		}
		if open := openAlarms(t, central); len(open) != 2 || open[1].Requested == nil || open[1].Requested.By != "ivy@central" {
			t.Fatalf("the requested alarm is not shown as waiting: %+v", open)
		}
		// The receipt carries it, and carries it again while the door's
		// answer has not arrived (a door with a backlog pushes in batches:
		// here the second push holds none of its events).
		for i := range 2 {
			r := pushAll(t, central, door, app.ID, granted.Seq+int64(i))
			if len(r.Acks) != 1 || r.Acks[0].Seq != forced.Seq || r.Acks[0].Kind != KindDoorForced || r.Acks[0].By != "ivy@central" {
				t.Fatalf("receipt's acknowledgements: %+v", r.Acks)
			}
			if ok, err := rec.AcknowledgeAlarm(r.Acks[0].Seq, r.Acks[0].By); err != nil || ok != (i == 0) {
				t.Fatalf("delivery %d recorded %v (%v), want only the first", i+1, ok, err)
			}
		}
		if n := door.countAcks(t); n != 1 {
			t.Fatalf("the door recorded %d acknowledgements of one alarm, want 1", n)
		}
		// Its acknowledgement arrives: the request is done.
		if r := pushAll(t, central, door, app.ID, granted.Seq); len(r.Acks) != 0 {
			t.Fatalf("the request survived the door's acknowledgement: %+v", r.Acks)
		}
		if open := openAlarms(t, central); len(open) != 1 || open[0].Seq != held.Seq {
			t.Fatalf("open alarms after the door's acknowledgement: %+v", open)
		}
		if _, _, err := central.RequestDoorAlarmAck(open[1].ID, "ivy@central", time.Now()); !errors.Is(err, ErrAlarmAcknowledged) {
			t.Fatalf("an acknowledged alarm asked for again: %v", err)
		}
		// Acknowledged at the door while a request waits: nothing more is
		// recorded, and the request ends with the next push.
		central.RequestDoorAlarmAck(open[0].ID, "ivy@central", time.Now())
		if ok, err := rec.AcknowledgeAlarm(held.Seq, "frank"); !ok || err != nil {
			t.Fatalf("acknowledged at the door: %v %v", ok, err)
		}
		head, _ := central.applianceByID(app.ID)
		if r := pushAll(t, central, door, app.ID, head.HeadSeq); len(r.Acks) != 0 || len(openAlarms(t, central)) != 0 {
			t.Fatalf("after the door's own acknowledgement: receipt %+v, open %+v", r.Acks, openAlarms(t, central))
		}
		if n := door.countAcks(t); n != 2 {
			t.Fatalf("%d acknowledgements in the door's chain, want 2", n)
		}
		if _, err := rec.AcknowledgeAlarm(granted.Seq, "frank"); !errors.Is(err, ErrNotFound) {
			t.Fatalf("a granted entry acknowledged at the door: %v", err)
		}
	})
}

func openAlarms(t *testing.T, central *testDB) []DoorAlarm {
	t.Helper()
	open, err := central.SiteOpenDoorAlarms(time.Now().Add(-time.Hour), 100)
	if err != nil {
		t.Fatal(err)
	}
	return open
}

func siteRowOf(t *testing.T, central *testDB, seq int64) int64 {
	t.Helper()
	var row siteEventRow
	if err := central.g.Where("seq = ?", seq).First(&row).Error; err != nil {
		t.Fatal(err)
	}
	return row.ID
}

func (tdb *testDB) countAcks(t *testing.T) int {
	t.Helper()
	acked, err := tdb.AcknowledgedAlarms(0)
	if err != nil {
		t.Fatal(err)
	}
	var n int64
	tdb.g.Model(&Event{}).Where("code = ?", ActionAlarmAck).Count(&n)
	if int(n) != len(acked) {
		t.Fatalf("%d acknowledgement events for %d alarms", n, len(acked))
	}
	return int(n)
}
