package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/facegate/facegate/gate"
	"github.com/facegate/facegate/gate/identity"
	"github.com/facegate/facegate/storage"
	"github.com/facegate/facegate/vision"
	"github.com/facegate/facegate/web"
)

// reloadEvery is how often serve picks up enrolments and policy edits made
// by another process (the CLI, another gate sharing a PostgreSQL log).
const reloadEvery = 5 * time.Second

// demoPeople are enrolled on first start when a demo directory is given.
var demoPeople = []struct{ id, name, photo string }{
	{"DEMO-001", "Lin-Manuel Miranda", "faces/lin-manuel-miranda.png"},
	{"DEMO-002", "Barack Obama", "faces/obama.jpg"},
}

func cmdServe(ctx context.Context, args []string, stdout, stderr io.Writer) (err error) {
	cfg := defaultConfig()
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	cfg.register(fs)
	demo := fs.String("demo-dir", "", "shared test data: enrol the demo people on first start and use the demo clip as camera")
	source := fs.String("source", "", "camera: /dev/videoN, index, rtsp:// or http:// URL, video file or image folder (default: first V4L2 camera, else the demo clip looped)")
	listen := fs.String("web-listen", ":8443", "address of the web app (HTTPS; /healthz and /metrics too)")
	plainHTTP := fs.Bool("web-plain-http", false, "serve plain HTTP (only allowed on a loopback address unless --allow-plain-http-lan)")
	plainLAN := fs.Bool("allow-plain-http-lan", false, "allow plain HTTP on the LAN (behind a TLS proxy; browsers then refuse the webcam)")
	tlsCert := fs.String("tls-cert", "", "TLS certificate (PEM); default: a self-signed one made on first start in DATA_DIR/tls")
	tlsKey := fs.String("tls-key", "", "TLS private key (PEM) for --tls-cert")
	door := fs.String("door", "front", "this appliance's door ID")
	relaySpec := fs.String("relay", "", "relay: sim:PATH | gpio:CHIP:OFFSET[:active-low] | serial:PATH[:CH] | http://HOST/rpc[#ID] (default sim:DATA_DIR/relay/state)")
	sensorSpec := fs.String("door-sensor", "", "door contact: gpio:CHIP:OFFSET[:open-high|open-low] (default none)")
	openTime := fs.Duration("open-time", 4*time.Second, "relay pulse per grant: long enough to reach and pull the door")
	siteTZ := fs.String("site-tz", "Local", "site time zone for schedules, e.g. Asia/Tokyo")
	level := fs.String("security-level", string(gate.LevelFace), "face, face+liveness or face+pin")
	// Retention defaults: entries are evidence for a year (an information
	// leak is often found months later); snapshots of granted entries for
	// 90 days; those of denials and unknown faces, which are mostly
	// passers-by who never consented, for 30 days.
	retGrant := fs.Int("retain-grant-snapshots-days", 90, "days to keep snapshots of granted entries (0 = forever)")
	retDeny := fs.Int("retain-deny-snapshots-days", 30, "days to keep snapshots of denials and unknown faces (0 = forever)")
	retEvents := fs.Int("retain-events-days", 365, "days to keep entry details; older ones are redacted, their hashes kept (0 = forever)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if err := cfg.Validate(); err != nil {
		return err
	}
	loc, err := time.LoadLocation(*siteTZ)
	if err != nil {
		return usageError{fmt.Sprintf("--site-tz %q: %v", *siteTZ, err)}
	}
	if *relaySpec == "" {
		*relaySpec = "sim:" + filepath.Join(cfg.DataDir, "relay", "state")
	}
	single := gate.SingleDoorPolicy(*door, loc, *openTime, gate.SecurityLevel(*level))
	if err := single.Validate(); err != nil {
		return usageError{err.Error()}
	}
	var policy atomic.Pointer[gate.Policy]
	var people atomic.Pointer[map[int64]*gate.Person]
	policy.Store(single)
	people.Store(&map[int64]*gate.Person{})
	sensor, err := gate.ParseSensor(*sensorSpec)
	if err != nil {
		return usageError{err.Error()}
	}
	if *source == "" {
		if devs, _ := filepath.Glob("/dev/video*"); len(devs) > 0 {
			*source = devs[0]
		} else if *demo != "" {
			*source = filepath.Join(*demo, "video", "short_hamilton_clip.mp4")
		} else {
			return usageError{"serve: no camera found; pass --source (device, URL, file or folder) or --demo-dir"}
		}
	}
	log := cfg.logger(stderr)
	// The relay is locked before anything else starts (fail secure).
	relay, err := gate.OpenRelay(*relaySpec,
		func(err error) { log.Error("relay", "err", err) },
		func(unlocked bool) { log.Info("relay (simulated)", "unlocked", unlocked) })
	if err != nil {
		return err
	}
	defer relay.Close()
	var recorderRef atomic.Pointer[storage.Recorder] // set once the database is open
	ctrl, err := gate.NewController(policy.Load, *door, relay, nil, func(e gate.Event) {
		log.Info("gate event", "kind", e.Kind, "door", e.Door, "person_id", e.PersonID, "code", e.Code, "reason", e.Reason)
		// Decisions are recorded with their snapshots in OnDecision; the
		// door's own events (forced, held open, passage, remote unlock,
		// tailgating, relay errors) are recorded here.
		recorder := recorderRef.Load()
		if recorder == nil || e.Kind == gate.EventGranted || e.Kind == gate.EventDenied {
			return
		}
		if _, err := recorder.Record(storage.Event{AtMicro: e.Time.UnixMicro(), Kind: string(e.Kind), Door: e.Door,
			PersonID: e.PersonID, Code: string(e.Code), Reason: e.Reason, By: e.By}, nil, nil); err != nil {
			log.Error("event not recorded", "kind", e.Kind, "err", err)
		}
	}, nil)
	if err != nil {
		return err
	}
	// Any panic past here locks the door first.
	defer func() {
		if r := recover(); r != nil {
			ctrl.Halt()
			err = fmt.Errorf("serve: internal error (door locked): %v", r)
		}
	}()
	ctrlCtx, stopCtrl := context.WithCancel(ctx)
	defer stopCtrl()
	go ctrl.Run(ctrlCtx, sensor)

	svc, closeFn, err := openService(&cfg)
	if err != nil {
		return err
	}
	defer closeFn()
	recorder := &storage.Recorder{DB: svc.DB, Snapshots: cfg.Snapshots(), Keys: svc.DB.Keys}
	recorderRef.Store(recorder)
	// The access policy comes from the database once doors are defined
	// there; until then, the one-door default. Both are reloaded, with the
	// gallery, while running.
	loadPolicy := func() {
		recs, err := svc.DB.LoadPolicy()
		if err != nil {
			log.Error("policy not reloaded", "err", err)
			return
		}
		if len(recs.Doors) == 0 {
			m := map[int64]*gate.Person{}
			for _, pe := range recs.People {
				m[pe.ID] = &gate.Person{ID: pe.ID, Name: pe.Name, Groups: []string{gate.EveryoneGroup},
					SuspendedSince: pe.SuspendedSince, ExpiresAt: pe.ExpiresAt}
			}
			policy.Store(single)
			people.Store(&m)
			return
		}
		p, m, err := gate.FromRecords(recs, loc)
		if err == nil {
			if _, ok := p.Doors[*door]; !ok {
				err = fmt.Errorf("door %q is not among the stored doors", *door)
			}
		}
		if err != nil {
			log.Error("stored policy refused; keeping the previous one", "err", err)
			return
		}
		policy.Store(p)
		people.Store(&m)
	}
	loadPolicy()
	type tplStat struct{ N, M int64 }
	templateStat := func() tplStat {
		var st tplStat
		svc.DB.Model(&storage.FaceTemplate{}).Select("COUNT(*) AS n, COALESCE(MAX(id), 0) AS m").Scan(&st)
		return st
	}
	startReloader := func() {
		last := templateStat()
		go func() {
			for {
				select {
				case <-ctx.Done():
					return
				case <-time.After(reloadEvery):
				}
				if st := templateStat(); st != last {
					if err := svc.Reload(); err != nil {
						log.Error("gallery not reloaded", "err", err)
					} else {
						log.Info("gallery reloaded", "templates", svc.Gallery().Len())
						last = st
					}
				}
				loadPolicy()
			}
		}()
	}
	log.Info("evidence log", "public_key", storage.PublicKeyString(svc.DB.Keys.Public))
	var retention atomic.Pointer[storage.RetentionPolicy]
	retention.Store(&storage.RetentionPolicy{GrantSnapshotDays: *retGrant, DenySnapshotDays: *retDeny, EventDays: *retEvents})
	var applySettings atomic.Pointer[func()] // set once the pipeline exists
	go func() {                              // daily retention job, first run at start
		time.Sleep(2 * time.Second) // let stored settings apply first
		for {
			if res, err := recorder.ApplyRetention(*retention.Load(), time.Now()); err != nil {
				log.Error("retention", "err", err)
			} else if res.SnapshotsDeleted+res.EventsRedacted > 0 {
				log.Info("retention applied", "snapshots_deleted", res.SnapshotsDeleted, "events_redacted", res.EventsRedacted)
			}
			select {
			case <-ctx.Done():
				return
			case <-time.After(24 * time.Hour):
			}
		}
	}()
	if *demo != "" {
		if err := enrolDemo(svc, *demo, log); err != nil {
			return err
		}
	}
	log.Info("gallery loaded", "templates", svc.Gallery().Len(), "model_version", svc.Embedder.ModelVersion())
	startReloader()

	src, err := vision.OpenSource(*source, vision.SourceOptions{Paced: true, Loop: true})
	if err != nil {
		return err
	}
	defer src.Close()
	det, err := cfg.OpenDetector()
	if err != nil {
		return err
	}
	defer det.Close()
	rec := svc.Embedder
	pc := vision.DefaultPipelineConfig()
	pc.Rule = cfg.Rule()
	pc.Liveness = gate.SecurityLevel(*level) == gate.LevelFaceLiveness
	var decisions atomic.Int64
	var hubRef *web.Hub
	pipe := &vision.Pipeline{Source: src, Detector: det, Recognizer: rec, Gallery: svc.Gallery(), Config: pc, Log: log,
		OnFrame: func(n int, at time.Time) { ctrl.FacesAtDoor(n, at) },
		OnDecision: func(d vision.Decision) {
			decisions.Add(1)
			var p *gate.Person
			name := "unknown"
			if d.Verdict == vision.VerdictMatch {
				if who, ok := (*people.Load())[d.PersonID]; ok {
					p, name = who, who.Name
				} else if found, err := svc.DB.People([]int64{d.PersonID}); err == nil && found[d.PersonID].ID != 0 {
					// Enrolled since the last reload: known, with no rules yet.
					who := found[d.PersonID]
					p, name = &gate.Person{ID: who.ID, Name: who.Name}, who.Name
					if policy.Load() == single {
						p.Groups = []string{gate.EveryoneGroup}
					}
				}
			}
			log.Info("face decided", "track", d.Track, "verdict", d.Verdict, "person", name,
				"distance", fmt.Sprintf("%.3f", d.Distance), "margin", fmt.Sprintf("%.3f", d.Margin),
				"votes", d.Frames, "liveness", d.Liveness, "latency", d.Latency.Round(time.Millisecond), "why", d.Why)
			gd := ctrl.Attempt(gate.Request{Person: p, Time: d.At, Live: d.Liveness == vision.LivenessLive})
			if hubRef != nil {
				hubRef.PublishDecision(map[string]any{"time": d.At.In(loc).Format("15:04:05"), "person": name,
					"result": string(gd.Code), "granted": gd.Grant, "distance": fmt.Sprintf("%.3f", d.Distance), "liveness": d.Liveness})
			}
			ev := storage.Event{AtMicro: d.At.UnixMicro(), Kind: string(gate.EventDenied), Door: gd.Door.ID, Area: gd.Door.Area,
				Direction: string(gd.Door.Direction), Granted: gd.Grant, Code: string(gd.Code), Reason: gd.Reason, Rule: gd.Rule,
				Distance: d.Distance, Margin: d.Margin, Frames: d.Frames, Liveness: string(d.Liveness), ModelVersion: rec.ModelVersion()}
			if gd.Grant {
				ev.Kind = string(gate.EventGranted)
			}
			if d.Verdict == vision.VerdictUnknown && d.Why != "" {
				// For the investigator: how the frames settled it.
				ev.Reason += " (" + d.Why + ")"
			}
			if p != nil {
				ev.PersonID, ev.PersonName = p.ID, p.Name
			}
			if se, err := recorder.Record(ev, d.Snapshot, d.FaceCrop); err != nil {
				log.Error("decision not recorded", "err", err)
			} else if se.SnapshotError != "" {
				log.Error("snapshot not stored", "seq", se.Seq, "err", se.SnapshotError)
			}
		}}

	// Settings saved in the web app override the flags, at start and
	// whenever they change.
	var effective atomic.Pointer[web.Settings]
	apply := func() {
		kv, err := svc.DB.Settings()
		if err != nil {
			log.Error("settings not read", "err", err)
			return
		}
		st := web.Settings{Threshold: cfg.Rule().Threshold, Margin: cfg.Rule().MinMargin, Liveness: gate.SecurityLevel(*level) == gate.LevelFaceLiveness,
			RetainGrant: *retGrant, RetainDeny: *retDeny, Events: *retEvents, Door: *door}
		num := func(key string, dst *float64) {
			if v, ok := kv[key]; ok {
				if f, err := strconv.ParseFloat(v, 64); err == nil {
					*dst = f
				}
			}
		}
		days := func(key string, dst *int) {
			if v, ok := kv[key]; ok {
				if n, err := strconv.Atoi(v); err == nil && n >= 0 {
					*dst = n
				}
			}
		}
		num(web.SettingThreshold, &st.Threshold)
		num(web.SettingMargin, &st.Margin)
		days(web.SettingRetainGrant, &st.RetainGrant)
		days(web.SettingRetainDeny, &st.RetainDeny)
		days(web.SettingRetainEvent, &st.Events)
		if v, ok := kv[web.LivenessKey(*door)]; ok {
			st.Liveness = v == "true"
		}
		rule := vision.Rule{Threshold: st.Threshold, MinMargin: st.Margin}
		if err := svc.SetRule(rule); err != nil {
			log.Error("stored match rule refused; keeping the previous one", "err", err)
			return
		}
		pipe.SetConfig(func(c *vision.PipelineConfig) { c.Rule, c.Liveness = rule, st.Liveness })
		retention.Store(&storage.RetentionPolicy{GrantSnapshotDays: st.RetainGrant, DenySnapshotDays: st.RetainDeny, EventDays: st.Events})
		if old := effective.Swap(&st); old != nil && *old != st {
			log.Info("settings applied", "threshold", st.Threshold, "margin", st.Margin, "liveness", st.Liveness,
				"retention", fmt.Sprintf("%d/%d/%d", st.RetainGrant, st.RetainDeny, st.Events))
		}
	}
	apply()
	applySettings.Store(&apply)
	hub := web.NewHub()
	hubRef = hub
	pipe.OnPreview = hub.PublishFrame
	pipe.NameOf = func(id int64) string {
		if who, ok := (*people.Load())[id]; ok {
			return who.Name
		}
		return fmt.Sprintf("#%d", id)
	}
	srv, err := web.New(web.Deps{DB: svc.DB, Recorder: recorder, Identity: svc, Hub: hub, Location: loc, Log: log,
		PolicyChanged: loadPolicy, SettingsChanged: apply,
		Health: func() web.Health {
			sum := pipe.Stats().Summary()
			ss := src.Status()
			return web.Health{Frames: sum.Frames, FPS: sum.FPS, Decisions: decisions.Load(), Templates: svc.Gallery().Len(),
				LastFrame: ss.LastFrame, Source: ss.Name, SourceState: string(ss.State), SourceError: ss.LastError}
		},
		Settings: func() web.Settings { return *effective.Load() }}, web.Options{Addr: *listen, PlainHTTP: *plainHTTP, AllowPlainLAN: *plainLAN, CertFile: *tlsCert, KeyFile: *tlsKey,
		TLSDir: filepath.Join(cfg.DataDir, "tls")})
	if err != nil {
		return err
	}
	webCtx, stopWeb := context.WithCancel(ctx)
	defer stopWeb()
	ln, err := srv.Listen()
	if err != nil {
		return err
	}
	go func() {
		if err := srv.Serve(webCtx, ln); err != nil {
			log.Error("web app stopped", "err", err)
		}
	}()
	// A lost camera locks the door: nothing is decided while blind.
	go func() {
		tk := time.NewTicker(500 * time.Millisecond)
		defer tk.Stop()
		was := vision.SourceStreaming
		for {
			select {
			case <-ctrlCtx.Done():
				return
			case <-tk.C:
				st := src.Status()
				if st.State == vision.SourceReconnecting && was != vision.SourceReconnecting {
					ctrl.Halt()
					log.Warn("camera lost: door locked, reconnecting", "source", st.Name, "err", st.LastError)
				}
				was = st.State
			}
		}
	}()
	log.Info("facegate serving", "source", src.Status().Name, "door", *door, "liveness", pc.Liveness)
	err = pipe.Run(ctx)
	if err == nil || ctx.Err() != nil {
		log.Info("facegate stopped")
		return nil
	}
	return err
}

// enrolDemo enrols the demo people when the database has none of them.
func enrolDemo(svc *identity.Service, dir string, log *slog.Logger) error {
	for _, p := range demoPeople {
		if _, err := svc.DB.PersonByEmployeeID(p.id); err == nil {
			continue
		}
		b, err := os.ReadFile(filepath.Join(dir, p.photo))
		if err != nil {
			return fmt.Errorf("demo enrolment: %w (is --demo-dir the shared test data?)", err)
		}
		if _, err := svc.Enrol(p.id, p.name, []identity.Photo{{Name: p.photo, Data: b}}); err != nil {
			return fmt.Errorf("demo enrolment: %w", err)
		}
		log.Info("demo person enrolled", "employee_id", p.id, "name", p.name)
	}
	return nil
}
