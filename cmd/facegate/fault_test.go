package main

import (
	"context"
	"io"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/facegate/facegate/models/modeltest"
	"github.com/facegate/facegate/storage"
)

const enrolChildEnv = "FACEGATE_ENROL_CHILD"

// TestEnrolChild enrols one person from three photos into the data dir
// named in its environment; the parent kills it at random points.
func TestEnrolChild(t *testing.T) {
	spec := os.Getenv(enrolChildEnv)
	if spec == "" {
		t.Skip("helper process for TestKilledDuringEnrolmentLeavesNoHalfPerson")
	}
	data, models, _ := strings.Cut(spec, "|")
	err := run(context.Background(), []string{"enroll", "--name", "Barack Obama", "--employee-id", "E-KILL",
		"--data-dir", data, "--models-dir", models,
		modeltest.Face(t, "obama.jpg"), modeltest.Face(t, "obama2.jpg"), modeltest.Face(t, "obama3.jpg")}, io.Discard, io.Discard)
	if err != nil {
		os.Exit(3)
	}
	os.Exit(0)
}

// templatesOf counts E-KILL's templates in a finished enrolment's data dir.
func templatesOf(t *testing.T, data string) int64 {
	t.Helper()
	db, err := storage.Open(filepath.Join(data, "facegate.db"), storage.Options{KeyDir: filepath.Join(data, "keys")})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	p, err := db.PersonByEmployeeID("E-KILL")
	if err != nil {
		t.Fatalf("unkilled enrolment stored nobody: %v", err)
	}
	n, _ := db.CountTemplates(p.ID)
	return n
}

// Killed at any point, enrolment leaves either nobody or the whole person
// with every template, and the database still opens and verifies.
func TestKilledDuringEnrolmentLeavesNoHalfPerson(t *testing.T) {
	const iterations = 25
	models := modeltest.ModelsDir(t)
	rng := rand.New(rand.NewPCG(9, 9))
	// Calibrate: how long does a whole enrolment take on this machine now?
	calibDir := t.TempDir()
	calib := exec.Command(os.Args[0], "-test.run=^TestEnrolChild$")
	calib.Env = append(os.Environ(), enrolChildEnv+"="+calibDir+"|"+models)
	start := time.Now()
	if err := calib.Run(); err != nil {
		t.Fatalf("an unkilled enrolment fails: %v", err)
	}
	full := time.Since(start)
	// The whole person: dlib stores a template per photo, cosine models one
	// mean template; the unkilled run says how many.
	want := templatesOf(t, calibDir)
	complete, absent := 0, 0
	for i := 0; i < iterations; i++ {
		data := t.TempDir()
		cmd := exec.Command(os.Args[0], "-test.run=^TestEnrolChild$")
		cmd.Env = append(os.Environ(), enrolChildEnv+"="+data+"|"+models)
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		// Kill anywhere from early start-up to just after the end.
		at := time.Duration(float64(full) * (0.2 + rng.Float64()))
		time.AfterFunc(at, func() { cmd.Process.Signal(syscall.SIGKILL) })
		cmd.Wait()
		if _, err := os.Stat(filepath.Join(data, "facegate.db")); err != nil {
			absent++ // killed before the database was created
			continue
		}
		db, err := storage.Open(filepath.Join(data, "facegate.db"), storage.Options{KeyDir: filepath.Join(data, "keys")})
		if err != nil {
			t.Fatalf("iteration %d: database does not open after the kill: %v", i, err)
		}
		p, err := db.PersonByEmployeeID("E-KILL")
		switch {
		case err != nil:
			absent++
		default:
			n, _ := db.CountTemplates(p.ID)
			if n != want {
				db.Close()
				t.Fatalf("iteration %d: half-enrolled person with %d of %d templates", i, n, want)
			}
			if _, _, err := db.Templates(""); err != nil {
				t.Fatalf("iteration %d: templates unreadable: %v", i, err)
			}
			complete++
		}
		db.Close()
	}
	if complete == 0 || absent == 0 {
		t.Fatalf("kills not spread: %d complete, %d absent", complete, absent)
	}
	t.Logf("%d kills over a %s enrolment: %d complete, %d with nobody stored, none partial", iterations, full.Round(time.Millisecond), complete, absent)
}
