package appliance

import (
	"context"

	"github.com/facegate/facegate/gate/mqtt"
)

// publishMQTT runs the MQTT publisher while the appliance runs, when a
// broker is configured (serve --mqtt): events from the evidence chain,
// the door's state, Home Assistant discovery, and remote unlock through
// the door controller when the admin enabled it.
func (a *Appliance) publishMQTT(ctx context.Context) {
	if a.cfg.MQTT.Broker == "" {
		return
	}
	opts := a.cfg.MQTT
	opts.Door = a.cfg.Door
	p, err := mqtt.New(opts, mqtt.Deps{Recorder: a.recorder, Door: a.ctrl, State: a.doorState, Log: a.log})
	if err != nil {
		a.log.Error("mqtt: not started", "err", err)
		return
	}
	if err := p.Run(ctx); err != nil {
		a.log.Error("mqtt: stopped", "err", err)
	}
}

// doorState is what the MQTT state topics show: the relay as last
// commanded, the door contact (none without a sensor) and the camera.
func (a *Appliance) doorState() mqtt.DoorState {
	s := mqtt.DoorState{Locked: !a.relay.Unlocked(), Camera: string(a.recog.src.Status().State)}
	if a.sensor != nil {
		open := a.ctrl.DoorOpen()
		s.Open = &open
	}
	return s
}
