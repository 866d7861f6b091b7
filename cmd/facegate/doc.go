// Command facegate is the face-recognition gate appliance: one binary with
// subcommands for models, enrolment, identification, evidence (verify,
// export, erase), web users, benchmarks and the appliance itself (serve).
// Every flag has a FACEGATE_ environment twin.
//
// It only parses flags and calls packages: the running appliance is
// cmd/internal/appliance, and no rule of the product lives here.
package main
