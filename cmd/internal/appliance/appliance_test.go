package appliance

import (
	"context"
	"errors"
	"path/filepath"
	"testing"
	"time"

	"github.com/facegate/facegate/gate"
	"github.com/facegate/facegate/models/modeltest"
	"github.com/facegate/facegate/storage"
	"github.com/facegate/facegate/vision"
	"github.com/facegate/facegate/web"
)

func TestEventFromDecision(t *testing.T) {
	at := time.Date(2026, 11, 24, 9, 0, 0, 0, time.UTC)
	door := gate.Door{ID: "front", Area: "lobby", Direction: gate.DirIn}
	ada := &gate.Person{ID: 7, Name: "Ada"}
	cases := []struct {
		name string
		vd   vision.Decision
		gd   gate.Decision
		p    *gate.Person
		want storage.Event
	}{
		{"granted match",
			vision.Decision{Verdict: vision.VerdictMatch, PersonID: 7, Distance: 0.41, Margin: 0.2, Frames: 3, At: at, Liveness: vision.LivenessLive, Why: "3 of 3"},
			gate.Decision{Grant: true, Code: gate.ReasonGranted, Reason: "rule staff", Rule: "staff", Door: door},
			ada,
			storage.Event{AtMicro: at.UnixMicro(), Kind: storage.KindGranted, Door: "front", Area: "lobby", Direction: "in",
				Granted: true, Code: string(gate.ReasonGranted), Reason: "rule staff", Rule: "staff", Distance: 0.41, Margin: 0.2,
				Frames: 3, Liveness: string(vision.LivenessLive), ModelVersion: "m1", PersonID: 7, PersonName: "Ada"}},
		{"unknown face says how the frames settled it",
			vision.Decision{Verdict: vision.VerdictUnknown, Distance: 0.7, Frames: 4, At: at, Why: "4 of 4 from everyone enrolled"},
			gate.Decision{Code: gate.ReasonUnknownFace, Reason: "face not recognised", Door: door},
			nil,
			storage.Event{AtMicro: at.UnixMicro(), Kind: storage.KindDenied, Door: "front", Area: "lobby", Direction: "in",
				Code: string(gate.ReasonUnknownFace), Reason: "face not recognised (4 of 4 from everyone enrolled)", Distance: 0.7,
				Frames: 4, ModelVersion: "m1"}},
		{"known person denied keeps the reason as is",
			vision.Decision{Verdict: vision.VerdictMatch, PersonID: 7, Distance: 0.4, At: at, Why: "ignored for a match"},
			gate.Decision{Code: gate.ReasonOutsideSchedule, Reason: "outside schedule", Door: door},
			ada,
			storage.Event{AtMicro: at.UnixMicro(), Kind: storage.KindDenied, Door: "front", Area: "lobby", Direction: "in",
				Code: string(gate.ReasonOutsideSchedule), Reason: "outside schedule", Distance: 0.4, ModelVersion: "m1",
				PersonID: 7, PersonName: "Ada"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := eventFromDecision(c.vd, c.gd, c.p, "m1"); got != c.want {
				t.Errorf("got  %+v\nwant %+v", got, c.want)
			}
		})
	}
}

func TestConfigValidate(t *testing.T) {
	ok := func() Config {
		return Config{DataDir: t.TempDir(), Rule: vision.DefaultRule, Source: "clip.mp4", OpenTime: time.Second, SiteTZ: "UTC"}
	}
	cases := []struct {
		flag string
		edit func(*Config)
	}{
		{"data-dir", func(c *Config) { c.DataDir = "" }},
		{"threshold", func(c *Config) { c.Rule.Threshold = 2 }},
		{"site-tz", func(c *Config) { c.SiteTZ = "Mars/Olympus" }},
		{"door", func(c *Config) { c.Level = "face+iris" }},
		{"keypad", func(c *Config) { c.Keypads = []string{"/dev/input/event3"} }},
		{"door-sensor", func(c *Config) { c.DoorSensor = "usb:1" }},
		{"retain-events-days", func(c *Config) { c.Retention.EventDays = -1 }},
	}
	for _, c := range cases {
		t.Run(c.flag, func(t *testing.T) {
			cfg := ok()
			c.edit(&cfg)
			var ce *ConfigError
			if err := cfg.Validate(); !errors.As(err, &ce) || ce.Flag != c.flag {
				t.Fatalf("got %v, want a *ConfigError for --%s", err, c.flag)
			}
		})
	}
	cfg := ok()
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	if cfg.Relay != "sim:"+filepath.Join(cfg.DataDir, "relay", "state") || cfg.DB != filepath.Join(cfg.DataDir, "facegate.db") ||
		cfg.Door != "front" || cfg.loc != time.UTC {
		t.Fatalf("defaults not filled: %+v", cfg)
	}
}

func openDB(t *testing.T) (*storage.DB, *storage.Recorder) {
	t.Helper()
	dir := t.TempDir()
	db, err := storage.Open(filepath.Join(dir, "f.db"), storage.Options{KeyDir: filepath.Join(dir, "keys")})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db, &storage.Recorder{DB: db, Keys: db.Keys}
}

// The settings owner applies stored settings over the defaults, refuses
// stored ones the recognition refuses, and applies what the web app saves.
func TestSettingsOwner(t *testing.T) {
	db, rec := openDB(t)
	def := storage.Settings{Threshold: 0.5, Margin: 0.06, Door: "front", Retention: storage.RetentionPolicy{EventDays: 365}}
	var applied []storage.Settings
	refuse := errors.New("refused")
	apply := func(s storage.Settings) error {
		if s.Threshold == 0.31 {
			return refuse
		}
		applied = append(applied, s)
		return nil
	}
	o := newSettingsOwner(db, rec, def, discard(), apply)
	if err := o.Load(); err != nil || o.Settings() != def || len(applied) != 1 {
		t.Fatalf("nothing stored: %v, %+v, applied %d", err, o.Settings(), len(applied))
	}
	want := def
	want.Threshold, want.Liveness, want.Retention.DenySnapshotDays = 0.3, true, 14
	if err := rec.SaveSettings(want, "test"); err != nil {
		t.Fatal(err)
	}
	if err := o.Load(); err != nil || o.Settings() != want || applied[len(applied)-1] != want {
		t.Fatalf("stored settings: %v, in force %+v, applied %+v", err, o.Settings(), applied)
	}
	bad := want
	bad.Threshold = 0.31
	if err := o.SaveSettings(bad, "ada"); !errors.Is(err, refuse) || o.Settings() != want {
		t.Fatalf("refused settings: %v, in force %+v", err, o.Settings())
	}
	bad.Threshold = 1.5
	var se *storage.SettingsError
	if err := o.SaveSettings(bad, "ada"); !errors.As(err, &se) || se.Field != "threshold" {
		t.Fatalf("out of range: %v", err)
	}
	edit := want
	edit.Threshold, edit.Door = 0.45, "somewhere else" // the door is the appliance's
	if err := o.SaveSettings(edit, "ada"); err != nil {
		t.Fatal(err)
	}
	edit.Door = "front"
	if o.Settings() != edit || applied[len(applied)-1] != edit {
		t.Fatalf("saved settings not in force: %+v", o.Settings())
	}
	if got, _ := db.LoadSettings(def); got != edit {
		t.Fatalf("stored %+v, want %+v", got, edit)
	}
}

