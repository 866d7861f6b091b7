// Package storage keeps facegate's records behind methods: people and
// their sealed face templates, the access-policy records, the appliance
// settings (Settings, with one Validate), web users (password policy with
// a shipped common-password list, per-account lockout, TOTP secrets sealed
// with the key directory's key, each code usable once) and expiring API
// tokens, and the evidence log: hash-chained events with signed checkpoints (every 100
// events, and within a minute of new ones: Recorder.KeepSigned), content-
// addressed JPEG snapshots, retention that redacts but keeps the chain
// verifiable, erasure, export bundles and their verification, and the
// delivery cursors of outbound feeds (how far the MQTT publisher got). Every stored
// event kind is declared here (Kind…). It runs on SQLite by default and on
// PostgreSQL when the DSN says so, and owns the versioned schema
// migrations (frozen structs, one per version; a step may use the keys to
// seal what older versions stored in clear). The SQLite file, snapshots
// and exported bundles are created readable by their owner only. Webhook
// subscriptions (sealed secrets, cursors, leases) and their delivery log,
// and PINs for face+pin doors (hashed, with a stored lockout) live here too.
// For a site (migration 14): the revision log that triggers keep on every
// table a central hands out (SiteChangesSince on the central,
// ApplySiteChanges on a door; a first pull in pages with SiteFullPage and
// ApplySitePage; PINs travel as their bcrypt hash, migration 16; an
// erasure with snapshots is an erase_snapshots revision; CheckNotJoined
// refuses a joined door's own edits), the doors that joined (one-time join
// tokens), each door's chain as received with every signed head it sent
// (ReceivePush checks links, hashes, signatures and the door's reported
// head, raising SiteAlarms, never overwriting), VerifyAppliance, and
// LastSitePassage for anti-passback across doors. What the central's
// console reads (site_console.go, migration 15): SiteAppliances (each
// door's last contact and push, backlog, camera and relay as it reported
// them, open alarms), SiteEvents across doors (paged by time, since
// positions are per door), LastSitePassages for presence, SiteDoorAlarms
// and their acknowledgement, and ExportSite (a door's evidence bundle
// from the central's copy, verifying with the door's key). A door's own
// alarms (AlarmKinds) are acknowledged in its chain by an ActionAlarmAck
// audit event (Recorder.AcknowledgeAlarm, once per alarm;
// AcknowledgedAlarms reads them back); from the central, by a request
// (site_acks.go, migration 17: RequestDoorAlarmAck) that every SiteReceipt
// to that door carries until its acknowledgement arrives in a push, and
// SiteOpenDoorAlarms lists what is still open.
// Subpackage atomicfile writes files that survive power loss whole or not at all.
//
// Callers never see the query builder: the gorm handle is unexported.
// It must never decide anything (matching is vision, access is gate) and
// must never hold C memory: descriptors arrive as plain float32 arrays.
package storage
