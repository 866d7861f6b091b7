package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/facegate/facegate/cmd/internal/appliance"
	"github.com/facegate/facegate/storage"
	"github.com/facegate/facegate/vision"
)

// envPrefix makes a flag's environment twin: --models-dir → FACEGATE_MODELS_DIR.
const envPrefix = "FACEGATE_"

// Config is what every command shares. Zero values are filled by defaults().
type Config struct {
	DataDir   string  // where the database, snapshots and keys live
	DB        string  // SQLite file path or postgres:// DSN
	ModelsDir string  // prepared model directory
	KeyDir    string  // appliance keys, outside the database
	Embedder  string  // vision.EmbedderNames; default vision.DefaultEmbedderName
	Detector  string  // per-frame detector: "lbp" (cascade) or "fr_detect"
	Threshold float64 // 0: the embedder's calibrated threshold (vision.DefaultRuleFor)
	Margin    float64 // 0: the embedder's calibrated margin
	LogLevel  string
}

func defaultConfig() Config {
	return Config{DataDir: "./data", Embedder: vision.DefaultEmbedderName, Detector: appliance.DetectorNet, LogLevel: "info"}
}

// newFlags is a command's flag set with the shared flags registered.
func newFlags(name string) (*Config, *flag.FlagSet) {
	cfg := defaultConfig()
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	cfg.register(fs)
	return &cfg, fs
}

func (c *Config) register(fs *flag.FlagSet) {
	fs.StringVar(&c.DataDir, "data-dir", c.DataDir, "data directory")
	fs.StringVar(&c.DB, "db", c.DB, "database: SQLite file path or postgres:// DSN (default DATA_DIR/facegate.db)")
	fs.StringVar(&c.ModelsDir, "models-dir", c.ModelsDir, "model directory (default DATA_DIR/models)")
	fs.StringVar(&c.KeyDir, "key-dir", c.KeyDir, "appliance keys: checkpoint signing and template encryption (default DATA_DIR/keys)")
	fs.StringVar(&c.Embedder, "embedder", c.Embedder, "face embedder: "+strings.Join(vision.EmbedderNames, " or "))
	fs.StringVar(&c.Detector, "detector", c.Detector, "per-frame face detector: lbp (OpenCV cascade) or fr_detect (ONNX)")
	fs.Float64Var(&c.Threshold, "threshold", c.Threshold, "maximum descriptor distance for a match, in the embedder's metric (0: its calibrated default)")
	fs.Float64Var(&c.Margin, "margin", c.Margin, "minimum distance gap between the best and the runner-up person (0: the embedder's default)")
	fs.StringVar(&c.LogLevel, "log-level", c.LogLevel, "debug, info, warn or error")
}

// Validate fills derived defaults and checks values.
func (c *Config) Validate() error {
	if c.DataDir == "" {
		return errors.New("config: --data-dir is empty")
	}
	if c.DB == "" {
		c.DB = filepath.Join(c.DataDir, "facegate.db")
	}
	if c.ModelsDir == "" {
		c.ModelsDir = filepath.Join(c.DataDir, "models")
	}
	if c.KeyDir == "" {
		c.KeyDir = filepath.Join(c.DataDir, "keys")
	}
	if !slices.Contains(vision.EmbedderNames, c.Embedder) {
		return fmt.Errorf("config: --embedder %q: use one of %s", c.Embedder, strings.Join(vision.EmbedderNames, ", "))
	}
	if c.Detector != appliance.DetectorLBP && c.Detector != appliance.DetectorNet {
		return fmt.Errorf("config: --detector %q: use lbp or fr_detect", c.Detector)
	}
	if err := c.Rule().Validate(); err != nil {
		return fmt.Errorf("config: %w", err)
	}
	if _, err := parseLevel(c.LogLevel); err != nil {
		return err
	}
	return nil
}

// Snapshots is the evidence store under the data directory.
func (c *Config) Snapshots() storage.SnapshotStore {
	return storage.SnapshotStore{Dir: filepath.Join(c.DataDir, "snapshots")}
}

// Rule is the match rule the config describes. Unset values take the embedder's calibrated default.
func (c *Config) Rule() vision.Rule {
	r := vision.DefaultRuleFor(c.Embedder)
	if c.Threshold != 0 {
		r.Threshold = c.Threshold
	}
	if c.Margin != 0 {
		r.MinMargin = c.Margin
	}
	return r
}

func parseLevel(s string) (slog.Level, error) {
	var l slog.Level
	if err := l.UnmarshalText([]byte(s)); err != nil {
		return l, fmt.Errorf("config: log level %q: want debug, info, warn or error", s)
	}
	return l, nil
}

func (c *Config) logger(w io.Writer) *slog.Logger {
	l, _ := parseLevel(c.LogLevel)
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: l}))
}

// parseArgs is parseFlags that also accepts flags after positional
// arguments (`identify photo.jpg --json`) and returns the positionals.
// A lone "--" ends flag parsing.
func parseArgs(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	rest := args
	for {
		if err := fs.Parse(rest); err != nil {
			return nil, wrapParseErr(fs, err)
		}
		if fs.NArg() == 0 {
			break
		}
		// fs.Parse stops at the first positional or after "--".
		consumed := len(rest) - fs.NArg()
		if consumed > 0 && rest[consumed-1] == "--" {
			pos = append(pos, fs.Args()...)
			break
		}
		pos = append(pos, fs.Arg(0))
		rest = fs.Args()[1:]
	}
	return pos, applyEnv(fs)
}

func wrapParseErr(fs *flag.FlagSet, err error) error {
	if errors.Is(err, flag.ErrHelp) {
		fs.SetOutput(os.Stderr)
		fs.PrintDefaults()
		return err
	}
	return usageError{err.Error()}
}

// parseFlags parses args, then fills every flag not given on the command
// line from its FACEGATE_ environment twin.
func parseFlags(fs *flag.FlagSet, args []string) error {
	fs.SetOutput(io.Discard)
	if err := fs.Parse(args); err != nil {
		return wrapParseErr(fs, err)
	}
	return applyEnv(fs)
}

// applyEnv sets every flag not given on the command line from its
// FACEGATE_ environment twin.
func applyEnv(fs *flag.FlagSet) error {
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	var err error
	fs.VisitAll(func(f *flag.Flag) {
		if set[f.Name] || err != nil {
			return
		}
		env := envName(f.Name)
		if v, ok := os.LookupEnv(env); ok {
			if e := fs.Set(f.Name, v); e != nil {
				err = usageError{fmt.Sprintf("%s=%q: %v", env, v, e)}
			}
		}
	})
	return err
}

func envName(flagName string) string {
	return envPrefix + strings.ToUpper(strings.ReplaceAll(flagName, "-", "_"))
}
