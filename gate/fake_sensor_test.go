package gate

import (
	"context"
	"time"
)

// FakeSensor is a door contact driven by tests.
type FakeSensor struct {
	ch chan bool
}

var _ DoorSensor = (*FakeSensor)(nil)

// NewFakeSensor returns a sensor whose door is opened and closed by Set.
func NewFakeSensor() *FakeSensor { return &FakeSensor{ch: make(chan bool, 16)} }

// Set opens (true) or closes the fake door.
func (f *FakeSensor) Set(open bool) { f.ch <- open }

func (f *FakeSensor) Watch(ctx context.Context, fn func(open bool, at time.Time)) error {
	for {
		select {
		case <-ctx.Done():
			return nil
		case v := <-f.ch:
			fn(v, time.Now())
		}
	}
}
