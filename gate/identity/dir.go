package identity

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/facegate/facegate/vision"
)

// ReadPhoto reads a photo file with the same size limit as uploads.
func ReadPhoto(path string) (Photo, error) {
	f, err := os.Open(path)
	if err != nil {
		return Photo{}, fmt.Errorf("%s: %w", path, err)
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, vision.MaxImageBytes+1))
	if err != nil {
		return Photo{}, fmt.Errorf("%s: %w", path, err)
	}
	return Photo{Name: path, Data: b}, nil
}

// DirPerson is one sub-folder of an enrolment folder: the folder's name is
// the person's name and employee ID.
type DirPerson struct {
	Name   string
	Photos []string // sorted paths
}

var photoExt = []string{".jpg", ".jpeg", ".png"}

// ScanDir lists DIR/<person>/*.jpg|jpeg|png, one DirPerson per sub-folder
// that holds a photo, and the number of photos.
func ScanDir(dir string) ([]DirPerson, int, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, 0, err
	}
	var people []DirPerson
	total := 0
	for _, e := range entries {
		if !e.IsDir() {
			continue
		}
		files, _ := os.ReadDir(filepath.Join(dir, e.Name()))
		var ps []string
		for _, f := range files {
			if !f.IsDir() && slices.Contains(photoExt, strings.ToLower(filepath.Ext(f.Name()))) {
				ps = append(ps, filepath.Join(dir, e.Name(), f.Name()))
			}
		}
		slices.Sort(ps)
		if len(ps) > 0 {
			people = append(people, DirPerson{e.Name(), ps})
			total += len(ps)
		}
	}
	if total == 0 {
		return nil, 0, fmt.Errorf("%s: no DIR/<person>/*.jpg|png photos found", dir)
	}
	return people, total, nil
}

// DirResult is what EnrollDir stored and refused.
type DirResult struct {
	People, Templates int
	Warnings          []Warning
	// Refused holds one error per refused photo or person; the rest is
	// stored.
	Refused []error
}

// EnrollDir enrols each person from the photos that pass CheckPhoto; a
// refused photo is reported and skipped. step (optional) hears each photo
// before it is checked. It stops between photos when ctx ends.
func (s *Service) EnrollDir(ctx context.Context, people []DirPerson, step func(path string)) (DirResult, error) {
	var r DirResult
	for _, p := range people {
		var ok []Photo
		for _, f := range p.Photos {
			if err := ctx.Err(); err != nil {
				return r, err
			}
			if step != nil {
				step(f)
			}
			ph, err := ReadPhoto(f)
			if err == nil {
				_, err = s.CheckPhoto(ph)
			}
			if err != nil {
				r.Refused = append(r.Refused, err)
				continue
			}
			ok = append(ok, ph)
		}
		if len(ok) == 0 {
			r.Refused = append(r.Refused, errors.New(p.Name+": not enrolled, no usable photo"))
			continue
		}
		res, err := s.Enroll(p.Name, p.Name, ok)
		if err != nil {
			r.Refused = append(r.Refused, err)
			continue
		}
		r.Warnings = append(r.Warnings, res.Warnings...)
		r.People++
		r.Templates += res.Templates
	}
	return r, nil
}
