package appliance

import (
	"context"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/facegate/facegate/gate"
	"github.com/facegate/facegate/models/modeltest"
	"github.com/facegate/facegate/storage"
	"github.com/facegate/facegate/vision"
	"github.com/facegate/facegate/web"
)

// A face+pin door with a tablet paired as its keypad, in Chromium at
// 768×1024: the face on the demo clip is matched first and the tablet asks
// for the PIN; a wrong PIN typed on it is refused (the tablet says so with
// the tries left, and it counts towards the lockout); then, in Japanese,
// the right PIN opens the door.
func TestWebKeypadFacePINDoor(t *testing.T) {
	chromium, err := exec.LookPath("chromium")
	if err != nil {
		t.Fatal("Debian's chromium is needed for the browser test (scripts/setup.sh test installs it)")
	}
	dataDir := t.TempDir()
	cfg := Config{DataDir: dataDir, ModelsDir: modeltest.ModelsDir(t), DemoDir: modeltest.Testdata(t), Rule: vision.FacepluginRule,
		Source: filepath.Join(modeltest.Testdata(t), "video", "short_hamilton_clip.mp4"), OpenTime: time.Second, SiteTZ: "UTC",
		Level: gate.LevelFacePIN, Web: web.Options{Addr: "127.0.0.1:0", PlainHTTP: true}}
	a, base := startKeypadAppliance(t, cfg)
	lmm, err := a.db.PersonByEmployeeID("DEMO-001")
	if err != nil {
		t.Fatal(err)
	}
	if err := a.db.SetPIN(lmm.ID, "2468"); err != nil {
		t.Fatal(err)
	}
	if err := a.db.CreateUser("ada", "correct horse battery", storage.RoleAdmin); err != nil {
		t.Fatal(err)
	}
	link := pairingLink(t, base)

	bctx, shot := tabletBrowser(t, chromium)
	q := chromedp.ByQuery
	var state, status string
	err = chromedp.Run(bctx, chromedp.Navigate(link), chromedp.WaitVisible("#tablet-name", q),
		chromedp.SendKeys("#tablet-name", "entrance tablet", q), shot("60-keypad-pair"),
		chromedp.Click("#join", q), chromedp.WaitVisible("#keypad", q), shot("61-keypad-idle"))
	if err != nil {
		t.Fatalf("pairing the tablet: %v", err)
	}
	pin, door := faceThenPIN(t, a, bctx, lmm.ID, "1357", shot("62-keypad-enter"))
	if err := chromedp.Run(bctx, chromedp.Poll(`document.getElementById('keypad').className.includes('state-wrong')`, nil,
		chromedp.WithPollingTimeout(10*time.Second)), chromedp.Text("#status", &status, q), shot("63-keypad-wrong")); err != nil {
		t.Fatalf("the tablet after a wrong PIN: %v", err)
	}
	if pin.Code != "pin_wrong" || door.Granted || !strings.Contains(status, "4 tries left") {
		t.Fatalf("wrong PIN on the tablet: PIN event %s, door granted %v, tablet says %q", pin.Code, door.Granted, status)
	}
	a.Close()

	// Again on the same data (the clip shows the face once a run), in Japanese.
	a, base = startKeypadAppliance(t, cfg)
	err = chromedp.Run(bctx, chromedp.Navigate(base+"/lang/ja?next=/keypad/pad"), chromedp.WaitVisible("#keypad", q))
	if err != nil {
		t.Fatalf("the tablet after a restart: %v", err)
	}
	pin, door = faceThenPIN(t, a, bctx, lmm.ID, "2468", shot("64-ja-keypad-enter"))
	err = chromedp.Run(bctx, chromedp.Poll(`document.getElementById('keypad').className.includes('state-granted')`, nil,
		chromedp.WithPollingTimeout(10*time.Second)), chromedp.Text("#status", &status, q),
		chromedp.AttributeValue("#keypad", "class", &state, nil, q), shot("65-ja-keypad-granted"))
	if err != nil {
		chromedp.Run(bctx, chromedp.Text("#status", &status, q), chromedp.AttributeValue("#keypad", "class", &state, nil, q))
		t.Fatalf("the tablet after the right PIN: %v (%s: %q; PIN %s, door %s %q)", err, state, status, pin.Code, door.Kind, door.Reason)
	}
	if pin.Code != "pin_ok" || !door.Granted || !strings.Contains(status, "許可されました") {
		t.Fatalf("right PIN on the tablet: PIN event %s, door granted %v, tablet says %q", pin.Code, door.Granted, status)
	}
}

// startKeypadAppliance builds the appliance and serves its web app.
func startKeypadAppliance(t *testing.T, cfg Config) (*Appliance, string) {
	t.Helper()
	a, err := New(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { a.Close() })
	ts := httptest.NewServer(a.web.Handler())
	t.Cleanup(ts.Close)
	return a, ts.URL
}

