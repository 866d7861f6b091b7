// Package alert turns events of the evidence log into alerts that reach a
// person. The configuration is the storage document "alerts" (JSON, see
// Config and Example; Parse says what to fix in a wrong one): rules of five
// kinds (an entry outside the person's usual hours, an unknown face, a
// door held open, tailgating, N denials within M seconds at a door), each
// limited to some doors and with its own recipients, an SMTP server, the
// language of the mails (en or ja) and an optional daily digest.
//
// An alert is itself an event: a Service's engine reads its door's events
// after its own cursor, evaluates the rules (Config.Evaluate, pure: the
// event, its History and the site zone decide) and appends a storage.KindAlert
// event (Code the rule kind, Rule its name, Detail the Alert as JSON with the
// triggering seq). Webhooks and MQTT deliver alerts like any event. An
// alert's seq is always above its trigger's, so after a crash between an
// append and the cursor's save the engine finds the alerts past its cursor
// and skips them: each (trigger, rule) fires once.
//
// The mailer sends each alert event of the door from its own cursor, one
// mail each over STARTTLS or TLS (never plain), retried with
// notify.Backoff until the server accepts it, so a server down for an
// hour delays mails but loses none (a crash between the server's
// acceptance and the cursor's save sends that one mail again, with the
// same Message-ID). The digest is sent once a day at the configured local
// time with the previous day's entries, denials, unknown faces and alerts
// per door; the "digest" cursor holds the day it was last sent on.
package alert
