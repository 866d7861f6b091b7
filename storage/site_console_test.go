package storage

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// joinDoor joins a fresh door database to the central as door.
func joinDoor(t *testing.T, central *testDB, door string) (*testDB, SiteAppliance) {
	t.Helper()
	dir := t.TempDir()
	db := openTestDB(t, filepath.Join(dir, door+".db"), dir)
	tok, err := central.NewOneTimeLink(JoinPurpose, door, time.Now().Add(time.Hour), "test")
	if err != nil {
		t.Fatal(err)
	}
	app, err := central.JoinAppliance(tok, PublicKeyString(db.Keys.Public), time.Now())
	if err != nil {
		t.Fatal(err)
	}
	return db, app
}

// The console reads every door's events as one history: newest first,
// paged by time across doors, filtered to one door (admin actions, which
// name no door, included), and each event found again by its row.
func TestSiteEventsAcrossDoors(t *testing.T) {
	forEachDB(t, func(t *testing.T, central *testDB) {
		front, fa := joinDoor(t, central, "front")
		back, ba := joinDoor(t, central, "back")
		base := time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC).UnixMicro()
		// Interleaved in time: front at 0, 2, 4 min; back at 1, 3 min and an admin action at 5.
		for i := range 3 {
			front.Append(Event{Kind: KindGranted, Granted: true, Door: "front", Area: "hq", Direction: "in", PersonID: 1, PersonName: "Ada",
				AtMicro: base + int64(2*i)*60e6})
		}
		for i := range 2 {
			back.Append(Event{Kind: KindDenied, Door: "back", Reason: "unknown", AtMicro: base + int64(2*i+1)*60e6})
		}
		back.Append(Event{Kind: KindAdmin, Code: "settings_saved", By: "root", AtMicro: base + 5*60e6})
		pushAll(t, central, front, fa.ID, 0)
		pushAll(t, central, back, ba.ID, 0)

		all, err := central.SiteEvents(SiteEventFilter{EventFilter: EventFilter{Newest: true}})
		if err != nil || len(all) != 6 {
			t.Fatalf("all doors: %d events, %v", len(all), err)
		}
		var doors []string
		for _, e := range all {
			doors = append(doors, e.Door)
		}
		if want := []string{"back", "front", "back", "front", "back", "front"}; !slices.Equal(doors, want) {
			t.Fatalf("newest first across doors: %v, want %v", doors, want)
		}
		// Paging by time: two pages of 4 and 2, nothing twice.
		p1, _ := central.SiteEvents(SiteEventFilter{EventFilter: EventFilter{Newest: true, Limit: 4}})
		last := p1[len(p1)-1]
		p2, _ := central.SiteEvents(SiteEventFilter{EventFilter: EventFilter{Newest: true, Limit: 4}, BeforeMicro: last.AtMicro, BeforeID: last.ID})
		if len(p1) != 4 || len(p2) != 2 || p2[0].ID == last.ID || p2[1].AtMicro != base {
			t.Fatalf("pages %d + %d: %+v", len(p1), len(p2), p2)
		}
		// One door: its admin action, which names no door, is in it.
		backOnly, _ := central.SiteEvents(SiteEventFilter{EventFilter: EventFilter{Door: "back", Newest: true}})
		if len(backOnly) != 3 || backOnly[0].Kind != KindAdmin || backOnly[0].Door != "back" {
			t.Fatalf("door back: %+v", backOnly)
		}
		denied := false
		noAdmin, _ := central.SiteEvents(SiteEventFilter{EventFilter: EventFilter{Granted: &denied, ExcludeKinds: []string{KindAdmin}}})
		if len(noAdmin) != 2 || noAdmin[0].AtMicro > noAdmin[1].AtMicro {
			t.Fatalf("denied, oldest first: %+v", noAdmin)
		}
		got, err := central.SiteEventByID(backOnly[1].ID)
		if err != nil || got.Hash != backOnly[1].Hash || got.Seq != 2 {
			t.Fatalf("by row: %+v %v", got, err)
		}
		if _, err := central.SiteEventByID(1 << 40); !errors.Is(err, ErrNotFound) {
			t.Fatalf("a row that is not there: %v", err)
		}
	})
}

// Presence across doors: a person in by one door and out by another is
// out; the newest passage wins whichever door recorded it.
func TestLastSitePassages(t *testing.T) {
	forEachDB(t, func(t *testing.T, central *testDB) {
		front, fa := joinDoor(t, central, "front")
		back, ba := joinDoor(t, central, "back")
		base := time.Now().Add(-time.Hour).UnixMicro()
		pass := func(db *testDB, door, dir string, person int64, min int64) {
			if _, err := db.Append(Event{Kind: KindGranted, Granted: true, Door: door, Area: "hq", Direction: dir, PersonID: person,
				PersonName: "P", AtMicro: base + min*60e6}); err != nil {
				t.Fatal(err)
			}
		}
		pass(front, "front", "in", 1, 0)
		pass(back, "back", "out", 1, 10) // Ada left by the back door
		pass(back, "back", "in", 2, 5)   // Bo came in by the back door
		front.Append(Event{Kind: KindDenied, Door: "front", Area: "hq", Direction: "out", PersonID: 2, AtMicro: base + 20*60e6})
		pushAll(t, central, front, fa.ID, 0)
		pushAll(t, central, back, ba.ID, 0)
		last, err := central.LastSitePassages(time.Now())
		if err != nil || len(last) != 2 {
			t.Fatalf("%+v %v", last, err)
		}
		got := map[int64]string{}
		for _, e := range last {
			got[e.PersonID] = e.Direction + "@" + e.Door
		}
		if got[1] != "out@back" || got[2] != "in@back" {
			t.Fatalf("last passages %v: want Ada out by the back door, Bo in (a denial is no passage)", got)
		}
		// Before Ada left, she was in.
		early, _ := central.LastSitePassages(time.UnixMicro(base + 7*60e6))
		if len(early) != 2 || early[0].PersonID != 1 || early[0].Direction != "in" {
			t.Fatalf("at 7 min: %+v", early)
		}
	})
}

