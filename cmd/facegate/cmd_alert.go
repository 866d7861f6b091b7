package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/facegate/facegate/gate/alert"
	"github.com/facegate/facegate/storage"
)

// alertUsage is `facegate alert`'s help.
const alertUsage = `facegate alert show                 the stored alert configuration (an example when there is none)
facegate alert set FILE             check FILE (JSON, "-" for stdin) and store it; the running appliance applies it at once
facegate alert test [--to ADDR,…]   send a test mail through the configured server (default: every recipient it names)
`

var alertSubcommands = []string{"show", "set", "test"}

func init() {
	commands["alert"] = func(ctx context.Context, args []string, stdout, stderr io.Writer) error {
		return cmdAlert(ctx, args, os.Stdin, stdout, stderr)
	}
}

// cmdAlert shows, stores and tries out the alert configuration (package
// gate/alert); a stored change is audited as "cli".
func cmdAlert(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	if len(args) == 0 || !slices.Contains(alertSubcommands, args[0]) {
		fmt.Fprint(stderr, alertUsage)
		return usageError{"alert needs a subcommand: " + strings.Join(alertSubcommands, ", ")}
	}
	sub := args[0]
	cfg, fs := newFlags("alert " + sub)
	to := fs.String("to", "", "comma-separated addresses for the test mail (default: every recipient of the configuration)")
	if err := parseFlags(fs, args[1:]); err != nil {
		return err
	}
	var file string
	if rest := fs.Args(); len(rest) > 0 { // flags may follow FILE too
		file = rest[0]
		if err := parseFlags(fs, rest[1:]); err != nil {
			return err
		}
	}
	if err := cfg.Validate(); err != nil {
		return err
	}
	if (sub == "set") != (file != "") || fs.NArg() > 0 {
		return usageError{"alert set takes one FILE (JSON; - for stdin), show and test none; 'facegate alert show' prints an example"}
	}
	db, err := storage.Open(cfg.DB, storage.Options{KeyDir: cfg.KeyDir})
	if err != nil {
		return err
	}
	defer db.Close()
	r := &storage.Recorder{DB: db, Snapshots: cfg.Snapshots(), Keys: db.Keys}
	switch sub {
	case "set":
		return setAlerts(r, file, stdin, stdout, stderr)
	case "test":
		return testAlertMail(ctx, db, splitComma(*to), stdout)
	}
	return showAlerts(db, stdout)
}

func showAlerts(db *storage.DB, stdout io.Writer) error {
	body, found, err := db.Document(alert.DocumentKey)
	if err != nil {
		return err
	}
	if !found {
		fmt.Fprint(stdout, "No alert configuration is stored. An example to start from (facegate alert set FILE):\n\n"+alert.Example)
		return nil
	}
	fmt.Fprintln(stdout, strings.TrimRight(body, "\n"))
	return nil
}

func setAlerts(r *storage.Recorder, file string, stdin io.Reader, stdout, stderr io.Writer) error {
	var body []byte
	var err error
	if file == "-" {
		body, err = io.ReadAll(stdin)
	} else {
		body, err = os.ReadFile(file)
	}
	if err != nil {
		return fmt.Errorf("alert set: %w", err)
	}
	c, err := alert.Parse(body)
	if err != nil {
		return fmt.Errorf("alert set: %s: %w; nothing stored", file, err)
	}
	if err := r.SaveDocument(alert.DocumentKey, string(body), "cli"); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "alerts: %d rules stored; a running appliance applies them within a second\n", len(c.Rules))
	if c.SMTP == nil {
		fmt.Fprintln(stdout, "alerts: no smtp server: alerts go to the evidence log, webhooks and MQTT only")
	} else if _, err := c.SMTP.Password(); err != nil {
		fmt.Fprintf(stderr, "warning: %v (mails will wait until it is readable)\n", err)
	} else if c.SMTP.Username != "" && c.SMTP.PasswordFile == "" && os.Getenv(alert.PasswordEnv) == "" {
		fmt.Fprintf(stderr, "warning: smtp.username is set but neither smtp.password_file nor $%s: the server will refuse the login\n", alert.PasswordEnv)
	}
	return nil
}

// testAlertMail sends the test mail through the stored configuration.
func testAlertMail(ctx context.Context, db *storage.DB, to []string, stdout io.Writer) error {
	body, found, err := db.Document(alert.DocumentKey)
	if err != nil {
		return err
	}
	if !found {
		return usageError{"alert test: no alert configuration stored (facegate alert set FILE)"}
	}
	c, err := alert.Parse([]byte(body))
	if err != nil {
		return fmt.Errorf("alert test: the stored configuration: %w", err)
	}
	if c.SMTP == nil {
		return usageError{"alert test: the configuration has no smtp server"}
	}
	m := c.TestMessage(time.Now())
	if len(to) > 0 {
		m.To = to
	}
	if len(m.To) == 0 {
		return usageError{"alert test: the configuration names no recipient; pass --to ADDR"}
	}
	if err := c.SMTP.Send(ctx, m); err != nil {
		return fmt.Errorf("alert test: %w", err)
	}
	fmt.Fprintf(stdout, "test mail sent to %s through %s\n", strings.Join(m.To, ", "), c.SMTP.Server)
	return nil
}
