package web

import (
	"bytes"
	"encoding/json"
	"fmt"
	"html"
	"image"
	"image/color"
	"image/jpeg"
	"io"
	"mime/multipart"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/facegate/facegate/gate"
	"github.com/facegate/facegate/gate/alert"
	"github.com/facegate/facegate/models/modeltest"
	"github.com/facegate/facegate/storage"
)

// pageText is what a reader sees of a page: its text nodes and the
// attributes shown as text (alt, placeholder, aria-label, title, and the
// data- attributes our scripts print, but not the JSON of their word
// lists), HTML entities decoded.
func pageText(page string) []string {
	page = regexp.MustCompile(`(?s)<(script|style)\b.*?</(script|style)>`).ReplaceAllString(page, "")
	var out []string
	for _, m := range regexp.MustCompile(`\b(?:alt|placeholder|aria-label|title|data-[a-z]+)="([^"]*)"`).FindAllStringSubmatch(page, -1) {
		if v := html.UnescapeString(m[1]); !strings.HasPrefix(v, "{") { // JSON for a script is not text
			out = append(out, v)
		}
	}
	for _, s := range regexp.MustCompile(`<[^>]*>`).Split(page, -1) {
		if s = strings.TrimSpace(html.UnescapeString(s)); s != "" {
			out = append(out, s)
		}
	}
	return out
}

// untranslated lists the English catalogue values a Japanese page shows:
// a text that is one of them, or contains one of several words. Values
// the same in both languages (the product's name) are not English text.
func untranslated(texts []string) []string {
	var found []string
	for key, en := range messages["en"] {
		if en == messages["ja"][key] || strings.Contains(en, "%") || strings.TrimSpace(en) == "" {
			continue
		}
		long := strings.Contains(en, " ") && len(en) >= 8
		for _, t := range texts {
			if t == en || (long && strings.Contains(t, en)) {
				found = append(found, key+"="+en+" in "+strings.Join(strings.Fields(t), " "))
			}
		}
	}
	slices.Sort(found)
	return slices.Compact(found)
}

// rawTime is how Go prints a time.Time: "2026-11-23 11:43:11.532584 +0000 UTC"
// (html/template writes the plus as &#43;).
var rawTime = regexp.MustCompile(`\d\d:\d\d:\d\d(\.\d+)? ([+-]|&#43;)\d{4} \w+`)

func getPage(t *testing.T, c *http.Client, u, lang string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, u, nil)
	req.Header.Set("Accept", "text/html")
	req.Header.Set("Accept-Language", lang)
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// checkLanguages renders path in en and ja and fails on a missing key or
// on English catalogue text in the Japanese page.
func checkLanguages(t *testing.T, c *http.Client, base, path string, want int) {
	t.Helper()
	for _, lang := range []string{"en", "ja"} {
		code, body := getPage(t, c, base+path, lang)
		if code != want {
			t.Errorf("%s (%s): status %d, want %d", path, lang, code, want)
		}
		if code == http.StatusSeeOther {
			continue // sent on: no page of its own
		}
		if i := strings.Index(body, missingPrefix); i >= 0 {
			t.Errorf("%s (%s): %s", path, lang, body[i:min(len(body), i+40)])
		}
		if m := rawTime.FindString(body); m != "" {
			t.Errorf("%s (%s): a raw time %q (format it with when or fmtTime)", path, lang, m)
		}
		if !strings.Contains(body, `lang="`+lang+`"`) {
			t.Errorf("%s: not rendered in %s", path, lang)
		}
		if lang == "ja" {
			for _, u := range untranslated(pageText(body)) {
				t.Errorf("%s (ja): English text %s", path, u)
			}
		}
	}
}

// notPages are the GET routes that answer with no HTML page to translate.
var notPages = []string{"/static/*", "/healthz", "/metrics", "/lang/:code", "/live.mjpg", "/events/stream", "/people/photos/:file",
	"/presence/attendance.csv", "/entries.csv", "/snapshots/:file", "/keypad/state"}

