package storage

import (
	"bytes"
	"encoding/binary"
	"errors"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func TestSQLitePragmas(t *testing.T) {
	dir := t.TempDir()
	db := openTestDB(t, filepath.Join(dir, "sub", "facegate.db"), dir)
	for pragma, want := range map[string]string{"journal_mode": "wal", "foreign_keys": "1", "synchronous": "2", "busy_timeout": "5000"} {
		var got string
		if err := db.g.Raw("PRAGMA " + pragma).Scan(&got).Error; err != nil {
			t.Fatal(err)
		}
		if got != want {
			t.Errorf("PRAGMA %s = %s, want %s", pragma, got, want)
		}
	}
}

func TestMigrationsAreVersionedAndIdempotent(t *testing.T) {
	forEachDB(t, func(t *testing.T, db *testDB) {
		if _, err := db.Enroll("E1", "Ann", []NewTemplate{{ModelVersion: "m"}}); err != nil {
			t.Fatal(err)
		}
		db2 := db.reopen(t)
		var n int64
		db2.g.Table("schema_migrations").Count(&n)
		if n != int64(len(migrations)) {
			t.Errorf("%d migration rows, want %d", n, len(migrations))
		}
		if p, err := db2.PersonByEmployeeID("E1"); err != nil || p.Name != "Ann" {
			t.Fatalf("data lost across reopen: %+v %v", p, err)
		}
		// A database from a newer facegate is refused, not damaged.
		db2.g.Exec("INSERT INTO schema_migrations (version, name) VALUES (999, 'future')")
		db2.Close()
		if _, err := Open(db.dsn, Options{KeyDir: db.keyDir}); err == nil || !strings.Contains(err.Error(), "newer") {
			t.Fatalf("newer schema accepted: %v", err)
		}
	})
}

func TestNotADatabase(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "x.db")
	os.WriteFile(path, []byte(strings.Repeat("not sqlite ", 200)), 0o600)
	if _, err := Open(path, Options{KeyDir: dir}); err == nil {
		t.Fatal("opened a text file as a database")
	}
	if _, err := Open(filepath.Join(dir, "y.db"), Options{}); err == nil {
		t.Fatal("opened without a key directory")
	}
}

// encodeV1 is the format-1 (128 float32) encoding older facegate wrote.
func encodeV1(d []float32) []byte {
	b := make([]byte, 1+4*DescriptorLen)
	b[0] = descriptorFormat
	for i, v := range d {
		binary.LittleEndian.PutUint32(b[1+4*i:], math.Float32bits(v))
	}
	return b
}

func TestDescriptorCoding(t *testing.T) {
	for _, n := range []int{DescriptorLen, 512} {
		d := make([]float32, n)
		for i := range d {
			d[i] = float32(i) * -0.01
		}
		got, err := DecodeDescriptor(EncodeDescriptor(d))
		if err != nil || !slices.Equal(got, d) {
			t.Fatalf("%d-D round trip: %v", n, err)
		}
		if n == DescriptorLen {
			if got, err := DecodeDescriptor(encodeV1(d)); err != nil || !slices.Equal(got, d) {
				t.Fatalf("format 1 no longer reads: %v", err)
			}
		}
	}
	short := EncodeDescriptor(make([]float32, 512))[:100]
	for _, bad := range [][]byte{nil, {1}, {3, 0, 0}, short, append([]byte{9}, make([]byte, 512)...)} {
		if _, err := DecodeDescriptor(bad); err == nil {
			t.Errorf("decoded %d bad bytes", len(bad))
		}
	}
}

func tpl(v float32, model string) NewTemplate {
	d := make([]float32, DescriptorLen)
	d[0] = v
	for i := 1; i < DescriptorLen; i++ {
		d[i] = 0.0123 * float32(i)
	}
	return NewTemplate{Descriptor: d, ModelVersion: model}
}

