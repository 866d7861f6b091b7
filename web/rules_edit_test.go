package web

import (
	"fmt"
	"html"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/facegate/facegate/storage"
)

// A door, group and rule open prefilled from their rows; saving replaces
// each where it stood (a renamed door and group are followed by the rule
// naming them); a refused save keeps the edit, and editing a record
// deleted meanwhile says so.
func TestRulesEditInPlace(t *testing.T) {
	h := newHarness(t)
	h.user("ada", storage.RoleAdmin)
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
	post("group", url.Values{"name": {"guests"}}, http.StatusSeeOther)
	post("door", url.Values{"id": {"lab-in"}, "name": {"Lab"}, "area": {"lab"}, "direction": {"in"}, "open_ms": {"3000"},
		"level": {"face"}}, http.StatusSeeOther)
	post("rule", url.Values{"name": {"office"}, "group": {"staff"}, "doors": {"lab-in"}, "days": {"Mon", "Fri"},
		"start": {"08:00"}, "end": {"18:00"}, "windows": {"Sat 10:00-12:00"}}, http.StatusSeeOther)
	recs, _ := h.db.LoadPolicy()
	id := recs.Rules[0].ID

	_, page := get(t, c, fmt.Sprintf("%s/rules?edit=rule&key=%d", h.ts.URL, id))
	form := html.UnescapeString(between(page, `id="rule-form"`, "</form>"))
	for _, want := range []string{`name="name" value="office"`, `<option selected>staff</option>`, `value="lab-in" checked`,
		`value="Mon" checked`, `value="Fri" checked`, `name="start" value="08:00"`, `name="end" value="18:00"`,
		`name="windows" value="Sat 10:00-12:00"`, fmt.Sprintf(`name="replace" value="%d"`, id)} {
		if !strings.Contains(form, want) {
			t.Errorf("rule opened for editing lacks %s", want)
		}
	}
	edit := url.Values{"replace": {fmt.Sprint(id)}, "name": {"office"}, "group": {"guests"}, "doors": {"lab-in"},
		"days": {"Tue"}, "start": {"09:00"}, "end": {""}}
	body := post("rule", edit, http.StatusUnprocessableEntity) // no end time
	if form := html.UnescapeString(between(body, `id="rule-form"`, "</form>")); !strings.Contains(form, fmt.Sprintf(`name="replace" value="%d"`, id)) ||
		!strings.Contains(form, `<option selected>guests</option>`) {
		t.Errorf("refused edit lost the record or the values: %s", form)
	}
	edit.Set("end", "17:00")
	post("rule", edit, http.StatusSeeOther)
	post("door", url.Values{"replace": {"lab-in"}, "id": {"lab-main"}, "name": {"Lab main"}, "area": {"lab"}, "direction": {"both"},
		"open_ms": {"5000"}, "level": {"face"}}, http.StatusSeeOther)
	post("group", url.Values{"replace": {"guests"}, "name": {"visitors"}}, http.StatusSeeOther)
	recs, _ = h.db.LoadPolicy()
	if len(recs.Rules) != 1 || recs.Rules[0].Windows != "Tue 09:00-17:00" || recs.Rules[0].GroupName != "visitors" ||
		recs.Rules[0].Doors != "lab-main" {
		t.Errorf("rule after the edits: %+v", recs.Rules)
	}
	if len(recs.Doors) != 1 || recs.Doors[0].ID != "lab-main" || recs.Doors[0].OpenMillis != 5000 {
		t.Errorf("doors after the edit: %+v", recs.Doors)
	}
	if len(recs.Groups) != 2 || recs.Groups[1].Name != "visitors" {
		t.Errorf("groups after the edit: %+v", recs.Groups)
	}
	get(t, c, h.ts.URL+"/lang/ja")
	body = post("group", url.Values{"replace": {"gone"}, "name": {"x"}}, http.StatusUnprocessableEntity)
	if msg := html.UnescapeString(between(body, `id="error"`, "</p>")); !strings.Contains(msg, "もうありません") {
		t.Errorf("editing a deleted group: %q", msg)
	}
}
