package storage

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

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
	*gorm.DB
	dialect string
}

// Dialect is "sqlite" or "postgres".
func (db *DB) Dialect() string { return db.dialect }

// Open opens (creating if needed) the database named by dsn and migrates
// it to the current schema. A dsn starting with postgres:// or postgresql://
// is PostgreSQL; anything else is a SQLite file path.
func Open(dsn string) (*DB, error) {
	if strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://") {
		return openPostgres(dsn)
	}
	return OpenSQLite(dsn)
}

// OpenSQLite opens a SQLite file with WAL, foreign keys, a busy timeout and
// synchronous=FULL: an access-control log must survive power loss, and FULL
// fsyncs the WAL on every commit (NORMAL may lose the last commits).
func OpenSQLite(path string) (*DB, error) {
	if path == "" {
		return nil, errors.New("storage: empty database path")
	}
	if dir := filepath.Dir(path); dir != "" {
		if err := os.MkdirAll(dir, 0o750); err != nil {
			return nil, fmt.Errorf("storage: create %s: %w", dir, err)
		}
	}
	// mattn/go-sqlite3 spells its options with underscores.
	dsn := "file:" + path + "?_journal_mode=WAL&_foreign_keys=1&_synchronous=FULL&_txlock=immediate&_busy_timeout=" +
		fmt.Sprint(sqliteBusyTimeoutMS)
	g, err := gorm.Open(sqlite.Open(dsn), &gorm.Config{Logger: logger.Discard, NowFunc: func() time.Time { return time.Now().UTC() }})
	if err != nil {
		return nil, fmt.Errorf("storage: open %s: %w", path, err)
	}
	db := &DB{DB: g, dialect: "sqlite"}
	if err := db.checkSQLite(); err != nil {
		db.Close()
		return nil, err
	}
	if err := db.Migrate(); err != nil {
		db.Close()
		return nil, err
	}
	return db, nil
}

func (db *DB) checkSQLite() error {
	var mode string
	if err := db.Raw("PRAGMA journal_mode").Scan(&mode).Error; err != nil {
		return fmt.Errorf("storage: %w (is the file a SQLite database?)", err)
	}
	if mode != "wal" {
		return fmt.Errorf("storage: journal_mode is %q, want wal", mode)
	}
	var fk int
	if err := db.Raw("PRAGMA foreign_keys").Scan(&fk).Error; err != nil || fk != 1 {
		return fmt.Errorf("storage: foreign keys are not enabled (%v)", err)
	}
	return nil
}

func openPostgres(dsn string) (*DB, error) {
	return nil, errors.New("storage: PostgreSQL support is not built yet (evidence issue); use a SQLite path")
}

// Close closes the underlying connections.
func (db *DB) Close() error {
	sqlDB, err := db.DB.DB()
	if err != nil {
		return err
	}
	return sqlDB.Close()
}