var pairingRE = regexp.MustCompile(`id="pairing-link" href="([^"]+)"`)

// pairingLink logs in as the admin and makes a pairing link for the door.
func pairingLink(t *testing.T, base string) string {
	t.Helper()
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	form := url.Values{"username": {"ada"}, "password": {"correct horse battery"}, "_csrf": {csrfOf(t, c, base+"/login")}}
	if resp, err := c.PostForm(base+"/login", form); err != nil || resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("login: %v %v", resp, err)
	}
	resp, err := c.PostForm(base+"/keypad/pair", url.Values{"_csrf": {csrfOf(t, c, base+"/keypad")}})
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	m := pairingRE.FindSubmatch(b)
	if resp.StatusCode != http.StatusOK || m == nil {
		t.Fatalf("pairing link: %d, none on the page", resp.StatusCode)
	}
	return strings.ReplaceAll(string(m[1]), "&amp;", "&")
}

// faceThenPIN runs the appliance on the clip until the tablet asks for
// the PIN (a face was matched and the door waits), types pin on it, and
// returns the person's PIN attempt and door decision.
func faceThenPIN(t *testing.T, a *Appliance, bctx context.Context, id int64, pin string, asked chromedp.Action) (storage.Event, storage.Event) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- a.Run(ctx) }()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Error(err)
		}
	}()
	acts := []chromedp.Action{chromedp.Poll(`document.getElementById('keypad').className.includes('state-enter')`, nil,
		chromedp.WithPollingTimeout(40*time.Second)), asked}
	for _, d := range pin {
		acts = append(acts, chromedp.Click(`button[data-key="`+string(d)+`"]`, chromedp.ByQuery))
	}
	if err := chromedp.Run(bctx, append(acts, chromedp.Click("#enter", chromedp.ByQuery))...); err != nil {
		t.Fatalf("typing %s on the keypad once asked: %v", pin, err)
	}
	return waitPersonEventsAfter(t, a.db, id, 20*time.Second)
}

// waitPersonEventsAfter is waitPersonEvents for the newest attempt.
func waitPersonEventsAfter(t *testing.T, db *storage.DB, id int64, within time.Duration) (pin, door storage.Event) {
	t.Helper()
	evs, _ := db.Events(storage.EventFilter{Newest: true, Limit: 1})
	var after int64
	if len(evs) > 0 {
		after = evs[0].Seq
	}
	deadline := time.Now().Add(within)
	for time.Now().Before(deadline) {
		evs, err := db.Events(storage.EventFilter{PersonID: id, AfterSeq: after, Limit: 100})
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range evs {
			if e.Kind == storage.KindPIN && pin.Seq == 0 {
				pin = e
			}
			if (e.Kind == storage.KindGranted || e.Kind == storage.KindDenied) && door.Seq == 0 {
				door = e
			}
		}
		if pin.Seq != 0 && door.Seq != 0 {
			return pin, door
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("no PIN attempt and door event for person %d within %s", id, within)
	return
}

// tabletBrowser is Chromium the size of a 10" tablet in portrait.
func tabletBrowser(t *testing.T, chromium string) (context.Context, func(string) chromedp.Action) {
	profile, err := os.MkdirTemp("", "facegate-chromium-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		for i := 0; i < 20 && os.RemoveAll(profile) != nil; i++ {
			time.Sleep(100 * time.Millisecond)
		}
	})
	opts := append(chromedp.DefaultExecAllocatorOptions[:], chromedp.ExecPath(chromium), chromedp.NoSandbox,
		chromedp.DisableGPU, chromedp.UserDataDir(profile), chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true), chromedp.WindowSize(768, 1024))
	actx, acancel := chromedp.NewExecAllocator(context.Background(), opts...)
	t.Cleanup(acancel)
	bctx, bcancel := chromedp.NewContext(actx)
	t.Cleanup(bcancel)
	bctx, tcancel := context.WithTimeout(bctx, 3*time.Minute)
	t.Cleanup(tcancel)
	dir := os.Getenv("FACEGATE_ARTIFACTS")
	if dir == "" {
		dir = t.TempDir()
	}
	dir = filepath.Join(dir, "screenshots")
	os.MkdirAll(dir, 0o755)
	shot := func(name string) chromedp.Action {
		return chromedp.ActionFunc(func(ctx context.Context) error {
			var buf []byte
			if err := chromedp.FullScreenshot(&buf, 80).Do(ctx); err != nil {
				return err
			}
			return os.WriteFile(filepath.Join(dir, name+".jpg"), buf, 0o644)
		})
	}
	return bctx, shot
}
