package storage

import (
	"fmt"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"
)

// DeliveryCursor is how far an outbound feed (the MQTT publisher) has
// delivered the evidence chain: every event up to Seq was acknowledged by
// its receiver. Reading on from Seq after a restart or an outage sends
// the backlog in order and loses nothing.
type DeliveryCursor struct {
	Name         string `gorm:"primaryKey;size:100"`
	Seq          int64  `gorm:"not null"`
	UpdatedMicro int64  `gorm:"not null"`
}

// Cursor returns the named feed's position; found is false for a feed
// that never saved one.
func (db *DB) Cursor(name string) (seq int64, found bool, err error) {
	var c DeliveryCursor
	if err := db.g.Where("name = ?", name).Limit(1).Find(&c).Error; err != nil {
		return 0, false, fmt.Errorf("storage: cursor %s: %w", name, err)
	}
	return c.Seq, c.Name != "", nil
}

// SaveCursor records that the named feed delivered every event up to seq.
func (db *DB) SaveCursor(name string, seq int64) error {
	c := DeliveryCursor{Name: name, Seq: seq, UpdatedMicro: db.nowMicro()}
	err := db.g.Clauses(clause.OnConflict{Columns: []clause.Column{{Name: "name"}},
		DoUpdates: clause.AssignmentColumns([]string{"seq", "updated_micro"})}).Create(&c).Error
	if err != nil {
		return fmt.Errorf("storage: save cursor %s: %w", name, err)
	}
	return nil
}

// migrateCursors is migration 10's step.
func migrateCursors(tx *gorm.DB) error {
	type DeliveryCursor struct {
		Name         string `gorm:"primaryKey;size:100"`
		Seq          int64  `gorm:"not null"`
		UpdatedMicro int64  `gorm:"not null"`
	}
	return tx.Migrator().CreateTable(&DeliveryCursor{})
}
