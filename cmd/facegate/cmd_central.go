package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/facegate/facegate/cmd/internal/appliance"
	"github.com/facegate/facegate/cmd/internal/central"
	"github.com/facegate/facegate/storage"
)

// centralServeFlags are serve's flags for a door of a site.
func centralServeFlags(fs *flag.FlagSet, ac *appliance.Config) {
	fs.StringVar(&ac.Central, "central", "", "the site's central (its --sync-listen address, https://HOST:PORT): pull people and policy, push events (default: none)")
	fs.StringVar(&ac.Join, "join", "", "one-time token from `facegate central join-token --door D`, used once to join the central")
	fs.StringVar(&ac.CentralCA, "central-ca", "", "PEM certificate the central's TLS certificate must chain to (its self-signed one; default: the system's roots)")
	fs.DurationVar(&ac.CentralStale, "central-stale", appliance.DefaultCentralStale, "without an answer from the central for longer, the door says it is offline (status and every event)")
}

// cmdCentral runs a site's central, or one of its subcommands.
func cmdCentral(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) > 0 {
		switch args[0] {
		case "join-token":
			return cmdCentralJoinToken(args[1:], stdout)
		case "verify":
			return cmdCentralVerify(args[1:], stdout)
		case "status":
			return cmdCentralStatus(args[1:], stdout)
		case "revoke":
			return cmdCentralRevoke(args[1:], stdout)
		}
	}
	cfg, fs := newFlags("central")
	var cc central.Config
	fs.StringVar(&cc.Web.Addr, "listen", ":8443", "address of the console (the web app over the site's database; empty: no console)")
	fs.BoolVar(&cc.Web.PlainHTTP, "web-plain-http", false, "serve the console over plain HTTP (loopback only)")
	fs.StringVar(&cc.SyncListen, "sync-listen", ":8444", "address of the doors' sync API")
	fs.StringVar(&cc.SyncCert, "sync-tls-cert", "", "TLS certificate (PEM) of the sync API; without it, plain HTTP on a loopback address only")
	fs.StringVar(&cc.SyncKey, "sync-tls-key", "", "TLS private key (PEM) for --sync-tls-cert")
	fs.DurationVar(&cc.DoorStale, "door-stale", central.DefaultDoorStale, "a door not heard from for longer shows as offline in the console (doors report every second)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if err := cfg.Validate(); err != nil {
		return usageError{"central: " + err.Error()}
	}
	if (cc.SyncCert == "") != (cc.SyncKey == "") {
		return usageError{"central: --sync-tls-cert and --sync-tls-key go together"}
	}
	cc.DataDir, cc.DB, cc.KeyDir, cc.Log = cfg.DataDir, cfg.DB, cfg.KeyDir, cfg.logger(stderr)
	cc.Web.TLSDir = cfg.DataDir + "/tls"
	// With models the console enrols from photos; without, `enroll --db` does.
	if _, err := os.Stat(cfg.ModelsDir); err == nil {
		cc.ModelsDir, cc.Embedder = cfg.ModelsDir, cfg.Embedder
	} else {
		cc.Log.Warn("no models: the console cannot enrol from photos (give --models-dir, or use facegate enroll --db)", "models_dir", cfg.ModelsDir)
	}
	c, err := central.Open(cc)
	if err != nil {
		return err
	}
	defer c.Close()
	return c.Run(ctx)
}

func openCentralDB(cfg *Config) (*storage.DB, error) {
	if err := cfg.Validate(); err != nil {
		return nil, usageError{"central: " + err.Error()}
	}
	return storage.Open(cfg.DB, storage.Options{KeyDir: cfg.KeyDir})
}

