package main

import (
	"context"
	"crypto/ed25519"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	gsite "github.com/facegate/facegate/gate/site"
	"github.com/facegate/facegate/storage"
)

// simDoor is a simulated door: a key, a client and an in-memory chain.
type simDoor struct {
	name string
	cl   *gsite.Client
	seq  int64
	prev string
	rev  int64
}

// next builds n granted events continuing the door's chain.
func (d *simDoor) next(n int, rng *rand.Rand) []storage.Event {
	out := make([]storage.Event, n)
	for i := range out {
		p := rng.Int64N(10000) + 1
		e := storage.Event{Seq: d.seq + 1, AtMicro: time.Now().UnixMicro(), Kind: storage.KindGranted, Door: d.name, Area: "hq",
			Direction: "in", PersonID: p, PersonName: fmt.Sprintf("Person %d", p), Granted: true, Code: "granted",
			Reason: `granted by rule "staff, office hours"`, Rule: "staff", Distance: 0.31, Margin: 0.22, Frames: 3,
			ModelVersion: "faceplugin-sim", PrevHash: d.prev}
		if d.seq == 0 {
			e.PrevHash = storage.GenesisHash
		}
		e.ContentHash = storage.ComputeContentHash(e)
		e.Hash = storage.ChainHash(e.Seq, e.PrevHash, e.ContentHash)
		d.seq, d.prev, out[i] = e.Seq, e.Hash, e
	}
	return out
}

// procStats reads a process's CPU time (user+system) and peak RSS.
func procStats(pid int) (cpu time.Duration, hwmKB int64) {
	b, _ := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	f := strings.Fields(string(b[strings.LastIndexByte(string(b), ')')+2:]))
	if len(f) > 12 {
		u, _ := strconv.ParseInt(f[11], 10, 64)
		s, _ := strconv.ParseInt(f[12], 10, 64)
		cpu = time.Duration(u+s) * 10 * time.Millisecond // USER_HZ = 100
	}
	st, _ := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	for _, l := range strings.Split(string(st), "\n") {
		if v, ok := strings.CutPrefix(l, "VmHWM:"); ok {
			hwmKB, _ = strconv.ParseInt(strings.Fields(v)[0], 10, 64)
		}
	}
	return cpu, hwmKB
}

// BenchmarkSite: one central on PostgreSQL (a separate process) with
// 10,000 people (one 512-D template each) and 50 simulated doors: the
// first full pull, push throughput (50 doors × 1,000 events at once,
// batches of 200), the time for a suspension to reach all 50 long polls,
// and the central's CPU and peak memory. Run with -benchtime 1x.
func BenchmarkSite(b *testing.B) {
	base := os.Getenv("FACEGATE_TEST_POSTGRES")
	if base == "" {
		b.Skip("FACEGATE_TEST_POSTGRES not set")
	}
	const doors, people, perDoor = 50, 10000, 1000
	dir := b.TempDir()
	dsn := pgSchema(b, base)
	db, err := storage.Open(dsn, storage.Options{KeyDir: filepath.Join(dir, "keys")})
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	start := time.Now()
	enrolSim(b, db, people)
	b.Logf("%d people enrolled in %v", people, time.Since(start).Round(time.Second))
	syncAddr := freePort(b)
	central := newChild(b, dir, "central", "central", "--db", dsn, "--data-dir", dir, "--listen", "", "--sync-listen", syncAddr)
	central.start()
	if _, ok := eventually(30*time.Second, func() bool {
		c, err := net.Dial("tcp", syncAddr)
		if err == nil {
			c.Close()
		}
		return err == nil
	}); !ok {
		b.Fatalf("central never listened:\n%s", central.logText())
	}
	pid := central.cmd.Process.Pid
	sim := joinSimDoors(b, db, syncAddr, doors)
	b.ResetTimer()
	fullPull(b, sim[0])
	cpu0, _ := procStats(pid)
	took := pushAll(b, sim, perDoor)
	cpu1, _ := procStats(pid)
	total := float64(doors * perDoor)
	b.ReportMetric(total/took.Seconds(), "events/s")
	b.ReportMetric(float64(cpu1-cpu0)/float64(time.Millisecond)/(total/1000), "central-cpu-ms/1000events")
	prop := propagation(b, db, sim, 5)
	b.ReportMetric(float64(prop.Milliseconds()), "ms-suspension-to-50-doors(max)")
	_, hwm := procStats(pid)
	b.ReportMetric(float64(hwm)/1024, "central-peak-RSS-MB")
}

func enrolSim(b *testing.B, db *storage.DB, n int) {
	rng := rand.New(rand.NewPCG(1, 2))
	for i := range n {
		d := make([]float32, 512)
		for j := range d {
			d[j] = rng.Float32()*2 - 1
		}
		if _, err := db.Enroll(fmt.Sprintf("E-%05d", i), fmt.Sprintf("Person %d", i),
			[]storage.NewTemplate{{Descriptor: d, ModelVersion: "faceplugin-sim"}}); err != nil {
			b.Fatal(err)
		}
	}
}

