package storage

import (
	"errors"
	"testing"
	"time"
)

// Security 4: users are listed, disabled, demoted and get new passwords;
// the last admin stays; tokens are named, expire and are revoked.
func TestUserAndTokenLifecycle(t *testing.T) {
	forEachDB(t, func(t *testing.T, db *testDB) {
		const pw = "correct horse battery"
		for name, role := range map[string]string{"ada": RoleAdmin, "ivy": RoleInvestigator} {
			if err := db.CreateUser(name, pw, role); err != nil {
				t.Fatal(err)
			}
		}
		if us, err := db.ListUsers(); err != nil || len(us) != 2 || us[0].Username != "ada" {
			t.Fatalf("ListUsers: %+v %v", us, err)
		}
		if err := db.SetUserRole("ada", RoleViewer); !errors.Is(err, ErrLastAdmin) {
			t.Fatalf("demoting the last admin: %v", err)
		}
		if err := db.SetUserDisabled("ada", true); !errors.Is(err, ErrLastAdmin) {
			t.Fatalf("disabling the last admin: %v", err)
		}
		if err := db.SetUserRole("ivy", "root"); !errors.Is(err, ErrBadRole) {
			t.Fatalf("bad role: %v", err)
		}
		now := time.Now()
		tok, err := db.NewAPIToken("ivy", "report script", now.Add(time.Hour))
		if err != nil {
			t.Fatal(err)
		}
		if u, ok := db.UserForToken(tok, now); !ok || u.Username != "ivy" {
			t.Fatal("a fresh token refused")
		}
		if _, ok := db.UserForToken(tok, now.Add(time.Hour)); ok {
			t.Fatal("an expired token accepted")
		}
		if err := db.SetUserDisabled("ivy", true); err != nil {
			t.Fatal(err)
		}
		if _, err := db.CheckLogin("ivy", pw); err == nil {
			t.Fatal("a disabled user logged in")
		}
		if _, ok := db.UserForToken(tok, now); ok {
			t.Fatal("a disabled user's token accepted")
		}
		db.SetUserDisabled("ivy", false)
		if err := db.SetUserRole("ivy", RoleAdmin); err != nil {
			t.Fatal(err)
		}
		if err := db.SetUserRole("ada", RoleViewer); err != nil {
			t.Fatalf("demoting an admin while another exists: %v", err)
		}
		if err := db.ChangePassword("ivy", "wrong", "a brand new passphrase"); !errors.Is(err, ErrLogin) {
			t.Fatalf("change with a wrong current password: %v", err)
		}
		if err := db.ChangePassword("ivy", pw, "aaaaaaaaaaaaaa"); !errors.Is(err, ErrWeakPassword) {
			t.Fatalf("change to a weak password: %v", err)
		}
		if err := db.ChangePassword("ivy", pw, "a brand new passphrase"); err != nil {
			t.Fatal(err)
		}
		if _, err := db.CheckLogin("ivy", "a brand new passphrase"); err != nil {
			t.Fatal("new password refused")
		}
		toks, err := db.APITokens("ivy")
		if err != nil || len(toks) != 1 || toks[0].Name != "report script" || toks[0].Username != "ivy" {
			t.Fatalf("APITokens: %+v %v", toks, err)
		}
		if _, err := db.RevokeAPIToken(toks[0].ID, "ada"); !errors.Is(err, ErrNotFound) {
			t.Fatalf("revoking another user's token as them: %v", err)
		}
		if _, err := db.RevokeAPIToken(toks[0].ID, ""); err != nil {
			t.Fatal(err)
		}
		if _, ok := db.UserForToken(tok, now); ok {
			t.Fatal("a revoked token accepted")
		}
	})
}
