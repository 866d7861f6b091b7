package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"gorm.io/driver/sqlite"
	"gorm.io/gorm"
	"gorm.io/gorm/logger"

	"github.com/facegate/facegate/gate"
	"github.com/facegate/facegate/models/modeltest"
	"github.com/facegate/facegate/storage"
)

func runCmd(t *testing.T, args ...string) (string, string, error) {
	t.Helper()
	var out, errb bytes.Buffer
	err := run(context.Background(), args, &out, &errb)
	return out.String(), errb.String(), err
}

func TestUsageErrors(t *testing.T) {
	cases := []struct {
		args []string
		want string
	}{
		{nil, "no command"},
		{[]string{"fly"}, "unknown command"},
		{[]string{"models"}, "prepare or verify"},
		{[]string{"enroll", "--name", "X"}, "needs --name, --employee-id"},
		{[]string{"enroll", "--from-dir", "d", "--name", "X"}, "takes no --name"},
		{[]string{"identify"}, "exactly one photo"},
		{[]string{"identify", "--bogus"}, "flag provided but not defined"},
		{[]string{"serve", "--trusted-proxies", "10.0.0.5,proxy.lan"}, `"proxy.lan" is neither an address nor a CIDR`},
		{[]string{"serve", "--mqtt-unlock"}, "need --mqtt BROKER"},
		{[]string{"serve", "--join", "abc"}, "--join and --central-ca need --central URL"},
		{[]string{"serve", "--central", "http://central.lan:8444"}, "plain http only to a loopback address"},
		{[]string{"central", "join-token"}, "--door NAME is required"},
		{[]string{"serve", "--mqtt", "broker.lan:1883"}, "--mqtt: \"broker.lan:1883\""},
		{[]string{"serve", "--mqtt", "mqtts://broker.lan", "--mqtt-unlock"}, "--mqtt-unlock: remote unlock needs --mqtt-user"},
		{[]string{"serve", "--mqtt", "mqtts://broker.lan", "--mqtt-user", "gate", "--mqtt-password-file", "/nonexistent/pw"}, "--mqtt-password-file: open /nonexistent/pw"},
		{[]string{"serve", "--mqtt", "mqtt://broker.lan", "--mqtt-ca", "/etc/hostname"}, "--mqtt-ca: a CA file needs an mqtts:// broker"},
	}
	for _, c := range cases {
		t.Run(strings.Join(c.args, " "), func(t *testing.T) {
			_, _, err := runCmd(t, c.args...)
			if err == nil || !strings.Contains(err.Error(), c.want) || exitCode(err) != 2 {
				t.Fatalf("got %v (exit %d), want usage error containing %q", err, exitCode(err), c.want)
			}
		})
	}
}

func TestConfigValidateAndEnvTwins(t *testing.T) {
	t.Setenv("FACEGATE_THRESHOLD", "0.9x")
	_, _, err := runCmd(t, "models", "verify")
	if err == nil || !strings.Contains(err.Error(), "FACEGATE_THRESHOLD") {
		t.Fatalf("bad env value: %v", err)
	}
	t.Setenv("FACEGATE_THRESHOLD", "1.5")
	if _, _, err := runCmd(t, "models", "verify"); err == nil || !strings.Contains(err.Error(), "threshold") {
		t.Fatalf("out-of-range threshold accepted: %v", err)
	}
	// The command line wins over the environment.
	t.Setenv("FACEGATE_MODELS_DIR", modeltest.ModelsDir(t))
	if out, _, err := runCmd(t, "models", "verify", "--threshold", "0.4"); err != nil || !strings.Contains(out, "OK") {
		t.Fatalf("verify with env models dir: %v\n%s", err, out)
	}
	if envName("models-dir") != "FACEGATE_MODELS_DIR" {
		t.Fatal(envName("models-dir"))
	}
}

