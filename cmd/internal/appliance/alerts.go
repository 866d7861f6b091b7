package appliance

import (
	"context"

	"github.com/facegate/facegate/gate/alert"
)

// runAlerts runs the alert engine, mailer and daily digest of this door
// (package gate/alert) while the appliance runs. They idle until an alert
// configuration is stored (`facegate alert set FILE`), and pick changes to
// it up within a poll. The digest's day and time follow Config.Now in the
// site's zone.
func (a *Appliance) runAlerts(ctx context.Context) {
	alert.New(alert.Options{Recorder: a.recorder, Door: a.cfg.Door, Location: a.cfg.loc, Log: a.log, Now: a.cfg.Now}).Run(ctx)
}
