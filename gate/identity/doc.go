// Package identity enrols people from photos and identifies faces against
// the enrolled gallery. It joins vision (faces, descriptors, matching) and
// storage (people, templates) and is used by both the CLI and the web app.
//
// It must never accept an enrolment photo it cannot vouch for (no face, or
// several), and never report a match the configured rule does not allow.
// An enrolment, or a photo added to an enrolled person, is refused until
// an admin confirms it when a face is within the threshold of someone
// else, or when its photos (with the person's stored ones) look like two
// people (conflict.go).
package identity
