package web

import (
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/facegate/facegate/storage"
)

var doorAckRE = regexp.MustCompile(`action="(/doors/events/(\d+)/ack)"`)

// On the central's Home an investigator acknowledges a door's alarm: the
// request waits ("sent, waiting for the door") and is audited here once;
// the receipt of the door's next push carries it, the door records it in
// its own chain as by USER@central, and once that arrives the alarm leaves
// the list. A viewer sees the alarms without the button.
func TestCentralHomeAcknowledgesDoorAlarm(t *testing.T) {
	h := newHarness(t)
	h.user("ivy", storage.RoleInvestigator)
	h.user("viv", storage.RoleViewer)
	front, _ := fillSite(t, h)
	at := h.now().Add(-10 * time.Minute).UnixMicro()
	forced, _ := front.rec.Record(storage.Event{AtMicro: at, Kind: storage.KindDoorForced, Door: "front", Reason: "door opened while locked"}, nil, nil)
	front.rec.Record(storage.Event{AtMicro: at + 1, Kind: storage.KindDoorHeldOpen, Door: "front"}, nil, nil)
	front.push(t, h, nil)
	if _, page := get(t, h.login("viv"), h.ts.URL+"/"); doorAckRE.MatchString(page) || strings.Count(between(page, `<table id="door-alarms">`, "</table>"), "<tr class=") != 2 {
		t.Fatalf("a viewer's Home: want both alarms, no button:\n%s", page)
	}
	c := h.login("ivy")
	_, page := get(t, c, h.ts.URL+"/")
	forms := doorAckRE.FindAllStringSubmatch(page, -1)
	if len(forms) != 2 {
		t.Fatalf("want a button for each of the front door's 2 alarms:\n%s", page)
	}
	ack := forms[1][1] // newest first: the forced door is the second
	for range 2 {      // a second click makes no second request
		if code, body := h.postForm(c, "/", ack, url.Values{}); code != http.StatusSeeOther {
			t.Fatalf("acknowledge: %d %s", code, body)
		}
	}
	audit, _ := h.db.AuditLog(100)
	if n := countCode(audit, "door_alarm_ack_sent"); n != 1 || !strings.Contains(audit[0].Detail, `"door":"front"`) || audit[0].By != "ivy" {
		t.Fatalf("%d audit entries on the central for the request, want 1 by ivy naming the door: %+v", n, audit[0])
	}
	_, page = get(t, c, h.ts.URL+"/")
	if !strings.Contains(page, "sent by ivy@central, waiting for the door") || strings.Contains(page, `action="`+ack+`"`) || len(doorAckRE.FindAllString(page, -1)) != 1 {
		t.Fatalf("the request is not shown as waiting:\n%s", between(page, `<table id="door-alarms">`, "</table>"))
	}
	if _, ja := getLang(t, c, h.ts.URL+"/", "ja"); !strings.Contains(ja, "ivy@central が送信済み、扉の応答待ち") {
		t.Errorf("waiting state in Japanese:\n%s", between(ja, `<table id="door-alarms">`, "</table>"))
	}
	// The door's next push: the receipt asks, the door records, the next
	// push brings the acknowledgement back and the alarm is no longer open.
	r := front.push(t, h, nil)
	if len(r.Acks) != 1 || r.Acks[0].Seq != forced.Seq || r.Acks[0].By != "ivy@central" {
		t.Fatalf("receipt to the door: %+v", r.Acks)
	}
	if ok, err := front.rec.AcknowledgeAlarm(r.Acks[0].Seq, r.Acks[0].By); !ok || err != nil {
		t.Fatalf("the door did not record it: %v %v", ok, err)
	}
	if r := front.push(t, h, nil); len(r.Acks) != 0 {
		t.Fatalf("still asked after the door's acknowledgement arrived: %+v", r.Acks)
	}
	_, page = get(t, c, h.ts.URL+"/")
	if rows := between(page, `<table id="door-alarms">`, "</table>"); strings.Count(rows, "<tr class=") != 1 || strings.Contains(rows, "waiting") {
		t.Errorf("after the door's acknowledgement, want only the held-open alarm, open:\n%s", rows)
	}
	if code, _ := h.postForm(c, "/", ack, url.Values{}); code != http.StatusSeeOther {
		t.Errorf("acknowledging what the door acknowledged meanwhile: %d, want back to Home", code)
	}
	for path, want := range map[string]int{"/doors/events/x/ack": http.StatusBadRequest, "/doors/events/999/ack": http.StatusNotFound,
		"/doors/events/1/ack": http.StatusNotFound} { // row 1: Ada's entry, not an alarm
		if code, _ := h.postForm(c, "/", path, url.Values{}); code != want {
			t.Errorf("%s: %d, want %d", path, code, want)
		}
	}
	if code, _ := h.postForm(h.login("viv"), "/", forms[0][1], url.Values{}); code != http.StatusForbidden {
		t.Errorf("a viewer acknowledged: %d", code)
	}
}

func countCode(evs []storage.Event, code string) int {
	return len(slices.DeleteFunc(slices.Clone(evs), func(e storage.Event) bool { return e.Code != code }))
}
