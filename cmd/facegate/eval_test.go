package main

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"image/png"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/facegate/facegate/models/modeltest"
)

type evalIdent struct {
	Gallery     string
	People      int      `json:"people_enrolled"`
	EnrolFailed []string `json:"enrol_failed"`
	AtRule      struct {
		GenuineProbes  int `json:"genuine_probes"`
		Matched        int
		WrongPerson    int `json:"wrong_person"`
		Missed         int
		ImpostorProbes int      `json:"impostor_probes"`
		FalseAccepts   int      `json:"false_accepts"`
		FNIR           *float64 `json:"fnir"`
	} `json:"at_rule"`
}

// evalJSON is the part of `facegate eval --json` the test checks.
type evalJSON struct {
	Sets []struct {
		Dir            string
		People, Photos int
	}
	People int `json:"people"`
	Photos int `json:"photos"`
	Models []evalModel
}

// evalModel is one model's part of the report.
type evalModel struct {
	Name   string `json:"model"`
	Photos struct {
		Total    int
		WithFace int                           `json:"with_face"`
		NoFace   []struct{ Photo, Why string } `json:"no_face"`
	}
	Genuine, Impostor struct {
		N                int
		Min, Median, Max float64
	}
	EER         *float64
	Ident       []evalIdent
	Calibration struct {
		Threshold     *float64
		Quantile      *float64
		ImpostorPairs int `json:"impostor_pairs"`
	}
}

func TestEvalOnRealPhotos(t *testing.T) {
	td := modeltest.Testdata(t)
	east := filepath.Join(td, "faces-eastasia")
	west := filepath.Join(td, "faces", "people", "train")
	svgDir := t.TempDir()
	out, errOut, err := runCmd(t, "eval", east, west, "--models-dir", modeltest.ModelsDir(t), "--svg", svgDir, "--json")
	if err != nil {
		t.Fatalf("eval: %v\n%s", err, errOut)
	}
	var rep evalJSON
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatalf("eval --json: %v\n%s", err, out)
	}
	if len(rep.Sets) != 2 || rep.Sets[0].People != 29 || rep.Sets[0].Photos != 116 {
		t.Fatalf("East-Asian set: %+v, want 29 people and 116 photos", rep.Sets)
	}
	if rep.People != rep.Sets[0].People+rep.Sets[1].People || rep.Photos != rep.Sets[0].Photos+rep.Sets[1].Photos {
		t.Fatalf("totals %d people %d photos do not add up: %+v", rep.People, rep.Photos, rep.Sets)
	}
	if len(rep.Models) != 2 || rep.Models[0].Name != "dlib" || rep.Models[1].Name != "faceplugin" {
		t.Fatalf("models %d, want dlib and faceplugin side by side", len(rep.Models))
	}
	for _, m := range rep.Models {
		checkEvalModel(t, m, rep.Photos, svgDir)
	}
	// What made faceplugin the default, kept true on every run: it separates
	// the East-Asian faces better, and at its own rule lets no impostor in.
	dl, fp := rep.Models[0], rep.Models[1]
	if !(*fp.EER < *dl.EER) {
		t.Errorf("faceplugin pair EER %.3f not below dlib's %.3f", *fp.EER, *dl.EER)
	}
	for _, id := range fp.Ident {
		if id.AtRule.FalseAccepts != 0 || id.AtRule.WrongPerson != 0 {
			t.Errorf("faceplugin %s gallery at its rule: %d impostors accepted, %d wrong matches", id.Gallery, id.AtRule.FalseAccepts, id.AtRule.WrongPerson)
		}
	}
}

