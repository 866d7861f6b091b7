package web

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"sync"
	"time"

	"github.com/labstack/echo/v4"
)

// Hub carries the live view: the latest annotated camera frame, and the
// decisions as they happen. Slow browsers miss messages; they never slow
// the pipeline.
type Hub struct {
	mu     sync.Mutex
	frame  []byte
	seq    int64
	cond   *sync.Cond
	subs   map[chan []byte]bool
	recent [][]byte
}

// hubRecent is how many decisions a newly opened live page is shown.
const hubRecent = 20

// NewHub returns an empty hub.
func NewHub() *Hub {
	h := &Hub{subs: map[chan []byte]bool{}}
	h.cond = sync.NewCond(&h.mu)
	return h
}

// PublishFrame replaces the live frame (JPEG).
func (h *Hub) PublishFrame(jpg []byte) {
	h.mu.Lock()
	h.frame, h.seq = jpg, h.seq+1
	h.mu.Unlock()
	h.cond.Broadcast()
}

// PublishDecision sends a decision (any JSON-able value) to live pages.
func (h *Hub) PublishDecision(v any) {
	b, err := json.Marshal(v)
	if err != nil {
		return
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	h.recent = append(h.recent, b)
	if len(h.recent) > hubRecent {
		h.recent = h.recent[1:]
	}
	for ch := range h.subs {
		select {
		case ch <- b:
		default: // a slow browser drops messages
		}
	}
}

func (h *Hub) subscribe() (chan []byte, [][]byte) {
	ch := make(chan []byte, 16)
	h.mu.Lock()
	defer h.mu.Unlock()
	h.subs[ch] = true
	return ch, append([][]byte(nil), h.recent...)
}

func (h *Hub) unsubscribe(ch chan []byte) {
	h.mu.Lock()
	delete(h.subs, ch)
	h.mu.Unlock()
}

// NextFrame waits for a frame newer than after (a seq it returned before;
// 0 at first) and returns the newest with its seq, skipping any between:
// a slow reader gets the latest frame, never a backlog. It returns
// ctx's error when ctx ends first.
func (h *Hub) NextFrame(ctx context.Context, after int64) ([]byte, int64, error) {
	stop := context_AfterFunc(ctx, h)
	defer stop()
	h.mu.Lock()
	defer h.mu.Unlock()
	for (h.seq == after || h.frame == nil) && ctx.Err() == nil {
		h.cond.Wait()
	}
	if err := ctx.Err(); err != nil {
		return nil, after, err
	}
	return h.frame, h.seq, nil
}

// ClearFrame forgets the live frame, so a viewer who comes later waits for
// a new one rather than seeing an old picture as live.
func (h *Hub) ClearFrame() {
	h.mu.Lock()
	h.frame = nil
	h.mu.Unlock()
}

// HasFrame reports whether a live frame is there to show.
func (h *Hub) HasFrame() bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.frame != nil
}

// Subscribe returns the decisions published from now on (JSON) and a
// function to call when done. A slow reader misses decisions.
func (h *Hub) Subscribe() (<-chan []byte, func()) {
	ch, _ := h.subscribe()
	return ch, func() { h.unsubscribe(ch) }
}

// liveMJPEG streams this appliance's annotated camera frames.
func (s *Server) liveMJPEG(c echo.Context) error { return s.streamMJPEG(c, s.deps.Hub) }

// liveSSE streams this appliance's decisions.
func (s *Server) liveSSE(c echo.Context) error { return s.streamSSE(c, s.deps.Hub) }

// streamMJPEG streams h's frames as multipart JPEG, until the client goes
// or its session ends.
func (s *Server) streamMJPEG(c echo.Context, h *Hub) error {
	const boundary = "facegateframe"
	// The session is watched before the client hears of the stream: a
	// logout right after the headers must end it at once.
	ctx, cancel := s.streamContext(c)
	defer cancel()
	w := c.Response()
	w.Header().Set("Content-Type", "multipart/x-mixed-replace; boundary="+boundary)
	w.WriteHeader(http.StatusOK)
	w.Flush()
	var last int64
	for {
		frame, seq, err := h.NextFrame(ctx, last)
		if err != nil {
			return nil
		}
		last = seq
		if _, err := fmt.Fprintf(w, "--%s\r\nContent-Type: image/jpeg\r\nContent-Length: %d\r\n\r\n", boundary, len(frame)); err != nil {
			return nil
		}
		w.Write(frame)
		w.Write([]byte("\r\n"))
		w.Flush()
	}
}

// streamSSE streams h's decisions as server-sent events, until the client
// goes or its session ends.
func (s *Server) streamSSE(c echo.Context, h *Hub) error {
	ctx, cancel := s.streamContext(c)
	defer cancel()
	w := c.Response()
	w.Header().Set("Content-Type", "text/event-stream")
	w.WriteHeader(http.StatusOK)
	ch, recent := h.subscribe()
	defer h.unsubscribe(ch)
	// The backlog is "recent": the page lists it but draws nothing over
	// the video, where only what happens now belongs.
	for _, b := range recent {
		fmt.Fprintf(w, "event: recent\ndata: %s\n\n", b)
	}
	w.Flush()
	ping := time.NewTicker(15 * time.Second)
	defer ping.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case b := <-ch:
			fmt.Fprintf(w, "event: decision\ndata: %s\n\n", b)
			w.Flush()
		case <-ping.C:
			fmt.Fprint(w, ": ping\n\n")
			w.Flush()
		}
	}
}
