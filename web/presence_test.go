package web

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/facegate/facegate/storage"
)

// Presence shows times in the site's zone to the minute, who is inside
// whatever the period, and refuses a reversed period keeping the values.
func TestPresenceZoneInsideAndPeriod(t *testing.T) {
	h := newHarness(t)
	tokyo, err := time.LoadLocation("Asia/Tokyo")
	if err != nil {
		t.Fatal(err)
	}
	h.s.deps.Location = tokyo
	h.user("ada", storage.RoleAdmin)
	c := h.login("ada")
	at := func(d time.Duration) int64 { return h.now().Add(d).UnixMicro() }
	for _, e := range []storage.Event{ // 2026-11-24 09:00 UTC is 18:00 in Tokyo
		{AtMicro: at(-30 * 24 * time.Hour), PersonID: 7, PersonName: "Hanako", Area: "lab", Direction: "in"},
		{AtMicro: at(-2 * time.Hour), PersonID: 8, PersonName: "Taro", Area: "lab", Direction: "in"},
		{AtMicro: at(-90 * time.Minute), PersonID: 8, PersonName: "Taro", Area: "lab", Direction: "out"},
		{AtMicro: at(-time.Hour), PersonID: 9, PersonName: "Jiro", Area: "lab", Direction: "in"},
	} {
		e.Kind, e.Granted, e.Door = storage.KindGranted, true, "lab-"+e.Direction
		if _, err := h.rec.Record(e, nil, nil); err != nil {
			t.Fatal(err)
		}
	}
	code, body := get(t, c, h.ts.URL+"/presence")
	inside := between(body, `<ul id="inside">`, `</ul>`)
	if code != http.StatusOK || !strings.Contains(inside, "Hanako") || !strings.Contains(inside, "Jiro") || strings.Contains(inside, "Taro") {
		t.Fatalf("inside now (Hanako entered 30 days ago, Jiro an hour ago, Taro left): %q", inside)
	}
	if !strings.Contains(inside, "2026-10-25 18:00") || !strings.Contains(inside, "2026-11-24 17:00") {
		t.Errorf("inside-now times not in the site's zone to the minute: %q", inside)
	}
	stays := between(body, `<table id="stays">`, `</table>`)
	if !strings.Contains(stays, "<td>2026-11-24 16:00</td><td>2026-11-24 16:30</td>") || !strings.Contains(stays, "<td>0:30</td>") {
		t.Errorf("stays: %q", stays)
	}
	if m := rawTime.FindString(body); m != "" {
		t.Errorf("raw time on the page: %q", m)
	}
	code, body = getLang(t, c, h.ts.URL+"/presence?from=2026-11-24&to=2026-11-01", "ja")
	if code != http.StatusUnprocessableEntity || !strings.Contains(body, "期間が逆です") ||
		!strings.Contains(body, `value="2026-11-24"`) || !strings.Contains(body, `value="2026-11-01"`) {
		t.Fatalf("reversed period: %d %q", code, between(body, "<main>", "</form>"))
	}
	if !strings.Contains(between(body, `<ul id="inside">`, `</ul>`), "Jiro") {
		t.Error("inside now hidden by a refused period")
	}
	if code, _ := get(t, c, h.ts.URL+"/presence/attendance.csv?from=2026-11-24&to=2026-11-01"); code != http.StatusUnprocessableEntity {
		t.Errorf("attendance CSV of a reversed period: %d", code)
	}
	if code, body := get(t, c, h.ts.URL+"/presence?from=24.11.2026"); code != http.StatusBadRequest || !strings.Contains(body, "YYYY-MM-DD") {
		t.Errorf("a day that does not parse: %d", code)
	}
}

func between(s, from, to string) string {
	i := strings.Index(s, from)
	if i < 0 {
		return ""
	}
	s = s[i:]
	if j := strings.Index(s, to); j >= 0 {
		return s[:j]
	}
	return s
}
