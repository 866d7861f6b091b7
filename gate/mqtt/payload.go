package mqtt

import (
	"encoding/json"
	"time"

	"github.com/facegate/facegate/storage"
)

// Topic names. Everything is under facegate/<door>/; discovery configs
// under Home Assistant's default prefix.
const (
	topicRoot       = "facegate/"
	discoveryPrefix = "homeassistant/"
	online          = "online"
	offline         = "offline"
	// CommandUnlock is the one command facegate/<door>/set takes.
	CommandUnlock = "UNLOCK"
	commandLock   = "LOCK"
)

// Topics of one door.
type Topics struct{ door string }

func (t Topics) base() string { return topicRoot + t.door + "/" }

// Event is where every event of the chain is published (QoS 1, in order).
func (t Topics) Event() string        { return t.base() + "event" }
func (t Topics) Availability() string { return t.base() + "availability" }
func (t Topics) Command() string      { return t.base() + "set" }

// State is the retained topic of one part of the door's state: lock,
// door, camera or last_person.
func (t Topics) State(part string) string { return t.base() + "state/" + part }

// EventMessage is the JSON published for each event. Seq and Hash place
// it in the evidence chain; Checkpoint is a signed statement of a chain
// head at or after Seq, so a receiver that keeps it can later prove the
// appliance's log was not rewritten (storage.VerifyCheckpoint).
type EventMessage struct {
	Seq        int64              `json:"seq"`
	Kind       string             `json:"kind"`
	Code       string             `json:"code"`
	Door       string             `json:"door"`
	Area       string             `json:"area,omitempty"`
	Direction  string             `json:"direction,omitempty"`
	PersonID   int64              `json:"person_id,omitempty"`
	Person     string             `json:"person"`
	Granted    bool               `json:"granted"`
	Reason     string             `json:"reason"`
	By         string             `json:"by,omitempty"`
	Time       string             `json:"time"` // RFC 3339, UTC, microseconds
	Snapshot   string             `json:"snapshot_hash,omitempty"`
	Hash       string             `json:"chain_hash"`
	PrevHash   string             `json:"prev_hash"`
	Redacted   bool               `json:"redacted,omitempty"`
	Checkpoint storage.Checkpoint `json:"checkpoint"`
}

// NewEventMessage is e's message with the checkpoint cp covering it.
func NewEventMessage(e storage.Event, cp storage.Checkpoint) EventMessage {
	return EventMessage{Seq: e.Seq, Kind: e.Kind, Code: e.Code, Door: e.Door, Area: e.Area, Direction: e.Direction,
		PersonID: e.PersonID, Person: e.PersonName, Granted: e.Granted, Reason: e.Reason, By: e.By,
		Time: e.At().Format(time.RFC3339Nano), Snapshot: e.SnapshotHash, Hash: e.Hash, PrevHash: e.PrevHash,
		Redacted: e.Redacted, Checkpoint: cp}
}

// Device is Home Assistant's device registry entry for the door.
type Device struct {
	Identifiers  []string `json:"identifiers"`
	Name         string   `json:"name"`
	Manufacturer string   `json:"manufacturer"`
	Model        string   `json:"model"`
}

// Entity is one Home Assistant MQTT discovery config; fields an entity
// does not use stay out of its JSON.
type Entity struct {
	Name              string `json:"name"`
	UniqueID          string `json:"unique_id"`
	StateTopic        string `json:"state_topic"`
	CommandTopic      string `json:"command_topic,omitempty"`
	PayloadLock       string `json:"payload_lock,omitempty"`
	PayloadUnlock     string `json:"payload_unlock,omitempty"`
	StateLocked       string `json:"state_locked,omitempty"`
	StateUnlocked     string `json:"state_unlocked,omitempty"`
	PayloadOn         string `json:"payload_on,omitempty"`
	PayloadOff        string `json:"payload_off,omitempty"`
	DeviceClass       string `json:"device_class,omitempty"`
	Icon              string `json:"icon,omitempty"`
	AvailabilityTopic string `json:"availability_topic"`
	PayloadAvailable  string `json:"payload_available"`
	PayloadNotAvail   string `json:"payload_not_available"`
	Device            Device `json:"device"`
}

// Discovery is one retained config: its topic and payload. An empty
// payload removes an entity announced before (the lock when remote unlock
// was switched off, and the other way round).
type Discovery struct {
	Topic   string
	Payload []byte
}

// DiscoveryConfigs are the door's Home Assistant entities: the lock, the
// door contact, the last person and the camera. Home Assistant's MQTT
// lock must have a command topic, so with remote unlock off the lock is a
// read-only binary sensor of class "lock" instead, and the lock entity is
// removed.
func DiscoveryConfigs(door string, unlock bool) []Discovery {
	t := Topics{door}
	id := "facegate_" + door
	entity := func(name, suffix, part string) Entity {
		return Entity{Name: name, UniqueID: id + "_" + suffix, StateTopic: t.State(part), AvailabilityTopic: t.Availability(),
			PayloadAvailable: online, PayloadNotAvail: offline,
			Device: Device{Identifiers: []string{id}, Name: "facegate " + door, Manufacturer: "facegate", Model: "face-recognition door"}}
	}
	lock := entity("Lock", "lock", "lock")
	lock.CommandTopic, lock.PayloadLock, lock.PayloadUnlock = t.Command(), commandLock, CommandUnlock
	lock.StateLocked, lock.StateUnlocked = stateLocked, stateUnlocked
	lockSensor := entity("Lock", "lock_state", "lock")
	lockSensor.DeviceClass, lockSensor.PayloadOn, lockSensor.PayloadOff = "lock", stateUnlocked, stateLocked
	doorSensor := entity("Door", "door", "door")
	doorSensor.DeviceClass, doorSensor.PayloadOn, doorSensor.PayloadOff = "door", doorOpen, doorClosed
	person := entity("Last person", "last_person", "last_person")
	person.Icon = "mdi:account-check"
	camera := entity("Camera", "camera", "camera")
	camera.Icon = "mdi:cctv"
	lockTopic := discoveryPrefix + "lock/" + id + "/config"
	lockSensorTopic := discoveryPrefix + "binary_sensor/" + id + "_lock/config"
	out := []Discovery{
		{discoveryPrefix + "binary_sensor/" + id + "_door/config", mustJSON(doorSensor)},
		{discoveryPrefix + "sensor/" + id + "_last_person/config", mustJSON(person)},
		{discoveryPrefix + "sensor/" + id + "_camera/config", mustJSON(camera)},
	}
	if unlock {
		return append(out, Discovery{lockSensorTopic, nil}, Discovery{lockTopic, mustJSON(lock)})
	}
	return append(out, Discovery{lockTopic, nil}, Discovery{lockSensorTopic, mustJSON(lockSensor)})
}

func mustJSON(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err) // only fixed struct types are marshalled
	}
	return b
}
