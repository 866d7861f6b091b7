package storage

import (
	"encoding/json"
	"fmt"
	"math"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

func descriptor(seed float32) []float32 {
	d := make([]float32, 128)
	for i := range d {
		d[i] = seed + float32(i)/1000
	}
	return d
}

// A door that applies the central's changes since its revision ends with
// the central's people, templates (re-sealed with its own key), groups,
// suspensions, erasures and policy.
func TestSiteChangesReachADoor(t *testing.T) {
	forEachDB(t, func(t *testing.T, central *testDB) {
		dir := t.TempDir()
		door := openTestDB(t, filepath.Join(dir, "door.db"), dir)
		// A person the door enrolled on its own is not the site's: a full
		// pull removes them.
		if _, err := door.Enroll("LOCAL-1", "Local Only", []NewTemplate{{Descriptor: descriptor(9), ModelVersion: "m1"}}); err != nil {
			t.Fatal(err)
		}
		p, err := central.Enroll("E-1", "Ada", []NewTemplate{{Descriptor: descriptor(1), ModelVersion: "m1"}})
		if err != nil {
			t.Fatal(err)
		}
		pull := func(since int64) SiteChanges {
			t.Helper()
			ch, err := central.SiteChangesSince(since)
			if err != nil {
				t.Fatal(err)
			}
			if err := door.ApplySiteChanges(ch); err != nil {
				t.Fatal(err)
			}
			return ch
		}
		ch := pull(-1)
		if !ch.Full || len(ch.People) != 1 || ch.Policy == nil || ch.Rev == 0 {
			t.Fatalf("first pull %+v: want everything", ch)
		}
		ts, _, err := door.Templates("m1")
		if err != nil || len(ts) != 1 || ts[0].PersonID != p.ID || !slices.Equal(ts[0].Descriptor, descriptor(1)) {
			t.Fatalf("door templates %+v (%v): want Ada's", ts, err)
		}
		if _, err := door.PersonByEmployeeID("LOCAL-1"); err == nil {
			t.Fatal("a person unknown to the central survived a full pull")
		}
		rev := ch.Rev
		// Nothing changed: nothing to apply.
		if ch, err := central.SiteChangesSince(rev); err != nil || !ch.Empty() || ch.Rev != rev {
			t.Fatalf("no change: %+v %v", ch, err)
		}
		since := time.Now().UTC().Truncate(time.Second)
		if err := central.SetSuspended(p.ID, &since); err != nil {
			t.Fatal(err)
		}
		ch = pull(rev)
		if ch.Full || len(ch.People) != 1 || ch.Policy != nil || ch.Rev <= rev {
			t.Fatalf("after a suspension %+v: want Ada alone", ch)
		}
		got, _ := door.PersonByID(p.ID)
		if got.SuspendedSince == nil || !got.SuspendedSince.Equal(since) {
			t.Fatalf("door's Ada %+v: want suspended since %v", got, since)
		}
		rev = ch.Rev
		if err := central.recorder().SavePolicy(PolicyRecords{Areas: []Area{{Name: "hq"}}, Doors: []Door{{ID: "front", Name: "Front",
			Area: "hq", Direction: "in", OpenMillis: 4000, Level: "face"}}, Groups: []Group{{Name: "staff"}},
			PersonGroups: []PersonGroup{{PersonID: p.ID, GroupName: "staff"}}}, "test"); err != nil {
			t.Fatal(err)
		}
		ch = pull(rev)
		if ch.Policy == nil || len(ch.Policy.Doors) != 1 || len(ch.People) != 1 || !slices.Equal(ch.People[0].Groups, []string{"staff"}) {
			t.Fatalf("after a policy edit %+v", ch)
		}
		recs, _ := door.LoadPolicy()
		if len(recs.Doors) != 1 || len(recs.PersonGroups) != 1 {
			t.Fatalf("door policy %+v", recs)
		}
		rev = ch.Rev
		if err := central.recorder().ErasePerson(p.ID, "test", false); err != nil {
			t.Fatal(err)
		}
		ch = pull(rev)
		if !slices.Equal(ch.Deleted, []int64{p.ID}) {
			t.Fatalf("after an erasure %+v: want Ada deleted", ch)
		}
		if n, _ := door.CountPeople(); n != 0 {
			t.Fatalf("door still has %d people after the erasure", n)
		}
		if c, _, _ := door.Cursor(CentralRevCursor); c != ch.Rev {
			t.Fatalf("door's revision cursor %d, want %d", c, ch.Rev)
		}
	})
}

// pushAll sends the door's chain after the central's head, as a door does.
func pushAll(t *testing.T, central, door *testDB, app int64, head int64) SiteReceipt {
	t.Helper()
	evs, err := door.Events(EventFilter{AfterSeq: head})
	if err != nil {
		t.Fatal(err)
	}
	var cps []Checkpoint
	door.g.Order("seq").Find(&cps)
	last, _ := door.EventCount()
	var h Event
	if last > 0 {
		h, _ = door.EventBySeq(last)
	}
	rec, err := central.ReceivePush(app, SitePush{Events: evs, Checkpoints: cps, Head: ChainHead{h.Seq, h.Hash}})
	if err != nil {
		t.Fatal(err)
	}
	return rec
}

func alarmCodes(t *testing.T, db *testDB, app int64) []string {
	t.Helper()
	as, err := db.SiteAlarms(app)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, a := range as {
		out = append(out, a.Code)
	}
	return out
}

// The central stores a door's chain once, verifies it, and raises an
// alarm when the door's log is edited or truncated after sync.
func TestSiteReceiveAndWitness(t *testing.T) {
	forEachDB(t, func(t *testing.T, central *testDB) {
		dir := t.TempDir()
		door := openTestDB(t, filepath.Join(dir, "door.db"), dir)
		tok, err := central.NewOneTimeLink(JoinPurpose, "front", time.Now().Add(time.Hour), "test")
		if err != nil {
			t.Fatal(err)
		}
		key := PublicKeyString(door.Keys.Public)
		app, err := central.JoinAppliance(tok, key, time.Now())
		if err != nil || app.Door != "front" {
			t.Fatalf("join: %+v %v", app, err)
		}
		if again, err := central.JoinAppliance("used-or-not", key, time.Now()); err != nil || again.ID != app.ID {
			t.Fatalf("a joined key joining again: %+v %v", again, err)
		}
		if _, err := central.JoinAppliance(tok, PublicKeyString(central.Keys.Public), time.Now()); err == nil {
			t.Fatal("a join token worked twice")
		}
		for i := range 5 {
			if _, err := door.Append(Event{Kind: KindGranted, Door: "front", PersonID: int64(i)}); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := door.SignCheckpoint(door.Keys); err != nil {
			t.Fatal(err)
		}
		rec := pushAll(t, central, door, app.ID, 0)
		if rec.HeadSeq != 5 || rec.Stored != 5 || len(rec.Alarms) != 0 || rec.HeadsSeq != 5 {
			t.Fatalf("first push %+v", rec)
		}
		// A retried push stores nothing twice.
		if rec := pushAll(t, central, door, app.ID, 0); rec.Stored != 0 || rec.Duplicates != 5 || len(rec.Alarms) != 0 {
			t.Fatalf("retried push %+v", rec)
		}
		if rep, err := central.VerifyAppliance(app.ID, door.snaps); err != nil || !rep.OK() || rep.Events != 5 || rep.LastCheckpoint != 5 {
			t.Fatalf("verify on the central: %+v %v", rep, err)
		}
		// Event 3 edited and the chain re-hashed on the door.
		rehash(t, door, 3, "reason", "edited")
		rec = pushAll(t, central, door, app.ID, 5)
		if !slices.Contains(alarmCodes(t, central, app.ID), "rewritten") {
			t.Fatalf("an edit after sync was not reported: %+v", rec)
		}
		// The last event deleted on the door.
		door.g.Exec("DELETE FROM events WHERE seq = 5")
		pushAll(t, central, door, app.ID, 5)
		if !slices.Contains(alarmCodes(t, central, app.ID), "truncated") {
			t.Fatal("a deleted last event was not reported")
		}
		// The central's copy is untouched and still verifies.
		if rep, err := central.VerifyAppliance(app.ID, door.snaps); err != nil || !rep.OK() {
			t.Fatalf("central copy after the door was tampered with: %+v %v", rep, err)
		}
	})
}

// rehash edits one event's column and re-hashes the chain from there, as
// an attacker with the database file (but not the signing key) would.
func rehash(t *testing.T, db *testDB, from int64, col, val string) {
	t.Helper()
	if err := db.g.Exec("UPDATE events SET "+col+" = ? WHERE seq = ?", val, from).Error; err != nil {
		t.Fatal(err)
	}
	evs, _ := db.Events(EventFilter{AfterSeq: from - 1})
	prev := GenesisHash
	if from > 1 {
		e, _ := db.EventBySeq(from - 1)
		prev = e.Hash
	}
	for _, e := range evs {
		e.PrevHash = prev
		e.ContentHash = ComputeContentHash(e)
		e.Hash = ChainHash(e.Seq, e.PrevHash, e.ContentHash)
		db.g.Exec("UPDATE events SET prev_hash = ?, content_hash = ?, hash = ? WHERE seq = ?", e.PrevHash, e.ContentHash, e.Hash, e.Seq)
		prev = e.Hash
	}
	if got, _ := db.EventBySeq(from); !strings.Contains(got.Reason, val) {
		t.Fatalf("tamper did not take: %+v", got)
	}
}

// An unknown face's margin is +Inf: a push still travels as JSON and
// arrives bit for bit.
func TestSitePushJSONCarriesInfinity(t *testing.T) {
	in := SitePush{Events: []Event{{Seq: 1, Kind: KindDenied, Distance: 0.61, Margin: math.Inf(1)}}, Head: ChainHead{1, "h"},
		Status: &DoorStatus{Camera: "running", Relay: "locked"}}
	b, err := json.Marshal(in)
	if err != nil {
		t.Fatal(err)
	}
	var out SitePush
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatal(err)
	}
	if len(out.Events) != 1 || !math.IsInf(out.Events[0].Margin, 1) || out.Events[0].Distance != 0.61 || out.Head != in.Head ||
		out.Status == nil || *out.Status != *in.Status {
		t.Fatalf("round trip %+v", out)
	}
	if ComputeContentHash(out.Events[0]) != ComputeContentHash(in.Events[0]) {
		t.Fatal("content hash changed on the way")
	}
}

// An empty gallery's margin is NaN (Inf − Inf), which SQLite cannot keep:
// it is stored as +Inf, so the event verifies here and on the central.
func TestNaNMarginVerifies(t *testing.T) {
	forEachDB(t, func(t *testing.T, db *testDB) {
		e, err := db.Append(Event{Kind: KindDenied, Distance: math.Inf(1), Margin: math.NaN()})
		if err != nil || !math.IsInf(e.Margin, 1) {
			t.Fatalf("%+v %v", e, err)
		}
		if rep, err := db.Verify(db.Keys.Public, db.snaps); err != nil || !rep.OK() {
			t.Fatalf("verify: %+v %v", rep, err)
		}
	})
}

// A door's retention and erasure reach the central's copy with its chain:
// the same redactions and purged snapshots, justified by the same events,
// so the copy still verifies.
func TestSiteMirrorsRetentionAndErasure(t *testing.T) {
	forEachDB(t, func(t *testing.T, central *testDB) {
		dir := t.TempDir()
		door := openTestDB(t, filepath.Join(dir, "door.db"), dir)
		tok, _ := central.NewOneTimeLink(JoinPurpose, "front", time.Now().Add(time.Hour), "test")
		app, _ := central.JoinAppliance(tok, PublicKeyString(door.Keys.Public), time.Now())
		old := time.Now().Add(-48 * time.Hour)
		rec := door.recorder()
		for i, granted := range []bool{true, false, true} {
			if _, err := rec.Record(Event{Kind: KindGranted, Granted: granted, PersonID: int64(i + 1), PersonName: "P", AtMicro: old.UnixMicro()},
				[]byte{byte(i), 1}, nil); err != nil {
				t.Fatal(err)
			}
		}
		pushAll(t, central, door, app.ID, 0)
		central.snaps = door.snaps // one store for the test: what the central holds
		if _, err := rec.ApplyRetention(RetentionPolicy{GrantSnapshotDays: 1, EventDays: 1}, time.Now()); err != nil {
			t.Fatal(err)
		}
		if err := rec.ErasePerson(2, "admin at the door", true); err != nil {
			t.Fatal(err)
		}
		r := pushAll(t, central, door, app.ID, 3)
		if len(r.Alarms) != 0 || len(r.Purge) != 3 {
			t.Fatalf("receipt %+v: want the two granted snapshots and the erased person's purged", r)
		}
		evs, _ := central.SiteChain(app.ID, 0, 10)
		for _, e := range evs[:3] {
			if !e.Redacted || e.PersonName != "" {
				t.Errorf("central copy of event %d not redacted: %+v", e.Seq, e)
			}
		}
		if rep, err := central.VerifyAppliance(app.ID, door.snaps); err != nil || !rep.OK() || rep.Redacted != 3 {
			t.Fatalf("central copy after retention and erasure: %+v %v", rep, err)
		}
	})
}

// Templates travel exactly, as base64 of their stored encoding.
func TestSiteTemplateJSON(t *testing.T) {
	in := SiteChanges{Rev: 3, People: []SitePerson{{Person: Person{ID: 1, EmployeeID: "E-1", Name: "Ada"},
		Templates: []SiteTemplate{{ID: 9, ModelVersion: "m", Descriptor: descriptor(0.5)}}}}}
	b, err := json.Marshal(in)
	if err != nil || !strings.Contains(string(b), `"descriptor_b64"`) {
		t.Fatalf("%s %v", b, err)
	}
	var out SiteChanges
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatal(err)
	}
	got := out.People[0].Templates[0]
	if got.ID != 9 || got.ModelVersion != "m" || !slices.Equal(got.Descriptor, descriptor(0.5)) {
		t.Fatalf("round trip %+v", got)
	}
	if err := json.Unmarshal([]byte(`{"id":1,"descriptor_b64":"AAAA"}`), &got); err == nil {
		t.Fatal("a truncated descriptor was accepted")
	}
}