// Each door's state with its backlog, last push, reported hardware and
// open alarms; an alarm acknowledged once, and then no longer counted.
func TestSiteAppliancesAndAlarms(t *testing.T) {
	forEachDB(t, func(t *testing.T, central *testDB) {
		front, fa := joinDoor(t, central, "front")
		_, _ = joinDoor(t, central, "back")
		for range 3 {
			front.Append(Event{Kind: KindGranted, Door: "front"})
		}
		evs, _ := front.Events(EventFilter{})
		// Two of three sent, the head says three: a backlog of one. Event 1
		// is left out, so a gap alarm is raised.
		if _, err := central.ReceivePush(fa.ID, SitePush{Events: evs[1:2], Head: ChainHead{3, evs[2].Hash},
			Status: &DoorStatus{Camera: "running", Relay: "locked"}}); err != nil {
			t.Fatal(err)
		}
		ds, err := central.SiteAppliances()
		if err != nil || len(ds) != 2 {
			t.Fatalf("%+v %v", ds, err)
		}
		d := ds[0]
		if d.Door != "front" || d.Backlog != 1 || d.Camera != "running" || d.Relay != "locked" || d.SyncedMicro == 0 || d.OpenAlarms == 0 {
			t.Fatalf("front: %+v", d)
		}
		if !d.Online(time.Now(), time.Minute) || d.Online(time.Now().Add(2*time.Minute), time.Minute) {
			t.Fatal("online by last contact against the staleness")
		}
		if ds[1].Door != "back" || ds[1].Backlog != 0 || ds[1].OpenAlarms != 0 || ds[1].SyncedMicro != 0 || ds[1].Camera != "" {
			t.Fatalf("back (never pushed): %+v", ds[1])
		}
		alarms, err := central.SiteDoorAlarms("front")
		if err != nil || len(alarms) != int(d.OpenAlarms) || alarms[0].Door != "front" {
			t.Fatalf("front alarms %+v %v", alarms, err)
		}
		if none, _ := central.SiteDoorAlarms("back"); len(none) != 0 {
			t.Fatalf("back alarms %+v", none)
		}
		if err := central.AcknowledgeSiteAlarm(alarms[0].ID, "root", time.Now()); err != nil {
			t.Fatal(err)
		}
		if err := central.AcknowledgeSiteAlarm(alarms[0].ID, "root", time.Now()); !errors.Is(err, ErrNotFound) {
			t.Fatalf("acknowledged twice: %v", err)
		}
		ds, _ = central.SiteAppliances()
		after, _ := central.SiteDoorAlarms("")
		acked := after[len(after)-1]
		if ds[0].OpenAlarms != d.OpenAlarms-1 || acked.ID != alarms[0].ID || acked.AckedBy != "root" {
			t.Fatalf("after acknowledging: %d open, last listed %+v", ds[0].OpenAlarms, acked)
		}
		if names, _ := central.SiteDoorNames(); !slices.Equal(names, []string{"back", "front"}) {
			t.Fatalf("door names %v", names)
		}
	})
}

// A door's evidence exported from the central's copy verifies with the
// door's key alone, as one exported at the door; events no signed head
// covers yet are left out.
func TestExportSiteVerifies(t *testing.T) {
	forEachDB(t, func(t *testing.T, central *testDB) {
		door, app := joinDoor(t, central, "front")
		_, _ = joinDoor(t, central, "back")
		rec := door.recorder()
		for i := range 4 {
			if _, err := rec.Record(Event{Kind: KindGranted, Granted: true, Door: "front", PersonID: int64(i%2 + 1), PersonName: "P"},
				[]byte{byte(i), 7}, nil); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := door.SignCheckpoint(door.Keys); err != nil {
			t.Fatal(err)
		}
		door.Append(Event{Kind: KindDenied, Door: "front", PersonID: 1}) // 5: not signed yet
		pushAll(t, central, door, app.ID, 0)
		zipPath := filepath.Join(t.TempDir(), "b.zip")
		f, _ := os.Create(zipPath)
		n, err := central.ExportSite(EventFilter{Door: "front", PersonID: 1}, door.snaps, f)
		f.Close()
		if err != nil || n != 2 {
			t.Fatalf("export person 1 at front: %d events, %v (want 2: the unsigned fifth left out)", n, err)
		}
		rep, err := VerifyBundle(zipPath, door.Keys.Public)
		if err != nil || !rep.OK() || rep.Snapshots != 2 {
			t.Fatalf("bundle from the central: %+v %v", rep, err)
		}
		if rep, _ := VerifyBundle(zipPath, central.Keys.Public); rep.OK() {
			t.Fatal("the bundle verified under another key")
		}
		if _, err := central.ExportSite(EventFilter{Door: "back"}, door.snaps, io.Discard); err == nil {
			t.Fatal("a door with nothing signed exported")
		}
		if _, err := central.ExportSite(EventFilter{}, door.snaps, io.Discard); err == nil || !strings.Contains(err.Error(), "door") {
			t.Fatalf("no door: %v", err)
		}
	})
}
