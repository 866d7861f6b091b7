package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/facegate/facegate/storage"
)

// userUsage is `facegate user`'s help; every change is audited as "cli".
const userUsage = `facegate user list                                   web users, their roles, state and API tokens
facegate user disable|enable --username U            stop or restore a user's logins, sessions and tokens
facegate user role --username U --role R             admin, investigator or viewer (takes effect at once)
facegate user reset-password --username U            new password from stdin or FACEGATE_ADMIN_PASSWORD
facegate user revoke-token --id N                    revoke an API token (ids in 'user list')
`

var userSubcommands = []string{"list", "disable", "enable", "role", "reset-password", "revoke-token"}

func init() {
	commands["user"] = func(ctx context.Context, args []string, stdout, stderr io.Writer) error {
		return cmdUser(ctx, args, os.Stdin, stdout, stderr)
	}
}

// cmdUser manages web users' lifecycle from the appliance's shell.
func cmdUser(_ context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	if len(args) == 0 || !slices.Contains(userSubcommands, args[0]) {
		fmt.Fprint(stderr, userUsage)
		return usageError{"user needs a subcommand: " + strings.Join(userSubcommands, ", ")}
	}
	sub := args[0]
	cfg, fs := newFlags("user " + sub)
	user := fs.String("username", "", "web user name")
	role := fs.String("role", "", "admin, investigator or viewer")
	id := fs.Int64("id", 0, "API token id (revoke-token)")
	if err := parseFlags(fs, args[1:]); err != nil {
		return err
	}
	if err := cfg.Validate(); err != nil {
		return err
	}
	if *user == "" && sub != "list" && sub != "revoke-token" {
		return usageError{"user " + sub + " needs --username"}
	}
	db, err := storage.Open(cfg.DB, storage.Options{KeyDir: cfg.KeyDir})
	if err != nil {
		return err
	}
	defer db.Close()
	r := &storage.Recorder{DB: db, Snapshots: cfg.Snapshots(), Keys: db.Keys}
	detail := map[string]any{"username": *user}
	switch sub {
	case "list":
		return listUsers(db, stdout)
	case "disable", "enable":
		err = db.SetUserDisabled(*user, sub == "disable")
	case "role":
		err = db.SetUserRole(*user, *role)
		detail["role"] = *role
	case "reset-password":
		err = resetPassword(db, *user, stdin, stderr)
	case "revoke-token":
		var t storage.TokenInfo
		t, err = db.RevokeAPIToken(*id, "")
		detail = map[string]any{"id": *id, "username": t.Username, "name": t.Name}
	}
	if err != nil {
		return err
	}
	if _, err := r.Audit("cli", cliAudit[sub], detail); err != nil {
		return fmt.Errorf("done, but not audited: %w", err)
	}
	fmt.Fprintf(stdout, "%s: done\n", sub)
	return nil
}

var cliAudit = map[string]string{"disable": "user_disabled", "enable": "user_enabled", "role": "user_role_changed",
	"reset-password": "password_reset", "revoke-token": "api_token_revoked"}

func resetPassword(db *storage.DB, user string, stdin io.Reader, stderr io.Writer) error {
	pw, ok := os.LookupEnv("FACEGATE_ADMIN_PASSWORD")
	if !ok {
		fmt.Fprintf(stderr, "new password for %s (at least %d characters): ", user, storage.MinPasswordLen)
		line, err := bufio.NewReader(stdin).ReadString('\n')
		if err != nil && line == "" {
			return fmt.Errorf("no password given on standard input: %w", err)
		}
		pw = strings.TrimRight(line, "\r\n")
	}
	return db.SetPassword(user, pw)
}

func listUsers(db *storage.DB, stdout io.Writer) error {
	users, err := db.ListUsers()
	if err != nil {
		return err
	}
	toks, err := db.APITokens("")
	if err != nil {
		return err
	}
	w := tabwriter.NewWriter(stdout, 2, 4, 2, ' ', 0)
	fmt.Fprintln(w, "USER\tROLE\tSTATE\tTOTP\tCREATED")
	for _, u := range users {
		state, totp := "enabled", ""
		if u.Disabled {
			state = "disabled"
		}
		if u.TOTPSecret != "" {
			totp = "yes"
		}
		fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\n", u.Username, u.Role, state, totp, u.CreatedAt.Format(time.DateOnly))
	}
	fmt.Fprintln(w, "\nTOKEN\tUSER\tNAME\tEXPIRES\t")
	for _, t := range toks {
		fmt.Fprintf(w, "%d\t%s\t%s\t%s\t\n", t.ID, t.Username, t.Name, t.ExpiresAt.UTC().Format(time.RFC3339))
	}
	return w.Flush()
}