// fillConsole records what every page shows: entries granted and denied
// for real reasons of the gate, door events, rules, tokens, audit entries.
func fillConsole(t *testing.T, h *harness) {
	fill(t, h)
	p, _ := h.db.PersonByEmployeeID("E001")
	recs := storage.PolicyRecords{Areas: []storage.Area{{Name: "lab", AntiPassback: true}},
		Doors:    []storage.Door{{ID: "lab-in", Name: "Lab", Area: "lab", Direction: "in", OpenMillis: 3000, Level: "face"}},
		Groups:   []storage.Group{{Name: "staff"}},
		Rules:    []storage.AccessRule{{GroupName: "staff", Name: "weekdays", ScheduleName: "weekdays", Doors: "lab-in", Windows: "Mon-Fri 08:00-20:00"}},
		Holidays: []storage.Holiday{{Date: "2026-11-23", Name: "勤労感謝の日"}}, PersonGroups: []storage.PersonGroup{{PersonID: p.ID, GroupName: "staff"}}}
	if err := h.rec.SavePolicy(recs, "ada"); err != nil {
		t.Fatal(err)
	}
	pol, _, err := gate.FromRecords(recs, time.UTC)
	if err != nil {
		t.Fatal(err)
	}
	sunday := time.Date(2026, 11, 22, 9, 0, 0, 0, time.UTC)
	who := &gate.Person{ID: p.ID, Name: p.Name, Groups: []string{"staff"}}
	for _, req := range []gate.Request{{Door: "lab-in", Person: who, Time: sunday}, {Door: "lab-in", Time: sunday}} {
		d := pol.Decide(req, nil)
		ev := storage.Event{AtMicro: sunday.UnixMicro(), Kind: storage.KindDenied, Door: "lab-in", Area: "lab",
			Direction: "in", PersonID: p.ID, PersonName: p.Name, Code: string(d.Code), Reason: d.Reason, Liveness: "off"}
		if req.Person == nil { // as the appliance writes an unknown face's reason
			ev.Reason += " (not recognised in 9 frames (7 described))"
			ev.PersonID, ev.PersonName = 0, ""
		}
		h.rec.Record(ev, nil, nil)
	}
	h.rec.Record(storage.Event{AtMicro: sunday.UnixMicro(), Kind: storage.KindDoorHeldOpen, Door: "lab-in",
		Reason: "door open for 45s (limit 30s)"}, nil, nil)
	if _, err := h.db.NewAPIToken("ada", "wall display", h.now().Add(30*24*time.Hour)); err != nil {
		t.Fatal(err)
	}
	fillAlerts(t, h, sunday)
}

// fillAlerts stores an alert configuration and the alert the held-open
// door raised, as gate/alert's engine writes it.
func fillAlerts(t *testing.T, h *harness, at time.Time) {
	t.Helper()
	doc := `{"language": "ja", "to": ["security@example.org"], "rules": [{"name": "扉の開放", "kind": "door_held_open", "doors": ["lab-in"]}]}`
	if err := h.rec.SaveDocument(alert.DocumentKey, doc, "ada"); err != nil {
		t.Fatal(err)
	}
	trig, _ := h.db.EventCount()
	a := alert.Alert{Rule: "扉の開放", Kind: alert.KindHeldOpen, TriggerSeq: trig, Door: "lab-in", AtMicro: at.UnixMicro(),
		Cause: "door open for 45s (limit 30s)"}
	a.Reason = a.Render("en", time.UTC)
	d, _ := json.Marshal(a)
	h.rec.Record(storage.Event{AtMicro: at.UnixMicro(), Kind: storage.KindAlert, Door: "lab-in", Code: a.Kind, Rule: a.Rule,
		Reason: a.Rule + ": " + a.Reason, Detail: string(d)}, nil, nil)
}

