package appliance

import (
	"context"
	"net/http/httptest"
	"path/filepath"
	"testing"
	"time"

	"github.com/facegate/facegate/cmd/internal/central"
	"github.com/facegate/facegate/gate"
	"github.com/facegate/facegate/gate/site"
	"github.com/facegate/facegate/models/modeltest"
	"github.com/facegate/facegate/storage"
	"github.com/facegate/facegate/vision"
	"github.com/facegate/facegate/web"
)

// fakeDoor is another door of the site: its own database and key, joined.
type fakeDoor struct {
	db     *storage.DB
	client *site.Client
}

func joinDoor(t *testing.T, c *central.Central, url, door string) fakeDoor {
	t.Helper()
	dir := t.TempDir()
	db, err := storage.Open(filepath.Join(dir, "door.db"), storage.Options{KeyDir: filepath.Join(dir, "keys")})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	cl, err := site.NewClient(url, db.Keys.Signing, nil)
	if err != nil {
		t.Fatal(err)
	}
	tok, _ := c.DB().NewOneTimeLink(storage.JoinPurpose, door, time.Now().Add(time.Hour), "test")
	if _, err := cl.Join(context.Background(), tok); err != nil {
		t.Fatal(err)
	}
	return fakeDoor{db, cl}
}

// pass records a granted passage at the door and pushes it.
func (d fakeDoor) pass(t *testing.T, door, dir string, person int64, at time.Time) {
	t.Helper()
	if _, err := d.db.Append(storage.Event{Kind: storage.KindGranted, Granted: true, Door: door, Area: "hq", Direction: dir,
		PersonID: person, AtMicro: at.UnixMicro()}); err != nil {
		t.Fatal(err)
	}
	evs, _ := d.db.ChainAfter(0, 1000)
	head, _ := d.db.Head()
	if _, err := d.client.Push(context.Background(), storage.SitePush{Events: evs, Head: head}); err != nil {
		t.Fatal(err)
	}
}

func sitePolicy(t *testing.T, c *central.Central) int64 {
	t.Helper()
	p, err := c.DB().Enroll("E-7", "Ada", []storage.NewTemplate{{Descriptor: make([]float32, 128), ModelVersion: "m"}})
	if err != nil {
		t.Fatal(err)
	}
	door := func(id, dir string) storage.Door {
		return storage.Door{ID: id, Name: id, Area: "hq", Direction: dir, OpenMillis: 1000, Level: "face"}
	}
	rec := &storage.Recorder{DB: c.DB(), Keys: c.DB().Keys}
	if err := rec.SavePolicy(storage.PolicyRecords{Areas: []storage.Area{{Name: "hq", AntiPassback: true}},
		Doors:  []storage.Door{door("door-a", "in"), door("door-b", "in"), door("door-x", "out")},
		Groups: []storage.Group{{Name: "staff"}}, PersonGroups: []storage.PersonGroup{{PersonID: p.ID, GroupName: "staff"}},
		Rules: []storage.AccessRule{{GroupName: "staff", Name: "staff", Doors: "door-a,door-b,door-x", ScheduleName: "always",
			Windows: "Mon-Sun 00:00-24:00"}}}, "test"); err != nil {
		t.Fatal(err)
	}
	return p.ID
}

// Anti-passback across the doors of an area: entered at door-a, Ada is
// refused at door-b while the central is reached; out by door-x, she may
// enter again. Offline, door-b decides on its own record (fallback).
func TestSiteAntiPassback(t *testing.T) {
	dir := t.TempDir()
	c, err := central.Open(central.Config{DataDir: dir, DB: filepath.Join(dir, "central.db")})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	srv := httptest.NewServer(c.Handler())
	defer srv.Close()
	ada := sitePolicy(t, c)
	b := joinDoor(t, c, srv.URL, "door-b")
	ch, _ := c.DB().SiteChangesSince(-1)
	if err := b.db.ApplySiteChanges(ch); err != nil {
		t.Fatal(err)
	}
	a := &Appliance{cfg: Config{Door: "door-b", loc: time.UTC}, db: b.db, log: discard(), presence: gate.NewPresence(), runCtx: context.Background()}
	a.cfg.Log = a.log
	a.policy = newAccessPolicy(b.db, &a.cfg)
	a.policy.Reload()
	a.central = &centralSync{a: a, client: b.client, stale: time.Minute}
	a.central.contact.Store(time.Now().UnixMicro())
	decide := func() gate.ReasonCode {
		p := a.policy.Person(ada)
		a.sitePresence(p)
		return a.policy.Policy().Decide(gate.Request{Person: p, Door: "door-b", Time: time.Now()}, a.presence).Code
	}
	if got := decide(); got != gate.ReasonGranted {
		t.Fatalf("Ada nowhere yet: %s, want granted", got)
	}
	joinDoor(t, c, srv.URL, "door-a").pass(t, "door-a", "in", ada, time.Now().Add(-time.Minute))
	if got := decide(); got != gate.ReasonAntiPassback {
		t.Fatalf("entered at door-a: %s at door-b, want anti_passback", got)
	}
	joinDoor(t, c, srv.URL, "door-x").pass(t, "door-x", "out", ada, time.Now().Add(-time.Second))
	if got := decide(); got != gate.ReasonGranted {
		t.Fatalf("left by door-x: %s, want granted", got)
	}
	// Offline: door-b's own record only (it saw neither door-a nor door-x
	// since): it enters her here and refuses a second entry itself.
	a.central.contact.Store(time.Now().Add(-time.Hour).UnixMicro())
	a.presence.Record(ada, gate.Door{Area: "hq", Direction: gate.DirIn}, time.Now())
	if got := decide(); got != gate.ReasonAntiPassback {
		t.Fatalf("offline, entered here: %s, want anti_passback from the door's own record", got)
	}
}

// A door of a site holding the central's templates of another embedder
// starts (and says so) rather than failing to re-derive them without the
// enrolment photos, which stay on the central.
func TestSiteDoorStartsWithAnotherEmbeddersTemplates(t *testing.T) {
	data := t.TempDir()
	cfg := Config{DataDir: data, ModelsDir: modeltest.ModelsDir(t), Rule: vision.DefaultRule, Embedder: "dlib",
		Source: filepath.Join(modeltest.Testdata(t), "video", "short_hamilton_clip.mp4"), OpenTime: time.Second, SiteTZ: "UTC",
		Web: web.Options{Addr: "127.0.0.1:0", PlainHTTP: true}, Central: "http://127.0.0.1:1"}
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	db, err := storage.Open(cfg.DB, storage.Options{KeyDir: cfg.KeyDir})
	if err != nil {
		t.Fatal(err)
	}
	err = db.ApplySiteChanges(storage.SiteChanges{Rev: 1, Full: true, People: []storage.SitePerson{{Person: storage.Person{ID: 1,
		EmployeeID: "E-1", Name: "Ada"}, Templates: []storage.SiteTemplate{{ID: 1, ModelVersion: "faceplugin-other", Descriptor: make([]float32, 512)}}}}})
	db.Close()
	if err != nil {
		t.Fatal(err)
	}
	a, err := New(context.Background(), cfg)
	if err != nil {
		t.Fatalf("a door of a site refused to start: %v", err)
	}
	defer a.Close()
	if a.recog.svc.Gallery().Len() != 0 || a.central == nil {
		t.Fatalf("gallery %d templates, central %v: want the other model's template left out", a.recog.svc.Gallery().Len(), a.central)
	}
}
