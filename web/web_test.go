package web

import (
	"bytes"
	"compress/zlib"
	"encoding/json"
	"fmt"
	"hash/crc32"
	"io"
	"mime/multipart"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pquerna/otp"
	"github.com/pquerna/otp/totp"

	"github.com/facegate/facegate/gate"
	"github.com/facegate/facegate/gate/clocktest"
	"github.com/facegate/facegate/gate/identity"
	"github.com/facegate/facegate/models/modeltest"
	"github.com/facegate/facegate/storage"
	"github.com/facegate/facegate/vision"
)

var (
	recOnce sync.Once
	rec     *vision.Recognizer
	recErr  error
)

type harness struct {
	t     testing.TB
	s     *Server
	db    *storage.DB
	rec   *storage.Recorder
	svc   *identity.Service
	ts    *httptest.Server
	clock time.Time
	mu    sync.Mutex
}

func (h *harness) server() *Server { h.mu.Lock(); defer h.mu.Unlock(); return h.s }

func (h *harness) now() time.Time { h.mu.Lock(); defer h.mu.Unlock(); return h.clock }
func (h *harness) advance(d time.Duration) {
	h.mu.Lock()
	h.clock = h.clock.Add(d)
	h.mu.Unlock()
}

const testPassword = "correct horse battery"

// newHarness is the web app on a real database, without recognition:
// enrol and identify answer 503.
func newHarness(t testing.TB) *harness { return harnessWith(t, false) }

// newFaceHarness is newHarness with the real recogniser (needs the models).
func newFaceHarness(t testing.TB) *harness { return harnessWith(t, true) }

func harnessWith(t testing.TB, faces bool) *harness {
	t.Helper()
	dir := t.TempDir()
	// One clock for the app and its database (clocktest: `make test` moves
	// it years ahead and back to catch a test that mixes it with the wall
	// clock).
	h := &harness{t: t, clock: clocktest.Date(2026, 11, 24, 9, 0, 0, 0, time.UTC)}
	db, err := storage.Open(filepath.Join(dir, "f.db"), storage.Options{KeyDir: filepath.Join(dir, "keys"), Now: h.now})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	snaps := storage.SnapshotStore{Dir: filepath.Join(dir, "snapshots")}
	h.db, h.rec = db, &storage.Recorder{DB: db, Snapshots: snaps, Keys: db.Keys}
	deps := Deps{DB: db, Recorder: h.rec, Now: h.now, Location: time.UTC,
		Health: func() Health { return Health{Frames: 42, LastFrame: h.now(), SourceState: "streaming", Source: "test"} }}
	if faces {
		models := modeltest.ModelsDir(t)
		recOnce.Do(func() { rec, recErr = vision.NewRecognizer(models) })
		if recErr != nil {
			t.Fatal(recErr)
		}
		if h.svc, err = identity.New(db, rec, vision.DefaultRule); err != nil {
			t.Fatal(err)
		}
		h.svc.Photos = snaps
		deps.Faces, deps.ModelVersion = h.svc, rec.ModelVersion()
	}
	s, err := New(deps, Options{PlainHTTP: true})
	if err != nil {
		t.Fatal(err)
	}
	h.s = s
	// Through h.server, so that a test can restart the app on the same data.
	h.ts = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { h.server().Handler().ServeHTTP(w, r) }))
	t.Cleanup(h.ts.Close)
	return h
}

