package identity

import (
	"encoding/json"
	"os"
	"strings"
	"testing"

	"github.com/facegate/facegate/models/modeltest"
	"github.com/facegate/facegate/storage"
	"github.com/facegate/facegate/vision"
)

// Switching dlib → faceplugin on a real SQLite database re-derives every
// template from the kept photos in one step, records the switch in the
// evidence chain, and the new gallery identifies in the new metric.
func TestSwitchModelRederivesTemplates(t *testing.T) {
	s := newService(t, vision.DefaultRule)
	if _, err := s.Enroll("E1", "Barack Obama", []Photo{photo(t, "obama.jpg"), photo(t, "obama2.jpg")}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Enroll("E2", "Joe Biden", []Photo{photo(t, "biden.jpg")}); err != nil {
		t.Fatal(err)
	}
	fp, err := vision.NewFaceplugin(modeltest.ModelsDir(t))
	if err != nil {
		t.Fatal(err)
	}
	defer fp.Close()
	s2, err := New(s.DB, fp, vision.FacepluginRule)
	if err != nil {
		t.Fatal(err)
	}
	s2.Photos = s.Photos
	if s2.Gallery().Len() != 0 || s2.SkippedTemplates() != 3 {
		t.Fatalf("before the switch: %d usable, %d skipped", s2.Gallery().Len(), s2.SkippedTemplates())
	}
	res, err := s2.SwitchModel("admin")
	if err != nil {
		t.Fatal(err)
	}
	if res.Templates != 3 || res.People != 2 || res.From != rec.ModelVersion() || res.To != fp.ModelVersion() {
		t.Fatalf("switch result %+v", res)
	}
	if s2.Gallery().Len() != 3 || s2.Gallery().Metric() != vision.MetricCosine {
		t.Fatalf("gallery after switch: %d templates, metric %s", s2.Gallery().Len(), s2.Gallery().Metric())
	}
	ids, err := s2.Identify(photo(t, "obama3.jpg"))
	if err != nil || len(ids) != 1 || ids[0].Person == nil || ids[0].Person.EmployeeID != "E1" {
		t.Fatalf("identify after switch: %+v %v", ids, err)
	}
	evs, err := s.DB.Events(storage.EventFilter{})
	if err != nil {
		t.Fatal(err)
	}
	var sw *storage.Event
	for i := range evs {
		if evs[i].Kind == storage.KindModelSwitch {
			sw = &evs[i]
		}
	}
	var detail map[string]any
	if sw == nil || json.Unmarshal([]byte(sw.Detail), &detail) != nil || detail["to"] != fp.ModelVersion() ||
		detail["templates"] != 3.0 || sw.By != "admin" {
		t.Fatalf("switch event %+v", sw)
	}
	if rep, err := s.DB.Verify(s.DB.Keys.Public, s.Photos); err != nil || len(rep.Problems) != 0 {
		t.Fatalf("chain after the switch: %+v %v", rep.Problems, err)
	}
	if again, err := s2.SwitchModel("admin"); err != nil || again.Templates != 0 {
		t.Fatalf("second switch: %+v %v", again, err)
	}
}

// A missing enrolment photo refuses the whole switch and changes nothing.
func TestSwitchModelAllOrNothing(t *testing.T) {
	s := newService(t, vision.DefaultRule)
	r1, err := s.Enroll("E1", "Barack Obama", []Photo{photo(t, "obama.jpg")})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Enroll("E2", "Joe Biden", []Photo{photo(t, "biden.jpg")}); err != nil {
		t.Fatal(err)
	}
	srcs, err := s.DB.TemplateSources()
	if err != nil || len(srcs) != 2 {
		t.Fatalf("%d template sources, %v", len(srcs), err)
	}
	p, err := s.Photos.Path(srcs[1].PhotoSHA256)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(p); err != nil {
		t.Fatal(err)
	}
	fp, err := vision.NewFaceplugin(modeltest.ModelsDir(t))
	if err != nil {
		t.Fatal(err)
	}
	defer fp.Close()
	s2, err := New(s.DB, fp, vision.FacepluginRule)
	if err != nil {
		t.Fatal(err)
	}
	s2.Photos = s.Photos
	_, err = s2.SwitchModel("admin")
	if err == nil || !strings.Contains(err.Error(), "nothing changed") || !strings.Contains(err.Error(), "biden.jpg") {
		t.Fatalf("got %v, want a refusal naming biden.jpg", err)
	}
	if ts, _, err := s.DB.Templates(rec.ModelVersion()); err != nil || len(ts) != 2 || ts[0].PersonID != r1.Person.ID {
		t.Fatalf("old templates changed: %+v, %v", ts, err)
	}
}
