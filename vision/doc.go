// Package vision turns images into faces and faces into identities: it
// decodes and normalises photos, finds faces, computes 128-D descriptors
// with go-face (dlib), and matches them against an in-memory gallery.
//
// All C memory (gocv Mats, go-face's recognizer) lives and dies inside this
// package: nothing it returns holds a Mat or a C pointer. It must never decide
// access (that is package gate) nor touch the database (package storage).
package vision