func TestEnroll(t *testing.T) {
	forEachDB(t, func(t *testing.T, db *testDB) {
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
		ts, skipped, err := db.Templates("m1")
		if err != nil || len(ts) != 2 || skipped != 1 || ts[0].PersonID != p.ID || ts[1].Descriptor[0] != 2 {
			t.Fatalf("Templates(m1) = %+v, skipped %d, %v", ts, skipped, err)
		}
		// Foreign keys: deleting the person deletes their templates.
		if err := db.g.Exec("DELETE FROM people WHERE id = ?", p.ID).Error; err != nil {
			t.Fatal(err)
		}
		if n, _ := db.CountTemplates(p.ID); n != 0 {
			t.Errorf("%d orphan templates after delete", n)
		}
	})
}

// Templates are sealed with AES-GCM under a key file outside the database;
// without the right key there is a clear error, never garbage matches.
func TestTemplatesEncryptedAtRest(t *testing.T) {
	forEachDB(t, func(t *testing.T, db *testDB) {
		want := tpl(0.5, "m1")
		if _, err := db.Enroll("E1", "Ann", []NewTemplate{want}); err != nil {
			t.Fatal(err)
		}
		var raw FaceTemplate
		db.g.First(&raw)
		plain := EncodeDescriptor(want.Descriptor)
		if raw.Descriptor[0] != descriptorSealed || bytes.Contains(raw.Descriptor, plain[1:17]) {
			t.Fatal("descriptor stored in plain form")
		}
		// A stored plain (format 1) template from an older facegate is sealed on open.
		legacy := make([]float32, DescriptorLen)
		legacy[5] = 0.25
		db.g.Exec("INSERT INTO face_templates (person_id, descriptor, model_version) VALUES (?, ?, ?)", raw.PersonID, encodeV1(legacy), "m1")
		db = db.reopen(t)
		ts, _, err := db.Templates("m1")
		if err != nil || len(ts) != 2 || !slices.Equal(ts[0].Descriptor, want.Descriptor) || !slices.Equal(ts[1].Descriptor, legacy) {
			t.Fatalf("after upgrade: %v %v", ts, err)
		}
		var n int64
		db.g.Model(&FaceTemplate{}).Where("substr(descriptor, 1, 1) = ?", []byte{descriptorFormat}).Count(&n)
		if n != 0 {
			t.Fatalf("%d templates still plain after open", n)
		}
		db.Close()
		// Lost key file: a clear error naming it.
		os.Rename(filepath.Join(db.keyDir, TemplateKeyFile), filepath.Join(db.keyDir, "moved"))
		if _, err := Open(db.dsn, Options{KeyDir: db.keyDir}); !errors.Is(err, ErrKey) || !strings.Contains(err.Error(), TemplateKeyFile) {
			t.Fatalf("missing key: %v", err)
		}
		// Another key: refused when templates are read.
		os.WriteFile(filepath.Join(db.keyDir, TemplateKeyFile), []byte(strings.Repeat("ab", 32)), 0o600)
		db2, err := Open(db.dsn, Options{KeyDir: db.keyDir})
		if err != nil {
			t.Fatal(err)
		}
		defer db2.Close()
		if _, _, err := db2.Templates("m1"); !errors.Is(err, ErrKey) || !strings.Contains(err.Error(), "do not decrypt") {
			t.Fatalf("wrong key: %v", err)
		}
	})
}

func TestRedactDSN(t *testing.T) {
	got := RedactDSN("postgres://gate:s3cret@db.example:5432/facegate?sslmode=require")
	if strings.Contains(got, "s3cret") || !strings.Contains(got, "gate:xxxxx@db.example:5432/facegate") {
		t.Fatalf("redacted DSN %q", got)
	}
	if got := RedactDSN("postgres://%zz"); strings.Contains(got, "%zz") {
		t.Fatalf("unparseable DSN shown: %q", got)
	}
}
