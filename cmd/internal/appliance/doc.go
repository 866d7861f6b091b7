// Package appliance is the running door appliance: it opens the relay
// (locked), the database, the recognition pipeline and the web app, and
// runs them until its context ends. cmd/facegate parses flags into a
// Config and calls New, Run and Close.
//
// Start-up order is the order of the code in New: relay locked, database
// opened, stored policy and settings applied, recognition opened, demo
// people enrolled, keypads opened, web app built. Run then starts the door
// controller, retention, checkpoint signing, reloads, the camera watch,
// the web app, the keypads, webhook delivery and, with a broker
// configured, the MQTT publisher (gate/mqtt), and runs the pipeline in the
// caller's goroutine. At a face+pin door a matched face waits, in its
// own goroutine, for the PIN typed around it (gate.PINPad), from a USB
// keypad or the web keypad (web.WebKeypad, always present, inert until an
// admin pairs a tablet to the door: keypad_web.go). The home page gets
// the relay's last command (relay_state.go).
//
// The settings owner refuses a changed match rule outside the active model's
// calibrated range (vision.CalibrationFor); the model owner describes the
// model for the settings page and calibrates a threshold on the kept
// enrolment photos (CalibrateEnrolled, also `facegate eval --calibrate`).
//
// With a central (Config.Central, central.go) the door still decides and
// records locally, always; beside that it joins once with a token, pulls
// the site's people and policy by revision (long poll; gallery and policy
// reloaded at once), pushes its chain and snapshots from the central's
// head, marks every event recorded while the central is stale, and asks
// the central for anti-passback across the area's doors while it answers
// (central_presence.go), and serves its live view through the central
// (central_live.go): it long-polls whether a console viewer watches and
// only then sends its newest preview frame (at most 8 a second) and its
// decisions, until the central says nobody watches. A push's receipt may
// carry acknowledgements of this door's alarms asked for on the central:
// the door records each in its chain (once) and the next push takes it up.
//
// It never holds C memory itself (package vision does) and never decides
// access (package gate does).
package appliance
