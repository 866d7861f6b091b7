package web

import (
	"archive/zip"
	"bytes"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/facegate/facegate/storage"
)

// testSite is the central's view of its site (as cmd/internal/central's
// siteView): the database's site queries, a staleness, join tokens.
type testSite struct {
	*storage.DB
	stale time.Duration
}

func (s testSite) DoorStale() time.Duration { return s.stale }

func (s testSite) NewJoinToken(door, by string, now time.Time) (string, time.Time, error) {
	until := now.Add(24 * time.Hour)
	tok, err := s.NewOneTimeLink(storage.JoinPurpose, door, until, by)
	return tok, until, err
}

// siteDoor is a door of the site in a test: its own database and
// recorder, joined to the harness's database (the central), pushing.
type siteDoor struct {
	db   *storage.DB
	rec  *storage.Recorder
	app  storage.SiteAppliance
	name string
}

// asCentral makes the harness's server a central's console over its own
// database.
func asCentral(t *testing.T, h *harness) {
	t.Helper()
	s, err := New(Deps{DB: h.db, Recorder: h.rec, Now: h.now, Location: time.UTC, Site: testSite{h.db, time.Minute},
		Live: NewLiveDoors(), Health: func() Health { return Health{} }}, Options{PlainHTTP: true})
	if err != nil {
		t.Fatal(err)
	}
	h.mu.Lock()
	h.s = s
	h.mu.Unlock()
}

func joinSiteDoor(t *testing.T, h *harness, name string) *siteDoor {
	t.Helper()
	dir := t.TempDir()
	db, err := storage.Open(filepath.Join(dir, "door.db"), storage.Options{KeyDir: filepath.Join(dir, "keys"), Now: h.now})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	tok, _ := h.db.NewOneTimeLink(storage.JoinPurpose, name, h.now().Add(time.Hour), "test")
	app, err := h.db.JoinAppliance(tok, storage.PublicKeyString(db.Keys.Public), h.now())
	if err != nil {
		t.Fatal(err)
	}
	return &siteDoor{db: db, rec: &storage.Recorder{DB: db, Snapshots: storage.SnapshotStore{Dir: filepath.Join(dir, "snaps")}, Keys: db.Keys},
		app: app, name: name}
}

// push sends the door's chain and snapshots to the central, as the door's
// sync does (snapshots first, then events, checkpoints and its head).
func (d *siteDoor) push(t *testing.T, h *harness, status *storage.DoorStatus) storage.SiteReceipt {
	t.Helper()
	if _, err := d.db.SignCheckpoint(d.db.Keys); err != nil {
		t.Fatal(err)
	}
	evs, _ := d.db.ChainAfter(0, 1000)
	for _, e := range evs {
		for _, hash := range []string{e.SnapshotHash, e.FaceHash} {
			if b, err := d.rec.Snapshots.Get(hash); hash != "" && err == nil {
				h.rec.Snapshots.Put(b)
			}
		}
	}
	cps, _ := d.db.CheckpointsAfter(0)
	head, _ := d.db.Head()
	r, err := h.db.ReceivePush(d.app.ID, storage.SitePush{Events: evs, Checkpoints: cps, Head: head, Status: status})
	if err != nil || len(r.Alarms) != 0 {
		t.Fatalf("push from %s: %+v %v", d.name, r, err)
	}
	h.db.TouchAppliance(d.app.ID, -1, h.now()) // heard from at the harness's time
	return r
}

