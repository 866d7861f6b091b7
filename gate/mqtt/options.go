package mqtt

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"net"
	"net/url"
	"os"
	"regexp"
	"slices"
	"time"
)

// Options say which broker to use and how. They come from serve's
// --mqtt… flags; the zero Broker means MQTT is off.
type Options struct {
	// Broker is mqtt://HOST[:1883] (plain TCP) or mqtts://HOST[:8883]
	// (TLS); tcp://, ssl:// and tls:// are accepted as their aliases.
	Broker   string
	Username string
	Password string
	// CAFile is a PEM file of the CA that signed the broker's certificate
	// (mqtts only); empty trusts the system's roots.
	CAFile string
	// Unlock lets a message "UNLOCK" on facegate/<door>/set pulse the door.
	Unlock bool
	// Door is this appliance's door ID: the topics' second level.
	Door string
	// Poll is how often the evidence chain and the door state are read
	// (DefaultPoll when zero).
	Poll time.Duration
}

// DefaultPoll: an event reaches the broker within 0.5 s of being recorded,
// and a 4 s unlock pulse is seen as "unlocked" on the state topic. One
// indexed query per poll (the chain past the cursor).
const DefaultPoll = 500 * time.Millisecond

// OptionError names the serve flag whose value is wrong.
type OptionError struct {
	Flag    string
	Problem string
}

func (e *OptionError) Error() string { return "--" + e.Flag + ": " + e.Problem }

// doorID: a door ID is a topic level and part of Home Assistant's ids,
// which allow only these characters.
var doorID = regexp.MustCompile(`^[A-Za-z0-9_-]{1,64}$`)

var (
	plainSchemes = []string{"mqtt", "tcp"}
	tlsSchemes   = []string{"mqtts", "ssl", "tls"}
)

// Validate checks every option; a wrong one is an *OptionError.
func (o Options) Validate() error {
	u, err := url.Parse(o.Broker)
	if err != nil || u.Host == "" || u.Hostname() == "" {
		return &OptionError{"mqtt", fmt.Sprintf("%q: give the broker as mqtt://HOST[:PORT] or mqtts://HOST[:PORT]", o.Broker)}
	}
	if !slices.Contains(plainSchemes, u.Scheme) && !slices.Contains(tlsSchemes, u.Scheme) {
		return &OptionError{"mqtt", fmt.Sprintf("%q: scheme %q: use mqtt:// (plain) or mqtts:// (TLS)", o.Broker, u.Scheme)}
	}
	if o.CAFile != "" && !o.tls() {
		return &OptionError{"mqtt-ca", "a CA file needs an mqtts:// broker"}
	}
	if o.CAFile != "" {
		if _, err := o.certPool(); err != nil {
			return &OptionError{"mqtt-ca", err.Error()}
		}
	}
	if o.Password != "" && o.Username == "" {
		return &OptionError{"mqtt-user", "a password was given without a user name"}
	}
	if o.Unlock && o.Username == "" {
		return &OptionError{"mqtt-unlock", "remote unlock needs --mqtt-user: commands are taken only from a broker that authenticates its clients"}
	}
	if !doorID.MatchString(o.Door) {
		return &OptionError{"door", fmt.Sprintf("%q: for MQTT a door ID must be 1-64 letters, digits, - or _", o.Door)}
	}
	return nil
}

func (o Options) tls() bool {
	u, err := url.Parse(o.Broker)
	return err == nil && slices.Contains(tlsSchemes, u.Scheme)
}

// Loopback tells whether the broker is on this machine (plain MQTT with a
// password is then no risk).
func (o Options) Loopback() bool {
	u, err := url.Parse(o.Broker)
	if err != nil {
		return false
	}
	if u.Hostname() == "localhost" {
		return true
	}
	ip := net.ParseIP(u.Hostname())
	return ip != nil && ip.IsLoopback()
}

// server is the broker address in the client library's form.
func (o Options) server() string {
	u, _ := url.Parse(o.Broker)
	scheme, port := "tcp", "1883"
	if o.tls() {
		scheme, port = "ssl", "8883"
	}
	if u.Port() != "" {
		port = u.Port()
	}
	return scheme + "://" + net.JoinHostPort(u.Hostname(), port)
}

func (o Options) certPool() (*x509.CertPool, error) {
	b, err := os.ReadFile(o.CAFile)
	if err != nil {
		return nil, err
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(b) {
		return nil, fmt.Errorf("%s holds no PEM certificate", o.CAFile)
	}
	return pool, nil
}

// tlsConfig verifies the broker's certificate against CAFile (or the
// system roots) and its name; TLS 1.2 at least.
func (o Options) tlsConfig() (*tls.Config, error) {
	u, _ := url.Parse(o.Broker)
	c := &tls.Config{MinVersion: tls.VersionTLS12, ServerName: u.Hostname()}
	if o.CAFile != "" {
		pool, err := o.certPool()
		if err != nil {
			return nil, err
		}
		c.RootCAs = pool
	}
	return c, nil
}
