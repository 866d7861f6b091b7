package storage

import (
	"bufio"
	"database/sql"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	_ "github.com/mattn/go-sqlite3"
)

const lockChildEnv = "FACEGATE_LOCK_CHILD"

// TestLockChild holds an exclusive lock on the database named in its
// environment for 7 s (longer than the 5 s busy timeout), like a backup
// tool or a second process would.
func TestLockChild(t *testing.T) {
	path := os.Getenv(lockChildEnv)
	if path == "" {
		t.Skip("helper process for TestDatabaseLockedByAnotherProcess")
	}
	db, err := sql.Open("sqlite3", "file:"+path)
	if err != nil {
		os.Exit(3)
	}
	conn, _ := db.Conn(t.Context())
	if _, err := conn.ExecContext(t.Context(), "BEGIN EXCLUSIVE"); err != nil {
		fmt.Println("error", err)
		os.Exit(3)
	}
	fmt.Println("locked")
	time.Sleep(7 * time.Second)
	conn.ExecContext(t.Context(), "COMMIT")
	os.Exit(0)
}

// A decision made while another process holds the database is recorded
// once the lock goes, not lost.
func TestDatabaseLockedByAnotherProcess(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "f.db")
	db := openTestDB(t, path, dir)
	r := db.recorder()
	if _, err := r.Record(Event{Kind: "access_granted", Granted: true}, nil, nil); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestLockChild$")
	cmd.Env = append(os.Environ(), lockChildEnv+"="+path)
	out, _ := cmd.StdoutPipe()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Wait()
	sc := bufio.NewScanner(out)
	if !sc.Scan() || sc.Text() != "locked" {
		t.Fatalf("child: %q", sc.Text())
	}
	start := time.Now()
	ev, err := r.Record(Event{Kind: "access_denied", Reason: "while locked"}, []byte("frame"), nil)
	if err != nil {
		t.Fatalf("decision lost while the database was locked: %v", err)
	}
	if waited := time.Since(start); waited < 6*time.Second {
		t.Fatalf("recorded after %s: the lock was not really held", waited)
	}
	if ev.Seq != 2 {
		t.Fatalf("seq %d", ev.Seq)
	}
	if rep := mustVerify(t, db); !rep.OK() {
		t.Fatalf("verify: %v", rep.Problems)
	}
}
