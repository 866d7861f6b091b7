package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/netip"
	"os"
	"strings"
	"time"

	"github.com/facegate/facegate/cmd/internal/appliance"
	"github.com/facegate/facegate/gate"
	"github.com/facegate/facegate/gate/mqtt"
)

// serveFlags registers serve's flags on fs; the returned function builds
// the appliance's Config once fs is parsed.
func serveFlags(fs *flag.FlagSet) func(stderr io.Writer) (appliance.Config, error) {
	cfg := defaultConfig()
	cfg.register(fs)
	var ac appliance.Config
	fs.StringVar(&ac.DemoDir, "demo-dir", "", "shared test data: enrol the demo people on first start and use the demo clip as camera")
	fs.StringVar(&ac.Source, "source", "", "camera: /dev/videoN, index, rtsp:// or http:// URL, video file or image folder (default: first V4L2 camera, else the demo clip looped)")
	fs.StringVar(&ac.Web.Addr, "web-listen", ":8443", "address of the web app (HTTPS; /healthz and /metrics too)")
	fs.BoolVar(&ac.Web.PlainHTTP, "web-plain-http", false, "serve plain HTTP (only allowed on a loopback address unless --allow-plain-http-lan)")
	fs.BoolVar(&ac.Web.AllowPlainLAN, "allow-plain-http-lan", false, "allow plain HTTP on the LAN (behind a TLS proxy; browsers then refuse the webcam)")
	fs.StringVar(&ac.Web.CertFile, "tls-cert", "", "TLS certificate (PEM); default: a self-signed one made on first start in DATA_DIR/tls")
	fs.StringVar(&ac.Web.KeyFile, "tls-key", "", "TLS private key (PEM) for --tls-cert")
	proxies := fs.String("trusted-proxies", "", "comma-separated addresses or CIDRs of reverse proxies whose X-Forwarded-For is believed (default none: the client address is the TCP peer's)")
	fs.StringVar(&ac.Door, "door", "front", "this appliance's door ID")
	fs.StringVar(&ac.Relay, "relay", "", "relay: sim:PATH | gpio:CHIP:OFFSET[:active-low] | serial:PATH[:CH] | http://HOST/rpc[#ID] (default sim:DATA_DIR/relay/state)")
	fs.Func("keypad", "PIN pad of a face+pin door: evdev:/dev/input/by-id/…-event-kbd (repeatable)", func(s string) error {
		ac.Keypads = append(ac.Keypads, s)
		return nil
	})
	fs.StringVar(&ac.DoorSensor, "door-sensor", "", "door contact: gpio:CHIP:OFFSET[:open-high|open-low] (default none)")
	fs.DurationVar(&ac.OpenTime, "open-time", 4*time.Second, "relay pulse per grant: long enough to reach and pull the door")
	fs.StringVar(&ac.SiteTZ, "site-tz", "Local", "site time zone for schedules, e.g. Asia/Tokyo")
	level := fs.String("security-level", string(gate.LevelFace), "face, face+liveness or face+pin")
	// Retention defaults: entries are evidence for a year (an information
	// leak is often found months later); snapshots of granted entries for
	// 90 days; those of denials and unknown faces, which are mostly
	// passers-by who never consented, for 30 days.
	fs.IntVar(&ac.Retention.GrantSnapshotDays, "retain-grant-snapshots-days", 90, "days to keep snapshots of granted entries (0 = forever)")
	fs.IntVar(&ac.Retention.DenySnapshotDays, "retain-deny-snapshots-days", 30, "days to keep snapshots of denials and unknown faces (0 = forever)")
	fs.IntVar(&ac.Retention.EventDays, "retain-events-days", 365, "days to keep entry details; older ones are redacted, their hashes kept (0 = forever)")
	mq := mqttFlags(fs)
	centralServeFlags(fs, &ac)
	return func(stderr io.Writer) (appliance.Config, error) {
		if err := cfg.Validate(); err != nil {
			return ac, err
		}
		ac.DataDir, ac.DB, ac.ModelsDir, ac.KeyDir, ac.Rule = cfg.DataDir, cfg.DB, cfg.ModelsDir, cfg.KeyDir, cfg.Rule()
		ac.Embedder, ac.Detector = cfg.Embedder, cfg.Detector
		ac.Level, ac.Log = gate.SecurityLevel(*level), cfg.logger(stderr)
		var err error
		if ac.Web.TrustedProxies, err = parseProxies(*proxies); err != nil {
			return ac, err
		}
		if ac.MQTT, err = mq.options(ac.Door); err != nil {
			return ac, err
		}
		return ac, configUsage(ac.Validate())
	}
}

