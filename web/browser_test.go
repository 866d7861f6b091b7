package web

import (
	"bytes"
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/facegate/facegate/models/modeltest"
	"github.com/facegate/facegate/storage"
)

// artifactsDir is where screenshots go: $FACEGATE_ARTIFACTS (make test sets
// it to ./artifacts) or the test's temp dir.
func artifactsDir(t *testing.T) string {
	d := os.Getenv("FACEGATE_ARTIFACTS")
	if d == "" {
		d = t.TempDir()
	}
	d = filepath.Join(d, "screenshots")
	os.MkdirAll(d, 0o755)
	return d
}

// fakeCamera makes the y4m video Chromium's fake webcam plays: obama.jpg
// framed in 640×480.
func fakeCamera(t *testing.T) string {
	out := filepath.Join(t.TempDir(), "obama.y4m")
	cmd := exec.Command("ffmpeg", "-loglevel", "error", "-y", "-loop", "1", "-i", modeltest.Face(t, "obama.jpg"),
		"-vf", "scale=640:480:force_original_aspect_ratio=decrease,pad=640:480:(ow-iw)/2:(oh-ih)/2", "-t", "2", "-r", "10",
		"-pix_fmt", "yuv420p", out)
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("ffmpeg (apt-get install ffmpeg): %v %s", err, b)
	}
	return out
}

