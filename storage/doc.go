// Package storage keeps facegate's records: people and their face
// templates (and, as the evidence issue lands, events, snapshots and the
// chain). It speaks gorm to SQLite by default and to PostgreSQL when the DSN
// says so, and owns the versioned schema migrations.
//
// It must never decide anything (matching is vision, access is gate) and
// must never hold C memory: descriptors arrive as plain float32 arrays.
package storage