// fillSite is a central with two doors that pushed: Ada in by the front
// door (with a snapshot) and out by the back, a stranger refused at the
// back, an admin action at the front, and one of the central's own.
func fillSite(t *testing.T, h *harness) (front, back *siteDoor) {
	t.Helper()
	asCentral(t, h)
	ada, err := h.db.Enroll("E-ADA", "Ada", []storage.NewTemplate{{Descriptor: make([]float32, 128), ModelVersion: "m"}})
	if err != nil {
		t.Fatal(err)
	}
	front, back = joinSiteDoor(t, h, "front"), joinSiteDoor(t, h, "back")
	at := func(min int) int64 { return h.now().Add(time.Duration(min) * time.Minute).UnixMicro() }
	jpeg := noFaceJPEG()
	front.rec.Record(storage.Event{AtMicro: at(-50), Kind: storage.KindGranted, Granted: true, Door: "front", Area: "hq", Direction: "in",
		PersonID: ada.ID, PersonName: "Ada", Reason: "granted by rule \"staff\""}, jpeg, nil)
	back.rec.Record(storage.Event{AtMicro: at(-40), Kind: storage.KindDenied, Door: "back", Area: "hq", Direction: "in",
		Reason: "face does not match anyone enrolled", Code: "unknown_face"}, nil, nil)
	back.rec.Record(storage.Event{AtMicro: at(-30), Kind: storage.KindGranted, Granted: true, Door: "back", Area: "hq", Direction: "out",
		PersonID: ada.ID, PersonName: "Ada", Reason: "granted by rule \"staff\""}, nil, nil)
	front.rec.Audit("frank", "settings_saved", map[string]any{"door": "front"})
	h.rec.Audit("ada", "policy_saved", map[string]any{"areas": 1})
	front.push(t, h, &storage.DoorStatus{Camera: "streaming", Relay: "locked"})
	back.push(t, h, nil)
	return front, back
}

var entryLinkRE = regexp.MustCompile(`href="/entries/(\d+)"`)

// On a central the entries, an entry, its snapshot (the central's copy),
// the CSV, presence, attendance and the audit log are every door's, with
// a door filter; an export is one door's chain and verifies with its key.
func TestCentralConsoleAcrossDoors(t *testing.T) {
	h := newHarness(t)
	h.user("ivy", storage.RoleInvestigator)
	h.user("ada", storage.RoleAdmin)
	front, _ := fillSite(t, h)
	c := h.login("ivy")
	code, page := get(t, c, h.ts.URL+"/entries")
	if code != http.StatusOK || !strings.Contains(page, "<td>front</td>") || !strings.Contains(page, "<td>back</td>") {
		t.Fatalf("entries across doors: %d\n%s", code, page)
	}
	if !strings.Contains(page, `<option value="back"`) {
		t.Error("no door to choose in the filter")
	}
	_, backOnly := get(t, c, h.ts.URL+"/entries?door=back")
	if strings.Contains(backOnly, "<td>front</td>") || strings.Count(backOnly, "<td>back</td>") != 2 {
		t.Errorf("door filter back:\n%s", backOnly)
	}
	// The newest first: Ada out by the back door, then the stranger, then Ada in at the front.
	m := entryLinkRE.FindAllStringSubmatch(page, -1)
	if len(m) < 3 {
		t.Fatalf("entry links %v", m)
	}
	code, entry := get(t, c, h.ts.URL+"/entries/"+m[len(m)-1][1])
	snap := regexp.MustCompile(`/snapshots/([0-9a-f]{64})\.jpg`).FindStringSubmatch(entry)
	if code != http.StatusOK || !strings.Contains(entry, "front") || snap == nil {
		t.Fatalf("the front door's entry on the central: %d\n%s", code, entry)
	}
	if code, img := get(t, c, h.ts.URL+snap[0]); code != http.StatusOK || img != string(noFaceJPEG()) {
		t.Errorf("snapshot from the central's copy: %d", code)
	}
	if code, _ := get(t, c, h.ts.URL+"/entries/999999"); code != http.StatusNotFound {
		t.Errorf("an entry that is not there: %d", code)
	}
	_, csv := get(t, c, h.ts.URL+"/entries.csv")
	if !strings.Contains(csv, ",front,") || !strings.Contains(csv, ",back,") || !strings.Contains(csv, "E-ADA") {
		t.Errorf("CSV across doors:\n%s", csv)
	}
	if code, api := get(t, c, h.ts.URL+"/api/v1/events?door=back"); code != http.StatusOK || strings.Count(api, `"Door":"back"`)+strings.Count(api, `"door":"back"`) != 2 {
		t.Errorf("API events of the back door: %d %s", code, api)
	}
	_, presence := get(t, c, h.ts.URL+"/presence")
	if strings.Contains(presence, `id="inside"`) {
		t.Errorf("Ada left by the back door, yet listed inside:\n%s", presence)
	}
	_, att := get(t, c, h.ts.URL+"/presence/attendance.csv")
	if !strings.Contains(att, "Ada,08:10,08:30") {
		t.Errorf("attendance in at the front, out at the back:\n%s", att)
	}
	paged(t, h, c)
	exportFront(t, h, c, front)
	admin := h.login("ada")
	_, audit := get(t, admin, h.ts.URL+"/audit")
	if !strings.Contains(audit, "<td>front</td>") || !strings.Contains(audit, "frank") || !strings.Contains(audit, "central") {
		t.Errorf("audit of the site (the central's and the doors'):\n%s", audit)
	}
}

