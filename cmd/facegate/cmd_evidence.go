package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/facegate/facegate/storage"
)

// openRecorder opens the database and the evidence store.
func openRecorder(cfg *Config) (*storage.Recorder, func(), error) {
	db, err := storage.Open(cfg.DB, storage.Options{KeyDir: cfg.KeyDir})
	if err != nil {
		return nil, nil, err
	}
	return &storage.Recorder{DB: db, Snapshots: cfg.Snapshots(), Keys: db.Keys}, func() { db.Close() }, nil
}

func printReport(w io.Writer, rep storage.VerifyReport, asJSON bool) error {
	if asJSON {
		e := json.NewEncoder(w)
		e.SetIndent("", "  ")
		if err := e.Encode(rep); err != nil {
			return err
		}
	} else {
		fmt.Fprintf(w, "%d events, %d checkpoints (last signed at %d), %d redacted by retention or erasure, %d snapshots checked\n",
			rep.Events, rep.Checkpoints, rep.LastCheckpoint, rep.Redacted, rep.Snapshots)
		for _, p := range rep.Problems {
			fmt.Fprintf(w, "  at %d: %s\n", p.Seq, p.What)
		}
	}
	if !rep.OK() {
		return fmt.Errorf("verification FAILED: %d problem(s), first broken position %d", len(rep.Problems), rep.FirstBroken())
	}
	if !asJSON {
		fmt.Fprintln(w, "OK: the log is intact")
	}
	return nil
}

func cmdVerify(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	cfg, fs := newFlags("verify")
	bundle := fs.String("bundle", "", "verify an exported evidence bundle instead of the database")
	pubkey := fs.String("pubkey", "", "the appliance's public key (ed25519:HEX or a file holding it); with --bundle")
	asJSON := fs.Bool("json", false, "print the report as JSON")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if err := cfg.Validate(); err != nil {
		return err
	}
	if *bundle != "" {
		if *pubkey == "" {
			return usageError{"verify --bundle needs --pubkey (the appliance's public key, from its web page or keys/" + storage.PublicKeyFile + ")"}
		}
		pub, err := storage.ParsePublicKey(*pubkey)
		if err != nil {
			return err
		}
		rep, err := storage.VerifyBundle(*bundle, pub)
		if err != nil {
			return err
		}
		return printReport(stdout, rep, *asJSON)
	}
	r, closeFn, err := openRecorder(cfg)
	if err != nil {
		return err
	}
	defer closeFn()
	rep, err := r.DB.Verify(r.Keys.Public, r.Snapshots)
	if err != nil {
		return err
	}
	return printReport(stdout, rep, *asJSON)
}

// parseWhen reads RFC 3339 or YYYY-MM-DD (midnight in loc).
func parseWhen(s string, loc *time.Location) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t, nil
	}
	if t, err := time.ParseInLocation("2006-01-02", s, loc); err == nil {
		return t, nil
	}
	return time.Time{}, fmt.Errorf("time %q: want YYYY-MM-DD or RFC 3339 (2026-11-23T09:00:00+09:00)", s)
}

func cmdExport(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	cfg, fs := newFlags("export")
	from := fs.String("from", "", "first day or instant (inclusive)")
	to := fs.String("to", "", "last day (inclusive) or instant (exclusive)")
	door := fs.String("door", "", "only this door")
	person := fs.String("person", "", "only this employee ID")
	out := fs.String("out", "", "bundle file to write (.zip)")
	siteTZ := fs.String("site-tz", "Local", "time zone of --from/--to dates")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if err := cfg.Validate(); err != nil {
		return err
	}
	if *out == "" {
		return usageError{"export needs --out bundle.zip"}
	}
	loc, err := time.LoadLocation(*siteTZ)
	if err != nil {
		return usageError{err.Error()}
	}
	f := storage.EventFilter{Door: *door}
	if f.From, err = parseWhen(*from, loc); err != nil {
		return usageError{err.Error()}
	}
	if f.To, err = parseWhen(*to, loc); err != nil {
		return usageError{err.Error()}
	}
	if len(*to) == len("2006-01-02") {
		f.To = f.To.AddDate(0, 0, 1) // a day given as --to is included
	}
	r, closeFn, err := openRecorder(cfg)
	if err != nil {
		return err
	}
	defer closeFn()
	if *person != "" {
		p, err := r.DB.PersonByEmployeeID(*person)
		if err != nil {
			return err
		}
		f.PersonID = p.ID
	}
	n, err := r.ExportFile(f, *out)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "exported %d events to %s\nverify with: facegate verify --bundle %s --pubkey %s\n",
		n, *out, *out, storage.PublicKeyString(r.Keys.Public))
	return nil
}

func cmdErase(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	cfg, fs := newFlags("erase")
	emp := fs.String("employee-id", "", "person to erase")
	snaps := fs.Bool("with-snapshots", false, "also delete the snapshots of their entries")
	by := fs.String("by", "cli", "who orders the erasure (recorded)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if err := cfg.Validate(); err != nil {
		return err
	}
	if strings.TrimSpace(*emp) == "" {
		return usageError{"erase needs --employee-id"}
	}
	r, closeFn, err := openRecorder(cfg)
	if err != nil {
		return err
	}
	defer closeFn()
	p, err := r.DB.PersonByEmployeeID(*emp)
	if err != nil {
		return err
	}
	if err := r.ErasePerson(p.ID, *by, *snaps); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "erased %s (%s): templates and enrolment photos deleted, entries redacted%s; the erasure is recorded\n",
		p.Name, p.EmployeeID, map[bool]string{true: ", snapshots deleted", false: ""}[*snaps])
	return nil
}
