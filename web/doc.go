// Package web is facegate's HTTP face, served by echo from the same
// binary: home (this door's camera, the last decision, today's counts in
// the site's zone, and the last 24 hours' alarms to acknowledge: an
// acknowledgement is an audit entry holding the alarm's seq, recorded once
// and read back from the chain by storage), the live view (MJPEG, with server-sent decisions
// drawn over it by the browser so that any script shows: a box where the
// face is when the decision carries one, else a banner, coloured by the
// gate's decision; the camera state polled from /healthz), people
// (upload and webcam enrolment, a photo added to or removed from an
// enrolled person, suspend, rename, erase, a one-time PIN link the person
// opens without a login: page_pinlink.go), entries with CSV
// and evidence bundles, presence and attendance, access rules, the audit
// trail, the privacy notice (APPI: shown at /privacy without a login,
// printable on A4; an admin's text per language is an audit entry read
// back from the audit log, else a default written from the retention
// settings in force), settings (with the model in force, its calibrated safe range,
// the false-accept rate a threshold is expected to give, and calibration
// on the site's enrolled photos), users (admins) and one's own account
// (password, API tokens), webhooks (subscriptions, delivery log, a signed
// "send test" through gate/notify), alerts (the gate/alert configuration
// as a form, saved through its checks as storage document "alerts", a test
// mail, the recent alert events), the web keypad (WebKeypad, a
// gate.Keypad: an admin pairs a tablet to the door with a one-time link,
// the tablet then holds its own revocable credential, no session, and
// types PINs on /keypad/pad), and the JSON API with bearer tokens; /healthz (a
// status only without a login) and /metrics for monitoring. Sessions are in
// memory and hold only who logged in: the user is re-read from storage on
// every request, and live streams end with their session. Accounts, roles,
// tokens and login lockouts are storage's. The client address is the TCP
// peer's unless Options.TrustedProxies names the proxy. Every CSV cell
// goes through one writer that neutralises formulas. HTTPS by default,
// with a self-signed certificate made on first start.
//
// Pages are plain HTML with one stylesheet that also fits an upright
// tablet (768 px, 44 px touch targets); Chromium tests check every page
// with axe-core (web/testdata/axe, pinned by its lockfile) and fail on a
// serious or critical violation.
//
// Pages speak English and Japanese (messages, i18n_terms.go,
// i18n_console.go; a test renders
// every page in both and fails on a missing key or English text in the
// Japanese page). The evidence log keeps each decision's code and English
// sentence as written (they are hashed into the chain); localize.go
// renders them, the audit actions and their JSON detail, photo refusals,
// and the refusals of gate (a policy), storage (settings, PINs, webhooks,
// days) and this package in the reader's language, showing the stored English when a
// sentence is not one it knows. Times reach pages only through the
// template funcs fmtTime and when, in Deps.Location. People erasure asks
// for the employee ID on a page of its own; enrolment photos are served to
// admins by hash, and only hashes that are a template's photo.
//
// On a site's central (Deps.Site, site.go) the same pages read every
// door's chain as the central holds it: entries (paged by time, a door
// filter; an entry is linked by its row there), CSV, presence and
// attendance, audit (the central's own actions and each door's), evidence
// bundles (one door's chain, from the central's copy, under that door's
// key) and snapshots from the central's store; /doors lists each door's
// state and the alarms about its log (acknowledged in the console), and
// makes join tokens (admins, shown once, audited), and each door's live
// view (Deps.Live, LiveDoors: per door a Hub the central fills with what
// the door sends, and a count of viewers that the door's long poll waits
// on, so a door streams only while watched; page_doorlive.go); the
// central's own /live, with no camera, goes Home, which on a central is
// the site's overview (page_sitehome.go: each door in short with its live
// view, today's counts across the doors, the newest decisions, the doors'
// alarms their chains do not acknowledge, each acknowledged from here by a
// request the door records in its own chain as USER@central with its next
// push, and the alarms about their logs). On a door joined to a
// central (Deps.Central) people and rules are shown read-only, saying
// where they are edited, and their edits are refused with 409
// (joinedDoor): the central's next change would overwrite them.
//
// It works through small interfaces (Faces, Door, SettingsOwner,
// ModelOwner, Site), so it runs without models in tests. It must never touch C
// memory or the model files, and never decide access itself: gate does,
// and the settings are applied and checked by their owner, not here.
package web
