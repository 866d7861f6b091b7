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

// cmdAdmin manages web users. The password is read from
// FACEGATE_ADMIN_PASSWORD or standard input, never from a flag (flags end
// up in shell history and process lists).
func cmdAdmin(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	if len(args) == 0 || (args[0] != "create" && args[0] != "token" && args[0] != "totp") {
		return usageError{"admin needs a subcommand: create, token or totp"}
	}
	cfg, fs := newFlags("admin " + args[0])
	user := fs.String("username", "", "web user name")
	role := fs.String("role", storage.RoleAdmin, "admin, investigator or viewer")
	if err := parseFlags(fs, args[1:]); err != nil {
		return err
	}
	if err := cfg.Validate(); err != nil {
		return err
	}
	if *user == "" {
		return usageError{"admin " + args[0] + " needs --username"}
	}
	db, err := storage.Open(cfg.DB, storage.Options{KeyDir: cfg.KeyDir})
	if err != nil {
		return err
	}
	defer db.Close()
	r := &storage.Recorder{DB: db, Snapshots: cfg.Snapshots(), Keys: db.Keys}
	if args[0] == "totp" {
		u, err := db.EnableTOTP(*user)
		if err != nil {
			return err
		}
		r.Audit("cli", "totp_enabled", map[string]any{"username": *user})
		fmt.Fprintf(stdout, "TOTP enabled for %s: add this to an authenticator app, then log in with its 6-digit code:\n%s\n", *user, u)
		return nil
	}
	if args[0] == "token" {
		t, err := db.CreateAPIToken(*user)
		if err != nil {
			return err
		}
		r.Audit("cli", "api_token_created", map[string]any{"username": *user})
		fmt.Fprintf(stdout, "%s\n(shown once: send it as \"Authorization: Bearer <token>\")\n", t)
		return nil
	}
	pw, ok := os.LookupEnv("FACEGATE_ADMIN_PASSWORD")
	if !ok {
		fmt.Fprintf(stderr, "password for %s (at least %d characters): ", *user, storage.MinPasswordLen)
		line, err := bufio.NewReader(stdin).ReadString('\n')
		if err != nil && line == "" {
			return fmt.Errorf("no password given on standard input: %w", err)
		}
		pw = strings.TrimRight(line, "\r\n")
	}
	if err := db.CreateUser(*user, pw, *role); err != nil {
		return err
	}
	r.Audit("cli", "web_user_created", map[string]any{"username": *user, "role": *role})
	fmt.Fprintf(stdout, "created %s user %s\n", *role, *user)
	return nil
}
