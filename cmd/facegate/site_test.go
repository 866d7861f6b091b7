package main

import (
	"bytes"
	"context"
	crand "crypto/rand"
	"encoding/hex"
	"math/rand/v2"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/facegate/facegate/models/modeltest"
	"github.com/facegate/facegate/storage"
	"gorm.io/driver/postgres"
	"gorm.io/driver/sqlite"
	"gorm.io/gorm"
	"gorm.io/gorm/logger"
)

// siteDoor is one door of TestSite: its process, its network to the
// central, and its database (read by the test while the door runs).
type siteDoor struct {
	name  string
	dir   string
	proc  *child
	net   *proxy
	db    *storage.DB
	appID int64
}

// site is TestSite's central and doors.
type site struct {
	t       *testing.T
	dir     string
	dsn     string
	central *child
	db      *storage.DB // the central's database, read and edited by the test
	doors   []*siteDoor
}

// pgSchema makes a fresh schema on the test server and returns its DSN.
func pgSchema(t testing.TB, base string) string {
	b := make([]byte, 6)
	crand.Read(b)
	schema := "site_" + hex.EncodeToString(b)
	admin, err := gorm.Open(postgres.Open(base), &gorm.Config{Logger: logger.Discard})
	if err != nil {
		t.Fatal(err)
	}
	if err := admin.Exec("CREATE SCHEMA " + schema).Error; err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		admin.Exec("DROP SCHEMA " + schema + " CASCADE")
		if d, err := admin.DB(); err == nil {
			d.Close()
		}
	})
	u, _ := url.Parse(base)
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String()
}

// newSite starts a central on PostgreSQL and three doors on the demo clip,
// each joined with its own token through its own proxy.
func newSite(t *testing.T, base string) *site {
	s := &site{t: t, dir: t.TempDir()}
	s.dsn = pgSchema(t, base)
	cdir := filepath.Join(s.dir, "central")
	var err error
	if s.db, err = storage.Open(s.dsn, storage.Options{KeyDir: filepath.Join(cdir, "keys")}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.db.Close() })
	syncAddr := freePort(t)
	s.central = newChild(t, s.dir, "central", "central", "--db", s.dsn, "--data-dir", cdir, "--listen", "127.0.0.1:0",
		"--web-plain-http", "--sync-listen", syncAddr)
	s.central.start()
	if _, ok := eventually(30*time.Second, func() bool {
		c, err := net.Dial("tcp", syncAddr)
		if err == nil {
			c.Close()
		}
		return err == nil
	}); !ok {
		t.Fatalf("central never listened:\n%s", s.central.logText())
	}
	clip := filepath.Join(modeltest.Testdata(t), "video", "short_hamilton_clip.mp4")
	for _, name := range []string{"door-a", "door-b", "door-c"} {
		d := &siteDoor{name: name, dir: filepath.Join(s.dir, name), net: newProxy(t, syncAddr)}
		tok, err := s.db.NewOneTimeLink(storage.JoinPurpose, name, time.Now().Add(time.Hour), "test")
		if err != nil {
			t.Fatal(err)
		}
		if d.db, err = storage.Open(filepath.Join(d.dir, "facegate.db"), storage.Options{KeyDir: filepath.Join(d.dir, "keys")}); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { d.db.Close() })
		d.proc = newChild(t, s.dir, name, "serve", "--data-dir", d.dir, "--models-dir", modeltest.ModelsDir(t), "--source", clip,
			"--web-listen", "127.0.0.1:0", "--web-plain-http", "--door", name, "--central", "http://"+d.net.addr(), "--join", tok,
			"--central-stale", "3s")
		d.proc.start()
		s.doors = append(s.doors, d)
	}
	return s
}

// hasEvent reports whether the door recorded an event matching f.
func (d *siteDoor) hasEvent(f storage.EventFilter, match func(storage.Event) bool) bool {
	evs, err := d.db.Events(f)
	return err == nil && slices.ContainsFunc(evs, match)
}

// everyDoor runs cond on each door until it holds, failing with the
// door's log when it does not within the time given.
func (s *site) everyDoor(what string, within time.Duration, cond func(d *siteDoor) bool) []time.Duration {
	var took []time.Duration
	start := time.Now()
	for _, d := range s.doors {
		if _, ok := eventually(within-time.Since(start), func() bool { return cond(d) }); !ok {
			s.t.Fatalf("%s: not at %s within %s; its log:\n%s", what, d.name, within, tail(d.proc.logText(), 3000))
		}
		took = append(took, time.Since(start))
	}
	return took
}

func tail(s string, n int) string {
	if len(s) > n {
		return s[len(s)-n:]
	}
	return s
}

