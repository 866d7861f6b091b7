package storage

import "fmt"

// TemplateStamp changes whenever templates are added or removed: the
// count and the highest ID. Serve compares stamps to reload the gallery
// only when another process enrolled or erased someone.
type TemplateStamp struct{ N, MaxID int64 }

// TemplateStamp is the current stamp of the face templates.
func (db *DB) TemplateStamp() (TemplateStamp, error) {
	var st TemplateStamp
	err := db.g.Model(&FaceTemplate{}).Select("COUNT(*) AS n, COALESCE(MAX(id), 0) AS max_id").Scan(&st).Error
	if err != nil {
		return st, fmt.Errorf("storage: template stamp: %w", err)
	}
	return st, nil
}