// Every page a logged-in admin can open, and the login and setup pages,
// render in English and Japanese with no missing key and no English
// catalogue text in the Japanese page.
func TestEveryPageInBothLanguages(t *testing.T) {
	h := newFaceHarness(t)
	h.user("ada", storage.RoleAdmin)
	fillConsole(t, h)
	withKeypad(t, h)
	checkLanguages(t, h.client(), h.ts.URL, "/login", http.StatusOK) // logged out
	c := h.login("ada")
	h.s.audit("ada", "policy_saved", map[string]any{"areas": 1, "doors": 1})
	// This browser is a paired tablet too (the keypad page), and a
	// person's PIN link is open in it.
	_, page := h.postForm(c, "/keypad", "/keypad/pair", url.Values{})
	code := linkRE.FindStringSubmatch(page)[1]
	h.postForm(c, "/keypad/join?code="+code, "/keypad/join", url.Values{"code": {code}, "name": {"entrance"}})
	_, page = h.postForm(c, "/people", "/people/1/pinlink", url.Values{})
	// A webhook whose receiver refused a delivery.
	w, err := h.db.AddWebhook(storage.Webhook{URL: "https://example.com/hook", Secret: "0123456789abcdef0", Enabled: true, Kinds: []string{storage.KindDenied}})
	if err != nil {
		t.Fatal(err)
	}
	h.db.LogWebhookDelivery(storage.WebhookDelivery{SubscriptionID: w.ID, Seq: 3, AtMicro: h.now().UnixMicro(), Attempt: 1, Status: 503,
		Error: "receiver answered 503 Service Unavailable"})
	paths := map[string]string{"/entries/:seq": "/entries/3", "/people/:id/erase": "/people/1/erase", "/webhooks/:id": "/webhooks/1",
		"/pin": "/pin?code=" + pinLinkRE.FindStringSubmatch(page)[1]}
	for _, r := range h.s.e.Routes() {
		if r.Method != http.MethodGet || slices.Contains(notPages, r.Path) || strings.HasPrefix(r.Path, "/api/") {
			continue
		}
		path, ok := paths[r.Path]
		if !ok {
			if strings.Contains(r.Path, ":") {
				t.Errorf("route %s: give it a path to render in this test", r.Path)
				continue
			}
			path = r.Path
		}
		want := http.StatusOK
		if r.Path == "/setup" {
			want = http.StatusSeeOther // an administrator exists: sent on
		}
		checkLanguages(t, c, h.ts.URL, path, want)
	}
	checkLanguages(t, c, h.ts.URL, "/nope", http.StatusNotFound)

	fresh := newHarness(t)
	checkLanguages(t, fresh.client(), fresh.ts.URL, "/setup", http.StatusOK)
}

// The entries, the entry page and the audit log show codes, reasons and
// actions in the reader's language; English keeps the stored sentence.
func TestReasonsAndAuditInReadersLanguage(t *testing.T) {
	h := newFaceHarness(t)
	h.user("ada", storage.RoleAdmin)
	fillConsole(t, h)
	c := h.login("ada")
	_, ja := getPage(t, c, h.ts.URL+"/entries", "ja")
	for _, want := range []string{"時間帯 'weekdays' (月–金 08:00–20:00) の範囲外", "登録された顔と一致しません（9 フレームで認識できませんでした（7 フレームを解析））",
		"扉が 45s 開いたままです（上限 30s）", "ルール「x」により許可", "通行拒否"} {
		if !strings.Contains(ja, html.EscapeString(want)) {
			t.Errorf("Japanese entries lack %q", want)
		}
	}
	_, en := getPage(t, c, h.ts.URL+"/entries", "en")
	if !strings.Contains(en, html.EscapeString("outside schedule 'weekdays' (Mon–Fri 08:00–20:00)")) {
		t.Error("English entries lost the stored sentence")
	}
	_, ja = getPage(t, c, h.ts.URL+"/entries/4", "ja")
	if !strings.Contains(ja, "(時間帯外)") {
		t.Error("entry page: result code not in Japanese")
	}
	if _, live := getPage(t, c, h.ts.URL+"/", "ja"); !strings.Contains(live, `<strong id="state">受信中</strong>`) {
		t.Error("camera state not in Japanese")
	}
	if _, nope := getPage(t, c, h.ts.URL+"/nope", "ja"); !strings.Contains(nope, "404: ページが見つかりません") {
		t.Error("error page not in Japanese")
	}
	_, ja = getPage(t, c, h.ts.URL+"/audit", "ja")
	for _, want := range []string{"アクセス権限の保存", "ログイン", "エリア数: 1"} {
		if !strings.Contains(ja, want) {
			t.Errorf("Japanese audit log lacks %q", want)
		}
	}
	if strings.Contains(ja, `{&#34;`) || strings.Contains(ja, `{"`) {
		t.Error("audit log shows raw JSON")
	}
}

