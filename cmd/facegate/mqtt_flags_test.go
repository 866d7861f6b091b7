package main

import (
	"flag"
	"os"
	"path/filepath"
	"testing"
)

// The password comes from its file without the line end; the door is
// serve's --door; the environment twins work as for every flag.
func TestMQTTFlags(t *testing.T) {
	pw := filepath.Join(t.TempDir(), "mqtt.pw")
	if err := os.WriteFile(pw, []byte("s3cret pass\r\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("FACEGATE_MQTT_USER", "gate-front")
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	mq := mqttFlags(fs)
	if err := parseFlags(fs, []string{"--mqtt", "mqtts://broker.lan", "--mqtt-password-file", pw, "--mqtt-unlock"}); err != nil {
		t.Fatal(err)
	}
	o, err := mq.options("back")
	if err != nil {
		t.Fatal(err)
	}
	if o.Password != "s3cret pass" || o.Username != "gate-front" || o.Door != "back" || !o.Unlock || o.Broker != "mqtts://broker.lan" {
		t.Fatalf("options %+v", o)
	}
	fs = flag.NewFlagSet("serve", flag.ContinueOnError)
	mq = mqttFlags(fs)
	t.Setenv("FACEGATE_MQTT_USER", "")
	if err := parseFlags(fs, nil); err != nil {
		t.Fatal(err)
	}
	if o, err := mq.options("front"); err != nil || o.Broker != "" {
		t.Fatalf("no --mqtt: %+v %v, want MQTT off", o, err)
	}
}
