package gate

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// OpenRelay opens a fail-secure relay from a spec:
//
//	sim:PATH                      simulated relay, state in PATH (demo, tests)
//	gpio:CHIP:OFFSET[:active-low] GPIO character device line, e.g. gpio:gpiochip0:17:active-low
//	serial:PATH[:CHANNEL]         LCUS-type USB relay board, e.g. serial:/dev/ttyUSB0:1
//	http://HOST/rpc[#ID]          Shelly-style Switch.Set RPC (switch ID, default 0)
//
// The relay is locked before OpenRelay returns. onChange (may be nil) hears
// every transition of the simulated relay, for the demo's log.
func OpenRelay(spec string, onError func(error), onChange func(unlocked bool)) (*SwitchRelay, error) {
	kind, rest, _ := strings.Cut(spec, ":")
	var sw Switch
	var err error
	switch kind {
	case "sim":
		if rest == "" {
			return nil, fmt.Errorf("relay %q: want sim:PATH", spec)
		}
		sw, err = OpenFileSwitch(rest, onChange)
	case "gpio":
		parts := strings.Split(rest, ":")
		if len(parts) < 2 || len(parts) > 3 || (len(parts) == 3 && parts[2] != "active-low" && parts[2] != "active-high") {
			return nil, fmt.Errorf("relay %q: want gpio:CHIP:OFFSET[:active-low]", spec)
		}
		off, perr := strconv.Atoi(parts[1])
		if perr != nil || off < 0 {
			return nil, fmt.Errorf("relay %q: line offset %q is not a number", spec, parts[1])
		}
		sw, err = OpenGPIOSwitch(parts[0], off, len(parts) == 3 && parts[2] == "active-low")
	case "serial":
		path, ch := rest, 1
		if i := strings.LastIndex(rest, ":"); i >= 0 {
			n, perr := strconv.Atoi(rest[i+1:])
			if perr != nil {
				return nil, fmt.Errorf("relay %q: channel %q is not a number", spec, rest[i+1:])
			}
			path, ch = rest[:i], n
		}
		if path == "" {
			return nil, fmt.Errorf("relay %q: want serial:PATH[:CHANNEL]", spec)
		}
		sw, err = OpenSerialSwitch(path, ch)
	case "http", "https":
		url, frag, _ := strings.Cut(spec, "#")
		id := 0
		if frag != "" {
			if id, err = strconv.Atoi(frag); err != nil {
				return nil, fmt.Errorf("relay %q: switch id %q is not a number", spec, frag)
			}
		}
		sw = &HTTPSwitch{URL: url, ID: id}
	default:
		return nil, fmt.Errorf("relay %q: unknown kind %q (want sim:, gpio:, serial: or http://)", spec, kind)
	}
	if err != nil {
		return nil, err
	}
	r, err := NewSwitchRelay(sw, onError)
	if err != nil {
		sw.Close()
		return nil, err
	}
	return r, nil
}

// ParseSensor reads a door-contact spec: "" (none) or
// gpio:CHIP:OFFSET[:open-high|open-low] (default open-high: a reed switch
// to ground with a pull-up reads 1 when the door is open).
func ParseSensor(spec string) (DoorSensor, error) {
	if spec == "" {
		return nil, nil
	}
	kind, rest, _ := strings.Cut(spec, ":")
	parts := strings.Split(rest, ":")
	if kind != "gpio" || len(parts) < 2 || len(parts) > 3 || (len(parts) == 3 && parts[2] != "open-high" && parts[2] != "open-low") {
		return nil, fmt.Errorf("door sensor %q: want gpio:CHIP:OFFSET[:open-high|open-low]", spec)
	}
	off, err := strconv.Atoi(parts[1])
	if err != nil || off < 0 {
		return nil, fmt.Errorf("door sensor %q: line offset %q is not a number", spec, parts[1])
	}
	return &GPIOSensor{Chip: parts[0], Offset: off, OpenHigh: len(parts) < 3 || parts[2] == "open-high",
		Debounce: sensorDebounce}, nil
}

// sensorDebounce filters reed-contact bounce, which lasts a few ms.
const sensorDebounce = 20 * time.Millisecond

// EveryoneGroup is the group SingleDoorPolicy gives access to.
const EveryoneGroup = "everyone"

// SingleDoorPolicy is the policy of a one-door appliance until rules are
// set in the web app: every enrolled person in EveryoneGroup, always.
func SingleDoorPolicy(doorID string, loc *time.Location, open time.Duration, level SecurityLevel) *Policy {
	always := Schedule{Name: "always", Windows: []Window{{Days: [7]bool{true, true, true, true, true, true, true}, Start: 0, End: 24 * 60}}}
	return &Policy{
		Location: loc,
		Areas:    map[string]Area{"entrance": {Name: "entrance"}},
		Doors: map[string]Door{doorID: {ID: doorID, Name: doorID, Area: "entrance", Direction: DirBoth,
			OpenTime: open, Level: level}},
		Groups: map[string]Group{EveryoneGroup: {Name: EveryoneGroup,
			Rules: []Rule{{Name: "everyone, always", Doors: []string{doorID}, Schedule: always}}}},
	}
}
