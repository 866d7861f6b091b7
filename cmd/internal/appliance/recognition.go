package appliance

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/facegate/facegate/gate/identity"
	"github.com/facegate/facegate/storage"
	"github.com/facegate/facegate/vision"
)

// recognition is the camera-to-decision half: the identity service (and
// its gallery) and the pipeline that feeds decisions to the appliance.
type recognition struct {
	rec  vision.Embedder
	svc  *identity.Service
	src  vision.Source
	det  vision.FaceDetector
	pipe *vision.Pipeline
}

// openRecognition builds the identity service and the pipeline, with the
// settings st in force. Demo people are enrolled before the camera opens,
// so the first frames meet a full gallery. Everything that builds the
// recognition side is here.
func (a *Appliance) openRecognition(st storage.Settings) (r *recognition, err error) {
	r = &recognition{}
	built := r // the error paths return nil: close what was built
	defer func() {
		if err != nil {
			built.Close()
		}
	}()
	rule := vision.Rule{Threshold: st.Threshold, MinMargin: st.Margin}
	if r.rec, err = vision.OpenEmbedder(a.cfg.ModelsDir, a.cfg.Embedder); err != nil {
		return nil, err
	}
	if r.svc, err = identity.New(a.db, r.rec, rule); err != nil {
		return nil, err
	}
	r.svc.Photos = a.cfg.Snapshots()
	if err := a.switchModel(r.svc); err != nil {
		return nil, err
	}
	if err := a.enrolDemo(r.svc); err != nil {
		return nil, err
	}
	a.log.Info("gallery loaded", "templates", r.svc.Gallery().Len(), "model_version", r.rec.ModelVersion())
	if r.src, err = vision.OpenSource(a.cfg.Source, vision.SourceOptions{Paced: true, Loop: true}); err != nil {
		return nil, err
	}
	if r.det, err = OpenDetector(a.cfg.Detector, a.cfg.ModelsDir); err != nil {
		return nil, err
	}
	r.pipe = &vision.Pipeline{Source: r.src, Detector: r.det, Embedder: r.rec, Gallery: r.svc.Gallery(),
		Config: PipelineConfig(r.rec.Info(), st), Log: a.log, OnFrame: a.ctrl.FacesAtDoor, OnDecision: a.onDecision,
		OnPreview: a.hub.PublishFrame}
	return r, nil
}

// apply puts settings in force on the running recognition: the match rule
// of the identity service and the whole pipeline configuration, built the
// one way (PipelineConfig) from the model and the settings.
func (r *recognition) apply(st storage.Settings) error {
	rule := vision.Rule{Threshold: st.Threshold, MinMargin: st.Margin}
	pc := PipelineConfig(r.rec.Info(), st)
	if err := pc.Validate(); err != nil {
		return err
	}
	if err := r.svc.SetRule(rule); err != nil {
		return err
	}
	return r.pipe.SetConfig(pc)
}

func (r *recognition) modelVersion() string { return r.rec.ModelVersion() }

// Close frees the native resources (safe on a half-built recognition).
func (r *recognition) Close() error {
	var errs []error
	if r.src != nil {
		errs = append(errs, r.src.Close())
	}
	if r.det != nil {
		r.det.Close()
	}
	if r.rec != nil {
		r.rec.Close()
	}
	return errors.Join(errs...)
}

// demoPeople are enrolled on first start when a demo directory is given.
var demoPeople = []struct{ id, name, photo string }{
	{"DEMO-001", "Lin-Manuel Miranda", "faces/lin-manuel-miranda.png"},
	{"DEMO-002", "Barack Obama", "faces/obama.jpg"},
}

// enrolDemo enrols the demo people the database does not have yet.
func (a *Appliance) enrolDemo(svc *identity.Service) error {
	if a.cfg.DemoDir == "" {
		return nil
	}
	for _, p := range demoPeople {
		if _, err := a.db.PersonByEmployeeID(p.id); err == nil {
			continue
		}
		b, err := os.ReadFile(filepath.Join(a.cfg.DemoDir, p.photo))
		if err != nil {
			return fmt.Errorf("demo enrolment: %w (is --demo-dir the shared test data?)", err)
		}
		if _, err := svc.Enroll(p.id, p.name, []identity.Photo{{Name: p.photo, Data: b}}); err != nil {
			return fmt.Errorf("demo enrolment: %w", err)
		}
		a.log.Info("demo person enrolled", "employee_id", p.id, "name", p.name)
	}
	return nil
}

// switchModel re-derives templates made by another descriptor model (an
// upgrade, or a changed --embedder) from the kept enrolment photos, in one
// transaction with an evidence event, so the gallery never silently loses
// people. If that cannot be done, it says how to go on.
func (a *Appliance) switchModel(svc *identity.Service) error {
	if svc.SkippedTemplates() == 0 {
		return nil
	}
	if a.cfg.Central != "" { // the central's templates: re-derived there, never at a door (no photos here)
		a.log.Error("templates from the central were made by another embedder and are not used: run the central's --embedder",
			"embedder", a.cfg.Embedder, "skipped", svc.SkippedTemplates())
		return nil
	}
	n, err := svc.SwitchModel("facegate: --embedder " + a.cfg.Embedder)
	if err != nil {
		return fmt.Errorf("%w\n(keep the previous embedder with --embedder dlib, or re-enrol the people named above)", err)
	}
	a.log.Info("templates re-derived for the embedder", "embedder", a.cfg.Embedder, "result", n)
	return nil
}
