package eval

import (
	"context"
	"fmt"
	"slices"
	"time"
)

// Options set the protocol.
type Options struct {
	EnrolPhotos int     `json:"enrol_photos"` // K: enrolment photos per person
	TargetFAR   float64 `json:"target_far"`   // for Calibrate
	Safety      float64 `json:"safety"`       // subtracted from the calibrated quantile
}

// DefaultOptions: 2 enrolment photos (what the webcam page asks for), FAR 0
// and a 0.02 safety margin.
var DefaultOptions = Options{EnrolPhotos: 2, TargetFAR: 0, Safety: 0.02}

// FPIR targets every 1:N run is swept at.
var sweepTargets = []float64{0, 1e-3}

// PhotoStats summarises describing.
type PhotoStats struct {
	Total          int           `json:"total"`
	WithFace       int           `json:"with_face"`
	NoFace         []PhotoResult `json:"no_face"`
	MedianDescribe time.Duration `json:"median_describe_ns"`
	MaxDescribe    time.Duration `json:"max_describe_ns"`
}

// Ident is a 1:N run for one gallery mode.
type Ident struct {
	Gallery      string       `json:"gallery"`
	People       int          `json:"people_enrolled"`
	EnrolFailed  []string     `json:"enrol_failed"`
	AtRule       Outcome      `json:"at_rule"`
	AtCalibrated Outcome      `json:"at_calibrated"`
	Sweep        []SweepPoint `json:"sweep"`
}

// ModelReport is everything measured for one model.
type ModelReport struct {
	Model        string        `json:"model"`
	Rule         Rule          `json:"rule"`
	Photos       PhotoStats    `json:"photos"`
	PhotoResults []PhotoResult `json:"photo_results"` // every photo: face or why not, describe time
	Genuine      Dist          `json:"genuine"`
	Impostor     Dist          `json:"impostor"`
	EER          Num           `json:"eer"`
	EERThreshold Num           `json:"eer_threshold"`
	Ident        []Ident       `json:"ident"`
	Calibration  Calibration   `json:"calibration"`
	Pairs        Pairs         `json:"-"` // for the histogram
}

// Report is the evaluation of several models on the same photos.
type Report struct {
	Sets    []SetInfo     `json:"sets"`
	People  int           `json:"people"`
	Total   int           `json:"photos"`
	Options Options       `json:"options"`
	Models  []ModelReport `json:"models"`
}

// Evaluate measures one model on a set of labelled photos.
func Evaluate(ctx context.Context, m Model, set Set, opt Options) (*ModelReport, error) {
	photos, err := Describe(ctx, m, set)
	if err != nil {
		return nil, err
	}
	pairs := PairDistances(m, photos)
	cal, err := Calibrate(pairs, opt.TargetFAR, opt.Safety)
	if err != nil {
		return nil, fmt.Errorf("eval %s: %w", m.Name(), err)
	}
	r := &ModelReport{Model: m.Name(), Rule: m.Rule(), Photos: photoStats(photos), PhotoResults: photos, Pairs: pairs, Calibration: cal,
		Genuine: Summarise(pairs.Genuine), Impostor: Summarise(pairs.Impostor)}
	eer, at := EER(pairs.Genuine, pairs.Impostor)
	r.EER, r.EERThreshold = Num(eer), Num(at)
	calRule := Rule{Threshold: float64(cal.Threshold), Margin: r.Rule.Margin}
	for _, mode := range []string{GalleryMean, GalleryEach} {
		pr, err := NewProtocol(m, photos, opt.EnrolPhotos, mode)
		if err != nil {
			return nil, err
		}
		run := pr.Search(m)
		id := Ident{Gallery: mode, People: len(pr.Enrolled), EnrolFailed: nonNil(pr.EnrolFailed),
			AtRule: run.At(r.Rule), AtCalibrated: run.At(calRule)}
		for _, t := range sweepTargets {
			id.Sweep = append(id.Sweep, run.Sweep(r.Rule.Margin, t))
		}
		r.Ident = append(r.Ident, id)
	}
	return r, nil
}

func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

func photoStats(photos []PhotoResult) PhotoStats {
	s := PhotoStats{Total: len(photos), NoFace: []PhotoResult{}}
	times := make([]time.Duration, 0, len(photos))
	for _, p := range photos {
		times = append(times, p.Time)
		if p.Found {
			s.WithFace++
		} else {
			s.NoFace = append(s.NoFace, p)
		}
	}
	if len(times) > 0 {
		slices.Sort(times)
		s.MedianDescribe, s.MaxDescribe = times[len(times)/2], times[len(times)-1]
	}
	return s
}

// Compare evaluates every model on the same photos. infos describe where
// the photos came from (LoadDirs); nil for photos from elsewhere.
func Compare(ctx context.Context, models []Model, set Set, infos []SetInfo, opt Options) (*Report, error) {
	if opt.EnrolPhotos < 1 {
		return nil, fmt.Errorf("eval: enrolment photos %d: want at least 1", opt.EnrolPhotos)
	}
	r := &Report{Sets: nonNil(infos), People: len(set), Options: opt}
	for _, ps := range set {
		r.Total += len(ps)
	}
	for _, m := range models {
		mr, err := Evaluate(ctx, m, set, opt)
		if err != nil {
			return nil, err
		}
		r.Models = append(r.Models, *mr)
	}
	return r, nil
}
