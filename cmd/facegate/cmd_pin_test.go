package main

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/facegate/facegate/storage"
)

func TestPINCommand(t *testing.T) {
	data := t.TempDir()
	db, err := storage.Open(filepath.Join(data, "facegate.db"), storage.Options{KeyDir: filepath.Join(data, "keys")})
	if err != nil {
		t.Fatal(err)
	}
	p, err := db.Enroll("E1", "Ann", []storage.NewTemplate{{ModelVersion: "m"}})
	db.Close()
	if err != nil {
		t.Fatal(err)
	}
	t.Setenv("FACEGATE_PIN", "") // restored after the test
	os.Unsetenv("FACEGATE_PIN")  // the PIN comes from stdin
	pin := func(stdin string, args ...string) (string, error) {
		var out, errb bytes.Buffer
		err := cmdPIN(append(args, "--data-dir", data), strings.NewReader(stdin), &out, &errb)
		return out.String(), err
	}
	if _, err := pin("", "set"); err == nil || !strings.Contains(err.Error(), "--employee-id") {
		t.Fatalf("no employee ID: %v", err)
	}
	if _, err := pin("2468\n", "set", "--employee-id", "E404"); !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("unknown person: %v", err)
	}
	if _, err := pin("1111\n", "set", "--employee-id", "E1"); !errors.Is(err, storage.ErrBadPIN) {
		t.Fatalf("weak PIN: %v", err)
	}
	if out, err := pin("2468\n", "set", "--employee-id", "E1"); err != nil || !strings.Contains(out, "PIN set for Ann (E1)") {
		t.Fatalf("set: %q %v", out, err)
	}
	db, err = storage.Open(filepath.Join(data, "facegate.db"), storage.Options{KeyDir: filepath.Join(data, "keys")})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if c, err := db.CheckPIN(p.ID, "2468", time.Now()); err != nil || !c.OK {
		t.Fatalf("stored PIN: %+v %v", c, err)
	}
	if _, err := pin("", "clear", "--employee-id", "E1"); err != nil {
		t.Fatal(err)
	}
	if c, _ := db.CheckPIN(p.ID, "2468", time.Now()); !c.NoPIN {
		t.Fatalf("cleared PIN still there: %+v", c)
	}
	log, _ := db.AuditLog(10)
	if len(log) < 2 || log[0].Code != "pin_clear" || log[1].Code != "pin_set" {
		t.Fatalf("audit: %+v", log)
	}
}

// On a door that takes its people from a central, a PIN set here would be
// overwritten by the central's next change: refused, saying where instead.
func TestPINCommandRefusedOnJoinedDoor(t *testing.T) {
	data := t.TempDir()
	db, err := storage.Open(filepath.Join(data, "facegate.db"), storage.Options{KeyDir: filepath.Join(data, "keys")})
	if err != nil {
		t.Fatal(err)
	}
	p := storage.SitePerson{Person: storage.Person{ID: 1, EmployeeID: "E1", Name: "Ann"}}
	err = db.ApplySiteChanges(storage.SiteChanges{Rev: 7, Full: true, People: []storage.SitePerson{p}})
	db.Close()
	if err != nil {
		t.Fatal(err)
	}
	t.Setenv("FACEGATE_PIN", "2468")
	var out, errb bytes.Buffer
	err = cmdPIN([]string{"set", "--employee-id", "E1", "--data-dir", data}, strings.NewReader(""), &out, &errb)
	if !errors.Is(err, storage.ErrJoinedDoor) || !strings.Contains(err.Error(), "revision 7") {
		t.Fatalf("pin set on a joined door: %v", err)
	}
}