func TestEnrollIdentifyEndToEnd(t *testing.T) {
	data := t.TempDir()
	common := []string{"--data-dir", data, "--models-dir", modeltest.ModelsDir(t)}
	out, _, err := runCmd(t, append([]string{"enroll", "--name", "Barack Obama", "--employee-id", "E001", modeltest.Face(t, "obama.jpg")}, common...)...)
	if err != nil || !strings.Contains(out, "enrolled Barack Obama (E001): 1 template") {
		t.Fatalf("enroll: %v\n%s", err, out)
	}
	if _, err := os.Stat(filepath.Join(data, "facegate.db")); err != nil {
		t.Fatalf("default database not created: %v", err)
	}
	// Flags after the photo, as in `identify photo.jpg --json`.
	out, _, err = runCmd(t, append([]string{"identify", modeltest.Face(t, "obama-1080p.jpg"), "--json"}, common...)...)
	if err != nil {
		t.Fatal(err)
	}
	var res struct {
		Threshold float64
		Faces     []struct {
			Box     struct{ Min, Max struct{ X, Y int } }
			Verdict string
			Person  *struct {
				EmployeeID string `json:"employee_id"`
			}
			Distance *float64
		}
	}
	if err := json.Unmarshal([]byte(out), &res); err != nil {
		t.Fatalf("identify --json: %v\n%s", err, out)
	}
	if len(res.Faces) != 1 || res.Faces[0].Verdict != "match" || res.Faces[0].Person.EmployeeID != "E001" ||
		*res.Faces[0].Distance > res.Threshold || res.Faces[0].Box.Max.X <= res.Faces[0].Box.Min.X {
		t.Fatalf("identify result %s", out)
	}
	out, _, err = runCmd(t, append([]string{"identify", modeltest.Face(t, "biden.jpg")}, common...)...)
	if err != nil || !strings.Contains(out, "unknown") || !strings.Contains(out, "BEST MATCH") {
		t.Fatalf("identify text: %v\n%s", err, out)
	}
	// A refused photo names the file and stores nothing.
	_, _, err = runCmd(t, append([]string{"enroll", "--name", "Two", "--employee-id", "E2", modeltest.Face(t, "two_people.jpg")}, common...)...)
	if err == nil || !strings.Contains(err.Error(), "two_people.jpg") || exitCode(err) != 1 {
		t.Fatalf("two faces: %v", err)
	}
	// Obama's face under another name is refused with what to do, and
	// stored with --confirm and a reason.
	dup := append([]string{"enroll", "--name", "Not Obama", "--employee-id", "E7", modeltest.Face(t, "obama2.jpg")}, common...)
	if _, _, err = runCmd(t, dup...); err == nil || !strings.Contains(err.Error(), "Barack Obama (E001)") || !strings.Contains(err.Error(), "--confirm") {
		t.Fatalf("duplicate face: %v", err)
	}
	if out, _, err = runCmd(t, append(dup, "--confirm", "look-alike brother")...); err != nil || !strings.Contains(out, "enrolled Not Obama (E7)") {
		t.Fatalf("confirmed duplicate: %v\n%s", err, out)
	}
	// A file that does not exist.
	_, _, err = runCmd(t, append([]string{"identify", filepath.Join(data, "nope.jpg")}, common...)...)
	if !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("missing photo: %v", err)
	}
}

func TestEnrollFromDir(t *testing.T) {
	data := t.TempDir()
	train := filepath.Join(modeltest.Testdata(t), "faces", "people", "train")
	out, errOut, err := runCmd(t, "enroll", "--from-dir", train, "--data-dir", data, "--models-dir", modeltest.ModelsDir(t))
	if err != nil {
		t.Fatalf("%v\n%s", err, errOut)
	}
	if !strings.Contains(out, "enrolled 5 people, 9 templates") || !strings.Contains(errOut, "9/9") {
		t.Fatalf("stdout %q stderr %q", out, errOut)
	}
	out, _, err = runCmd(t, "identify", filepath.Join(modeltest.Testdata(t), "faces", "people", "test", "obama1.jpg"),
		"--data-dir", data, "--models-dir", modeltest.ModelsDir(t))
	if err != nil || !strings.Contains(out, "match    obama (obama)") {
		t.Fatalf("%v\n%s", err, out)
	}
}