// paged: the entries of the site page by time, nothing shown twice.
func paged(t *testing.T, h *harness, c *http.Client) {
	t.Helper()
	door := joinSiteDoor(t, h, "side")
	for i := range entriesPageSize + 5 {
		door.db.Append(storage.Event{AtMicro: h.now().Add(time.Duration(-i) * time.Second).UnixMicro(), Kind: storage.KindDenied, Door: "side"})
	}
	door.push(t, h, nil)
	_, p1 := get(t, c, h.ts.URL+"/entries?door=side")
	next := regexp.MustCompile(`href="(/entries\?[^"]*before=[^"]+)" id="next"`).FindStringSubmatch(p1)
	if next == nil {
		t.Fatal("no next page")
	}
	_, p2 := get(t, c, h.ts.URL+strings.ReplaceAll(next[1], "&amp;", "&"))
	seen := map[string]bool{}
	for _, m := range entryLinkRE.FindAllStringSubmatch(p1+p2, -1) {
		if seen[m[1]] {
			t.Fatalf("entry %s on both pages", m[1])
		}
		seen[m[1]] = true
	}
	if len(seen) != entriesPageSize+5 {
		t.Errorf("%d entries over two pages, want %d", len(seen), entriesPageSize+5)
	}
	if code, _ := get(t, c, h.ts.URL+"/entries?before=12"); code != http.StatusBadRequest {
		t.Errorf("a door's kind of cursor on the central: %d, want 400", code)
	}
}

// exportFront: a bundle of the front door's chain from the central's copy.
func exportFront(t *testing.T, h *harness, c *http.Client, front *siteDoor) {
	t.Helper()
	code, msg := h.postForm(c, "/entries", "/entries/export", url.Values{})
	if code != http.StatusUnprocessableEntity || !strings.Contains(msg, "door") {
		t.Errorf("export of no door: %d %s", code, msg)
	}
	form := url.Values{"door": {"front"}, "_csrf": {h.csrf(c, "/entries")}}
	resp, err := c.PostForm(h.ts.URL+"/entries/export", form)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if _, err := zip.NewReader(bytes.NewReader(b), int64(len(b))); resp.StatusCode != http.StatusOK || err != nil {
		t.Fatalf("export front: %d %v", resp.StatusCode, err)
	}
	path := filepath.Join(t.TempDir(), "front.zip")
	os.WriteFile(path, b, 0o600)
	rep, err := storage.VerifyBundle(path, front.db.Keys.Public)
	if err != nil || !rep.OK() || rep.Snapshots != 1 {
		t.Errorf("the front door's bundle: %+v %v", rep, err)
	}
}

var tokenRE = regexp.MustCompile(`<code id="token">([^<]+)</code>`)