// A PIN set on the central reaches the door as its hash; the door counts
// wrong PINs on its own (a change of the person that leaves the hash as it
// is keeps the door's count), a new PIN starts afresh, a cleared one is
// cleared at the door, and a wrong PIN counted on the central itself is no
// revision.
func TestSitePINsReachADoor(t *testing.T) {
	forEachDB(t, func(t *testing.T, central *testDB) {
		dir := t.TempDir()
		door := openTestDB(t, filepath.Join(dir, "door.db"), dir)
		p, err := central.Enroll("E-1", "Ada", []NewTemplate{{Descriptor: descriptor(1), ModelVersion: "m1"}})
		if err != nil {
			t.Fatal(err)
		}
		rev := int64(-1)
		pull := func() SiteChanges {
			t.Helper()
			ch, err := central.SiteChangesSince(rev)
			if err == nil {
				err = door.ApplySiteChanges(ch)
			}
			if err != nil {
				t.Fatal(err)
			}
			rev = ch.Rev
			return ch
		}
		check := func(pin string) PINCheck {
			t.Helper()
			r, err := door.CheckPIN(p.ID, pin, time.Now())
			if err != nil {
				t.Fatal(err)
			}
			return r
		}
		pull()
		if r := check("2580"); !r.NoPIN {
			t.Fatalf("before any PIN: %+v", r)
		}
		if err := central.SetPIN(p.ID, "2580"); err != nil {
			t.Fatal(err)
		}
		if ch := pull(); len(ch.People) != 1 || ch.People[0].PINHash == "" || strings.Contains(ch.People[0].PINHash, "2580") {
			t.Fatalf("after the PIN was set: %+v", ch)
		}
		if r := check("2580"); !r.OK {
			t.Fatalf("the central's PIN at the door: %+v", r)
		}
		if r := check("1397"); r.OK || r.Failures != 1 {
			t.Fatalf("a wrong PIN at the door: %+v", r)
		}
		if _, err := central.CheckPIN(p.ID, "1397", time.Now()); err != nil {
			t.Fatal(err)
		}
		if ch, err := central.SiteChangesSince(rev); err != nil || !ch.Empty() {
			t.Fatalf("a wrong PIN counted on the central made a revision: %+v %v", ch, err)
		}
		if err := central.RenamePerson(p.ID, "Ada L."); err != nil {
			t.Fatal(err)
		}
		pull()
		if r := check("1397"); r.Failures != 2 {
			t.Fatalf("the door's count of wrong PINs after a rename on the central: %+v, want 2", r)
		}
		if err := central.SetPIN(p.ID, "4826"); err != nil {
			t.Fatal(err)
		}
		pull()
		if r := check("2580"); r.OK || r.Failures != 1 {
			t.Fatalf("the old PIN after a new one: %+v (want refused, counted afresh)", r)
		}
		if r := check("4826"); !r.OK {
			t.Fatalf("the new PIN: %+v", r)
		}
		if err := central.ClearPIN(p.ID); err != nil {
			t.Fatal(err)
		}
		pull()
		if r := check("4826"); !r.NoPIN {
			t.Fatalf("after the central cleared the PIN: %+v", r)
		}
	})
}