func checkEvalModel(t *testing.T, m evalModel, photos int, svgDir string) {
	t.Helper()
	if m.Photos.Total != photos || m.Photos.WithFace+len(m.Photos.NoFace) != m.Photos.Total {
		t.Fatalf("%s photo counts: %+v (total %d)", m.Name, m.Photos, photos)
	}
	n := m.Photos.WithFace
	if m.Genuine.N+m.Impostor.N != n*(n-1)/2 {
		t.Fatalf("%s: %d genuine + %d impostor pairs, want all %d pairs of %d photos", m.Name, m.Genuine.N, m.Impostor.N, n*(n-1)/2, n)
	}
	if m.EER == nil || !(*m.EER > 0 && *m.EER < 0.5) {
		t.Fatalf("%s: EER %v, want in (0, 0.5)", m.Name, m.EER)
	}
	if !(m.Genuine.Median < m.Impostor.Median) || !(m.Genuine.Min <= m.Genuine.Median && m.Genuine.Median <= m.Genuine.Max) {
		t.Fatalf("%s: genuine %+v should sit below impostor %+v", m.Name, m.Genuine, m.Impostor)
	}
	checkEvalIdent(t, m.Ident, n)
	c := m.Calibration
	if c.ImpostorPairs != m.Impostor.N || c.Threshold == nil || !(*c.Threshold < *c.Quantile) || *c.Quantile != m.Impostor.Min {
		t.Fatalf("%s: calibration at FAR 0: %+v, want below the smallest impostor distance %v", m.Name, c, m.Impostor.Min)
	}
	checkSVGFile(t, filepath.Join(svgDir, "eval-"+m.Name+".svg"))
	if f, err := os.Open(filepath.Join(svgDir, "eval-"+m.Name+".png")); err != nil {
		t.Fatalf("PNG histogram: %v", err)
	} else if _, err := png.Decode(f); err != nil {
		t.Fatalf("PNG histogram does not decode: %v", err)
	} else {
		f.Close()
	}
}

func checkEvalIdent(t *testing.T, idents []evalIdent, withFace int) {
	t.Helper()
	if len(idents) != 2 || idents[0].Gallery != "mean" || idents[1].Gallery != "each" {
		t.Fatalf("1:N runs %+v, want mean and each", idents)
	}
	for _, id := range idents {
		o := id.AtRule
		// 29 East-Asian people with 4 photos and 4 Western people with 2 are enrolled
		// from 2 photos each: 29 × 2 genuine probes; every photo is an impostor probe.
		if id.People+len(id.EnrolFailed) != 33 || o.GenuineProbes != 58 || o.Matched+o.WrongPerson+o.Missed != o.GenuineProbes {
			t.Fatalf("%s: %d enrolled, outcome %+v", id.Gallery, id.People, o)
		}
		if o.ImpostorProbes != withFace || o.FNIR == nil || *o.FNIR < 0 || *o.FNIR > 1 {
			t.Fatalf("%s: impostor probes %d (want %d), FNIR %v", id.Gallery, o.ImpostorProbes, withFace, o.FNIR)
		}
	}
}

func checkSVGFile(t *testing.T, path string) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("histogram not written: %v", err)
	}
	dec := xml.NewDecoder(bytes.NewReader(b))
	root := ""
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("%s is not XML: %v", path, err)
		}
		if se, ok := tok.(xml.StartElement); ok && root == "" {
			root = se.Name.Local
		}
	}
	if root != "svg" {
		t.Fatalf("%s: root %q, want svg", path, root)
	}
}

func TestEvalUsageErrors(t *testing.T) {
	dir := filepath.Join(modeltest.Testdata(t), "faces", "people", "train")
	cases := []struct {
		args []string
		want string
	}{
		{[]string{"eval"}, "at least one photo folder"},
		{[]string{"eval", dir, "--enrol-photos", "0"}, "--enrol-photos 0"},
		{[]string{"eval", dir, "--target-far", "1"}, "--target-far"},
		{[]string{"eval", dir, "--model", " , "}, "--model is empty"},
		{[]string{"eval", dir, "--model", "vgg", "--models-dir", modeltest.ModelsDir(t)}, `unknown model "vgg"`},
	}
	for _, c := range cases {
		t.Run(strings.Join(c.args, " "), func(t *testing.T) {
			_, _, err := runCmd(t, c.args...)
			if err == nil || !strings.Contains(err.Error(), c.want) || exitCode(err) != 2 {
				t.Fatalf("got %v (exit %d), want usage error containing %q", err, exitCode(err), c.want)
			}
		})
	}
	if _, _, err := runCmd(t, "eval", filepath.Join(t.TempDir(), "missing")); err == nil || !strings.Contains(err.Error(), "DIR/<person>") {
		t.Fatalf("missing folder: %v", err)
	}
}
