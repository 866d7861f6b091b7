package storage

import (
	"errors"
	"fmt"

	"gorm.io/gorm"
)

// PhotoHashes lists the enrolment photo hash of each of the people's
// templates, in enrolment order (the hash of the kept JPEG when the photo
// was kept, else of the upload: look it up in the snapshot store).
func (db *DB) PhotoHashes(personIDs []int64) (map[int64][]string, error) {
	var rows []FaceTemplate
	if err := db.g.Select("person_id", "photo_sha256").Where("person_id IN ?", personIDs).Order("id").Find(&rows).Error; err != nil {
		return nil, fmt.Errorf("storage: photo hashes: %w", err)
	}
	out := map[int64][]string{}
	for _, r := range rows {
		out[r.PersonID] = append(out[r.PersonID], r.PhotoSHA256)
	}
	return out, nil
}

// IsEnrolmentPhoto reports whether hash is the photo of a stored template:
// the people page serves those, and no other snapshot, by hash.
func (db *DB) IsEnrolmentPhoto(hash string) (bool, error) {
	var n int64
	if err := db.g.Model(&FaceTemplate{}).Where("photo_sha256 = ?", hash).Count(&n).Error; err != nil {
		return false, fmt.Errorf("storage: enrolment photo: %w", err)
	}
	return n > 0, nil
}

// ErrLastTemplate refuses to remove a person's only template: they could
// no longer be recognised. Erase the person instead.
var ErrLastTemplate = errors.New("storage: this is the person's only enrolment photo; enrol another first, or erase the person")

// RemoveTemplate deletes one of a person's templates (one enrolment photo
// under one model) and audits it as "template_removed". It refuses the
// person's last template (ErrLastTemplate). The removed row is returned
// so the caller can delete the photo when no other template keeps it
// (PhotoHashes).
func (r *Recorder) RemoveTemplate(personID, templateID int64, by string) (FaceTemplate, error) {
	var t FaceTemplate
	err := r.DB.g.Transaction(func(tx *gorm.DB) error {
		if err := tx.Where("id = ? AND person_id = ?", templateID, personID).First(&t).Error; err != nil {
			if errors.Is(err, gorm.ErrRecordNotFound) {
				return fmt.Errorf("storage: person %d has no template %d", personID, templateID)
			}
			return err
		}
		var n int64
		if err := tx.Model(&FaceTemplate{}).Where("person_id = ?", personID).Count(&n).Error; err != nil {
			return err
		}
		if n <= 1 {
			return ErrLastTemplate
		}
		return tx.Delete(&FaceTemplate{}, templateID).Error
	})
	if err != nil {
		return t, err
	}
	_, err = r.Audit(by, "template_removed", map[string]any{"person_id": personID, "template_id": templateID,
		"photo_sha256": t.PhotoSHA256, "model": t.ModelVersion})
	return t, err
}
