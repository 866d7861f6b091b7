// Package web is facegate's HTTP face: today the status endpoint
// (/healthz); as the web issue lands, the admin and investigator pages and
// the JSON API, served by echo from the same binary.
//
// It must never touch C memory or the model files, and never decide access
// itself: it calls gate/identity and storage.
package web