// A whole site: a central on PostgreSQL and three doors as processes,
// each behind a proxy the test cuts, all of them kill -9'd at random:
// nothing is lost or duplicated, every chain verifies on the central with
// its snapshots, the central's people and suspensions reach the doors,
// and a door's log edited or truncated after sync is reported.
func TestSite(t *testing.T) {
	base := os.Getenv("FACEGATE_TEST_POSTGRES")
	if base == "" {
		t.Skip("FACEGATE_TEST_POSTGRES not set (make test sets it)")
	}
	if testing.Short() {
		t.Skip("three doors and a central for minutes")
	}
	s := newSite(t, base)
	lmm := s.enrolOnCentral()
	s.suspendOnCentral(lmm)
	s.pinOnCentral(lmm)
	s.offlineDoorSaysSo()
	s.eraseOnCentral(lmm)
	kills, cuts := s.chaos(75 * time.Second)
	s.drain()
	total := s.compareChains()
	t.Logf("%d kills -9 and %d network cuts: %d events from 3 doors, none lost or duplicated, every chain verified", kills, cuts, total)
	s.tamper()
}

// enrolOnCentral enrols Lin-Manuel Miranda on the central once the doors
// run: each door grants him after its next sync.
func (s *site) enrolOnCentral() storage.Person {
	t := s.t
	s.everyDoor("joined", 60*time.Second, func(d *siteDoor) bool { return strings.Contains(d.proc.logText(), "central changes applied") })
	var out bytes.Buffer
	if err := run(context.Background(), []string{"enroll", "--db", s.dsn, "--data-dir", filepath.Join(s.dir, "central"),
		"--models-dir", modeltest.ModelsDir(t), "--name", "Lin-Manuel Miranda", "--employee-id", "E-LMM",
		modeltest.Face(t, "lin-manuel-miranda.png")}, &out, &out); err != nil {
		t.Fatalf("enrol on the central: %v\n%s", err, out.String())
	}
	p, err := s.db.PersonByEmployeeID("E-LMM")
	if err != nil {
		t.Fatal(err)
	}
	granted := true
	s.everyDoor("granted after the enrolment on the central", 90*time.Second, func(d *siteDoor) bool {
		return d.hasEvent(storage.EventFilter{PersonID: p.ID, Granted: &granted}, func(storage.Event) bool { return true })
	})
	return p
}

// suspendOnCentral suspends him on the central: every door has it in
// force within 5 s and refuses him; then he is reinstated.
func (s *site) suspendOnCentral(p storage.Person) {
	t := s.t
	since := time.Now().Add(-time.Second).UTC()
	if err := s.db.SetSuspended(p.ID, &since); err != nil {
		t.Fatal(err)
	}
	took := s.everyDoor("suspension in force", 5*time.Second, func(d *siteDoor) bool {
		got, err := d.db.PersonByID(p.ID)
		return err == nil && got.SuspendedSince != nil
	})
	t.Logf("a suspension on the central was in force at the three doors after %v", took)
	s.everyDoor("refused while suspended", 90*time.Second, func(d *siteDoor) bool {
		return d.hasEvent(storage.EventFilter{PersonID: p.ID, Kind: storage.KindDenied}, func(e storage.Event) bool {
			return e.Code == "suspended"
		})
	})
	if err := s.db.SetSuspended(p.ID, nil); err != nil {
		t.Fatal(err)
	}
}

// offlineDoorSaysSo cuts door-c off for longer than its staleness: it goes
// on deciding, and its events say the central was not reached.
func (s *site) offlineDoorSaysSo() {
	d := s.doors[2]
	s.everyDoor("reinstated", 5*time.Second, func(d *siteDoor) bool {
		got, err := d.db.PersonByEmployeeID("E-LMM")
		return err == nil && got.SuspendedSince == nil
	})
	d.net.setCut(true)
	defer d.net.setCut(false)
	granted := true
	if _, ok := eventually(60*time.Second, func() bool {
		return d.hasEvent(storage.EventFilter{Granted: &granted}, func(e storage.Event) bool {
			return strings.Contains(e.Detail, `"central":"offline"`)
		})
	}); !ok {
		s.t.Fatalf("no grant marked offline while door-c was cut off:\n%s", tail(d.proc.logText(), 3000))
	}
}

// pinOnCentral sets his PIN on the central: every door has it within 5 s
// (the hash travels; the door checks the digits itself).
func (s *site) pinOnCentral(p storage.Person) {
	s.t.Setenv("FACEGATE_PIN", "2580")
	var out bytes.Buffer
	if err := run(context.Background(), []string{"pin", "set", "--employee-id", "E-LMM", "--db", s.dsn, "--data-dir",
		filepath.Join(s.dir, "central")}, &out, &out); err != nil {
		s.t.Fatalf("pin set on the central: %v\n%s", err, out.String())
	}
	took := s.everyDoor("PIN set", 5*time.Second, func(d *siteDoor) bool {
		r, err := d.db.CheckPIN(p.ID, "2580", time.Now())
		return err == nil && r.OK
	})
	s.t.Logf("a PIN set on the central worked at the three doors after %v", took)
}

