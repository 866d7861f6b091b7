package storage

import (
	"fmt"
	"time"
)

// LastPassages returns, for every person and area, the newest granted
// passage through an "in" or "out" door before upTo, oldest first. Who is
// inside now is whoever's last passage was "in", however long ago: the
// presence page's period filter must not hide them. One grouped index
// scan rather than the whole history in Go.
func (db *DB) LastPassages(upTo time.Time) ([]Event, error) {
	newest := db.g.Model(&Event{}).Select("MAX(seq)").
		Where("granted = ? AND person_id <> 0 AND direction IN ? AND at_micro < ?", true, []string{"in", "out"}, upTo.UnixMicro()).
		Group("person_id, area")
	var out []Event
	if err := db.g.Where("seq IN (?)", newest).Order("at_micro, seq").Find(&out).Error; err != nil {
		return nil, fmt.Errorf("storage: last passages: %w", err)
	}
	return out, nil
}
