package alert

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/mail"
	"os"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/facegate/facegate/gate"
)

// DocumentKey is the storage document holding the alert configuration.
const DocumentKey = "alerts"

// Rule kinds (a rule's "kind"; an alert event's Code).
const (
	KindOutsideHours = "outside_usual_hours" // a grant outside the person's usual hours
	KindUnknownFace  = "unknown_face"        // an unknown face was denied
	KindHeldOpen     = "door_held_open"      // the door stayed open past its time
	KindTailgating   = "tailgating"          // two faces passed on one grant
	KindDenials      = "denials"             // Count denials within Seconds at one door
)

// Kinds lists the rule kinds in the order the README documents them.
var Kinds = []string{KindOutsideHours, KindUnknownFace, KindHeldOpen, KindTailgating, KindDenials}

// Languages of the e-mails and the digest.
var Languages = []string{"en", "ja"}

// PasswordEnv is the environment variable read for the SMTP password when
// smtp.password_file is not set.
const PasswordEnv = "FACEGATE_SMTP_PASSWORD"

// DefaultSiteHours is the usual-hours window of a person with too few
// entries to learn from, when site_hours is not set.
var DefaultSiteHours = []string{"Mon-Fri 07:00-20:00"}

// Config is the alert configuration (storage document "alerts", JSON).
type Config struct {
	Language  string   `json:"language"`             // "en" (default) or "ja": e-mails and digest
	SiteHours []string `json:"site_hours,omitempty"` // gate.ParseWindow syntax; default DefaultSiteHours
	To        []string `json:"to,omitempty"`         // recipients of rules without their own
	SMTP      *SMTP    `json:"smtp,omitempty"`       // nil: alerts are events only (webhook, MQTT)
	Digest    *Digest  `json:"digest,omitempty"`     // nil: no daily digest
	Rules     []Rule   `json:"rules"`

	siteHours []gate.Window
}

// Rule is one alert rule.
type Rule struct {
	Name  string   `json:"name"`
	Kind  string   `json:"kind"`
	Doors []string `json:"doors,omitempty"` // empty: every door
	To    []string `json:"to,omitempty"`    // empty: Config.To
	// Count and Seconds are the denials rule's threshold: Count denials
	// at one door within Seconds.
	Count   int `json:"count,omitempty"`
	Seconds int `json:"seconds,omitempty"`
}

// SMTP is the mail server alerts and the digest go through. The password
// is never part of the document (it is shown by `alert show` and audited):
// it is read from PasswordFile, else from $FACEGATE_SMTP_PASSWORD.
type SMTP struct {
	Server       string `json:"server"`                  // host:port, e.g. mail.example.org:587
	TLS          string `json:"tls,omitempty"`           // "starttls" (default) or "tls" (implicit, port 465)
	From         string `json:"from"`                    // envelope and header sender
	Username     string `json:"username,omitempty"`      // empty: no authentication
	PasswordFile string `json:"password_file,omitempty"` // one line
	CAFile       string `json:"ca_file,omitempty"`       // PEM CA of the server (default: the system's roots)
}

// Digest is the daily summary mail.
type Digest struct {
	At string   `json:"at"` // local time HH:MM at which yesterday's digest is sent
	To []string `json:"to"`
	// Door, when set, is the one gate that sends the digest (gates sharing
	// a PostgreSQL log would otherwise each send it).
	Door string `json:"door,omitempty"`

	at gate.Clock
}

// Parse reads and validates a configuration; the error says what to fix.
func Parse(body []byte) (*Config, error) {
	var c Config
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&c); err != nil {
		if strings.Contains(err.Error(), `unknown field "password"`) {
			return nil, errors.New("alerts: smtp.password is not allowed in the configuration (it is shown and audited): use smtp.password_file or $" + PasswordEnv)
		}
		return nil, fmt.Errorf("alerts: not a valid configuration: %w (see README, Alerts)", err)
	}
	if err := c.Validate(); err != nil {
		return nil, err
	}
	return &c, nil
}

// Validate checks every field and resolves the windows and times.
func (c *Config) Validate() error {
	if c.Language == "" {
		c.Language = "en"
	}
	if !slices.Contains(Languages, c.Language) {
		return fmt.Errorf("alerts: language %q: use en or ja", c.Language)
	}
	hours := c.SiteHours
	if len(hours) == 0 {
		hours = DefaultSiteHours
	}
	c.siteHours = nil
	for _, h := range hours {
		w, err := gate.ParseWindow(h)
		if err != nil {
			return fmt.Errorf("alerts: site_hours: %w", err)
		}
		c.siteHours = append(c.siteHours, w)
	}
	if err := checkAddresses("to", c.To); err != nil {
		return err
	}
	if err := c.validateRules(); err != nil {
		return err
	}
	if err := c.validateSMTP(); err != nil {
		return err
	}
	return c.validateDigest()
}

