package alert

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/facegate/facegate/gate/alert/alerttest"
	"github.com/facegate/facegate/storage"
)

// mailConfig is a configuration that mails through srv.
func mailConfig(t *testing.T, srv *alerttest.Server, lang string) string {
	pw := filepath.Join(t.TempDir(), "smtp.pw")
	if err := os.WriteFile(pw, []byte(srv.PW+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	return fmt.Sprintf(`{"language": %q, "to": ["security@example.org"],
  "smtp": {"server": %q, "from": "facegate <gate@example.org>", "username": %q, "password_file": %q, "ca_file": %q},
  "rules": [
    {"name": "stranger", "kind": "unknown_face", "to": ["guard@example.org", "boss@example.org"]},
    {"name": "tail", "kind": "tailgating"}
  ]}`, lang, srv.Addr, srv.User, pw, srv.CAFile)
}

func saveConfig(t *testing.T, r *storage.Recorder, body string) {
	t.Helper()
	if _, err := Parse([]byte(body)); err != nil {
		t.Fatal(err)
	}
	if err := r.SaveDocument(DocumentKey, body, "test"); err != nil {
		t.Fatal(err)
	}
}

func testOptions(r *storage.Recorder) Options {
	return Options{Recorder: r, Door: "front", Location: tokyo, Poll: 5 * time.Millisecond,
		MinBackoff: 5 * time.Millisecond, MaxBackoff: 40 * time.Millisecond}
}

// run starts a Service and returns a function that stops it and waits.
func run(opt Options) (stop func()) {
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Go(func() { New(opt).Run(ctx) })
	return func() { cancel(); wg.Wait() }
}

func cursorAt(t *testing.T, db *storage.DB, name string) (int64, bool) {
	seq, found, err := db.Cursor(name)
	if err != nil {
		t.Fatal(err)
	}
	return seq, found
}

// TestAlertsReachInboxExactlyOnce: a real SMTP server (STARTTLS, PLAIN
// login) refuses every mail for a while; once it accepts again every
// alert of this door arrives, exactly once, in order, over TLS, to its
// rule's recipients, and a restarted appliance sends only what is new.
func TestAlertsReachInboxExactlyOnce(t *testing.T) {
	forEachDB(t, func(t *testing.T, r *storage.Recorder) {
		srv := alerttest.Start(t)
		srv.SetFailing(true)
		saveConfig(t, r, mailConfig(t, srv, "en"))
		stop := run(testOptions(r))
		eventually(t, "the cursors to start", func() bool {
			_, e := cursorAt(t, r.DB, "alerts:front")
			_, m := cursorAt(t, r.DB, "alert-mail:front")
			return e && m
		})
		base := time.Now().Add(-time.Minute)
		var triggers []int64
		for i := range 5 {
			ev := appendEvent(t, r, denial(0, "front", "unknown_face", base.Add(time.Duration(i)*time.Second)))
			triggers = append(triggers, ev.Seq)
		}
		appendEvent(t, r, denial(0, "garage", "unknown_face", base)) // another gate's door
		tail := appendEvent(t, r, storage.Event{Kind: storage.KindTailgating, Door: "front", Reason: "2 faces on one grant", AtMicro: base.UnixMicro()})
		triggers = append(triggers, tail.Seq)
		eventually(t, "the server to refuse mails for a while", func() bool {
			return srv.Refused() >= 4
		})
		if n := len(srv.Received()); n != 0 {
			t.Fatalf("%d mails arrived while the server refused them", n)
		}
		srv.SetFailing(false)
		eventually(t, "six mails", func() bool { return len(srv.Received()) >= 6 })
		head, _ := r.DB.EventCount()
		eventually(t, "the mail cursor to reach the head", func() bool { c, _ := cursorAt(t, r.DB, "alert-mail:front"); return c == head })
		stop()
		checkMails(t, srv.Received(), triggers)

		// A restart resumes at the cursors: only the new alert is mailed.
		stop = run(testOptions(r))
		defer stop()
		ev := appendEvent(t, r, denial(0, "front", "unknown_face", time.Now()))
		eventually(t, "the seventh mail", func() bool { return len(srv.Received()) >= 7 })
		head, _ = r.DB.EventCount()
		eventually(t, "the mail cursor to reach the head", func() bool { c, _ := cursorAt(t, r.DB, "alert-mail:front"); return c == head })
		checkMails(t, srv.Received(), append(triggers, ev.Seq))
	})
}

// checkMails checks that mails are one per trigger, in order, and well formed.
func checkMails(t *testing.T, mails []alerttest.Mail, triggers []int64) {
	t.Helper()
	if len(mails) != len(triggers) {
		t.Fatalf("%d mails, want %d (one per alert)", len(mails), len(triggers))
	}
	var ids []string
	for i, m := range mails {
		id := m.Header.Get("Message-ID")
		if slices.Contains(ids, id) {
			t.Errorf("mail %d: Message-ID %s arrived twice", i, id)
		}
		ids = append(ids, id)
		if !m.TLS || m.From != "gate@example.org" || m.Header.Get("From") != "facegate <gate@example.org>" {
			t.Errorf("mail %d: tls %v, envelope from %q, From %q", i, m.TLS, m.From, m.Header.Get("From"))
		}
		if want := fmt.Sprintf("event %d, alert event", triggers[i]); !strings.Contains(m.Body, want) {
			t.Errorf("mail %d does not name its trigger (%q):\n%s", i, want, m.Body)
		}
		wantTo, wantSubject := []string{"guard@example.org", "boss@example.org"}, "[facegate] stranger at front"
		if i == 5 {
			wantTo, wantSubject = []string{"security@example.org"}, "[facegate] tail at front"
		}
		if !slices.Equal(m.To, wantTo) || m.Subject != wantSubject {
			t.Errorf("mail %d: to %v subject %q, want %v %q", i, m.To, m.Subject, wantTo, wantSubject)
		}
	}
}

// TestEngineExactlyOnceAfterCrash: an alert appended just before a crash,
// its cursor not yet stored, is not appended again by the next engine, and
// the triggers after it are still evaluated.
func TestEngineExactlyOnceAfterCrash(t *testing.T) {
	forEachDB(t, func(t *testing.T, r *storage.Recorder) {
		saveConfig(t, r, `{"rules": [{"name": "stranger", "kind": "unknown_face"}, {"name": "tail", "kind": "tailgating"}]}`)
		s := New(testOptions(r))
		cfg := s.Config()
		e1, err := s.startEngine()
		if err != nil {
			t.Fatal(err)
		}
		a := appendEvent(t, r, denial(0, "front", "unknown_face", time.Now()))
		b := appendEvent(t, r, storage.Event{Kind: storage.KindTailgating, Door: "front", AtMicro: time.Now().UnixMicro()})
		if err := e1.evaluate(cfg, a); err != nil { // appended, then the "crash": no cursor saved
			t.Fatal(err)
		}
		e2, err := New(testOptions(r)).startEngine()
		if err != nil {
			t.Fatal(err)
		}
		if e2.cursor != e1.cursor || !e2.done[fired{a.Seq, "stranger"}] {
			t.Fatalf("restarted engine: cursor %d (want %d), done %v", e2.cursor, e1.cursor, e2.done)
		}
		for {
			n, err := e2.step(cfg)
			if err != nil {
				t.Fatal(err)
			}
			if n == 0 {
				break
			}
		}
		alerts, err := r.DB.Events(storage.EventFilter{Kind: storage.KindAlert})
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, al := range alerts {
			var d Alert
			if err := json.Unmarshal([]byte(al.Detail), &d); err != nil {
				t.Fatal(err)
			}
			got = append(got, fmt.Sprintf("%s<-%d", al.Rule, d.TriggerSeq))
			if !strings.HasPrefix(al.Reason, al.Rule+": ") || al.Code != d.Kind || al.AtMicro != d.AtMicro {
				t.Errorf("alert event %+v: its reason must start with the rule's name (payloads carry no rule)", al)
			}
		}
		want := []string{fmt.Sprintf("stranger<-%d", a.Seq), fmt.Sprintf("tail<-%d", b.Seq)}
		if !slices.Equal(got, want) {
			t.Errorf("alerts %v, want %v", got, want)
		}
		if c, _ := cursorAt(t, r.DB, "alerts:front"); c <= b.Seq {
			t.Errorf("cursor %d not past the triggers (%d)", c, b.Seq)
		}
	})
}

// TestLongAlertFitsTheLog: the longest names and reasons the log accepts
// still make an alert event PostgreSQL stores (its columns have sizes).
func TestLongAlertFitsTheLog(t *testing.T) {
	forEachDB(t, func(t *testing.T, r *storage.Recorder) {
		name := strings.Repeat("規", 100)
		saveConfig(t, r, `{"rules": [{"name": "`+name+`", "kind": "tailgating"}]}`)
		s := New(testOptions(r))
		e, err := s.startEngine()
		if err != nil {
			t.Fatal(err)
		}
		appendEvent(t, r, storage.Event{Kind: storage.KindTailgating, Door: "front", PersonID: 3, PersonName: strings.Repeat("名", 200),
			Reason: strings.Repeat("長", 500), AtMicro: time.Now().UnixMicro()})
		if _, err := e.step(s.Config()); err != nil {
			t.Fatal(err)
		}
		alerts, err := r.DB.Events(storage.EventFilter{Kind: storage.KindAlert})
		if err != nil || len(alerts) != 1 || alerts[0].Rule != name || len([]rune(alerts[0].Reason)) != 500 || len([]rune(alerts[0].Detail)) > 2000 {
			t.Fatalf("alerts %d (%v)", len(alerts), err)
		}
	})
}