// eraseOnCentral erases him on the central with his snapshots: every door
// erases him too (templates gone, his entries redacted, the snapshots of
// his entries deleted, an erasure event in its own chain, which later
// justifies the redactions and the missing files in its copy on the
// central), and the central's copies of those snapshots are gone.
func (s *site) eraseOnCentral(p storage.Person) {
	var hashes []string
	for _, d := range s.doors {
		evs, _ := d.db.Events(storage.EventFilter{PersonID: p.ID})
		for _, e := range evs {
			hashes = append(hashes, e.SnapshotHash)
		}
	}
	var out bytes.Buffer
	central := filepath.Join(s.dir, "central")
	if err := run(context.Background(), []string{"erase", "--employee-id", "E-LMM", "--with-snapshots", "--db", s.dsn, "--data-dir",
		central}, &out, &out); err != nil {
		s.t.Fatalf("erase on the central: %v\n%s", err, out.String())
	}
	s.everyDoor("erased with snapshots", 10*time.Second, func(d *siteDoor) bool {
		_, gone := d.db.PersonByID(p.ID)
		return gone != nil && d.hasEvent(storage.EventFilter{Kind: storage.KindErasure, PersonID: p.ID}, func(e storage.Event) bool {
			return strings.Contains(e.Detail, `"snapshots":true`)
		})
	})
	stores := []storage.SnapshotStore{{Dir: filepath.Join(central, "snapshots")}}
	for _, d := range s.doors {
		stores = append(stores, storage.SnapshotStore{Dir: filepath.Join(d.dir, "snapshots")})
	}
	for _, h := range hashes {
		for _, st := range stores {
			if _, err := st.Get(h); h != "" && err == nil {
				s.t.Errorf("snapshot %s of an erased person's entry is still in %s", h, st.Dir)
			}
		}
	}
	if len(hashes) == 0 {
		s.t.Fatal("no entry of his at any door before the erasure: nothing checked")
	}
}

// chaos kills the central and the doors (kill -9) and cuts their network
// at random moments for the time given.
func (s *site) chaos(dur time.Duration) (kills, cuts int) {
	rng := rand.New(rand.NewPCG(13, uint64(time.Now().UnixNano())))
	pause := func(lo, hi float64) { time.Sleep(time.Duration((lo + rng.Float64()*(hi-lo)) * float64(time.Second))) }
	for end := time.Now().Add(dur); time.Now().Before(end); {
		pause(0.3, 2)
		switch rng.IntN(6) {
		case 0:
			s.central.kill()
			pause(0.2, 2)
			s.central.start()
			kills++
		case 1, 2, 3:
			d := s.doors[rng.IntN(len(s.doors))]
			d.proc.kill()
			pause(0.1, 2)
			d.proc.start()
			kills++
		default:
			d := s.doors[rng.IntN(len(s.doors))]
			d.net.setCut(true)
			pause(0.5, 4)
			d.net.setCut(false)
			cuts++
		}
	}
	return kills, cuts
}

// drain restarts every door on an empty corridor (nothing new to record)
// and waits until the central holds each door's whole chain.
func (s *site) drain() {
	t := s.t
	s.central.start()
	corridor := faceless(t)
	for _, d := range s.doors {
		d.net.setCut(false)
		d.proc.kill()
		i := slices.Index(d.proc.args, "--source")
		d.proc.args[i+1] = corridor
		d.proc.start()
	}
	apps, err := s.db.Appliances()
	if err != nil || len(apps) != 3 {
		t.Fatalf("appliances on the central: %+v %v", apps, err)
	}
	for _, d := range s.doors {
		i := slices.IndexFunc(apps, func(a storage.SiteAppliance) bool { return a.Door == d.name })
		if i < 0 {
			t.Fatalf("%s never joined", d.name)
		}
		d.appID = apps[i].ID
	}
	s.everyDoor("whole chain on the central", 90*time.Second, func(d *siteDoor) bool {
		h, err := d.db.Head()
		evs, err2 := s.db.SiteChain(d.appID, h.Seq-1, 10)
		return err == nil && err2 == nil && len(evs) == 1 && evs[0].Hash == h.Hash
	})
}

