package mqtt

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"log/slog"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	paho "github.com/eclipse/paho.mqtt.golang"

	"github.com/facegate/facegate/gate"
	"github.com/facegate/facegate/storage"
)

// testBroker is the mosquitto that scripts/mosquitto.sh started (make test
// exports its address as FACEGATE_TEST_MQTT): TLS only, user "facegate".
type testBroker struct {
	URL      string // mqtts://127.0.0.1:PORT
	Dir      string
	CA       string
	Password string
}

// broker returns the test broker. Without one the tests are skipped on a
// developer's machine and fail in CI, as the storage suite does without
// PostgreSQL.
func broker(t testing.TB) testBroker {
	t.Helper()
	env := os.Getenv("FACEGATE_TEST_MQTT")
	if env == "" {
		if os.Getenv("CI") != "" {
			t.Fatal("CI must run the MQTT tests on a real broker: set FACEGATE_TEST_MQTT (make test does, with scripts/mosquitto.sh)")
		}
		t.Skip("FACEGATE_TEST_MQTT not set: start a broker with scripts/mosquitto.sh start DIR and export its output")
	}
	u, err := url.Parse(env)
	if err != nil || u.Query().Get("dir") == "" {
		t.Fatalf("FACEGATE_TEST_MQTT=%q: want mqtts://HOST:PORT?dir=DIR (scripts/mosquitto.sh's output)", env)
	}
	dir := u.Query().Get("dir")
	pw, err := os.ReadFile(filepath.Join(dir, "password"))
	if err != nil {
		t.Fatal(err)
	}
	return testBroker{URL: u.Scheme + "://" + u.Host, Dir: dir, CA: filepath.Join(dir, "ca.pem"), Password: strings.TrimSpace(string(pw))}
}

// ownBroker starts a broker of the test's own with scripts/mosquitto.sh,
// for a test that stops and restarts it: the shared one stays up for the
// tests of other packages running meanwhile. The rule of broker applies.
func ownBroker(t testing.TB) testBroker {
	t.Helper()
	broker(t)
	dir := t.TempDir()
	out, err := exec.Command("../../scripts/mosquitto.sh", "start", dir).Output()
	if ee := (*exec.ExitError)(nil); errors.As(err, &ee) {
		t.Fatalf("mosquitto.sh start: %v\n%s", err, ee.Stderr)
	} else if err != nil {
		t.Fatalf("mosquitto.sh start: %v", err)
	}
	t.Cleanup(func() { exec.Command("../../scripts/mosquitto.sh", "stop", dir).Run() })
	t.Setenv("FACEGATE_TEST_MQTT", strings.TrimSpace(string(out)))
	return broker(t)
}

// script runs scripts/mosquitto.sh on the test broker (stop, start).
func (b testBroker) script(t testing.TB, cmd string) {
	t.Helper()
	out, err := exec.Command("../../scripts/mosquitto.sh", cmd, b.Dir).CombinedOutput()
	if err != nil {
		t.Fatalf("mosquitto.sh %s: %v\n%s", cmd, err, out)
	}
}

func (b testBroker) options(door string) Options {
	return Options{Broker: b.URL, Username: "facegate", Password: b.Password, CAFile: b.CA, Door: door, Poll: 50 * time.Millisecond}
}

// newDoorID is a door of its own per test: retained topics of one test do
// not reach another.
func newDoorID() string {
	b := make([]byte, 4)
	rand.Read(b)
	return "t" + hex.EncodeToString(b)
}

func openRecorder(t testing.TB) *storage.Recorder {
	t.Helper()
	dir := t.TempDir()
	db, err := storage.Open(filepath.Join(dir, "facegate.db"), storage.Options{KeyDir: filepath.Join(dir, "keys")})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return &storage.Recorder{DB: db, Snapshots: storage.SnapshotStore{Dir: filepath.Join(dir, "snapshots")}, Keys: db.Keys}
}

// start runs a publisher until the test ends.
func start(t testing.TB, opts Options, deps Deps) { startStoppable(t, opts, deps) }

// startStoppable runs a publisher until stop is called or the test ends.
func startStoppable(t testing.TB, opts Options, deps Deps) (stop func()) {
	t.Helper()
	p, err := New(opts, deps)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { p.Run(ctx); close(done) }()
	stop = func() { cancel(); <-done }
	t.Cleanup(stop)
	return stop
}

// logs keeps what a publisher logged.
type logs struct {
	mu   sync.Mutex
	recs []string
}

func (l *logs) Enabled(context.Context, slog.Level) bool { return true }
func (l *logs) WithAttrs([]slog.Attr) slog.Handler       { return l }
func (l *logs) WithGroup(string) slog.Handler            { return l }
func (l *logs) Handle(_ context.Context, r slog.Record) error {
	s := r.Level.String() + " " + r.Message
	r.Attrs(func(a slog.Attr) bool { s += " " + a.String(); return true })
	l.mu.Lock()
	l.recs = append(l.recs, s)
	l.mu.Unlock()
	return nil
}

