package identity

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"image"
	"strings"
	"sync"

	"github.com/facegate/facegate/storage"
	"github.com/facegate/facegate/vision"
)

// dlib's enrolment quality limits; each model's own are in its
// vision.ModelInfo (MinFaceWidth, MinSharpness), which CheckPhoto applies.
const (
	// MinFaceWidth in original pixels: below this the descriptor is noisy
	// (dlib's alignment works on a 150 px chip; 80 px is HOG's native size).
	MinFaceWidth = 80
	// MinSharpness (Laplacian variance at 128 px): below it a face is too
	// blurred to be a good reference.
	MinSharpness = 15
)

// Errors for refused enrolment photos. They are wrapped in a
// *vision.ImageError naming the photo.
var (
	ErrNoFace       = errors.New("no face found")
	ErrManyFaces    = errors.New("more than one face")
	ErrFaceTooSmall = errors.New("face too small")
	ErrFaceBlurred  = errors.New("face too blurred")
)

// Service enrols and identifies. It keeps the gallery in step with storage.
type Service struct {
	DB       *storage.DB
	Embedder vision.Embedder
	Rule     vision.Rule
	// Photos, when set, keeps each enrolment photo (re-encoded, so EXIF and
	// GPS are dropped) as evidence of what a template was made from;
	// erasure deletes it.
	Photos storage.SnapshotStore

	mu      sync.Mutex // serialises gallery reloads
	gallery *vision.Gallery
	skipped int
	ruleMu  sync.RWMutex // guards Rule once serving
}

// SetRule changes the match rule while serving.
func (s *Service) SetRule(r vision.Rule) error {
	if err := r.Validate(); err != nil {
		return err
	}
	s.ruleMu.Lock()
	s.Rule = r
	s.ruleMu.Unlock()
	return nil
}

func (s *Service) rule() vision.Rule {
	s.ruleMu.RLock()
	defer s.ruleMu.RUnlock()
	return s.Rule
}

// New builds a service and loads the gallery from storage.
func New(db *storage.DB, e vision.Embedder, rule vision.Rule) (*Service, error) {
	if err := rule.Validate(); err != nil {
		return nil, err
	}
	s := &Service{DB: db, Embedder: e, Rule: rule, gallery: vision.NewGalleryFor(e.Info().Metric, nil)}
	return s, s.Reload()
}

// Reload re-reads every template of the current model version.
func (s *Service) Reload() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	rows, skipped, err := s.DB.Templates(s.Embedder.ModelVersion())
	if err != nil {
		return err
	}
	ts := make([]vision.Template, len(rows))
	for i, r := range rows {
		ts[i] = vision.Template{ID: r.ID, PersonID: r.PersonID, Descriptor: r.Descriptor}
	}
	s.gallery.Replace(ts)
	s.skipped = skipped
	return nil
}

// Gallery is the live gallery.
func (s *Service) Gallery() *vision.Gallery { return s.gallery }

// SkippedTemplates counts stored templates of another model version.
func (s *Service) SkippedTemplates() int { return s.skipped }

// Photo is one enrolment input.
type Photo struct {
	Name string
	Data []byte
}

// Warning is something the admin should look at, though not fatal.
type Warning struct {
	Photo   string
	Message string
}

// EnrollResult reports what Enroll stored.
type EnrollResult struct {
	Person    storage.Person
	Templates int
	Warnings  []Warning
	// Conflicts were confirmed by an admin and stored anyway.
	Conflicts []Conflict
}

// checkedFace is a face accepted from an enrolment photo.
type checkedFace struct {
	photo Photo
	face  vision.Face
}

// dominantFactor: a face at least this many times as wide as every other
// face in an enrolment photo is its subject; the others are bystanders far
// behind (faces-eastasia cn114/2.jpg: 246 px against 81 px). Two people of
// similar size (two_people.jpg: 1.1×) are still refused.
const dominantFactor = 2

// CheckPhoto finds exactly one usable face in an enrolment photo.
func (s *Service) CheckPhoto(p Photo) (vision.Face, error) {
	f, _, err := s.checkPhoto(p)
	return f, err
}

