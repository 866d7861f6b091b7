package mqtt

// State payloads (retained on facegate/<door>/state/…).
const (
	stateLocked   = "locked"
	stateUnlocked = "unlocked"
	doorOpen      = "open"
	doorClosed    = "closed"
	// unknown is Home Assistant's payload for "state unknown": a door with
	// no contact sensor.
	unknown = "None"
)

// DoorState is what the appliance knows of its door now.
type DoorState struct {
	Locked bool
	// Open is the door contact; nil when the door has no sensor.
	Open *bool
	// Camera is the camera's state (vision.SourceState: streaming,
	// reconnecting …).
	Camera string
}

// parts are the retained state payloads by topic part.
func (s DoorState) parts(lastPerson string) map[string]string {
	lock, door := stateLocked, unknown
	if !s.Locked {
		lock = stateUnlocked
	}
	if s.Open != nil {
		door = doorClosed
		if *s.Open {
			door = doorOpen
		}
	}
	camera := s.Camera
	if camera == "" {
		camera = unknown
	}
	if lastPerson == "" {
		lastPerson = unknown
	}
	return map[string]string{"lock": lock, "door": door, "camera": camera, "last_person": lastPerson}
}
