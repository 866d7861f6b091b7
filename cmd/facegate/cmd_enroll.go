package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/user"
	"path/filepath"
	"strings"

	"github.com/facegate/facegate/gate/identity"
	"github.com/facegate/facegate/storage"
	"github.com/facegate/facegate/vision"
)

// openService opens storage and the recognizer. The caller runs closeFn.
func openService(cfg *Config) (*identity.Service, func(), error) {
	rec, err := vision.OpenEmbedder(cfg.ModelsDir, cfg.Embedder)
	if err != nil {
		return nil, nil, err
	}
	db, err := storage.Open(cfg.DB, storage.Options{KeyDir: cfg.KeyDir})
	if err != nil {
		rec.Close()
		return nil, nil, err
	}
	svc, err := identity.New(db, rec, cfg.Rule())
	if err == nil {
		svc.Photos = cfg.Snapshots()
		err = switchIfNeeded(svc, cfg)
	}
	if err != nil {
		db.Close()
		rec.Close()
		return nil, nil, err
	}
	return svc, func() { db.Close(); rec.Close() }, nil
}

// switchIfNeeded re-derives templates of another descriptor model (an
// upgrade, or a changed --embedder) from the kept enrolment photos, so the
// gallery never silently loses people. If that cannot be done, it says how
// to go on rather than start with a partial gallery.
func switchIfNeeded(svc *identity.Service, cfg *Config) error {
	if svc.SkippedTemplates() == 0 {
		return nil
	}
	if _, err := svc.SwitchModel("facegate: --embedder " + cfg.Embedder); err != nil {
		return fmt.Errorf("%w\n(keep the previous embedder with --embedder dlib, or re-enrol the people named above)", err)
	}
	return nil
}

func cmdEnroll(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	cfg := defaultConfig()
	fs := flag.NewFlagSet("enroll", flag.ContinueOnError)
	cfg.register(fs)
	name := fs.String("name", "", "person's full name")
	empID := fs.String("employee-id", "", "employee ID (unique)")
	confirm := fs.String("confirm", "", "enrol despite a reported conflict (a face of someone else, or photos of two people): the reason, audited")
	fromDir := fs.String("from-dir", "", "enrol every DIR/<person name>/*.jpg|png; the folder name is name and employee ID")
	fs.SetOutput(io.Discard)
	files, err := parseArgs(fs, args)
	if err != nil {
		return err
	}
	if err := cfg.Validate(); err != nil {
		return err
	}
	if *fromDir != "" {
		if *name != "" || *empID != "" || len(files) > 0 {
			return usageError{"--from-dir takes no --name, --employee-id or photos"}
		}
		return enrollDir(ctx, &cfg, *fromDir, stdout, stderr)
	}
	if *name == "" || *empID == "" || len(files) == 0 {
		return usageError{"enroll needs --name, --employee-id and at least one photo (or --from-dir DIR)"}
	}
	svc, closeFn, err := openService(&cfg)
	if err != nil {
		return err
	}
	defer closeFn()
	var photos []identity.Photo
	for _, p := range files {
		ph, err := identity.ReadPhoto(p)
		if err != nil {
			return err
		}
		photos = append(photos, ph)
	}
	res, err := svc.EnrollConfirmed(*empID, *name, photos, cliConfirmation(*confirm))
	if err != nil {
		return err
	}
	printWarnings(stderr, res.Warnings)
	fmt.Fprintf(stdout, "enrolled %s (%s): %d template(s) added\n", res.Person.Name, res.Person.EmployeeID, res.Templates)
	return nil
}

func printWarnings(w io.Writer, ws []identity.Warning) {
	for _, x := range ws {
		fmt.Fprintf(w, "warning: %s: %s\n", x.Photo, x.Message)
	}
}

// enrollDir enrols one person per sub-folder. A refused photo is reported
// and skipped; the person is enrolled from the photos that passed.
func enrollDir(ctx context.Context, cfg *Config, dir string, stdout, stderr io.Writer) error {
	people, total, err := identity.ScanDir(dir)
	if err != nil {
		return fmt.Errorf("--from-dir: %w", err)
	}
	svc, closeFn, err := openService(cfg)
	if err != nil {
		return err
	}
	defer closeFn()
	bar := newProgress(stderr, total)
	r, err := svc.EnrollDir(ctx, people, func(path string) {
		bar.step(filepath.Join(filepath.Base(filepath.Dir(path)), filepath.Base(path)))
	})
	if err != nil {
		return err
	}
	bar.done()
	printWarnings(stderr, r.Warnings)
	fmt.Fprintf(stdout, "enrolled %d people, %d templates from %s\n", r.People, r.Templates, dir)
	if len(r.Refused) > 0 {
		for _, f := range r.Refused {
			fmt.Fprintln(stderr, "refused:", f)
		}
		return fmt.Errorf("%d photo(s) or people refused (see above); the rest is stored", len(r.Refused))
	}
	return nil
}

// progress is a one-line text progress bar.
type progress struct {
	w          io.Writer
	n, total   int
	isTerminal bool
}

func newProgress(w io.Writer, total int) *progress {
	p := &progress{w: w, total: total}
	if f, ok := w.(*os.File); ok {
		if st, err := f.Stat(); err == nil && st.Mode()&os.ModeCharDevice != 0 {
			p.isTerminal = true
		}
	}
	return p
}

const barWidth = 30

func (p *progress) step(label string) {
	p.n++
	filled := barWidth * p.n / p.total
	line := fmt.Sprintf("[%s%s] %d/%d %s", strings.Repeat("=", filled), strings.Repeat(" ", barWidth-filled), p.n, p.total, label)
	if p.isTerminal {
		fmt.Fprintf(p.w, "\r\033[K%s", line)
	} else {
		fmt.Fprintln(p.w, line)
	}
}

func (p *progress) done() {
	if p.isTerminal {
		fmt.Fprintln(p.w)
	}
}

// cliConfirmation is --confirm's reason, audited as the operating-system
// user who gave it; nil without one.
func cliConfirmation(reason string) *identity.Confirmation {
	if strings.TrimSpace(reason) == "" {
		return nil
	}
	by := "cli"
	if u, err := user.Current(); err == nil {
		by = "cli:" + u.Username
	}
	return &identity.Confirmation{By: by, Reason: reason}
}
