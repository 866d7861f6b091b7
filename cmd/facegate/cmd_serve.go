package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"sync/atomic"
	"time"

	"github.com/facegate/facegate/gate"
	"github.com/facegate/facegate/gate/identity"
	"github.com/facegate/facegate/vision"
	"github.com/facegate/facegate/web"
)

// demoPeople are enrolled on first start when a demo directory is given.
var demoPeople = []struct{ id, name, photo string }{
	{"DEMO-001", "Lin-Manuel Miranda", "faces/lin-manuel-miranda.png"},
	{"DEMO-002", "Barack Obama", "faces/obama.jpg"},
}

// serveStats is what /healthz reports.
type serveStats struct {
	frames, faces, matches atomic.Int64
	lastFrame              atomic.Int64 // unix nanoseconds
}

func cmdServe(ctx context.Context, args []string, stdout, stderr io.Writer) (err error) {
	cfg := defaultConfig()
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	cfg.register(fs)
	demo := fs.String("demo-dir", "", "shared test data: enrol the demo people on first start and use the demo clip as camera")
	source := fs.String("source", "", "video file used as camera (default: DEMO_DIR/video/short_hamilton_clip.mp4)")
	listen := fs.String("listen", "127.0.0.1:8080", "address of the HTTP status server (/healthz)")
	door := fs.String("door", "front", "this appliance's door ID")
	relaySpec := fs.String("relay", "", "relay: sim:PATH | gpio:CHIP:OFFSET[:active-low] | serial:PATH[:CH] | http://HOST/rpc[#ID] (default sim:DATA_DIR/relay/state)")
	sensorSpec := fs.String("door-sensor", "", "door contact: gpio:CHIP:OFFSET[:open-high|open-low] (default none)")
	openTime := fs.Duration("open-time", 4*time.Second, "relay pulse per grant: long enough to reach and pull the door")
	siteTZ := fs.String("site-tz", "Local", "site time zone for schedules, e.g. Asia/Tokyo")
	level := fs.String("security-level", string(gate.LevelFace), "face, face+liveness or face+pin")
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
	policy := gate.SingleDoorPolicy(*door, loc, *openTime, gate.SecurityLevel(*level))
	if err := policy.Validate(); err != nil {
		return usageError{err.Error()}
	}
	sensor, err := gate.ParseSensor(*sensorSpec)
	if err != nil {
		return usageError{err.Error()}
	}
	if *source == "" {
		if *demo == "" {
			return usageError{"serve needs --source FILE or --demo-dir DIR"}
		}
		*source = filepath.Join(*demo, "video", "short_hamilton_clip.mp4")
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
	ctrl, err := gate.NewController(func() *gate.Policy { return policy }, *door, relay, nil, func(e gate.Event) {
		log.Info("gate event", "kind", e.Kind, "door", e.Door, "person_id", e.PersonID, "code", e.Code, "reason", e.Reason)
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
	if *demo != "" {
		if err := enrolDemo(svc, *demo, log); err != nil {
			return err
		}
	}
	log.Info("gallery loaded", "templates", svc.Gallery().Len(), "model_version", svc.Embedder.ModelVersion())

	var st serveStats
	e := web.New(func() web.Health {
		h := web.Health{Frames: st.frames.Load(), Faces: st.faces.Load(), Matches: st.matches.Load(), Templates: svc.Gallery().Len()}
		if ns := st.lastFrame.Load(); ns != 0 {
			h.LastFrame = time.Unix(0, ns).UTC()
		}
		return h
	}, nil)
	srvErr := make(chan error, 1)
	go func() { srvErr <- e.Start(*listen) }()
	defer func() {
		sctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
		defer cancel()
		e.Shutdown(sctx)
	}()
	log.Info("facegate serving", "source", *source, "healthz", "http://"+*listen+"/healthz")

	last := map[int]string{} // face index → last logged verdict, to log changes only
	err = vision.EachFrame(ctx, *source, true, func(frame int, jpg []byte) error {
		res, err := svc.Identify(identity.Photo{Name: fmt.Sprintf("frame %d", frame), Data: jpg})
		if err != nil {
			log.Warn("frame skipped", "frame", frame, "err", err)
			return nil
		}
		st.frames.Add(1)
		st.lastFrame.Store(time.Now().UnixNano())
		st.faces.Add(int64(len(res)))
		for i, r := range res {
			who := "unknown"
			if r.Person != nil {
				who = r.Person.Name
				st.matches.Add(1)
			}
			key := string(r.Verdict) + "/" + who
			if last[i] == key {
				continue
			}
			last[i] = key
			attrs := []any{"frame", frame, "verdict", r.Verdict, "person", who, "reason", r.Reason}
			if r.Distance != nil {
				attrs = append(attrs, "distance", fmt.Sprintf("%.3f", *r.Distance))
			}
			log.Info("face", attrs...)
			var p *gate.Person
			if r.Person != nil {
				p = &gate.Person{ID: r.Person.ID, Name: r.Person.Name, Groups: []string{gate.EveryoneGroup}}
			}
			ctrl.Attempt(gate.Request{Person: p})
		}
		for i := len(res); i < len(last)+len(res); i++ {
			delete(last, i)
		}
		return nil
	})
	select {
	case e := <-srvErr:
		if !errors.Is(e, http.ErrServerClosed) {
			return fmt.Errorf("status server on %s: %w", *listen, e)
		}
	default:
	}
	if errors.Is(err, context.Canceled) {
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
