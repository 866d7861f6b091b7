// Command facegate is the face-recognition gate appliance: one binary with
// subcommands for models, enrolment, identification, evidence (verify,
// export, erase), web users, benchmarks, the appliance itself (serve) and a
// site's central (central, central join-token, central verify).
// Every flag has a FACEGATE_ environment twin.
//
// It only parses flags and calls packages: the running appliance is
// cmd/internal/appliance, the central cmd/internal/central, and no rule of
// the product lives here.
package main
