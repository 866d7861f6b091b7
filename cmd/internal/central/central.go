package central

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"path/filepath"
	"sync"
	"time"

	"github.com/facegate/facegate/gate/identity"
	"github.com/facegate/facegate/gate/site"
	"github.com/facegate/facegate/storage"
	"github.com/facegate/facegate/vision"
	"github.com/facegate/facegate/web"
)

// Config is what a central needs.
type Config struct {
	DataDir    string // snapshots (the doors' evidence photos) and keys
	DB         string // postgres:// DSN (a SQLite path for a one-box trial)
	KeyDir     string
	Web        web.Options // the console
	SyncListen string      // the doors' API
	// SyncCert and SyncKey serve the sync API over TLS (PEM files); without
	// them it is plain HTTP, allowed on a loopback address only (behind a
	// TLS-terminating proxy, or in tests).
	SyncCert, SyncKey string
	// ModelsDir and Embedder let the console enrol from photos (empty
	// ModelsDir: it cannot; people are enrolled with `facegate enroll --db`).
	ModelsDir, Embedder string
	// DoorStale: a door not heard from for longer is offline in the
	// console (0: DefaultDoorStale).
	DoorStale time.Duration
	Log       *slog.Logger
	// Now is the central's one clock: its database, console and sync API
	// (signature windows, join-token expiry, last seen). time.Now when nil.
	Now func() time.Time
}

// Central is a running central.
type Central struct {
	cfg     Config
	db      *storage.DB
	snaps   storage.SnapshotStore
	verify  site.Verifier
	revs    *revisions
	answers changeCache
	web     *web.Server
	live    *web.LiveDoors  // the doors' live views, watched in the console
	emb     vision.Embedder // nil: the console cannot enrol from photos
}

