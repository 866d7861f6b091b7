package alert

import (
	"path/filepath"
	"testing"
	"time"

	"github.com/facegate/facegate/storage"
)

func openRecorder(t *testing.T) *storage.Recorder {
	t.Helper()
	dir := t.TempDir()
	db, err := storage.Open(filepath.Join(dir, "facegate.db"), storage.Options{KeyDir: filepath.Join(dir, "keys")})
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
