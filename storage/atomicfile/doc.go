// Package atomicfile writes files that are either wholly there or not at
// all after a crash or power loss: the data goes to a temporary file in
// the same directory, is fsynced, then put in place (renamed, or linked
// when an existing file must never be replaced), and the directory is
// fsynced. It knows nothing of what the files hold.
//
// It must never decide where files go or what they hold.
package atomicfile
