package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/facegate/facegate/gate/notify"
	"github.com/facegate/facegate/storage"
)

// webhookUsage is `facegate webhook`'s help; every change is audited as "cli".
const webhookUsage = `facegate webhook add --url U [--kinds K,…] [--doors D,…] [--secret-file F] [--ca-file F] [--allow-http]
                                          subscribe a receiver (prints a generated secret when none is given)
facegate webhook list                     subscriptions, their cursors and last attempts
facegate webhook remove --id N            delete a subscription and its delivery log
facegate webhook disable|enable --id N    pause or resume (a resumed one gets what it missed)
facegate webhook test --id N              send a signed test payload now and print the answer
facegate webhook log [--id N] [--limit N] delivery attempts, newest first
`

var webhookSubcommands = []string{"add", "list", "remove", "disable", "enable", "test", "log"}

func init() {
	commands["webhook"] = cmdWebhook
}

// webhookFlags are the flags of every webhook subcommand.
type webhookFlags struct {
	url, kinds, doors, secretFile, caFile string
	allowHTTP                             bool
	id                                    int64
	limit                                 int
}

// cmdWebhook manages webhook subscriptions from the appliance's shell; the
// running appliance picks changes up within a second.
func cmdWebhook(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || !slices.Contains(webhookSubcommands, args[0]) {
		fmt.Fprint(stderr, webhookUsage)
		return usageError{"webhook needs a subcommand: " + strings.Join(webhookSubcommands, ", ")}
	}
	sub := args[0]
	cfg, fs := newFlags("webhook " + sub)
	var f webhookFlags
	fs.StringVar(&f.url, "url", "", "receiver URL (https://…; http:// only to a loopback address with --allow-http)")
	fs.StringVar(&f.kinds, "kinds", "", "comma-separated event kinds to send (default every kind): "+strings.Join(storage.WebhookKinds, ", "))
	fs.StringVar(&f.doors, "doors", "", "comma-separated door IDs whose events to send (default every door)")
	fs.StringVar(&f.secretFile, "secret-file", "", "file holding the signing secret (default: generate one and print it)")
	fs.StringVar(&f.caFile, "ca-file", "", "PEM CA certificate that alone is trusted for this receiver (a private CA; default: the system's CAs)")
	fs.BoolVar(&f.allowHTTP, "allow-http", false, "allow plain http:// to a loopback address (a receiver on this machine)")
	fs.Int64Var(&f.id, "id", 0, "subscription id (see 'webhook list')")
	fs.IntVar(&f.limit, "limit", 50, "attempts to list (log)")
	if err := parseFlags(fs, args[1:]); err != nil {
		return err
	}
	if err := cfg.Validate(); err != nil {
		return err
	}
	if f.id == 0 && slices.Contains([]string{"remove", "disable", "enable", "test"}, sub) {
		return usageError{"webhook " + sub + " needs --id (see 'facegate webhook list')"}
	}
	db, err := storage.Open(cfg.DB, storage.Options{KeyDir: cfg.KeyDir})
	if err != nil {
		return err
	}
	defer db.Close()
	r := &storage.Recorder{DB: db, Snapshots: cfg.Snapshots(), Keys: db.Keys}
	return runWebhook(ctx, sub, f, r, stdout)
}

func runWebhook(ctx context.Context, sub string, f webhookFlags, r *storage.Recorder, stdout io.Writer) error {
	db := r.DB
	var err error
	detail := map[string]any{"id": f.id}
	switch sub {
	case "add":
		return addWebhook(f, r, stdout)
	case "list":
		return listWebhooks(db, stdout)
	case "log":
		return webhookLog(db, f.id, f.limit, stdout)
	case "test":
		return testWebhook(ctx, db, f.id, stdout)
	case "remove":
		var w storage.Webhook
		if w, err = db.WebhookByID(f.id); err == nil {
			detail["url"] = w.URL
			err = db.RemoveWebhook(f.id)
		}
	case "disable", "enable":
		err = db.SetWebhookEnabled(f.id, sub == "enable")
	}
	if err != nil {
		return err
	}
	if _, err := r.Audit("cli", "webhook_"+sub+"d", detail); err != nil {
		return fmt.Errorf("done, but not audited: %w", err)
	}
	fmt.Fprintf(stdout, "webhook %d: %sd\n", f.id, sub)
	return nil
}

