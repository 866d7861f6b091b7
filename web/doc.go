// Package web is facegate's HTTP face, served by echo from the same
// binary: the live view (MJPEG and server-sent decisions), people
// (upload and webcam enrolment, suspend, rename, erase), entries with CSV
// and evidence bundles, presence and attendance, access rules, the audit
// trail, settings (with the model in force, its calibrated safe range,
// the false-accept rate a threshold is expected to give, and calibration
// on the site's enrolled photos), and the JSON API with bearer tokens;
// /healthz and /metrics for monitoring. Sessions are in memory; accounts,
// roles and tokens are storage's. HTTPS by default, with a self-signed
// certificate made on first start.
//
// It works through small interfaces (Faces, Door, SettingsOwner,
// ModelOwner), so it runs without models in tests. It must never touch C
// memory or the model files, and never decide access itself: gate does,
// and the settings are applied and checked by their owner, not here.
package web
