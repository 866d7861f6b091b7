package appliance

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strings"

	"github.com/facegate/facegate/storage"
	"github.com/facegate/facegate/vision"
)

// PipelineConfig is the pipeline's configuration for settings st on an
// embedder: the model's own (vision.NewPipelineConfig: its stranger line
// and defaults) with the stored settings over it. serve builds its
// pipeline with it at start and on every settings change, and `facegate
// bench` with the settings serve would have, so a bench figure is a figure
// of the product.
func PipelineConfig(info vision.ModelInfo, st storage.Settings) vision.PipelineConfig {
	c := vision.NewPipelineConfig(info)
	c.Rule = vision.Rule{Threshold: st.Threshold, MinMargin: st.Margin}
	c.Liveness = st.Liveness
	return c
}

// OpenDetector opens the per-frame detector named by --detector (lbp or
// fr_detect) from modelsDir: the one opener for serve and bench.
func OpenDetector(name, modelsDir string) (vision.FaceDetector, error) {
	switch name {
	case DetectorNet, "":
		return vision.NewNetDetector(modelsDir)
	case DetectorLBP:
		return vision.NewDetector("")
	}
	return nil, &ConfigError{"detector", fmt.Sprintf("%q: use %s or %s", name, DetectorLBP, DetectorNet)}
}

// SettingsInForce are the settings serve would put in force with cfg: the
// flags' defaults with the settings stored in cfg.DB over them, loaded and
// checked against the model's safe range exactly as serve loads them. A
// SQLite database that does not exist yet is not created: a fresh serve
// would run on the flags' settings, and so the result says. from names
// where they came from, for a report.
func SettingsInForce(cfg Config) (st storage.Settings, from string, err error) {
	if err := cfg.Validate(); err != nil {
		return st, "", err
	}
	def := cfg.defaultSettings()
	if !strings.HasPrefix(cfg.DB, "postgres://") && !strings.HasPrefix(cfg.DB, "postgresql://") {
		if _, err := os.Stat(cfg.DB); errors.Is(err, fs.ErrNotExist) {
			return def, "the flags (no database at " + cfg.DB + ")", nil
		}
	}
	db, err := storage.Open(cfg.DB, storage.Options{KeyDir: cfg.KeyDir, Now: cfg.Now})
	if err != nil {
		return st, "", err
	}
	defer db.Close()
	o := newSettingsOwner(db, nil, def, cfg.Log, func(storage.Settings) error { return nil })
	o.safe = safeRangeFor(cfg.Embedder)
	if err := o.Load(); err != nil {
		return def, "the flags (stored settings refused: " + err.Error() + ")", nil
	}
	return o.Settings(), "the flags and the settings stored in " + storage.RedactDSN(cfg.DB), nil
}
