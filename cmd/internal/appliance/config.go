package appliance

import (
	"fmt"
	"log/slog"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/facegate/facegate/gate"
	"github.com/facegate/facegate/gate/mqtt"
	"github.com/facegate/facegate/storage"
	"github.com/facegate/facegate/vision"
	"github.com/facegate/facegate/web"
)

// Config is everything the appliance needs. Zero values of the derived
// paths are filled by Validate.
type Config struct {
	DataDir   string // database, snapshots, keys, relay state and TLS live here
	DB        string // SQLite file path or postgres:// DSN
	ModelsDir string
	KeyDir    string
	Rule      vision.Rule // match rule until one is saved in the web app
	Embedder  string      // vision.EmbedderNames; empty = vision.DefaultEmbedderName
	Detector  string      // per-frame detector: "lbp" (cascade) or "fr_detect" (ONNX); empty = fr_detect

	DemoDir    string // shared test data: demo people enrolled on first start, demo clip as camera
	Source     string // camera; empty = first /dev/video*, else the demo clip
	Door       string // this appliance's door ID
	Relay      string // relay spec, see gate.OpenRelay; empty = sim:DATA_DIR/relay/state
	DoorSensor string // door contact spec, see gate.ParseSensor; empty = none
	OpenTime   time.Duration
	SiteTZ     string // IANA zone for schedules
	Level      gate.SecurityLevel
	Retention  storage.RetentionPolicy // until one is saved in the web app
	// Keypads are the PIN pads of a face+pin door: "evdev:/dev/input/…".
	Keypads []string
	Web     web.Options // TLSDir defaults to DATA_DIR/tls
	// MQTT is the broker to publish to (Broker empty: none); its Door is
	// taken from Door.
	MQTT mqtt.Options
	// Central is the site's central sync URL (empty: a door on its own);
	// Join the one-time token it is joined with; CentralStale how long
	// without an answer before the door says it is offline (central.go).
	// CentralCA, when set, is the PEM certificate the central's TLS
	// certificate must chain to (its self-signed one).
	Central, Join, CentralCA string
	CentralStale             time.Duration

	Log *slog.Logger
	// Now is the clock of the door controller, retention and the web app
	// (time.Now when nil).
	Now func() time.Time
	// CheckpointTick signs the chain head when it fires (nil: every
	// storage.CheckpointInterval); tests send on it.
	CheckpointTick <-chan time.Time
	// Keypad, when set, is one more PIN pad (tests inject one; the web
	// keypad is always added, keypad_web.go).
	Keypad gate.Keypad
	// ReloadEvery is how often enrolments and policy edits made by another
	// process are picked up (DefaultReloadEvery when zero).
	ReloadEvery time.Duration

	loc *time.Location // SiteTZ, resolved by Validate
}

// Per-frame detectors (Config.Detector). fr_detect is the default: on
// the demo clip it decides every face within 122 ms (p95; the cascade 219
// ms, waiting for a stranger's blurred frontal frames), and it finds faces
// the cascade misses (116 of 116 East-Asian photos against 96; turned faces
// in the audience), at 5.7 ms a frame against 5.8 (`facegate bench`).
const (
	DetectorLBP = "lbp"       // OpenCV's LBP frontal cascade
	DetectorNet = "fr_detect" // the faceplugin ONNX detector
)

// DefaultReloadEvery: another process (the CLI, another gate sharing a
// PostgreSQL log) sees its enrolment at the door within 5 s.
const DefaultReloadEvery = 5 * time.Second

// ConfigError names the setting (as its command-line flag) that is wrong.
type ConfigError struct {
	Flag    string
	Problem string
}

func (e *ConfigError) Error() string { return "--" + e.Flag + ": " + e.Problem }

