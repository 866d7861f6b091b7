package appliance

import (
	"github.com/facegate/facegate/gate"
	"github.com/facegate/facegate/storage"
	"github.com/facegate/facegate/vision"
)

// eventFromDecision is the evidence of one decision: what the camera saw
// (vd), what the gate decided (gd), about whom (p, nil when nobody known),
// with which model.
func eventFromDecision(vd vision.Decision, gd gate.Decision, p *gate.Person, modelVersion string) storage.Event {
	ev := storage.Event{AtMicro: vd.At.UnixMicro(), Kind: storage.KindDenied, Door: gd.Door.ID, Area: gd.Door.Area,
		Direction: string(gd.Door.Direction), Granted: gd.Grant, Code: string(gd.Code), Reason: gd.Reason, Rule: gd.Rule,
		Distance: vd.Distance, Margin: vd.Margin, Frames: vd.Frames, Liveness: string(vd.Liveness), ModelVersion: modelVersion}
	if gd.Grant {
		ev.Kind = storage.KindGranted
	}
	if vd.Verdict == vision.VerdictUnknown && vd.Why != "" {
		// For the investigator: how the frames settled it.
		ev.Reason += " (" + vd.Why + ")"
	}
	if p != nil {
		ev.PersonID, ev.PersonName = p.ID, p.Name
	}
	return ev
}

// eventFromGate is the evidence of a door event (forced, held open,
// passage, remote unlock, tailgating, relay error).
func eventFromGate(e gate.Event) storage.Event {
	return storage.Event{AtMicro: e.Time.UnixMicro(), Kind: string(e.Kind), Door: e.Door,
		PersonID: e.PersonID, Code: string(e.Code), Reason: e.Reason, By: e.By}
}
