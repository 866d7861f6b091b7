package web

import (
	"html"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/facegate/facegate/models/modeltest"
	"github.com/facegate/facegate/storage"
)

// Issue 15, security 2: a photo of an enrolled person uploaded under
// another name was stored with only a warning, and the real person became
// "unknown" at the door. Now it is refused (409) until the admin gives a
// reason, which is audited; the form says how.
func TestEnrolConflictNeedsConfirmation(t *testing.T) {
	h := newFaceHarness(t)
	h.user("ada", storage.RoleAdmin)
	c := h.login("ada")
	enrol := func(id, name, photo, reason string) (int, string) {
		t.Helper()
		fields := map[string]string{"_csrf": h.csrf(c, "/people"), "name": name, "employee_id": id}
		if reason != "" {
			fields["confirm_reason"] = reason
		}
		body, ct := multipartBody(t, fields, map[string][]byte{photo: modeltest.ReadFace(t, photo)})
		req, _ := http.NewRequest(http.MethodPost, h.ts.URL+"/people", body)
		req.Header.Set("Content-Type", ct)
		resp, err := c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, html.UnescapeString(string(b))
	}
	if code, _ := enrol("E001", "Barack Obama", "obama.jpg", ""); code != http.StatusOK {
		t.Fatalf("first enrolment: %d", code)
	}
	code, page := enrol("E777", "Not Obama", "obama2.jpg", "")
	if code != http.StatusConflict || !strings.Contains(page, "Barack Obama (E001)") || !strings.Contains(page, `name="confirm_reason"`) {
		t.Fatalf("duplicate upload: %d, want 409 naming E001 with the confirm field", code)
	}
	if _, err := h.db.PersonByEmployeeID("E777"); err == nil {
		t.Fatal("a refused enrolment stored the person")
	}
	if code, page := enrol("E777", "Not Obama", "obama2.jpg", "twin brother, ID checked"); code != http.StatusOK || !strings.Contains(page, `id="enrolled"`) {
		t.Fatalf("confirmed upload: %d", code)
	}
	log, err := h.db.AuditLog(10)
	if err != nil {
		t.Fatal(err)
	}
	var confirmed, enrolled bool
	for _, e := range log {
		confirmed = confirmed || (e.Code == "enrolment_conflict_confirmed" && e.By == "ada" && strings.Contains(e.Detail, "twin brother"))
		enrolled = enrolled || (e.Code == "person_enrolled" && strings.Contains(e.Detail, `"conflicts_confirmed":1`))
	}
	if !confirmed || !enrolled {
		t.Fatalf("audit log lacks the confirmation (%v) or the enrolment with its conflict count (%v): %+v", confirmed, enrolled, log)
	}
}
