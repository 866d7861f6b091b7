package storage

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"strings"
	"time"

	"gorm.io/gorm"
)

// Stored descriptor formats (first byte): 1 = 128 little-endian float32
// in plain form (facegate before encryption at rest); 2 = format 1 sealed
// with AES-256-GCM under the template key, bound to its model version.
//
// Inside (plain or sealed) a descriptor is either format 1, exactly 128
// float32 (dlib, as older facegate wrote), or format 3, a uint16 length
// then that many float32, so the 512-D faceplugin templates store and seal
// like dlib's. (The "format 2" of the issue is numbered 3 here because the
// first byte 2 already means "sealed".) New descriptors are written as 3.
const (
	descriptorFormat    = 1
	descriptorSealed    = 2
	descriptorFormatLen = 3
)

// DescriptorLen is the length of a format-1 (dlib) descriptor.
const DescriptorLen = 128

// maxDescriptorLen bounds a format-3 length: the largest model is 512-D.
const maxDescriptorLen = 4096

// Person is someone who may be recognised.
type Person struct {
	ID             int64  `gorm:"primaryKey"`
	EmployeeID     string `gorm:"size:64;not null;uniqueIndex"`
	Name           string `gorm:"size:200;not null"`
	SuspendedSince *time.Time
	ExpiresAt      *time.Time
	CreatedAt      time.Time
	UpdatedAt      time.Time
}

// FaceTemplate is one enrolled face descriptor of a person.
type FaceTemplate struct {
	ID           int64 `gorm:"primaryKey"`
	PersonID     int64 `gorm:"not null;index"`
	Descriptor   []byte
	ModelVersion string
	SourceName   string
	PhotoSHA256  string
	FaceWidth    int
	Sharpness    float64
	CreatedAt    time.Time
}

// NewTemplate is a template to store, before it has an ID.
type NewTemplate struct {
	Descriptor   []float32
	ModelVersion string
	SourceName   string
	PhotoSHA256  string
	FaceWidth    int
	Sharpness    float64
}

// EncodeDescriptor serialises a descriptor of any length (format 3).
func EncodeDescriptor(d []float32) []byte {
	b := make([]byte, 3+4*len(d))
	b[0] = descriptorFormatLen
	binary.LittleEndian.PutUint16(b[1:], uint16(len(d)))
	for i, v := range d {
		binary.LittleEndian.PutUint32(b[3+4*i:], math.Float32bits(v))
	}
	return b
}

// DecodeDescriptor parses a stored descriptor of format 1 or 3.
func DecodeDescriptor(b []byte) ([]float32, error) {
	var n, off int
	switch {
	case len(b) == 1+4*DescriptorLen && b[0] == descriptorFormat:
		n, off = DescriptorLen, 1
	case len(b) >= 3 && b[0] == descriptorFormatLen:
		n, off = int(binary.LittleEndian.Uint16(b[1:])), 3
		if n == 0 || n > maxDescriptorLen || len(b) != 3+4*n {
			return nil, fmt.Errorf("storage: stored descriptor says %d values but holds %d bytes, want %d", n, len(b), 3+4*n)
		}
	default:
		return nil, fmt.Errorf("storage: stored descriptor has format %v and %d bytes, want format %d (%d bytes) or %d",
			first(b), len(b), descriptorFormat, 1+4*DescriptorLen, descriptorFormatLen)
	}
	d := make([]float32, n)
	for i := range d {
		d[i] = math.Float32frombits(binary.LittleEndian.Uint32(b[off+4*i:]))
	}
	return d, nil
}

func first(b []byte) any {
	if len(b) == 0 {
		return "none"
	}
	return b[0]
}

// ErrConflict is returned when an enrolment contradicts what is stored.
var ErrConflict = errors.New("conflict")

