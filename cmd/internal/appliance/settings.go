package appliance

import (
	"errors"
	"fmt"
	"log/slog"
	"sync"

	"github.com/facegate/facegate/storage"
	"github.com/facegate/facegate/web"
)

// settingsOwner owns the settings in force: it loads the stored ones over
// the flags' defaults, saves edits from the web app, and applies them.
// It implements web.SettingsOwner.
type settingsOwner struct {
	db       *storage.DB
	recorder *storage.Recorder
	defaults storage.Settings
	log      *slog.Logger
	// apply puts settings in force (match rule, liveness, retention); an
	// error refuses them and keeps the previous ones.
	apply func(storage.Settings) error
	// safe is the active model's calibrated range (vision.Calibration):
	// a saved rule must keep to it. Nil: no calibration, no such check.
	safe *web.SafeRange

	mu  sync.Mutex
	cur storage.Settings
}

func newSettingsOwner(db *storage.DB, rec *storage.Recorder, defaults storage.Settings, log *slog.Logger,
	apply func(storage.Settings) error) *settingsOwner {
	return &settingsOwner{db: db, recorder: rec, defaults: defaults, log: log, apply: apply, cur: defaults}
}

// Settings are the settings in force.
func (o *settingsOwner) Settings() storage.Settings {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.cur
}

// Load applies the stored settings (over the defaults). Stored settings
// that do not validate are refused, logged, and the previous ones kept. A
// stored threshold above the model's safe maximum (saved before the range
// was enforced, like issue 15's 1.2) gives way to the flags' rule, logged:
// it would accept strangers. A stored margin under the minimum is kept
// (it risks swaps between enrolled people, not strangers) and saving it
// again is refused.
func (o *settingsOwner) Load() error {
	st, err := o.db.LoadSettings(o.defaults)
	if err != nil {
		return err
	}
	if o.safe != nil && st.Threshold != o.defaults.Threshold {
		var re *web.RangeError
		if err := o.safe.Check(st.Model, st.Threshold, st.Margin); errors.As(err, &re) && re.Field == "threshold" {
			o.log.Error("stored match rule refused; the flags' rule is in force (save a rule in the range on the settings page)", "err", err)
			st.Threshold, st.Margin = o.defaults.Threshold, o.defaults.Margin
		}
	}
	return o.put(st)
}

// SaveSettings validates, stores (audited) and applies settings. A changed
// rule outside the model's calibrated range is refused with a *web.RangeError
// naming the range (issue 15: threshold 1.2 with margin 0 was saved, and
// a stranger at 0.827 then matched).
func (o *settingsOwner) SaveSettings(st storage.Settings, by string) error {
	st.Door, st.Model = o.defaults.Door, o.defaults.Model // both are the appliance's, not the form's
	if err := st.Validate(); err != nil {
		return err
	}
	// Only a rule being changed must keep to the range: the one in force may
	// lie outside it (dlib's default 0.50/0.06 does, on East-Asian faces),
	// and that must not block saving retention or liveness; the settings
	// page warns about it instead.
	cur := o.Settings()
	changed := st.Threshold != cur.Threshold || st.Margin != cur.Margin
	if o.safe != nil && changed {
		if err := o.safe.Check(st.Model, st.Threshold, st.Margin); err != nil {
			return err
		}
	}
	if err := o.recorder.SaveSettings(st, by); err != nil {
		return err
	}
	return o.put(st)
}

func (o *settingsOwner) put(st storage.Settings) error {
	o.mu.Lock()
	defer o.mu.Unlock()
	err := st.Validate()
	if err == nil {
		err = o.apply(st)
	}
	if err != nil {
		o.log.Error("stored settings refused; keeping the previous ones", "err", err)
		return err
	}
	if o.cur != st {
		o.log.Info("settings applied", "threshold", st.Threshold, "margin", st.Margin, "liveness", st.Liveness,
			"retention", fmt.Sprintf("%d/%d/%d", st.Retention.GrantSnapshotDays, st.Retention.DenySnapshotDays, st.Retention.EventDays))
	}
	o.cur = st
	return nil
}