// serve on the demo clip: enrols the demo people on first start, grants
// Lin-Manuel Miranda on stage, and stops cleanly on cancel.
func TestServeDemo(t *testing.T) {
	data := t.TempDir()
	// An enrolment by another process while serve runs reaches its gallery.
	enrolled := make(chan error, 1)
	time.AfterFunc(2*time.Second, func() {
		_, _, err := runCmd(t, "enroll", "--name", "Joe Biden", "--employee-id", "E-B", modeltest.Face(t, "biden.jpg"),
			"--data-dir", data, "--models-dir", modeltest.ModelsDir(t))
		enrolled <- err
	})
	log := serveUntil(t, 90*time.Second, []string{`msg="gallery reloaded" templates=3`,
		`verdict=match person="Lin-Manuel Miranda"`, `unlocked=true`, `verdict=unknown`}, "--data-dir", data, "--models-dir", modeltest.ModelsDir(t),
		"--demo-dir", modeltest.Testdata(t), "--web-listen", "127.0.0.1:0")
	if err := <-enrolled; err != nil {
		t.Fatalf("enrol while serving: %v", err)
	}
	if !strings.Contains(log, `msg="gallery reloaded" templates=3`) {
		t.Errorf("gallery not reloaded after a CLI enrolment:\n%s", log)
	}
	if strings.Count(log, "demo person enrolled") != 2 {
		t.Errorf("demo people not enrolled:\n%s", log)
	}
	if !strings.Contains(log, `verdict=match person="Lin-Manuel Miranda"`) || !strings.Contains(log, "latency=") {
		t.Errorf("Lin-Manuel Miranda never matched:\n%s", log)
	}
	if !strings.Contains(log, "kind=access_granted") || !strings.Contains(log, `msg="relay (simulated)" unlocked=true`) {
		t.Errorf("no grant reached the relay:\n%s", log)
	}
	// The stranger near the end (frames 212–218) is refused, and the
	// evidence says how the frames settled it.
	if db, err := storage.Open(filepath.Join(data, "facegate.db"), storage.Options{KeyDir: filepath.Join(data, "keys")}); err != nil {
		t.Fatal(err)
	} else {
		all, err := db.Events(storage.EventFilter{Kind: string(gate.EventDenied)})
		db.Close()
		var evs []storage.Event
		for _, e := range all {
			if e.Code == string(gate.ReasonUnknownFace) {
				evs = append(evs, e)
			}
		}
		if err != nil || len(evs) == 0 {
			t.Fatalf("no unknown-face event (%v):\n%s", err, log)
		}
		if e := evs[0]; e.Granted || !strings.Contains(e.Reason, "from everyone enrolled") || e.Frames < 2 || e.SnapshotHash == "" {
			t.Errorf("unknown-face event %+v: want a denial whose reason says how it was settled, with its snapshot", e)
		}
	}
	if on, err := gate.ReadFileSwitch(filepath.Join(data, "relay", "state")); err != nil || on {
		t.Errorf("relay %v (%v) after serve stopped, want locked", on, err)
	}
	// Every decision is in the evidence log, which verifies; an export of
	// it verifies with only the public key.
	common := []string{"--data-dir", data, "--models-dir", modeltest.ModelsDir(t)}
	out2, _, err := runCmd(t, append([]string{"verify"}, common...)...)
	if err != nil || !strings.Contains(out2, "OK: the log is intact") {
		t.Fatalf("verify after serve: %v\n%s", err, out2)
	}
	bundle := filepath.Join(t.TempDir(), "b.zip")
	out2, _, err = runCmd(t, append([]string{"export", "--person", "DEMO-001", "--out", bundle, "--site-tz", "UTC"}, common...)...)
	if err != nil || !strings.Contains(out2, "exported") {
		t.Fatalf("export: %v\n%s", err, out2)
	}
	pub := strings.Fields(out2[strings.Index(out2, "--pubkey"):])[1]
	out2, _, err = runCmd(t, "verify", "--bundle", bundle, "--pubkey", pub)
	if err != nil || !strings.Contains(out2, "OK") {
		t.Fatalf("verify bundle: %v\n%s", err, out2)
	}
	if !strings.Contains(log, "facegate stopped") {
		t.Errorf("no clean stop:\n%s", log)
	}
}