// Every sentence pattern reads back the English it was written for, and
// the Japanese rendering takes its parameters.
func TestSentencesRoundTrip(t *testing.T) {
	for _, s := range sentences {
		en := messages["en"][s.key]
		if en == "" || messages["ja"][s.key] == "" {
			t.Errorf("%s: not in both catalogues", s.key)
			continue
		}
		args := make([]any, s.re.NumSubexp())
		for i := range args {
			args[i] = "42"
		}
		sample := strings.ReplaceAll(strings.ReplaceAll(en, "%[1]s", "%s"), "…", "[(1,2)-(3,4)]")
		sample = fmt.Sprintf(sample, args...)
		ja, ok := localizeOne("ja", sample)
		if !ok || strings.Contains(ja, "%!") || (s.re.NumSubexp() > 0 && !strings.Contains(ja, "42")) {
			t.Errorf("%s: %q renders as %q (%v)", s.key, sample, ja, ok)
		}
	}
	if got := localize("ja", "a sentence nobody wrote"); got != "a sentence nobody wrote" {
		t.Errorf("unknown sentence not kept: %q", got)
	}
}

// A webcam shot with no face is refused with the reason in Japanese.
func TestWebcamRejectionInJapanese(t *testing.T) {
	h := newFaceHarness(t)
	h.user("ada", storage.RoleAdmin)
	c := h.login("ada")
	jpg := noFaceJPEG()
	tok := h.csrf(c, "/people/webcam")
	var body bytes.Buffer
	w := multipart.NewWriter(&body)
	w.WriteField("employee_id", "E9")
	fw, _ := w.CreateFormFile("shot", "shot.jpg")
	fw.Write(jpg)
	w.Close()
	req, _ := http.NewRequest(http.MethodPost, h.ts.URL+"/people/webcam/shot", &body)
	req.Header.Set("Content-Type", w.FormDataContentType())
	req.Header.Set("X-CSRF-Token", tok)
	req.Header.Set("Accept-Language", "ja")
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var got struct {
		Accepted bool
		Reason   string
	}
	json.NewDecoder(resp.Body).Decode(&got)
	if got.Accepted || !strings.HasPrefix(got.Reason, "顔が見つかりません（明るい場所で正面から") {
		t.Fatalf("shot with no face: %+v", got)
	}
	req, _ = http.NewRequest(http.MethodPost, h.ts.URL+"/people/webcam/finish", strings.NewReader("employee_id=E9"))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("X-CSRF-Token", tok)
	req.Header.Set("Accept-Language", "ja")
	resp, err = c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var fin struct{ Error string }
	json.NewDecoder(resp.Body).Decode(&fin)
	if resp.StatusCode != http.StatusUnprocessableEntity || fin.Error != "採用された写真は 0 枚です。3 枚以上撮影してください。" {
		t.Fatalf("finish with no shots: %d %q", resp.StatusCode, fin.Error)
	}
}

// noFaceJPEG is a photo with no face in it: a grey ramp.
func noFaceJPEG() []byte {
	img := image.NewGray(image.Rect(0, 0, 320, 240))
	for i := range img.Pix {
		img.Pix[i] = uint8(i % 251)
	}
	img.Set(0, 0, color.Gray{Y: 9})
	var jpg bytes.Buffer
	jpeg.Encode(&jpg, img, nil)
	return jpg.Bytes()
}

