package storage

import (
	"archive/zip"
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

var t0 = time.Date(2026, 11, 2, 9, 0, 0, 0, time.UTC)

// fill records n decisions, one a minute from t0, alternating two people
// and grant/deny, each with a distinct "JPEG" snapshot.
func fill(t *testing.T, r *Recorder, n int) []Event {
	t.Helper()
	var out []Event
	for i := 0; i < n; i++ {
		e := Event{AtMicro: t0.Add(time.Duration(i) * time.Minute).UnixMicro(), Door: "server-room", Area: "server room",
			Direction: "in", Granted: i%2 == 0, PersonID: int64(1 + i%2), PersonName: fmt.Sprintf("person %d", 1+i%2),
			Distance: 0.41 + float64(i)/1000, Margin: 0.2, Frames: 2, Liveness: "live", ModelVersion: "m1"}
		if e.Granted {
			e.Kind, e.Code, e.Reason = "access_granted", "granted", `granted by rule "staff"`
		} else {
			e.Kind, e.Code, e.Reason = "access_denied", "outside_schedule", "outside schedule 'office hours'"
		}
		ev, err := r.Record(e, []byte(fmt.Sprintf("\xff\xd8frame %d\xff\xd9", i)), []byte(fmt.Sprintf("\xff\xd8face %d\xff\xd9", i)))
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, ev)
	}
	return out
}

func mustVerify(t *testing.T, db *testDB) VerifyReport {
	t.Helper()
	rep, err := db.Verify(db.Keys.Public, db.snaps)
	if err != nil {
		t.Fatal(err)
	}
	return rep
}

func TestChainConcurrentAppendsAndCheckpoints(t *testing.T) {
	forEachDB(t, func(t *testing.T, db *testDB) {
		r := db.recorder()
		var wg sync.WaitGroup
		errs := make(chan error, 8)
		for w := 0; w < 4; w++ {
			wg.Add(1)
			go func(w int) {
				defer wg.Done()
				for i := 0; i < 50; i++ {
					if _, err := r.Record(Event{Kind: "access_denied", Door: fmt.Sprint("d", w), Reason: "x"}, nil, nil); err != nil {
						errs <- err
						return
					}
				}
			}(w)
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Fatal(err)
		}
		rep := mustVerify(t, db)
		if !rep.OK() || rep.Events != 200 || rep.Checkpoints != 2 || rep.LastCheckpoint != 200 {
			t.Fatalf("report %+v", rep)
		}
	})
}

