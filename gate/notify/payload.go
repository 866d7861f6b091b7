package notify

import (
	"encoding/json"
	"time"

	"github.com/facegate/facegate/storage"
)

// Payload is the JSON body of one delivery: one event of the evidence log.
type Payload struct {
	Seq       int64   `json:"seq"`
	Kind      string  `json:"kind"`
	Code      string  `json:"code,omitempty"`
	Door      string  `json:"door,omitempty"`
	Area      string  `json:"area,omitempty"`
	Direction string  `json:"direction,omitempty"`
	Person    *Person `json:"person,omitempty"`
	Granted   bool    `json:"granted"`
	Reason    string  `json:"reason,omitempty"`
	By        string  `json:"by,omitempty"`
	Time      string  `json:"time"`       // RFC 3339, UTC
	TimeLocal string  `json:"time_local"` // RFC 3339, in the site's zone
	Snapshot  string  `json:"snapshot_sha256,omitempty"`
	PrevHash  string  `json:"prev_hash"`
	Hash      string  `json:"hash"` // the event's chain hash
	Redacted  bool    `json:"redacted,omitempty"`
	// Checkpoint is the newest signed checkpoint when the payload was
	// made; it covers this event when its seq is at least the event's.
	Checkpoint *storage.Checkpoint `json:"checkpoint,omitempty"`
	Test       bool                `json:"test,omitempty"`
}

// Person is who the event is about. A redacted or erased person is left out.
type Person struct {
	ID         int64  `json:"id"`
	EmployeeID string `json:"employee_id,omitempty"`
	Name       string `json:"name,omitempty"`
}

// NewPayload describes e; employeeID is the person's, "" when unknown.
func NewPayload(e storage.Event, employeeID string, cp *storage.Checkpoint, loc *time.Location) Payload {
	p := Payload{Seq: e.Seq, Kind: e.Kind, Code: e.Code, Door: e.Door, Area: e.Area, Direction: e.Direction,
		Granted: e.Granted, Reason: e.Reason, By: e.By, Time: e.At().Format(time.RFC3339Nano),
		TimeLocal: e.At().In(loc).Format(time.RFC3339Nano), Snapshot: e.SnapshotHash, PrevHash: e.PrevHash, Hash: e.Hash,
		Redacted: e.Redacted, Checkpoint: cp}
	if e.PersonID != 0 && !e.Redacted {
		p.Person = &Person{ID: e.PersonID, EmployeeID: employeeID, Name: e.PersonName}
	}
	return p
}

// Marshal is the body sent.
func (p Payload) Marshal() []byte {
	b, _ := json.Marshal(p) // plain strings, numbers and bools: cannot fail
	return b
}

// testPayload is what `facegate webhook test` sends.
func testPayload(now time.Time, loc *time.Location) Payload {
	return Payload{Kind: "test", Code: "test", Reason: "test delivery from facegate", Time: now.UTC().Format(time.RFC3339Nano),
		TimeLocal: now.In(loc).Format(time.RFC3339Nano), Test: true}
}