// Validate fills derived defaults and checks every value; a wrong one is
// a *ConfigError.
func (c *Config) Validate() error {
	if c.DataDir == "" {
		return &ConfigError{"data-dir", "empty"}
	}
	c.fillDefaults()
	if err := c.Rule.Validate(); err != nil {
		return &ConfigError{"threshold", err.Error()}
	}
	loc, err := time.LoadLocation(c.SiteTZ)
	if err != nil {
		return &ConfigError{"site-tz", fmt.Sprintf("%q: %v", c.SiteTZ, err)}
	}
	c.loc = loc
	if err := c.singleDoor().Validate(); err != nil {
		return &ConfigError{"door", err.Error()}
	}
	if _, err := gate.ParseSensor(c.DoorSensor); err != nil {
		return &ConfigError{"door-sensor", err.Error()}
	}
	r := c.Retention
	if r.GrantSnapshotDays < 0 || r.DenySnapshotDays < 0 || r.EventDays < 0 {
		return &ConfigError{"retain-events-days", "retention days cannot be negative (0 keeps forever)"}
	}
	if !slices.Contains(vision.EmbedderNames, c.Embedder) {
		return &ConfigError{"embedder", fmt.Sprintf("%q: use one of %s", c.Embedder, strings.Join(vision.EmbedderNames, ", "))}
	}
	for _, k := range c.Keypads {
		if !strings.HasPrefix(k, "evdev:") {
			return &ConfigError{"keypad", fmt.Sprintf("%q: use evdev:/dev/input/by-id/…-event-kbd", k)}
		}
	}
	if c.Detector != DetectorLBP && c.Detector != DetectorNet {
		return &ConfigError{"detector", fmt.Sprintf("%q: use %s or %s", c.Detector, DetectorLBP, DetectorNet)}
	}
	if err := c.validateCentral(); err != nil {
		return err
	}
	if c.Source == "" {
		return &ConfigError{"source", "no camera found; pass --source (device, URL, file or folder) or --demo-dir"}
	}
	return nil
}

func (c *Config) fillDefaults() {
	def := func(v *string, d string) {
		if *v == "" {
			*v = d
		}
	}
	def(&c.DB, filepath.Join(c.DataDir, "facegate.db"))
	def(&c.ModelsDir, filepath.Join(c.DataDir, "models"))
	def(&c.KeyDir, filepath.Join(c.DataDir, "keys"))
	def(&c.Relay, "sim:"+filepath.Join(c.DataDir, "relay", "state"))
	def(&c.Web.TLSDir, filepath.Join(c.DataDir, "tls"))
	def(&c.SiteTZ, "Local")
	def(&c.Door, "front")
	def(&c.Embedder, vision.DefaultEmbedderName)
	def(&c.Detector, DetectorNet)
	if c.Level == "" {
		c.Level = gate.LevelFace
	}
	if c.Source == "" {
		if devs, _ := filepath.Glob("/dev/video*"); len(devs) > 0 {
			c.Source = devs[0]
		} else if c.DemoDir != "" {
			c.Source = filepath.Join(c.DemoDir, "video", "short_hamilton_clip.mp4")
		}
	}
	if c.Log == nil {
		c.Log = slog.New(slog.DiscardHandler)
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.ReloadEvery <= 0 {
		c.ReloadEvery = DefaultReloadEvery
	}
}

// singleDoor is the policy in force until doors are stored.
func (c *Config) singleDoor() *gate.Policy {
	return gate.SingleDoorPolicy(c.Door, c.loc, c.OpenTime, c.Level)
}

// defaultSettings are the settings the flags give.
func (c *Config) defaultSettings() storage.Settings {
	return storage.Settings{Model: c.Embedder, Threshold: c.Rule.Threshold, Margin: c.Rule.MinMargin, Door: c.Door,
		Liveness: c.Level == gate.LevelFaceLiveness, Retention: c.Retention}
}

// Snapshots is the evidence store under the data directory.
func (c *Config) Snapshots() storage.SnapshotStore {
	return storage.SnapshotStore{Dir: filepath.Join(c.DataDir, "snapshots")}
}