func (c *Config) validateRules() error {
	var names []string
	for i, r := range c.Rules {
		where := fmt.Sprintf("alerts: rules[%d]", i)
		if r.Name == "" {
			return errors.New(where + ": needs a name (it is shown in every alert)")
		}
		if utf8.RuneCountInString(r.Name) > 100 {
			return errors.New(where + ": name longer than 100 characters")
		}
		where += " (" + r.Name + ")"
		if slices.Contains(names, r.Name) {
			return errors.New(where + ": two rules have this name; names must be unique")
		}
		names = append(names, r.Name)
		if !slices.Contains(Kinds, r.Kind) {
			return fmt.Errorf("%s: kind %q: use one of %s", where, r.Kind, strings.Join(Kinds, ", "))
		}
		if r.Kind == KindDenials && (r.Count < 2 || r.Count > 1000 || r.Seconds < 1 || r.Seconds > 86400) {
			return errors.New(where + ": a denials rule needs count (2–1000) and seconds (1–86400), e.g. \"count\": 3, \"seconds\": 60")
		}
		if r.Kind != KindDenials && (r.Count != 0 || r.Seconds != 0) {
			return errors.New(where + ": count and seconds belong to denials rules only")
		}
		if err := checkAddresses(where+": to", r.To); err != nil {
			return err
		}
		if len(r.To) == 0 && len(c.To) == 0 && c.SMTP != nil {
			return errors.New(where + ": no recipients: give the rule a \"to\" list or set a top-level \"to\"")
		}
	}
	return nil
}

func (c *Config) validateSMTP() error {
	s := c.SMTP
	if s == nil {
		if c.Digest != nil {
			return errors.New("alerts: digest needs an smtp server to send it")
		}
		return nil
	}
	if s.TLS == "" {
		s.TLS = "starttls"
	}
	if s.TLS != "starttls" && s.TLS != "tls" {
		return fmt.Errorf("alerts: smtp.tls %q: use starttls (port 587) or tls (port 465); plain SMTP is not supported", s.TLS)
	}
	if _, port, err := net.SplitHostPort(s.Server); err != nil || port == "" {
		return fmt.Errorf("alerts: smtp.server %q: want host:port, e.g. mail.example.org:587", s.Server)
	}
	if _, err := mail.ParseAddress(s.From); err != nil {
		return fmt.Errorf("alerts: smtp.from %q: not an e-mail address", s.From)
	}
	if s.PasswordFile != "" && s.Username == "" {
		return errors.New("alerts: smtp.password_file needs smtp.username")
	}
	return nil
}

func (c *Config) validateDigest() error {
	d := c.Digest
	if d == nil {
		return nil
	}
	at, err := gate.ParseClock(d.At)
	if err != nil || at >= 24*60 {
		return fmt.Errorf("alerts: digest.at %q: want the local time HH:MM (00:00–23:59) to send yesterday's digest", d.At)
	}
	d.at = at
	if len(d.To) == 0 {
		return errors.New("alerts: digest.to: who receives the digest? (a list of e-mail addresses)")
	}
	return checkAddresses("digest.to", d.To)
}

func checkAddresses(where string, to []string) error {
	for _, a := range to {
		if addr, err := mail.ParseAddress(a); err != nil || addr.Name != "" {
			return fmt.Errorf("%s: %q is not a plain e-mail address (write name@example.org)", where, a)
		}
	}
	return nil
}

// Recipients are the addresses mails of rule name go to (Config.To for a
// rule without its own, or one no longer configured).
func (c *Config) Recipients(name string) []string {
	for _, r := range c.Rules {
		if r.Name == name && len(r.To) > 0 {
			return r.To
		}
	}
	return c.To
}

// Password is the SMTP password: the first line of password_file, else
// $FACEGATE_SMTP_PASSWORD. Read at each use, so a changed file applies.
func (s *SMTP) Password() (string, error) {
	if s.PasswordFile == "" {
		return os.Getenv(PasswordEnv), nil
	}
	b, err := os.ReadFile(s.PasswordFile)
	if err != nil {
		return "", fmt.Errorf("alerts: smtp.password_file: %w", err)
	}
	pw, _, _ := strings.Cut(string(b), "\n")
	pw = strings.TrimRight(pw, "\r")
	if pw == "" {
		return "", fmt.Errorf("alerts: smtp.password_file %s is empty", s.PasswordFile)
	}
	return pw, nil
}

// Example is a configuration to start from (`facegate alert show` prints
// it when none is stored).
const Example = `{
  "language": "en",
  "site_hours": ["Mon-Fri 07:00-20:00"],
  "to": ["security@example.org"],
  "smtp": {"server": "mail.example.org:587", "from": "facegate@example.org",
           "username": "facegate", "password_file": "/etc/facegate/smtp.pw"},
  "digest": {"at": "07:30", "to": ["admin@example.org"]},
  "rules": [
    {"name": "server room out of hours", "kind": "outside_usual_hours", "doors": ["server-room"]},
    {"name": "stranger at the front", "kind": "unknown_face", "doors": ["front"]},
    {"name": "door held open", "kind": "door_held_open"},
    {"name": "tailgating", "kind": "tailgating"},
    {"name": "PIN or face guessing", "kind": "denials", "count": 3, "seconds": 60}
  ]
}
`
