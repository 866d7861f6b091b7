package web

import (
	"context"
	"image/jpeg"
	"mime"
	"mime/multipart"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/facegate/facegate/storage"
)

// On a central a viewer opens a door's live view: the page names the
// door's streams and waits for the door; its MJPEG counts as a viewer
// (the door is wanted) and carries the frames the door sends; when the
// viewer goes the door is no longer wanted (after the linger). A door
// not heard from is said offline; an unknown door is 404; the central's
// own /live (no camera) goes to Home, and the doors page links each
// door's live view.
func TestCentralDoorLive(t *testing.T) {
	h := newHarness(t)
	h.user("viv", storage.RoleViewer)
	h.user("ivy", storage.RoleInvestigator)
	fillSite(t, h)
	live := h.server().deps.Live
	live.Linger = 200 * time.Millisecond
	c := h.login("viv")
	code, page := get(t, c, h.ts.URL+"/doors/front/live")
	if code != http.StatusOK || !strings.Contains(page, `data-src="/doors/front/live.mjpg"`) ||
		!strings.Contains(page, `data-events="/doors/front/events/stream"`) || !strings.Contains(page, `<span id="waiting">`) {
		t.Fatalf("the front door's live page: %d\n%s", code, page)
	}
	if !strings.Contains(page, `id="offline" class="warn" hidden`) {
		t.Error("the front door is online, yet its live page says offline")
	}
	if code, _ := get(t, c, h.ts.URL+"/doors/nowhere/live.mjpg"); code != http.StatusNotFound {
		t.Errorf("an unknown door's stream: %d, want 404", code)
	}
	if resp, err := noRedirect(c).Get(h.ts.URL + "/live"); err != nil || resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/" {
		t.Errorf("the central's own /live: %v %v, want 303 to /", resp.Status, err)
	}
	if live.Wanted("front") {
		t.Fatal("the front door is wanted before anyone opened its stream")
	}
	ctx, cancel := context.WithCancel(context.Background())
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, h.ts.URL+"/doors/front/live.mjpg", nil)
	resp, err := c.Do(req)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("the front door's stream: %v %v", resp, err)
	}
	waitWanted(t, live, "front", true)
	jpg := grey640(t)
	go func() { // the door, sending 5 frames a second while wanted
		for ctx.Err() == nil && live.Frame("front", jpg) {
			time.Sleep(200 * time.Millisecond)
		}
	}()
	_, params, _ := mime.ParseMediaType(resp.Header.Get("Content-Type"))
	part, err := multipart.NewReader(resp.Body, params["boundary"]).NextPart()
	if err != nil {
		t.Fatal(err)
	}
	if img, err := jpeg.Decode(part); err != nil || img.Bounds().Dx() != 640 {
		t.Fatalf("the viewer's frame: %v", err)
	}
	cancel()
	waitWanted(t, live, "front", false)
	h.advance(2 * time.Minute) // nobody heard from either door since
	if _, page := get(t, c, h.ts.URL+"/doors/back/live"); strings.Contains(page, `id="offline" class="warn" hidden`) {
		t.Errorf("the back door is not heard from, yet its live page does not say offline:\n%s", page)
	}
	_, doors := get(t, h.login("ivy"), h.ts.URL+"/doors")
	if !strings.Contains(doors, `href="/doors/front/live"`) || !strings.Contains(doors, `href="/doors/back/live"`) {
		t.Errorf("the doors page has no live link per door:\n%s", doors)
	}
}

func waitWanted(t *testing.T, l *LiveDoors, door string, want bool) {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); l.Wanted(door) != want; time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("door %s wanted: %v after 5 s, want %v", door, !want, want)
		}
	}
}

func noRedirect(c *http.Client) *http.Client {
	n := *c
	n.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	return &n
}

// The central's Home is the site's overview: each door in short with its
// live view, today's counts across the doors, the newest decisions at any
// door (newest first), the doors' own alarms and the alarms about their
// logs. A viewer gets no link to the investigators' pages, and the
// central has no camera of its own to show.
func TestCentralHome(t *testing.T) {
	h := newHarness(t)
	h.user("viv", storage.RoleViewer)
	front, back := fillSite(t, h)
	front.rec.Record(storage.Event{AtMicro: h.now().Add(-10 * time.Minute).UnixMicro(), Kind: storage.KindDoorForced, Door: "front",
		Reason: "door opened while locked"}, nil, nil)
	front.push(t, h, &storage.DoorStatus{Camera: "streaming", Relay: "locked"})
	back.db.Append(storage.Event{Kind: storage.KindDenied, Door: "back"})
	h.db.ReceivePush(back.app.ID, storage.SitePush{Head: storage.ChainHead{Seq: 1, Hash: "0000"}}) // an alarm about its log
	c := h.login("viv")
	code, page := get(t, c, h.ts.URL+"/")
	if code != http.StatusOK {
		t.Fatalf("home: %d\n%s", code, page)
	}
	for _, want := range []string{`id="count-granted">2<`, `id="count-denied">0<`, `id="count-unknown">1<`,
		`href="/doors/front/live"`, `href="/doors/back/live"`, `data-door="front"`, "streaming", "locked"} {
		if !strings.Contains(page, want) {
			t.Errorf("home has no %s", want)
		}
	}
	recent := between(page, `<section id="recent">`, "</section>")
	if strings.Count(recent, "<tr class=") != 3 || strings.Index(recent, "<td>back</td>") > strings.Index(recent, "<td>front</td>") {
		t.Errorf("the newest decisions across the doors, newest (Ada out by the back) first:\n%s", recent)
	}
	if a := between(page, `<table id="door-alarms">`, "</table>"); !strings.Contains(a, "<td>front</td>") {
		t.Errorf("the front door's forced door is not among the alarms:\n%s", a)
	}
	if a := between(page, `<table id="site-alarms">`, "</table>"); !strings.Contains(a, "<td>back</td>") {
		t.Errorf("the alarm about the back door's log is not listed:\n%s", a)
	}
	if strings.Contains(page, `href="/doors"`) || strings.Contains(page, `href="/entries/`) || strings.Contains(page, `href="/live"`) {
		t.Error("a viewer's home links the investigators' pages, or the central's own (camera-less) live page")
	}
}