func TestBrowserEnrolIdentifyAndReview(t *testing.T) {
	chromium, err := exec.LookPath("chromium")
	if err != nil {
		t.Fatal("Debian's chromium is needed for the browser test (scripts/setup.sh test installs it)")
	}
	h := newFaceHarness(t)
	h.user("ada", storage.RoleAdmin)
	h.user("vic", storage.RoleViewer)
	// The real server: HTTPS with the self-signed certificate, Secure cookies.
	s, err := New(h.s.deps, Options{Addr: "127.0.0.1:0", TLSDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	ln, err := s.Listen()
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go s.Serve(ctx, ln)
	base := "https://" + ln.Addr().String()
	shots := artifactsDir(t)

	// Chromium's profile: not t.TempDir, whose cleanup fails while the
	// browser's helper processes are still writing as they exit.
	profile, err := os.MkdirTemp("", "facegate-chromium-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		for i := 0; i < 20 && os.RemoveAll(profile) != nil; i++ {
			time.Sleep(100 * time.Millisecond)
		}
	})
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(chromium), chromedp.NoSandbox, chromedp.DisableGPU, chromedp.UserDataDir(profile),
		chromedp.Flag("ignore-certificate-errors", true),
		chromedp.Flag("use-fake-device-for-media-stream", true),
		chromedp.Flag("use-fake-ui-for-media-stream", true),
		chromedp.Flag("use-file-for-fake-video-capture", fakeCamera(t)),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-quic", true),
		chromedp.WindowSize(1280, 1000),
	)
	actx, acancel := chromedp.NewExecAllocator(ctx, opts...)
	defer acancel()
	bctx, bcancel := chromedp.NewContext(actx)
	defer bcancel()
	bctx, tcancel := context.WithTimeout(bctx, 2*time.Minute)
	defer tcancel()

	shot := func(name string) chromedp.Action {
		return chromedp.ActionFunc(func(ctx context.Context) error {
			var buf []byte
			if err := chromedp.FullScreenshot(&buf, 80).Do(ctx); err != nil {
				return err
			}
			return os.WriteFile(filepath.Join(shots, name+".jpg"), buf, 0o644)
		})
	}
	login := func(user string) chromedp.Tasks {
		return chromedp.Tasks{
			chromedp.Navigate(base + "/login"),
			chromedp.WaitVisible("#username", chromedp.ByQuery),
			chromedp.SendKeys("#username", user, chromedp.ByQuery),
			chromedp.SendKeys("#password", testPassword, chromedp.ByQuery),
			chromedp.Click("#login", chromedp.ByQuery),
			chromedp.WaitVisible("nav", chromedp.ByQuery),
		}
	}
	poll := func(js string) chromedp.Action {
		return chromedp.Poll(js, nil, chromedp.WithPollingTimeout(30*time.Second))
	}

	// Log in, enrol through the webcam page: three checked shots.
	if err := chromedp.Run(bctx, login("ada"), shot("01-live"),
		chromedp.Navigate(base+"/people/webcam"),
		chromedp.WaitVisible("#capture", chromedp.ByQuery),
		chromedp.SendKeys("#name", "Barack Obama", chromedp.ByQuery),
		chromedp.SendKeys("#employee_id", "E001", chromedp.ByQuery),
		poll(`document.getElementById('video').videoWidth > 0`),
	); err != nil {
		t.Fatalf("login and webcam page: %v", err)
	}
	// Shoot until three are accepted, as a person would: a shot of a blank
	// frame (the camera still starting) is rejected with its reason.
	var shotText string
	for i := 1; i <= 8; i++ {
		if err := chromedp.Run(bctx, chromedp.Click("#capture", chromedp.ByQuery),
			poll(fmt.Sprintf(`document.querySelectorAll('#shots li').length >= %d`, i)),
			chromedp.Text("#shots", &shotText, chromedp.ByQuery)); err != nil {
			t.Fatalf("shot %d: %v", i, err)
		}
		if strings.Count(shotText, "accepted") >= 3 {
			break
		}
	}
	if strings.Count(shotText, "accepted") < 3 {
		t.Fatalf("webcam shots not accepted: %q", shotText)
	}
	if err := chromedp.Run(bctx, shot("02-webcam-shots"), chromedp.Click("#finish", chromedp.ByQuery),
		chromedp.WaitVisible("#result-ok", chromedp.ByQuery), shot("03-webcam-enrolled")); err != nil {
		t.Fatalf("finish enrolment: %v", err)
	}
	p, err := h.db.PersonByEmployeeID("E001")
	if err != nil {
		t.Fatalf("webcam enrolment stored nobody: %v", err)
	}
	if n, _ := h.db.CountTemplates(p.ID); n != 3 {
		t.Fatalf("%d templates from 3 shots", n)
	}

	// Identify obama2.jpg through the identify API.
	tok, _ := h.db.CreateAPIToken("ada")
	var body bytes.Buffer
	w := multipart.NewWriter(&body)
	fw, _ := w.CreateFormFile("photo", "obama2.jpg")
	fw.Write(modeltest.ReadFace(t, "obama2.jpg"))
	w.Close()
	req, _ := http.NewRequest(http.MethodPost, base+"/api/v1/identify", &body)
	req.Header.Set("Authorization", "Bearer "+tok)
	req.Header.Set("Content-Type", w.FormDataContentType())
	insecure := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}}
	resp, err := insecure.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	rb, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.Contains(string(rb), `"employee_id":"E001"`) {
		t.Fatalf("identify obama2.jpg: %d %s", resp.StatusCode, rb)
	}

	// The entry, with its snapshot, in the Entries page and its detail page.
	var entries string
	var thumbs, frame bool
	if err := chromedp.Run(bctx,
		chromedp.Navigate(base+"/entries?person=E001"),
		chromedp.WaitVisible("#entries", chromedp.ByQuery),
		poll(`Array.from(document.querySelectorAll('img.thumb')).some(i => i.complete && i.naturalWidth > 0)`),
		chromedp.Text("#entries", &entries, chromedp.ByQuery),
		chromedp.Evaluate(`Array.from(document.querySelectorAll('img.thumb')).some(i => i.naturalWidth > 0)`, &thumbs),
		shot("04-entries"),
		chromedp.Click("#entries a", chromedp.ByQuery),
		chromedp.WaitVisible("#entry", chromedp.ByQuery),
		poll(`document.getElementById('frame') && document.getElementById('frame').naturalWidth > 0`),
		chromedp.Evaluate(`document.getElementById('frame').naturalWidth > 0`, &frame),
		shot("05-entry"),
	); err != nil {
		t.Fatalf("entries: %v", err)
	}
	if !strings.Contains(entries, "Barack Obama") || !strings.Contains(entries, "photo identified") || strings.Contains(entries, "admin_action") || !thumbs || !frame {
		t.Fatalf("entry not shown with its snapshot: %q thumbs=%v frame=%v", entries, thumbs, frame)
	}

	// CSRF from the browser: a page on another origin auto-submits a form
	// to suspend the person. The browser marks it cross-site and sends no
	// token (and no SameSite=Strict cookie): refused, nothing changes.
	forged := "data:text/html," + strings.ReplaceAll(fmt.Sprintf(
		`<form method="post" action="%s/people/%d/suspend"></form><script>document.forms[0].submit()</script>`, base, p.ID), "#", "%23")
	var forgedText string
	if err := chromedp.Run(bctx, chromedp.Navigate(forged),
		poll(`location.href.startsWith('https://')`),
		chromedp.WaitVisible("body", chromedp.ByQuery),
		chromedp.Text("body", &forgedText, chromedp.ByQuery),
		shot("06-forged-request")); err != nil {
		t.Fatalf("forged request: %v", err)
	}
	if got, _ := h.db.PersonByID(p.ID); got.SuspendedSince != nil {
		t.Fatalf("a cross-site forged POST suspended the person (page said %q)", forgedText)
	}
	if !strings.Contains(forgedText, "403") && !strings.Contains(forgedText, "CSRF") {
		t.Fatalf("forged POST not refused: %q", forgedText)
	}

	// Every page in Japanese, with no missing translation.
	if err := chromedp.Run(bctx, chromedp.Navigate(base+"/lang/ja")); err != nil {
		t.Fatal(err)
	}
	for i, path := range []string{"/", "/people", "/people/webcam", "/entries", "/presence", "/rules", "/audit", "/settings"} {
		var text, lang string
		if err := chromedp.Run(bctx, chromedp.Navigate(base+path), chromedp.WaitVisible("main", chromedp.ByQuery),
			chromedp.Text("body", &text, chromedp.ByQuery), chromedp.AttributeValue("html", "lang", &lang, nil, chromedp.ByQuery),
			shot(fmt.Sprintf("1%d-ja%s", i, strings.ReplaceAll(path, "/", "-")))); err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		if lang != "ja" || strings.Contains(text, missingPrefix) {
			t.Fatalf("%s: lang=%q, missing translation in %q", path, lang, text)
		}
	}

	// Roles: a viewer sees the live page but not the entries.
	var forbidden string
	if err := chromedp.Run(bctx,
		chromedp.Click(`header form button`, chromedp.ByQuery),
		chromedp.WaitVisible("#username", chromedp.ByQuery),
		login("vic"),
		chromedp.Navigate(base+"/entries"),
		chromedp.WaitVisible("main", chromedp.ByQuery),
		chromedp.Text("main", &forbidden, chromedp.ByQuery),
		shot("20-viewer-forbidden"),
	); err != nil {
		t.Fatalf("viewer: %v", err)
	}
	if !strings.Contains(forbidden, "403") {
		t.Fatalf("viewer reached the entries page: %q", forbidden)
	}
	t.Logf("screenshots in %s", shots)
}