// compareChains checks that each door's chain is on the central exactly
// once, verifies there with every snapshot, and raised no alarm.
func (s *site) compareChains() int {
	t := s.t
	total := 0
	for _, d := range s.doors {
		d.proc.kill()
		local, err := d.db.ChainAfter(0, 1<<30)
		if err != nil {
			t.Fatal(err)
		}
		remote, err := s.db.SiteChain(d.appID, 0, 1<<30)
		if err != nil {
			t.Fatal(err)
		}
		if len(local) != len(remote) || len(local) == 0 {
			t.Fatalf("%s: %d events here, %d on the central", d.name, len(local), len(remote))
		}
		for i := range local {
			if local[i].Seq != remote[i].Seq || local[i].Hash != remote[i].Hash || remote[i].Seq != int64(i+1) {
				t.Fatalf("%s: event %d differs on the central: %+v vs %+v", d.name, i+1, local[i], remote[i])
			}
		}
		rep, err := s.db.VerifyAppliance(d.appID, storage.SnapshotStore{Dir: filepath.Join(s.dir, "central", "snapshots")})
		if err != nil || !rep.OK() || rep.Snapshots == 0 {
			t.Fatalf("%s on the central: %+v %v", d.name, rep, err)
		}
		if alarms, _ := s.db.SiteAlarms(d.appID); len(alarms) != 0 {
			t.Fatalf("%s: alarms on an untouched door: %+v", d.name, alarms)
		}
		t.Logf("%s: %d events, %d snapshots, %d starts", d.name, len(local), rep.Snapshots, d.proc.runs)
		total += len(local)
	}
	return total
}

// tamper edits door-a's log after sync (an event changed, the chain
// re-hashed) and deletes door-b's last event (a quiet door): the central
// reports both, and `central verify` fails naming them.
func (s *site) tamper() {
	t := s.t
	a, b := s.doors[0], s.doors[1]
	rehashSQLite(t, a.db, filepath.Join(a.dir, "facegate.db"), 2)
	execSQLite(t, filepath.Join(b.dir, "facegate.db"), "DELETE FROM events WHERE seq = (SELECT MAX(seq) FROM events)")
	a.proc.start()
	b.proc.start()
	restarted := time.Now()
	for _, c := range []struct {
		d    *siteDoor
		code string
	}{{a, "rewritten"}, {b, "truncated"}} {
		if _, ok := eventually(60*time.Second, func() bool {
			as, _ := s.db.SiteAlarms(c.d.appID)
			return slices.ContainsFunc(as, func(al storage.SiteAlarm) bool { return al.Code == c.code })
		}); !ok {
			t.Fatalf("%s tampered with, no %q alarm on the central:\n%s", c.d.name, c.code, tail(c.d.proc.logText(), 3000))
		} else {
			t.Logf("%s: %q reported %v after the door restarted", c.d.name, c.code, time.Since(restarted).Round(100*time.Millisecond))
		}
	}
	var out bytes.Buffer
	if err := run(context.Background(), []string{"central", "status", "--db", s.dsn, "--data-dir", filepath.Join(s.dir, "central")},
		&out, &out); err != nil || !strings.Contains(out.String(), "3 doors") || !strings.Contains(out.String(), "door-c") {
		t.Fatalf("central status: %v\n%s", err, out.String())
	}
	out.Reset()
	err := run(context.Background(), []string{"central", "verify", "--db", s.dsn, "--data-dir", filepath.Join(s.dir, "central")}, &out, &out)
	if err == nil || !strings.Contains(out.String(), "ALARM rewritten") || !strings.Contains(out.String(), "ALARM truncated") {
		t.Fatalf("central verify after tampering: %v\n%s", err, out.String())
	}
}

func execSQLite(t *testing.T, path, sql string, args ...any) {
	t.Helper()
	g, err := gorm.Open(sqlite.Open(path), &gorm.Config{Logger: logger.Discard})
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		if d, err := g.DB(); err == nil {
			d.Close()
		}
	}()
	if err := g.Exec(sql, args...).Error; err != nil {
		t.Fatal(err)
	}
}

// rehashSQLite changes event seq's reason and re-hashes the chain from
// there, as an attacker with the file but not the key would.
func rehashSQLite(t *testing.T, db *storage.DB, path string, seq int64) {
	t.Helper()
	evs, err := db.ChainAfter(seq-1, 1<<30)
	if err != nil || len(evs) == 0 {
		t.Fatalf("events from %d: %v", seq, err)
	}
	prev := evs[0].PrevHash
	evs[0].Reason = "edited after sync"
	for _, e := range evs {
		e.PrevHash = prev
		e.ContentHash = storage.ComputeContentHash(e)
		e.Hash = storage.ChainHash(e.Seq, e.PrevHash, e.ContentHash)
		execSQLite(t, path, "UPDATE events SET reason = ?, prev_hash = ?, content_hash = ?, hash = ? WHERE seq = ?",
			e.Reason, e.PrevHash, e.ContentHash, e.Hash, e.Seq)
		prev = e.Hash
	}
	if got, _ := db.EventBySeq(seq); got.Reason != "edited after sync" {
		t.Fatalf("tamper did not take: %+v", got)
	}
}
