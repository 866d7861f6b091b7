package storage

import "fmt"

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