func joinSimDoors(b *testing.B, db *storage.DB, addr string, n int) []*simDoor {
	var out []*simDoor
	for i := range n {
		_, key, _ := ed25519.GenerateKey(nil)
		cl, err := gsite.NewClient("http://"+addr, key, nil)
		if err != nil {
			b.Fatal(err)
		}
		d := &simDoor{name: fmt.Sprintf("door-%02d", i), cl: cl}
		tok, _ := db.NewOneTimeLink(storage.JoinPurpose, d.name, time.Now().Add(time.Hour), "bench")
		if _, err := cl.Join(context.Background(), tok); err != nil {
			b.Fatal(err)
		}
		d.rev, _ = db.SiteRevision() // the others start synced: one full pull is measured alone
		out = append(out, d)
	}
	return out
}

// fullPull measures a door's first pull of everyone in pages, their size,
// and the time a door's SQLite takes to apply them (templates re-sealed).
func fullPull(b *testing.B, d *simDoor) {
	dir := b.TempDir()
	door, err := storage.Open(filepath.Join(dir, "door.db"), storage.Options{KeyDir: filepath.Join(dir, "keys")})
	if err != nil {
		b.Fatal(err)
	}
	defer door.Close()
	var pulling, applying time.Duration
	size, people, pages := 0, 0, 0
	f := &storage.SiteFullPull{}
	for done, next := false, int64(-1); !done; pages++ {
		start := time.Now()
		var ch storage.SiteChanges
		if next < 0 {
			ch, err = d.cl.Changes(context.Background(), -1, time.Second)
		} else {
			ch, err = d.cl.FullPage(context.Background(), next)
		}
		if err != nil || !ch.Full {
			b.Fatalf("full pull, page %d: %v", pages, err)
		}
		pulling += time.Since(start)
		body, _ := json.Marshal(ch)
		size, people, next = size+len(body), people+len(ch.People), ch.Next
		start = time.Now()
		if done, err = door.ApplySitePage(f, ch); err != nil {
			b.Fatal(err)
		}
		applying += time.Since(start)
	}
	if n, _ := door.CountPeople(); n != int64(people) || people == 0 {
		b.Fatalf("full pull: %d people in %d pages, the door has %d", people, pages, n)
	}
	b.ReportMetric(pulling.Seconds(), "s-first-full-pull")
	b.ReportMetric(float64(size)/1e6, "MB-first-full-pull")
	b.ReportMetric(float64(pages), "pages-first-full-pull")
	b.ReportMetric(applying.Seconds(), "s-door-applies-full-pull")
}

// pushAll has every door push perDoor events at once; returns the wall time.
func pushAll(b *testing.B, sim []*simDoor, perDoor int) time.Duration {
	var wg sync.WaitGroup
	errs := make(chan error, len(sim))
	start := time.Now()
	for i, d := range sim {
		rng := rand.New(rand.NewPCG(uint64(i), 7))
		wg.Go(func() {
			for sent := 0; sent < perDoor; sent += 200 {
				evs := d.next(200, rng)
				last := evs[len(evs)-1]
				r, err := d.cl.Push(context.Background(), storage.SitePush{Events: evs, Head: storage.ChainHead{Seq: last.Seq, Hash: last.Hash}})
				if err == nil && (r.HeadSeq != last.Seq || len(r.Alarms) > 0) {
					err = fmt.Errorf("%s: receipt %+v", d.name, r)
				}
				if err != nil {
					errs <- err
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		b.Fatal(err)
	}
	return time.Since(start)
}

// propagation suspends a person rounds times while every door long-polls
// and returns the slowest time for the change to reach all of them.
func propagation(b *testing.B, db *storage.DB, sim []*simDoor, rounds int) time.Duration {
	var worst time.Duration
	for r := range rounds {
		var wg sync.WaitGroup
		got := make([]time.Time, len(sim))
		for i, d := range sim {
			wg.Go(func() {
				ch, err := d.cl.Changes(context.Background(), d.rev, 30*time.Second)
				if err == nil && len(ch.People) > 0 {
					got[i], d.rev = time.Now(), ch.Rev
				}
			})
		}
		time.Sleep(time.Second) // every poll waiting
		at := time.Now()
		since := at.UTC()
		if err := db.SetSuspended(int64(r+1), &since); err != nil {
			b.Fatal(err)
		}
		wg.Wait()
		if slices.ContainsFunc(got, time.Time.IsZero) {
			b.Fatal("a door's long poll ended without the change")
		}
		last := slices.MaxFunc(got, func(x, y time.Time) int { return x.Compare(y) })
		worst = max(worst, last.Sub(at))
	}
	return worst
}
