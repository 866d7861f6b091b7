package appliance

import (
	"time"

	"github.com/facegate/facegate/gate"
)

// presenceTimeout is how long a decision at an anti-passback door waits
// for the central before it decides on the door's own record: a grant or
// denial on a LAN answers in a few milliseconds; a central that does not
// answer in 300 ms is treated as offline for this decision.
const presenceTimeout = 300 * time.Millisecond

// sitePresence brings the door's anti-passback record of p up to date
// with the central's, which knows every door of the area: entered at
// another door, or left by another door. The newer of the two wins (this
// door's own last passages may not be pushed yet). Offline (stale, no
// answer), the door keeps its own record: the documented fallback, which
// knows only this door's passages.
func (a *Appliance) sitePresence(p *gate.Person) {
	s := a.central
	if s == nil || p == nil {
		return
	}
	pol := a.policy.Policy()
	door, ok := pol.Doors[a.cfg.Door]
	if !ok || !pol.Areas[door.Area].AntiPassback {
		return
	}
	if stale, _ := s.Stale(); stale {
		return
	}
	ans, err := s.client.Presence(a.runCtx, p.ID, door.Area, presenceTimeout)
	if err != nil {
		a.log.Warn("anti-passback decided on this door's own record: the central did not answer", "err", err)
		return
	}
	if !ans.Known {
		return
	}
	at := time.UnixMicro(ans.AtMicro)
	since, inside := a.presence.Inside(p.ID, door.Area)
	switch {
	case ans.Direction == string(gate.DirIn) && (!inside || at.After(since)):
		a.presence.Record(p.ID, gate.Door{Area: door.Area, Direction: gate.DirIn}, at)
	case ans.Direction == string(gate.DirOut) && inside && at.After(since):
		a.presence.Record(p.ID, gate.Door{Area: door.Area, Direction: gate.DirOut}, at)
	}
}
