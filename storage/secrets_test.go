package storage

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/pquerna/otp"
	"github.com/pquerna/otp/totp"
)

// Security 8: a TOTP secret is not stored in clear (the URL shown once
// holds it; the column must not).
func TestTOTPSecretSealedAtRest(t *testing.T) {
	forEachDB(t, func(t *testing.T, db *testDB) {
		if err := db.CreateUser("ada", "correct horse battery", RoleAdmin); err != nil {
			t.Fatal(err)
		}
		u, err := db.EnableTOTP("ada")
		if err != nil {
			t.Fatal(err)
		}
		key, err := otp.NewKeyFromURL(u)
		if err != nil {
			t.Fatal(err)
		}
		var stored string
		db.g.Raw("SELECT totp_secret FROM admin_users WHERE username = ?", "ada").Scan(&stored)
		if stored == "" || strings.Contains(strings.ToUpper(stored), key.Secret()) {
			t.Fatalf("TOTP secret stored in clear: %q", stored)
		}
	})
}

// Security 8: the database, its WAL, snapshots and exported bundles are
// readable by the appliance's user only; an existing world-readable
// database is tightened on open.
func TestDataFilesPrivate(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "data", "facegate.db")
	db := openTestDB(t, path, dir)
	if err := db.CreateUser("ada", "correct horse battery", RoleAdmin); err != nil {
		t.Fatal(err)
	}
	e, err := db.recorder().Record(Event{Kind: KindDoorForced, Door: "front"}, []byte("a face"), nil)
	if err != nil {
		t.Fatal(err)
	}
	snap, _ := db.snaps.Path(e.SnapshotHash)
	bundle := filepath.Join(dir, "bundle.zip")
	if _, err := db.recorder().ExportFile(EventFilter{}, bundle); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{path, path + "-wal", snap, filepath.Dir(snap), bundle} {
		checkPrivate(t, p)
	}
	db.Close()
	os.Chmod(path, 0o644)
	db.reopen(t)
	checkPrivate(t, path)
}

func checkPrivate(t *testing.T, p string) {
	t.Helper()
	fi, err := os.Stat(p)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm()&0o077 != 0 {
		t.Errorf("%s is %v: others may read it", p, fi.Mode().Perm())
	}
}

// Security 8: an older facegate's clear TOTP secret is sealed by migration
// 7 on the next start and still logs in, once per code.
func TestMigrationSealsClearTOTPSecrets(t *testing.T) {
	dir := t.TempDir()
	path, keyDir := filepath.Join(dir, "f.db"), filepath.Join(dir, "keys")
	old, err := openSQLite(path, time.Now)
	if err != nil {
		t.Fatal(err)
	}
	if old.Keys, err = LoadOrCreateKeys(keyDir, true); err != nil {
		t.Fatal(err)
	}
	if err := old.migrateTo(6); err != nil {
		t.Fatal(err)
	}
	const secret = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"
	if err := old.g.Exec("INSERT INTO admin_users (username, password_hash, role, totp_secret, disabled) VALUES (?, ?, ?, ?, ?)",
		"ada", "x", RoleAdmin, secret, false).Error; err != nil {
		t.Fatal(err)
	}
	old.Close()
	db, err := Open(path, Options{KeyDir: keyDir})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	u, err := db.UserByName("ada")
	if err != nil || !strings.HasPrefix(u.TOTPSecret, sealedTOTPPrefix) || strings.Contains(u.TOTPSecret, secret) {
		t.Fatalf("secret after migration: %q (%v)", u.TOTPSecret, err)
	}
	now := time.Date(2026, 11, 24, 9, 0, 0, 0, time.UTC)
	code, _ := totp.GenerateCode(secret, now)
	if !db.UseTOTP(u, code, now) {
		t.Fatal("the migrated secret does not verify")
	}
	if db.UseTOTP(u, code, now.Add(20*time.Second)) {
		t.Fatal("a code was accepted twice")
	}
}

// A code works once; its neighbours in time within the skew work in order,
// an older step never after a newer; another user's sealed secret does not
// open under this user's ID.
func TestUseTOTPOnce(t *testing.T) {
	forEachDB(t, func(t *testing.T, db *testDB) {
		for _, n := range []string{"ada", "bob"} {
			if err := db.CreateUser(n, "correct horse battery", RoleAdmin); err != nil {
				t.Fatal(err)
			}
		}
		url, _ := db.EnableTOTP("ada")
		key, _ := otp.NewKeyFromURL(url)
		db.EnableTOTP("bob")
		now := time.Date(2026, 11, 24, 9, 0, 0, 0, time.UTC)
		code := func(at time.Time) string { c, _ := totp.GenerateCode(key.Secret(), at); return c }
		ada, _ := db.UserByName("ada")
		if db.UseTOTP(ada, "000000", now) || db.UseTOTP(ada, "", now) {
			t.Fatal("a wrong code accepted")
		}
		if !db.UseTOTP(ada, code(now.Add(-30*time.Second)), now) || !db.UseTOTP(ada, code(now), now) {
			t.Fatal("the previous and current step's codes, in order, refused")
		}
		if db.UseTOTP(ada, code(now.Add(-30*time.Second)), now) || db.UseTOTP(ada, code(now), now) {
			t.Fatal("a used step accepted again")
		}
		bob, _ := db.UserByName("bob")
		bob.TOTPSecret = ada.TOTPSecret
		if db.UseTOTP(bob, code(now.Add(30*time.Second)), now) {
			t.Fatal("ada's sealed secret opened for bob")
		}
	})
}
