package web

import (
	"bytes"
	"image"
	"image/color"
	"image/jpeg"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"

	"github.com/facegate/facegate/storage"
)

// grey640 is a real 640×480 JPEG, the preview frame the boxes are drawn on.
func grey640(t *testing.T) []byte {
	img := image.NewGray(image.Rect(0, 0, 640, 480))
	for i := range img.Pix {
		img.Pix[i] = 90
	}
	img.SetGray(0, 0, color.Gray{Y: 200})
	var b bytes.Buffer
	if err := jpeg.Encode(&b, img, nil); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// waitSubscribers waits until n live pages listen to the hub.
func waitSubscribers(t *testing.T, h *Hub, n int) {
	for i := 0; i < 200; i++ {
		h.mu.Lock()
		got := len(h.subs)
		h.mu.Unlock()
		if got >= n {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatal("the live page never subscribed to decisions")
}

// In Chromium, in Japanese: decisions published on the hub are drawn over
// the video by the browser, a Japanese name included (OpenCV cannot), in
// the gate's colour: a granted face's box green where the face is, a
// denied person's banner red, an unknown face's banner grey. The camera
// state changes on the open page.
func TestBrowserLiveOverlay(t *testing.T) {
	h := newHarness(t)
	h.user("ada", storage.RoleAdmin)
	var state atomic.Value
	state.Store("streaming")
	h.s.deps.Health = func() Health {
		return Health{Frames: 42, LastFrame: h.now(), SourceState: state.Load().(string), Source: "test"}
	}
	hub := NewHub()
	h.s.deps.Hub = hub
	frame := grey640(t)
	hub.PublishFrame(frame)
	stop := make(chan struct{})
	defer close(stop)
	go func() { // as the pipeline does, every PreviewEvery
		for tick := time.NewTicker(200 * time.Millisecond); ; {
			select {
			case <-stop:
				tick.Stop()
				return
			case <-tick.C:
				hub.PublishFrame(frame)
			}
		}
	}()
	hub.PublishDecision(map[string]any{"time": "08:59:00", "person": "old", "result": "granted", "granted": true})
	bctx, base, shot := browserOn(t, h)
	q := chromedp.ByQuery
	err := chromedp.Run(bctx,
		chromedp.Navigate(base+"/login"), chromedp.WaitVisible("#username", q),
		chromedp.SendKeys("#username", "ada", q), chromedp.SendKeys("#password", testPassword, q),
		chromedp.Click("#login", q), chromedp.WaitVisible("nav", q),
		chromedp.Navigate(base+"/lang/ja"), chromedp.Navigate(base+"/live"), chromedp.WaitVisible("#decisions", q),
		chromedp.Poll(`document.querySelectorAll('#decisions tbody tr').length == 1 && document.getElementById('camera').naturalWidth == 640`, nil),
	)
	if err != nil {
		var dbg string
		chromedp.Run(bctx, chromedp.Evaluate(`document.querySelectorAll('#decisions tbody tr').length + ' rows, camera ' + document.getElementById('camera').naturalWidth + ' ' + document.getElementById('camera').src`, &dbg))
		t.Fatalf("live page: %v (%s)", err, dbg)
	}
	waitSubscribers(t, hub, 1)
	hub.PublishDecision(map[string]any{"time": "09:00:00", "person": "山田 花子", "result": "granted", "granted": true,
		"distance": "0.412", "liveness": "live", "box": image.Rect(320, 120, 480, 360)})
	hub.PublishDecision(map[string]any{"time": "09:00:01", "person": "佐藤 一郎", "result": "outside_schedule", "granted": false})
	hub.PublishDecision(map[string]any{"time": "09:00:02", "person": "unknown", "result": "unknown_face", "granted": false})
	state.Store("reconnecting")
	var marks []map[string]string
	var stateText string
	var found []axeViolation // the labels over the video are read too
	err = chromedp.Run(bctx,
		chromedp.Poll(`document.querySelectorAll('#overlay .mark').length == 3`, nil),
		// Read the marks at once: each goes after 5 s, and axe can take
		// that long on a busy machine.
		chromedp.Evaluate(`[...document.querySelectorAll('#overlay .mark')].map(function (m) {
			var s = getComputedStyle(m), o = document.getElementById('overlay').getBoundingClientRect(), r = m.getBoundingClientRect();
			return {cls: m.className, text: m.textContent, colour: m.classList.contains('box') ? s.borderTopColor : s.backgroundColor,
				left: String(Math.round(100 * (r.left - o.left) / o.width)), top: String(Math.round(100 * (r.top - o.top) / o.height)),
				width: String(Math.round(100 * r.width / o.width))};
		})`, &marks),
		shot("50-ja-live-overlay"),
		chromedp.Evaluate(axeSource(t), nil),
		chromedp.Evaluate(axeRun, &found, func(p *runtime.EvaluateParams) *runtime.EvaluateParams { return p.WithAwaitPromise(true) }),
		chromedp.Poll(`document.getElementById('state').textContent == '再接続中'`, nil, chromedp.WithPollingTimeout(15*time.Second)),
		chromedp.Text("#state", &stateText, q),
	)
	if err != nil {
		t.Fatalf("live overlay: %v (marks %v)", err, marks)
	}
	checkMark(t, marks[0], "mark granted box", "山田 花子 · ", "rgb(0, 122, 31)")
	if marks[0]["left"] != "50" || marks[0]["top"] != "25" || marks[0]["width"] != "25" {
		t.Errorf("box not where the face is (want left 50%%, top 25%%, width 25%% of the frame): %v", marks[0])
	}
	checkMark(t, marks[1], "mark denied banner", "佐藤 一郎 · 時間帯外", "rgb(192, 40, 43)")
	checkMark(t, marks[2], "mark unknown banner", "未登録の顔", "rgb(90, 99, 107)")
	for _, v := range found {
		t.Errorf("live overlay: %s (%s): %s at %s", v.ID, v.Impact, v.Help, strings.Join(v.Targets, "; "))
	}
	if stateText != "再接続中" {
		t.Errorf("camera state not updated: %q", stateText)
	}
}

func checkMark(t *testing.T, m map[string]string, cls, text, colour string) {
	t.Helper()
	if m["cls"] != cls || !strings.Contains(m["text"], text) || m["colour"] != colour {
		t.Errorf("mark %v: want class %q, text with %q, colour %s", m, cls, text, colour)
	}
}