func TestBench(t *testing.T) {
	// The naive full-frame loop is go-face's, so this run uses dlib.
	out, errOut, err := runCmd(t, "bench", "--embedder", "dlib", "--models-dir", modeltest.ModelsDir(t),
		"--source", filepath.Join(modeltest.Testdata(t), "video", "short_hamilton_clip.mp4"),
		"--enroll", "Lin-Manuel Miranda="+modeltest.Face(t, "lin-manuel-miranda.png"),
		"--enroll", "Barack Obama="+modeltest.Face(t, "obama.jpg"))
	if err != nil {
		t.Fatalf("%v\n%s", err, errOut)
	}
	for _, want := range []string{"pipeline: 275 frames", "decode", "detect", "describe", "match",
		"Lin-Manuel Miranda", "decision latency: mean", "since first seen: mean", "naive loop", "pipeline / naive:"} {
		if !strings.Contains(out, want) {
			t.Errorf("bench output lacks %q:\n%s", want, out)
		}
	}
	t.Log("\n" + out)
	// Paced like a camera: every delivered frame is processed or skipped
	// (latest-frame semantics), and the counts add up.
	out, errOut, err = runCmd(t, "bench", "--paced", "--naive=false", "--models-dir", modeltest.ModelsDir(t),
		"--source", filepath.Join(modeltest.Testdata(t), "video", "short_hamilton_clip.mp4"),
		"--enroll", "Lin-Manuel Miranda="+modeltest.Face(t, "lin-manuel-miranda.png"))
	if err != nil {
		t.Fatalf("%v\n%s", err, errOut)
	}
	var processed, delivered, got, skipped int
	var fps float64
	i, j := strings.Index(out, "pipeline: "), strings.Index(out, "paced at ")
	if i < 0 || j < 0 {
		t.Fatalf("paced bench output:\n%s", out)
	}
	fmt.Sscanf(out[i:], "pipeline: %d frames", &processed)
	if _, err := fmt.Sscanf(out[j:], "paced at %f fps: %d frames delivered, %d processed, %d skipped", &fps, &delivered, &got, &skipped); err != nil {
		t.Fatalf("paced line: %v\n%s", err, out)
	}
	if delivered != 275 || got != processed || got+skipped != delivered || fps < 29 || fps > 31 ||
		!strings.Contains(out, "wall time") || !strings.Contains(out, "Lin-Manuel Miranda") ||
		!strings.Contains(out, "embedder faceplugin (512-D, cosine") || !strings.Contains(out, "ms per face") {
		t.Errorf("paced bench: %d delivered, %d (%d) processed, %d skipped at %.2f fps:\n%s", delivered, got, processed, skipped, fps, out)
	}
	t.Log("\n" + out)
	if _, _, err := runCmd(t, "bench", "--source", "x.mp4"); err == nil || exitCode(err) != 2 {
		t.Fatalf("bench without --enroll: %v", err)
	}
}

func TestEvidenceCLI(t *testing.T) {
	data := t.TempDir()
	common := []string{"--data-dir", data, "--models-dir", modeltest.ModelsDir(t)}
	if _, _, err := runCmd(t, append([]string{"enroll", "--name", "Barack Obama", "--employee-id", "E001", modeltest.Face(t, "obama.jpg")}, common...)...); err != nil {
		t.Fatal(err)
	}
	db, err := storage.Open(filepath.Join(data, "facegate.db"), storage.Options{KeyDir: filepath.Join(data, "keys")})
	if err != nil {
		t.Fatal(err)
	}
	p, _ := db.PersonByEmployeeID("E001")
	r := &storage.Recorder{DB: db, Snapshots: storage.SnapshotStore{Dir: filepath.Join(data, "snapshots")}, Keys: db.Keys}
	for i := 0; i < 5; i++ {
		if _, err := r.Record(storage.Event{Kind: "access_granted", Granted: true, PersonID: p.ID, PersonName: p.Name, Door: "front"},
			[]byte(fmt.Sprint("frame", i)), nil); err != nil {
			t.Fatal(err)
		}
	}
	out, _, err := runCmd(t, append([]string{"verify"}, common...)...)
	if err != nil || !strings.Contains(out, "5 events") {
		t.Fatalf("verify: %v\n%s", err, out)
	}
	tamper(t, filepath.Join(data, "facegate.db"), "UPDATE events SET door = 'back' WHERE seq = 3")
	out, _, err = runCmd(t, append([]string{"verify", "--json"}, common...)...)
	if err == nil || exitCode(err) != 1 || !strings.Contains(err.Error(), "first broken position 3") || !strings.Contains(out, `"seq": 3`) {
		t.Fatalf("tampered log: %v\n%s", err, out)
	}
	tamper(t, filepath.Join(data, "facegate.db"), "UPDATE events SET door = 'front' WHERE seq = 3")
	out, _, err = runCmd(t, append([]string{"erase", "--employee-id", "E001", "--with-snapshots", "--by", "dpo@example"}, common...)...)
	if err != nil || !strings.Contains(out, "erased Barack Obama") {
		t.Fatalf("erase: %v\n%s", err, out)
	}
	if out, _, err := runCmd(t, append([]string{"verify"}, common...)...); err != nil {
		t.Fatalf("verify after erasure: %v\n%s", err, out)
	}
	var erasure storage.Event
	if evs, err := db.Events(storage.EventFilter{Kind: storage.KindErasure}); err == nil && len(evs) > 0 {
		erasure = evs[0]
	}
	if erasure.By != "dpo@example" {
		t.Fatalf("erasure event %+v", erasure)
	}
	db.Close()
	if _, _, err := runCmd(t, append([]string{"export", "--out", filepath.Join(data, "x.zip"), "--door", "nowhere"}, common...)...); err == nil || !strings.Contains(err.Error(), "no events match") {
		t.Fatalf("empty export: %v", err)
	}
	if _, _, err := runCmd(t, append([]string{"export", "--from", "yesterday", "--out", "x.zip"}, common...)...); exitCode(err) != 2 {
		t.Fatalf("bad date: %v", err)
	}
	if _, _, err := runCmd(t, "verify", "--bundle", "x.zip"); exitCode(err) != 2 || !strings.Contains(err.Error(), "--pubkey") {
		t.Fatalf("bundle without key: %v", err)
	}
}