// Enroll stores a person (created if the employee ID is new) and their new
// templates in one transaction: either all of it is stored or none.
func (db *DB) Enroll(employeeID, name string, ts []NewTemplate) (Person, error) {
	employeeID, name = strings.TrimSpace(employeeID), strings.TrimSpace(name)
	var p Person
	if employeeID == "" || name == "" {
		return p, errors.New("storage: enrolment needs an employee ID and a name")
	}
	if len(ts) == 0 {
		return p, errors.New("storage: enrolment needs at least one face template")
	}
	err := db.g.Transaction(func(tx *gorm.DB) error {
		err := tx.Where("employee_id = ?", employeeID).First(&p).Error
		switch {
		case errors.Is(err, gorm.ErrRecordNotFound):
			p = Person{EmployeeID: employeeID, Name: name}
			if err := tx.Create(&p).Error; err != nil {
				return err
			}
		case err != nil:
			return err
		case p.Name != name:
			return fmt.Errorf("%w: employee ID %s belongs to %q, not %q", ErrConflict, employeeID, p.Name, name)
		}
		for _, t := range ts {
			blob, err := db.sealDescriptor(t.Descriptor, t.ModelVersion)
			if err != nil {
				return err
			}
			row := FaceTemplate{PersonID: p.ID, Descriptor: blob, ModelVersion: t.ModelVersion,
				SourceName: t.SourceName, PhotoSHA256: t.PhotoSHA256, FaceWidth: t.FaceWidth, Sharpness: t.Sharpness}
			if err := tx.Create(&row).Error; err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return p, fmt.Errorf("storage: enrol %s: %w", employeeID, err)
	}
	return p, nil
}

// StoredTemplate is a template with its decoded descriptor.
type StoredTemplate struct {
	ID         int64
	PersonID   int64
	Descriptor []float32
}

// Templates loads every template made by modelVersion. Templates of another
// model version are not comparable and are skipped; the count is returned.
func (db *DB) Templates(modelVersion string) ([]StoredTemplate, int, error) {
	var rows []FaceTemplate
	if err := db.g.Select("id", "person_id", "descriptor", "model_version").Find(&rows).Error; err != nil {
		return nil, 0, fmt.Errorf("storage: load templates: %w", err)
	}
	out := make([]StoredTemplate, 0, len(rows))
	skipped := 0
	for _, r := range rows {
		if r.ModelVersion != modelVersion {
			skipped++
			continue
		}
		d, err := db.openDescriptor(r.Descriptor, r.ModelVersion)
		if err != nil {
			return nil, skipped, fmt.Errorf("template %d: %w", r.ID, err)
		}
		out = append(out, StoredTemplate{ID: r.ID, PersonID: r.PersonID, Descriptor: d})
	}
	return out, skipped, nil
}

// People returns people by ID.
func (db *DB) People(ids []int64) (map[int64]Person, error) {
	out := map[int64]Person{}
	if len(ids) == 0 {
		return out, nil
	}
	var ps []Person
	if err := db.g.Where("id IN ?", ids).Find(&ps).Error; err != nil {
		return nil, fmt.Errorf("storage: load people: %w", err)
	}
	for _, p := range ps {
		out[p.ID] = p
	}
	return out, nil
}

// PersonByEmployeeID looks a person up.
func (db *DB) PersonByEmployeeID(id string) (Person, error) {
	var p Person
	err := db.g.Where("employee_id = ?", id).First(&p).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return p, fmt.Errorf("storage: employee %s: %w", id, ErrNotFound)
	}
	return p, err
}

// CountTemplates counts a person's templates.
func (db *DB) CountTemplates(personID int64) (int64, error) {
	var n int64
	err := db.g.Model(&FaceTemplate{}).Where("person_id = ?", personID).Count(&n).Error
	return n, err
}

func (db *DB) sealDescriptor(d []float32, model string) ([]byte, error) {
	if db.Keys == nil {
		return nil, errors.New("storage: no template key loaded")
	}
	sealed, err := db.Keys.sealTemplate(EncodeDescriptor(d), "facegate-template|"+model)
	if err != nil {
		return nil, err
	}
	return append([]byte{descriptorSealed}, sealed...), nil
}

func (db *DB) openDescriptor(b []byte, model string) ([]float32, error) {
	if len(b) > 0 && b[0] == descriptorSealed {
		if db.Keys == nil {
			return nil, errors.New("storage: no template key loaded")
		}
		plain, err := db.Keys.openTemplate(b[1:], "facegate-template|"+model)
		if err != nil {
			return nil, err
		}
		return DecodeDescriptor(plain)
	}
	return DecodeDescriptor(b)
}

// sealPlainTemplates upgrades format-1 (plain) templates in place.
func (db *DB) sealPlainTemplates() error {
	var rows []FaceTemplate
	if err := db.g.Select("id", "descriptor", "model_version").Find(&rows).Error; err != nil {
		return err
	}
	for _, r := range rows {
		if len(r.Descriptor) == 0 || (r.Descriptor[0] != descriptorFormat && r.Descriptor[0] != descriptorFormatLen) {
			continue
		}
		d, err := DecodeDescriptor(r.Descriptor)
		if err != nil {
			return fmt.Errorf("template %d: %w", r.ID, err)
		}
		blob, err := db.sealDescriptor(d, r.ModelVersion)
		if err != nil {
			return err
		}
		if err := db.g.Model(&FaceTemplate{}).Where("id = ?", r.ID).Update("descriptor", blob).Error; err != nil {
			return err
		}
	}
	return nil
}

// PersonRow is a person with their template count, for listings.
type PersonRow struct {
	Person
	Templates int64
}

// likeEscape makes user text safe inside a LIKE pattern.
func likeEscape(s string) string {
	return strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(s)
}

// SearchPeople finds people whose name or employee ID contains q.
func (db *DB) SearchPeople(q string, limit int) ([]PersonRow, error) {
	var ps []Person
	tx := db.g.Order("name").Limit(limit)
	if q = strings.TrimSpace(q); q != "" {
		pat := "%" + likeEscape(q) + "%"
		tx = tx.Where(`name LIKE ? ESCAPE '\' OR employee_id LIKE ? ESCAPE '\'`, pat, pat)
	}
	if err := tx.Find(&ps).Error; err != nil {
		return nil, fmt.Errorf("storage: search people: %w", err)
	}
	out := make([]PersonRow, len(ps))
	for i, p := range ps {
		n, _ := db.CountTemplates(p.ID)
		out[i] = PersonRow{p, n}
	}
	return out, nil
}

// SetSuspended suspends a person from since, or reinstates them (nil).
func (db *DB) SetSuspended(personID int64, since *time.Time) error {
	tx := db.g.Model(&Person{}).Where("id = ?", personID).Update("suspended_since", since)
	if tx.Error != nil {
		return tx.Error
	}
	if tx.RowsAffected == 0 {
		return fmt.Errorf("person %d: %w", personID, ErrNotFound)
	}
	return nil
}

// PersonByID looks a person up.
func (db *DB) PersonByID(id int64) (Person, error) {
	var p Person
	err := db.g.Where("id = ?", id).Limit(1).Find(&p).Error
	if err == nil && p.ID == 0 {
		err = fmt.Errorf("person %d: %w", id, ErrNotFound)
	}
	return p, err
}

// RenamePerson changes a person's name.
func (db *DB) RenamePerson(personID int64, name string) error {
	name = strings.TrimSpace(name)
	if name == "" || len(name) > 200 {
		return errors.New("storage: a name must be 1–200 characters")
	}
	tx := db.g.Model(&Person{}).Where("id = ?", personID).Update("name", name)
	if tx.Error == nil && tx.RowsAffected == 0 {
		return fmt.Errorf("person %d: %w", personID, ErrNotFound)
	}
	return tx.Error
}

// CountPeople counts enrolled people.
func (db *DB) CountPeople() (int64, error) {
	var n int64
	err := db.g.Model(&Person{}).Count(&n).Error
	return n, err
}

// PersonTemplates lists a person's templates (descriptors still sealed).
func (db *DB) PersonTemplates(personID int64) ([]FaceTemplate, error) {
	var ts []FaceTemplate
	err := db.g.Where("person_id = ?", personID).Order("id").Find(&ts).Error
	return ts, err
}

// TemplateSource is where a stored template came from: enough to re-derive
// it under another model from the kept enrolment photo.
type TemplateSource struct {
	ID           int64
	PersonID     int64
	ModelVersion string
	SourceName   string
	PhotoSHA256  string
}

// TemplateSources lists every stored template's origin, oldest first.
func (db *DB) TemplateSources() ([]TemplateSource, error) {
	var rows []FaceTemplate
	if err := db.g.Select("id", "person_id", "model_version", "source_name", "photo_sha256").Order("id").Find(&rows).Error; err != nil {
		return nil, fmt.Errorf("storage: load template sources: %w", err)
	}
	out := make([]TemplateSource, len(rows))
	for i, r := range rows {
		out[i] = TemplateSource{r.ID, r.PersonID, r.ModelVersion, r.SourceName, r.PhotoSHA256}
	}
	return out, nil
}

// ReplaceTemplates switches the gallery to model version to in ONE
// transaction: every template of another version is deleted, the new ones
// (per person, all of version to) are sealed and stored, and a
// KindModelSwitch event recording from → to and the counts is chained. A
// failure leaves the old templates untouched.
func (db *DB) ReplaceTemplates(from, to string, byPerson map[int64][]NewTemplate, by string) (Event, error) {
	var ev Event
	n := 0
	err := db.g.Transaction(func(tx *gorm.DB) error {
		if err := tx.Where("model_version <> ?", to).Delete(&FaceTemplate{}).Error; err != nil {
			return err
		}
		for pid, ts := range byPerson {
			for _, t := range ts {
				if t.ModelVersion != to {
					return fmt.Errorf("template for person %d has model %q, want %q", pid, t.ModelVersion, to)
				}
				blob, err := db.sealDescriptor(t.Descriptor, t.ModelVersion)
				if err != nil {
					return err
				}
				row := FaceTemplate{PersonID: pid, Descriptor: blob, ModelVersion: to, SourceName: t.SourceName,
					PhotoSHA256: t.PhotoSHA256, FaceWidth: t.FaceWidth, Sharpness: t.Sharpness}
				if err := tx.Create(&row).Error; err != nil {
					return err
				}
				n++
			}
		}
		detail := fmt.Sprintf(`{"from":%q,"to":%q,"people":%d,"templates":%d}`, from, to, len(byPerson), n)
		var err error
		ev, err = db.appendInTx(tx, Event{Kind: KindModelSwitch, ModelVersion: to, By: by, Detail: detail,
			Reason: fmt.Sprintf("descriptor model %s → %s: %d templates of %d people re-derived", from, to, n, len(byPerson))})
		return err
	})
	if err != nil {
		return ev, fmt.Errorf("storage: switch templates %s → %s: %w", from, to, err)
	}
	return ev, nil
}

// appendInTx chains e inside an open transaction, as appendOnce does in its
// own. (Kept here so the switch is one transaction; appendOnce could call it
// once storage's refactor lands.)
func (db *DB) appendInTx(tx *gorm.DB, e Event) (Event, error) {
	if db.dialect == "postgres" {
		if err := tx.Exec("SELECT pg_advisory_xact_lock(?)", chainLockID).Error; err != nil {
			return e, err
		}
	}
	if e.AtMicro == 0 {
		e.AtMicro = db.nowMicro()
	}
	var last Event
	if err := tx.Select("seq", "hash").Order("seq DESC").Limit(1).Find(&last).Error; err != nil {
		return e, err
	}
	e.Seq, e.PrevHash = last.Seq+1, GenesisHash
	if last.Seq > 0 {
		e.PrevHash = last.Hash
	}
	storable(&e)
	e.ContentHash = ComputeContentHash(e)
	e.Hash = ChainHash(e.Seq, e.PrevHash, e.ContentHash)
	return e, tx.Create(&e).Error
}
