package storage

import (
	"errors"
	"fmt"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"
)

// Document is a named piece of configuration too structured for a
// Setting row: JSON such as the alert rules. Its owner package parses and
// validates the body; storage keeps it and audits every change.
type Document struct {
	Key          string `gorm:"primaryKey;size:100"`
	Body         string `gorm:"type:text;not null"`
	UpdatedMicro int64  `gorm:"not null"`
	UpdatedBy    string `gorm:"size:200"`
}

// maxDocument bounds a document's body: configuration, not data.
const maxDocument = 1 << 20

// Document returns the body stored under key; found is false when none is.
func (db *DB) Document(key string) (body string, found bool, err error) {
	var d Document
	if err := db.g.Where("key = ?", key).Limit(1).Find(&d).Error; err != nil {
		return "", false, fmt.Errorf("storage: document %s: %w", key, err)
	}
	return d.Body, d.Key != "", nil
}

// SaveDocument stores body under key (replacing what was there) and
// audits the change in the evidence chain as action "document_saved".
func (r *Recorder) SaveDocument(key, body, by string) error {
	if key == "" || len(key) > 100 {
		return errors.New("storage: a document needs a key of 1 to 100 characters")
	}
	if len(body) > maxDocument {
		return fmt.Errorf("storage: document %s is %d bytes; the limit is %d", key, len(body), maxDocument)
	}
	d := Document{Key: key, Body: body, UpdatedMicro: r.DB.nowMicro(), UpdatedBy: by}
	err := r.DB.g.Clauses(clause.OnConflict{Columns: []clause.Column{{Name: "key"}},
		DoUpdates: clause.AssignmentColumns([]string{"body", "updated_micro", "updated_by"})}).Create(&d).Error
	if err != nil {
		return fmt.Errorf("storage: save document %s: %w", key, err)
	}
	_, err = r.Audit(by, "document_saved", map[string]any{"key": key, "bytes": len(body)})
	return err
}

// migrateDocuments is migration 12's step.
func migrateDocuments(tx *gorm.DB) error {
	type Document struct {
		Key          string `gorm:"primaryKey;size:100"`
		Body         string `gorm:"type:text;not null"`
		UpdatedMicro int64  `gorm:"not null"`
		UpdatedBy    string `gorm:"size:200"`
	}
	return tx.Migrator().CreateTable(&Document{})
}
