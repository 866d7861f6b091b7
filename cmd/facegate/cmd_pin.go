package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/facegate/facegate/storage"
)

func init() {
	commands["pin"] = func(ctx context.Context, args []string, stdout, stderr io.Writer) error {
		return cmdPIN(args, os.Stdin, stdout, stderr)
	}
}

// cmdPIN sets or clears a person's PIN for face+pin doors, audited as
// "cli". The PIN comes from standard input or FACEGATE_PIN, never from the
// command line (it would stay in the shell's history).
func cmdPIN(args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	if len(args) == 0 || (args[0] != "set" && args[0] != "clear") {
		return usageError{"pin needs a subcommand: set or clear (facegate pin set --employee-id ID)"}
	}
	sub := args[0]
	cfg, fs := newFlags("pin " + sub)
	empID := fs.String("employee-id", "", "the person's employee ID")
	if err := parseFlags(fs, args[1:]); err != nil {
		return err
	}
	if err := cfg.Validate(); err != nil {
		return err
	}
	if *empID == "" {
		return usageError{"pin " + sub + " needs --employee-id"}
	}
	db, err := storage.Open(cfg.DB, storage.Options{KeyDir: cfg.KeyDir})
	if err != nil {
		return err
	}
	defer db.Close()
	if err := db.CheckNotJoined(); err != nil {
		return fmt.Errorf("pin %s: %w", sub, err)
	}
	p, err := db.PersonByEmployeeID(*empID)
	if err != nil {
		return fmt.Errorf("pin %s: %s: %w", sub, *empID, err)
	}
	if sub == "clear" {
		err = db.ClearPIN(p.ID)
	} else {
		err = setPIN(db, p, stdin, stderr)
	}
	if err != nil {
		return err
	}
	r := &storage.Recorder{DB: db, Snapshots: cfg.Snapshots(), Keys: db.Keys}
	if _, err := r.Audit("cli", "pin_"+sub, map[string]any{"employee_id": p.EmployeeID}); err != nil {
		return fmt.Errorf("done, but not audited: %w", err)
	}
	fmt.Fprintf(stdout, "PIN %s for %s (%s)\n", map[string]string{"set": "set", "clear": "cleared"}[sub], p.Name, p.EmployeeID)
	return nil
}

func setPIN(db *storage.DB, p storage.Person, stdin io.Reader, stderr io.Writer) error {
	pin, ok := os.LookupEnv("FACEGATE_PIN")
	if !ok {
		fmt.Fprintf(stderr, "PIN for %s (%d to %d digits): ", p.Name, storage.MinPINLen, storage.MaxPINLen)
		line, err := bufio.NewReader(stdin).ReadString('\n')
		if err != nil && line == "" {
			return fmt.Errorf("no PIN given on standard input: %w", err)
		}
		pin = strings.TrimSpace(line)
	}
	return db.SetPIN(p.ID, pin)
}