func (h *harness) client() *http.Client {
	jar, _ := cookiejar.New(nil)
	return &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

func (h *harness) user(name, role string) {
	h.t.Helper()
	if err := h.db.CreateUser(name, testPassword, role); err != nil {
		h.t.Fatal(err)
	}
}

var csrfRE = regexp.MustCompile(`name="csrf-token" content="([^"]+)"`)

// csrf fetches a page and returns the CSRF token it carries.
func (h *harness) csrf(c *http.Client, path string) string {
	h.t.Helper()
	resp, err := c.Get(h.ts.URL + path)
	if err != nil {
		h.t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	m := csrfRE.FindSubmatch(b)
	if m == nil {
		h.t.Fatalf("no CSRF token on %s (status %d)", path, resp.StatusCode)
	}
	return string(m[1])
}

func (h *harness) login(name string) *http.Client {
	h.t.Helper()
	c := h.client()
	tok := h.csrf(c, "/login")
	resp, err := c.PostForm(h.ts.URL+"/login", url.Values{"_csrf": {tok}, "username": {name}, "password": {testPassword}})
	if err != nil {
		h.t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther {
		h.t.Fatalf("login %s: status %d", name, resp.StatusCode)
	}
	return c
}

func get(t *testing.T, c *http.Client, u string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, u, nil)
	req.Header.Set("Accept", "text/html")
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func TestSetupTokenCreatesFirstAdmin(t *testing.T) {
	h := newHarness(t)
	c := h.client()
	if code, _ := get(t, c, h.ts.URL+"/login"); code != http.StatusSeeOther {
		t.Fatalf("login page with no admin: %d, want redirect to setup", code)
	}
	tok := h.csrf(c, "/setup")
	form := url.Values{"_csrf": {tok}, "token": {"wrong"}, "username": {"root"}, "password": {testPassword}}
	resp, _ := c.PostForm(h.ts.URL+"/setup", form)
	if resp.StatusCode != http.StatusForbidden {
		t.Fatalf("wrong setup token: %d", resp.StatusCode)
	}
	form.Set("token", h.s.setup.token)
	form.Set("password", "short")
	resp, _ = c.PostForm(h.ts.URL+"/setup", form)
	if resp.StatusCode != http.StatusUnprocessableEntity {
		t.Fatalf("short password: %d", resp.StatusCode)
	}
	form.Set("password", testPassword)
	resp, _ = c.PostForm(h.ts.URL+"/setup", form)
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("setup: %d", resp.StatusCode)
	}
	if code, _ := get(t, c, h.ts.URL+"/people"); code != http.StatusOK {
		t.Fatalf("first admin cannot see people: %d", code)
	}
	// The token works once.
	resp, _ = c.PostForm(h.ts.URL+"/setup", form)
	if resp.StatusCode != http.StatusForbidden {
		t.Fatalf("setup token reused: %d", resp.StatusCode)
	}
	u, _ := h.db.UserByName("root")
	if !strings.HasPrefix(u.PasswordHash, "bcrypt-sha256$$2a$12$") {
		t.Fatalf("password not bcrypt-hashed: %q", u.PasswordHash)
	}
}

func TestLoginRateLimitedAndGeneric(t *testing.T) {
	h := newHarness(t)
	h.user("alice", storage.RoleAdmin)
	c := h.client()
	tok := h.csrf(c, "/login")
	codes := []int{}
	for i := 0; i < loginBurst+2; i++ {
		resp, _ := c.PostForm(h.ts.URL+"/login", url.Values{"_csrf": {tok}, "username": {"alice"}, "password": {"not the password"}})
		codes = append(codes, resp.StatusCode)
		resp.Body.Close()
	}
	if codes[0] != http.StatusUnauthorized || codes[len(codes)-1] != http.StatusTooManyRequests {
		t.Fatalf("codes %v: want 401 then 429", codes)
	}
}

func TestCSRFEnforced(t *testing.T) {
	h := newHarness(t)
	h.user("alice", storage.RoleAdmin)
	c := h.login("alice")
	p, err := h.db.Enroll("E1", "Ann", []storage.NewTemplate{{ModelVersion: "m"}})
	if err != nil {
		t.Fatal(err)
	}
	for _, tok := range []string{"", "forged-token"} {
		resp, _ := c.PostForm(fmt.Sprintf("%s/people/%d/suspend", h.ts.URL, p.ID), url.Values{"_csrf": {tok}})
		if resp.StatusCode != http.StatusForbidden {
			t.Fatalf("CSRF token %q: %d", tok, resp.StatusCode)
		}
	}
	if got, _ := h.db.PersonByID(p.ID); got.SuspendedSince != nil {
		t.Fatal("a forged request suspended someone")
	}
	tok := h.csrf(c, "/people")
	resp, _ := c.PostForm(fmt.Sprintf("%s/people/%d/suspend", h.ts.URL, p.ID), url.Values{"_csrf": {tok}})
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("with token: %d", resp.StatusCode)
	}
	if got, _ := h.db.PersonByID(p.ID); got.SuspendedSince == nil {
		t.Fatal("not suspended")
	}
	log, _ := h.db.AuditLog(10)
	if len(log) == 0 || log[0].Code != "person_suspended" || log[0].By != "alice" {
		t.Fatalf("audit %+v", log)
	}
}

func TestRolesAndHeaders(t *testing.T) {
	h := newHarness(t)
	h.user("vic", storage.RoleViewer)
	h.user("ivy", storage.RoleInvestigator)
	h.user("ada", storage.RoleAdmin)
	cases := []struct {
		user string
		path string
		code int
	}{
		{"vic", "/", 200}, {"vic", "/presence", 200}, {"vic", "/entries", 403}, {"vic", "/people", 403}, {"vic", "/settings", 403},
		{"ivy", "/entries", 200}, {"ivy", "/settings", 200}, {"ivy", "/people", 403}, {"ivy", "/audit", 403},
		{"ada", "/people", 200}, {"ada", "/rules", 200}, {"ada", "/audit", 200}, {"ada", "/people/webcam", 200},
		{"", "/entries", 303}, {"", "/api/v1/people", 401},
	}
	clients := map[string]*http.Client{"": h.client()}
	for _, u := range []string{"vic", "ivy", "ada"} {
		clients[u] = h.login(u)
	}
	for _, c := range cases {
		req, _ := http.NewRequest(http.MethodGet, h.ts.URL+c.path, nil)
		resp, err := clients[c.user].Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != c.code {
			t.Errorf("%s GET %s: %d, want %d", c.user, c.path, resp.StatusCode, c.code)
		}
		hd := resp.Header
		if !strings.Contains(hd.Get("Content-Security-Policy"), "frame-ancestors 'none'") || strings.Contains(hd.Get("Content-Security-Policy"), "unsafe-inline") ||
			hd.Get("X-Content-Type-Options") != "nosniff" || hd.Get("X-Frame-Options") != "DENY" {
			t.Errorf("%s: security headers %v", c.path, hd)
		}
	}
}

func multipartBody(t *testing.T, fields map[string]string, files map[string][]byte) (*bytes.Buffer, string) {
	var b bytes.Buffer
	w := multipart.NewWriter(&b)
	for k, v := range fields {
		w.WriteField(k, v)
	}
	for name, data := range files {
		fw, _ := w.CreateFormFile("photos", name)
		fw.Write(data)
	}
	w.Close()
	return &b, w.FormDataContentType()
}

func TestUploadsRefuseBadInputAndStoreNothing(t *testing.T) {
	h := newFaceHarness(t)
	h.user("ada", storage.RoleAdmin)
	c := h.login("ada")
	cases := []struct {
		name  string
		files map[string][]byte
		code  int
		says  string
	}{
		{"text as jpg", map[string][]byte{"cv.jpg": []byte("not an image at all")}, 422, "cv.jpg"},
		{"two faces", map[string][]byte{"two.jpg": modeltest.ReadFace(t, "two_people.jpg")}, 422, "more than one face"},
		{"truncated", map[string][]byte{"half.jpg": modeltest.ReadFace(t, "obama.jpg")[:20000]}, 422, "truncated"},
		{"too big", map[string][]byte{"huge.jpg": make([]byte, 46<<20)}, 413, ""},
		{"50000x50000 JPEG header", map[string][]byte{"giant.jpg": jpegHeader(50000, 50000)}, 422, "too large"},
		{"PNG decompression bomb", map[string][]byte{"bomb.png": pngBomb(50000, 50000)}, 422, "too large"},
		{"GIF", map[string][]byte{"anim.gif": []byte("GIF89a\x01\x00\x01\x00\x00\x00\x00;")}, 422, "not a JPEG or PNG"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			tok := h.csrf(c, "/people")
			body, ct := multipartBody(t, map[string]string{"_csrf": tok, "name": "X", "employee_id": "E-X"}, tc.files)
			req, _ := http.NewRequest(http.MethodPost, h.ts.URL+"/people", body)
			req.Header.Set("Content-Type", ct)
			req.Header.Set("Accept", "text/html")
			resp, err := c.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != tc.code || !strings.Contains(string(b), tc.says) {
				t.Fatalf("status %d, want %d mentioning %q", resp.StatusCode, tc.code, tc.says)
			}
			if _, err := h.db.PersonByEmployeeID("E-X"); err == nil {
				t.Fatal("a refused upload stored a person")
			}
		})
	}
	// A good photo is enrolled and its stored copy is a re-encoded JPEG.
	tok := h.csrf(c, "/people")
	body, ct := multipartBody(t, map[string]string{"_csrf": tok, "name": "Barack Obama", "employee_id": "E001"},
		map[string][]byte{"obama.jpg": modeltest.ReadFace(t, "obama.jpg")})
	req, _ := http.NewRequest(http.MethodPost, h.ts.URL+"/people", body)
	req.Header.Set("Content-Type", ct)
	resp, _ := c.Do(req)
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 || !strings.Contains(string(b), `id="enrolled"`) {
		t.Fatalf("good upload: %d", resp.StatusCode)
	}
	var tpl storage.FaceTemplate
	if p, err := h.db.PersonByEmployeeID("E001"); err == nil {
		if ts, err := h.db.PersonTemplates(p.ID); err == nil && len(ts) > 0 {
			tpl = ts[0]
		}
	}
	stored, err := h.rec.Snapshots.Get(tpl.PhotoSHA256)
	if err != nil || bytes.Equal(stored, modeltest.ReadFace(t, "obama.jpg")) {
		t.Fatalf("enrolment photo must be stored re-encoded: %v", err)
	}
}

