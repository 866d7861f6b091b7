package web

import (
	"context"
	"encoding/json"
	"sync"
	"time"
)

// LiveDoors are a site central's live views of its doors: per door a Hub
// (the door's newest frame and its decisions, as the door sends them) and
// how many console viewers watch it. Doors connect out to the central and
// cannot be reached, so a door asks whether it is wanted (a long poll,
// WaitWanted) and streams only then: nothing leaves a door while nobody
// watches. In memory only; a restart of the central loses nothing but the
// picture of the moment.
type LiveDoors struct {
	// Linger is how long a door is still wanted after its last viewer left
	// (a page reload, a viewer switching language), so it does not stop
	// and restart its stream for a blink.
	Linger time.Duration
	mu     sync.Mutex
	doors  map[string]*liveDoor
}

// DefaultLinger: 3 s covers a reload; a door then stops within one frame.
const DefaultLinger = 3 * time.Second

type liveDoor struct {
	hub     *Hub
	viewers int
	left    time.Time     // when the last viewer left
	wake    chan struct{} // closed when a viewer comes
	frames  int64         // frames received from the door
}

// NewLiveDoors returns live views with no door watched.
func NewLiveDoors() *LiveDoors {
	return &LiveDoors{Linger: DefaultLinger, doors: map[string]*liveDoor{}}
}

// door is door's live view, made at first use; l.mu is held.
func (l *LiveDoors) door(name string) *liveDoor {
	d, ok := l.doors[name]
	if !ok {
		d = &liveDoor{hub: NewHub(), wake: make(chan struct{})}
		l.doors[name] = d
	}
	return d
}

// wanted: someone watches, or left less than Linger ago; l.mu is held.
func (l *LiveDoors) wanted(d *liveDoor, now time.Time) bool {
	return d.viewers > 0 || now.Sub(d.left) < l.Linger
}

// Watch counts a viewer of door's live view until the returned function
// is called, and wakes the door's long poll. A frame left from an earlier
// viewing is dropped: the viewer waits for the door's next one rather
// than take an old picture for live.
func (l *LiveDoors) Watch(door string) (*Hub, func()) {
	l.mu.Lock()
	defer l.mu.Unlock()
	d := l.door(door)
	if !l.wanted(d, time.Now()) {
		d.hub.ClearFrame()
	}
	d.viewers++
	if d.viewers == 1 {
		close(d.wake)
		d.wake = make(chan struct{})
	}
	var once sync.Once
	return d.hub, func() {
		once.Do(func() {
			l.mu.Lock()
			defer l.mu.Unlock()
			d.viewers--
			if d.viewers == 0 {
				d.left = time.Now()
			}
		})
	}
}

// Wanted reports whether door's live view is watched (or was within
// Linger).
func (l *LiveDoors) Wanted(door string) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.wanted(l.door(door), time.Now())
}

// WaitWanted waits until door's live view is wanted or ctx ends, and
// says which.
func (l *LiveDoors) WaitWanted(ctx context.Context, door string) bool {
	for {
		l.mu.Lock()
		d := l.door(door)
		ok, wake := l.wanted(d, time.Now()), d.wake
		l.mu.Unlock()
		if ok {
			return true
		}
		select {
		case <-wake:
		case <-ctx.Done():
			return false
		}
	}
}

// Frame is a frame (JPEG) from door: shown to its viewers. It says
// whether the door should go on sending.
func (l *LiveDoors) Frame(door string, jpg []byte) bool {
	l.mu.Lock()
	d := l.door(door)
	d.frames++
	ok := l.wanted(d, time.Now())
	l.mu.Unlock()
	d.hub.PublishFrame(jpg)
	return ok
}

// Decision is a decision from door (the JSON its own live page gets):
// shown to its viewers. It says whether the door should go on sending.
func (l *LiveDoors) Decision(door string, v json.RawMessage) bool {
	l.mu.Lock()
	d := l.door(door)
	ok := l.wanted(d, time.Now())
	l.mu.Unlock()
	d.hub.PublishDecision(v)
	return ok
}

// Frames is how many frames door has sent since the central started.
func (l *LiveDoors) Frames(door string) int64 {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.door(door).frames
}

// Hub is door's live view without watching it (whether a frame is there).
func (l *LiveDoors) Hub(door string) *Hub {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.door(door).hub
}
