package web

import (
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/facegate/facegate/gate/identity"
	"github.com/facegate/facegate/models/modeltest"
	"github.com/facegate/facegate/storage"
)

// postPhotos uploads photos to a person's "add a photo" form.
func postPhotos(t *testing.T, h *harness, c *http.Client, id int64, lang string, files map[string][]byte) (int, string) {
	t.Helper()
	body, ct := multipartBody(t, map[string]string{"_csrf": h.csrf(c, "/people")}, files)
	req, _ := http.NewRequest(http.MethodPost, fmt.Sprintf("%s/people/%d/photos", h.ts.URL, id), body)
	req.Header.Set("Content-Type", ct)
	req.Header.Set("Accept-Language", lang)
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	return resp.StatusCode, readAll(resp)
}

func readAll(resp *http.Response) string {
	b, _ := io.ReadAll(resp.Body)
	return string(b)
}

func postRemove(t *testing.T, h *harness, c *http.Client, id, tid int64, lang string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, fmt.Sprintf("%s/people/%d/photos/%d/remove", h.ts.URL, id, tid),
		strings.NewReader("_csrf="+h.csrf(c, "/people")))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept-Language", lang)
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	return resp.StatusCode, readAll(resp)
}

// An admin adds a photo to an enrolled person (checked as an enrolment
// is: someone else's face is refused), then removes one: its file goes
// from the snapshot store, both are audited, and the last photo stays.
func TestAddAndRemovePhoto(t *testing.T) {
	h := newFaceHarness(t)
	h.user("ada", storage.RoleAdmin)
	if _, err := h.svc.Enroll("E001", "Barack Obama", []identity.Photo{{Name: "obama.jpg", Data: modeltest.ReadFace(t, "obama.jpg")}}); err != nil {
		t.Fatal(err)
	}
	p, _ := h.db.PersonByEmployeeID("E001")
	c := h.login("ada")
	if code, body := postPhotos(t, h, c, p.ID, "ja", map[string][]byte{"biden.jpg": modeltest.ReadFace(t, "biden.jpg")}); code != http.StatusConflict ||
		!strings.Contains(body, "別人の写真のようです") {
		t.Fatalf("Biden's face added to Obama: %d, want 409 saying so in Japanese", code)
	}
	if code, body := postPhotos(t, h, c, p.ID, "en", map[string][]byte{"obama2.jpg": modeltest.ReadFace(t, "obama2.jpg")}); code != http.StatusOK ||
		!strings.Contains(body, `id="enrolled"`) {
		t.Fatalf("a second photo of Obama: %d %s", code, body)
	}
	ts, _ := h.db.PersonTemplates(p.ID)
	if len(ts) != 2 || h.svc.Gallery().Len() != 2 {
		t.Fatalf("%d templates stored, %d in the gallery, want 2", len(ts), h.svc.Gallery().Len())
	}
	first, _ := h.rec.Snapshots.Path(ts[0].PhotoSHA256)
	if code, _ := postRemove(t, h, c, p.ID, ts[0].ID, "en"); code != http.StatusSeeOther {
		t.Fatalf("remove a photo: %d", code)
	}
	if _, err := os.Stat(first); !os.IsNotExist(err) {
		t.Errorf("the removed photo's file is still kept: %v", err)
	}
	if h.svc.Gallery().Len() != 1 {
		t.Errorf("the gallery has %d templates after the removal, want 1", h.svc.Gallery().Len())
	}
	code, body := postRemove(t, h, c, p.ID, ts[1].ID, "ja")
	if code != http.StatusConflict || !strings.Contains(body, "写真はこの 1 枚だけです") {
		t.Fatalf("remove the last photo: %d, want 409 saying why in Japanese", code)
	}
	audit, _ := h.db.AuditLog(20)
	var actions []string
	for _, a := range audit {
		actions = append(actions, a.Code)
	}
	if j := strings.Join(actions, " "); !strings.Contains(j, "photo_added") || !strings.Contains(j, "template_removed") {
		t.Errorf("audit log lacks the addition or the removal: %s", j)
	}
}

// In Chromium, in English then Japanese: a photo is added on the person's
// row and shows as a second thumbnail, then removed with its button.
func TestBrowserPeoplePhotos(t *testing.T) {
	h := newFaceHarness(t)
	h.user("ada", storage.RoleAdmin)
	fill(t, h)
	bctx, base, shot := browserOn(t, h)
	q := chromedp.ByQuery
	var after, afterJa int
	var ja string
	err := chromedp.Run(bctx,
		chromedp.Navigate(base+"/login"), chromedp.WaitVisible("#username", q),
		chromedp.SendKeys("#username", "ada", q), chromedp.SendKeys("#password", testPassword, q),
		chromedp.Click("#login", q), chromedp.WaitVisible("nav", q),
		chromedp.Navigate(base+"/people"), chromedp.WaitVisible("#people", q),
		chromedp.Click(`#people details.add-photo summary`, q),
		chromedp.SetUploadFiles(`#people .add-photo-form input[type=file]`, []string{modeltest.Face(t, "obama2.jpg")}, q),
		chromedp.Click(`#people .add-photo-form button`, q), chromedp.WaitVisible("#enrolled", q),
		chromedp.Evaluate(`document.querySelectorAll('#people img.thumb').length`, &after),
		shot("47-people-photo-added"),
		chromedp.Navigate(base+"/lang/ja"), chromedp.Navigate(base+"/people"), chromedp.WaitVisible("#people", q),
	)
	if err != nil {
		t.Fatalf("people photos: %v", err)
	}
	if _, err := chromedp.RunResponse(bctx, chromedp.Click(`#people form.remove-photo button`, q)); err != nil {
		t.Fatalf("remove a photo: %v", err)
	}
	err = chromedp.Run(bctx, chromedp.WaitVisible("#people", q),
		chromedp.Evaluate(`document.querySelectorAll('#people img.thumb').length`, &afterJa),
		chromedp.Text("#people", &ja, q), shot("48-ja-people-photo-removed"))
	if err != nil {
		t.Fatalf("people photos: %v", err)
	}
	if after != 2 || afterJa != 1 || !strings.Contains(ja, "写真を追加") {
		t.Errorf("thumbnails: %d after adding (want 2), %d after removing (want 1); ja row %q", after, afterJa, ja)
	}
}