// checkPhoto is CheckPhoto that also says when it picked the dominant face
// among several (a warning for the admin).
func (s *Service) checkPhoto(p Photo) (vision.Face, string, error) {
	faces, err := s.Embedder.Faces(p.Name, p.Data)
	if err != nil {
		return vision.Face{}, "", err
	}
	note := ""
	if i, ok := dominant(faces); ok && len(faces) > 1 {
		note = fmt.Sprintf("%d faces: enrolled the largest (%d px wide, at %v), the others are at most half as wide",
			len(faces), faces[i].Width(), faces[i].Box)
		faces = faces[i : i+1]
	}
	f, err := s.checkFaces(p, faces)
	return f, note, err
}

// dominant is the index of a face dominantFactor times wider than all others.
func dominant(fs []vision.Face) (int, bool) {
	if len(fs) == 0 {
		return 0, false
	}
	big := 0
	for i, f := range fs {
		if f.Width() > fs[big].Width() {
			big = i
		}
	}
	for i, f := range fs {
		if i != big && dominantFactor*f.Width() > fs[big].Width() {
			return 0, false
		}
	}
	return big, true
}

func (s *Service) checkFaces(p Photo, faces []vision.Face) (vision.Face, error) {
	switch {
	case len(faces) == 0:
		return vision.Face{}, &vision.ImageError{Name: p.Name, Err: ErrNoFace,
			Hint: "use a well-lit, frontal photo where the face is at least 80 px wide"}
	case len(faces) > 1:
		return vision.Face{}, &vision.ImageError{Name: p.Name, Err: fmt.Errorf("%w: %d faces at %v", ErrManyFaces, len(faces), boxes(faces)),
			Hint: "use a photo of this person alone, or crop it"}
	}
	f, info := faces[0], s.Embedder.Info()
	if f.Width() < info.MinFaceWidth {
		return f, &vision.ImageError{Name: p.Name, Err: fmt.Errorf("%w: %d px wide, need %d", ErrFaceTooSmall, f.Width(), info.MinFaceWidth),
			Hint: "move closer or use a larger photo"}
	}
	if f.Sharpness < info.MinSharpness {
		return f, &vision.ImageError{Name: p.Name, Err: fmt.Errorf("%w: sharpness %.0f, need %.0f", ErrFaceBlurred, f.Sharpness, info.MinSharpness),
			Hint: "hold still and focus on the face"}
	}
	return f, nil
}

func boxes(fs []vision.Face) []image.Rectangle {
	out := make([]image.Rectangle, len(fs))
	for i, f := range fs {
		out[i] = f.Box
	}
	return out
}

// Enroll checks every photo and, only if all pass and nothing conflicts,
// stores the person and one template per photo. A face already within the
// match threshold of another person, or two photos of this person further
// apart than the model's stranger line, refuse the enrolment with a
// *ConflictError until an admin confirms it (EnrollConfirmed).
func (s *Service) Enroll(employeeID, name string, photos []Photo) (EnrollResult, error) {
	return s.EnrollConfirmed(employeeID, name, photos, nil)
}

// EnrollConfirmed is Enroll; with a confirmation, conflicts are stored
// anyway, listed in the result, and the confirmation is audited (who, why,
// which conflicts) in the evidence chain.
func (s *Service) EnrollConfirmed(employeeID, name string, photos []Photo, confirm *Confirmation) (EnrollResult, error) {
	var res EnrollResult
	if len(photos) == 0 {
		return res, errors.New("enroll: no photos given")
	}
	faces, err := s.checkAll(photos, &res)
	if err != nil {
		return res, fmt.Errorf("enroll %s: %w", employeeID, err)
	}
	existing, err := s.DB.PersonByEmployeeID(employeeID)
	if err != nil && !errors.Is(err, storage.ErrNotFound) {
		return res, err
	}
	res.Conflicts = s.conflicts(existing.ID, faces)
	if len(res.Conflicts) > 0 {
		if confirm == nil || strings.TrimSpace(confirm.Reason) == "" || confirm.By == "" {
			return res, &ConflictError{EmployeeID: employeeID, Conflicts: res.Conflicts}
		}
		if _, err := (&storage.Recorder{DB: s.DB, Keys: s.DB.Keys}).Audit(confirm.By, "enrolment_conflict_confirmed",
			map[string]any{"employee_id": employeeID, "reason": confirm.Reason, "conflicts": res.Conflicts}); err != nil {
			return res, err
		}
	}
	ts, err := s.templates(employeeID, faces)
	if err != nil {
		return res, err
	}
	p, err := s.DB.Enroll(employeeID, name, ts)
	if err != nil {
		return res, err
	}
	res.Person, res.Templates = p, len(ts)
	return res, s.Reload()
}