// waitFor waits until a record contains every part.
func (l *logs) waitFor(t *testing.T, within time.Duration, parts ...string) string {
	t.Helper()
	deadline := time.Now().Add(within)
	for time.Now().Before(deadline) {
		l.mu.Lock()
		for _, r := range l.recs {
			if containsAll(r, parts) {
				l.mu.Unlock()
				return r
			}
		}
		l.mu.Unlock()
		time.Sleep(20 * time.Millisecond)
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	t.Fatalf("no log record with %q in %s; logged:\n%s", parts, within, strings.Join(l.recs, "\n"))
	return ""
}

func containsAll(s string, parts []string) bool {
	for _, p := range parts {
		if !strings.Contains(s, p) {
			return false
		}
	}
	return true
}

// message is one message a test client received.
type message struct {
	Topic    string
	Payload  string
	Retained bool
}

// client is a test client (the role of Home Assistant): it connects to
// the broker, subscribes to topics and collects what arrives. persistent
// keeps its session (and the messages queued for it) across reconnects
// and broker restarts, as a subscriber that must miss nothing does.
func client(t testing.TB, b testBroker, id string, persistent bool, topics ...string) (paho.Client, <-chan message) {
	t.Helper()
	ch := make(chan message, 1000)
	subscribed := make(chan struct{}, 1)
	opts, err := b.options("x").tlsConfig()
	if err != nil {
		t.Fatal(err)
	}
	onMsg := func(_ paho.Client, m paho.Message) { ch <- message{m.Topic(), string(m.Payload()), m.Retained()} }
	co := paho.NewClientOptions().AddBroker(strings.Replace(b.URL, "mqtts://", "ssl://", 1)).SetClientID(id).
		SetUsername("facegate").SetPassword(b.Password).SetTLSConfig(opts).SetCleanSession(!persistent).
		SetAutoReconnect(true).SetMaxReconnectInterval(time.Second).SetOrderMatters(true).SetDefaultPublishHandler(onMsg).
		SetOnConnectHandler(func(c paho.Client) {
			for _, tp := range topics {
				c.Subscribe(tp, 1, onMsg).WaitTimeout(10 * time.Second)
			}
			select {
			case subscribed <- struct{}{}:
			default:
			}
		})
	c := paho.NewClient(co)
	if tok := c.Connect(); !tok.WaitTimeout(10*time.Second) || tok.Error() != nil {
		t.Fatalf("test client: %v", tok.Error())
	}
	select {
	case <-subscribed:
	case <-time.After(10 * time.Second):
		t.Fatal("test client: not subscribed in 10 s")
	}
	t.Cleanup(func() { c.Disconnect(100) })
	return c, ch
}

// await collects messages until done says enough, or fails after within.
func await(t testing.TB, ch <-chan message, within time.Duration, done func(message) bool) {
	t.Helper()
	timeout := time.After(within)
	for {
		select {
		case m := <-ch:
			if done(m) {
				return
			}
		case <-timeout:
			t.Fatalf("not done within %s", within)
		}
	}
}

// fakeSwitch is the relay hardware: it records what the door was told.
type fakeSwitch struct {
	mu       sync.Mutex
	unlocked bool
	unlocks  int
}

func (s *fakeSwitch) Set(on bool) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if on && !s.unlocked {
		s.unlocks++
	}
	s.unlocked = on
	return nil
}
func (s *fakeSwitch) Close() error { return nil }

func (s *fakeSwitch) count() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.unlocks
}

// newDoor is a real door controller over the fake relay hardware whose
// events are recorded in rec, as the appliance records them.
func newDoor(t *testing.T, rec *storage.Recorder, door string) (*gate.Controller, *gate.SwitchRelay, *fakeSwitch) {
	t.Helper()
	sw := &fakeSwitch{}
	relay, err := gate.NewSwitchRelay(sw, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { relay.Close() })
	pol := gate.SingleDoorPolicy(door, time.UTC, 300*time.Millisecond, gate.LevelFace)
	emit := func(e gate.Event) {
		ev := storage.Event{AtMicro: e.Time.UnixMicro(), Kind: string(e.Kind), Door: e.Door, PersonID: e.PersonID,
			Code: string(e.Code), Reason: e.Reason, By: e.By}
		if _, err := rec.Record(ev, nil, nil); err != nil {
			t.Error(err)
		}
	}
	ctrl, err := gate.NewController(func() *gate.Policy { return pol }, door, relay, nil, emit, nil)
	if err != nil {
		t.Fatal(err)
	}
	return ctrl, relay, sw
}

func (l *logs) with() *slog.Logger { return slog.New(l) }
