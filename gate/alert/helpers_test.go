package alert

import (
	"crypto/rand"
	"encoding/hex"
	"net/url"
	"os"
	"path/filepath"
	"testing"
	"time"

	"gorm.io/driver/postgres"
	"gorm.io/gorm"
	"gorm.io/gorm/logger"

	"github.com/facegate/facegate/storage"
)

// forEachDB runs fn on a fresh SQLite file and, when FACEGATE_TEST_POSTGRES
// names a server (make test does), on a fresh schema there: alert events
// must fit PostgreSQL's column sizes too.
func forEachDB(t *testing.T, fn func(t *testing.T, r *storage.Recorder)) {
	t.Run("sqlite", func(t *testing.T) {
		dir := t.TempDir()
		fn(t, openRecorder(t, filepath.Join(dir, "facegate.db"), dir))
	})
	base := os.Getenv("FACEGATE_TEST_POSTGRES")
	if base == "" {
		if os.Getenv("CI") != "" {
			t.Fatal("CI must run the alert suite on PostgreSQL too: set FACEGATE_TEST_POSTGRES (make test does)")
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
		fn(t, openRecorder(t, u.String(), t.TempDir()))
	})
}

func openRecorder(t testing.TB, dsn, dir string) *storage.Recorder {
	t.Helper()
	db, err := storage.Open(dsn, storage.Options{KeyDir: filepath.Join(dir, "keys")})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return &storage.Recorder{DB: db, Snapshots: storage.SnapshotStore{Dir: filepath.Join(dir, "snapshots")}, Keys: db.Keys}
}

func appendEvent(t *testing.T, r *storage.Recorder, e storage.Event) storage.Event {
	t.Helper()
	ev, err := r.Record(e, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	return ev
}

// eventually waits until cond holds, failing after 20 s.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}