// checkAll checks every photo; any refusal refuses them all.
func (s *Service) checkAll(photos []Photo, res *EnrollResult) ([]checkedFace, error) {
	var faces []checkedFace
	var errs []error
	for _, p := range photos {
		f, note, err := s.checkPhoto(p)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if note != "" {
			res.Warnings = append(res.Warnings, Warning{Photo: p.Name, Message: note})
		}
		faces = append(faces, checkedFace{p, f})
	}
	if len(errs) > 0 {
		return nil, fmt.Errorf("nothing stored, %d of %d photos refused: %w", len(errs), len(photos), errors.Join(errs...))
	}
	return faces, nil
}

// templates stores each checked face's photo and builds its template.
func (s *Service) templates(employeeID string, faces []checkedFace) ([]storage.NewTemplate, error) {
	ts := make([]storage.NewTemplate, 0, len(faces))
	for _, cf := range faces {
		sum := sha256.Sum256(cf.photo.Data)
		photoHash := hex.EncodeToString(sum[:])
		if s.Photos.Dir != "" {
			jpg, err := vision.Reencode(cf.photo.Name, cf.photo.Data)
			if err != nil {
				return nil, err
			}
			if photoHash, err = s.Photos.Put(jpg); err != nil {
				return nil, fmt.Errorf("enroll %s: store enrolment photo: %w", employeeID, err)
			}
		}
		ts = append(ts, storage.NewTemplate{
			Descriptor:   cf.face.Descriptor,
			ModelVersion: s.Embedder.ModelVersion(),
			SourceName:   cf.photo.Name,
			PhotoSHA256:  photoHash,
			FaceWidth:    cf.face.Width(),
			Sharpness:    cf.face.Sharpness,
		})
	}
	return ts, nil
}

// Identified is one face in an identified photo.
type Identified struct {
	Box       image.Rectangle `json:"box"`
	Verdict   vision.Verdict  `json:"verdict"`
	Reason    string          `json:"reason"`
	Person    *PersonRef      `json:"person,omitempty"`
	Nearest   *PersonRef      `json:"nearest,omitempty"`
	Distance  *float64        `json:"distance,omitempty"`
	RunnerUp  *PersonRef      `json:"runner_up,omitempty"`
	RunnerUpD *float64        `json:"runner_up_distance,omitempty"`
	Sharpness float64         `json:"sharpness"`
}

// PersonRef names a person in output.
type PersonRef struct {
	ID         int64  `json:"id"`
	EmployeeID string `json:"employee_id"`
	Name       string `json:"name"`
}

// Identify finds every face in a photo and matches it.
func (s *Service) Identify(p Photo) ([]Identified, error) {
	faces, err := s.Embedder.Faces(p.Name, p.Data)
	if err != nil {
		return nil, err
	}
	var out []Identified
	var ids []int64
	matches := make([]vision.Match, len(faces))
	for i, f := range faces {
		matches[i] = s.gallery.Match(f.Descriptor)
		ids = append(ids, matches[i].PersonID, matches[i].RunnerUpID)
	}
	people, err := s.DB.People(ids)
	if err != nil {
		return nil, err
	}
	ref := func(id int64) *PersonRef {
		p, ok := people[id]
		if !ok {
			return nil
		}
		return &PersonRef{ID: p.ID, EmployeeID: p.EmployeeID, Name: p.Name}
	}
	for i, f := range faces {
		m := matches[i]
		v, why := s.rule().Decide(m)
		id := Identified{Box: f.Box, Verdict: v, Reason: why, Sharpness: f.Sharpness}
		if m.Found() {
			d := m.Distance
			id.Nearest, id.Distance = ref(m.PersonID), &d
		}
		if m.RunnerUpID != 0 {
			d := m.RunnerUpDistance
			id.RunnerUp, id.RunnerUpD = ref(m.RunnerUpID), &d
		}
		if v == vision.VerdictMatch {
			id.Person = id.Nearest
		}
		out = append(out, id)
	}
	return out, nil
}
