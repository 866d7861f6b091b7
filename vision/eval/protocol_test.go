package eval

import (
	"bytes"
	"context"
	"encoding/json"
	"encoding/xml"
	"image/png"
	"io"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// A, B, C sit far apart; every photo of A is at the same point, so A's
// impostor probes would match A at distance 0 if leave-one-out failed. D
// (one photo, never enrolled) sits next to B: one false accept. E's
// enrolment photos have no face. F's enrolment photos are 2 apart, its
// probe on the second: the mean template is 1 away, the nearest enrolment
// photo 0.
var synthetic = Set{
	"A": photos("0,0", "0,0", "0,0"),
	"B": photos("10,0", "10,0", "10,0.2"),
	"C": photos("0,10", "0,10.2", "0,10", "noface"),
	"D": photos("10,0.1"),
	"E": photos("noface", "noface", "5,5"),
	"F": photos("20,0", "20,2", "20,2"),
}

func syntheticRun(t *testing.T, mode string) (*Protocol, Run) {
	t.Helper()
	m := vecModel{rule: Rule{Threshold: 0.5, Margin: 0.06}}
	described, err := Describe(context.Background(), m, synthetic)
	if err != nil {
		t.Fatal(err)
	}
	pr, err := NewProtocol(m, described, 2, mode)
	if err != nil {
		t.Fatal(err)
	}
	return pr, pr.Search(m)
}

func TestProtocolOutcomes(t *testing.T) {
	cases := []struct {
		mode                 string
		matched, missed      int
		rank1, falseAccepts  int
		genuine, impostorsOK int
	}{
		// genuine probes: A3, B3, C3, C4 (no face), E3 (not enrolled), F3.
		{GalleryMean, 3, 3, 4, 1, 6, 14},
		{GalleryEach, 4, 2, 4, 1, 6, 14},
	}
	for _, c := range cases {
		t.Run(c.mode, func(t *testing.T) {
			pr, run := syntheticRun(t, c.mode)
			if !slices.Equal(pr.Enrolled, []string{"A", "B", "C", "F"}) || !slices.Equal(pr.EnrolFailed, []string{"E"}) {
				t.Fatalf("enrolled %v, failed %v", pr.Enrolled, pr.EnrolFailed)
			}
			o := run.At(Rule{Threshold: 0.5, Margin: 0.06})
			if o.GenuineProbes != c.genuine || o.Matched != c.matched || o.Missed != c.missed || o.WrongPerson != 0 {
				t.Fatalf("genuine %+v, want %d probes, %d matched, %d missed", o, c.genuine, c.matched, c.missed)
			}
			if o.GenuineNoFace != 1 || o.ImpostorNoFace != 3 || o.ImpostorProbes != c.impostorsOK {
				t.Fatalf("no-face counts %+v", o)
			}
			// only D, next to B, is falsely accepted: never A against its own templates.
			if o.FalseAccepts != c.falseAccepts || !near(float64(o.FPIR), 1.0/14) {
				t.Fatalf("false accepts %d (FPIR %v), want %d", o.FalseAccepts, o.FPIR, c.falseAccepts)
			}
			if got := float64(o.Rank1) * 6; !near(got, float64(c.rank1)) {
				t.Fatalf("rank-1 %v, want %d/6", o.Rank1, c.rank1)
			}
		})
	}
}

func TestLeaveOneOutNeverMatchesOwnTemplate(t *testing.T) {
	for _, mode := range []string{GalleryMean, GalleryEach} {
		_, run := syntheticRun(t, mode)
		for _, r := range run.impostor {
			if r.best == r.person {
				t.Fatalf("%s: impostor probe of %s searched its own template (distance %v)", mode, r.person, r.bestD)
			}
			if r.person == "A" && r.bestD < 9 {
				t.Fatalf("%s: A's impostor probe found something at %v: A's templates were not left out", mode, r.bestD)
			}
		}
	}
}

func TestWrongPersonAndMargin(t *testing.T) {
	// B's probe falls on C's side: accepted as C is a wrong-person match.
	set := Set{"B": photos("0,0", "0,0", "9,0"), "C": photos("10,0", "10,0"), "G": photos("0,50", "0,50")}
	m := vecModel{rule: Rule{Threshold: 2, Margin: 0.06}}
	described, _ := Describe(context.Background(), m, set)
	pr, _ := NewProtocol(m, described, 2, GalleryMean)
	run := pr.Search(m)
	if o := run.At(m.rule); o.WrongPerson != 1 || o.Matched != 0 || !near(float64(o.FNIR), 1) || o.Rank1 != 0 {
		t.Fatalf("wrong-person probe: %+v", o)
	}
	// With a margin wider than the gap (9 vs 1: gap 8) it is refused instead.
	if o := run.At(Rule{Threshold: 2, Margin: 9}); o.WrongPerson != 0 || o.Missed != 1 {
		t.Fatalf("margin 9 should refuse: %+v", o)
	}
}

func TestSweep(t *testing.T) {
	res := func(person, best string, bestD float64) result {
		return result{probe: probe{person: person, desc: []float32{0}}, best: best, bestD: bestD, runnerUp: bestD + 1}
	}
	var r Run
	for _, d := range []float64{0.1, 0.2, 0.3, 0.4} {
		r.genuine = append(r.genuine, res("P", "P", d))
	}
	r.impostor = append(r.impostor, res("X", "P", 0.25), res("Y", "P", 0.35))
	for range 998 {
		r.impostor = append(r.impostor, res("Z", "P", 0.9))
	}
	cases := []struct {
		target, below, fnir float64
		fa                  int
	}{
		{0, 0.25, 0.5, 0},
		{1e-3, 0.35, 0.25, 1},
		{0.5, 0.9, 0, 2},
		{1, math.Inf(1), 0, 1000},
	}
	for _, c := range cases {
		p := r.Sweep(0.06, c.target)
		if float64(p.Below) != c.below || !near(float64(p.FNIR), c.fnir) || p.FalseAccepts != c.fa {
			t.Fatalf("FPIR ≤ %g: %+v, want below %v FNIR %v FA %d", c.target, p, c.below, c.fnir, c.fa)
		}
	}
	// An impostor that fails the margin never constrains the threshold.
	r.impostor[0].runnerUp = r.impostor[0].bestD + 0.01
	if p := r.Sweep(0.06, 0); float64(p.Below) != 0.35 {
		t.Fatalf("margin-failing impostor still limits: %+v", p)
	}
}

func TestNewProtocolRejectsBadOptions(t *testing.T) {
	if _, err := NewProtocol(vecModel{}, nil, 0, GalleryMean); err == nil {
		t.Fatal("k = 0 accepted")
	}
	if _, err := NewProtocol(vecModel{}, nil, 2, "median"); err == nil || !strings.Contains(err.Error(), "median") {
		t.Fatalf("bad mode: %v", err)
	}
}

func TestCosineMeanTemplateIsUnit(t *testing.T) {
	m := vecModel{cosine: true, rule: Rule{Threshold: 0.1, Margin: 0}}
	tpl := enrol(m, "P", []PhotoResult{{Found: true, Descriptor: []float32{3, 0}}, {Found: true, Descriptor: []float32{0, 3}}}, GalleryMean)
	if n := Euclidean(tpl[0].desc, []float32{0, 0}); math.Abs(n-1) > 1e-6 {
		t.Fatalf("cosine model's mean template has length %v, want 1", n)
	}
}

func TestLoadDirs(t *testing.T) {
	root := t.TempDir()
	write := func(p, s string) {
		t.Helper()
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write(filepath.Join(root, "set", "ann", "2.jpg"), "b")
	write(filepath.Join(root, "set", "ann", "1.JPEG"), "a")
	write(filepath.Join(root, "set", "ann", "notes.txt"), "x")
	write(filepath.Join(root, "set", "bob", "x.png"), "c")
	write(filepath.Join(root, "set", "empty", "readme"), "x")
	write(filepath.Join(root, "none", "loose.jpg"), "x")
	set, infos, err := LoadDirs(filepath.Join(root, "set"))
	if err != nil {
		t.Fatal(err)
	}
	ann := set["set/ann"]
	if len(set) != 2 || len(ann) != 2 || string(ann[0].Data) != "a" || infos[0] != (SetInfo{filepath.Join(root, "set"), 2, 3}) {
		t.Fatalf("set %v infos %+v", set, infos)
	}
	for _, bad := range [][]string{nil, {filepath.Join(root, "missing")}, {filepath.Join(root, "none")},
		{filepath.Join(root, "set"), filepath.Join(root, "set")}} {
		if _, _, err := LoadDirs(bad...); err == nil || !strings.Contains(err.Error(), "eval:") {
			t.Fatalf("LoadDirs(%v) = %v, want a clear error", bad, err)
		}
	}
}

func TestReportTextJSONSVG(t *testing.T) {
	m := vecModel{rule: Rule{Threshold: 0.5, Margin: 0.06}}
	rep, err := Compare(context.Background(), []Model{m}, synthetic, nil, DefaultOptions)
	if err != nil {
		t.Fatal(err)
	}
	if rep.People != 6 || rep.Total != 17 || len(rep.Models[0].Ident) != 2 || len(rep.Models[0].Photos.NoFace) != 3 {
		t.Fatalf("report counts: %+v", rep)
	}
	var txt bytes.Buffer
	if err := WriteText(&txt, rep); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"photos with a face", "14 / 17", "1:N each at rule", "no face in noface", "FAR 0 rests on"} {
		if !strings.Contains(txt.String(), want) {
			t.Fatalf("text report lacks %q:\n%s", want, txt.String())
		}
	}
	js, err := json.Marshal(rep)
	if err != nil {
		t.Fatal(err)
	}
	var back map[string]any
	if err := json.Unmarshal(js, &back); err != nil || back["models"] == nil {
		t.Fatalf("JSON round trip: %v %s", err, js)
	}
	var svg bytes.Buffer
	if err := WriteSVG(&svg, &rep.Models[0]); err != nil {
		t.Fatal(err)
	}
	checkPNG(t, &rep.Models[0])
	lines := checkSVG(t, svg.Bytes())
	if lines < 4 { // 2 axes + rule + calibrated threshold
		t.Fatalf("SVG has %d lines, want axes and both thresholds", lines)
	}
}

// checkSVG parses the SVG as XML and counts its <line> elements.
func checkSVG(t *testing.T, b []byte) int {
	t.Helper()
	dec := xml.NewDecoder(bytes.NewReader(b))
	lines, root := 0, ""
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("SVG is not XML: %v", err)
		}
		if se, ok := tok.(xml.StartElement); ok {
			if root == "" {
				root = se.Name.Local
			}
			if se.Name.Local == "line" {
				lines++
			}
		}
	}
	if root != "svg" {
		t.Fatalf("root element %q, want svg", root)
	}
	return lines
}

// checkPNG decodes the PNG and looks for the rule's line and both colours.
func checkPNG(t *testing.T, m *ModelReport) {
	t.Helper()
	var buf bytes.Buffer
	if err := WritePNG(&buf, m); err != nil {
		t.Fatal(err)
	}
	img, err := png.Decode(&buf)
	if err != nil {
		t.Fatalf("PNG does not decode: %v", err)
	}
	p := newPlot(m)
	if r, g, b, _ := img.At(int(p.x(p.rule)), padT+5).RGBA(); r+g+b != 0 {
		t.Fatalf("no black threshold line at x=%v", p.x(p.rule))
	}
	greens, reds := 0, 0
	for x := range svgW {
		r, g, b, _ := img.At(x, svgH-padB-2).RGBA()
		switch {
		case g > r && g > b:
			greens++
		case r > g && r > b:
			reds++
		}
	}
	if greens == 0 || reds == 0 {
		t.Fatalf("PNG bottom row: %d green and %d red pixels, want both", greens, reds)
	}
}
