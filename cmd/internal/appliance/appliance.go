package appliance

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/facegate/facegate/gate"
	"github.com/facegate/facegate/storage"
	"github.com/facegate/facegate/vision"
	"github.com/facegate/facegate/web"
)

// Appliance is one door's running appliance. Each part has one owner:
// the relay and door controller (fail secure), the database and its
// recorder, the access policy, the settings, the recognition pipeline and
// the web app.
type Appliance struct {
	cfg      Config
	log      *slog.Logger
	relay    *gate.SwitchRelay
	sensor   gate.DoorSensor
	ctrl     *gate.Controller
	db       *storage.DB
	recorder *storage.Recorder
	policy   *accessPolicy
	hub      *web.Hub
	recog    *recognition
	settings *settingsOwner
	model    *modelOwner
	web      *web.Server
	ln       net.Listener

	decisions atomic.Int64
	pinPad    *gate.PINPad
	keypads   []gate.Keypad
	webKeypad *web.WebKeypad // the tablet keypad (keypad_web.go), one of keypads
	// runCtx ends when Run does: decisions waiting for a PIN stop waiting,
	// and Run waits for them (pinWG) before it returns.
	runCtx context.Context
	pinWG  sync.WaitGroup
	// central is the door's sync with its site's central (nil: none);
	// presence the door's anti-passback record, which it brings up to date.
	central  *centralSync
	presence *gate.Presence
	liveSent liveStats // frames and decisions sent to the central's live view
}

// New builds the appliance in start-up order; nothing runs until Run. On
// error everything opened so far is closed again.
func New(ctx context.Context, cfg Config) (a *Appliance, err error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	a = &Appliance{cfg: cfg, log: cfg.Log, hub: web.NewHub(), pinPad: gate.NewPINPad(cfg.Now, nil), runCtx: ctx,
		presence: gate.NewPresence()}
	built := a // the error paths return nil: close what was built
	defer func() {
		if err != nil {
			built.Close()
		}
	}()
	a.sensor, _ = gate.ParseSensor(cfg.DoorSensor) // checked by Validate
	// The relay is locked before anything else starts (fail secure).
	a.relay, err = gate.OpenRelay(cfg.Relay,
		func(err error) { built.log.Error("relay", "err", err) },
		func(unlocked bool) { built.log.Info("relay (simulated)", "unlocked", unlocked) })
	if err != nil {
		return nil, err
	}
	if err := a.openStorage(); err != nil {
		return nil, err
	}
	if a.ctrl, err = gate.NewController(a.policy.Policy, cfg.Door, a.relay, a.presence, a.onGateEvent, cfg.Now); err != nil {
		return nil, err
	}
	if a.keypads, err = openKeypads(cfg); err != nil {
		return nil, err
	}
	a.addWebKeypad()
	if a.recog, err = a.openRecognition(cfg.defaultSettings()); err != nil {
		return nil, err
	}
	a.settings = newSettingsOwner(a.db, a.recorder, cfg.defaultSettings(), a.log, a.recog.apply)
	a.settings.safe = safeRangeFor(a.recog.rec.Info().Name)
	a.model = &modelOwner{emb: a.recog.rec, modelsDir: cfg.ModelsDir, db: a.db, photos: cfg.Snapshots()}
	if err := a.settings.Load(); err != nil {
		a.log.Error("stored settings not applied; the flags' values are in force", "err", err)
	}
	return a, a.openWeb()
}

// openStorage opens the database, its recorder, and the access policy
// stored in it.
func (a *Appliance) openStorage() (err error) {
	if a.db, err = storage.Open(a.cfg.DB, storage.Options{KeyDir: a.cfg.KeyDir, Now: a.cfg.Now}); err != nil {
		return err
	}
	a.recorder = &storage.Recorder{DB: a.db, Snapshots: a.cfg.Snapshots(), Keys: a.db.Keys}
	a.log.Info("evidence log", "public_key", storage.PublicKeyString(a.db.Keys.Public))
	a.policy = newAccessPolicy(a.db, &a.cfg)
	a.policy.Reload()
	if a.cfg.Central != "" {
		a.central, err = a.newCentralSync()
	}
	return err
}

