// Package web is facegate's HTTP face, served by echo from the same
// binary: the live view (MJPEG and server-sent decisions), people
// (upload and webcam enrolment, suspend, rename, erase), entries with CSV
// and evidence bundles, presence and attendance, access rules, the audit
// trail, settings (with the model in force, its calibrated safe range,
// the false-accept rate a threshold is expected to give, and calibration
// on the site's enrolled photos), users (admins) and one's own account
// (password, API tokens), and the JSON API with bearer tokens; /healthz (a
// status only without a login) and /metrics for monitoring. Sessions are in
// memory and hold only who logged in: the user is re-read from storage on
// every request, and live streams end with their session. Accounts, roles,
// tokens and login lockouts are storage's. The client address is the TCP
// peer's unless Options.TrustedProxies names the proxy. Every CSV cell
// goes through one writer that neutralises formulas. HTTPS by default,
// with a self-signed certificate made on first start.
//
// Pages speak English and Japanese (messages, i18n_terms.go; a test renders
// every page in both and fails on a missing key or English text in the
// Japanese page). The evidence log keeps each decision's code and English
// sentence as written (they are hashed into the chain); localize.go
// renders them, the audit actions and their JSON detail, and photo
// refusals in the reader's language, showing the stored English when a
// sentence is not one it knows. Times reach pages only through the
// template funcs fmtTime and when, in Deps.Location. People erasure asks
// for the employee ID on a page of its own; enrolment photos are served to
// admins by hash, and only hashes that are a template's photo.
//
// It works through small interfaces (Faces, Door, SettingsOwner,
// ModelOwner), so it runs without models in tests. It must never touch C
// memory or the model files, and never decide access itself: gate does,
// and the settings are applied and checked by their owner, not here.
package web