// parseProxies reads --trusted-proxies: addresses or CIDRs, comma-separated.
func parseProxies(s string) ([]string, error) {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p == "" {
			continue
		}
		if _, err := netip.ParsePrefix(p); err != nil {
			if _, err := netip.ParseAddr(p); err != nil {
				return nil, usageError{fmt.Sprintf("serve: --trusted-proxies: %q is neither an address nor a CIDR (e.g. 10.0.0.5 or 10.0.0.0/24)", p)}
			}
		}
		out = append(out, p)
	}
	return out, nil
}

// configUsage turns a configuration error into a usage error (exit code 2).
func configUsage(err error) error {
	var ce *appliance.ConfigError
	if errors.As(err, &ce) {
		return usageError{"serve: " + ce.Error()}
	}
	return err
}

// cmdServe runs the appliance until ctx ends.
func cmdServe(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	config := serveFlags(fs)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	cfg, err := config(stderr)
	if err != nil {
		return err
	}
	a, err := appliance.New(ctx, cfg)
	if err != nil {
		return configUsage(err)
	}
	defer a.Close()
	return a.Run(ctx)
}

// mqttFlagValues are serve's --mqtt… flags.
type mqttFlagValues struct {
	broker, user, passwordFile, ca *string
	unlock                         *bool
}

func mqttFlags(fs *flag.FlagSet) mqttFlagValues {
	return mqttFlagValues{
		broker:       fs.String("mqtt", "", "MQTT broker to publish events, door state and Home Assistant discovery to: mqtts://HOST[:8883] (TLS) or mqtt://HOST[:1883] (default none)"),
		user:         fs.String("mqtt-user", "", "MQTT user name"),
		passwordFile: fs.String("mqtt-password-file", "", "file holding the MQTT password (one line)"),
		ca:           fs.String("mqtt-ca", "", "PEM file of the CA that signed the broker's certificate (default: the system's roots)"),
		unlock:       fs.Bool("mqtt-unlock", false, "let \"UNLOCK\" on facegate/<door>/set unlock the door (audited; needs --mqtt-user)"),
	}
}

// options checks the --mqtt… flags and reads the password file.
func (f mqttFlagValues) options(door string) (mqtt.Options, error) {
	o := mqtt.Options{Broker: *f.broker, Username: *f.user, CAFile: *f.ca, Unlock: *f.unlock, Door: door}
	if o.Broker == "" {
		if o.Username != "" || *f.passwordFile != "" || o.CAFile != "" || o.Unlock {
			return o, usageError{"serve: --mqtt-user, --mqtt-password-file, --mqtt-ca and --mqtt-unlock need --mqtt BROKER"}
		}
		return o, nil
	}
	if *f.passwordFile != "" {
		b, err := os.ReadFile(*f.passwordFile)
		if err != nil {
			return o, usageError{"serve: --mqtt-password-file: " + err.Error()}
		}
		o.Password = strings.TrimRight(string(b), "\r\n")
		if o.Password == "" {
			return o, usageError{"serve: --mqtt-password-file: " + *f.passwordFile + " is empty"}
		}
	}
	var oe *mqtt.OptionError
	if err := o.Validate(); errors.As(err, &oe) {
		return o, usageError{"serve: " + oe.Error()}
	} else if err != nil {
		return o, err
	}
	return o, nil
}