// Every kind of edit is found, at the first broken position.
func TestTamperingDetected(t *testing.T) {
	cases := []struct {
		name   string
		tamper func(t *testing.T, db *testDB, evs []Event)
		first  int64
		says   string
	}{
		{"edited reason", func(t *testing.T, db *testDB, evs []Event) {
			db.g.Exec("UPDATE events SET reason = 'granted by rule \"vip\"' WHERE seq = 7")
		}, 7, "content was edited"},
		{"edited time", func(t *testing.T, db *testDB, evs []Event) {
			db.g.Exec("UPDATE events SET at_micro = at_micro + 3600000000 WHERE seq = 12")
		}, 12, "content was edited"},
		{"deleted event", func(t *testing.T, db *testDB, evs []Event) {
			db.g.Exec("DELETE FROM events WHERE seq = 20")
		}, 20, "missing"},
		{"reordered events", func(t *testing.T, db *testDB, evs []Event) {
			db.g.Exec("UPDATE events SET seq = -1 WHERE seq = 30")
			db.g.Exec("UPDATE events SET seq = 30 WHERE seq = 31")
			db.g.Exec("UPDATE events SET seq = 31 WHERE seq = -1")
		}, 30, "content was edited"},
		{"inserted event, chain recomputed without the key", func(t *testing.T, db *testDB, evs []Event) {
			// A careful forger: shift every later event and rehash the whole tail.
			db.g.Exec("UPDATE events SET seq = seq + 1000 WHERE seq >= 40")
			db.g.Exec("UPDATE events SET seq = seq - 999 WHERE seq >= 1040")
			var prev Event
			db.g.Where("seq = 39").First(&prev)
			forged := Event{Seq: 40, AtMicro: evs[38].AtMicro + 1, Kind: "access_granted", Granted: true, PersonID: 9, PersonName: "intruder", PrevHash: prev.Hash}
			forged.ContentHash = ComputeContentHash(forged)
			forged.Hash = ChainHash(40, forged.PrevHash, forged.ContentHash)
			db.g.Create(&forged)
			var all []Event
			db.g.Where("seq > 40").Order("seq").Find(&all)
			p := forged.Hash
			for _, e := range all {
				e.PrevHash = p
				e.ContentHash = ComputeContentHash(e)
				e.Hash = ChainHash(e.Seq, e.PrevHash, e.ContentHash)
				db.g.Save(&e)
				p = e.Hash
			}
		}, 100, "differs from the signed one"},
		{"swapped snapshot", func(t *testing.T, db *testDB, evs []Event) {
			a, _ := db.snaps.Path(evs[4].SnapshotHash)
			b, _ := db.snaps.Path(evs[5].SnapshotHash)
			ab, _ := os.ReadFile(a)
			bb, _ := os.ReadFile(b)
			os.WriteFile(a, bb, 0o644)
			os.WriteFile(b, ab, 0o644)
		}, 5, "does not match its hash"},
		{"deleted snapshot", func(t *testing.T, db *testDB, evs []Event) {
			db.snaps.Delete(evs[8].FaceHash)
		}, 9, "missing and no retention"},
		{"redacted without a record", func(t *testing.T, db *testDB, evs []Event) {
			db.g.Exec("UPDATE events SET person_name = '', redacted = ? WHERE seq = 15", true)
		}, 15, "redacted with no retention"},
		{"forged checkpoint", func(t *testing.T, db *testDB, evs []Event) {
			db.g.Exec("UPDATE checkpoints SET hash = ? WHERE seq = 100", strings.Repeat("a", 64))
		}, 100, "signature does not verify"},
		{"truncated tail", func(t *testing.T, db *testDB, evs []Event) {
			db.g.Exec("DELETE FROM events WHERE seq >= 95")
		}, 95, "events after 94 deleted"},
	}
	forEachDB(t, func(t *testing.T, db *testDB) {
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				fresh := openTestDB(t, freshDSN(t, db), t.TempDir())
				evs := fill(t, fresh.recorder(), 110)
				if rep := mustVerify(t, fresh); !rep.OK() {
					t.Fatalf("untouched log fails: %+v", rep.Problems)
				}
				c.tamper(t, fresh, evs)
				rep := mustVerify(t, fresh)
				if rep.OK() || rep.FirstBroken() != c.first || !strings.Contains(fmt.Sprint(rep.Problems), c.says) {
					t.Fatalf("first broken %d (want %d), problems %v (want %q)", rep.FirstBroken(), c.first, rep.Problems, c.says)
				}
			})
		}
	})
}

// freshDSN gives each tamper case its own database of the same dialect.
func freshDSN(t *testing.T, db *testDB) string {
	if db.Dialect() == "sqlite" {
		return filepath.Join(t.TempDir(), "case.db")
	}
	var schema string
	db.g.Raw("SELECT current_schema()").Scan(&schema)
	name := fmt.Sprintf("%s_%d", schema, time.Now().UnixNano()%1e9)
	db.g.Exec("CREATE SCHEMA " + name)
	t.Cleanup(func() { db.g.Exec("DROP SCHEMA " + name + " CASCADE") })
	return strings.Replace(db.dsn, "search_path="+schema, "search_path="+name, 1)
}

// Disk full while writing snapshots: the event is still recorded, says
// the snapshot is missing and why, and an alarm event follows.
func TestSnapshotWriteFailure(t *testing.T) {
	forEachDB(t, func(t *testing.T, db *testDB) {
		mnt := t.TempDir()
		if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size=16k", "tmpfs", mnt).CombinedOutput(); err != nil {
			t.Fatalf("a tiny tmpfs is needed for the disk-full test (run as root): %v %s", err, out)
		}
		t.Cleanup(func() { exec.Command("umount", mnt).Run() })
		r := db.recorder()
		r.Snapshots = SnapshotStore{Dir: mnt}
		big := make([]byte, 64<<10) // larger than the whole disk
		rand.Read(big)
		ev, err := r.Record(Event{Kind: "access_granted", Granted: true, PersonID: 1, Door: "front"}, big, nil)
		if err != nil {
			t.Fatalf("decision lost because the disk is full: %v", err)
		}
		if ev.SnapshotHash != "" || !strings.Contains(ev.SnapshotError, "no space left") {
			t.Fatalf("event %+v: want a missing snapshot with the reason", ev)
		}
		var alarm Event
		db.g.Where("kind = ?", KindAlarm).First(&alarm)
		if alarm.Code != "snapshot_write_failed" || !strings.Contains(alarm.Reason, fmt.Sprintf("event %d", ev.Seq)) {
			t.Fatalf("alarm %+v", alarm)
		}
		// Space again: the next decision has its snapshot.
		ev2, err := r.Record(Event{Kind: "access_granted", Granted: true}, []byte("small"), nil)
		if err != nil || ev2.SnapshotHash == "" {
			t.Fatalf("after the failure: %+v %v", ev2, err)
		}
		if rep := mustVerify(t, &testDB{DB: db.DB, snaps: r.Snapshots}); !rep.OK() {
			t.Fatalf("log with a failed snapshot must verify: %v", rep.Problems)
		}
	})
}

