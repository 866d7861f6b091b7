package main

import (
	"bufio"
	"encoding/json"
	"flag"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/facegate/facegate/vision"
)

// runtimeStage is the last stage of the Dockerfile: its instructions
// (continuation lines joined) from its FROM on.
func runtimeStage(t *testing.T) []string {
	t.Helper()
	f, err := os.Open(filepath.Join("..", "..", "docker", "Dockerfile"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var stage []string
	var cur strings.Builder
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		if cont, ok := strings.CutSuffix(line, `\`); ok {
			cur.WriteString(cont + " ")
			continue
		}
		cur.WriteString(line)
		ins := cur.String()
		cur.Reset()
		if strings.HasPrefix(ins, "FROM ") {
			stage = nil
		}
		stage = append(stage, ins)
	}
	return stage
}

// jsonArg is an instruction's exec-form argument list.
func jsonArg(t *testing.T, stage []string, name string) []string {
	t.Helper()
	for _, ins := range stage {
		if rest, ok := strings.CutPrefix(ins, name+" "); ok {
			var out []string
			if err := json.Unmarshal([]byte(rest), &out); err != nil {
				t.Fatalf("%s %s: want the exec (JSON) form: %v", name, rest, err)
			}
			return out
		}
	}
	t.Fatalf("the runtime stage has no %s", name)
	return nil
}

// parseServe parses args with serve's own flags, as the image would run them.
func parseServe(t *testing.T, where string, args []string) *flag.FlagSet {
	t.Helper()
	if len(args) == 0 || args[0] != "serve" {
		t.Fatalf("%s runs %q, want serve", where, args)
	}
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	serveFlags(fs)
	if err := parseFlags(fs, args[1:]); err != nil {
		t.Fatalf("%s: %q does not parse with serve's flags: %v", where, args, err)
	}
	return fs
}

// TestDockerfile: the image's command is one serve accepts, it exposes the
// port serve listens on, its FACEGATE_ variables are flags, and compose
// runs serve the same way.
func TestDockerfile(t *testing.T) {
	stage := runtimeStage(t)
	entry, cmd := jsonArg(t, stage, "ENTRYPOINT"), jsonArg(t, stage, "CMD")
	if !slices.Equal(entry, []string{"facegate"}) {
		t.Fatalf("ENTRYPOINT %q, want [facegate]", entry)
	}
	fs := parseServe(t, "CMD", cmd)
	listen := fs.Lookup("web-listen").Value.String()
	port := listen[strings.LastIndex(listen, ":")+1:]
	if !slices.Contains(stage, "EXPOSE "+port) {
		t.Errorf("serve listens on %s; the image does not EXPOSE %s", listen, port)
	}
	for _, ins := range stage {
		env, ok := strings.CutPrefix(ins, "ENV ")
		if !ok {
			continue
		}
		for kv := range strings.FieldsSeq(env) {
			k, _, _ := strings.Cut(kv, "=")
			name := strings.ToLower(strings.ReplaceAll(strings.TrimPrefix(k, envPrefix), "_", "-"))
			if fs.Lookup(name) == nil {
				t.Errorf("ENV %s is no serve flag's twin", k)
			}
		}
	}
	b, err := os.ReadFile(filepath.Join("..", "..", "docker", "compose.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var compose []string
	for line := range strings.Lines(string(b)) {
		if rest, ok := strings.CutPrefix(strings.TrimSpace(line), "command:"); ok {
			if err := json.Unmarshal([]byte(strings.TrimSpace(rest)), &compose); err != nil {
				t.Fatalf("compose command %s: keep it a flow list: %v", rest, err)
			}
		}
	}
	parseServe(t, "compose", compose)
	if !strings.Contains(string(b), `"`+port+":"+port+`"`) {
		t.Errorf("compose does not publish port %s", port)
	}
}

// TestDockerRuntimeLibraries: every shared library the binary loads (as
// ldd reports them for this test binary, which links the same packages)
// and the face cascade come from Debian packages the runtime stage
// installs, directly or as their dependencies.
func TestDockerRuntimeLibraries(t *testing.T) {
	for _, tool := range []string{"ldd", "dpkg", "apt-cache"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Fatalf("%s is needed to check the image's libraries (a Debian host): %v", tool, err)
		}
	}
	var installs []string
	for _, ins := range runtimeStage(t) {
		if _, after, ok := strings.Cut(ins, "apt-get install "); ok {
			before, _, _ := strings.Cut(after, "&&")
			for w := range strings.FieldsSeq(before) {
				if !strings.HasPrefix(w, "-") {
					installs = append(installs, w)
				}
			}
		}
	}
	closure := aptClosure(t, installs)
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command("ldd", self).Output()
	if err != nil {
		t.Fatalf("ldd %s: %v", self, err)
	}
	files := []string{vision.DefaultCascade}
	for line := range strings.Lines(string(out)) {
		if _, after, ok := strings.Cut(line, "=> "); ok {
			if p := strings.Fields(after); len(p) > 0 && strings.HasPrefix(p[0], "/") {
				files = append(files, p[0])
			}
		}
	}
	owners := ownersOf(files)
	for _, f := range files {
		pkg, ok := owners[f]
		if !ok {
			t.Errorf("%s belongs to no Debian package", f)
		} else if !closure[pkg] {
			t.Errorf("%s comes from %s, which the runtime stage does not install", f, pkg)
		}
	}
	t.Logf("%d files checked against %d packages installed (with dependencies)", len(files), len(closure))
}

// ownersOf maps each path to the Debian package that installed it (the
// path as named or with symlinks followed), in one dpkg call.
func ownersOf(paths []string) map[string]string {
	real := map[string]string{} // resolved path -> path as named
	var query []string
	for _, p := range paths {
		r := p
		if e, err := filepath.EvalSymlinks(p); err == nil {
			r = e
		}
		real[r], real[p] = p, p
		query = append(query, p, r)
	}
	out, _ := exec.Command("dpkg", append([]string{"-S"}, query...)...).Output() // exits 1 if any path is unowned
	owners := map[string]string{}
	for line := range strings.Lines(string(out)) {
		pkgs, path, ok := strings.Cut(strings.TrimSpace(line), ": ")
		if !ok {
			continue
		}
		pkg, _, _ := strings.Cut(pkgs, ", ")
		pkg, _, _ = strings.Cut(pkg, ":") // drop :amd64
		if named, ok := real[path]; ok {
			owners[named] = pkg
		}
	}
	return owners
}

// aptClosure is pkgs with every package they depend on, recursively
// (alternatives included).
func aptClosure(t *testing.T, pkgs []string) map[string]bool {
	t.Helper()
	args := append([]string{"depends", "--recurse", "--no-recommends", "--no-suggests", "--no-conflicts",
		"--no-breaks", "--no-replaces", "--no-enhances"}, pkgs...)
	out, err := exec.Command("apt-cache", args...).Output()
	if err != nil {
		t.Fatalf("apt-cache depends %v: %v", pkgs, err)
	}
	set := map[string]bool{}
	for line := range strings.Lines(string(out)) {
		if line != "" && line[0] != ' ' {
			name, _, _ := strings.Cut(strings.TrimSpace(line), ":")
			set[name] = true
		}
	}
	for _, p := range pkgs {
		if !set[p] {
			t.Fatalf("apt-cache knows no package %q (a name in the runtime stage)", p)
		}
	}
	return set
}
