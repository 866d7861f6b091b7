package mqtt

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"time"

	paho "github.com/eclipse/paho.mqtt.golang"

	"github.com/facegate/facegate/storage"
)

// Door is the door a command unlocks (gate.Controller).
type Door interface {
	RemoteUnlock(by, reason string) error
}

// Deps are what the publisher works with.
type Deps struct {
	// Recorder's DB is read for events and keeps the cursor; its Keys sign
	// the checkpoints sent with events; its Audit records remote unlocks.
	Recorder *storage.Recorder
	Door     Door             // nil: commands cannot unlock
	State    func() DoorState // nil: only the last person is published
	Log      *slog.Logger
}

// batchSize bounds the events read and in flight at once: a backlog goes
// out 100 at a time, each batch under one checkpoint.
const batchSize = 100

// maxRetry caps the wait between connection attempts.
const maxRetry = 30 * time.Second

// Publisher publishes a door's events and state to an MQTT broker,
// announces the door to Home Assistant and takes its unlock command.
type Publisher struct {
	opts   Options
	deps   Deps
	log    *slog.Logger
	topics Topics
	client paho.Client
	up     chan struct{} // a connection came up: announce and republish

	mu         sync.Mutex
	lastPerson string
}

// New checks opts and prepares the client; nothing connects until Run.
func New(opts Options, deps Deps) (*Publisher, error) {
	if err := opts.Validate(); err != nil {
		return nil, err
	}
	if deps.Recorder == nil || deps.Recorder.DB == nil || deps.Recorder.Keys == nil {
		return nil, errors.New("mqtt: a recorder with its database and keys is needed")
	}
	if opts.Poll <= 0 {
		opts.Poll = DefaultPoll
	}
	if deps.Log == nil {
		deps.Log = slog.New(slog.DiscardHandler)
	}
	p := &Publisher{opts: opts, deps: deps, log: deps.Log, topics: Topics{opts.Door}, up: make(chan struct{}, 1)}
	co, err := p.clientOptions()
	if err != nil {
		return nil, err
	}
	p.client = paho.NewClient(co)
	// On a first start the cursor is fixed here, before anything connects:
	// an event appended once the broker is reached (an MQTT unlock, say)
	// comes after it and is published. A failure is retried by pump.
	if _, err := p.startCursor(); err != nil {
		p.log.Warn("mqtt: cursor not read yet", "err", err)
	}
	if opts.Password != "" && !opts.tls() && !opts.Loopback() {
		p.log.Warn("mqtt: the password goes to the broker unencrypted: use mqtts://", "broker", opts.Broker)
	}
	return p, nil
}

func (p *Publisher) clientOptions() (*paho.ClientOptions, error) {
	co := paho.NewClientOptions().AddBroker(p.opts.server()).SetClientID("facegate-"+p.opts.Door).
		SetUsername(p.opts.Username).SetPassword(p.opts.Password).
		SetCleanSession(true).SetAutoReconnect(true).SetMaxReconnectInterval(maxRetry).
		SetConnectTimeout(10*time.Second).SetKeepAlive(30*time.Second).SetOrderMatters(true).
		// In-flight publishes are resent after a reconnect in the order
		// they were sent (the default store is a map: any order).
		SetStore(paho.NewOrderedMemoryStore()).
		SetWill(p.topics.Availability(), offline, 1, true).
		SetOnConnectHandler(func(paho.Client) {
			select {
			case p.up <- struct{}{}:
			default:
			}
		}).
		SetConnectionLostHandler(func(_ paho.Client, err error) {
			p.log.Warn("mqtt: broker connection lost; reconnecting", "broker", p.opts.Broker, "err", err)
		})
	if p.opts.tls() {
		tc, err := p.opts.tlsConfig()
		if err != nil {
			return nil, &OptionError{"mqtt-ca", err.Error()}
		}
		co.SetTLSConfig(tc)
	}
	return co, nil
}

// Run connects (retrying with backoff, each failure logged) and then
// publishes until ctx ends; it marks the door offline when it stops.
func (p *Publisher) Run(ctx context.Context) error {
	if !p.connect(ctx) {
		return nil
	}
	defer p.close()
	p.log.Info("mqtt: connected", "broker", p.opts.Broker, "door", p.opts.Door, "remote_unlock", p.opts.Unlock)
	var wg sync.WaitGroup
	wg.Go(func() { p.pump(ctx) })
	wg.Go(func() { p.link(ctx) })
	wg.Wait()
	return nil
}

// connect makes the first connection; later losses are the client's to
// repair (auto-reconnect).
func (p *Publisher) connect(ctx context.Context) bool {
	wait := time.Second
	for {
		tok := p.client.Connect()
		select {
		case <-tok.Done():
		case <-ctx.Done():
			return false
		}
		if tok.Error() == nil {
			return true
		}
		p.log.Error("mqtt: broker refused or not reached", "broker", p.opts.Broker, "user", p.opts.Username,
			"err", tok.Error(), "retry_in", wait)
		select {
		case <-time.After(wait):
		case <-ctx.Done():
			return false
		}
		wait = min(2*wait, maxRetry)
	}
}

// close says "offline" (the will says it when the process dies instead).
func (p *Publisher) close() {
	tok := p.client.Publish(p.topics.Availability(), 1, true, offline)
	tok.WaitTimeout(2 * time.Second)
	p.client.Disconnect(500)
}

// wait waits for tok or ctx; the token's error, or ctx's.
func wait(ctx context.Context, tok paho.Token) error {
	select {
	case <-tok.Done():
		return tok.Error()
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (p *Publisher) setLastPerson(name string) {
	p.mu.Lock()
	p.lastPerson = name
	p.mu.Unlock()
}

func (p *Publisher) getLastPerson() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.lastPerson
}

// sleep waits d or until ctx ends; false when it ended.
func sleep(ctx context.Context, d time.Duration) bool {
	select {
	case <-time.After(d):
		return true
	case <-ctx.Done():
		return false
	}
}
