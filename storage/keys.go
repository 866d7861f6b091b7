package storage

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/facegate/facegate/storage/atomicfile"
)

// Key files live under DATA_DIR/keys, outside the database: a stolen
// database (or a PostgreSQL dump) holds no usable templates and cannot
// forge checkpoints.
const (
	SigningKeyFile  = "appliance-ed25519.pem"
	PublicKeyFile   = "appliance-ed25519.pub"
	TemplateKeyFile = "templates-aes256.key"
)

// ErrKey is wrapped by every key-file problem.
var ErrKey = errors.New("key file")

// Keys are the appliance's secrets.
type Keys struct {
	Signing  ed25519.PrivateKey
	Public   ed25519.PublicKey
	template cipher.AEAD
}

// LoadOrCreateKeys reads the keys in dir, creating any that do not exist
// yet (first start). A template key is created only with the database: if
// templates exist and the key is gone, that is an error, never a new key.
func LoadOrCreateKeys(dir string, mayCreateTemplateKey bool) (*Keys, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("%w: create %s: %v", ErrKey, dir, err)
	}
	k := &Keys{}
	sp := filepath.Join(dir, SigningKeyFile)
	if b, err := os.ReadFile(sp); err == nil {
		blk, _ := pem.Decode(b)
		if blk == nil || blk.Type != "FACEGATE ED25519 PRIVATE KEY" || len(blk.Bytes) != ed25519.SeedSize {
			return nil, fmt.Errorf("%w: %s is not a facegate signing key", ErrKey, sp)
		}
		k.Signing = ed25519.NewKeyFromSeed(blk.Bytes)
	} else if errors.Is(err, os.ErrNotExist) {
		_, priv, err := ed25519.GenerateKey(rand.Reader)
		if err != nil {
			return nil, err
		}
		k.Signing = priv
		if err := writeSecret(sp, pem.EncodeToMemory(&pem.Block{Type: "FACEGATE ED25519 PRIVATE KEY", Bytes: priv.Seed()})); err != nil {
			return nil, err
		}
	} else {
		return nil, fmt.Errorf("%w: %v", ErrKey, err)
	}
	k.Public = k.Signing.Public().(ed25519.PublicKey)
	pub := filepath.Join(dir, PublicKeyFile)
	if err := os.WriteFile(pub, []byte(PublicKeyString(k.Public)+"\n"), 0o644); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrKey, err)
	}

	tp := filepath.Join(dir, TemplateKeyFile)
	raw, err := os.ReadFile(tp)
	switch {
	case err == nil:
		key, derr := hex.DecodeString(strings.TrimSpace(string(raw)))
		if derr != nil || len(key) != 32 {
			return nil, fmt.Errorf("%w: %s is not a 256-bit hex key", ErrKey, tp)
		}
		raw = key
	case errors.Is(err, os.ErrNotExist) && mayCreateTemplateKey:
		raw = make([]byte, 32)
		if _, err := rand.Read(raw); err != nil {
			return nil, err
		}
		if err := writeSecret(tp, []byte(hex.EncodeToString(raw)+"\n")); err != nil {
			return nil, err
		}
	case errors.Is(err, os.ErrNotExist):
		return nil, fmt.Errorf("%w: %s is missing but the database holds encrypted templates: restore the key from "+
			"your backup, or erase and re-enrol everyone (templates cannot be read without it)", ErrKey, tp)
	default:
		return nil, fmt.Errorf("%w: %v", ErrKey, err)
	}
	blk, err := aes.NewCipher(raw)
	if err != nil {
		return nil, err
	}
	if k.template, err = cipher.NewGCM(blk); err != nil {
		return nil, err
	}
	return k, nil
}

// PublicKeyString is how the public key is shown and passed to
// `facegate verify --pubkey`: "ed25519:" and hex.
func PublicKeyString(p ed25519.PublicKey) string { return "ed25519:" + hex.EncodeToString(p) }

// ParsePublicKey reads PublicKeyString's output, or a file holding it.
func ParsePublicKey(s string) (ed25519.PublicKey, error) {
	s = strings.TrimSpace(s)
	if !strings.HasPrefix(s, "ed25519:") {
		if b, err := os.ReadFile(s); err == nil {
			s = strings.TrimSpace(string(b))
		}
	}
	h, ok := strings.CutPrefix(s, "ed25519:")
	b, err := hex.DecodeString(h)
	if !ok || err != nil || len(b) != ed25519.PublicKeySize {
		return nil, fmt.Errorf("%w: public key %q: want ed25519:<64 hex digits> or a file holding it", ErrKey, s)
	}
	return ed25519.PublicKey(b), nil
}

// writeSecret writes a key file that never replaces an existing one.
func writeSecret(path string, b []byte) error {
	if err := atomicfile.WriteNew(path, b, 0o600); err != nil {
		return fmt.Errorf("%w: create %s: %v", ErrKey, path, err)
	}
	return nil
}

// sealTemplate encrypts a descriptor blob; aad binds it to its model version.
func (k *Keys) sealTemplate(plain []byte, aad string) ([]byte, error) {
	nonce := make([]byte, k.template.NonceSize())
	if _, err := rand.Read(nonce); err != nil {
		return nil, err
	}
	return k.template.Seal(nonce, nonce, plain, []byte(aad)), nil
}

func (k *Keys) openTemplate(sealed []byte, aad string) ([]byte, error) {
	n := k.template.NonceSize()
	if len(sealed) < n {
		return nil, errors.New("sealed template too short")
	}
	p, err := k.template.Open(nil, sealed[:n], sealed[n:], []byte(aad))
	if err != nil {
		return nil, fmt.Errorf("%w: templates do not decrypt with %s: it is not the key they were sealed with "+
			"(restore the right key file, or erase and re-enrol)", ErrKey, TemplateKeyFile)
	}
	return p, nil
}

// sealedTOTPPrefix marks a sealed TOTP secret: 12-byte nonce, ciphertext
// and tag in unpadded base64 (88 characters for a 32-character secret).
const sealedTOTPPrefix = "sealed1:"

// sealTOTP encrypts a user's TOTP secret with the template key, bound to
// the user's ID so a secret copied to another row does not open.
func (k *Keys) sealTOTP(userID int64, secret string) (string, error) {
	b, err := k.sealTemplate([]byte(secret), totpAAD(userID))
	if err != nil {
		return "", err
	}
	return sealedTOTPPrefix + base64.RawStdEncoding.EncodeToString(b), nil
}

func (k *Keys) openTOTP(userID int64, stored string) (string, error) {
	b64, ok := strings.CutPrefix(stored, sealedTOTPPrefix)
	if !ok {
		return "", fmt.Errorf("%w: TOTP secret of user %d is not sealed", ErrKey, userID)
	}
	b, err := base64.RawStdEncoding.DecodeString(b64)
	if err != nil {
		return "", fmt.Errorf("%w: TOTP secret of user %d: %v", ErrKey, userID, err)
	}
	p, err := k.openTemplate(b, totpAAD(userID))
	if err != nil {
		return "", err
	}
	return string(p), nil
}

func totpAAD(userID int64) string { return fmt.Sprintf("facegate TOTP secret of user %d", userID) }
