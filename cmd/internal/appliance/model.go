package appliance

import (
	"context"
	"errors"
	"fmt"
	"image"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/facegate/facegate/models"
	"github.com/facegate/facegate/storage"
	"github.com/facegate/facegate/vision"
	"github.com/facegate/facegate/vision/eval"
	"github.com/facegate/facegate/web"
)

// descriptorFile is the manifest entry that holds each embedder's
// descriptor weights: its licence and training statement are the model's.
var descriptorFile = map[string]string{
	vision.EmbedderDlib:       models.FileResNet,
	vision.EmbedderFaceplugin: models.FileFPFeature,
}

// modelOwner tells the web app which descriptor model is in force and
// calibrates a threshold on the site's own enrolment photos. It
// implements web.ModelOwner.
type modelOwner struct {
	emb       vision.Embedder
	modelsDir string
	db        *storage.DB
	photos    storage.SnapshotStore

	mu   sync.Mutex
	info *web.ModelInfo // read once
	last *web.SitePairs // the last calibration's pairs
}

// ModelInfo is the embedder's description with the manifest's licence and
// training statement for its descriptor file.
func (o *modelOwner) ModelInfo() web.ModelInfo {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.info == nil { // the manifest is read once: the model does not change while running
		mi := ModelInfoOf(o.emb.Info(), o.modelsDir)
		o.info = &mi
	}
	return *o.info
}

// ModelInfoOf describes a model for the web app. A manifest that cannot
// be read (it was verified at start) leaves the embedder's own licence.
func ModelInfoOf(in vision.ModelInfo, modelsDir string) web.ModelInfo {
	mi := web.ModelInfo{Name: in.Name, Version: in.Version, Dim: in.Dim, Metric: string(in.Metric), Licence: in.Licence,
		ProvenanceUnknown: in.ProvenanceUnknown}
	if m, err := models.ReadManifest(modelsDir); err == nil {
		if e, ok := m.File(descriptorFile[in.Name]); ok {
			mi.Licence, mi.Training = e.Licence, e.Training
			mi.ProvenanceUnknown = mi.ProvenanceUnknown || e.ProvenanceUnknown
		}
	}
	mi.Safe = safeRangeFor(in.Name)
	return mi
}

// safeRangeFor is the embedder's calibrated range (vision.Calibration)
// as the web app shows it and the settings owner enforces it.
func safeRangeFor(embedder string) *web.SafeRange {
	c, ok := vision.CalibrationFor(embedder)
	if !ok {
		return nil
	}
	r := &web.SafeRange{MaxThreshold: c.SafeMaxThreshold, MinMargin: c.MinMargin, Faces: c.Faces,
		GenuinePairs: c.GenuinePairs, ImpostorPairs: c.ImpostorPairs}
	for _, p := range c.Points {
		r.Points = append(r.Points, web.RatePoint(p))
	}
	return r
}

// Calibrate calibrates on the enrolled photos and keeps the pair
// distances for the page's false-accept preview.
func (o *modelOwner) Calibrate(ctx context.Context, targetFAR float64) (web.Calibration, error) {
	c, pairs, err := calibrateEnrolled(ctx, o.db, o.photos, o.emb, targetFAR, eval.DefaultOptions.Safety)
	if err == nil {
		o.mu.Lock()
		o.last = &web.SitePairs{At: time.Now(), People: c.People, Photos: c.Photos,
			Genuine: slices.Sorted(slices.Values(pairs.Genuine)), Impostor: slices.Sorted(slices.Values(pairs.Impostor))}
		o.mu.Unlock()
	}
	return c, err
}

// SitePairs are the last calibration's pair distances.
func (o *modelOwner) SitePairs() (web.SitePairs, bool) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.last == nil {
		return web.SitePairs{}, false
	}
	return *o.last, true
}