// A threshold saved in the web app applies to the running appliance: at
// 0.30 Lin-Manuel Miranda (0.44–0.49 on stage with dlib, whose metric the
// figures are in) is never granted.
func TestServeAppliesStoredSettings(t *testing.T) {
	data := t.TempDir()
	db, err := storage.Open(filepath.Join(data, "facegate.db"), storage.Options{KeyDir: filepath.Join(data, "keys")})
	if err != nil {
		t.Fatal(err)
	}
	r := &storage.Recorder{DB: db, Keys: db.Keys}
	if err := r.SaveSettings(storage.Settings{Threshold: 0.3, Margin: 0.05}, "test"); err != nil {
		t.Fatal(err)
	}
	db.Close()
	// Lin-Manuel's on-stage frames end near frame 225 (7.5 s): run past them.
	decided := `msg="face decided"`
	log := serveUntil(t, 60*time.Second, []string{decided, decided, decided, decided, decided}, "--embedder", "dlib", "--data-dir", data, "--models-dir", modeltest.ModelsDir(t),
		"--demo-dir", modeltest.Testdata(t), "--web-listen", "127.0.0.1:0")
	if !strings.Contains(log, "face decided") {
		t.Fatalf("no decisions at all:\n%s", log)
	}
	if strings.Contains(log, "verdict=match") {
		t.Fatalf("granted despite the stored threshold 0.30:\n%s", log)
	}
}

// watchLog is a log writer that cancels the run once every wanted text has
// appeared (or the cap passes), so serve tests do not depend on speed.
type watchLog struct {
	mu     sync.Mutex
	buf    bytes.Buffer
	want   []string
	cancel func()
}

func (w *watchLog) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	n, err := w.buf.Write(p)
	need := map[string]int{} // a text listed k times must appear k times
	for _, s := range w.want {
		need[s]++
	}
	all := true
	for s, k := range need {
		all = all && strings.Count(w.buf.String(), s) >= k
	}
	if all {
		w.cancel()
	}
	return n, err
}

func (w *watchLog) String() string { w.mu.Lock(); defer w.mu.Unlock(); return w.buf.String() }

// serveUntil runs serve until the log shows every wanted text (plus a
// little more) or maxWait passes.
func serveUntil(t *testing.T, maxWait time.Duration, want []string, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	stop := time.AfterFunc(maxWait, cancel)
	defer stop.Stop()
	w := &watchLog{want: want, cancel: func() { time.AfterFunc(500*time.Millisecond, cancel) }}
	var out bytes.Buffer
	if err := run(ctx, append([]string{"serve"}, args...), &out, w); err != nil {
		t.Fatalf("serve: %v\n%s", err, w.String())
	}
	return w.String()
}

// tamper changes the database file behind storage's back, as an attacker
// with the file would.
func tamper(t *testing.T, path, sql string) {
	t.Helper()
	g, err := gorm.Open(sqlite.Open(path), &gorm.Config{Logger: logger.Discard})
	if err != nil {
		t.Fatal(err)
	}
	if err := g.Exec(sql).Error; err != nil {
		t.Fatal(err)
	}
	if d, err := g.DB(); err == nil {
		d.Close()
	}
}

func TestParseProxies(t *testing.T) {
	got, err := parseProxies(" 10.0.0.5, 192.168.1.0/24 ,,::1")
	if err != nil || strings.Join(got, "|") != "10.0.0.5|192.168.1.0/24|::1" {
		t.Fatalf("%q, %v", got, err)
	}
	if got, err := parseProxies(""); err != nil || got != nil {
		t.Fatalf("empty: %q, %v", got, err)
	}
}
