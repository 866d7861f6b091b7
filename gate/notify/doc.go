// Package notify delivers the evidence log to webhook receivers. The log is
// the outbox: each subscription (storage.Webhook: URL, sealed secret, event
// kinds, doors, enabled) keeps a cursor, and a Deliverer posts the events
// after it in seq order, one JSON Payload per event, moving the cursor only
// after a 2xx. A receiver that is down gets its backlog when it is back, a
// restart resumes from the stored cursor, and one subscription's failures
// (retried with Backoff: 1 s doubling to 5 min, jittered) never delay
// another's or the door. Every attempt goes to the delivery log. Gates
// sharing a PostgreSQL log take turns: the one holding a subscription's
// lease (Options.Lease) delivers it.
//
// Each body is signed: X-Facegate-Signature is t=<unix>,v1=<HMAC-SHA256 of
// "<t>." + body>, checked by Verify with a replay window, and
// X-Facegate-Event carries the event's seq as an idempotency key (a
// delivery whose answer was lost is sent again). Each payload also carries
// the newest signed checkpoint, so a receiver can later prove the
// appliance's log was not rewritten.
//
// Only https receivers, with certificates verified against the system's
// roots or the subscription's own CA (http only to a loopback address,
// when the subscription allows it); redirects are not followed. New
// events are found by polling the chain head (DefaultPoll), which also
// sees events other processes write.
package notify
