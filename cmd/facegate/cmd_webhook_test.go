package main

import (
	"bytes"
	"context"
	"encoding/pem"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/facegate/facegate/gate/notify"
	"github.com/facegate/facegate/storage"
)

// Issue 14, webhooks: `facegate webhook` adds a subscription (printing the
// generated secret), lists it, sends a signed test payload the receiver
// verifies with that secret, shows the attempt in the log, pauses and
// removes it, each change audited as "cli"; bad input is refused clearly.
func TestWebhookCommand(t *testing.T) {
	dir := t.TempDir()
	var mu sync.Mutex
	var sigs, bodies []string
	rc := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		mu.Lock()
		sigs, bodies = append(sigs, r.Header.Get(notify.SignatureHeader)), append(bodies, string(b))
		mu.Unlock()
	}))
	defer rc.Close()
	hook := func(args ...string) (string, error) {
		var out, errb bytes.Buffer
		err := cmdWebhook(context.Background(), append(args, "--data-dir", dir), &out, &errb)
		return out.String(), err
	}
	if _, err := hook("add", "--url", rc.URL); err == nil || !strings.Contains(err.Error(), "use https") {
		t.Fatalf("plain http without --allow-http: %v", err)
	}
	if _, err := hook("add", "--url", "https://r.example/h", "--kinds", "access_granted,bogus"); err == nil || !strings.Contains(err.Error(), `"bogus"`) {
		t.Fatalf("unknown kind: %v", err)
	}
	out, err := hook("add", "--url", rc.URL+"/hook", "--allow-http", "--kinds", "access_granted, access_denied", "--doors", "front")
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`secret .*: (whsec_[0-9a-f]{64})`).FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("add printed no secret:\n%s", out)
	}
	secretFile := filepath.Join(dir, "secret")
	os.WriteFile(secretFile, []byte("a secret from a file, long enough\n"), 0o600)
	if out, err := hook("add", "--url", "https://127.0.0.1:1/h", "--secret-file", secretFile); err != nil || strings.Contains(out, "secret") {
		t.Fatalf("add with --secret-file: %v\n%s", err, out)
	}
	if out, err := hook("test", "--id", "1"); err != nil || !strings.Contains(out, "HTTP 200") {
		t.Fatalf("test: %v\n%s", err, out)
	}
	mu.Lock()
	if len(bodies) != 1 || notify.Verify(m[1], sigs[0], []byte(bodies[0]), time.Now(), notify.DefaultTolerance) != nil ||
		!strings.Contains(bodies[0], `"test":true`) {
		t.Fatalf("receiver got %q signed %q", bodies, sigs)
	}
	mu.Unlock()
	if _, err := hook("test", "--id", "2"); err == nil || !strings.Contains(err.Error(), "failed") {
		t.Fatalf("test to an unreachable receiver: %v", err)
	}
	out, err = hook("list")
	if err != nil || !strings.Contains(out, "access_granted,access_denied") || !strings.Contains(out, "HTTP 200") || !strings.Contains(out, "127.0.0.1:1/h") {
		t.Fatalf("list: %v\n%s", err, out)
	}
	if out, err := hook("log", "--id", "1"); err != nil || !strings.Contains(out, "test") || strings.Count(out, "\n") != 2 {
		t.Fatalf("log: %v\n%s", err, out)
	}
	for _, s := range [][]string{{"disable", "--id", "1"}, {"enable", "--id", "1"}, {"remove", "--id", "2"}} {
		if _, err := hook(s...); err != nil {
			t.Fatalf("%v: %v", s, err)
		}
	}
	if _, err := hook("remove"); err == nil || !strings.Contains(err.Error(), "needs --id") {
		t.Fatalf("remove without --id: %v", err)
	}
	if _, err := hook("remove", "--id", "2"); err == nil || !strings.Contains(err.Error(), "no webhook 2") {
		t.Fatalf("removing twice: %v", err)
	}
	// A receiver with a certificate from a private CA, named with --ca-file.
	tlsRC := httptest.NewTLSServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	defer tlsRC.Close()
	caFile := filepath.Join(dir, "ca.pem")
	os.WriteFile(caFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: tlsRC.Certificate().Raw}), 0o644)
	if _, err := hook("add", "--url", tlsRC.URL, "--ca-file", secretFile); err == nil || !strings.Contains(err.Error(), "no PEM certificate") {
		t.Fatalf("--ca-file without a certificate: %v", err)
	}
	if _, err := hook("add", "--url", tlsRC.URL, "--ca-file", caFile); err != nil {
		t.Fatal(err)
	}
	if out, err := hook("test", "--id", "3"); err != nil || !strings.Contains(out, "HTTP 200") {
		t.Fatalf("test to a receiver with its own CA: %v\n%s", err, out)
	}
	checkWebhookAudit(t, dir)
}

func checkWebhookAudit(t *testing.T, dir string) {
	t.Helper()
	db, err := storage.Open(filepath.Join(dir, "facegate.db"), storage.Options{KeyDir: filepath.Join(dir, "keys")})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	log, _ := db.AuditLog(10)
	var codes []string
	for _, e := range log {
		codes = append(codes, e.Code)
		if e.By != "cli" || strings.Contains(e.Detail, "whsec_") {
			t.Errorf("audit entry %+v", e)
		}
	}
	if got := strings.Join(codes, " "); got != "webhook_added webhook_removed webhook_enabled webhook_disabled webhook_added webhook_added" {
		t.Fatalf("audit %s", got)
	}
	if subs, _ := db.Webhooks(); len(subs) != 2 || !subs[0].Enabled || subs[1].CACert == "" {
		t.Fatalf("left %+v", subs)
	}
}
