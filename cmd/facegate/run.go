package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
)

const usage = `facegate — face-recognition gate appliance

Usage:
  facegate models prepare [--dir DIR] [--from MIRROR]   build and verify the model files
  facegate models verify  [--dir DIR]                   check the model files against the manifest
  facegate enroll --name NAME --employee-id ID PHOTO…   enrol one person from photos
  facegate enroll --from-dir DIR                        enrol DIR/<person name>/*.jpg|png
  facegate eval --calibrate [--target-far 0]            recommend a threshold from the enrolled people's photos
  facegate identify PHOTO [--json]                      identify every face in a photo
  facegate serve                                        run the appliance (demo clip as camera)
  facegate eval DIR… [--model dlib] [--enrol-photos 2] [--target-far 0] [--svg OUTDIR] [--json]
                                                        measure face models on DIR/<person>/*.jpg folders
  facegate bench --source CLIP --enroll PHOTO…          pipeline speed, latency, and the naive loop for comparison
  facegate verify [--bundle FILE --pubkey KEY]          check the event chain, snapshots and signed checkpoints
  facegate export --from DAY --to DAY [--door D] [--person ID] --out bundle.zip
  facegate erase --employee-id ID [--with-snapshots]    erase a person; recorded, the chain still verifies
  facegate admin create --username U [--role R]         create a web user (password from stdin or FACEGATE_ADMIN_PASSWORD)
  facegate admin token --username U                     create a JSON API token (valid 90 days)
  facegate admin totp --username U                      require an authenticator code at this user's login
  facegate user list                                    web users and API tokens
  facegate user disable|enable --username U             stop or restore a user's logins, sessions and tokens
  facegate user role --username U --role R              admin, investigator or viewer
  facegate user reset-password --username U             new password from stdin or FACEGATE_ADMIN_PASSWORD
  facegate user revoke-token --id N                     revoke an API token
  facegate enroll … --confirm REASON                    enrol despite a reported conflict (audited)
  facegate pin set|clear --employee-id ID               a person's PIN for face+pin doors (from stdin or FACEGATE_PIN)
  facegate webhook add|list|test|log|disable|enable|remove   signed webhooks from the evidence log
  facegate alert show|set FILE|test                     alert rules, e-mail and the daily digest (see README, Alerts)
  facegate central --db postgres://… --listen :8443 --sync-listen :8444   run a site's central
  facegate central join-token --door D                  one-time token for a door: serve --central URL --join TOKEN
  facegate central verify                               every door's chain as the central holds it, and its alarms
  facegate central status                               each door: last contact, events, backlog, revision, alarms
  facegate central revoke --door D                      refuse a door's appliance key from now on

Every flag has an environment twin: --models-dir is FACEGATE_MODELS_DIR.
Run 'facegate COMMAND -h' for a command's flags.
`

// usageError marks a mistake in the command line (exit code 2).
type usageError struct{ msg string }

func (e usageError) Error() string { return e.msg }

func exitCode(err error) int {
	var u usageError
	if errors.As(err, &u) || errors.Is(err, flag.ErrHelp) {
		return 2
	}
	return 1
}

// commands are the subcommands with flags of their own.
var commands = map[string]func(ctx context.Context, args []string, stdout, stderr io.Writer) error{
	"enroll":   cmdEnroll,
	"enrol":    cmdEnroll,
	"identify": cmdIdentify,
	"serve":    cmdServe,
	"eval":     cmdEval,
	"bench":    cmdBench,
	"verify":   cmdVerify,
	"export":   cmdExport,
	"erase":    cmdErase,
	"central":  cmdCentral,
	"admin": func(ctx context.Context, args []string, stdout, stderr io.Writer) error {
		return cmdAdmin(ctx, args, os.Stdin, stdout, stderr)
	},
}

// run dispatches a subcommand. It never panics past here: every failure is
// an error with what went wrong and what to do.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return usageError{"no command given"}
	}
	cmd, rest := args[0], args[1:]
	if f, ok := commands[cmd]; ok {
		return f(ctx, rest, stdout, stderr)
	}
	switch cmd {
	case "models":
		if len(rest) == 0 {
			return usageError{"models needs a subcommand: prepare or verify"}
		}
		switch rest[0] {
		case "prepare":
			return cmdModelsPrepare(ctx, rest[1:], stdout, stderr)
		case "verify":
			return cmdModelsVerify(ctx, rest[1:], stdout, stderr)
		}
		return usageError{fmt.Sprintf("unknown models subcommand %q (want prepare or verify)", rest[0])}
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return nil
	}
	fmt.Fprint(stderr, usage)
	return usageError{fmt.Sprintf("unknown command %q", strings.TrimSpace(cmd))}
}
