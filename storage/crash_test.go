package storage

import (
	"bufio"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

const crashChildEnv = "FACEGATE_CRASH_CHILD"

// TestCrashChild is the child of TestCrashLoseNothingAcknowledged: it
// records events as fast as it can and prints "ack TOKEN" after each
// Record returns, until it is killed.
func TestCrashChild(t *testing.T) {
	spec := os.Getenv(crashChildEnv)
	if spec == "" {
		t.Skip("helper process for TestCrashLoseNothingAcknowledged")
	}
	dir, iter, _ := strings.Cut(spec, "|")
	db, err := Open(filepath.Join(dir, "facegate.db"), Options{KeyDir: filepath.Join(dir, "keys")})
	if err != nil {
		fmt.Println("error", err)
		os.Exit(3)
	}
	r := &Recorder{DB: db, Snapshots: SnapshotStore{Dir: filepath.Join(dir, "snapshots")}, Keys: db.Keys}
	w := bufio.NewWriter(os.Stdout)
	fmt.Fprintln(w, "ready")
	w.Flush()
	for n := 0; ; n++ {
		token := fmt.Sprintf("i%s-n%d", iter, n)
		if _, err := r.Record(Event{Kind: "access_granted", Granted: true, Door: "front", Detail: token},
			[]byte("frame "+token), nil); err != nil {
			fmt.Fprintln(w, "error", err)
			w.Flush()
			os.Exit(3)
		}
		fmt.Fprintln(w, "ack", token)
		w.Flush()
	}
}

// Under load, SIGKILL at random points, 200 times: every event that was
// acknowledged before the kill is present exactly once, and verify passes.
func TestCrashLoseNothingAcknowledged(t *testing.T) {
	const iterations = 200
	dir := t.TempDir()
	rng := rand.New(rand.NewPCG(3, 5))
	acked := map[string]bool{}
	for i := 0; i < iterations; i++ {
		cmd := exec.Command(os.Args[0], "-test.run=^TestCrashChild$")
		cmd.Env = append(os.Environ(), fmt.Sprintf("%s=%s|%d", crashChildEnv, dir, i))
		out, _ := cmd.StdoutPipe()
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		sc := bufio.NewScanner(out)
		if !sc.Scan() || sc.Text() != "ready" {
			cmd.Process.Kill()
			cmd.Wait()
			t.Fatalf("iteration %d: child said %q", i, sc.Text())
		}
		kill := time.AfterFunc(time.Duration(5+rng.IntN(40))*time.Millisecond, func() { cmd.Process.Signal(syscall.SIGKILL) })
		for sc.Scan() {
			line := sc.Text()
			if tok, ok := strings.CutPrefix(line, "ack "); ok {
				acked[tok] = true
			} else if strings.HasPrefix(line, "error") {
				t.Fatalf("iteration %d: %s", i, line)
			}
		}
		kill.Stop()
		cmd.Wait()
	}
	db, err := Open(filepath.Join(dir, "facegate.db"), Options{KeyDir: filepath.Join(dir, "keys")})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var evs []Event
	db.g.Select("detail").Find(&evs)
	seen := map[string]int{}
	for _, e := range evs {
		seen[e.Detail]++
	}
	for tok := range acked {
		if seen[tok] != 1 {
			t.Fatalf("acknowledged event %s present %d times", tok, seen[tok])
		}
	}
	for tok, n := range seen {
		if n != 1 {
			t.Fatalf("event %s present %d times", tok, n)
		}
	}
	rep, err := db.Verify(db.Keys.Public, SnapshotStore{Dir: filepath.Join(dir, "snapshots")})
	if err != nil || !rep.OK() {
		t.Fatalf("verify after crashes: %+v %v", rep.Problems, err)
	}
	if len(acked) < iterations {
		t.Fatalf("only %d events acknowledged in %d runs: the kills came too early to test anything", len(acked), iterations)
	}
	t.Logf("%d kills, %d events acknowledged, %d stored, %d checkpoints, chain verifies", iterations, len(acked), len(evs), rep.Checkpoints)
}
