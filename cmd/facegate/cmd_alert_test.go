package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/facegate/facegate/gate/alert"
	"github.com/facegate/facegate/gate/alert/alerttest"
	"github.com/facegate/facegate/storage"
)

// Issue 14, alerts: `facegate alert` shows an example until a
// configuration is stored, refuses a wrong one saying what to fix and
// storing nothing, stores a right one (audited as "cli"), and sends a test
// mail through a real STARTTLS server.
func TestAlertCommand(t *testing.T) {
	dir := t.TempDir()
	srv := alerttest.Start(t)
	t.Setenv(alert.PasswordEnv, srv.PW)
	alertCmd := func(stdin string, args ...string) (string, string, error) {
		var out, errb bytes.Buffer
		err := cmdAlert(context.Background(), append(args, "--data-dir", dir), strings.NewReader(stdin), &out, &errb)
		return out.String(), errb.String(), err
	}
	if out, _, err := alertCmd("", "show"); err != nil || !strings.Contains(out, "No alert configuration is stored") || !strings.Contains(out, `"kind": "denials"`) {
		t.Fatalf("show before set: %v\n%s", err, out)
	}
	if _, _, err := alertCmd("", "test"); err == nil || !strings.Contains(err.Error(), "no alert configuration stored") {
		t.Fatalf("test before set: %v", err)
	}
	bad := filepath.Join(dir, "bad.json")
	os.WriteFile(bad, []byte(`{"rules": [{"name": "x", "kind": "denials", "count": 1}]}`), 0o600)
	if _, _, err := alertCmd("", "set", bad); err == nil || !strings.Contains(err.Error(), "needs count (2–1000)") || !strings.Contains(err.Error(), "nothing stored") {
		t.Fatalf("set with a wrong rule: %v", err)
	}
	if _, _, err := alertCmd("", "set"); err == nil || exitCode(err) != 2 {
		t.Fatalf("set without FILE: %v", err)
	}
	body := fmt.Sprintf(`{"language": "ja", "to": ["security@example.org"],
	  "smtp": {"server": %q, "from": "gate@example.org", "username": %q, "ca_file": %q},
	  "digest": {"at": "07:30", "to": ["admin@example.org", "SECURITY@example.org"]},
	  "rules": [{"name": "共連れ", "kind": "tailgating", "to": ["guard@example.org"]}]}`, srv.Addr, srv.User, srv.CAFile)
	out, errOut, err := alertCmd(body, "set", "-")
	if err != nil || !strings.Contains(out, "1 rules stored") || errOut != "" {
		t.Fatalf("set: %v\n%s%s", err, out, errOut)
	}
	if out, _, err := alertCmd("", "show"); err != nil || strings.TrimSpace(out) != strings.TrimSpace(body) {
		t.Fatalf("show: %v\n%s", err, out)
	}
	if out, _, err := alertCmd("", "test"); err != nil || !strings.Contains(out, "test mail sent to security@example.org, guard@example.org, admin@example.org") {
		t.Fatalf("test: %v\n%s", err, out)
	}
	if _, _, err := alertCmd("", "test", "--to", "me@example.org"); err != nil {
		t.Fatal(err)
	}
	mails := srv.Received()
	if len(mails) != 2 || mails[0].Subject != "[facegate] テストメール" || !mails[0].TLS ||
		!slices.Equal(mails[0].To, []string{"security@example.org", "guard@example.org", "admin@example.org"}) ||
		!slices.Equal(mails[1].To, []string{"me@example.org"}) {
		t.Fatalf("mails: %+v", mails)
	}
	db, err := storage.Open(filepath.Join(dir, "facegate.db"), storage.Options{KeyDir: filepath.Join(dir, "keys")})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	audit, _ := db.AuditLog(10)
	if len(audit) != 1 || audit[0].Code != "document_saved" || audit[0].By != "cli" || !strings.Contains(audit[0].Detail, `"key":"alerts"`) {
		t.Errorf("audit log: %+v", audit)
	}
}