func TestRetentionAndErasureKeepChainVerifiable(t *testing.T) {
	forEachDB(t, func(t *testing.T, db *testDB) {
		r := db.recorder()
		evs := fill(t, r, 120) // t0 … t0+119 min
		now := t0.Add(119*time.Minute + 24*time.Hour + 30*time.Minute)
		// Keep denial snapshots 1 day, grant snapshots and events forever.
		res, err := r.ApplyRetention(RetentionPolicy{DenySnapshotDays: 1}, now)
		if err != nil {
			t.Fatal(err)
		}
		if res.SnapshotsDeleted != 120 { // 60 denials × (frame + face)
			t.Fatalf("deleted %d snapshots, want 120", res.SnapshotsDeleted)
		}
		if _, err := db.snaps.Get(evs[1].SnapshotHash); !os.IsNotExist(err) {
			t.Fatalf("denial snapshot still there: %v", err)
		}
		if _, err := db.snaps.Get(evs[0].SnapshotHash); err != nil {
			t.Fatalf("grant snapshot deleted: %v", err)
		}
		if rep := mustVerify(t, db); !rep.OK() {
			t.Fatalf("after snapshot retention: %v", rep.Problems)
		}
		res, err = r.ApplyRetention(RetentionPolicy{EventDays: 1}, now)
		if err != nil || res.EventsRedacted != 120 {
			t.Fatalf("redacted %d, %v", res.EventsRedacted, err)
		}
		var e Event
		db.g.Where("seq = 3").First(&e)
		if !e.Redacted || e.PersonName != "" || e.ContentHash != evs[2].ContentHash {
			t.Fatalf("redacted event %+v", e)
		}
		if rep := mustVerify(t, db); !rep.OK() || rep.Redacted != 120 {
			t.Fatalf("after event retention: %+v", rep)
		}

		// Erasure: templates, enrolment photo, snapshots; recorded; verifies.
		photo, _ := db.snaps.Put([]byte("enrolment photo"))
		p, _ := db.Enroll("E9", "Eve", []NewTemplate{{ModelVersion: "m1", PhotoSHA256: photo}})
		fill(t, r, 4) // other people's events around Eve's
		ev, _ := r.Record(Event{Kind: "access_granted", Granted: true, PersonID: p.ID, PersonName: "Eve"}, []byte("eve frame"), nil)
		if err := r.ErasePerson(p.ID, "admin", true); err != nil {
			t.Fatal(err)
		}
		if n, _ := db.CountTemplates(p.ID); n != 0 {
			t.Fatal("templates survived erasure")
		}
		if _, err := db.snaps.Get(photo); !os.IsNotExist(err) {
			t.Fatal("enrolment photo survived erasure")
		}
		if _, err := db.snaps.Get(ev.SnapshotHash); !os.IsNotExist(err) {
			t.Fatal("snapshot survived erasure")
		}
		var erased Event
		db.g.Where("seq = ?", ev.Seq).First(&erased)
		if !erased.Redacted || erased.PersonName != "" {
			t.Fatalf("event not redacted: %+v", erased)
		}
		if rep := mustVerify(t, db); !rep.OK() {
			t.Fatalf("after erasure: %v", rep.Problems)
		}
	})
}

func exportBundle(t *testing.T, r *Recorder, f EventFilter) string {
	t.Helper()
	out := filepath.Join(t.TempDir(), "bundle.zip")
	if _, err := r.ExportFile(f, out); err != nil {
		t.Fatal(err)
	}
	return out
}

// rewriteZip copies a bundle, letting edit change or drop entries.
func rewriteZip(t *testing.T, in string, edit func(name string, b []byte) ([]byte, bool)) string {
	t.Helper()
	zr, err := zip.OpenReader(in)
	if err != nil {
		t.Fatal(err)
	}
	defer zr.Close()
	out := filepath.Join(t.TempDir(), "tampered.zip")
	f, _ := os.Create(out)
	zw := zip.NewWriter(f)
	for _, e := range zr.File {
		rc, _ := e.Open()
		b, _ := io.ReadAll(rc)
		rc.Close()
		nb, keep := edit(e.Name, b)
		if !keep {
			continue
		}
		w, _ := zw.Create(e.Name)
		w.Write(nb)
	}
	zw.Close()
	f.Close()
	return out
}

