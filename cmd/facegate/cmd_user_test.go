package main

import (
	"bytes"
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/facegate/facegate/storage"
)

// Security 4: `facegate user` lists, demotes, disables, re-enables and
// resets web users and revokes tokens, each audited as "cli".
func TestUserCommand(t *testing.T) {
	dir := t.TempDir()
	db, err := storage.Open(filepath.Join(dir, "facegate.db"), storage.Options{KeyDir: filepath.Join(dir, "keys")})
	if err != nil {
		t.Fatal(err)
	}
	for name, role := range map[string]string{"ada": storage.RoleAdmin, "ivy": storage.RoleInvestigator} {
		if err := db.CreateUser(name, "correct horse battery", role); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := db.NewAPIToken("ivy", "nightly export", time.Now().Add(24*time.Hour)); err != nil {
		t.Fatal(err)
	}
	db.Close()
	user := func(stdin string, args ...string) (string, error) {
		var out, errb bytes.Buffer
		err := cmdUser(context.Background(), append(args, "--data-dir", dir), strings.NewReader(stdin), &out, &errb)
		return out.String(), err
	}
	out, err := user("", "list")
	if err != nil || !strings.Contains(out, "ivy") || !strings.Contains(out, "investigator") || !strings.Contains(out, "nightly export") {
		t.Fatalf("list: %v\n%s", err, out)
	}
	if _, err := user("", "role", "--username", "ada", "--role", "viewer"); err == nil || !strings.Contains(err.Error(), "last enabled admin") {
		t.Fatalf("demoting the last admin: %v", err)
	}
	steps := [][]string{{"role", "--username", "ivy", "--role", "viewer"}, {"disable", "--username", "ivy"}, {"enable", "--username", "ivy"}}
	for _, s := range steps {
		if _, err := user("", s...); err != nil {
			t.Fatalf("%v: %v", s, err)
		}
	}
	if _, err := user("password\n", "reset-password", "--username", "ivy"); err == nil || !strings.Contains(err.Error(), "weak password") {
		t.Fatalf("reset to a weak password: %v", err)
	}
	if _, err := user("a new start for ivy\n", "reset-password", "--username", "ivy"); err != nil {
		t.Fatal(err)
	}
	if _, err := user("", "revoke-token", "--id", "1"); err != nil {
		t.Fatal(err)
	}
	if _, err := user("", "bogus"); err == nil {
		t.Fatal("unknown subcommand accepted")
	}
	db, err = storage.Open(filepath.Join(dir, "facegate.db"), storage.Options{KeyDir: filepath.Join(dir, "keys")})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	u, err := db.CheckLogin("ivy", "a new start for ivy")
	if err != nil || u.Role != storage.RoleViewer || u.Disabled {
		t.Fatalf("ivy after the commands: %+v %v", u, err)
	}
	if toks, _ := db.APITokens(""); len(toks) != 0 {
		t.Fatalf("token not revoked: %+v", toks)
	}
	log, _ := db.AuditLog(10)
	if len(log) != 5 || log[0].By != "cli" || log[0].Code != "api_token_revoked" || log[4].Code != "user_role_changed" {
		t.Fatalf("audit %+v", log)
	}
}
