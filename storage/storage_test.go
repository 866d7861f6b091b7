package storage

import (
	"errors"
	"path/filepath"
	"strings"
	"testing"
)

func openTemp(t *testing.T) (*DB, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "sub", "facegate.db")
	db, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db, path
}

func TestSQLitePragmas(t *testing.T) {
	db, _ := openTemp(t)
	for pragma, want := range map[string]string{"journal_mode": "wal", "foreign_keys": "1", "synchronous": "2", "busy_timeout": "5000"} {
		var got string
		if err := db.Raw("PRAGMA " + pragma).Scan(&got).Error; err != nil {
			t.Fatal(err)
		}
		if got != want {
			t.Errorf("PRAGMA %s = %s, want %s", pragma, got, want)
		}
	}
}

func TestMigrationsAreVersionedAndIdempotent(t *testing.T) {
	db, path := openTemp(t)
	if _, err := db.Enroll("E1", "Ann", []NewTemplate{{ModelVersion: "m"}}); err != nil {
		t.Fatal(err)
	}
	db.Close()
	db2, err := Open(path)
	if err != nil {
		t.Fatalf("reopen: %v", err)
	}
	var n int64
	db2.Table("schema_migrations").Count(&n)
	if n != int64(len(migrations)) {
		t.Errorf("%d migration rows, want %d", n, len(migrations))
	}
	if p, err := db2.PersonByEmployeeID("E1"); err != nil || p.Name != "Ann" {
		t.Fatalf("data lost across reopen: %+v %v", p, err)
	}
	// A database from a newer facegate is refused, not damaged.
	db2.Exec("INSERT INTO schema_migrations (version, name) VALUES (999, 'future')")
	db2.Close()
	if _, err := Open(path); err == nil || !strings.Contains(err.Error(), "newer") {
		t.Fatalf("newer schema accepted: %v", err)
	}
}

func TestNotADatabase(t *testing.T) {
	path := filepath.Join(t.TempDir(), "x.db")
	if err := writeFile(path, []byte(strings.Repeat("not sqlite ", 200))); err != nil {
		t.Fatal(err)
	}
	if _, err := Open(path); err == nil {
		t.Fatal("opened a text file as a database")
	}
}

func TestDescriptorCoding(t *testing.T) {
	var d [DescriptorLen]float32
	for i := range d {
		d[i] = float32(i) * -0.01
	}
	got, err := DecodeDescriptor(EncodeDescriptor(d))
	if err != nil || got != d {
		t.Fatalf("round trip: %v", err)
	}
	for _, bad := range [][]byte{nil, {1}, append([]byte{9}, make([]byte, 512)...)} {
		if _, err := DecodeDescriptor(bad); err == nil {
			t.Errorf("decoded %d bad bytes", len(bad))
		}
	}
}

func TestEnroll(t *testing.T) {
	db, _ := openTemp(t)
	tpl := func(v float32, model string) NewTemplate {
		var d [DescriptorLen]float32
		d[0] = v
		return NewTemplate{Descriptor: d, ModelVersion: model}
	}
	p, err := db.Enroll(" E1 ", "Ann Lee", []NewTemplate{tpl(1, "m1"), tpl(2, "m1")})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Enroll("E1", "Ann Lee", []NewTemplate{tpl(3, "m2")}); err != nil {
		t.Fatalf("adding templates to an existing person: %v", err)
	}
	if _, err := db.Enroll("E1", "Bob", []NewTemplate{tpl(4, "m1")}); !errors.Is(err, ErrConflict) {
		t.Fatalf("name clash: %v", err)
	}
	if _, err := db.Enroll("E2", "Bob", nil); err == nil {
		t.Fatal("enrolment without templates accepted")
	}
	if _, err := db.Enroll("", "Bob", []NewTemplate{tpl(4, "m1")}); err == nil {
		t.Fatal("enrolment without employee ID accepted")
	}
	ts, skipped, err := db.Templates("m1")
	if err != nil || len(ts) != 2 || skipped != 1 || ts[0].PersonID != p.ID || ts[1].Descriptor[0] != 2 {
		t.Fatalf("Templates(m1) = %+v, skipped %d, %v", ts, skipped, err)
	}
	if n, _ := db.CountTemplates(p.ID); n != 3 {
		t.Errorf("%d templates, want 3", n)
	}
	// Foreign keys: deleting the person deletes their templates.
	if err := db.Exec("DELETE FROM people WHERE id = ?", p.ID).Error; err != nil {
		t.Fatal(err)
	}
	if n, _ := db.CountTemplates(p.ID); n != 0 {
		t.Errorf("%d orphan templates after delete", n)
	}
	if _, err := db.PersonByEmployeeID("E1"); !errors.Is(err, ErrNotFound) {
		t.Errorf("deleted person found: %v", err)
	}
}
