package appliance

import (
	"context"
	"fmt"
	"os"

	"github.com/facegate/facegate/gate/notify"
)

// deliverWebhooks posts the evidence log to the webhook subscriptions
// (`facegate webhook add`) until ctx ends. It reads the log, writes only
// its own rows (cursors, leases, delivery log) and runs beside the door:
// a receiver that is down never delays a decision.
// Signatures use the wall clock (time.Now), not Config.Now: a receiver
// checks their timestamps against its own clock.
//
// The lease owner is the door and host: stable across restarts, so a gate
// back from a crash resumes at once, and distinct per gate on a shared log.
func (a *Appliance) deliverWebhooks(ctx context.Context) {
	host, _ := os.Hostname()
	owner := fmt.Sprintf("door:%.40s@%.50s", a.cfg.Door, host)
	notify.New(a.db, notify.Options{Location: a.cfg.loc, Log: a.log, Owner: owner}).Run(ctx)
}
