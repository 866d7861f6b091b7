package appliance

import (
	"context"
	"errors"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/facegate/facegate/gate/site"
)

// The live view through the central: the central cannot reach this door,
// so the door asks (a long poll) whether a console viewer opened its live
// view, and only then sends its newest annotated frame (the JPEG its own
// live page shows) and its decisions, until the central says nobody
// watches any more. Nobody watching: no frame leaves the door.
const (
	liveWait = 20 * time.Second // the long poll
	// liveEvery caps the stream at 8 frames a second (the pipeline makes
	// 5 previews a second, vision.PreviewEvery).
	liveEvery = 125 * time.Millisecond
	// liveIdle: no new frame for this long (a stalled camera), the door
	// asks whether it is still wanted rather than wait on.
	liveIdle = 2 * time.Second
	// liveOld: a central that does not know the live view (an older
	// version) is asked again this rarely.
	liveOld = 5 * time.Minute
)

// liveStats counts what the door sent on its live view.
type liveStats struct {
	frames, decisions atomic.Int64
}

// live waits for a viewer and streams while there is one, until ctx ends.
func (s *centralSync) live(ctx context.Context) {
	for ctx.Err() == nil {
		watch, err := s.client.LiveWanted(ctx, liveWait)
		var se *site.StatusError
		if errors.As(err, &se) && se.Status == http.StatusNotFound {
			sleep(ctx, liveOld) // a central without the live view
			continue
		} else if err != nil {
			sleep(ctx, retryEvery) // unreachable: pull and push say so
			continue
		}
		if !watch {
			continue
		}
		s.a.log.Info("live view watched on the central: streaming")
		n := s.a.liveSent.frames.Load()
		err = s.stream(ctx)
		s.a.log.Info("live view no longer watched: stopped", "frames", s.a.liveSent.frames.Load()-n)
		if err != nil && ctx.Err() == nil {
			s.unreached("live view: frame not sent to the central", err)
			sleep(ctx, retryEvery) // a refused frame is not sent again at once
		}
	}
}

// stream sends frames and decisions until nobody watches, or a frame
// fails (the error; the long poll then starts again).
func (s *centralSync) stream(ctx context.Context) error {
	ctx, stop := context.WithCancel(ctx)
	var wg sync.WaitGroup
	defer wg.Wait()
	defer stop()
	wg.Go(func() { s.streamDecisions(ctx, stop) })
	var seq int64
	next := time.Now()
	for sleep(ctx, time.Until(next)) {
		fctx, cancel := context.WithTimeout(ctx, liveIdle)
		jpg, n, err := s.a.hub.NextFrame(fctx, seq) // the newest: a slow upload skips frames
		cancel()
		next = time.Now().Add(liveEvery)
		var watch bool
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			watch, err = s.client.LiveWanted(ctx, 0)
		} else {
			seq = n
			if watch, err = s.client.LiveFrame(ctx, jpg); err == nil {
				s.a.liveSent.frames.Add(1)
			}
		}
		if err != nil || !watch {
			return err
		}
	}
	return nil
}

// streamDecisions sends the door's decisions as they happen.
func (s *centralSync) streamDecisions(ctx context.Context, stop func()) {
	ch, done := s.a.hub.Subscribe()
	defer done()
	for {
		select {
		case <-ctx.Done():
			return
		case b := <-ch:
			watch, err := s.client.LiveDecision(ctx, b)
			if err == nil {
				s.a.liveSent.decisions.Add(1)
			}
			if err == nil && !watch {
				stop()
				return
			}
		}
	}
}
