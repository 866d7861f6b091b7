package appliance

import (
	"context"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"encoding/json"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	paho "github.com/eclipse/paho.mqtt.golang"

	"github.com/facegate/facegate/gate/mqtt"
	"github.com/facegate/facegate/models/modeltest"
	"github.com/facegate/facegate/vision"
	"github.com/facegate/facegate/web"
)

// testMQTT is the broker scripts/mosquitto.sh started (FACEGATE_TEST_MQTT);
// skipped without one, except in CI.
func testMQTT(t *testing.T, door string) mqtt.Options {
	t.Helper()
	env := os.Getenv("FACEGATE_TEST_MQTT")
	if env == "" {
		if os.Getenv("CI") != "" {
			t.Fatal("CI must run the MQTT tests on a real broker: set FACEGATE_TEST_MQTT (make test does)")
		}
		t.Skip("FACEGATE_TEST_MQTT not set")
	}
	u, err := url.Parse(env)
	if err != nil {
		t.Fatal(err)
	}
	dir := u.Query().Get("dir")
	pw, err := os.ReadFile(filepath.Join(dir, "password"))
	if err != nil {
		t.Fatal(err)
	}
	return mqtt.Options{Broker: u.Scheme + "://" + u.Host, Username: "facegate", Password: strings.TrimSpace(string(pw)),
		CAFile: filepath.Join(dir, "ca.pem"), Door: door, Unlock: true, Poll: 50 * time.Millisecond}
}

// The running appliance publishes its door: the camera's state, and an
// UNLOCK command pulses the relay, is audited, and its remote_unlock
// event goes out on the event topic; the lock state follows the relay.
func TestRunPublishesToMQTT(t *testing.T) {
	b := make([]byte, 4)
	rand.Read(b)
	door := "a" + hex.EncodeToString(b)
	opts := testMQTT(t, door)
	cfg := Config{DataDir: t.TempDir(), ModelsDir: modeltest.ModelsDir(t), Rule: vision.DefaultRule, Embedder: "dlib",
		Source: filepath.Join(modeltest.Testdata(t), "video", "short_hamilton_clip.mp4"), OpenTime: time.Second, SiteTZ: "UTC",
		Door: door, Web: web.Options{Addr: "127.0.0.1:0", PlainHTTP: true}, MQTT: opts, Log: discard()}
	a, err := New(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	msgs := make(chan paho.Message, 1000)
	c := testClient(t, opts, "facegate/"+door+"/#", msgs)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- a.Run(ctx) }()
	defer func() { cancel(); <-done }()

	waitMsg(t, msgs, func(m paho.Message) bool { return strings.HasSuffix(m.Topic(), "/state/camera") })
	if tok := c.Publish("facegate/"+door+"/set", 1, false, "UNLOCK"); !tok.WaitTimeout(5*time.Second) || tok.Error() != nil {
		t.Fatal(tok.Error())
	}
	waitMsg(t, msgs, func(m paho.Message) bool {
		return strings.HasSuffix(m.Topic(), "/state/lock") && string(m.Payload()) == "unlocked"
	})
	waitMsg(t, msgs, func(m paho.Message) bool {
		var em mqtt.EventMessage
		return strings.HasSuffix(m.Topic(), "/event") && json.Unmarshal(m.Payload(), &em) == nil &&
			em.Kind == "remote_unlock" && em.By == "mqtt:facegate"
	})
	waitMsg(t, msgs, func(m paho.Message) bool {
		return strings.HasSuffix(m.Topic(), "/state/lock") && string(m.Payload()) == "locked"
	})
}

func testClient(t *testing.T, o mqtt.Options, topic string, msgs chan paho.Message) paho.Client {
	t.Helper()
	pem, err := os.ReadFile(o.CAFile)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509NewPool(t, pem)
	co := paho.NewClientOptions().AddBroker(strings.Replace(o.Broker, "mqtts://", "ssl://", 1)).
		SetClientID("app-test-" + o.Door).SetUsername(o.Username).SetPassword(o.Password).
		SetTLSConfig(tlsConfig(pool))
	c := paho.NewClient(co)
	if tok := c.Connect(); !tok.WaitTimeout(10*time.Second) || tok.Error() != nil {
		t.Fatal(tok.Error())
	}
	t.Cleanup(func() { c.Disconnect(100) })
	if tok := c.Subscribe(topic, 1, func(_ paho.Client, m paho.Message) { msgs <- m }); !tok.WaitTimeout(5*time.Second) || tok.Error() != nil {
		t.Fatal(tok.Error())
	}
	return c
}

func waitMsg(t *testing.T, msgs <-chan paho.Message, ok func(paho.Message) bool) {
	t.Helper()
	timeout := time.After(30 * time.Second)
	for {
		select {
		case m := <-msgs:
			if ok(m) {
				return
			}
		case <-timeout:
			t.Fatal("message not seen within 30 s")
		}
	}
}

func x509NewPool(t *testing.T, pem []byte) *x509.CertPool {
	t.Helper()
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pem) {
		t.Fatal("CA file holds no certificate")
	}
	return pool
}

func tlsConfig(pool *x509.CertPool) *tls.Config {
	return &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}
}
