package web

import (
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/facegate/facegate/storage"
)

// homeEvents records, around the harness clock (2026-11-24 09:00 UTC,
// 18:00 in Tokyo), decisions on both sides of midnight in Tokyo and
// alarms inside and outside the last 24 hours. It returns the seqs of
// the held-open alarm (1 h ago) and the tailgating alarm (2 h ago).
func homeEvents(t *testing.T, h *harness) (heldOpen, tailgating int64) {
	t.Helper()
	at := func(s string) int64 {
		v, err := time.Parse(time.RFC3339, s)
		if err != nil {
			t.Fatal(err)
		}
		return v.UnixMicro()
	}
	rec := func(e storage.Event) int64 {
		se, err := h.rec.Record(e, nil, nil)
		if err != nil {
			t.Fatal(err)
		}
		return se.Seq
	}
	rec(storage.Event{AtMicro: at("2026-11-23T14:30:00Z"), Kind: storage.KindGranted, Granted: true, PersonID: 1, PersonName: "昨日", Code: "granted"}) // 23:30 in Tokyo, yesterday
	rec(storage.Event{AtMicro: at("2026-11-23T15:30:00Z"), Kind: storage.KindGranted, Granted: true, PersonID: 1, PersonName: "山田", Code: "granted"}) // 00:30 in Tokyo: today there, not in UTC
	rec(storage.Event{AtMicro: at("2026-11-24T00:30:00Z"), Kind: storage.KindDenied, PersonID: 2, PersonName: "佐藤", Code: "outside_schedule"})
	rec(storage.Event{AtMicro: at("2026-11-24T01:00:00Z"), Kind: storage.KindDenied, Code: "unknown_face"})
	rec(storage.Event{AtMicro: at("2026-11-24T02:00:00Z"), Kind: storage.KindDenied, Code: "unknown_face"})
	rec(storage.Event{AtMicro: at("2026-11-23T03:00:00Z"), Kind: storage.KindDoorForced, Door: "lab-in"}) // 30 h ago
	tailgating = rec(storage.Event{AtMicro: at("2026-11-24T07:00:00Z"), Kind: storage.KindTailgating, Door: "lab-in", Reason: "2 faces"})
	heldOpen = rec(storage.Event{AtMicro: at("2026-11-24T08:00:00Z"), Kind: storage.KindDoorHeldOpen, Door: "lab-in", Reason: "door open for 45s (limit 30s)"})
	rec(storage.Event{AtMicro: at("2026-11-24T08:30:00Z"), Kind: storage.KindGranted, Granted: true, PersonID: 3, PersonName: "鈴木 次郎", Code: "granted", Door: "lab-in"})
	return heldOpen, tailgating
}

// Home shows this door's camera, the last decision, today's counts in the
// site's zone (Tokyo) and the last 24 hours' alarms; an investigator
// acknowledges one (audited, read back from the audit log: it is hidden
// after), a viewer sees no button and is refused, and only alarms can be
// acknowledged.
func TestHomeCountsAndAlarms(t *testing.T) {
	h := newHarness(t)
	h.user("ivy", storage.RoleInvestigator)
	h.user("vic", storage.RoleViewer)
	tokyo, err := time.LoadLocation("Asia/Tokyo")
	if err != nil {
		t.Fatal(err)
	}
	h.s.deps.Location = tokyo
	heldOpen, tailgating := homeEvents(t, h)
	ivy := h.login("ivy")
	_, page := getPage(t, ivy, h.ts.URL+"/", "en")
	for _, want := range []string{`id="count-granted">2<`, `id="count-denied">1<`, `id="count-unknown">2<`, "Today (2026-11-24)",
		"鈴木 次郎", "2026-11-24 17:30:00", `id="alarm-` + itoa(heldOpen) + `"`, `id="alarm-` + itoa(tailgating) + `"`, "tailgating", "streaming"} {
		if !strings.Contains(page, want) {
			t.Errorf("home lacks %q", want)
		}
	}
	if strings.Contains(page, "door forced") {
		t.Error("home shows an alarm older than 24 hours")
	}
	ack := func(c *http.Client, seq string) int {
		resp, err := c.PostForm(h.ts.URL+"/alarms/"+seq+"/ack", url.Values{"_csrf": {h.csrf(c, "/")}})
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if code := ack(ivy, itoa(heldOpen)); code != http.StatusSeeOther {
		t.Fatalf("acknowledge: status %d", code)
	}
	if code := ack(ivy, itoa(heldOpen+1)); code != http.StatusNotFound {
		t.Errorf("acknowledging a granted entry: status %d, want 404", code)
	}
	if code := ack(ivy, "x"); code != http.StatusBadRequest {
		t.Errorf("acknowledging seq x: status %d, want 400", code)
	}
	vic := h.login("vic")
	if code := ack(vic, itoa(tailgating)); code != http.StatusForbidden {
		t.Errorf("a viewer acknowledged: status %d", code)
	}
	_, page = getPage(t, ivy, h.ts.URL+"/", "en")
	if strings.Contains(page, `id="alarm-`+itoa(heldOpen)+`"`) || !strings.Contains(page, `id="alarm-`+itoa(tailgating)+`"`) {
		t.Error("after acknowledging: the held-open alarm must go, the tailgating one stay")
	}
	if _, v := getPage(t, vic, h.ts.URL+"/", "en"); strings.Contains(v, "/ack") || !strings.Contains(v, "tailgating") {
		t.Error("a viewer sees the alarms without an acknowledge button")
	}
	log, _ := h.db.AuditLog(10)
	acks := slices.DeleteFunc(log, func(e storage.Event) bool { return e.Code != storage.ActionAlarmAck })
	if len(acks) != 1 || acks[0].By != "ivy" || !strings.Contains(acks[0].Detail, `"seq":`+itoa(heldOpen)) {
		t.Errorf("acknowledgement not audited once, by ivy, with the alarm's seq: %+v", acks)
	}
	if len(acks) == 1 {
		if got := term("ja", "action", storage.ActionAlarmAck) + " " + auditDetail("ja", acks[0].Detail); !strings.Contains(got, "警報の確認") ||
			!strings.Contains(got, "イベント: 扉の開放放置") {
			t.Errorf("the acknowledgement in the Japanese audit log: %q", got)
		}
	}
	checkLanguages(t, ivy, h.ts.URL, "/", http.StatusOK)
}

// Home shows the relay's state beside the camera, in the reader's
// language, as the appliance reports it.
func TestHomeRelayState(t *testing.T) {
	h := newHarness(t)
	h.user("vic", storage.RoleViewer)
	relay := RelayLocked
	h.s.deps.Health = func() Health { return Health{SourceState: "streaming", Source: "test", Relay: relay} }
	c := h.login("vic")
	get(t, c, h.ts.URL+"/lang/ja")
	if _, page := get(t, c, h.ts.URL+"/"); !strings.Contains(between(page, `id="relay"`, "</strong>"), "施錠中") {
		t.Errorf("locked relay: %s", between(page, `id="door"`, "</section>"))
	}
	relay = RelayUnlocked
	if _, page := get(t, c, h.ts.URL+"/"); !strings.Contains(between(page, `id="relay"`, "</strong>"), "解錠中") {
		t.Errorf("unlocked relay: %s", between(page, `id="door"`, "</section>"))
	}
	relay = ""
	if _, page := get(t, c, h.ts.URL+"/"); strings.Contains(page, `id="relay"`) {
		t.Error("a server without a relay shows a relay state")
	}
}