func TestSnapshotsOnlyByHash(t *testing.T) {
	h := newHarness(t)
	h.user("ivy", storage.RoleInvestigator)
	c := h.login("ivy")
	hash, _ := h.rec.Snapshots.Put(modeltest.ReadFace(t, "obama.jpg"))
	os.WriteFile(filepath.Join(h.rec.Snapshots.Dir, "secret.txt"), []byte("secret"), 0o644)
	for _, p := range []string{"/snapshots/" + hash + ".jpg"} {
		resp, _ := c.Get(h.ts.URL + p)
		if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "image/jpeg" || resp.Header.Get("X-Content-Type-Options") != "nosniff" {
			t.Fatalf("%s: %d %s", p, resp.StatusCode, resp.Header.Get("Content-Type"))
		}
	}
	for _, p := range []string{"/snapshots/..%2fsecret.txt", "/snapshots/../../etc/passwd", "/snapshots/" + hash, "/snapshots/" + strings.Repeat("g", 64) + ".jpg", "/snapshots/%2e%2e%2fkeys"} {
		resp, err := c.Get(h.ts.URL + p)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		if resp.StatusCode == 200 || strings.Contains(string(b), "secret") {
			t.Fatalf("%s served: %d", p, resp.StatusCode)
		}
	}
}