func (a *Appliance) openWeb() (err error) {
	a.web, err = web.New(web.Deps{DB: a.db, Recorder: a.recorder, Faces: a.recog.svc, ModelVersion: a.recog.modelVersion(), Hub: a.hub,
		Location: a.cfg.loc, Log: a.log, Now: a.cfg.Now, PolicyChanged: a.policy.Reload,
		Settings: a.settings, Health: a.health, Door: a.ctrl, Keypad: a.webKeypad, Central: a.cfg.Central,
		Model: a.model}, a.cfg.Web)
	if err != nil {
		return err
	}
	a.ln, err = a.web.Listen()
	return err
}

// Settings are the settings in force (flags, overridden by those saved in
// the web app).
func (a *Appliance) Settings() storage.Settings { return a.settings.Settings() }

// Run runs the appliance until ctx ends: the door controller, retention,
// checkpoints, reloads, the camera watch and the web app in goroutines it waits for,
// the pipeline in this one. A panic locks the door first.
func (a *Appliance) Run(ctx context.Context) (err error) {
	inner, stop := context.WithCancel(ctx)
	a.runCtx = inner
	var wg sync.WaitGroup
	defer wg.Wait()
	defer a.pinWG.Wait()
	defer stop()
	defer func() { // runs first: the door is locked before anything waits
		if r := recover(); r != nil {
			a.ctrl.Halt()
			err = fmt.Errorf("serve: internal error (door locked): %v", r)
		}
	}()
	for _, loop := range []func(context.Context){a.runDoor, a.retain, a.keepSigned, a.reload, a.watchCamera, a.serveWeb,
		a.readKeypads, a.deliverWebhooks, a.publishMQTT, a.runAlerts, a.syncCentral} {
		wg.Go(func() { loop(inner) })
	}
	a.log.Info("facegate serving", "source", a.recog.src.Status().Name, "door", a.cfg.Door,
		"liveness", a.settings.Settings().Liveness)
	err = a.recog.pipe.Run(inner)
	if err == nil || ctx.Err() != nil {
		a.log.Info("facegate stopped")
		return nil
	}
	return err
}

// Close frees everything New opened; the relay is closed last, locked.
func (a *Appliance) Close() error {
	var errs []error
	if a.ln != nil {
		a.ln.Close()
	}
	for _, k := range a.keypads {
		errs = append(errs, k.Close())
	}
	if a.recog != nil {
		errs = append(errs, a.recog.Close())
	}
	if a.db != nil {
		errs = append(errs, a.db.Close())
	}
	if a.relay != nil {
		errs = append(errs, a.relay.Close())
	}
	return errors.Join(errs...)
}

func (a *Appliance) runDoor(ctx context.Context) {
	if err := a.ctrl.Run(ctx, a.sensor); err != nil && ctx.Err() == nil {
		a.log.Error("door controller stopped", "err", err)
	}
}

func (a *Appliance) serveWeb(ctx context.Context) {
	if err := a.web.Serve(ctx, a.ln); err != nil {
		a.log.Error("web app stopped", "err", err)
	}
}

// keepSigned signs the chain head at start and every minute while events
// arrive, so no unsigned tail outlives a restart or a quiet minute.
func (a *Appliance) keepSigned(ctx context.Context) {
	tick := a.cfg.CheckpointTick
	if tick == nil {
		t := time.NewTicker(storage.CheckpointInterval)
		defer t.Stop()
		tick = t.C
	}
	a.recorder.KeepSigned(ctx, tick, func(err error) { a.log.Error("checkpoint not signed", "err", err) })
}

// retain applies the retention in force at start, then daily.
func (a *Appliance) retain(ctx context.Context) {
	for {
		res, err := a.recorder.ApplyRetention(a.settings.Settings().Retention, a.cfg.Now())
		if err != nil {
			a.log.Error("retention", "err", err)
		} else if res.SnapshotsDeleted+res.EventsRedacted > 0 {
			a.log.Info("retention applied", "snapshots_deleted", res.SnapshotsDeleted, "events_redacted", res.EventsRedacted)
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(24 * time.Hour):
		}
	}
}

