package storage

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"

	"github.com/facegate/facegate/storage/atomicfile"
)

// SnapshotStore keeps JPEG evidence content-addressed by SHA-256 under a
// directory: written atomically (temp file, fsync, rename, fsync dir) and
// never overwritten. A path is derived only from a hash this package
// computed or validated, never from user input.
type SnapshotStore struct{ Dir string }

var hashRE = regexp.MustCompile(`^[0-9a-f]{64}$`)

// ErrBadHash is returned for anything that is not a SHA-256 hex digest.
var ErrBadHash = errors.New("not a snapshot hash")

// Path is where the snapshot with this hash lives.
func (s SnapshotStore) Path(hash string) (string, error) {
	if !hashRE.MatchString(hash) {
		return "", fmt.Errorf("%w: %q", ErrBadHash, hash)
	}
	return filepath.Join(s.Dir, hash[:2], hash+".jpg"), nil
}

// Put stores b and returns its hash. Storing the same bytes twice is a no-op.
func (s SnapshotStore) Put(b []byte) (string, error) {
	sum := sha256.Sum256(b)
	h := hex.EncodeToString(sum[:])
	p, _ := s.Path(h)
	if _, err := os.Stat(p); err == nil {
		return h, nil
	}
	dir := filepath.Dir(p)
	// Faces are personal data: the appliance's user only.
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return h, fmt.Errorf("snapshot store: %w", err)
	}
	// Never replaces: an existing file (a race with the same content) stays.
	if err := atomicfile.WriteNew(p, b, 0o600); err != nil && !errors.Is(err, os.ErrExist) {
		return h, fmt.Errorf("snapshot store: %w", err)
	}
	return h, nil
}

// Get reads a snapshot and checks it still hashes to its name.
func (s SnapshotStore) Get(hash string) ([]byte, error) {
	p, err := s.Path(hash)
	if err != nil {
		return nil, err
	}
	b, err := os.ReadFile(p)
	if err != nil {
		return nil, err
	}
	if sum := sha256.Sum256(b); hex.EncodeToString(sum[:]) != hash {
		return b, fmt.Errorf("snapshot %s: content does not match its hash (swapped or damaged)", hash)
	}
	return b, nil
}

// Delete removes a snapshot (retention, erasure).
func (s SnapshotStore) Delete(hash string) error {
	p, err := s.Path(hash)
	if err != nil {
		return err
	}
	if err := os.Remove(p); err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	return nil
}