func TestSearchFieldsAreInert(t *testing.T) {
	h := newHarness(t)
	h.user("ada", storage.RoleAdmin)
	c := h.login("ada")
	if _, err := h.db.Enroll("E1", "Ann", []storage.NewTemplate{{ModelVersion: "m"}}); err != nil {
		t.Fatal(err)
	}
	// The search does find her by name, so "not listed" below means inert.
	if code, body := get(t, c, h.ts.URL+"/people?q=Ann"); code != 200 || !strings.Contains(body, "<td>Ann</td>") {
		t.Fatalf("q=Ann: %d, Ann not listed", code)
	}
	for _, q := range []string{"' OR 1=1 --", `%`, `_`, `"; DROP TABLE people; --`} {
		code, body := get(t, c, h.ts.URL+"/people?q="+url.QueryEscape(q))
		if code != 200 || strings.Contains(body, "<td>Ann</td>") {
			t.Fatalf("q=%q: %d, matched everyone", q, code)
		}
		code, _ = get(t, c, h.ts.URL+"/entries?person="+url.QueryEscape(q)+"&door="+url.QueryEscape(q))
		if code != 200 {
			t.Fatalf("entries q=%q: %d", q, code)
		}
	}
	if _, err := h.db.PersonByEmployeeID("E1"); err != nil {
		t.Fatal("people table damaged")
	}
	if code, body := get(t, c, h.ts.URL+"/people?q=An"); code != 200 || !strings.Contains(body, "<td>Ann</td>") {
		t.Fatal("plain search broken")
	}
}

func TestTranslationsComplete(t *testing.T) {
	for key := range messages["en"] {
		if _, ok := messages["ja"][key]; !ok {
			t.Errorf("ja lacks %q", key)
		}
	}
	for key := range messages["ja"] {
		if _, ok := messages["en"][key]; !ok {
			t.Errorf("en lacks %q", key)
		}
	}
}

// Every page renders in Japanese (browser language) with no missing text.
func TestJapanesePages(t *testing.T) {
	h := newFaceHarness(t)
	h.user("ada", storage.RoleAdmin)
	c := h.login("ada")
	fill(t, h)
	for _, p := range []string{"/", "/people", "/people/webcam", "/entries", "/entries/1", "/presence", "/rules", "/audit", "/settings", "/nope"} {
		req, _ := http.NewRequest(http.MethodGet, h.ts.URL+p, nil)
		req.Header.Set("Accept-Language", "ja,en;q=0.5")
		req.Header.Set("Accept", "text/html")
		resp, _ := c.Do(req)
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if strings.Contains(string(b), missingPrefix) || !strings.Contains(string(b), `lang="ja"`) {
			t.Errorf("%s: missing translations or not Japanese (status %d)", p, resp.StatusCode)
		}
	}
}

// fill records a few entries through the identify API's path.
func fill(t *testing.T, h *harness) {
	h.svc.Enroll("E001", "Barack Obama", []identity.Photo{{Name: "obama.jpg", Data: modeltest.ReadFace(t, "obama.jpg")}})
	p, _ := h.db.PersonByEmployeeID("E001")
	snap, _ := vision.Reencode("f", modeltest.ReadFace(t, "obama2.jpg"))
	for i, dir := range []string{"in", "out"} {
		h.rec.Record(storage.Event{AtMicro: h.now().Add(time.Duration(i) * time.Hour).UnixMicro(), Kind: "access_granted", Granted: true,
			PersonID: p.ID, PersonName: p.Name, Door: "sr-" + dir, Area: "server room", Direction: dir, Reason: "granted by rule \"x\"",
			Distance: 0.4}, snap, nil)
	}
}