// Open opens the database and builds the console.
func Open(cfg Config) (*Central, error) {
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	if cfg.DoorStale <= 0 {
		cfg.DoorStale = DefaultDoorStale
	}
	if cfg.KeyDir == "" {
		cfg.KeyDir = filepath.Join(cfg.DataDir, "keys")
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	db, err := storage.Open(cfg.DB, storage.Options{KeyDir: cfg.KeyDir, Now: cfg.Now})
	if err != nil {
		return nil, err
	}
	c := &Central{cfg: cfg, db: db, snaps: storage.SnapshotStore{Dir: filepath.Join(cfg.DataDir, "snapshots")}, live: web.NewLiveDoors()}
	c.revs = newRevisions(db, cfg.Log)
	rec := &storage.Recorder{DB: db, Snapshots: c.snaps, Keys: db.Keys}
	if cfg.Web.Addr == "" {
		return c, nil
	}
	deps := web.Deps{DB: db, Recorder: rec, Log: cfg.Log, Site: siteView{db, cfg.DoorStale}, Live: c.live, Now: cfg.Now}
	if cfg.ModelsDir != "" {
		if err := c.openFaces(&deps); err != nil {
			c.Close()
			return nil, err
		}
	}
	if c.web, err = web.New(deps, cfg.Web); err != nil {
		c.Close()
		return nil, err
	}
	return c, nil
}

// openFaces loads the embedder so the console enrols from photos, as a
// door's web app does; the templates reach every door with the next pull.
func (c *Central) openFaces(deps *web.Deps) error {
	emb, err := vision.OpenEmbedder(c.cfg.ModelsDir, c.cfg.Embedder)
	if err != nil {
		return err
	}
	c.emb = emb
	svc, err := identity.New(c.db, emb, vision.DefaultRuleFor(c.cfg.Embedder))
	if err != nil {
		return err
	}
	svc.Photos = c.snaps
	if err := c.switchModel(svc); err != nil {
		return err
	}
	deps.Faces, deps.ModelVersion = svc, emb.ModelVersion()
	return nil
}

// switchModel re-derives, from the enrolment photos the central keeps, the
// templates another embedder made (a new --embedder): the site's model
// switch happens here, since doors keep no photos; the new templates reach
// every door with its next pull, and each door must then run the same
// --embedder to use them.
func (c *Central) switchModel(svc *identity.Service) error {
	if svc.SkippedTemplates() == 0 {
		return nil
	}
	res, err := svc.SwitchModel("facegate central: --embedder " + c.cfg.Embedder)
	if err != nil {
		return fmt.Errorf("%w\n(keep the previous embedder with --embedder, or re-enrol the people named above)", err)
	}
	c.cfg.Log.Warn("templates re-derived for the embedder: restart every door with the same --embedder",
		"embedder", c.cfg.Embedder, "from", res.From, "templates", res.Templates, "people", res.People)
	return nil
}

// LiveFrames is how many live frames door has sent since the central
// started (none while nobody watches it).
func (c *Central) LiveFrames(door string) int64 { return c.live.Frames(door) }

// DB is the central's database.
func (c *Central) DB() *storage.DB { return c.db }

// Close closes the embedder and the database.
func (c *Central) Close() error {
	if c.emb != nil {
		c.emb.Close()
	}
	return c.db.Close()
}

// Run serves the console and the sync API until ctx ends.
func (c *Central) Run(ctx context.Context) error {
	ln, err := net.Listen("tcp", c.cfg.SyncListen)
	if err != nil {
		return fmt.Errorf("central: --sync-listen %s: %w", c.cfg.SyncListen, err)
	}
	tls := c.cfg.SyncCert != ""
	if !tls && !loopback(ln.Addr()) {
		ln.Close()
		return fmt.Errorf("central: --sync-listen %s is not a loopback address: give --sync-tls-cert and --sync-tls-key", c.cfg.SyncListen)
	}
	var wg sync.WaitGroup
	defer wg.Wait()
	ctx, stop := context.WithCancel(ctx)
	defer stop()
	wg.Go(func() { c.revs.run(ctx) })
	if c.web != nil {
		wln, err := c.web.Listen()
		if err != nil {
			ln.Close()
			return err
		}
		wg.Go(func() {
			if err := c.web.Serve(ctx, wln); err != nil {
				c.cfg.Log.Error("console stopped", "err", err)
			}
		})
		c.cfg.Log.Info("console listening", "addr", wln.Addr().String())
	}
	srv := &http.Server{Handler: c.routes(), ReadHeaderTimeout: 10 * time.Second}
	go func() { <-ctx.Done(); srv.Close() }()
	c.cfg.Log.Info("central sync API listening", "addr", ln.Addr().String(), "tls", tls)
	if tls {
		err = srv.ServeTLS(ln, c.cfg.SyncCert, c.cfg.SyncKey)
	} else {
		err = srv.Serve(ln)
	}
	if errors.Is(err, http.ErrServerClosed) {
		return nil
	}
	return err
}

func loopback(a net.Addr) bool {
	t, ok := a.(*net.TCPAddr)
	return ok && t.IP.IsLoopback()
}

// revisions watches the site's revision and wakes long polls when it
// moves: changes made by any process (the console, the CLI) are seen
// within pollEvery.
type revisions struct {
	db   *storage.DB
	log  *slog.Logger
	mu   sync.Mutex
	rev  int64
	wake chan struct{} // closed when rev moves
}

// pollEvery: 200 ms of the 5 s a suspension may take to reach every door.
const pollEvery = 200 * time.Millisecond

func newRevisions(db *storage.DB, log *slog.Logger) *revisions {
	r := &revisions{db: db, log: log, wake: make(chan struct{})}
	r.rev, _ = db.SiteRevision()
	return r
}

func (r *revisions) run(ctx context.Context) {
	t := time.NewTicker(pollEvery)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		rev, err := r.db.SiteRevision()
		if err != nil {
			r.log.Error("site revision not read", "err", err)
			continue
		}
		r.mu.Lock()
		if rev != r.rev {
			r.rev = rev
			close(r.wake)
			r.wake = make(chan struct{})
		}
		r.mu.Unlock()
	}
}

// after returns the current revision and a channel closed when it moves.
func (r *revisions) after() (int64, <-chan struct{}) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.rev, r.wake
}

// Handler is the sync API without a listener (tests mount it on their own).
func (c *Central) Handler() http.Handler { return c.routes() }
