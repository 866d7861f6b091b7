package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/facegate/facegate/cmd/internal/appliance"
	"github.com/facegate/facegate/models/modeltest"
	"github.com/facegate/facegate/storage"
	"github.com/facegate/facegate/vision"
	"github.com/facegate/facegate/web"
)

// `facegate eval --calibrate` reads the data directory's enrolled people
// (enrolled here with `facegate enroll --from-dir`, which keeps the
// photos) and prints what the Settings page recommends.
func TestEvalCalibrateEnrolled(t *testing.T) {
	td, data := modeltest.Testdata(t), t.TempDir()
	from := t.TempDir()
	for _, p := range []string{"cn101", "cn102", "cn103", "cs1"} {
		if err := os.CopyFS(filepath.Join(from, p), os.DirFS(filepath.Join(td, "faces-eastasia", p))); err != nil {
			t.Fatal(err)
		}
	}
	common := []string{"--data-dir", data, "--models-dir", modeltest.ModelsDir(t)}
	if _, errOut, err := runCmd(t, append([]string{"enroll", "--from-dir", from}, common...)...); err != nil {
		t.Fatalf("%v\n%s", err, errOut)
	}
	out, errOut, err := runCmd(t, append([]string{"eval", "--calibrate", "--json"}, common...)...)
	if err != nil {
		t.Fatalf("%v\n%s", err, errOut)
	}
	var got web.Calibration
	if err := json.Unmarshal([]byte(out), &got); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	want := calibrateDataDir(t, data)
	if got.Threshold != want.Threshold || got.ImpostorPairs != want.ImpostorPairs || got.People != 4 || got.Photos != want.Photos {
		t.Fatalf("eval --calibrate %+v, want %+v", got, want)
	}
	t.Logf("%d people, %d photos: %+v", got.People, got.Photos, got.Calibration)
	out, _, err = runCmd(t, append([]string{"eval", "--calibrate", "--target-far", "0.01"}, common...)...)
	// Fewer than 100 impostor pairs: FAR 0.01 falls back to the smallest
	// impostor distance, the same threshold, with a warning.
	if err != nil || !strings.Contains(out, fmt.Sprintf("recommended threshold %.2f for target FAR 0.01", float64(want.Threshold))) ||
		!strings.Contains(out, "warning: target FAR 0.01 needs at least 100 impostor pairs") ||
		// 0.59 on these four people, above faceplugin's safe maximum 0.445.
		!strings.Contains(out, "faceplugin's calibrated safe range: threshold at most 0.445") ||
		strings.Contains(out, "facegate serve") != (float64(want.Threshold) <= 0.445) {
		t.Fatalf("text output: %v\n%s", err, out)
	}
	if _, _, err := runCmd(t, append([]string{"eval", "--calibrate", from}, common...)...); err == nil || !strings.Contains(err.Error(), "give no folders") {
		t.Fatalf("folders with --calibrate: %v", err)
	}
}

func calibrateDataDir(t *testing.T, data string) web.Calibration {
	t.Helper()
	db, err := storage.Open(filepath.Join(data, "facegate.db"), storage.Options{KeyDir: filepath.Join(data, "keys")})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	emb, err := vision.OpenEmbedder(modeltest.ModelsDir(t), vision.DefaultEmbedderName)
	if err != nil {
		t.Fatal(err)
	}
	defer emb.Close()
	c, err := appliance.CalibrateEnrolled(context.Background(), db, storage.SnapshotStore{Dir: filepath.Join(data, "snapshots")}, emb, 0, 0.02)
	if err != nil {
		t.Fatal(err)
	}
	return c
}
