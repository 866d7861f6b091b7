package web

import (
	"html"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/facegate/facegate/storage"
)

// The rules page edits with pickers: areas, groups, doors and people from
// the policy, weekday checkboxes, time and date inputs; a refused edit
// says why in the reader's language and keeps what was entered.
func TestRulesPickersKeepValues(t *testing.T) {
	h := newHarness(t)
	h.user("ada", storage.RoleAdmin)
	if _, err := h.db.Enroll("E1", "Hanako", []storage.NewTemplate{{Descriptor: make([]float32, 128), ModelVersion: "m", SourceName: "a.jpg"}}); err != nil {
		t.Fatal(err)
	}
	c := h.login("ada")
	post := func(kind string, form url.Values, want int) string {
		t.Helper()
		code, body := h.postForm(c, "/rules", "/rules/"+kind, form)
		if code != want {
			t.Fatalf("%s %v: %d, want %d: %s", kind, form, code, want, between(body, `id="error"`, "</p>"))
		}
		return body
	}
	post("area", url.Values{"name": {"lab"}}, http.StatusSeeOther)
	post("group", url.Values{"name": {"staff"}}, http.StatusSeeOther)
	post("door", url.Values{"id": {"lab-in"}, "name": {"Lab"}, "area": {"lab"}, "direction": {"in"}, "open_ms": {"3000"},
		"level": {"face"}, "passage_days": {"Mon", "Tue"}, "passage_start": {"09:00"}, "passage_end": {"10:00"}}, http.StatusSeeOther)
	_, page := get(t, c, h.ts.URL+"/rules")
	for _, want := range []string{`<select name="area" required><option>lab</option>`, `<option>staff</option>`,
		`<input type="checkbox" name="doors" value="lab-in">`, `<option value="E1">Hanako (E1)</option>`,
		`<input type="checkbox" name="days" value="Sat">`, `<input type="time" name="start"`, `<input type="date" name="valid_from"`,
		`<input type="date" name="date"`} {
		if !strings.Contains(page, want) {
			t.Errorf("rules page lacks %s", want)
		}
	}

	// Refused in Japanese: validity reversed; every value stays.
	get(t, c, h.ts.URL+"/lang/ja")
	rule := url.Values{"name": {"週末"}, "group": {"staff"}, "doors": {"lab-in"}, "days": {"Sat", "Sun"}, "start": {"10:00"},
		"end": {"14:00"}, "windows": {"月-金 08:00-20:00"}, "valid_from": {"2026-12-01"}, "valid_until": {"2026-11-01"},
		"observe_holidays": {"on"}}
	body := post("rule", rule, http.StatusUnprocessableEntity)
	form := html.UnescapeString(between(body, `id="rule-form"`, "</form>"))
	for _, want := range []string{`name="name" value="週末"`, `<option selected>staff</option>`, `value="lab-in" checked`,
		`value="Sat" checked`, `value="Sun" checked`, `name="start" value="10:00"`, `name="end" value="14:00"`,
		`name="windows" value="月-金 08:00-20:00"`, `name="valid_from" value="2026-12-01"`, `name="valid_until" value="2026-11-01"`,
		`name="observe_holidays" checked`} {
		if !strings.Contains(form, want) {
			t.Errorf("refused rule form lost %s", want)
		}
	}
	if msg := html.UnescapeString(between(body, `id="error"`, "</p>")); !strings.Contains(msg, "有効終了日（2026-11-01）が有効開始日より前です") {
		t.Errorf("reversed validity, in Japanese: %q", msg)
	}
	if strings.Contains(between(body, `id="door-form"`, "</form>"), "checked") {
		t.Error("the door form took the rule form's values")
	}
	for _, bad := range []url.Values{{"days": {"Sat"}, "start": {"10:00"}}, {"windows": {"金曜 9時"}}, {}} {
		f := url.Values{"name": {"x"}, "group": {"staff"}, "doors": {"lab-in"}}
		for k, v := range bad {
			f[k] = v
		}
		if msg := between(post("rule", f, http.StatusUnprocessableEntity), `id="error"`, "</p>"); !strings.Contains(msg, "曜日と時間帯") {
			t.Errorf("bad window %v: %q", bad, msg)
		}
	}

	rule.Set("valid_until", "2027-03-31")
	post("rule", rule, http.StatusSeeOther)
	post("member", url.Values{"employee_id": {"E1"}, "group": {"staff"}}, http.StatusSeeOther)
	recs, err := h.db.LoadPolicy()
	if err != nil {
		t.Fatal(err)
	}
	if len(recs.Rules) != 1 || recs.Rules[0].Windows != "Sat,Sun 10:00-14:00; 月-金 08:00-20:00" || recs.Rules[0].Doors != "lab-in" ||
		!recs.Rules[0].ObserveHolidays || recs.Doors[0].PassageWindows != "Mon,Tue 09:00-10:00" || len(recs.PersonGroups) != 1 {
		t.Fatalf("stored: %+v %+v %+v", recs.Rules, recs.Doors, recs.PersonGroups)
	}
}
