package web

import (
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/facegate/facegate/storage"
)

// postForm posts form with a CSRF token read from page and returns the
// status and body.
func (h *harness) postForm(c *http.Client, page, path string, form url.Values) (int, string) {
	h.t.Helper()
	form.Set("_csrf", h.csrf(c, page))
	req, _ := http.NewRequest(http.MethodPost, h.ts.URL+path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "text/html")
	resp, err := c.Do(req)
	if err != nil {
		h.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func bearerGet(t *testing.T, u, token string) int {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, u, nil)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

// Security 4: an admin demotes, disables, re-enables and resets a user on
// the users page, and each change holds at once in the user's live
// session and token; the last word is audited.
func TestUserLifecycleTakesEffectAtOnce(t *testing.T) {
	h := newHarness(t)
	h.user("ada", storage.RoleAdmin)
	h.user("ivy", storage.RoleInvestigator)
	tok, _ := h.db.CreateAPIToken("ivy")
	ada, ivy := h.login("ada"), h.login("ivy")
	if code, _ := get(t, ivy, h.ts.URL+"/entries"); code != 200 {
		t.Fatalf("investigator /entries: %d", code)
	}
	if code, _ := get(t, ivy, h.ts.URL+"/users"); code != http.StatusForbidden {
		t.Fatalf("investigator /users: %d", code)
	}
	if code, body := get(t, ada, h.ts.URL+"/users"); code != 200 || !strings.Contains(body, "<td>ivy</td>") {
		t.Fatalf("users page: %d", code)
	}
	if code, _ := h.postForm(ada, "/users", "/users/role", url.Values{"username": {"ivy"}, "role": {"viewer"}}); code != http.StatusSeeOther {
		t.Fatalf("demote: %d", code)
	}
	if code, _ := get(t, ivy, h.ts.URL+"/entries"); code != http.StatusForbidden {
		t.Fatalf("demoted user's live session still reads entries: %d", code)
	}
	if code, _ := h.postForm(ada, "/users", "/users/disable", url.Values{"username": {"ivy"}}); code != http.StatusSeeOther {
		t.Fatalf("disable: %d", code)
	}
	if code, _ := get(t, ivy, h.ts.URL+"/"); code != http.StatusSeeOther {
		t.Fatalf("disabled user's session still works: %d", code)
	}
	if code := bearerGet(t, h.ts.URL+"/api/v1/presence", tok); code != http.StatusUnauthorized {
		t.Fatalf("disabled user's token: %d", code)
	}
	h.postForm(ada, "/users", "/users/enable", url.Values{"username": {"ivy"}})
	ivy = h.login("ivy")
	if code, _ := h.postForm(ada, "/users", "/users/password", url.Values{"username": {"ivy"}, "password": {"aaaaaaaaaaaaaaa"}}); code != http.StatusUnprocessableEntity {
		t.Fatalf("reset to a weak password: %d", code)
	}
	if code, _ := h.postForm(ada, "/users", "/users/password", url.Values{"username": {"ivy"}, "password": {"a fresh start for ivy"}}); code != http.StatusSeeOther {
		t.Fatalf("reset: %d", code)
	}
	if code, _ := get(t, ivy, h.ts.URL+"/"); code != http.StatusSeeOther {
		t.Fatalf("session after a password reset: %d", code)
	}
	if _, err := h.db.CheckLogin("ivy", "a fresh start for ivy"); err != nil {
		t.Fatal("reset password does not log in")
	}
	if code, body := h.postForm(ada, "/users", "/users/disable", url.Values{"username": {"ada"}}); code != http.StatusUnprocessableEntity || !strings.Contains(body, "another admin") {
		t.Fatalf("admin disabling themself: %d", code)
	}
	if code, _ := h.postForm(ada, "/users", "/users/password", url.Values{"username": {"ada"}, "password": {"ada's own new passphrase"}}); code != http.StatusSeeOther {
		t.Fatalf("admin resetting their own password: %d", code)
	}
	if code, _ := get(t, ada, h.ts.URL+"/users"); code != 200 {
		t.Fatalf("admin's session after resetting their own password: %d", code)
	}
	checkAudit(t, h, "user_role_changed", "user_disabled", "user_enabled", "password_reset")
}

// Security 4: a user changes their own password (this session stays, the
// others end) and makes, uses and revokes a token that expires.
func TestSelfServicePasswordAndTokens(t *testing.T) {
	h := newHarness(t)
	h.user("vic", storage.RoleViewer)
	vic, other := h.login("vic"), h.login("vic")
	if code, _ := h.postForm(vic, "/account", "/account/password", url.Values{"current": {"wrong"}, "password": {"my new passphrase"}}); code != http.StatusForbidden {
		t.Fatalf("change with a wrong current password: %d", code)
	}
	code, body := h.postForm(vic, "/account", "/account/password", url.Values{"current": {testPassword}, "password": {"my new passphrase"}})
	if code != 200 || !strings.Contains(body, `id="changed"`) {
		t.Fatalf("change: %d", code)
	}
	if code, _ := get(t, vic, h.ts.URL+"/"); code != 200 {
		t.Fatalf("own session after the change: %d", code)
	}
	if code, _ := get(t, other, h.ts.URL+"/"); code != http.StatusSeeOther {
		t.Fatalf("other session after the change: %d", code)
	}
	code, body = h.postForm(vic, "/account", "/account/tokens", url.Values{"name": {"wall display"}, "days": {"1"}})
	m := regexp.MustCompile(`id="new-token">(fgt_[0-9a-f]+)<`).FindStringSubmatch(body)
	if code != 200 || m == nil {
		t.Fatalf("create token: %d", code)
	}
	if code := bearerGet(t, h.ts.URL+"/api/v1/presence", m[1]); code != 200 {
		t.Fatalf("new token: %d", code)
	}
	h.advance(25 * time.Hour)
	if code := bearerGet(t, h.ts.URL+"/api/v1/presence", m[1]); code != http.StatusUnauthorized {
		t.Fatalf("token a day past its expiry: %d", code)
	}
	vic = h.client()
	h.postLogin(vic, "vic", "my new passphrase", "")
	code, body = h.postForm(vic, "/account", "/account/tokens", url.Values{"name": {"script"}, "days": {"30"}})
	m = regexp.MustCompile(`id="new-token">(fgt_[0-9a-f]+)<`).FindStringSubmatch(body)
	if code != 200 || m == nil {
		t.Fatalf("create token: %d", code)
	}
	toks, _ := h.db.APITokens("vic")
	if code, _ := h.postForm(vic, "/account", "/account/tokens/revoke", url.Values{"id": {itoa(toks[0].ID)}}); code != http.StatusSeeOther {
		t.Fatalf("revoke: %d", code)
	}
	if code := bearerGet(t, h.ts.URL+"/api/v1/presence", m[1]); code != http.StatusUnauthorized {
		t.Fatalf("revoked token: %d", code)
	}
	if code, _ := h.postForm(vic, "/account", "/account/tokens", url.Values{"days": {"9999"}}); code != http.StatusUnprocessableEntity {
		t.Fatalf("a 9999-day token: %d", code)
	}
	checkAudit(t, h, "password_changed", "api_token_created", "api_token_revoked")
}

// Security 4: a session ends 12 h after login however active it is.
func TestSessionAbsoluteLifetime(t *testing.T) {
	h := newHarness(t)
	h.user("vic", storage.RoleViewer)
	c := h.login("vic")
	for elapsed := time.Duration(0); elapsed < SessionMax-SessionIdle; elapsed += SessionIdle - time.Minute {
		if code, _ := get(t, c, h.ts.URL+"/"); code != 200 {
			t.Fatalf("active session ended after %v: %d", elapsed, code)
		}
		h.advance(SessionIdle - time.Minute)
	}
	h.advance(SessionIdle)
	if code, _ := get(t, c, h.ts.URL+"/"); code != http.StatusSeeOther {
		t.Fatalf("session still valid %v after login", SessionMax)
	}
}

// Pages render in Japanese without a missing string.
func TestUsersPagesJapanese(t *testing.T) {
	h := newHarness(t)
	h.user("ada", storage.RoleAdmin)
	h.db.CreateAPIToken("ada")
	c := h.login("ada")
	for _, p := range []string{"/users", "/account"} {
		req, _ := http.NewRequest(http.MethodGet, h.ts.URL+p, nil)
		req.Header.Set("Accept-Language", "ja")
		resp, err := c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || strings.Contains(string(b), missingPrefix) || !strings.Contains(string(b), "API トークン") {
			t.Errorf("%s in Japanese: %d", p, resp.StatusCode)
		}
	}
}

func checkAudit(t *testing.T, h *harness, codes ...string) {
	t.Helper()
	log, _ := h.db.AuditLog(100)
	for _, want := range codes {
		found := false
		for _, e := range log {
			found = found || e.Code == want
		}
		if !found {
			t.Errorf("no %s in the audit log", want)
		}
	}
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }
