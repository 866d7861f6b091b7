package storage

import (
	"errors"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/crypto/bcrypt"
)

// Security 9: common passwords, one repeated character or pattern and the
// username are refused with a reason; long passphrases work in full.
func TestPasswordPolicy(t *testing.T) {
	dir := t.TempDir()
	db := openTestDB(t, filepath.Join(dir, "f.db"), dir)
	refused := map[string]string{
		"aaaaaaaaaaaa":         "one character",
		"abcabcabcabcabc":      "repeats",
		"1qaz2wsx3edc":         "common",
		"Password1234":         "common",
		"iloveyou!!!!":         "common",
		"passwordpassword":     "repeats",
		"short":                "at least",
		"facegate-admin":       "username",
		"FACEGATE-ADMIN 2026!": "username",
	}
	for pw, why := range refused {
		err := db.CreateUser("facegate-admin", pw, RoleAdmin)
		if err == nil || !errors.Is(err, ErrWeakPassword) || !strings.Contains(err.Error(), why) {
			t.Errorf("password %q: %v, want refused as %q", pw, err, why)
		}
	}
	long := "the first seventy-two bytes of this passphrase are the same as another's, " +
		"and only the rest tells them apart"
	if err := db.CreateUser("ada", long, RoleAdmin); err != nil {
		t.Fatalf("a %d-byte passphrase: %v", len(long), err)
	}
	if _, err := db.CheckLogin("ada", long); err != nil {
		t.Fatalf("login with the long passphrase: %v", err)
	}
	if _, err := db.CheckLogin("ada", long[:72]+"something else entirely"); err == nil {
		t.Fatal("only the first 72 bytes of the passphrase are checked")
	}
	if err := db.CreateUser("bob", "correct horse battery staple", RoleViewer); err != nil {
		t.Fatalf("a good password refused: %v", err)
	}
	// A hash made before the pre-hash (plain bcrypt) still verifies.
	old, _ := bcrypt.GenerateFromPassword([]byte("an older password"), bcrypt.MinCost)
	db.g.Model(&User{}).Where("username = ?", "bob").Update("password_hash", string(old))
	if _, err := db.CheckLogin("bob", "an older password"); err != nil {
		t.Fatalf("an older plain bcrypt hash no longer verifies: %v", err)
	}
}
