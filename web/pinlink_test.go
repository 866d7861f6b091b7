package web

import (
	"fmt"
	"html"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/facegate/facegate/storage"
)

var pinLinkRE = regexp.MustCompile(`id="pin-link" href="[^"]*code=([0-9a-f]+)"`)

// pinPost sends the PIN form in lang.
func pinPost(t *testing.T, h *harness, c *http.Client, code, lang, pin, pin2 string) (int, string) {
	t.Helper()
	form := url.Values{"_csrf": {h.csrf(c, "/pin?code="+code)}, "code": {code}, "pin": {pin}, "pin2": {pin2}}
	req, _ := http.NewRequest(http.MethodPost, h.ts.URL+"/pin", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept-Language", lang)
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	return resp.StatusCode, html.UnescapeString(readAll(resp))
}

// An admin makes a PIN link for a person; the person (no login) types a
// PIN twice and it is stored; mistakes are explained in their language;
// the link then dies, and an expired link is refused too.
func TestPINLink(t *testing.T) {
	h := newHarness(t)
	h.user("ada", storage.RoleAdmin)
	p, err := h.db.Enroll("E7", "Hanako", []storage.NewTemplate{{Descriptor: make([]float32, 128), ModelVersion: "m", SourceName: "a.jpg"}})
	if err != nil {
		t.Fatal(err)
	}
	admin := h.login("ada")
	makeLink := func() string {
		t.Helper()
		_, page := h.postForm(admin, "/people", fmt.Sprintf("/people/%d/pinlink", p.ID), url.Values{})
		m := pinLinkRE.FindStringSubmatch(page)
		if m == nil {
			t.Fatal("no PIN link shown")
		}
		return m[1]
	}
	code := makeLink()
	person := h.client()
	if status, page := get(t, person, h.ts.URL+"/pin?code="+code); status != http.StatusOK || !strings.Contains(page, "Hanako") {
		t.Fatalf("the link's page: %d", status)
	}
	if status, page := pinPost(t, h, person, code, "ja", "2580", "2581"); status != http.StatusUnprocessableEntity || !strings.Contains(page, "一致しません") {
		t.Errorf("two different PINs: %d %s", status, between(page, `id="error"`, "</p>"))
	}
	if status, page := pinPost(t, h, person, code, "ja", "1234", "1234"); status != http.StatusUnprocessableEntity || !strings.Contains(page, "連番") {
		t.Errorf("a run: %d %s", status, between(page, `id="error"`, "</p>"))
	}
	if status, page := pinPost(t, h, person, code, "en", "25", "25"); status != http.StatusUnprocessableEntity || !strings.Contains(page, "4 to 8 digits") {
		t.Errorf("too short: %d %s", status, between(page, `id="error"`, "</p>"))
	}
	if status, page := pinPost(t, h, person, code, "en", "2580", "2580"); status != http.StatusOK || !strings.Contains(page, `id="done"`) {
		t.Fatalf("PIN set: %d %s", status, between(page, `id="error"`, "</p>"))
	}
	if c, err := h.db.CheckPIN(p.ID, "2580", h.now()); err != nil || !c.OK {
		t.Fatalf("the PIN set through the link does not check: %+v %v", c, err)
	}
	if status, page := get(t, person, h.ts.URL+"/pin?code="+code); status != http.StatusGone || !strings.Contains(page, "already used") {
		t.Errorf("the link opened again: %d, want 410 saying it is used", status)
	}
	if status, _ := pinPost(t, h, person, code, "en", "3691", "3691"); status != http.StatusGone {
		t.Errorf("the link used again: %d, want 410", status)
	}
	late := makeLink()
	h.advance(25 * time.Hour)
	if status, page := pinPost(t, h, h.client(), late, "ja", "3691", "3691"); status != http.StatusGone || !strings.Contains(page, "期限切れ") {
		t.Errorf("an expired link: %d, want 410 saying so in Japanese", status)
	}
	audit, _ := h.db.AuditLog(20)
	var codes []string
	for _, a := range audit {
		codes = append(codes, a.Code)
	}
	if j := strings.Join(codes, " "); !strings.Contains(j, "pin_link_made") || !strings.Contains(j, "pin_set_by_link") {
		t.Errorf("audit log: %s", j)
	}
}
