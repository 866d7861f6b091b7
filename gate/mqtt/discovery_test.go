package mqtt

import (
	"encoding/json"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/facegate/facegate/storage"
)

// retained subscribes a new client to topics and returns what the broker
// kept for them (a client that connects later, as Home Assistant does
// after a restart, sees exactly this).
func retained(t *testing.T, b testBroker, topics ...string) map[string]string {
	t.Helper()
	_, ch := client(t, b, "ret-"+newDoorID(), false, topics...)
	got := map[string]string{}
	for {
		select {
		case m := <-ch:
			if m.Retained {
				got[m.Topic] = m.Payload
			}
		case <-time.After(500 * time.Millisecond):
			return got
		}
	}
}

// The door shows up in Home Assistant: retained discovery configs, valid
// JSON with what HA needs (unique id, state and availability topics,
// device); state retained (lock, door, camera, last person); online while
// running, offline after. With remote unlock off the lock is a read-only
// sensor; switched on, a lock with the command topic, the sensor removed.
func TestDiscoveryAndStateRetained(t *testing.T) {
	b := broker(t)
	door := newDoorID()
	rec := openRecorder(t)
	if _, err := rec.Record(storage.Event{Kind: storage.KindGranted, Door: door, Granted: true, PersonID: 7, PersonName: "Ada"}, nil, nil); err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	open := true
	state := func() DoorState {
		mu.Lock()
		defer mu.Unlock()
		o := open
		return DoorState{Locked: true, Open: &o, Camera: "streaming"}
	}
	id := "facegate_" + door
	lockTopic, lockSensorTopic := "homeassistant/lock/"+id+"/config", "homeassistant/binary_sensor/"+id+"_lock/config"
	configs := []string{lockTopic, lockSensorTopic, "homeassistant/binary_sensor/" + id + "_door/config",
		"homeassistant/sensor/" + id + "_last_person/config", "homeassistant/sensor/" + id + "_camera/config"}
	tp := Topics{door}
	states := []string{tp.Availability(), tp.State("lock"), tp.State("door"), tp.State("camera"), tp.State("last_person")}

	lg := &logs{}
	stop := startStoppable(t, b.options(door), Deps{Recorder: rec, State: state, Log: lg.with()})
	waitRetained(t, b, tp.State("last_person"), "Ada")
	got := retained(t, b, append(configs, states...)...)
	want := map[string]string{tp.Availability(): "online", tp.State("lock"): "locked", tp.State("door"): "open",
		tp.State("camera"): "streaming", tp.State("last_person"): "Ada"}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s = %q, want %q", k, got[k], v)
		}
	}
	if _, ok := got[lockTopic]; ok {
		t.Errorf("lock entity announced with remote unlock off: %s", got[lockTopic])
	}
	cfg := checkConfig(t, got, lockSensorTopic, door)
	if cfg["device_class"] != "lock" || cfg["payload_on"] != "unlocked" || cfg["command_topic"] != nil {
		t.Errorf("read-only lock sensor: %v", cfg)
	}
	if cfg := checkConfig(t, got, configs[2], door); cfg["device_class"] != "door" || cfg["payload_on"] != "open" {
		t.Errorf("door sensor: %v", cfg)
	}
	checkConfig(t, got, configs[3], door)
	checkConfig(t, got, configs[4], door)

	mu.Lock()
	open = false
	mu.Unlock()
	waitRetained(t, b, tp.State("door"), "closed")
	stop()
	if got := retained(t, b, tp.Availability()); got[tp.Availability()] != "offline" {
		t.Errorf("availability after stop: %q, want offline", got[tp.Availability()])
	}

	opts := b.options(door)
	opts.Unlock = true
	startStoppable(t, opts, Deps{Recorder: rec, State: state, Log: lg.with()})
	waitRetained(t, b, tp.Availability(), "online")
	got = retained(t, b, lockTopic, lockSensorTopic)
	if _, ok := got[lockSensorTopic]; ok {
		t.Errorf("read-only lock sensor still announced with remote unlock on")
	}
	cfg = checkConfig(t, got, lockTopic, door)
	if cfg["command_topic"] != tp.Command() || cfg["payload_unlock"] != "UNLOCK" || cfg["state_unlocked"] != "unlocked" {
		t.Errorf("lock: %v", cfg)
	}
}

// checkConfig parses a discovery config and checks the fields every
// entity needs.
func checkConfig(t *testing.T, got map[string]string, topic, door string) map[string]any {
	t.Helper()
	var cfg map[string]any
	if err := json.Unmarshal([]byte(got[topic]), &cfg); err != nil {
		t.Fatalf("%s: %q: %v", topic, got[topic], err)
	}
	for _, k := range []string{"name", "unique_id", "state_topic", "availability_topic", "device"} {
		if cfg[k] == nil || cfg[k] == "" {
			t.Errorf("%s: no %s: %v", topic, k, cfg)
		}
	}
	if st, _ := cfg["state_topic"].(string); !strings.HasPrefix(st, "facegate/"+door+"/state/") {
		t.Errorf("%s: state topic %q", topic, st)
	}
	dev, _ := cfg["device"].(map[string]any)
	if ids, _ := dev["identifiers"].([]any); len(ids) != 1 || ids[0] != "facegate_"+door {
		t.Errorf("%s: device %v", topic, dev)
	}
	return cfg
}

// waitRetained waits until topic's retained value is want.
func waitRetained(t *testing.T, b testBroker, topic, want string) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	var got map[string]string
	for time.Now().Before(deadline) {
		if got = retained(t, b, topic); got[topic] == want {
			return
		}
	}
	t.Fatalf("%s = %q, want %q", topic, got[topic], want)
}
