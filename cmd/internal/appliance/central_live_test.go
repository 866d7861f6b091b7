package appliance

import (
	"bufio"
	"bytes"
	"context"
	"image/jpeg"
	"io"
	"mime"
	"mime/multipart"
	"net"
	"net/http"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/facegate/facegate/cmd/internal/central"
	"github.com/facegate/facegate/models/modeltest"
	"github.com/facegate/facegate/storage"
	"github.com/facegate/facegate/vision"
	"github.com/facegate/facegate/web"
)

func freePort(t *testing.T) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return strconv.Itoa(ln.Addr().(*net.TCPAddr).Port)
}

// liveSite is a central (console and sync API) and one door on the demo
// clip joined to it, both running in this process.
func liveSite(t *testing.T) (c *central.Central, a *Appliance, console, token string) {
	dir := t.TempDir()
	webPort, syncPort := freePort(t), freePort(t)
	c, err := central.Open(central.Config{DataDir: filepath.Join(dir, "central"), DB: filepath.Join(dir, "central.db"),
		SyncListen: "127.0.0.1:" + syncPort, Web: web.Options{Addr: "127.0.0.1:" + webPort, PlainHTTP: true}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	ctx, cancel := context.WithCancel(context.Background())
	run(t, cancel, func() error { return c.Run(ctx) })
	c.DB().CreateUser("viv", "correct horse battery staple 42", storage.RoleViewer)
	token, _ = c.DB().NewAPIToken("viv", "test", time.Now().Add(time.Hour))
	join, _ := c.DB().NewOneTimeLink(storage.JoinPurpose, "front", time.Now().Add(time.Hour), "test")
	cfg := Config{DataDir: filepath.Join(dir, "door"), ModelsDir: modeltest.ModelsDir(t), Rule: vision.DefaultRule, Embedder: "dlib",
		Source: filepath.Join(modeltest.Testdata(t), "video", "short_hamilton_clip.mp4"), OpenTime: time.Second, SiteTZ: "UTC",
		Door: "front", Web: web.Options{Addr: "127.0.0.1:0", PlainHTTP: true}, Central: "http://127.0.0.1:" + syncPort, Join: join}
	if a, err = New(context.Background(), cfg); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { a.Close() })
	actx, acancel := context.WithCancel(context.Background())
	run(t, acancel, func() error { return a.Run(actx) })
	return c, a, "http://127.0.0.1:" + webPort, token
}

// run runs f in a goroutine until the test ends (stop, then wait).
func run(t *testing.T, stop func(), f func() error) {
	done := make(chan error, 1)
	go func() { done <- f() }()
	t.Cleanup(func() {
		stop()
		if err := <-done; err != nil {
			t.Error(err)
		}
	})
}

func waitFor(t *testing.T, within time.Duration, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(within); !cond(); time.Sleep(100 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("not within %v: %s", within, what)
		}
	}
}

// open GETs a console stream with the viewer's token.
func open(t *testing.T, ctx context.Context, url, token string) *http.Response {
	t.Helper()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(resp.Body)
		t.Fatalf("%s: %d %s", url, resp.StatusCode, b)
	}
	return resp
}

// A door's live view through the central, with a real door on the demo
// clip: nothing leaves the door while nobody watches; a viewer opening
// /doors/front/live.mjpg on the console gets the door's JPEG frames and
// its decisions on /doors/front/events/stream; after the viewer leaves
// the door stops within seconds. Logs the delay to the first frame and
// the frame rate seen through the central.
func TestLiveViewThroughCentral(t *testing.T) {
	c, a, console, token := liveSite(t)
	waitFor(t, 60*time.Second, "the door joined, pushing and making previews", func() bool {
		ds, _ := c.DB().SiteAppliances()
		return len(ds) == 1 && ds[0].Online(time.Now(), 2*time.Second) && a.hub.HasFrame()
	})
	time.Sleep(3 * time.Second) // the door runs, unwatched
	if n, sent := c.LiveFrames("front"), a.liveSent.frames.Load(); n != 0 || sent != 0 {
		t.Fatalf("nobody watching, yet the door sent %d frames and the central got %d", sent, n)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	opened := time.Now()
	resp := open(t, ctx, console+"/doors/front/live.mjpg", token)
	decided := make(chan string, 1)
	events := open(t, ctx, console+"/doors/front/events/stream", token)
	go func() { decided <- firstDecision(events.Body) }()
	_, params, err := mime.ParseMediaType(resp.Header.Get("Content-Type"))
	if err != nil {
		t.Fatal(err)
	}
	parts := multipart.NewReader(resp.Body, params["boundary"])
	var first time.Duration
	frames, size := 0, 0
	for ; frames == 0 || time.Since(opened) < first+4*time.Second; frames++ {
		p, err := parts.NextPart()
		if err != nil {
			t.Fatalf("frame %d: %v", frames, err)
		}
		if frames == 0 { // the part's header and its JPEG come in one write
			first = time.Since(opened)
		}
		b, _ := io.ReadAll(io.LimitReader(p, 1<<20)) // ends when the next frame's boundary comes
		size += len(b)
		img, err := jpeg.Decode(bytes.NewReader(b))
		if err != nil || img.Bounds().Dx() < 100 {
			t.Fatalf("frame %d is not a JPEG picture: %v", frames, err)
		}
	}
	fps := float64(frames-1) / (time.Since(opened) - first).Seconds()
	t.Logf("live view through the central: first frame %v after opening, then %.1f frames/s (%d frames of %d KB on average)",
		first.Round(time.Millisecond), fps, frames, size/frames>>10)
	select {
	case d := <-decided:
		t.Logf("a decision through the central: %s", d)
	case <-time.After(60 * time.Second):
		t.Fatal("no decision reached the viewer in 60 s")
	}
	cancel() // the viewer leaves
	left := time.Now()
	stopped := func() bool {
		n := c.LiveFrames("front")
		time.Sleep(time.Second)
		return c.LiveFrames("front") == n
	}
	waitFor(t, 10*time.Second, "the door stopped sending after the viewer left", stopped)
	t.Logf("the door stopped within %v of the viewer leaving (linger %v)", time.Since(left).Round(100*time.Millisecond), web.DefaultLinger)
	if sent, got := a.liveSent.frames.Load(), c.LiveFrames("front"); sent != got {
		t.Errorf("the door counted %d frames sent, the central %d received", sent, got)
	}
}

// firstDecision reads server-sent events until the first decision (not a
// recent one) and returns its data ("" if the stream ends).
func firstDecision(r io.ReadCloser) string {
	defer r.Close()
	sc := bufio.NewScanner(r)
	decision := false
	for sc.Scan() {
		line := sc.Text()
		if line == "event: decision" {
			decision = true
		} else if data, ok := strings.CutPrefix(line, "data: "); ok && decision {
			return data
		}
	}
	return ""
}
