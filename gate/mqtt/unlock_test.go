package mqtt

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/facegate/facegate/storage"
)

// adminUnlocks lists the audit entries of remote unlocks.
func adminUnlocks(t *testing.T, rec *storage.Recorder) []storage.Event {
	t.Helper()
	evs, err := rec.DB.Events(storage.EventFilter{Kind: storage.KindAdmin})
	if err != nil {
		t.Fatal(err)
	}
	var out []storage.Event
	for _, e := range evs {
		if e.Code == "remote_unlock" {
			out = append(out, e)
		}
	}
	return out
}

// With remote unlock off an UNLOCK is refused and logged, and the relay
// never moves. With it on, UNLOCK pulses the door through the door's
// remote unlock: an audit entry and a remote_unlock event, both by
// "mqtt:<user>", and the event goes out on the event topic. A retained
// UNLOCK is refused even then.
func TestUnlockCommandOnlyWhenEnabledAndAudited(t *testing.T) {
	b := broker(t)
	door := newDoorID()
	rec := openRecorder(t)
	ctrl, relay, sw := newDoor(t, rec, door)
	state := func() DoorState { return DoorState{Locked: !relay.Unlocked(), Camera: "streaming"} }
	tp := Topics{door}
	cmd, events := client(t, b, "cmd-"+door, false, tp.Event())
	send := func(payload string, retain bool) {
		t.Helper()
		if tok := cmd.Publish(tp.Command(), 1, retain, payload); !tok.WaitTimeout(5*time.Second) || tok.Error() != nil {
			t.Fatalf("command not sent: %v", tok.Error())
		}
	}

	lg := &logs{}
	stop := startStoppable(t, b.options(door), Deps{Recorder: rec, Door: ctrl, State: state, Log: lg.with()})
	lg.waitFor(t, 10*time.Second, "mqtt: connected")
	waitRetained(t, b, tp.Availability(), "online")
	send("UNLOCK", false)
	lg.waitFor(t, 10*time.Second, "command ignored", "--mqtt-unlock")
	if sw.count() != 0 || len(adminUnlocks(t, rec)) != 0 {
		t.Fatalf("with remote unlock off: %d unlocks, audit %v", sw.count(), adminUnlocks(t, rec))
	}
	stop()

	opts := b.options(door)
	opts.Unlock = true
	lg = &logs{}
	stop = startStoppable(t, opts, Deps{Recorder: rec, Door: ctrl, State: state, Log: lg.with()})
	lg.waitFor(t, 10*time.Second, "mqtt: connected")
	waitRetained(t, b, tp.Availability(), "online")
	send("UNLOCK", false)
	lg.waitFor(t, 10*time.Second, "door unlocked by command", "mqtt:facegate")
	if sw.count() != 1 {
		t.Fatalf("relay unlocked %d times, want 1", sw.count())
	}
	audit := adminUnlocks(t, rec)
	if len(audit) != 1 || audit[0].By != "mqtt:facegate" {
		t.Fatalf("audit entries %+v, want one by mqtt:facegate", audit)
	}
	await(t, events, 10*time.Second, func(m message) bool {
		var em EventMessage
		if err := json.Unmarshal([]byte(m.Payload), &em); err != nil {
			t.Fatal(err)
		}
		return em.Kind == storage.KindRemoteUnlock && em.By == "mqtt:facegate" && em.Door == door
	})

	send("OPEN SESAME", false)
	lg.waitFor(t, 10*time.Second, "unknown command ignored")
	stop()

	// A retained command reaches the publisher when it (re)subscribes.
	send("UNLOCK", true)
	t.Cleanup(func() { send("", true) }) // the broker forgets it
	lg = &logs{}
	startStoppable(t, opts, Deps{Recorder: rec, Door: ctrl, State: state, Log: lg.with()})
	lg.waitFor(t, 10*time.Second, "retained command ignored")
	if sw.count() != 1 {
		t.Fatalf("relay unlocked %d times after refused commands, want 1", sw.count())
	}
}
