package gate

import (
	"bufio"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"
)

const childEnv = "FACEGATE_RELAY_CHILD_STATE"

// TestRelayChildProcess is the child of TestRestartLoopNeverLeavesUnlocked:
// it opens the simulated relay (which locks it), says "ready", pulses, says
// "pulsing", and waits to be killed.
func TestRelayChildProcess(t *testing.T) {
	path := os.Getenv(childEnv)
	if path == "" {
		t.Skip("helper process for TestRestartLoopNeverLeavesUnlocked")
	}
	sw, err := OpenFileSwitch(path, nil)
	if err != nil {
		fmt.Println("error", err)
		os.Exit(3)
	}
	r, err := NewSwitchRelay(sw, nil)
	if err != nil {
		fmt.Println("error", err)
		os.Exit(3)
	}
	fmt.Println("ready")
	// Wait for the parent to look at the relay before pulsing it.
	if _, err := bufio.NewReader(os.Stdin).ReadString('\n'); err != nil {
		os.Exit(5)
	}
	if err := r.Pulse(5 * time.Second); err != nil {
		fmt.Println("error", err)
		os.Exit(3)
	}
	fmt.Println("pulsing")
	time.Sleep(time.Minute)
	os.Exit(4) // never reached: the parent kills us
}

// Start, pulse, SIGKILL at a random point (before, during or after the
// unlock), restart: the relay must be locked as soon as the new process is
// up, and no process may ever unlock more than the one pulse it was asked for.
func TestRestartLoopNeverLeavesUnlocked(t *testing.T) {
	const iterations = 200
	path := t.TempDir() + "/relay-state"
	rng := rand.New(rand.NewPCG(7, 11))
	unlockedAtKill := 0
	for i := 0; i < iterations; i++ {
		cmd := exec.Command(os.Args[0], "-test.run=^TestRelayChildProcess$")
		cmd.Env = append(os.Environ(), childEnv+"="+path)
		out, _ := cmd.StdoutPipe()
		in, _ := cmd.StdinPipe()
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		lines := bufio.NewScanner(out)
		if !lines.Scan() || lines.Text() != "ready" {
			cmd.Process.Kill()
			t.Fatalf("iteration %d: child said %q", i, lines.Text())
		}
		// Restarted and ready: whatever the previous process left, the
		// relay is locked now.
		if on, err := ReadFileSwitch(path); err != nil || on {
			cmd.Process.Kill()
			t.Fatalf("iteration %d: relay %v (err %v) right after restart, want locked", i, on, err)
		}
		in.Write([]byte("go\n"))
		time.Sleep(time.Duration(rng.IntN(3000)) * time.Microsecond)
		cmd.Process.Signal(syscall.SIGKILL)
		cmd.Wait()
		if on, _ := ReadFileSwitch(path); on {
			unlockedAtKill++
		}
	}
	// Per process: the first transition is a lock, and at most one unlock.
	log, err := os.ReadFile(path + ".log")
	if err != nil {
		t.Fatal(err)
	}
	first := map[string]string{}
	unlocks := map[string]int{}
	for _, line := range strings.Split(strings.TrimSpace(string(log)), "\n") {
		f := strings.Fields(line)
		if len(f) != 3 {
			t.Fatalf("bad log line %q", line)
		}
		if _, ok := first[f[1]]; !ok {
			first[f[1]] = f[0]
		}
		if f[0] == "unlocked" {
			unlocks[f[1]]++
		}
	}
	if len(first) != iterations {
		t.Fatalf("%d processes in the log, want %d", len(first), iterations)
	}
	spurious := 0
	for pid, s := range first {
		if s != "locked" {
			t.Errorf("process %s started by %s, want locked", pid, s)
		}
		if unlocks[pid] > 1 {
			spurious += unlocks[pid] - 1
		}
	}
	if spurious != 0 {
		t.Fatalf("%d spurious unlocks", spurious)
	}
	// The kill points must really cover "mid-pulse", or the test proves little.
	if unlockedAtKill == 0 || unlockedAtKill == iterations {
		t.Fatalf("kills hit an unlocked relay %d of %d times: not a spread of kill points", unlockedAtKill, iterations)
	}
	t.Logf("%d iterations, %d killed mid-pulse, 0 spurious unlocks, locked after every restart", iterations, unlockedAtKill)
}
