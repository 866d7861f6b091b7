package identity

import (
	"fmt"
	"strings"
)

// Conflict is a reason to doubt an enrolment: a face already within the
// match threshold of someone else (a duplicate, or a photo of the wrong
// person: it would make that person "unknown" at the door, margin 0), or two
// photos of this person further apart than the model's stranger line (two
// different people: the mixed template would match both).
type Conflict struct {
	Kind     string  `json:"kind"` // ConflictDuplicate or ConflictMixed
	Photo    string  `json:"photo"`
	Other    string  `json:"other"` // the other person "Name (ID)", or the other photo
	Distance float64 `json:"distance"`
	Limit    float64 `json:"limit"` // the threshold or the stranger line it crossed
}

// Conflict kinds.
const (
	ConflictDuplicate = "duplicate"
	ConflictMixed     = "mixed"
)

func (c Conflict) String() string {
	if c.Kind == ConflictDuplicate {
		return fmt.Sprintf("%s: this face is %.3f from %s, within the match threshold %.2f: the same person enrolled twice, or a photo of %s",
			c.Photo, c.Distance, c.Other, c.Limit, c.Other)
	}
	return fmt.Sprintf("%s and %s are %.3f apart, beyond %.2f (no two photos of one person in the model's calibration set are further apart): they look like two different people",
		c.Photo, c.Other, c.Distance, c.Limit)
}

// ConflictError refuses an enrolment until an admin confirms it.
type ConflictError struct {
	EmployeeID string
	Conflicts  []Conflict
}

func (e *ConflictError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "enroll %s: nothing stored: ", e.EmployeeID)
	for i, c := range e.Conflicts {
		if i > 0 {
			b.WriteString("; ")
		}
		b.WriteString(c.String())
	}
	b.WriteString(". Check the photos; if they are right, confirm the enrolment with a reason (web: \"enrol anyway\"; CLI: --confirm REASON), which is audited")
	return b.String()
}

// Confirmation lets an enrolment through its conflicts: who and why.
type Confirmation struct {
	By, Reason string
}

// conflicts finds what would make this enrolment wrong: each face against
// everyone else enrolled, and the photos against each other.
func (s *Service) conflicts(existingID int64, faces []checkedFace) []Conflict {
	var out []Conflict
	th := s.rule().Threshold
	for _, cf := range faces {
		m := s.gallery.MatchExcluding(cf.face.Descriptor, existingID)
		if !m.Found() || m.Distance > th {
			continue
		}
		other := fmt.Sprintf("person %d", m.PersonID)
		if people, err := s.DB.People([]int64{m.PersonID}); err == nil {
			if p, ok := people[m.PersonID]; ok {
				other = fmt.Sprintf("%s (%s)", p.Name, p.EmployeeID)
			}
		}
		out = append(out, Conflict{Kind: ConflictDuplicate, Photo: cf.photo.Name, Other: other, Distance: m.Distance, Limit: th})
	}
	info := s.Embedder.Info()
	line := max(info.StrangerLine, th)
	out = append(out, s.unlikeStored(existingID, faces, line)...)
	for i, a := range faces {
		for _, b := range faces[i+1:] {
			if d := info.Metric.Between(a.face.Descriptor, b.face.Descriptor); d > line {
				out = append(out, Conflict{Kind: ConflictMixed, Photo: a.photo.Name, Other: b.photo.Name, Distance: d, Limit: line})
			}
		}
	}
	return out
}

// unlikeStored compares photos added to an enrolled person with the photos
// already enrolled: a new photo of someone else would make the person's
// templates match two people (the "mixed" conflict, across uploads).
func (s *Service) unlikeStored(personID int64, faces []checkedFace, line float64) []Conflict {
	if personID == 0 {
		return nil
	}
	stored, _, err := s.DB.Templates(s.Embedder.ModelVersion())
	if err != nil {
		return nil
	}
	names := map[int64]string{}
	if ts, err := s.DB.PersonTemplates(personID); err == nil {
		for _, t := range ts {
			names[t.ID] = t.SourceName
		}
	}
	metric := s.Embedder.Info().Metric
	var out []Conflict
	for _, cf := range faces {
		for _, t := range stored {
			if t.PersonID != personID {
				continue
			}
			if d := metric.Between(cf.face.Descriptor, t.Descriptor); d > line {
				other := fmt.Sprintf("enrolled photo %s (template %d)", names[t.ID], t.ID)
				out = append(out, Conflict{Kind: ConflictMixed, Photo: cf.photo.Name, Other: other, Distance: d, Limit: line})
				break
			}
		}
	}
	return out
}
