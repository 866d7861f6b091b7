package storage

import (
	"encoding/json"
)

// Audit records an admin action (who, what, details) in the chain.
func (r *Recorder) Audit(by, action string, detail any) (Event, error) {
	d, err := json.Marshal(detail)
	if err != nil {
		return Event{}, err
	}
	return r.DB.Append(Event{Kind: KindAdmin, Code: action, By: by, Detail: string(d), AtMicro: r.DB.nowMicro()})
}

// AuditLog lists admin audit entries, newest first.
func (db *DB) AuditLog(limit int) ([]Event, error) {
	var out []Event
	err := db.g.Where("kind = ?", KindAdmin).Order("seq DESC").Limit(limit).Find(&out).Error
	return out, err
}