// An uploaded photo with no face is refused on the people page in the
// reader's language, naming the photo.
func TestEnrolPhotoErrorInJapanese(t *testing.T) {
	h := newFaceHarness(t)
	h.user("ada", storage.RoleAdmin)
	c := h.login("ada")
	get(t, c, h.ts.URL+"/lang/ja")
	tok := h.csrf(c, "/people")
	body, ctype := multipartBody(t, map[string]string{"_csrf": tok, "name": "Taro", "employee_id": "E7"},
		map[string][]byte{"wall.jpg": noFaceJPEG()})
	req, _ := http.NewRequest(http.MethodPost, h.ts.URL+"/people", body)
	req.Header.Set("Content-Type", ctype)
	req.Header.Set("Accept", "text/html")
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	msg := html.UnescapeString(between(string(b), `id="error">`, "</p>"))
	if resp.StatusCode != http.StatusUnprocessableEntity || !strings.HasPrefix(msg, "id=\"error\">wall.jpg: 顔が見つかりません（明るい場所で") {
		t.Fatalf("photo with no face: %d %q", resp.StatusCode, msg)
	}
}

// An enrolment refused for a conflict says why in Japanese, from the
// conflict's fields.
func TestEnrolConflictInJapanese(t *testing.T) {
	h := newFaceHarness(t)
	h.user("ada", storage.RoleAdmin)
	fill(t, h) // Barack Obama as E001
	c := h.login("ada")
	get(t, c, h.ts.URL+"/lang/ja")
	body, ctype := multipartBody(t, map[string]string{"_csrf": h.csrf(c, "/people"), "name": "Not Obama", "employee_id": "E777"},
		map[string][]byte{"obama2.jpg": modeltest.ReadFace(t, "obama2.jpg")})
	req, _ := http.NewRequest(http.MethodPost, h.ts.URL+"/people", body)
	req.Header.Set("Content-Type", ctype)
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	msg := html.UnescapeString(between(string(b), `id="error">`, "</p>"))
	if resp.StatusCode != http.StatusConflict || !strings.Contains(msg, "E777: 何も登録していません: obama2.jpg: この顔は Barack Obama (E001) との距離が 0.") ||
		!strings.Contains(msg, "二重登録") {
		t.Fatalf("conflict in Japanese: %d %q", resp.StatusCode, msg)
	}
}

// Account refusals (password policy, wrong current password) read in
// Japanese on the users and account pages.
func TestAccountErrorsInJapanese(t *testing.T) {
	h := newHarness(t)
	h.user("ada", storage.RoleAdmin)
	c := h.login("ada")
	get(t, c, h.ts.URL+"/lang/ja")
	_, body := h.postForm(c, "/users", "/users", url.Values{"username": {"bob"}, "password": {"aaaaaaaaaaaa"}, "role": {"viewer"}})
	if msg := html.UnescapeString(between(body, `id="error">`, "</p>")); !strings.Contains(msg, "弱いパスワードです: 同じ文字や並びの繰り返しです、無関係な単語") {
		t.Errorf("weak password on the users page: %q", msg)
	}
	_, body = h.postForm(c, "/account", "/account/password", url.Values{"current": {"not it at all"}, "password": {"another fine passphrase"}})
	if msg := between(body, `id="error">`, "</p>"); !strings.Contains(msg, "現在のパスワードが違います") {
		t.Errorf("wrong current password on the account page: %q", msg)
	}
}

// An alert's stored reason is English (the evidence log's language); the
// entries, entry and home pages rebuild it in the reader's language.
func TestAlertReasonInJapanese(t *testing.T) {
	h := newFaceHarness(t)
	h.user("ada", storage.RoleAdmin)
	fillConsole(t, h)
	c := h.login("ada")
	evs, err := h.db.Events(storage.EventFilter{Kind: storage.KindAlert})
	if err != nil || len(evs) != 1 {
		t.Fatalf("alert events = %v, %v", evs, err)
	}
	a, _ := alertOf(evs[0].Kind, evs[0].Detail)
	want := html.EscapeString(renderAlert("ja", h.s.deps.Location, a))
	for _, u := range []string{"/entries", "/entries/" + strconv.FormatInt(evs[0].Seq, 10)} {
		_, ja := getPage(t, c, h.ts.URL+u, "ja")
		if !strings.Contains(ja, want) {
			t.Errorf("%s in ja lacks the alert in Japanese %q", u, want)
		}
		if strings.Contains(ja, html.EscapeString(evs[0].Reason)) {
			t.Errorf("%s in ja shows the English reason %q", u, evs[0].Reason)
		}
	}
}
