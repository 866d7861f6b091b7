package appliance

import "github.com/facegate/facegate/web"

// addWebKeypad makes the door's web keypad, one more PIN pad beside the
// USB ones. It is always there and inert: it takes PINs only from a
// tablet an admin paired to the door (web app, Keypad page), so no flag
// turns it on, and pairing none leaves a face+pin door to its USB keypad.
func (a *Appliance) addWebKeypad() {
	a.webKeypad = web.NewWebKeypad(a.cfg.Door)
	a.keypads = append(a.keypads, a.webKeypad)
}