// The doors page: each door online or offline by its last contact, its
// backlog, camera and relay, its open alarms (acknowledged once, audited);
// an admin makes a join token, shown once, audited without the token, and
// a door joins with it.
func TestCentralDoorsPage(t *testing.T) {
	h := newHarness(t)
	h.user("ivy", storage.RoleInvestigator)
	h.user("ada", storage.RoleAdmin)
	front, back := fillSite(t, h)
	// The back door reports a head beyond what it sent (a backlog of 2)
	// and edits an event after sync: "rewritten".
	back.db.Append(storage.Event{Kind: storage.KindDenied, Door: "back"})
	back.db.Append(storage.Event{Kind: storage.KindDenied, Door: "back"})
	head, _ := back.db.Head()
	if _, err := h.db.ReceivePush(back.app.ID, storage.SitePush{Head: storage.ChainHead{Seq: 1, Hash: "0000"}}); err != nil {
		t.Fatal(err)
	}
	h.db.ReceivePush(back.app.ID, storage.SitePush{Head: head})
	_ = front
	c := h.login("ivy")
	code, page := get(t, c, h.ts.URL+"/doors")
	if code != http.StatusOK {
		t.Fatalf("doors page: %d", code)
	}
	row := func(page, door string) string {
		m := regexp.MustCompile(`(?s)<tr class="(\w+)" data-door="` + door + `">(.*?)</tr>`).FindStringSubmatch(page)
		if m == nil {
			t.Fatalf("no row for %s in\n%s", door, page)
		}
		return m[1] + " " + m[2]
	}
	if r := row(page, "front"); !strings.HasPrefix(r, "online") || !strings.Contains(r, "streaming") || !strings.Contains(r, "locked") {
		t.Errorf("front: %s", r)
	}
	if r := row(page, "back"); !strings.Contains(r, `<span class="warn">2</span>`) || !regexp.MustCompile(`<td><span class="warn">[1-9]</span></td>\s*<td><code title="ed25519:`).MatchString(r) {
		t.Errorf("back (backlog 2, one alarm): %s", r)
	}
	h.advance(2 * time.Minute) // the staleness is a minute
	if _, page := get(t, c, h.ts.URL+"/doors"); !strings.HasPrefix(row(page, "front"), "offline") {
		t.Error("front not offline two minutes after its last contact")
	}
	ack := regexp.MustCompile(`action="(/doors/alarms/\d+/ack)"`).FindStringSubmatch(page)
	if ack == nil {
		t.Fatalf("no alarm to acknowledge:\n%s", page)
	}
	if code, _ := h.postForm(c, "/doors", ack[1], url.Values{}); code != http.StatusSeeOther {
		t.Fatalf("acknowledge: %d", code)
	}
	if code, _ := h.postForm(c, "/doors", ack[1], url.Values{}); code != http.StatusNotFound {
		t.Errorf("acknowledged twice: %d", code)
	}
	if _, page := get(t, c, h.ts.URL+"/doors"); !strings.Contains(page, "acknowledged (ivy)") || strings.Contains(page, `action="`+ack[1]+`"`) {
		t.Errorf("after acknowledging:\n%s", page)
	}
	// Join tokens: admins only; a bad door is refused with what to type.
	if code, _ := h.postForm(c, "/doors", "/doors/join", url.Values{"door": {"lab"}}); code != http.StatusForbidden {
		t.Errorf("an investigator made a join token: %d", code)
	}
	admin := h.login("ada")
	if code, page := h.postForm(admin, "/doors", "/doors/join", url.Values{"door": {"lab door"}}); code != http.StatusUnprocessableEntity ||
		!strings.Contains(page, "--door") {
		t.Errorf("bad door name: %d", code)
	}
	code, page = h.postForm(admin, "/doors", "/doors/join", url.Values{"door": {"lab"}})
	tok := tokenRE.FindStringSubmatch(page)
	if code != http.StatusOK || tok == nil {
		t.Fatalf("join token: %d\n%s", code, page)
	}
	if _, again := get(t, admin, h.ts.URL+"/doors"); strings.Contains(again, tok[1]) {
		t.Error("the token is shown again")
	}
	log, _ := h.db.AuditLog(10)
	if log[0].Code != "join_token_made" || log[0].By != "ada" || !strings.Contains(log[0].Detail, `"lab"`) || strings.Contains(log[0].Detail, tok[1]) {
		t.Errorf("audit of the token: %+v", log[0])
	}
	dir := t.TempDir()
	lab, _ := storage.Open(filepath.Join(dir, "lab.db"), storage.Options{KeyDir: dir})
	defer lab.Close()
	if app, err := h.db.JoinAppliance(tok[1], storage.PublicKeyString(lab.Keys.Public), h.now()); err != nil || app.Door != "lab" {
		t.Errorf("joining with the console's token: %+v %v", app, err)
	}
}

