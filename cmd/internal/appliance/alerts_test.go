package appliance

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/facegate/facegate/gate/alert"
	"github.com/facegate/facegate/gate/alert/alerttest"
	"github.com/facegate/facegate/models/modeltest"
	"github.com/facegate/facegate/storage"
	"github.com/facegate/facegate/vision"
	"github.com/facegate/facegate/web"
)

// Issue 14, alerts: Run evaluates the door's events once an alert
// configuration is stored while it runs (as `facegate alert set` does from
// another process), appends the alert to the evidence log and mails it
// through a real STARTTLS server.
func TestRunRaisesAlerts(t *testing.T) {
	cfg := Config{DataDir: t.TempDir(), ModelsDir: modeltest.ModelsDir(t), Rule: vision.DefaultRule, Embedder: "dlib",
		DemoDir: modeltest.Testdata(t), Source: filepath.Join(modeltest.Testdata(t), "video", "short_hamilton_clip.mp4"),
		OpenTime: time.Second, SiteTZ: "Asia/Tokyo", Web: web.Options{Addr: "127.0.0.1:0", PlainHTTP: true}}
	a, err := New(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	srv := alerttest.Start(t)
	pw := filepath.Join(t.TempDir(), "smtp.pw")
	if err := os.WriteFile(pw, []byte(srv.PW), 0o600); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- a.Run(ctx) }()
	body := fmt.Sprintf(`{"language": "ja", "to": ["security@example.org"],
	  "smtp": {"server": %q, "from": "gate@example.org", "username": %q, "password_file": %q, "ca_file": %q},
	  "rules": [{"name": "共連れ", "kind": "tailgating", "doors": ["front"]}]}`, srv.Addr, srv.User, pw, srv.CAFile)
	if err := a.recorder.SaveDocument(alert.DocumentKey, body, "test"); err != nil {
		t.Fatal(err)
	}
	var tail storage.Event
	for deadline := time.Now().Add(60 * time.Second); len(srv.Received()) == 0; time.Sleep(50 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("no alert mail within 60 s")
		}
		// Until the engine has started (its cursor is the head at its start), a
		// tailgating event may come before it: record one each second.
		if time.Since(tail.At()) > time.Second {
			if tail, err = a.recorder.Record(storage.Event{Kind: storage.KindTailgating, Door: "front", Reason: "2 faces on one grant"}, nil, nil); err != nil {
				t.Fatal(err)
			}
		}
	}
	m := srv.Received()[0]
	if m.Subject != "[facegate] front:共連れ" || !strings.Contains(m.Body, "frontで共連れを検知しました:2 faces on one grant") || !m.TLS {
		t.Errorf("mail %q (tls %v):\n%s", m.Subject, m.TLS, m.Body)
	}
	alerts, err := a.db.Events(storage.EventFilter{Kind: storage.KindAlert})
	if err != nil || len(alerts) == 0 || alerts[0].Rule != "共連れ" || alerts[0].Code != alert.KindTailgating || alerts[0].Door != "front" {
		t.Fatalf("alert events %+v (%v)", alerts, err)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}
