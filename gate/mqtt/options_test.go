package mqtt

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// Each wrong option names its flag.
func TestOptionsValidate(t *testing.T) {
	notPEM := filepath.Join(t.TempDir(), "ca.pem")
	os.WriteFile(notPEM, []byte("not a certificate"), 0o600)
	ok := Options{Broker: "mqtts://broker.lan", Username: "gate", Password: "pw", Door: "front"}
	if err := ok.Validate(); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		flag string
		edit func(*Options)
	}{
		{"mqtt", func(o *Options) { o.Broker = "broker.lan:1883" }},
		{"mqtt", func(o *Options) { o.Broker = "http://broker.lan" }},
		{"mqtt-ca", func(o *Options) { o.Broker, o.CAFile = "mqtt://broker.lan", notPEM }},
		{"mqtt-ca", func(o *Options) { o.CAFile = notPEM }},
		{"mqtt-ca", func(o *Options) { o.CAFile = notPEM + ".missing" }},
		{"mqtt-user", func(o *Options) { o.Username = "" }},
		{"mqtt-unlock", func(o *Options) { o.Username, o.Password, o.Unlock = "", "", true }},
		{"door", func(o *Options) { o.Door = "front/+" }},
	}
	for _, c := range cases {
		o := ok
		c.edit(&o)
		var oe *OptionError
		if err := o.Validate(); !errors.As(err, &oe) || oe.Flag != c.flag {
			t.Errorf("%+v: got %v, want an error for --%s", o, err, c.flag)
		}
	}
	if got := (Options{Broker: "mqtts://b.lan"}).server(); got != "ssl://b.lan:8883" {
		t.Errorf("default TLS port: %s", got)
	}
	if got := (Options{Broker: "mqtt://[::1]"}).server(); got != "tcp://[::1]:1883" {
		t.Errorf("default plain port: %s", got)
	}
}

// The broker takes only TLS and only its user with the right password;
// the publisher trusts only the CA it was given. Each refusal is logged
// with the reason, and retried.
func TestTLSAndCredentialsRequired(t *testing.T) {
	b := broker(t)
	cases := []struct {
		name string
		edit func(*Options)
		want string
	}{
		{"wrong password", func(o *Options) { o.Password = "wrong" }, "not Authorized"},
		{"no user", func(o *Options) { o.Username, o.Password = "", "" }, "not Authorized"},
		{"broker's CA not trusted", func(o *Options) { o.CAFile = "" }, "certificate signed by unknown authority"},
		{"plain MQTT to the TLS listener", func(o *Options) {
			o.Broker, o.CAFile = strings.Replace(o.Broker, "mqtts://", "mqtt://", 1), ""
		}, "network Error"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			opts := b.options(newDoorID())
			c.edit(&opts)
			lg := &logs{}
			start(t, opts, Deps{Recorder: openRecorder(t), Log: lg.with()})
			lg.waitFor(t, 15*time.Second, "broker refused or not reached", c.want)
			lg.waitFor(t, 15*time.Second, "broker refused or not reached", c.want, "retry_in=2s") // the first retry
			lg.mu.Lock()
			defer lg.mu.Unlock()
			for _, r := range lg.recs {
				if strings.Contains(r, "mqtt: connected") {
					t.Fatalf("connected: %s", r)
				}
			}
		})
	}
}