// New applies the stored settings to the recognition before anything runs,
// and a save through the web app's owner reaches the identity service.
func TestNewAppliesStoredSettings(t *testing.T) {
	data := t.TempDir()
	cfg := Config{DataDir: data, ModelsDir: modeltest.ModelsDir(t), Rule: vision.DefaultRule, Embedder: "dlib", DemoDir: modeltest.Testdata(t),
		Source: filepath.Join(modeltest.Testdata(t), "video", "short_hamilton_clip.mp4"), OpenTime: time.Second, SiteTZ: "UTC",
		Retention: storage.RetentionPolicy{EventDays: 365}, Web: web.Options{Addr: "127.0.0.1:0", PlainHTTP: true}}
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	db, err := storage.Open(cfg.DB, storage.Options{KeyDir: cfg.KeyDir})
	if err != nil {
		t.Fatal(err)
	}
	// In dlib's calibrated range (threshold ≤ 0.398, margin ≥ 0.18).
	stored := storage.Settings{Model: "dlib", Threshold: 0.3, Margin: 0.2, Door: "front", Liveness: true, Retention: storage.RetentionPolicy{EventDays: 30}}
	if err := (&storage.Recorder{DB: db, Keys: db.Keys}).SaveSettings(stored, "test"); err != nil {
		t.Fatal(err)
	}
	db.Close()
	a, err := New(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	if a.Settings() != stored || a.recog.svc.Rule.Threshold != 0.3 || a.recog.svc.Rule.MinMargin != 0.2 {
		t.Fatalf("in force %+v, identity rule %+v; want %+v", a.Settings(), a.recog.svc.Rule, stored)
	}
	if a.recog.svc.Gallery().Len() != 2 {
		t.Fatalf("demo people: %d templates", a.recog.svc.Gallery().Len())
	}
	edit := stored
	edit.Threshold = 0.45 // above dlib's calibrated safe maximum 0.398: refused
	if err := a.settings.SaveSettings(edit, "ada"); err == nil || a.recog.svc.Rule.Threshold != 0.3 {
		t.Fatalf("unsafe rule saved: %v, identity rule %+v", err, a.recog.svc.Rule)
	}
	edit.Threshold, edit.Margin = 0.35, 0.2
	if err := a.settings.SaveSettings(edit, "ada"); err != nil || a.recog.svc.Rule.Threshold != 0.35 {
		t.Fatalf("saved: %v, identity rule %+v", err, a.recog.svc.Rule)
	}
}

// Run stops on cancel with the relay locked, and retention runs on the
// injected clock: two years on, every entry's details are redacted.
func TestRunRetentionOnInjectedClock(t *testing.T) {
	data := t.TempDir()
	cfg := Config{DataDir: data, ModelsDir: modeltest.ModelsDir(t), Rule: vision.DefaultRule, Embedder: "dlib",
		Source: filepath.Join(modeltest.Testdata(t), "video", "short_hamilton_clip.mp4"), OpenTime: time.Second, SiteTZ: "UTC",
		Retention: storage.RetentionPolicy{EventDays: 365}, Web: web.Options{Addr: "127.0.0.1:0", PlainHTTP: true},
		Now: func() time.Time { return time.Now().AddDate(2, 0, 0) }}
	a, err := New(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	// Two years before the appliance's clock (which its database shares):
	// past the 365 days of retention.
	old, err := a.recorder.Record(storage.Event{Kind: storage.KindDenied, Door: "front", PersonName: "someone",
		AtMicro: cfg.Now().AddDate(-2, 0, 0).UnixMicro()}, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- a.Run(ctx) }()
	deadline := time.Now().Add(30 * time.Second)
	for {
		evs, err := a.db.Events(storage.EventFilter{Kind: storage.KindRetention})
		if err == nil && len(evs) > 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no retention event within 30 s (%v)", err)
		}
		time.Sleep(100 * time.Millisecond)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	evs, err := a.db.Events(storage.EventFilter{AfterSeq: old.Seq - 1, Limit: 1})
	if err != nil || len(evs) != 1 || evs[0].Seq != old.Seq || !evs[0].Redacted || evs[0].PersonName != "" {
		t.Fatalf("denial after retention: %+v (%v)", evs, err)
	}
	if on, err := gate.ReadFileSwitch(filepath.Join(data, "relay", "state")); err != nil || on {
		t.Fatalf("relay %v (%v) after Run, want locked", on, err)
	}
}

// A restart signs the unsigned tail at once, and each tick signs what came
// since: a quiet door's last events are never long without a checkpoint.
func TestRunSignsTheHeadAtStartAndOnTick(t *testing.T) {
	tick := make(chan time.Time)
	send := func() {
		t.Helper()
		select {
		case tick <- time.Now():
		case <-time.After(30 * time.Second):
			t.Fatal("nothing took the checkpoint tick in 30 s")
		}
	}
	cfg := Config{DataDir: t.TempDir(), ModelsDir: modeltest.ModelsDir(t), Rule: vision.DefaultRule, Embedder: "dlib",
		Source: filepath.Join(modeltest.Testdata(t), "video", "short_hamilton_clip.mp4"), OpenTime: time.Second, SiteTZ: "UTC",
		Web: web.Options{Addr: "127.0.0.1:0", PlainHTTP: true}, CheckpointTick: tick}
	a, err := New(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	lastSigned := func() int64 {
		rep, err := a.db.Verify(a.db.Keys.Public, a.cfg.Snapshots())
		if err != nil || !rep.OK() {
			t.Fatalf("verify: %+v (%v)", rep, err)
		}
		return rep.LastCheckpoint
	}
	before, err := a.recorder.Record(storage.Event{Kind: storage.KindDenied, Door: "front", Reason: "before the restart"}, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	if got := lastSigned(); got >= before.Seq {
		t.Fatalf("checkpoint at %d before Run; the test needs an unsigned tail", got)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- a.Run(ctx) }()
	send() // Run's signing at start has happened
	if got := lastSigned(); got < before.Seq {
		t.Fatalf("after start the last checkpoint is at %d, the tail at %d", got, before.Seq)
	}
	after, err := a.recorder.Record(storage.Event{Kind: storage.KindDenied, Door: "front", Reason: "a quiet minute later"}, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	send()
	send() // the previous tick's signing has finished
	if got := lastSigned(); got < after.Seq {
		t.Fatalf("after a tick the last checkpoint is at %d, the event at %d", got, after.Seq)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}
