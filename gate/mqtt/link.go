package mqtt

import (
	"context"
	"maps"
	"slices"
	"strings"
	"time"

	paho "github.com/eclipse/paho.mqtt.golang"
)

// link announces the door on every (re)connection and keeps the retained
// state topics current: each part is published when it changes, and all
// of them again after a reconnection (a broker without persistence has
// forgotten them).
func (p *Publisher) link(ctx context.Context) {
	var sent map[string]string // nil until announced
	tick := time.NewTicker(p.opts.Poll)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-p.up:
			if err := p.announce(ctx); err != nil {
				p.log.Warn("mqtt: door not announced", "err", err)
			}
			sent = map[string]string{}
		case <-tick.C:
		}
		if sent != nil && p.client.IsConnectionOpen() {
			p.publishState(ctx, sent)
		}
	}
}

// announce says "online", publishes the Home Assistant discovery configs
// (retained) and subscribes to the command topic. The subscription is
// there even with remote unlock off, so that commands are logged as
// refused rather than vanish.
func (p *Publisher) announce(ctx context.Context) error {
	if err := wait(ctx, p.client.Publish(p.topics.Availability(), 1, true, online)); err != nil {
		return err
	}
	for _, d := range DiscoveryConfigs(p.opts.Door, p.opts.Unlock) {
		if err := wait(ctx, p.client.Publish(d.Topic, 1, true, d.Payload)); err != nil {
			return err
		}
	}
	return wait(ctx, p.client.Subscribe(p.topics.Command(), 1, p.onCommand))
}

// publishState publishes the parts that differ from sent, and records
// them in sent once the broker has them.
func (p *Publisher) publishState(ctx context.Context, sent map[string]string) {
	var s DoorState
	if p.deps.State != nil {
		s = p.deps.State()
	}
	now := s.parts(p.getLastPerson())
	if p.deps.State == nil {
		now = map[string]string{"last_person": now["last_person"]}
	}
	for _, part := range slices.Sorted(maps.Keys(now)) {
		if v, ok := sent[part]; ok && v == now[part] {
			continue
		}
		if err := wait(ctx, p.client.Publish(p.topics.State(part), 1, true, now[part])); err != nil {
			p.log.Warn("mqtt: state not published", "part", part, "err", err)
			return
		}
		sent[part] = now[part]
	}
}

// onCommand takes a message on facegate/<door>/set. Only "UNLOCK", only
// with remote unlock on, and never a retained one (it would unlock the
// door again at every reconnection).
func (p *Publisher) onCommand(_ paho.Client, m paho.Message) {
	cmd := strings.TrimSpace(string(m.Payload()))
	if len(cmd) > 40 {
		cmd = cmd[:40] + "…"
	}
	switch {
	case m.Retained():
		p.log.Warn("mqtt: retained command ignored: send commands without the retain flag", "topic", m.Topic(), "command", cmd)
	case !p.opts.Unlock:
		p.log.Warn("mqtt: command ignored: remote unlock over MQTT is off (serve --mqtt-unlock)", "topic", m.Topic(), "command", cmd)
	case cmd == commandLock:
		p.log.Info("mqtt: lock command ignored: the door relocks by itself after each pulse", "topic", m.Topic())
	case cmd != CommandUnlock:
		p.log.Warn("mqtt: unknown command ignored: the command topic takes UNLOCK", "topic", m.Topic(), "command", cmd)
	default:
		p.unlock()
	}
}

// unlock is POST /api/v1/door/unlock's path: an audit entry, then the
// door's remote unlock, which records a remote_unlock event; both say who
// ("mqtt:<broker user>") and why.
func (p *Publisher) unlock() {
	by := "mqtt:" + p.opts.Username
	reason := "MQTT command on " + p.topics.Command()
	if _, err := p.deps.Recorder.Audit(by, "remote_unlock", map[string]any{"reason": reason}); err != nil {
		p.log.Error("audit entry not recorded", "action", "remote_unlock", "err", err)
	}
	if p.deps.Door == nil {
		p.log.Error("mqtt: unlock command: this appliance controls no door")
		return
	}
	if err := p.deps.Door.RemoteUnlock(by, reason); err != nil {
		p.log.Error("mqtt: unlock command: relay failed", "err", err)
		return
	}
	p.log.Info("mqtt: door unlocked by command", "by", by)
}
