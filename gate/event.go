package gate

import (
	"time"

	"github.com/facegate/facegate/storage"
)

// EventKind names what happened at a door.
type EventKind string

const (
	EventGranted          EventKind = storage.KindGranted
	EventDenied           EventKind = storage.KindDenied
	EventRemoteUnlock     EventKind = storage.KindRemoteUnlock
	EventPassageStart     EventKind = storage.KindPassageStart
	EventPassageEnd       EventKind = storage.KindPassageEnd
	EventDoorForced       EventKind = storage.KindDoorForced
	EventDoorHeldOpen     EventKind = storage.KindDoorHeldOpen
	EventTailgating       EventKind = storage.KindTailgating
	EventExitWithoutEntry EventKind = storage.KindExitWithoutEntry
	EventRelayError       EventKind = storage.KindRelayError
)

// Event is one thing the controller reports; storage records them all.
type Event struct {
	Kind     EventKind
	Door     string
	Time     time.Time
	PersonID int64  // 0 when nobody is known
	By       string // admin for remote unlocks
	Code     ReasonCode
	Reason   string
	Rule     string
}