// The central's pages render in English and Japanese, every word from
// the catalogues.
func TestCentralPagesInBothLanguages(t *testing.T) {
	h := newHarness(t)
	h.user("ada", storage.RoleAdmin)
	fillSite(t, h)
	c := h.login("ada")
	_, page := get(t, c, h.ts.URL+"/entries")
	ref := entryLinkRE.FindStringSubmatch(page)[1]
	for _, p := range []string{"/doors", "/entries", "/entries?door=front", "/entries/" + ref, "/presence", "/audit", "/people", "/rules",
		"/doors/front/live", "/"} {
		checkLanguages(t, c, h.ts.URL, p, http.StatusOK)
	}
}

// A door joined to a central shows its people and rules read-only, says
// where they are edited, and refuses every edit of them (forms and API);
// PINs stay the door's own.
func TestJoinedDoorPeopleAndRulesReadOnly(t *testing.T) {
	h := newHarness(t)
	h.user("ada", storage.RoleAdmin)
	p, err := h.db.Enroll("E-ADA", "Ada", []storage.NewTemplate{{Descriptor: make([]float32, 128), ModelVersion: "m"}})
	if err != nil {
		t.Fatal(err)
	}
	s, err := New(Deps{DB: h.db, Recorder: h.rec, Now: h.now, Location: time.UTC, Central: "https://central.example:8444",
		Health: func() Health { return Health{} }}, Options{PlainHTTP: true})
	if err != nil {
		t.Fatal(err)
	}
	h.mu.Lock()
	h.s = s
	h.mu.Unlock()
	c := h.login("ada")
	for _, path := range []string{"/people", "/rules"} {
		_, page := get(t, c, h.ts.URL+path)
		if !strings.Contains(page, `id="joined"`) || !strings.Contains(page, "https://central.example:8444") {
			t.Errorf("%s does not say where to edit", path)
		}
		if path == "/people" && (strings.Contains(page, `action="/people" enctype`) || strings.Contains(page, "/suspend") || strings.Contains(page, "/rename") ||
			strings.Contains(page, "/pinlink")) {
			t.Errorf("%s still offers an edit", path)
		}
		if path == "/rules" && !strings.Contains(page, `<fieldset disabled class="readonly">`) {
			t.Errorf("%s: the forms are not disabled", path)
		}
	}
	id := strconv.FormatInt(p.ID, 10)
	for _, path := range []string{"/people/" + id + "/suspend", "/people/" + id + "/rename", "/people/" + id + "/erase", "/rules/area",
		"/people/" + id + "/pinlink"} {
		code, msg := h.postForm(c, "/people", path, url.Values{"name": {"X"}})
		if code != http.StatusConflict || !strings.Contains(msg, "central") {
			t.Errorf("POST %s on a joined door: %d %s", path, code, msg)
		}
	}
	tok, _ := h.db.NewAPIToken("ada", "t", h.now().Add(time.Hour))
	req, _ := http.NewRequest(http.MethodPut, h.ts.URL+"/api/v1/rules", strings.NewReader(`{}`))
	req.Header.Set("Authorization", "Bearer "+tok)
	req.Header.Set("Content-Type", "application/json")
	if resp, err := http.DefaultClient.Do(req); err != nil || resp.StatusCode != http.StatusConflict {
		t.Errorf("PUT /api/v1/rules on a joined door: %v %v", resp.StatusCode, err)
	}
	if got, _ := h.db.PersonByID(p.ID); got.SuspendedSince != nil || got.Name != "Ada" {
		t.Errorf("Ada changed on a joined door: %+v", got)
	}
	// A PIN link made before the door joined no longer sets a PIN here: the
	// central's would overwrite it.
	link, _ := h.db.NewOneTimeLink("pin", id, h.now().Add(time.Hour), "ada")
	person := h.client()
	if code, page := get(t, person, h.ts.URL+"/pin?code="+link); code != http.StatusGone || !strings.Contains(page, "PIN link made in the central") {
		t.Errorf("GET /pin on a joined door: %d", code)
	}
	if code, page := pinPost(t, h, person, link, "ja", "2580", "2580"); code != http.StatusGone || !strings.Contains(page, "セントラルで設定") {
		t.Errorf("POST /pin on a joined door: %d %s", code, page)
	}
	if r, _ := h.db.CheckPIN(p.ID, "2580", h.now()); !r.NoPIN {
		t.Errorf("a PIN was set on a joined door: %+v", r)
	}
}