func TestAPITokenIdentifyAndEvents(t *testing.T) {
	h := newFaceHarness(t)
	h.user("ivy", storage.RoleInvestigator)
	h.user("ada", storage.RoleAdmin)
	h.svc.Enroll("E001", "Barack Obama", []identity.Photo{{Name: "obama.jpg", Data: modeltest.ReadFace(t, "obama.jpg")}})
	tok, err := h.db.CreateAPIToken("ivy")
	if err != nil {
		t.Fatal(err)
	}
	call := func(method, path, token string, body io.Reader, ct string) (*http.Response, []byte) {
		req, _ := http.NewRequest(method, h.ts.URL+path, body)
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		if ct != "" {
			req.Header.Set("Content-Type", ct)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		return resp, b
	}
	if resp, _ := call("GET", "/api/v1/events", "fgt_wrong", nil, ""); resp.StatusCode != 401 {
		t.Fatalf("bad token: %d", resp.StatusCode)
	}
	var b bytes.Buffer
	w := multipart.NewWriter(&b)
	fw, _ := w.CreateFormFile("photo", "obama2.jpg")
	fw.Write(modeltest.ReadFace(t, "obama2.jpg"))
	w.Close()
	resp, body := call("POST", "/api/v1/identify", tok, &b, w.FormDataContentType())
	if resp.StatusCode != 200 || !strings.Contains(string(body), `"verdict":"match"`) {
		t.Fatalf("identify: %d %s", resp.StatusCode, body)
	}
	resp, body = call("GET", "/api/v1/events?person=E001", tok, nil, "")
	var evs []storage.Event
	json.Unmarshal(body, &evs)
	if resp.StatusCode != 200 || len(evs) != 1 || evs[0].Kind != "identify" || evs[0].SnapshotHash == "" {
		t.Fatalf("events: %d %s", resp.StatusCode, body)
	}
	// An investigator's token cannot enrol.
	if resp, _ := call("POST", "/api/v1/people", tok, strings.NewReader(""), "multipart/form-data; boundary=x"); resp.StatusCode != 403 {
		t.Fatalf("investigator enrol: %d", resp.StatusCode)
	}
	if resp, _ := call("GET", "/api/v1/presence", tok, nil, ""); resp.StatusCode != 200 {
		t.Fatalf("presence: %d", resp.StatusCode)
	}
}

func TestSessionIdleTimeout(t *testing.T) {
	h := newHarness(t)
	h.user("ada", storage.RoleAdmin)
	c := h.login("ada")
	if code, _ := get(t, c, h.ts.URL+"/people"); code != 200 {
		t.Fatal(code)
	}
	h.advance(SessionIdle - time.Minute)
	if code, _ := get(t, c, h.ts.URL+"/people"); code != 200 {
		t.Fatalf("active session expired: %d", code)
	}
	h.advance(SessionIdle + time.Second)
	if code, _ := get(t, c, h.ts.URL+"/people"); code != http.StatusSeeOther {
		t.Fatalf("idle session still valid: %d", code)
	}
}

func TestHealthzAndMetrics(t *testing.T) {
	h := newHarness(t)
	h.user("vic", storage.RoleViewer)
	resp, _ := h.login("vic").Get(h.ts.URL + "/healthz")
	var hz struct {
		OK     bool
		Frames int64
	}
	json.NewDecoder(resp.Body).Decode(&hz)
	if resp.StatusCode != 200 || !hz.OK || hz.Frames != 42 {
		t.Fatalf("healthz %d %+v", resp.StatusCode, hz)
	}
	// A camera whose last frame is older than StaleAfter is unhealthy.
	lastFrame := h.now()
	h.s.deps.Health = func() Health { return Health{Frames: 42, LastFrame: lastFrame, SourceState: "reconnecting"} }
	h.advance(StaleAfter + time.Second)
	if resp, _ := http.Get(h.ts.URL + "/healthz"); resp.StatusCode != http.StatusServiceUnavailable {
		t.Fatalf("healthz with a stale frame: %d, want 503", resp.StatusCode)
	}
	if _, err := h.rec.Record(storage.Event{Kind: storage.KindDoorForced, Door: "front"}, nil, nil); err != nil {
		t.Fatal(err)
	}
	// The door event and the login's audit entry.
	events, _ := h.db.EventCount()
	for range 2 { // the collectors are registered once and serve every scrape
		resp, _ = http.Get(h.ts.URL + "/metrics")
		b, _ := io.ReadAll(resp.Body)
		if !strings.Contains(string(b), "facegate_frames_total 42") || !strings.Contains(string(b), "facegate_camera_up 0") ||
			!strings.Contains(string(b), fmt.Sprintf("facegate_events %d", events)) {
			t.Fatalf("metrics:\n%s", b)
		}
	}
}

func TestPlainHTTPRefusedOnLAN(t *testing.T) {
	h := newHarness(t)
	s := &Server{deps: h.s.deps, opts: Options{Addr: "0.0.0.0:0", PlainHTTP: true}}
	if _, err := s.Listen(); err == nil || !strings.Contains(err.Error(), "in clear") {
		t.Fatalf("plain HTTP on all interfaces: %v", err)
	}
	s.opts = Options{Addr: "127.0.0.1:0", TLSDir: t.TempDir()}
	ln, err := s.Listen()
	if err != nil {
		t.Fatal(err)
	}
	ln.Close()
	if _, err := os.Stat(filepath.Join(s.opts.TLSDir, "facegate-cert.pem")); err != nil {
		t.Fatalf("self-signed certificate not made: %v", err)
	}
}

func TestSettingsEditedByAdminsOnly(t *testing.T) {
	h := newHarness(t)
	owner := &savingOwner{rec: h.rec, cur: storage.Settings{Threshold: 0.5, Margin: 0.06, Door: "front",
		Retention: storage.RetentionPolicy{GrantSnapshotDays: 90, DenySnapshotDays: 30, EventDays: 365}}}
	h.s.deps.Settings = owner
	h.user("ada", storage.RoleAdmin)
	h.user("ivy", storage.RoleInvestigator)
	post := func(c *http.Client, form url.Values) int {
		form.Set("_csrf", h.csrf(c, "/settings"))
		resp, err := c.PostForm(h.ts.URL+"/settings", form)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	good := url.Values{"threshold": {"0.45"}, "margin": {"0.08"}, "liveness": {"on"}, "retain_grant": {"60"}, "retain_deny": {"14"}, "retain_events": {"180"}}
	if code := post(h.login("ivy"), good); code != http.StatusForbidden {
		t.Fatalf("investigator saved settings: %d", code)
	}
	ada := h.login("ada")
	bad := url.Values{"threshold": {"2"}, "margin": {"0.08"}, "retain_grant": {"1"}, "retain_deny": {"1"}, "retain_events": {"1"}}
	if code := post(ada, bad); code != http.StatusUnprocessableEntity {
		t.Fatalf("threshold 2 accepted: %d", code)
	}
	if code := post(ada, good); code != http.StatusSeeOther || owner.saved != 1 {
		t.Fatalf("save: %d, saved %d", code, owner.saved)
	}
	st, err := h.db.LoadSettings(storage.Settings{Door: "front"})
	if err != nil || st.Threshold != 0.45 || !st.Liveness || st.Retention.DenySnapshotDays != 14 {
		t.Fatalf("stored %+v (%v)", st, err)
	}
	log, _ := h.db.AuditLog(5)
	if len(log) == 0 || log[0].Code != "settings_saved" || log[0].By != "ada" {
		t.Fatalf("audit %+v", log)
	}
}

func TestRulesAPI(t *testing.T) {
	h := newHarness(t)
	h.user("ada", storage.RoleAdmin)
	tok, _ := h.db.CreateAPIToken("ada")
	put := func(body string) int {
		req, _ := http.NewRequest(http.MethodPut, h.ts.URL+"/api/v1/rules", strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+tok)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	good := `{"Areas":[{"name":"office"}],"Doors":[{"id":"front","name":"Front","area":"office","direction":"both","open_ms":4000,"level":"face"}],
	"Groups":[{"name":"staff"}],"Rules":[{"group":"staff","name":"hours","doors":"front","schedule":"hours","windows":"Mon-Fri 08:00-20:00"}]}`
	if code := put(good); code != http.StatusNoContent {
		t.Fatalf("put rules: %d", code)
	}
	if code := put(strings.Replace(good, "Mon-Fri", "Mon-Fry", 1)); code != http.StatusUnprocessableEntity {
		t.Fatalf("broken window accepted: %d", code)
	}
	if code := put("{not json"); code != http.StatusBadRequest {
		t.Fatalf("bad JSON: %d", code)
	}
	recs, _ := h.db.LoadPolicy()
	if len(recs.Doors) != 1 || recs.Rules[0].Windows != "Mon-Fri 08:00-20:00" {
		t.Fatalf("stored %+v", recs)
	}
}

func TestOptionalTOTP(t *testing.T) {
	h := newHarness(t)
	h.user("ada", storage.RoleAdmin)
	u, err := h.db.EnableTOTP("ada")
	if err != nil || !strings.HasPrefix(u, "otpauth://totp/facegate:ada") {
		t.Fatalf("EnableTOTP: %q %v", u, err)
	}
	key, _ := otp.NewKeyFromURL(u)
	try := func(code string) int {
		c := h.client()
		tok := h.csrf(c, "/login")
		resp, _ := c.PostForm(h.ts.URL+"/login", url.Values{"_csrf": {tok}, "username": {"ada"}, "password": {testPassword}, "code": {code}})
		resp.Body.Close()
		return resp.StatusCode
	}
	if code := try(""); code != http.StatusUnauthorized {
		t.Fatalf("no code: %d", code)
	}
	if code := try("000000"); code != http.StatusUnauthorized {
		t.Fatalf("wrong code: %d", code)
	}
	good, _ := totp.GenerateCode(key.Secret(), h.now())
	if code := try(good); code != http.StatusSeeOther {
		t.Fatalf("right code: %d", code)
	}
}

func TestRenameAndTimeline(t *testing.T) {
	h := newFaceHarness(t)
	h.user("ada", storage.RoleAdmin)
	c := h.login("ada")
	fill(t, h)
	p, _ := h.db.PersonByEmployeeID("E001")
	tok := h.csrf(c, "/people")
	resp, _ := c.PostForm(fmt.Sprintf("%s/people/%d/rename", h.ts.URL, p.ID), url.Values{"_csrf": {tok}, "name": {"バラク・オバマ"}})
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("rename: %d", resp.StatusCode)
	}
	if got, _ := h.db.PersonByID(p.ID); got.Name != "バラク・オバマ" {
		t.Fatalf("name %q", got.Name)
	}
	resp, _ = c.PostForm(fmt.Sprintf("%s/people/%d/rename", h.ts.URL, p.ID), url.Values{"_csrf": {tok}, "name": {"  "}})
	if resp.StatusCode != http.StatusUnprocessableEntity {
		t.Fatalf("empty name: %d", resp.StatusCode)
	}
	code, body := get(t, c, fmt.Sprintf("%s/entries?person_id=%d", h.ts.URL, p.ID))
	if code != 200 || strings.Count(body, "<tr class=") != 2 {
		t.Fatalf("timeline: %d, %d rows", code, strings.Count(body, "<tr class="))
	}
}

// jpegHeader is a structurally complete JPEG that declares w×h pixels.
func jpegHeader(w, h int) []byte {
	sof := []byte{0xFF, 0xC0, 0x00, 0x11, 0x08, byte(h >> 8), byte(h), byte(w >> 8), byte(w), 0x03,
		0x01, 0x22, 0x00, 0x02, 0x11, 0x01, 0x03, 0x11, 0x01}
	sos := []byte{0xFF, 0xDA, 0x00, 0x0C, 0x03, 0x01, 0x00, 0x02, 0x11, 0x03, 0x11, 0x00, 0x3F, 0x00, 0x00}
	b := append([]byte{0xFF, 0xD8}, sof...)
	b = append(b, sos...)
	return append(b, 0xFF, 0xD9)
}

// pngBomb declares w×h pixels with a tiny zlib stream that would inflate to
// gigabytes.
func pngBomb(w, h uint32) []byte {
	var b bytes.Buffer
	b.WriteString("\x89PNG\r\n\x1a\n")
	chunk := func(typ string, data []byte) {
		var n [4]byte
		n[0], n[1], n[2], n[3] = byte(len(data)>>24), byte(len(data)>>16), byte(len(data)>>8), byte(len(data))
		b.Write(n[:])
		c := append([]byte(typ), data...)
		b.Write(c)
		sum := crc32.ChecksumIEEE(c)
		b.Write([]byte{byte(sum >> 24), byte(sum >> 16), byte(sum >> 8), byte(sum)})
	}
	ihdr := []byte{byte(w >> 24), byte(w >> 16), byte(w >> 8), byte(w), byte(h >> 24), byte(h >> 16), byte(h >> 8), byte(h), 8, 2, 0, 0, 0}
	chunk("IHDR", ihdr)
	var z bytes.Buffer
	zw := zlib.NewWriter(&z)
	zw.Write(make([]byte, 1<<20))
	zw.Close()
	chunk("IDAT", z.Bytes())
	chunk("IEND", nil)
	return b.Bytes()
}

func TestAPISuspendAndErase(t *testing.T) {
	h := newFaceHarness(t)
	h.user("ada", storage.RoleAdmin)
	tok, _ := h.db.CreateAPIToken("ada")
	fill(t, h)
	do := func(method, path string) int {
		req, _ := http.NewRequest(method, h.ts.URL+path, nil)
		req.Header.Set("Authorization", "Bearer "+tok)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if code := do("POST", "/api/v1/people/E001/suspend"); code != 204 {
		t.Fatalf("suspend: %d", code)
	}
	if p, _ := h.db.PersonByEmployeeID("E001"); p.SuspendedSince == nil {
		t.Fatal("not suspended")
	}
	if code := do("POST", "/api/v1/people/E001/suspend?resume=true"); code != 204 {
		t.Fatalf("resume: %d", code)
	}
	if p, _ := h.db.PersonByEmployeeID("E001"); p.SuspendedSince != nil {
		t.Fatal("not reinstated")
	}
	if code := do("DELETE", "/api/v1/people/E001?snapshots=true"); code != 204 {
		t.Fatalf("erase: %d", code)
	}
	if _, err := h.db.PersonByEmployeeID("E001"); err == nil || h.svc.Gallery().Len() != 0 {
		t.Fatal("person or templates survived erasure")
	}
	if code := do("DELETE", "/api/v1/people/E001"); code != 404 {
		t.Fatalf("erase twice: %d", code)
	}
	if rep, _ := h.db.Verify(h.db.Keys.Public, h.rec.Snapshots); !rep.OK() {
		t.Fatalf("verify: %v", rep.Problems)
	}
}

// savingOwner stands in for the appliance's settings owner: it stores
// through the real recorder and counts the saves.
type savingOwner struct {
	rec   *storage.Recorder
	cur   storage.Settings
	saved int
}

func (o *savingOwner) Settings() storage.Settings { return o.cur }

func (o *savingOwner) SaveSettings(s storage.Settings, by string) error {
	if err := o.rec.SaveSettings(s, by); err != nil {
		return err
	}
	o.cur = s
	o.saved++
	return nil
}

// An admin unlocks the door through the API with a reason; the order is
// audited, the relay pulses, and nobody else may do it.
func TestRemoteUnlockAudited(t *testing.T) {
	h := newHarness(t)
	state := filepath.Join(t.TempDir(), "relay")
	relay, err := gate.OpenRelay("sim:"+state, func(error) {}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer relay.Close()
	var events []gate.Event
	policy := gate.SingleDoorPolicy("front", time.UTC, time.Minute, gate.LevelFace)
	ctrl, err := gate.NewController(func() *gate.Policy { return policy }, "front", relay, nil,
		func(e gate.Event) { events = append(events, e) }, h.now)
	if err != nil {
		t.Fatal(err)
	}
	h.s.deps.Door = ctrl
	h.user("ada", storage.RoleAdmin)
	h.user("ivy", storage.RoleInvestigator)
	unlock := func(user, reason string) int {
		tok, err := h.db.CreateAPIToken(user)
		if err != nil {
			t.Fatal(err)
		}
		req, _ := http.NewRequest("POST", h.ts.URL+"/api/v1/door/unlock", strings.NewReader(url.Values{"reason": {reason}}.Encode()))
		req.Header.Set("Authorization", "Bearer "+tok)
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if code := unlock("ivy", "courier"); code != http.StatusForbidden {
		t.Fatalf("investigator unlocked: %d", code)
	}
	if code := unlock("ada", " "); code != http.StatusBadRequest {
		t.Fatalf("unlock without a reason: %d", code)
	}
	if on, _ := gate.ReadFileSwitch(state); on {
		t.Fatal("relay unlocked by a refused request")
	}
	if code := unlock("ada", "courier delivery"); code != http.StatusOK {
		t.Fatalf("admin unlock: %d", code)
	}
	if on, err := gate.ReadFileSwitch(state); err != nil || !on {
		t.Fatalf("relay %v (%v) after the unlock, want unlocked", on, err)
	}
	if len(events) != 1 || events[0].Kind != gate.EventRemoteUnlock || events[0].By != "ada" || events[0].Reason != "courier delivery" {
		t.Fatalf("door events %+v", events)
	}
	log, _ := h.db.AuditLog(5)
	if len(log) == 0 || log[0].Code != "remote_unlock" || log[0].By != "ada" || !strings.Contains(log[0].Detail, "courier delivery") {
		t.Fatalf("audit %+v", log)
	}
}

// Every row of the rules page carries the shared delete form, and it
// deletes that row.
func TestRulesDeleteForm(t *testing.T) {
	h := newHarness(t)
	h.user("ada", storage.RoleAdmin)
	c := h.login("ada")
	post := func(path string, form url.Values) {
		form.Set("_csrf", h.csrf(c, "/rules"))
		resp, err := c.PostForm(h.ts.URL+path, form)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("POST %s: %d", path, resp.StatusCode)
		}
	}
	post("/rules/area", url.Values{"name": {"lobby"}})
	_, body := get(t, c, h.ts.URL+"/rules")
	if !strings.Contains(body, `action="/rules/area/delete"`) || !strings.Contains(body, `name="key" value="lobby"`) {
		t.Fatalf("no delete form for the lobby:\n%s", body)
	}
	post("/rules/area/delete", url.Values{"key": {"lobby"}})
	if recs, err := h.db.LoadPolicy(); err != nil || len(recs.Areas) != 0 {
		t.Fatalf("areas after delete: %+v (%v)", recs.Areas, err)
	}
}
