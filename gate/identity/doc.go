// Package identity enrols people from photos and identifies faces against
// the enrolled gallery. It joins vision (faces, descriptors, matching) and
// storage (people, templates) and is used by both the CLI and the web app.
//
// It must never accept an enrolment photo it cannot vouch for (no face, or
// several), and never report a match the configured rule does not allow.
package identity
