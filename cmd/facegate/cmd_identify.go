package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"text/tabwriter"

	"github.com/facegate/facegate/gate/identity"
)

func cmdIdentify(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	cfg := defaultConfig()
	fs := flag.NewFlagSet("identify", flag.ContinueOnError)
	cfg.register(fs)
	asJSON := fs.Bool("json", false, "print JSON")
	fs.SetOutput(io.Discard)
	photos, err := parseArgs(fs, args)
	if err != nil {
		return err
	}
	if len(photos) != 1 {
		return usageError{"identify needs exactly one photo"}
	}
	if err := cfg.Validate(); err != nil {
		return err
	}
	svc, closeFn, err := openService(&cfg)
	if err != nil {
		return err
	}
	defer closeFn()
	ph, err := identity.ReadPhoto(photos[0])
	if err != nil {
		return err
	}
	res, err := svc.Identify(ph)
	if err != nil {
		return err
	}
	if *asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(struct {
			Photo     string                `json:"photo"`
			Threshold float64               `json:"threshold"`
			Margin    float64               `json:"margin"`
			Faces     []identity.Identified `json:"faces"`
		}{ph.Name, cfg.Rule().Threshold, cfg.Rule().MinMargin, nonNil(res)})
	}
	fmt.Fprintf(stdout, "%s: %d face(s); threshold %.2f, margin %.2f\n", ph.Name, len(res), cfg.Rule().Threshold, cfg.Rule().MinMargin)
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "#\tBOX\tVERDICT\tBEST MATCH\tDIST\tRUNNER-UP\tDIST\tREASON")
	for i, f := range res {
		fmt.Fprintf(tw, "%d\t%v\t%s\t%s\t%s\t%s\t%s\t%s\n", i+1, f.Box, f.Verdict, name(f.Nearest), dist(f.Distance),
			name(f.RunnerUp), dist(f.RunnerUpD), f.Reason)
	}
	return tw.Flush()
}

func nonNil(r []identity.Identified) []identity.Identified {
	if r == nil {
		return []identity.Identified{}
	}
	return r
}

func name(p *identity.PersonRef) string {
	if p == nil {
		return "-"
	}
	return fmt.Sprintf("%s (%s)", p.Name, p.EmployeeID)
}

func dist(d *float64) string {
	if d == nil {
		return "-"
	}
	return fmt.Sprintf("%.3f", *d)
}
