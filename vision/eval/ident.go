package eval

import (
	"fmt"
	"maps"
	"math"
	"slices"
)

// Gallery modes: one mean template per person, or every enrolment
// descriptor with a person's distance the nearest of theirs.
const (
	GalleryMean = "mean"
	GalleryEach = "each"
)

// Num is a float that encodes NaN and ±Inf as JSON null.
type Num float64

// MarshalJSON implements json.Marshaler.
func (n Num) MarshalJSON() ([]byte, error) {
	f := float64(n)
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return []byte("null"), nil
	}
	return fmt.Appendf(nil, "%g", f), nil
}

type template struct {
	person string
	desc   []float32
}

// probe is one 1:N search: a photo searched in the gallery without the
// templates of exclude ("" for none).
type probe struct {
	person, exclude string
	desc            []float32 // nil: the photo yielded no face
}

// result is a probe's search outcome.
type result struct {
	probe
	best            string
	bestD, runnerUp float64
}

// Protocol is the 1:N protocol built from described photos.
type Protocol struct {
	Gallery     []template
	Enrolled    []string // people with ≥ 2 photos and a face in an enrolment photo
	EnrolFailed []string // people with ≥ 2 photos but no face in any enrolment photo
	genuine     []probe
	impostor    []probe
}

// NewProtocol enrols every person with at least 2 photos from their first
// k photos (mean template or each descriptor, per mode); their later
// photos are genuine probes. Every photo of every person is also an
// impostor probe searched with that person's templates left out.
func NewProtocol(m Model, photos []PhotoResult, k int, mode string) (*Protocol, error) {
	if k < 1 {
		return nil, fmt.Errorf("eval: enrolment photos %d: want at least 1", k)
	}
	if mode != GalleryMean && mode != GalleryEach {
		return nil, fmt.Errorf("eval: gallery mode %q: want %q or %q", mode, GalleryMean, GalleryEach)
	}
	byPerson := map[string][]PhotoResult{}
	for _, p := range photos {
		byPerson[p.Person] = append(byPerson[p.Person], p)
	}
	pr := &Protocol{}
	for _, person := range slices.Sorted(maps.Keys(byPerson)) {
		ps := byPerson[person]
		for _, p := range ps {
			pr.impostor = append(pr.impostor, probe{person: person, exclude: person, desc: p.Descriptor})
		}
		if len(ps) < 2 {
			continue
		}
		n := min(k, len(ps))
		for _, p := range ps[n:] {
			pr.genuine = append(pr.genuine, probe{person: person, desc: p.Descriptor})
		}
		tpl := enrol(m, person, ps[:n], mode)
		if len(tpl) == 0 {
			pr.EnrolFailed = append(pr.EnrolFailed, person)
			continue
		}
		pr.Enrolled = append(pr.Enrolled, person)
		pr.Gallery = append(pr.Gallery, tpl...)
	}
	return pr, nil
}

func enrol(m Model, person string, ps []PhotoResult, mode string) []template {
	var descs [][]float32
	for _, p := range ps {
		if p.Found {
			descs = append(descs, p.Descriptor)
		}
	}
	if len(descs) == 0 {
		return nil
	}
	if mode == GalleryMean {
		return []template{{person, MeanTemplate(descs, isCosine(m))}}
	}
	out := make([]template, len(descs))
	for i, d := range descs {
		out[i] = template{person, d}
	}
	return out
}

// search finds the nearest and runner-up person for a probe, skipping the
// excluded person's templates. Distances are +Inf when there is nobody.
func search(m Model, gallery []template, pb probe) result {
	r := result{probe: pb, bestD: math.Inf(1), runnerUp: math.Inf(1)}
	if pb.desc == nil {
		return r
	}
	near := map[string]float64{}
	for _, t := range gallery {
		if t.person == pb.exclude {
			continue
		}
		d := m.Distance(pb.desc, t.desc)
		if old, ok := near[t.person]; !ok || d < old {
			near[t.person] = d
		}
	}
	for _, person := range slices.Sorted(maps.Keys(near)) { // sorted: ties resolve the same way every run
		d := near[person]
		switch {
		case d < r.bestD:
			r.runnerUp, r.bestD, r.best = r.bestD, d, person
		case d < r.runnerUp:
			r.runnerUp = d
		}
	}
	return r
}