// browserOn starts the real HTTPS server on h's data and a headless
// Chromium; it returns the browser's context, the base URL and a
// screenshot action.
func browserOn(t *testing.T, h *harness) (context.Context, string, func(string) chromedp.Action) {
	chromium, err := exec.LookPath("chromium")
	if err != nil {
		t.Fatal("Debian's chromium is needed for the browser test (scripts/setup.sh test installs it)")
	}
	s, err := New(h.s.deps, Options{Addr: "127.0.0.1:0", TLSDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	ln, err := s.Listen()
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	go s.Serve(ctx, ln)
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
		chromedp.DisableGPU, chromedp.UserDataDir(profile), chromedp.Flag("ignore-certificate-errors", true),
		chromedp.Flag("disable-background-networking", true), chromedp.Flag("disable-component-update", true),
		chromedp.WindowSize(1280, 1000))
	actx, acancel := chromedp.NewExecAllocator(ctx, opts...)
	t.Cleanup(acancel)
	bctx, bcancel := chromedp.NewContext(actx)
	t.Cleanup(bcancel)
	bctx, tcancel := context.WithTimeout(bctx, 2*time.Minute)
	t.Cleanup(tcancel)
	shots := artifactsDir(t)
	shot := func(name string) chromedp.Action {
		return chromedp.ActionFunc(func(ctx context.Context) error {
			var buf []byte
			if err := chromedp.FullScreenshot(&buf, 80).Do(ctx); err != nil {
				return err
			}
			return os.WriteFile(filepath.Join(shots, name+".jpg"), buf, 0o644)
		})
	}
	return bctx, "https://" + ln.Addr().String(), shot
}

// An admin demotes and disables a user on the users page and makes an API
// token on the account page, in English and Japanese.
func TestBrowserUsersAndAccount(t *testing.T) {
	h := newHarness(t)
	h.user("ada", storage.RoleAdmin)
	h.user("ivy", storage.RoleInvestigator)
	bctx, base, shot := browserOn(t, h)
	ivyRow := `//table[@id="users"]//tr[td[1][text()="ivy"]]`
	var token string
	err := chromedp.Run(bctx,
		chromedp.Navigate(base+"/login"), chromedp.WaitVisible("#username", chromedp.ByQuery),
		chromedp.SendKeys("#username", "ada", chromedp.ByQuery), chromedp.SendKeys("#password", testPassword, chromedp.ByQuery),
		chromedp.Click("#login", chromedp.ByQuery), chromedp.WaitVisible("nav", chromedp.ByQuery),
		chromedp.Navigate(base+"/users"), chromedp.WaitVisible("#users", chromedp.ByQuery),
		chromedp.SetValue(ivyRow+`//select[@name="role"]`, storage.RoleViewer),
		chromedp.Click(ivyRow+`//form[@action="/users/role"]//button`),
		chromedp.WaitReady(ivyRow+`//option[@value="viewer"][@selected]`),
		chromedp.Click(ivyRow+`//form[@action="/users/disable"]//button`),
		chromedp.WaitVisible(ivyRow+`//span[@class="danger"]`),
		shot("30-users"),
		chromedp.Navigate(base+"/account"), chromedp.WaitVisible("#tokens", chromedp.ByQuery),
		chromedp.SendKeys(`input[name="name"]`, "wall display", chromedp.ByQuery),
		chromedp.Click(`form[action="/account/tokens"] button`, chromedp.ByQuery),
		chromedp.WaitVisible("#new-token", chromedp.ByQuery), chromedp.Text("#new-token", &token, chromedp.ByQuery),
		shot("31-account-token"),
	)
	if err != nil {
		t.Fatalf("users and account pages: %v", err)
	}
	u, err := h.db.UserByName("ivy")
	if err != nil || u.Role != storage.RoleViewer || !u.Disabled {
		t.Fatalf("ivy after the page: %+v %v", u, err)
	}
	if _, ok := h.db.UserForToken(token, h.now()); !ok {
		t.Fatalf("the token shown (%q) does not work", token)
	}
	for _, path := range []string{"/users", "/account"} {
		var text string
		if err := chromedp.Run(bctx, chromedp.Navigate(base+"/lang/ja"), chromedp.Navigate(base+path),
			chromedp.WaitVisible("main", chromedp.ByQuery), chromedp.Text("body", &text, chromedp.ByQuery),
			shot("32-ja"+strings.ReplaceAll(path, "/", "-"))); err != nil {
			t.Fatal(err)
		}
		if strings.Contains(text, missingPrefix) || !strings.Contains(text, "API トークン") {
			t.Fatalf("%s in Japanese: %q", path, text)
		}
	}
}
