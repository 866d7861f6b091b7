package storage

import (
	"bytes"
	"crypto/ed25519"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// FuzzVerifyBundle: a hostile or damaged bundle never crashes the
// verifier, and an unchanged one still verifies.
func FuzzVerifyBundle(f *testing.F) {
	dir := f.TempDir()
	db, err := Open(filepath.Join(dir, "f.db"), Options{KeyDir: filepath.Join(dir, "keys")})
	if err != nil {
		f.Fatal(err)
	}
	defer db.Close()
	r := &Recorder{DB: db, Snapshots: SnapshotStore{Dir: filepath.Join(dir, "s")}, Keys: db.Keys}
	for i := 0; i < 5; i++ {
		r.Record(Event{Kind: "access_granted", Granted: true, PersonID: 1, AtMicro: time.Date(2026, 11, 2, 9, i, 0, 0, time.UTC).UnixMicro()},
			[]byte{byte(i), 1, 2, 3}, nil)
	}
	var good bytes.Buffer
	if _, err := r.Export(EventFilter{}, &good); err != nil {
		f.Fatal(err)
	}
	pub := db.Keys.Public
	f.Add(good.Bytes())
	f.Add([]byte("PK\x03\x04"))
	f.Fuzz(func(t *testing.T, b []byte) {
		p := filepath.Join(t.TempDir(), "b.zip")
		os.WriteFile(p, b, 0o600)
		rep, err := VerifyBundle(p, ed25519.PublicKey(pub))
		if bytes.Equal(b, good.Bytes()) && (err != nil || !rep.OK()) {
			t.Fatalf("the untouched bundle fails: %v %v", err, rep.Problems)
		}
	})
}
