package storage

import (
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"gorm.io/driver/postgres"
	"gorm.io/driver/sqlite"
	"gorm.io/gorm"
	"gorm.io/gorm/logger"
)

// SQLite settings, applied through the DSN so every pooled connection has them.
const (
	// sqliteBusyTimeoutMS lets a writer wait for another (the web server
	// and the pipeline share the file) instead of failing at once.
	sqliteBusyTimeoutMS = 5000
)

// ErrNotFound is returned when a looked-up record does not exist.
var ErrNotFound = errors.New("not found")

// DB is facegate's database handle.
type DB struct {
	g       *gorm.DB // never handed out: callers use DB's methods
	dialect string
	Keys    *Keys
	clock   func() time.Time // Options.Now
}

// now is the database's clock: every time it stamps (an event without
// one, an audit entry, a document, a cursor, a token, a migration) and
// every expiry it checks against a caller's now comes from the same
// clock as the caller's (Options.Now).
func (db *DB) now() time.Time { return db.clock() }

// nowMicro is now in Unix microseconds, as events and rows store time.
func (db *DB) nowMicro() int64 { return db.clock().UnixMicro() }

// Options are what Open needs besides the DSN.
type Options struct {
	// KeyDir holds the appliance's key files (DATA_DIR/keys), outside the
	// database. Required.
	KeyDir string
	// Now is the clock of the application using the database (time.Now
	// when nil): the web app's, the appliance's, a test harness's. One
	// clock per path: a stamp made here and an expiry checked by the
	// caller must never come from two clocks (a fixed test clock against
	// time.Now() is a test that fails some day).
	Now func() time.Time
}

// Dialect is "sqlite" or "postgres".
func (db *DB) Dialect() string { return db.dialect }

// Open opens (creating if needed) the database named by dsn and migrates
// it to the current schema. A dsn starting with postgres:// or postgresql://
// is PostgreSQL; anything else is a SQLite file path.
func Open(dsn string, opts Options) (*DB, error) {
	if opts.KeyDir == "" {
		return nil, errors.New("storage: no key directory given")
	}
	clock := opts.Now
	if clock == nil {
		clock = time.Now
	}
	var db *DB
	var err error
	if strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://") {
		db, err = openPostgres(dsn, clock)
	} else {
		db, err = openSQLite(dsn, clock)
	}
	if err != nil {
		return nil, err
	}
	// Keys first: a migration may seal data an older facegate kept in clear.
	if err := db.loadKeys(opts.KeyDir); err != nil {
		db.Close()
		return nil, err
	}
	if err := db.Migrate(); err != nil {
		db.Close()
		return nil, err
	}
	if err := db.sealPlainTemplates(); err != nil {
		db.Close()
		return nil, err
	}
	return db, nil
}

// loadKeys reads (or on first start creates) the keys. The template key
// may be created only while no sealed template exists (on a new database
// the table is missing, and the count fails: none exist).
func (db *DB) loadKeys(dir string) error {
	var sealed int64
	if err := db.g.Model(&FaceTemplate{}).Where("substr(descriptor, 1, 1) = ?", []byte{descriptorSealed}).Count(&sealed).Error; err != nil {
		// Not every dialect compares bytes that way; fall back to counting all.
		db.g.Model(&FaceTemplate{}).Count(&sealed)
	}
	k, err := LoadOrCreateKeys(dir, sealed == 0)
	if err != nil {
		return err
	}
	db.Keys = k
	return nil
}

// openSQLite opens a SQLite file with WAL, foreign keys, a busy timeout and
// synchronous=FULL: an access-control log must survive power loss, and FULL
// fsyncs the WAL on every commit (NORMAL may lose the last commits).
func openSQLite(path string, clock func() time.Time) (*DB, error) {
	if path == "" {
		return nil, errors.New("storage: empty database path")
	}
	if err := privateFile(path); err != nil {
		return nil, err
	}
	// mattn/go-sqlite3 spells its options with underscores.
	dsn := "file:" + path + "?_journal_mode=WAL&_foreign_keys=1&_synchronous=FULL&_txlock=immediate&_busy_timeout=" +
		fmt.Sprint(sqliteBusyTimeoutMS)
	g, err := gorm.Open(sqlite.Open(dsn), &gorm.Config{Logger: logger.Discard, NowFunc: func() time.Time { return clock().UTC() }})
	if err != nil {
		return nil, fmt.Errorf("storage: open %s: %w", path, err)
	}
	db := &DB{g: g, dialect: "sqlite", clock: clock}
	if err := db.checkSQLite(); err != nil {
		db.Close()
		return nil, err
	}
	return db, nil
}

// privateFile creates the database file 0600 before SQLite does (SQLite
// would make it 0644, and its WAL and shared-memory files copy the
// database's mode), or takes group and other access away from an existing
// one: it holds password hashes and the evidence log.
func privateFile(path string) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return fmt.Errorf("storage: create %s: %w", filepath.Dir(path), err)
	}
	f, err := os.OpenFile(path, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o600)
	if err == nil {
		return f.Close()
	}
	if !errors.Is(err, os.ErrExist) {
		return fmt.Errorf("storage: create %s: %w", path, err)
	}
	for _, p := range []string{path, path + "-wal", path + "-shm"} {
		if fi, err := os.Stat(p); err == nil && fi.Mode().IsRegular() && fi.Mode().Perm()&0o077 != 0 {
			if err := os.Chmod(p, fi.Mode().Perm()&0o700); err != nil {
				return fmt.Errorf("storage: make %s private: %w", p, err)
			}
		}
	}
	return nil
}

func (db *DB) checkSQLite() error {
	var mode string
	if err := db.g.Raw("PRAGMA journal_mode").Scan(&mode).Error; err != nil {
		return fmt.Errorf("storage: %w (is the file a SQLite database?)", err)
	}
	if mode != "wal" {
		return fmt.Errorf("storage: journal_mode is %q, want wal", mode)
	}
	var fk int
	if err := db.g.Raw("PRAGMA foreign_keys").Scan(&fk).Error; err != nil || fk != 1 {
		return fmt.Errorf("storage: foreign keys are not enabled (%v)", err)
	}
	return nil
}

// openPostgres opens a PostgreSQL database, for sites where many gates
// share one log. Appends are serialised with an advisory lock.
func openPostgres(dsn string, clock func() time.Time) (*DB, error) {
	g, err := gorm.Open(postgres.Open(dsn), &gorm.Config{Logger: logger.Discard, NowFunc: func() time.Time { return clock().UTC() }})
	if err != nil {
		return nil, fmt.Errorf("storage: open PostgreSQL %s: %w", RedactDSN(dsn), err)
	}
	return &DB{g: g, dialect: "postgres", clock: clock}, nil
}

// RedactDSN is a DSN fit for messages: a PostgreSQL URL's password
// hidden, a SQLite path as it is.
func RedactDSN(dsn string) string {
	if !strings.HasPrefix(dsn, "postgres://") && !strings.HasPrefix(dsn, "postgresql://") {
		return dsn
	}
	u, err := url.Parse(dsn)
	if err != nil {
		return "(a PostgreSQL DSN that does not parse as a URL)"
	}
	return u.Redacted()
}

// Close closes the underlying connections.
func (db *DB) Close() error {
	sqlDB, err := db.g.DB()
	if err != nil {
		return err
	}
	return sqlDB.Close()
}
