package web

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/facegate/facegate/vision/eval"
)

// In Chromium, in English and Japanese: an admin enters threshold 1.2 and
// margin 0 and saves: refused, the form keeps 1.2, nothing saved. The
// check button then shows the expected rates for 0.42, the site's
// calibration is run and its recommendation (in the safe range) applied.
func TestBrowserSettingsSafeRange(t *testing.T) {
	chromium, err := exec.LookPath("chromium")
	if err != nil {
		t.Fatal("Debian's chromium is needed for the browser test (scripts/setup.sh test installs it)")
	}
	info := facepluginInfo
	info.Safe = facepluginSafe
	h, owner := settingsHarness(t, info)
	h.s.deps.Settings = rangeOwner{owner, facepluginSafe}
	// The closest enrolled impostor pair at 0.45: the recommendation 0.43
	// lies in the model's safe range and can be applied.
	h.s.deps.Model = pairsOwner{info: info, pairs: eval.Pairs{Genuine: []float64{0.2, 0.3, 0.44},
		Impostor: []float64{0.62, 0.45, 0.8, 0.71, 0.9, 0.66}}, calibrated: new(bool)}
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
	bctx := browser(t, ctx, chromium)
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
	setRule := func(th, mg string) chromedp.Tasks {
		return chromedp.Tasks{chromedp.SetValue(`#settings-form input[name=threshold]`, th, chromedp.ByQuery),
			chromedp.SetValue(`#settings-form input[name=margin]`, mg, chromedp.ByQuery)}
	}
	// Each form post navigates: RunResponse waits for the new page.
	steps := []chromedp.Action{
		chromedp.Tasks{chromedp.Navigate(base + "/login"), chromedp.WaitVisible("#username", chromedp.ByQuery),
			chromedp.SendKeys("#username", "ada", chromedp.ByQuery), chromedp.SendKeys("#password", testPassword, chromedp.ByQuery)},
		chromedp.Click("#login", chromedp.ByQuery),
		chromedp.Navigate(base + "/settings"),
		chromedp.Tasks{setRule("1.2", "0"), chromedp.Click(`#settings-form button:not(#check)`, chromedp.ByQuery)},
		chromedp.Tasks{setRule("0.42", "0.05"), chromedp.Click("#check", chromedp.ByQuery)},
		chromedp.Click(`#calibrate button`, chromedp.ByQuery),
		chromedp.Click(`#apply-threshold button`, chromedp.ByQuery),
	}
	var refused, entered, preview, applied string
	after := map[int]chromedp.Action{
		3: chromedp.Tasks{chromedp.Text("#error", &refused, chromedp.ByQuery),
			chromedp.Value(`#settings-form input[name=threshold]`, &entered, chromedp.ByQuery), shot("30-settings-unsafe-refused")},
		4: chromedp.Text("#far-preview", &preview, chromedp.ByQuery),
		5: shot("31-settings-calibrated"),
		6: chromedp.Text("#threshold", &applied, chromedp.ByQuery),
	}
	for i, step := range steps {
		if _, err := chromedp.RunResponse(bctx, step); err != nil {
			t.Fatalf("step %d: %v", i, err)
		}
		if a, ok := after[i]; ok {
			if err := chromedp.Run(bctx, a); err != nil {
				t.Fatalf("after step %d: %v", i, err)
			}
		}
	}
	if !strings.Contains(refused, "at most 0.445") || entered != "1.2" || !strings.Contains(preview, "0 of 8197") || applied != "0.430" ||
		owner.saved != 1 {
		t.Fatalf("refusal %q (form kept %q), preview %q, applied %q after %d saves", refused, entered, preview, applied, owner.saved)
	}
	var ja string
	if err := chromedp.Run(bctx, chromedp.Navigate(base+"/lang/ja"), chromedp.Navigate(base+"/settings"),
		chromedp.WaitVisible("#far-preview", chromedp.ByQuery), chromedp.Text("body", &ja, chromedp.ByQuery),
		shot("32-ja-settings-model")); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(ja, missingPrefix) || !strings.Contains(ja, "安全な範囲") || !strings.Contains(ja, "登録済みの写真") {
		t.Fatalf("Japanese settings page: %q", ja)
	}
}

// browser starts a headless Chromium with a throwaway profile.
func browser(t *testing.T, ctx context.Context, chromium string) context.Context {
	t.Helper()
	profile, err := os.MkdirTemp("", "facegate-chromium-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		for i := 0; i < 20 && os.RemoveAll(profile) != nil; i++ {
			time.Sleep(100 * time.Millisecond)
		}
	})
	opts := append(chromedp.DefaultExecAllocatorOptions[:], chromedp.ExecPath(chromium), chromedp.NoSandbox, chromedp.DisableGPU,
		chromedp.UserDataDir(profile), chromedp.Flag("ignore-certificate-errors", true),
		chromedp.Flag("disable-background-networking", true), chromedp.Flag("disable-component-update", true),
		chromedp.WindowSize(1280, 1000))
	actx, acancel := chromedp.NewExecAllocator(ctx, opts...)
	bctx, bcancel := chromedp.NewContext(actx)
	tctx, tcancel := context.WithTimeout(bctx, 2*time.Minute)
	t.Cleanup(func() { tcancel(); bcancel(); acancel() })
	return tctx
}
