package gate

import (
	"context"
	"fmt"
	"time"

	"github.com/warthog618/go-gpiocdev"
)

// DoorSensor reports the door contact: true = open.
type DoorSensor interface {
	// Watch calls fn on every change until ctx ends.
	Watch(ctx context.Context, fn func(open bool, at time.Time)) error
}

// GPIOSensor reads a door contact on a GPIO input with edge events.
type GPIOSensor struct {
	Chip     string
	Offset   int
	OpenHigh bool          // the line reads 1 when the door is open
	Debounce time.Duration // contact bounce filter; 0 = none
}

var _ DoorSensor = (*GPIOSensor)(nil)

// Watch requests the line with both edges and reports changes.
func (s *GPIOSensor) Watch(ctx context.Context, fn func(open bool, at time.Time)) error {
	opts := []gpiocdev.LineReqOption{gpiocdev.AsInput, gpiocdev.WithConsumer("facegate-door"), gpiocdev.WithBothEdges,
		gpiocdev.WithEventHandler(func(e gpiocdev.LineEvent) { fn(edgeOpen(e.Type, s.OpenHigh), time.Now()) })}
	if s.Debounce > 0 {
		opts = append(opts, gpiocdev.WithDebounce(s.Debounce))
	}
	l, err := gpiocdev.RequestLine(s.Chip, s.Offset, opts...)
	if err != nil {
		return fmt.Errorf("door sensor gpio %s line %d: %w", s.Chip, s.Offset, err)
	}
	defer l.Close()
	if v, err := l.Value(); err == nil {
		fn((v == 1) == s.OpenHigh, time.Now())
	}
	<-ctx.Done()
	return nil
}

// edgeOpen maps a contact edge to "door open": a rising edge means the
// line went to 1.
func edgeOpen(t gpiocdev.LineEventType, openHigh bool) bool {
	return (t == gpiocdev.LineEventRisingEdge) == openHigh
}