// A hash that is not bcrypt is refused by the door, saying why, and the
// door keeps its previous revision.
func TestSitePINHashMustBeBcrypt(t *testing.T) {
	dir := t.TempDir()
	door := openTestDB(t, filepath.Join(dir, "door.db"), dir)
	ch := SiteChanges{Rev: 5, Full: true, People: []SitePerson{{Person: Person{ID: 1, EmployeeID: "E-1", Name: "Ada"}, PINHash: "2580"}}}
	err := door.ApplySiteChanges(ch)
	if err == nil || !strings.Contains(err.Error(), "not a bcrypt hash") {
		t.Fatalf("err %v: want the hash refused", err)
	}
	if _, found, _ := door.Cursor(CentralRevCursor); found {
		t.Fatal("the revision cursor moved on a refused change")
	}
}

// Erased on the central with their snapshots: the central deletes its
// copies of the person's snapshots from the doors' chains, and tells the
// doors (EraseSnapshots) so that they delete theirs.
func TestSiteErasureWithSnapshots(t *testing.T) {
	forEachDB(t, func(t *testing.T, central *testDB) {
		dir := t.TempDir()
		door := openTestDB(t, filepath.Join(dir, "door.db"), dir)
		tok, _ := central.NewOneTimeLink(JoinPurpose, "front", time.Now().Add(time.Hour), "test")
		app, _ := central.JoinAppliance(tok, PublicKeyString(door.Keys.Public), time.Now())
		p, err := central.Enroll("E-1", "Ada", []NewTemplate{{Descriptor: descriptor(1), ModelVersion: "m1"}})
		if err != nil {
			t.Fatal(err)
		}
		rev := int64(-1)
		ch, _ := central.SiteChangesSince(rev)
		if err := door.ApplySiteChanges(ch); err != nil {
			t.Fatal(err)
		}
		rev = ch.Rev
		var hashes []string
		for i, who := range []int64{p.ID, 99} {
			e, err := door.recorder().Record(Event{Kind: KindGranted, Granted: true, PersonID: who, PersonName: "P"}, []byte{byte(i), 7}, []byte{byte(i), 8})
			if err != nil {
				t.Fatal(err)
			}
			hashes = append(hashes, e.SnapshotHash, e.FaceHash)
		}
		pushAll(t, central, door, app.ID, 0)
		for i := 0; i < 2; i++ { // the central's own copies, as the sync API stores them
			for _, b := range [][]byte{{byte(i), 7}, {byte(i), 8}} {
				if _, err := central.snaps.Put(b); err != nil {
					t.Fatal(err)
				}
			}
		}
		if err := central.recorder().ErasePerson(p.ID, "test", true); err != nil {
			t.Fatal(err)
		}
		for i, h := range hashes {
			_, err := central.snaps.Get(h)
			if gone := err != nil; gone != (i < 2) {
				t.Errorf("central snapshot %d (%s) gone=%v, want %v", i, h, gone, i < 2)
			}
		}
		ch, err = central.SiteChangesSince(rev)
		if err != nil || !slices.Equal(ch.EraseSnapshots, []int64{p.ID}) || !slices.Equal(ch.Deleted, []int64{p.ID}) {
			t.Fatalf("changes after the erasure: %+v %v", ch, err)
		}
		// An entry the door recorded before it heard of the erasure reaches
		// the central after it: its snapshots are let go there too (and only
		// its: another person's entry keeps them).
		pushed, _ := door.EventCount()
		late, _ := door.recorder().Record(Event{Kind: KindGranted, Granted: true, PersonID: p.ID, PersonName: "P"}, []byte{3, 7}, []byte{3, 8})
		other, _ := door.recorder().Record(Event{Kind: KindGranted, Granted: true, PersonID: 99, PersonName: "Q"}, []byte{4, 7}, nil)
		if got := pushAll(t, central, door, app.ID, pushed).Purge; !slices.Equal(got, []string{late.SnapshotHash, late.FaceHash}) {
			t.Errorf("late entry of the erased person: purge %v, want its snapshot and face %v (not %s)",
				got, []string{late.SnapshotHash, late.FaceHash}, other.SnapshotHash)
		}
		// Without snapshots: nothing to tell beyond the deletion.
		q, _ := central.Enroll("E-2", "Bo", []NewTemplate{{Descriptor: descriptor(2), ModelVersion: "m1"}})
		rev = ch.Rev
		if err := central.recorder().ErasePerson(q.ID, "test", false); err != nil {
			t.Fatal(err)
		}
		if ch, err = central.SiteChangesSince(rev); err != nil || len(ch.EraseSnapshots) != 0 {
			t.Fatalf("an erasure without snapshots: %+v %v", ch, err)
		}
	})
}

