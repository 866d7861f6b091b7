package identity

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/facegate/facegate/storage"
)

// SwitchResult reports a model switch.
type SwitchResult struct {
	From, To  string
	People    int
	Templates int
	Event     storage.Event
}

// SwitchModel re-derives every template made by another model from its
// kept enrolment photo (s.Photos) with the current embedder, and replaces
// them in one transaction that also chains a model_switch evidence event.
// If any photo is missing or no longer passes CheckPhoto, nothing changes
// and the error lists every such photo. by names who asked for it.
func (s *Service) SwitchModel(by string) (SwitchResult, error) {
	to := s.Embedder.ModelVersion()
	res := SwitchResult{To: to}
	if s.Photos.Dir == "" {
		return res, errors.New("switch model: enrolment photos are not kept (Service.Photos unset), templates cannot be re-derived")
	}
	srcs, err := s.DB.TemplateSources()
	if err != nil {
		return res, err
	}
	var from []string
	byPerson := map[int64][]storage.NewTemplate{}
	var errs []error
	for _, src := range srcs {
		if src.ModelVersion == to {
			continue
		}
		if !slices.Contains(from, src.ModelVersion) {
			from = append(from, src.ModelVersion)
		}
		t, err := s.rederive(src)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		byPerson[src.PersonID] = append(byPerson[src.PersonID], t)
		res.Templates++
	}
	if len(errs) > 0 {
		return res, fmt.Errorf("switch model to %s: nothing changed, %d templates cannot be re-derived "+
			"(re-enrol these people with new photos): %w", to, len(errs), errors.Join(errs...))
	}
	if len(from) == 0 {
		return res, nil // already on this model
	}
	res.From, res.People = strings.Join(from, ","), len(byPerson)
	if res.Event, err = s.DB.ReplaceTemplates(res.From, to, byPerson, by); err != nil {
		return res, err
	}
	return res, s.Reload()
}

// rederive describes one stored template's enrolment photo anew.
func (s *Service) rederive(src storage.TemplateSource) (storage.NewTemplate, error) {
	b, err := s.Photos.Get(src.PhotoSHA256)
	if err != nil {
		return storage.NewTemplate{}, fmt.Errorf("template %d (%s): enrolment photo %s: %w", src.ID, src.SourceName, src.PhotoSHA256, err)
	}
	f, err := s.CheckPhoto(Photo{Name: src.SourceName, Data: b})
	if err != nil {
		return storage.NewTemplate{}, fmt.Errorf("template %d: %w", src.ID, err)
	}
	return storage.NewTemplate{Descriptor: f.Descriptor, ModelVersion: s.Embedder.ModelVersion(), SourceName: src.SourceName,
		PhotoSHA256: src.PhotoSHA256, FaceWidth: f.Width(), Sharpness: f.Sharpness}, nil
}
