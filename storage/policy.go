package storage

import (
	"fmt"

	"gorm.io/gorm"
)

// Access-policy records. Package gate turns them into a gate.Policy; this
// package only stores them (schedule windows as their text form, e.g.
// "Mon-Fri 08:00-20:00", separated by ";").
type Area struct {
	Name         string `gorm:"primaryKey;size:64" json:"name"`
	AntiPassback bool   `json:"anti_passback"`
}

type Door struct {
	ID              string `gorm:"primaryKey;size:64" json:"id"`
	Name            string `gorm:"size:200;not null" json:"name"`
	Area            string `gorm:"size:64;not null" json:"area"`
	Direction       string `gorm:"size:8;not null" json:"direction"`
	OpenMillis      int64  `gorm:"not null" json:"open_ms"`
	HeldOpenSeconds int    `json:"held_open_s"`
	Level           string `gorm:"size:20;not null" json:"level"`
	PassageWindows  string `gorm:"size:500" json:"passage_windows"`
}

type Group struct {
	Name string `gorm:"primaryKey;size:100" json:"name"`
}

// AccessRule belongs to a group (GroupName) or to one person (PersonID).
type AccessRule struct {
	ID              int64  `gorm:"primaryKey" json:"id"`
	GroupName       string `gorm:"size:100;index" json:"group,omitempty"`
	PersonID        int64  `gorm:"index" json:"person_id,omitempty"`
	Name            string `gorm:"size:200;not null" json:"name"`
	Doors           string `gorm:"size:1000;not null" json:"doors"` // comma-separated door IDs
	ScheduleName    string `gorm:"size:200;not null" json:"schedule"`
	Windows         string `gorm:"size:1000;not null" json:"windows"`
	ValidFrom       string `gorm:"size:10" json:"valid_from,omitempty"` // YYYY-MM-DD
	ValidUntil      string `gorm:"size:10" json:"valid_until,omitempty"`
	ObserveHolidays bool   `json:"observe_holidays"`
}

type Holiday struct {
	Date string `gorm:"primaryKey;size:10" json:"date"` // YYYY-MM-DD
	Name string `gorm:"size:200" json:"name"`
}

type PersonGroup struct {
	PersonID  int64  `gorm:"primaryKey" json:"person_id"`
	GroupName string `gorm:"primaryKey;size:100" json:"group"`
}

// PolicyRecords is the whole stored access policy.
type PolicyRecords struct {
	Areas        []Area
	Doors        []Door
	Groups       []Group
	Rules        []AccessRule
	Holidays     []Holiday
	PersonGroups []PersonGroup
	People       []Person
}

// LoadPolicy reads every policy record.
func (db *DB) LoadPolicy() (PolicyRecords, error) {
	var p PolicyRecords
	for _, q := range []any{&p.Areas, &p.Doors, &p.Groups, &p.Rules, &p.Holidays, &p.PersonGroups, &p.People} {
		if err := db.g.Find(q).Error; err != nil {
			return p, fmt.Errorf("storage: load policy: %w", err)
		}
	}
	return p, nil
}

// SavePolicy replaces the stored policy in one transaction (people's
// group memberships and account status included) and records who did it.
func (r *Recorder) SavePolicy(p PolicyRecords, by string) error {
	err := r.DB.g.Transaction(func(tx *gorm.DB) error {
		for _, m := range []any{&PersonGroup{}, &AccessRule{}, &Holiday{}, &Group{}, &Door{}, &Area{}} {
			if err := tx.Session(&gorm.Session{AllowGlobalUpdate: true}).Delete(m).Error; err != nil {
				return err
			}
		}
		for _, rows := range []any{p.Areas, p.Doors, p.Groups, p.Rules, p.Holidays, p.PersonGroups} {
			if err := tx.Create(rows).Error; err != nil && err != gorm.ErrEmptySlice {
				return err
			}
		}
		for _, pe := range p.People {
			if err := tx.Model(&Person{}).Where("id = ?", pe.ID).
				Updates(map[string]any{"suspended_since": pe.SuspendedSince, "expires_at": pe.ExpiresAt}).Error; err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("storage: save policy: %w", err)
	}
	_, err = r.Audit(by, "policy_saved", map[string]any{"areas": len(p.Areas), "doors": len(p.Doors), "groups": len(p.Groups),
		"rules": len(p.Rules), "holidays": len(p.Holidays)})
	return err
}