// EnrolledSet reads the kept enrolment photos of every enrolled person
// (each photo once, however many model versions described it). People
// with one photo give impostor pairs only.
func EnrolledSet(db *storage.DB, photos storage.SnapshotStore) (set eval.Set, nPhotos int, err error) {
	if photos.Dir == "" {
		return nil, 0, errors.New("calibrate: enrolment photos are not kept (no snapshot store)")
	}
	srcs, err := db.TemplateSources()
	if err != nil {
		return nil, 0, err
	}
	seen := map[string]bool{}
	byPerson := map[string][][]byte{}
	for _, s := range srcs {
		key := strconv.FormatInt(s.PersonID, 10) + "/" + s.PhotoSHA256
		if s.PhotoSHA256 == "" || seen[key] {
			continue
		}
		seen[key] = true
		b, err := photos.Get(s.PhotoSHA256)
		if err != nil {
			return nil, 0, fmt.Errorf("calibrate: enrolment photo of template %d (%s): %w (re-enrol that person)", s.ID, s.SourceName, err)
		}
		p := "person-" + strconv.FormatInt(s.PersonID, 10)
		byPerson[p] = append(byPerson[p], b)
		nPhotos++
	}
	return eval.FromBytes(byPerson), nPhotos, nil
}

// CalibrateEnrolled recommends a threshold for targetFAR from the site's
// kept enrolment photos, described by emb: the same computation as
// eval.CalibrateSet on those photos (the web app uses eval's default
// safety).
func CalibrateEnrolled(ctx context.Context, db *storage.DB, photos storage.SnapshotStore, emb vision.Embedder,
	targetFAR, safety float64) (web.Calibration, error) {
	c, _, err := calibrateEnrolled(ctx, db, photos, emb, targetFAR, safety)
	return c, err
}

func calibrateEnrolled(ctx context.Context, db *storage.DB, photos storage.SnapshotStore, emb vision.Embedder,
	targetFAR, safety float64) (web.Calibration, eval.Pairs, error) {
	set, n, err := EnrolledSet(db, photos)
	if err != nil {
		return web.Calibration{}, eval.Pairs{}, err
	}
	if len(set) < 2 {
		return web.Calibration{}, eval.Pairs{}, fmt.Errorf("calibrate: %d people enrolled with kept photos: enrol at least "+
			"two people (more give a firmer figure)", len(set))
	}
	m := EvalModel(emb, emb.Info().DefaultRule)
	described, err := eval.Describe(ctx, m, set)
	if err != nil {
		return web.Calibration{}, eval.Pairs{}, err
	}
	pairs := eval.PairDistances(m, described)
	c, err := eval.Calibrate(pairs, targetFAR, safety)
	if err != nil {
		err = fmt.Errorf("calibrate %s: %w", m.Name(), err)
	}
	return web.Calibration{Calibration: c, Model: m.Name(), People: len(set), Photos: n}, pairs, err
}

// EvalModel is an embedder as package eval measures it: the largest face
// per photo, described as enrolment and identify describe it.
func EvalModel(emb vision.Embedder, r vision.Rule) eval.Model {
	return embedderEval{emb: emb, rule: eval.Rule{Threshold: r.Threshold, Margin: r.MinMargin}}
}

type embedderEval struct {
	emb  vision.Embedder
	rule eval.Rule
}

func (d embedderEval) Name() string    { return d.emb.Info().Name }
func (d embedderEval) Rule() eval.Rule { return d.rule }

// Cosine tells eval to renormalise mean templates.
func (d embedderEval) Cosine() bool { return d.emb.Info().Metric == vision.MetricCosine }

func (d embedderEval) Distance(a, b []float32) float64 {
	if d.Cosine() {
		return eval.CosineDistance(a, b)
	}
	return eval.Euclidean(a, b)
}

func (d embedderEval) Describe(name string, img []byte) ([]float32, error) {
	faces, err := d.emb.Faces(name, img)
	if err != nil {
		return nil, err
	}
	if len(faces) == 0 {
		return nil, errors.New("no face found by " + d.Name() + "'s detector (turned, small or hidden face?)")
	}
	area := func(r image.Rectangle) int { return r.Dx() * r.Dy() }
	big := slices.MaxFunc(faces, func(a, b vision.Face) int { return area(a.Box) - area(b.Box) })
	return slices.Clone(big.Descriptor), nil
}
