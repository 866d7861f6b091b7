package storage

import (
	"crypto/rand"
	"encoding/hex"
	"net/url"
	"os"
	"path/filepath"
	"testing"

	"gorm.io/driver/postgres"
	"gorm.io/gorm"
	"gorm.io/gorm/logger"
)

// testDB is one database under test, with its key and snapshot dirs.
type testDB struct {
	*DB
	dsn    string
	keyDir string
	snaps  SnapshotStore
}

func (tdb *testDB) reopen(t *testing.T) *testDB {
	t.Helper()
	tdb.Close()
	db, err := Open(tdb.dsn, Options{KeyDir: tdb.keyDir})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return &testDB{DB: db, dsn: tdb.dsn, keyDir: tdb.keyDir, snaps: tdb.snaps}
}

func (tdb *testDB) recorder() *Recorder {
	return &Recorder{DB: tdb.DB, Snapshots: tdb.snaps, Keys: tdb.Keys}
}

// forEachDB runs fn on a fresh SQLite file and, when FACEGATE_TEST_POSTGRES
// names a server, on a fresh schema there: the same suite for both.
func forEachDB(t *testing.T, fn func(t *testing.T, db *testDB)) {
	t.Run("sqlite", func(t *testing.T) {
		dir := t.TempDir()
		dsn := filepath.Join(dir, "facegate.db")
		fn(t, openTestDB(t, dsn, dir))
	})
	base := os.Getenv("FACEGATE_TEST_POSTGRES")
	if base == "" {
		if os.Getenv("CI") != "" {
			t.Fatal("CI must run the storage suite on PostgreSQL too: set FACEGATE_TEST_POSTGRES (make test does)")
		}
		t.Log("FACEGATE_TEST_POSTGRES not set: PostgreSQL half of the suite not run")
		return
	}
	t.Run("postgres", func(t *testing.T) {
		b := make([]byte, 6)
		rand.Read(b)
		schema := "t_" + hex.EncodeToString(b)
		admin, err := gorm.Open(postgres.Open(base), &gorm.Config{Logger: logger.Discard})
		if err != nil {
			t.Fatalf("PostgreSQL at %s: %v", RedactDSN(base), err)
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
		fn(t, openTestDB(t, u.String(), t.TempDir()))
	})
}

func openTestDB(t *testing.T, dsn, dir string) *testDB {
	t.Helper()
	keyDir := filepath.Join(dir, "keys")
	db, err := Open(dsn, Options{KeyDir: keyDir})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return &testDB{DB: db, dsn: dsn, keyDir: keyDir, snaps: SnapshotStore{Dir: filepath.Join(dir, "snapshots")}}
}