// cmdCentralJoinToken prints a one-time token a door joins with.
func cmdCentralJoinToken(args []string, stdout io.Writer) error {
	cfg, fs := newFlags("central join-token")
	door := fs.String("door", "", "the door ID the appliance serves (its --door)")
	ttl := fs.Duration("ttl", 24*time.Hour, "how long the token may be used")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *door == "" || *ttl <= 0 {
		return usageError{"central join-token: --door NAME is required (and --ttl must be positive)"}
	}
	db, err := openCentralDB(cfg)
	if err != nil {
		return err
	}
	defer db.Close()
	tok, err := db.NewOneTimeLink(storage.JoinPurpose, *door, time.Now().Add(*ttl), "cli")
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "%s\n", tok)
	return nil
}

// cmdCentralVerify checks every door's chain as the central holds it,
// lists the alarms, and fails if either found anything.
func cmdCentralVerify(args []string, stdout io.Writer) error {
	cfg, fs := newFlags("central verify")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	db, err := openCentralDB(cfg)
	if err != nil {
		return err
	}
	defer db.Close()
	apps, err := db.Appliances()
	if err != nil {
		return err
	}
	bad := 0
	for _, a := range apps {
		rep, err := db.VerifyAppliance(a.ID, cfg.Snapshots())
		if err != nil {
			return err
		}
		alarms, err := db.SiteAlarms(a.ID)
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "door %s (appliance %d): %d events, %d signed heads, last verified head %d, %d snapshots checked\n",
			a.Door, a.ID, rep.Events, rep.Checkpoints, rep.LastCheckpoint, rep.Snapshots)
		for _, p := range rep.Problems {
			fmt.Fprintf(stdout, "  PROBLEM at %d: %s\n", p.Seq, p.What)
		}
		for _, al := range alarms {
			fmt.Fprintf(stdout, "  ALARM %s at %d (%s): %s\n", al.Code, al.Seq, time.UnixMicro(al.AtMicro).UTC().Format(time.RFC3339), al.What)
		}
		bad += len(rep.Problems) + len(alarms)
	}
	if bad > 0 {
		return errors.New("central verify: problems or alarms found (listed above)")
	}
	fmt.Fprintf(stdout, "OK: %d doors, every chain intact, no alarms\n", len(apps))
	return nil
}

// cmdCentralStatus lists the doors: last contact, how far their chain is
// here against what they report (the backlog), revision, alarms.
func cmdCentralStatus(args []string, stdout io.Writer) error {
	cfg, fs := newFlags("central status")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	db, err := openCentralDB(cfg)
	if err != nil {
		return err
	}
	defer db.Close()
	apps, err := db.Appliances()
	if err != nil {
		return err
	}
	rev, err := db.SiteRevision()
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "site revision %d, %d doors\n", rev, len(apps))
	for _, a := range apps {
		alarms, err := db.SiteAlarms(a.ID)
		if err != nil {
			return err
		}
		seen := time.Since(time.UnixMicro(a.LastSeenMicro)).Round(time.Second)
		fmt.Fprintf(stdout, "%-20s last contact %s ago, %d events here, backlog %d, at revision %d, %d alarms\n",
			a.Door, seen, a.HeadSeq, max(0, a.ReportedSeq-a.HeadSeq), a.PulledRev, len(alarms))
	}
	return nil
}

// cmdCentralRevoke refuses a door's key from now on (a stolen or replaced
// appliance); what it sent stays, and a new one joins with a new token.
func cmdCentralRevoke(args []string, stdout io.Writer) error {
	cfg, fs := newFlags("central revoke")
	door := fs.String("door", "", "the door whose appliance is revoked")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *door == "" {
		return usageError{"central revoke: --door NAME is required"}
	}
	db, err := openCentralDB(cfg)
	if err != nil {
		return err
	}
	defer db.Close()
	n, err := db.RevokeAppliances(*door, time.Now())
	if err != nil {
		return err
	}
	if n == 0 {
		return fmt.Errorf("central revoke: no appliance in service at door %q (see facegate central status)", *door)
	}
	fmt.Fprintf(stdout, "revoked %d appliance key(s) of door %s\n", n, *door)
	return nil
}
