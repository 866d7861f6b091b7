// Package gate is facegate's domain core: who a face belongs to
// (subpackage identity) and, as the gate issue lands, whether that person may
// pass this door now, and the relay and door drivers that act on it.
//
// It must never hold C memory (that stays in vision) nor write SQL (that is
// storage); and a relay it drives must always end locked.
package gate