// A first pull in pages ends as the pull in one answer does: the central's
// people and policy, the door's own people gone, the cursor at the first
// page's revision (so what changed while the pages were read comes next);
// a pull cut short leaves the cursor unset and starts again.
func TestSiteFullPullInPages(t *testing.T) {
	forEachDB(t, func(t *testing.T, central *testDB) {
		dir := t.TempDir()
		door := openTestDB(t, filepath.Join(dir, "door.db"), dir)
		if _, err := door.Enroll("LOCAL-1", "Local Only", []NewTemplate{{Descriptor: descriptor(9), ModelVersion: "m1"}}); err != nil {
			t.Fatal(err)
		}
		var ids []int64
		for i := range 7 {
			p, err := central.Enroll(fmt.Sprintf("E-%d", i), fmt.Sprintf("P%d", i), []NewTemplate{{Descriptor: descriptor(float32(i)), ModelVersion: "m1"}})
			if err != nil {
				t.Fatal(err)
			}
			ids = append(ids, p.ID)
		}
		if err := central.recorder().SavePolicy(PolicyRecords{Groups: []Group{{Name: "staff"}}, PersonGroups: []PersonGroup{{PersonID: ids[6], GroupName: "staff"}}}, "test"); err != nil {
			t.Fatal(err)
		}
		pages := func(f *SiteFullPull, stopAfter int) (n int) {
			t.Helper()
			for after := int64(0); ; n++ {
				if n == stopAfter {
					return n
				}
				ch, err := central.SiteFullPage(after, 3)
				if err != nil {
					t.Fatal(err)
				}
				if (ch.Policy != nil) != (after == 0) || len(ch.People) > 3 {
					t.Fatalf("page after %d: %d people, policy %v", after, len(ch.People), ch.Policy != nil)
				}
				if n == 0 { // a change while the pages are read
					if err := central.RenamePerson(ids[0], "P0 renamed"); err != nil {
						t.Fatal(err)
					}
				}
				done, err := door.ApplySitePage(f, ch)
				if err != nil {
					t.Fatal(err)
				}
				if done {
					return n + 1
				}
				after = ch.Next
			}
		}
		pages(&SiteFullPull{}, 2) // cut short
		if _, found, _ := door.Cursor(CentralRevCursor); found {
			t.Fatal("the cursor moved before the last page")
		}
		f := &SiteFullPull{}
		if n := pages(f, -1); n != 3 {
			t.Fatalf("%d pages for 7 people by 3, want 3", n)
		}
		if rev, _, _ := door.Cursor(CentralRevCursor); rev != f.Rev {
			t.Fatalf("cursor %d, want the first page's revision %d", rev, f.Rev)
		}
		if n, _ := door.CountPeople(); n != 7 {
			t.Fatalf("door has %d people, want the central's 7", n)
		}
		if _, err := door.PersonByEmployeeID("LOCAL-1"); err == nil {
			t.Fatal("a person unknown to the central survived the paged pull")
		}
		if recs, _ := door.LoadPolicy(); len(recs.PersonGroups) != 1 || recs.PersonGroups[0].PersonID != ids[6] {
			t.Fatalf("door policy %+v", recs)
		}
		ch, err := central.SiteChangesSince(f.Rev)
		if err != nil || len(ch.People) != 1 || ch.People[0].Person.Name != "P0 renamed" {
			t.Fatalf("changes after the first page's revision: %+v %v (want the rename made while paging)", ch, err)
		}
	})
}
