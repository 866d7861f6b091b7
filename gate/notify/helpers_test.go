package notify

import (
	"crypto/rand"
	"crypto/x509"
	"encoding/hex"
	"encoding/json"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"gorm.io/driver/postgres"
	"gorm.io/gorm"
	"gorm.io/gorm/logger"

	"github.com/facegate/facegate/storage"
)

// forEachDB runs fn on a fresh SQLite file and, when FACEGATE_TEST_POSTGRES
// names a server, on a fresh schema there (as storage's suite does).
func forEachDB(t *testing.T, fn func(t *testing.T, db *storage.DB)) {
	t.Run("sqlite", func(t *testing.T) {
		dir := t.TempDir()
		fn(t, openDB(t, filepath.Join(dir, "facegate.db"), dir))
	})
	base := os.Getenv("FACEGATE_TEST_POSTGRES")
	if base == "" {
		if os.Getenv("CI") != "" {
			t.Fatal("CI must run the webhook suite on PostgreSQL too: set FACEGATE_TEST_POSTGRES (make test does)")
		}
		t.Log("FACEGATE_TEST_POSTGRES not set: PostgreSQL half not run")
		return
	}
	t.Run("postgres", func(t *testing.T) {
		b := make([]byte, 6)
		rand.Read(b)
		schema := "t_" + hex.EncodeToString(b)
		admin, err := gorm.Open(postgres.Open(base), &gorm.Config{Logger: logger.Discard})
		if err != nil {
			t.Fatal(err)
		}
		if err := admin.Exec("CREATE SCHEMA " + schema).Error; err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() {
			admin.Exec("DROP SCHEMA " + schema + " CASCADE")
			if sql, err := admin.DB(); err == nil {
				sql.Close()
			}
		})
		u, _ := url.Parse(base)
		q := u.Query()
		q.Set("search_path", schema)
		u.RawQuery = q.Encode()
		fn(t, openDB(t, u.String(), t.TempDir()))
	})
}

func openDB(t *testing.T, dsn, dir string) *storage.DB {
	t.Helper()
	db, err := storage.Open(dsn, storage.Options{KeyDir: filepath.Join(dir, "keys")})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

const secret = "whsec-0123456789abcdef0123456789"

// receiver is a local HTTPS webhook receiver that checks every signature
// and can fail on purpose.
type receiver struct {
	t    *testing.T
	addr string
	srv  *httptest.Server
	pool *x509.CertPool

	mu       sync.Mutex
	fail     int     // status to answer instead of 204 (0: none)
	dropNext bool    // take the next event, then drop the connection (a lost 2xx)
	seen     []int64 // seqs in arrival order, repeats included
	bodies   map[int64]Payload
	badSigs  int
	onEvent  func(n int) // called with the number of distinct events taken
}

func newReceiver(t *testing.T) *receiver {
	r := &receiver{t: t, bodies: map[int64]Payload{}}
	r.start("127.0.0.1:0")
	t.Cleanup(func() { r.srv.Close() })
	return r
}

// start serves on addr (the old address when restarted, so the
// subscription's URL stays right).
func (r *receiver) start(addr string) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		r.t.Fatal(err)
	}
	r.srv = httptest.NewUnstartedServer(http.HandlerFunc(r.serve))
	r.srv.Config.ErrorLog = log.New(io.Discard, "", 0) // refused handshakes are on purpose
	r.srv.Listener.Close()
	r.srv.Listener = ln
	r.srv.StartTLS()
	r.addr = ln.Addr().String()
	r.pool = x509.NewCertPool()
	r.pool.AddCert(r.srv.Certificate())
}

func (r *receiver) url() string { return "https://" + r.addr + "/hook" }

func (r *receiver) serve(w http.ResponseWriter, req *http.Request) {
	body, _ := io.ReadAll(req.Body)
	r.mu.Lock()
	defer r.mu.Unlock()
	if err := Verify(secret, req.Header.Get(SignatureHeader), body, time.Now(), DefaultTolerance); err != nil {
		r.badSigs++
		http.Error(w, err.Error(), http.StatusUnauthorized)
		return
	}
	if r.fail != 0 {
		w.WriteHeader(r.fail)
		return
	}
	var p Payload
	if err := json.Unmarshal(body, &p); err != nil || strconv.FormatInt(p.Seq, 10) != req.Header.Get(EventHeader) && !p.Test {
		r.t.Errorf("body %s with %s %q", body, EventHeader, req.Header.Get(EventHeader))
	}
	_, dup := r.bodies[p.Seq]
	r.seen = append(r.seen, p.Seq)
	r.bodies[p.Seq] = p
	if r.onEvent != nil && !dup {
		r.onEvent(len(r.bodies))
	}
	if r.dropNext {
		r.dropNext = false
		panic(http.ErrAbortHandler) // taken, but the appliance never hears 2xx
	}
	w.WriteHeader(http.StatusNoContent)
}

// distinct is the seqs received, each once, in order of first arrival.
func (r *receiver) distinct() []int64 {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []int64
	for _, s := range r.seen {
		if !slices.Contains(out, s) {
			out = append(out, s)
		}
	}
	return out
}

// waitFor polls cond for up to 20 s.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(20 * time.Second); !cond(); time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
	}
}

// fastOptions retry in milliseconds instead of seconds to minutes.
func fastOptions(pool *x509.CertPool) Options {
	return Options{RootCAs: pool, Poll: 5 * time.Millisecond, MinBackoff: 2 * time.Millisecond, MaxBackoff: 20 * time.Millisecond,
		Location: time.FixedZone("JST", 9*3600)}
}

// record appends events of the given kinds at door, returning their seqs.
func record(t *testing.T, db *storage.DB, door string, kinds ...string) []int64 {
	t.Helper()
	var seqs []int64
	for _, k := range kinds {
		e, err := db.Append(storage.Event{Kind: k, Door: door, Granted: k == storage.KindGranted, Code: "test"})
		if err != nil {
			t.Fatal(err)
		}
		seqs = append(seqs, e.Seq)
	}
	return seqs
}

func deliveries(t *testing.T, db *storage.DB, id int64, ok func(storage.WebhookDelivery) bool) int {
	t.Helper()
	log, err := db.WebhookDeliveries(id, 100000)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, d := range log {
		if ok(d) {
			n++
		}
	}
	return n
}
