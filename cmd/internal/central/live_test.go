package central

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/facegate/facegate/gate/site"
	"github.com/facegate/facegate/storage"
)

// The central's side of a door's live view: the door's long poll wakes
// when a viewer comes; its frames and decisions reach the viewer; the
// answers say to stop once the viewer has gone; a frame too large, not a
// JPEG, or from a door not joined or revoked is refused, and counts
// nothing.
func TestLiveViewRelay(t *testing.T) {
	c, url := newTestCentral(t)
	c.live.Linger = 300 * time.Millisecond
	_, key, _ := ed25519.GenerateKey(nil)
	cl, _ := site.NewClient(url, key, nil)
	ctx := context.Background()
	if _, err := cl.LiveFrame(ctx, []byte{0xff, 0xd8, 1}); !errors.Is(err, site.ErrNotJoined) {
		t.Fatalf("a frame from a door not joined: %v, want ErrNotJoined", err)
	}
	tok, _ := c.db.NewOneTimeLink(storage.JoinPurpose, "front", time.Now().Add(time.Hour), "test")
	if _, err := cl.Join(ctx, tok); err != nil {
		t.Fatal(err)
	}
	if watch, err := cl.LiveWanted(ctx, 300*time.Millisecond); err != nil || watch {
		t.Fatalf("nobody watching: watch=%v %v, want false after the wait", watch, err)
	}
	asked := make(chan bool, 1)
	go func() { w, _ := cl.LiveWanted(ctx, 20*time.Second); asked <- w }()
	time.Sleep(100 * time.Millisecond) // the door is waiting
	opened := time.Now()
	hub, leave := c.live.Watch("front")
	defer leave()
	select {
	case w := <-asked:
		if !w {
			t.Fatal("the long poll answered watch=false to a viewer")
		}
		t.Logf("viewer opened → the door's long poll answered in %v", time.Since(opened).Round(time.Millisecond))
	case <-time.After(5 * time.Second):
		t.Fatal("the long poll did not wake when a viewer came")
	}
	decisions, stop := hub.Subscribe()
	defer stop()
	jpg := []byte{0xff, 0xd8, 0xff, 0xe0, 'f', 'r', 'a', 'm', 'e'}
	if watch, err := cl.LiveFrame(ctx, jpg); err != nil || !watch {
		t.Fatalf("a frame while watched: %v %v", watch, err)
	}
	got, _, err := hub.NextFrame(ctx, 0)
	if err != nil || !bytes.Equal(got, jpg) {
		t.Fatalf("the viewer's frame: %q %v", got, err)
	}
	if watch, err := cl.LiveDecision(ctx, []byte(`{"person":"Ada","result":"granted"}`)); err != nil || !watch {
		t.Fatalf("a decision while watched: %v %v", watch, err)
	}
	if d := <-decisions; !strings.Contains(string(d), `"Ada"`) {
		t.Fatalf("the viewer's decision: %s", d)
	}
	var se *site.StatusError
	if _, err := cl.LiveFrame(ctx, append([]byte{0xff, 0xd8}, make([]byte, site.MaxLiveFrame)...)); !errors.As(err, &se) ||
		se.Status != 413 || !strings.Contains(se.Message, "at most 2 MB") {
		t.Fatalf("a frame over 2 MB: %v, want 413 saying the limit", err)
	}
	if _, err := cl.LiveFrame(ctx, []byte("<html>")); !errors.As(err, &se) || se.Status != 400 || !strings.Contains(se.Message, "JPEG") {
		t.Fatalf("a frame that is no JPEG: %v, want 400", err)
	}
	if _, err := cl.LiveDecision(ctx, []byte("{")); !errors.As(err, &se) || se.Status != 400 {
		t.Fatalf("a decision that is no JSON: %v, want 400", err)
	}
	leave()
	if watch, _ := cl.LiveFrame(ctx, jpg); !watch {
		t.Error("the viewer left a moment ago (a reload?): the door should go on for the linger")
	}
	time.Sleep(400 * time.Millisecond)
	if watch, err := cl.LiveFrame(ctx, jpg); err != nil || watch {
		t.Fatalf("after the viewer left: watch=%v %v, want false", watch, err)
	}
	n := c.LiveFrames("front")
	if n != 3 {
		t.Errorf("frames received %d, want 3 (the refused ones count nothing)", n)
	}
	c.db.RevokeAppliances("front", time.Now())
	if _, err := cl.LiveFrame(ctx, jpg); !errors.As(err, &se) || se.Status != 403 {
		t.Fatalf("a revoked door's frame: %v, want 403", err)
	}
	if _, err := cl.LiveWanted(ctx, 0); !errors.As(err, &se) || se.Status != 403 {
		t.Fatalf("a revoked door's long poll: %v, want 403", err)
	}
	if c.LiveFrames("front") != n {
		t.Error("a revoked door's frame was taken")
	}
}