func addWebhook(f webhookFlags, r *storage.Recorder, stdout io.Writer) error {
	if f.url == "" {
		return usageError{"webhook add needs --url"}
	}
	w := storage.Webhook{URL: f.url, Kinds: splitComma(f.kinds), Doors: splitComma(f.doors), Enabled: true, AllowHTTP: f.allowHTTP}
	generated := f.secretFile == ""
	if generated {
		w.Secret = "whsec_" + storage.RandomToken()
	} else {
		b, err := os.ReadFile(f.secretFile)
		if err != nil {
			return fmt.Errorf("webhook add: --secret-file: %w", err)
		}
		w.Secret = strings.TrimSpace(string(b))
	}
	if f.caFile != "" {
		b, err := os.ReadFile(f.caFile)
		if err != nil {
			return fmt.Errorf("webhook add: --ca-file: %w", err)
		}
		w.CACert = string(b)
	}
	w, err := r.DB.AddWebhook(w)
	if err != nil {
		return err
	}
	detail := map[string]any{"id": w.ID, "url": w.URL, "kinds": w.Kinds, "doors": w.Doors, "allow_http": w.AllowHTTP, "own_ca": w.CACert != ""}
	if _, err := r.Audit("cli", "webhook_added", detail); err != nil {
		return fmt.Errorf("added, but not audited: %w", err)
	}
	fmt.Fprintf(stdout, "webhook %d added: events from seq %d on go to %s\n", w.ID, w.Cursor+1, w.URL)
	if generated {
		fmt.Fprintf(stdout, "secret (shown once; the receiver checks %s with it): %s\n", notify.SignatureHeader, w.Secret)
	}
	return nil
}

func splitComma(s string) []string {
	var out []string
	for p := range strings.SplitSeq(s, ",") {
		if p = strings.TrimSpace(p); p != "" && !slices.Contains(out, p) {
			out = append(out, p)
		}
	}
	return out
}

func listWebhooks(db *storage.DB, stdout io.Writer) error {
	subs, err := db.Webhooks()
	if err != nil {
		return err
	}
	head, err := db.EventCount()
	if err != nil {
		return err
	}
	w := tabwriter.NewWriter(stdout, 2, 4, 2, ' ', 0)
	fmt.Fprintln(w, "ID\tURL\tKINDS\tDOORS\tSTATE\tCURSOR\tLAST ATTEMPT")
	for _, s := range subs {
		state := map[bool]string{true: "enabled", false: "disabled"}[s.Enabled]
		last := "none"
		if log, err := db.WebhookDeliveries(s.ID, 1); err == nil && len(log) == 1 {
			last = log[0].At().Format(time.RFC3339) + " " + attemptResult(log[0])
		}
		fmt.Fprintf(w, "%d\t%s\t%s\t%s\t%s\t%d/%d\t%s\n", s.ID, s.URL, orAll(s.Kinds), orAll(s.Doors), state, s.Cursor, head, last)
	}
	return w.Flush()
}

func orAll(l []string) string {
	if len(l) == 0 {
		return "all"
	}
	return strings.Join(l, ",")
}

func attemptResult(d storage.WebhookDelivery) string {
	if d.OK() {
		return fmt.Sprintf("HTTP %d", d.Status)
	}
	return "failed: " + d.Error
}

func testWebhook(ctx context.Context, db *storage.DB, id int64, stdout io.Writer) error {
	w, err := db.WebhookByID(id)
	if err != nil {
		return err
	}
	d := notify.New(db, notify.Options{}).SendTest(ctx, w)
	took := time.Duration(d.DurationMicro) * time.Microsecond
	if !d.OK() {
		return fmt.Errorf("webhook %d: test delivery to %s %s after %s", id, w.URL, attemptResult(d), took.Round(time.Millisecond))
	}
	fmt.Fprintf(stdout, "webhook %d: test delivered to %s: HTTP %d in %s\n", id, w.URL, d.Status, took.Round(time.Millisecond))
	return nil
}

func webhookLog(db *storage.DB, id int64, limit int, stdout io.Writer) error {
	log, err := db.WebhookDeliveries(id, limit)
	if err != nil {
		return err
	}
	w := tabwriter.NewWriter(stdout, 2, 4, 2, ' ', 0)
	fmt.Fprintln(w, "TIME\tWEBHOOK\tSEQ\tATTEMPT\tRESULT\tDURATION")
	for _, d := range log {
		seq := fmt.Sprint(d.Seq)
		if d.Seq == 0 {
			seq = "test"
		}
		fmt.Fprintf(w, "%s\t%d\t%s\t%d\t%s\t%s\n", d.At().Format(time.RFC3339), d.SubscriptionID, seq, d.Attempt,
			attemptResult(d), (time.Duration(d.DurationMicro) * time.Microsecond).Round(time.Millisecond))
	}
	return w.Flush()
}
