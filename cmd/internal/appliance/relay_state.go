package appliance

import (
	"github.com/facegate/facegate/gate"
	"github.com/facegate/facegate/web"
)

// relayState is what the relay last commanded, for the home page.
func relayState(r *gate.SwitchRelay) string {
	if r == nil {
		return ""
	}
	if r.Unlocked() {
		return web.RelayUnlocked
	}
	return web.RelayLocked
}
