package web

import (
	"bytes"
	"image/jpeg"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/facegate/facegate/storage"
)

var thumbRE = regexp.MustCompile(`<img class="thumb" src="(/people/photos/[0-9a-f]{64}\.jpg)"`)

// People shows each person's kept enrolment photos, served by hash to
// admins only and never an entry's snapshot; erasing asks first and needs
// the employee ID typed.
func TestPeopleThumbnailsAndEraseConfirmation(t *testing.T) {
	h := newFaceHarness(t)
	h.user("ada", storage.RoleAdmin)
	h.user("ivy", storage.RoleInvestigator)
	fill(t, h)
	c := h.login("ada")
	_, page := get(t, c, h.ts.URL+"/people")
	m := thumbRE.FindStringSubmatch(page)
	if m == nil {
		t.Fatalf("no thumbnail on the people page: %s", between(page, `<table id="people">`, "</table>"))
	}
	resp, err := c.Get(h.ts.URL + m[1])
	if err != nil {
		t.Fatal(err)
	}
	var img bytes.Buffer
	img.ReadFrom(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "image/jpeg" {
		t.Fatalf("thumbnail: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	if _, err := jpeg.Decode(&img); err != nil {
		t.Fatalf("thumbnail is not a JPEG: %v", err)
	}
	granted := true
	evs, _ := h.db.Events(storage.EventFilter{Granted: &granted})
	snap := "/snapshots/" + evs[0].SnapshotHash + ".jpg"
	if code, _ := get(t, c, h.ts.URL+snap); evs[0].SnapshotHash == "" || code != http.StatusOK {
		t.Fatalf("entry snapshot %q: %d", snap, code)
	}
	if code, _ := get(t, c, h.ts.URL+"/people/photos/"+evs[0].SnapshotHash+".jpg"); code != http.StatusNotFound {
		t.Errorf("an entry's snapshot served as an enrolment photo: %d", code)
	}
	if code, _ := get(t, h.login("ivy"), h.ts.URL+m[1]); code != http.StatusForbidden {
		t.Errorf("investigator fetched an enrolment photo: %d", code)
	}
	if strings.Contains(page, `action="/people/1/erase"`) {
		t.Error("the people list still erases in one click")
	}

	_, confirm := get(t, c, h.ts.URL+"/people/1/erase")
	if !strings.Contains(confirm, "Barack Obama (E001): 1 face templates") || !strings.Contains(confirm, m[1]) {
		t.Errorf("confirmation page: %s", between(confirm, "<main>", "</form>"))
	}
	get(t, c, h.ts.URL+"/lang/ja")
	for _, typed := range []string{"", "E002"} {
		code, body := h.postForm(c, "/people/1/erase", "/people/1/erase", url.Values{"confirm_employee_id": {typed}, "snapshots": {"on"}})
		if code != http.StatusUnprocessableEntity || !strings.Contains(body, "何も削除していません") || !strings.Contains(body, `name="snapshots" checked`) {
			t.Errorf("erase with %q typed: %d %s", typed, code, between(body, "<main>", "</form>"))
		}
		if _, err := h.db.PersonByEmployeeID("E001"); err != nil {
			t.Fatalf("erased without the employee ID: %v", err)
		}
	}
	code, _ := h.postForm(c, "/people/1/erase", "/people/1/erase", url.Values{"confirm_employee_id": {"E001"}})
	if code != http.StatusSeeOther {
		t.Fatalf("confirmed erase: %d", code)
	}
	if _, err := h.db.PersonByEmployeeID("E001"); err == nil {
		t.Fatal("person survived a confirmed erase")
	}
	if code, _ := get(t, c, h.ts.URL+m[1]); code != http.StatusNotFound {
		t.Errorf("photo of an erased person still served: %d", code)
	}
}
