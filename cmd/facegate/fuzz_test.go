package main

import (
	"errors"
	"flag"
	"strings"
	"testing"
)

// FuzzConfig: any command line and environment value is either accepted
// and valid, or refused with an error; nothing panics.
func FuzzConfig(f *testing.F) {
	f.Add("--threshold 0.4 --margin 0.05", "0.5")
	f.Add("--log-level loud", "")
	f.Add("--data-dir", "-1")
	f.Add("--threshold=NaN", "Inf")
	f.Fuzz(func(t *testing.T, args, env string) {
		if strings.ContainsRune(env, 0) {
			return // no environment can hold a NUL byte
		}
		t.Setenv("FACEGATE_MARGIN", env)
		cfg := defaultConfig()
		fs := flag.NewFlagSet("fuzz", flag.ContinueOnError)
		cfg.register(fs)
		if err := parseFlags(fs, strings.Fields(args)); err != nil {
			var u usageError
			if !errors.As(err, &u) && !errors.Is(err, flag.ErrHelp) {
				t.Fatalf("parse error of type %T: %v", err, err)
			}
			return
		}
		if err := cfg.Validate(); err == nil {
			if r := cfg.Rule(); !(r.Threshold > 0 && r.Threshold <= 1.2) || !(r.MinMargin >= 0 && r.MinMargin < r.Threshold) {
				t.Fatalf("invalid rule accepted: %+v", r)
			}
		}
	})
}