// reload picks up enrolments and policy edits made by another process.
func (a *Appliance) reload(ctx context.Context) {
	last, _ := a.db.TemplateStamp()
	for {
		select {
		case <-ctx.Done():
			return
		case <-time.After(a.cfg.ReloadEvery):
		}
		if st, err := a.db.TemplateStamp(); err == nil && st != last {
			if err := a.recog.svc.Reload(); err != nil {
				a.log.Error("gallery not reloaded", "err", err)
			} else {
				a.log.Info("gallery reloaded", "templates", a.recog.svc.Gallery().Len())
				last = st
			}
		}
		a.policy.Reload()
	}
}

// watchCamera locks the door when the camera is lost: nothing is decided
// while blind.
func (a *Appliance) watchCamera(ctx context.Context) {
	tk := time.NewTicker(500 * time.Millisecond)
	defer tk.Stop()
	was := vision.SourceStreaming
	for {
		select {
		case <-ctx.Done():
			return
		case <-tk.C:
			st := a.recog.src.Status()
			if st.State == vision.SourceReconnecting && was != vision.SourceReconnecting {
				a.ctrl.Halt()
				a.log.Warn("camera lost: door locked, reconnecting", "source", st.Name, "err", st.LastError)
			}
			was = st.State
		}
	}
}

func (a *Appliance) health() web.Health {
	sum := a.recog.pipe.Stats().Summary()
	ss := a.recog.src.Status()
	if a.central != nil { // until web.Health has a field of its own
		ss.Name += " · " + a.central.Status()
	}
	return web.Health{Frames: sum.Frames, FPS: sum.FPS, Decisions: a.decisions.Load(), Templates: a.recog.svc.Gallery().Len(),
		LastFrame: ss.LastFrame, Source: ss.Name, SourceState: string(ss.State), SourceError: ss.LastError, Relay: relayState(a.relay)}
}

// onGateEvent records the door's own events; decisions are recorded with
// their snapshots in onDecision.
func (a *Appliance) onGateEvent(e gate.Event) {
	a.log.Info("gate event", "kind", e.Kind, "door", e.Door, "person_id", e.PersonID, "code", e.Code, "reason", e.Reason)
	if e.Kind == gate.EventGranted || e.Kind == gate.EventDenied {
		return
	}
	if _, err := a.recorder.Record(eventFromGate(e), nil, nil); err != nil {
		a.log.Error("event not recorded", "kind", e.Kind, "err", err)
	}
}

// onDecision takes a face the pipeline decided to the door and records it.
func (a *Appliance) onDecision(d vision.Decision) {
	a.decisions.Add(1)
	var p *gate.Person
	name := "unknown"
	if d.Verdict == vision.VerdictMatch {
		if p = a.policy.Person(d.PersonID); p != nil {
			name = p.Name
		}
	}
	a.log.Info("face decided", "track", d.Track, "verdict", d.Verdict, "person", name,
		"distance", fmt.Sprintf("%.3f", d.Distance), "margin", fmt.Sprintf("%.3f", d.Margin),
		"votes", d.Frames, "liveness", d.Liveness, "latency", d.Latency.Round(time.Millisecond), "why", d.Why)
	a.sitePresence(p) // anti-passback across the area's doors
	req := gate.Request{Person: p, Time: d.At, Live: d.Liveness == vision.LivenessLive}
	if p != nil && a.needsPIN() {
		a.pinWG.Go(func() { a.decideWithPIN(d, req, name) }) // the pipeline never waits for a PIN
		return
	}
	a.decide(d, req, name)
}

// decide asks the gate, tells the live page, and records the evidence.
func (a *Appliance) decide(d vision.Decision, req gate.Request, name string) {
	p := req.Person
	gd := a.ctrl.Attempt(req)
	a.hub.PublishDecision(map[string]any{"time": d.At.In(a.cfg.loc).Format("15:04:05"), "person": name,
		"result": string(gd.Code), "granted": gd.Grant, "distance": fmt.Sprintf("%.3f", d.Distance), "liveness": d.Liveness,
		"box": d.Box}) // in frame pixels: the live page draws it over the preview
	se, err := a.recorder.Record(eventFromDecision(d, gd, p, a.recog.modelVersion()), d.Snapshot, d.FaceCrop)
	if err != nil {
		a.log.Error("decision not recorded", "err", err)
	} else if se.SnapshotError != "" {
		a.log.Error("snapshot not stored", "seq", se.Seq, "err", se.SnapshotError)
	}
}
