package storage

import (
	"fmt"
	"strconv"

	"gorm.io/gorm"
)

// Setting is one stored row of Settings, a key and its text value.
type Setting struct {
	Key   string `gorm:"primaryKey;size:100"`
	Value string `gorm:"size:1000;not null"`
}

// Setting keys. Liveness is per door: "door.<id>.liveness".
const (
	settingThreshold   = "match.threshold"
	settingMargin      = "match.margin"
	settingRetainGrant = "retention.grant_snapshots_days"
	settingRetainDeny  = "retention.deny_snapshots_days"
	settingRetainEvent = "retention.events_days"
)

func livenessKey(door string) string { return "door." + door + ".liveness" }

// legacyRuleModel is the embedder whose rule the unqualified keys
// match.threshold and match.margin hold: the only one before descriptor
// models could be chosen. Distances of different models are not comparable
// (dlib: Euclidean, 0.50; faceplugin: cosine, 0.40), so every other model's
// rule is stored under its own name and a switch never applies a rule
// saved for another metric.
const legacyRuleModel = "dlib"

// ruleKeys are the keys of model's threshold and margin.
func ruleKeys(model string) (threshold, margin string) {
	if model == "" || model == legacyRuleModel {
		return settingThreshold, settingMargin
	}
	return "match." + model + ".threshold", "match." + model + ".margin"
}

// Settings are what an admin edits in the web app: the match rule, the
// liveness switch of one door and the retention periods. Command-line
// flags give the defaults until a value is saved.
type Settings struct {
	Model     string  // the descriptor model (embedder) whose rule Threshold and Margin are
	Threshold float64 // maximum descriptor distance of a match
	Margin    float64 // minimum distance gap to the runner-up
	Door      string  // the door whose liveness switch Liveness is
	Liveness  bool
	Retention RetentionPolicy
}

// SettingsError says which setting is wrong and why.
type SettingsError struct {
	Field   string // threshold, margin, retention
	Problem string
}

func (e *SettingsError) Error() string { return "settings: " + e.Field + ": " + e.Problem }

// Validate checks the ranges. The match bounds are those of vision.Rule
// (storage does not import vision, which needs cgo).
func (s Settings) Validate() error {
	if !(s.Threshold > 0 && s.Threshold <= 1.2) {
		return &SettingsError{"threshold", fmt.Sprintf("%.3f out of range (0, 1.2]", s.Threshold)}
	}
	if !(s.Margin >= 0 && s.Margin < s.Threshold) {
		return &SettingsError{"margin", fmt.Sprintf("%.3f out of range [0, threshold)", s.Margin)}
	}
	r := s.Retention
	if r.GrantSnapshotDays < 0 || r.DenySnapshotDays < 0 || r.EventDays < 0 {
		return &SettingsError{"retention", "days cannot be negative (0 keeps forever)"}
	}
	return nil
}

func (s Settings) rows() map[string]string {
	thKey, mgKey := ruleKeys(s.Model)
	kv := map[string]string{thKey: fmt.Sprint(s.Threshold), mgKey: fmt.Sprint(s.Margin),
		settingRetainGrant: strconv.Itoa(s.Retention.GrantSnapshotDays),
		settingRetainDeny:  strconv.Itoa(s.Retention.DenySnapshotDays),
		settingRetainEvent: strconv.Itoa(s.Retention.EventDays)}
	if s.Door != "" {
		kv[livenessKey(s.Door)] = strconv.FormatBool(s.Liveness)
	}
	return kv
}

// LoadSettings returns def with every stored value laid over it (def.Door
// picks the liveness switch). A stored value that does not parse keeps
// the default; the result is not validated, so the caller decides what
// to do with a stored rule that is out of range.
func (db *DB) LoadSettings(def Settings) (Settings, error) {
	var rows []Setting
	if err := db.g.Find(&rows).Error; err != nil {
		return def, fmt.Errorf("storage: settings: %w", err)
	}
	s := def
	thKey, mgKey := ruleKeys(def.Model)
	for _, r := range rows {
		switch r.Key {
		case thKey:
			parseFloat(r.Value, &s.Threshold)
		case mgKey:
			parseFloat(r.Value, &s.Margin)
		case settingRetainGrant:
			parseDays(r.Value, &s.Retention.GrantSnapshotDays)
		case settingRetainDeny:
			parseDays(r.Value, &s.Retention.DenySnapshotDays)
		case settingRetainEvent:
			parseDays(r.Value, &s.Retention.EventDays)
		case livenessKey(def.Door):
			s.Liveness = r.Value == "true"
		}
	}
	return s, nil
}

func parseFloat(v string, dst *float64) {
	if f, err := strconv.ParseFloat(v, 64); err == nil {
		*dst = f
	}
}

func parseDays(v string, dst *int) {
	if n, err := strconv.Atoi(v); err == nil && n >= 0 {
		*dst = n
	}
}

// SaveSettings validates and stores settings in one transaction and
// audits the change.
func (r *Recorder) SaveSettings(s Settings, by string) error {
	if err := s.Validate(); err != nil {
		return err
	}
	kv := s.rows()
	err := r.DB.g.Transaction(func(tx *gorm.DB) error {
		for k, v := range kv {
			if err := tx.Save(&Setting{Key: k, Value: v}).Error; err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("storage: save settings: %w", err)
	}
	_, err = r.Audit(by, "settings_saved", kv)
	return err
}
