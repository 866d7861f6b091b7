package web

import "context"

// context_AfterFunc wakes MJPEG writers waiting on the hub when their
// request ends.
func context_AfterFunc(ctx context.Context, h *Hub) func() bool {
	return context.AfterFunc(ctx, func() {
		h.mu.Lock()
		h.cond.Broadcast()
		h.mu.Unlock()
	})
}
