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
//	GET  /v1/live/wanted?wait=MS                      → {"watch":bool} (long poll)
//	POST /v1/live/frame        JPEG bytes (≤ 2 MB)    → {"watch":bool}
//	POST /v1/live/decision     the decision's JSON    → {"watch":bool}
//
// The live view: the central cannot reach a door (doors connect out, often
// from behind NAT), so a door long-polls /v1/live/wanted, which answers
// as soon as a console viewer opens that door's live view. Then the door
// sends its newest annotated frame, at most 8 a second and only the
// newest when an upload is slow, and its decisions as they happen; each
// answer says whether anyone still watches, and when nobody has for a
// few seconds the door stops and long-polls again. Nobody watching: no
// frame leaves the door.
//
// The replay cache holds each signature accepted within the last one or
// two windows (two generations, swapped every window): at 8 frames a
// second a streaming door adds 480 signatures a minute, about 70 KB.
package site
