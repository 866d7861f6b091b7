// Package site is how a door appliance and its central talk: the wire
// types (storage's SiteChanges, SitePush and SiteReceipt as JSON), request
// signing, and the Client a door uses.
//
// Every request a door sends is signed with the ed25519 key that already
// signs its evidence checkpoints: X-Facegate-Key names the key,
// X-Facegate-Time the moment (Unix milliseconds), X-Facegate-Signature the
// signature over method, path and query, that moment and the body's
// SHA-256. A Verifier accepts a signature once, within Window of its
// moment: a replay is refused, and a body cannot be swapped under a
// signature. The first request (join) carries a one-time token shown by
// the central; from then on the key alone identifies the door.
//
// The API (under /v1/):
//
//	POST /v1/join              {"token":…}            → the appliance record
//	GET  /v1/hello                                    → the appliance record
//	GET  /v1/changes?since=R&wait=MS[&page=N&after=P] → storage.SiteChanges (long poll; since=-1: everything,
//	                                                     in pages of N people after person P when page is given)
//	PUT  /v1/snapshots/HASH    JPEG bytes             → 204
//	POST /v1/events            storage.SitePush       → storage.SiteReceipt
//	GET  /v1/presence?person=ID&area=A                → storage.SitePassage (anti-passback)
package site