func TestBundleExportAndVerify(t *testing.T) {
	forEachDB(t, func(t *testing.T, db *testDB) {
		r := db.recorder()
		fill(t, r, 150)
		f := EventFilter{From: t0.Add(10 * time.Minute), To: t0.Add(60 * time.Minute), PersonID: 2}
		bundle := exportBundle(t, r, f)
		rep, err := VerifyBundle(bundle, db.Keys.Public)
		if err != nil || !rep.OK() || rep.Snapshots != 50 {
			t.Fatalf("clean bundle: %+v %v", rep, err)
		}
		otherPub, _, _ := ed25519.GenerateKey(rand.Reader)
		cases := []struct {
			name  string
			edit  func(name string, b []byte) ([]byte, bool)
			pub   ed25519.PublicKey
			first int64
			says  string
		}{
			{"edited event", func(n string, b []byte) ([]byte, bool) {
				if n == "events.jsonl" {
					b = bytes.Replace(b, []byte("outside schedule"), []byte("inside schedule!"), 1)
				}
				return b, true
			}, nil, 12, "content was edited"},
			{"chain entry removed", func(n string, b []byte) ([]byte, bool) {
				if n == "chain.jsonl" {
					lines := bytes.SplitAfter(b, []byte("\n"))
					b = bytes.Join(append(lines[:5:5], lines[6:]...), nil)
				}
				return b, true
			}, nil, 17, "missing"}, // the segment starts at 12: its sixth entry is 17
			{"snapshot swapped", func(n string, b []byte) ([]byte, bool) {
				if strings.HasPrefix(n, "snapshots/") {
					b = append(b, '!')
				}
				return b, true
			}, nil, 12, "swapped"},
			{"wrong public key", func(n string, b []byte) ([]byte, bool) { return b, true }, otherPub, 100, "signature"},
			{"checkpoints removed", func(n string, b []byte) ([]byte, bool) {
				if n == "checkpoints.json" {
					return []byte("[]"), true
				}
				return b, true
			}, nil, 150, "not covered by a valid signed checkpoint"},
		}
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				pub := db.Keys.Public
				if c.pub != nil {
					pub = c.pub
				}
				rep, err := VerifyBundle(rewriteZip(t, bundle, c.edit), pub)
				if err != nil {
					t.Fatal(err)
				}
				if rep.OK() || rep.FirstBroken() != c.first || !strings.Contains(fmt.Sprint(rep.Problems), c.says) {
					t.Fatalf("first %d (want %d): %v (want %q)", rep.FirstBroken(), c.first, rep.Problems, c.says)
				}
			})
		}
		if _, err := VerifyBundle(filepath.Join(t.TempDir(), "none.zip"), db.Keys.Public); err == nil {
			t.Fatal("missing bundle verified")
		}
	})
}

// KeepSigned covers the tail at once (a restart) and at every tick, never
// re-signs a signed head, and reports a failure without stopping.
func TestKeepSignedBoundsTheUnsignedTail(t *testing.T) {
	forEachDB(t, func(t *testing.T, db *testDB) {
		r := db.recorder()
		for range 3 {
			if _, err := r.Record(Event{Kind: KindDenied, Door: "server-room", Reason: "x"}, nil, nil); err != nil {
				t.Fatal(err)
			}
		}
		tick := make(chan time.Time)
		send := func() {
			t.Helper()
			select {
			case tick <- time.Now():
			case <-time.After(30 * time.Second):
				t.Fatal("KeepSigned did not take the tick in 30 s")
			}
		}
		ctx, cancel := context.WithCancel(context.Background())
		errs := make(chan error, 10)
		done := make(chan struct{})
		go func() { r.KeepSigned(ctx, tick, func(err error) { errs <- err }); close(done) }()
		send() // the loop has signed once and waits again
		if rep := mustVerify(t, db); rep.LastCheckpoint != 3 || rep.Checkpoints != 1 {
			t.Fatalf("after start: last checkpoint %d of %d checkpoints, want 3 of 1", rep.LastCheckpoint, rep.Checkpoints)
		}
		send() // nothing new: no second checkpoint
		if _, err := r.Record(Event{Kind: KindDenied, Door: "server-room", Reason: "y"}, nil, nil); err != nil {
			t.Fatal(err)
		}
		send()
		send() // the previous tick's signing has finished
		if rep := mustVerify(t, db); rep.LastCheckpoint != 4 || rep.Checkpoints != 2 || !rep.OK() {
			t.Fatalf("after a tick: %+v, want the new event covered by a second checkpoint", rep)
		}
		if len(errs) != 0 {
			t.Fatalf("signing failed: %v", <-errs)
		}
		db.Close() // every signing fails from now on; the loop goes on
		send()
		send()
		if len(errs) < 1 {
			t.Fatal("a failed signing was not reported")
		}
		cancel()
		<-done
	})
}
