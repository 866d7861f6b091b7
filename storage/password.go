package storage

import (
	"bufio"
	"crypto/sha256"
	_ "embed"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"sync"
	"unicode"
	"unicode/utf8"

	"golang.org/x/crypto/bcrypt"
)

// Password policy (NIST SP 800-63B 5.1.1.2): a minimum length, no
// composition rules, and a check against a list of commonly used
// passwords; no maximum that cuts passphrases short.
const (
	// MinPasswordLen: length beats composition rules.
	MinPasswordLen = 12
	// MaxPasswordLen bounds the work of one login, far above any passphrase.
	MaxPasswordLen = 1024
)

// ErrWeakPassword is wrapped by every refusal of the password policy.
var ErrWeakPassword = errors.New("weak password")

//go:embed common-passwords.txt
var commonPasswordsFile string

var commonPasswords = sync.OnceValue(func() map[string]bool {
	m := map[string]bool{}
	sc := bufio.NewScanner(strings.NewReader(commonPasswordsFile))
	for sc.Scan() {
		if l := sc.Text(); l != "" && !strings.HasPrefix(l, "#") {
			m[l] = true
		}
	}
	return m
})

// CheckPassword says why password may not be used by username, or nil.
func CheckPassword(username, password string) error {
	n := utf8.RuneCountInString(password)
	switch {
	case n < MinPasswordLen:
		return fmt.Errorf("%w: it must be at least %d characters", ErrWeakPassword, MinPasswordLen)
	case len(password) > MaxPasswordLen:
		return fmt.Errorf("%w: it must be at most %d bytes", ErrWeakPassword, MaxPasswordLen)
	case repeats(password):
		return fmt.Errorf("%w: it repeats one character or pattern; choose a few unrelated words instead", ErrWeakPassword)
	}
	core := strings.ToLower(strings.TrimFunc(password, notLetter))
	if u := strings.ToLower(strings.TrimSpace(username)); u != "" && (core == u || core == strings.TrimFunc(u, notLetter)) {
		return fmt.Errorf("%w: it is the username; choose something else", ErrWeakPassword)
	}
	if commonPasswords()[strings.ToLower(password)] || commonPasswords()[core] {
		return fmt.Errorf("%w: it is one of the most common passwords (digits or symbols added do not help); "+
			"choose a few unrelated words instead", ErrWeakPassword)
	}
	return nil
}

// notLetter trims digits, punctuation and spaces from either end: the
// usual way of "strengthening" a common word ("password1234", "iloveyou!!!").
func notLetter(r rune) bool { return !unicode.IsLetter(r) }

// repeats says whether s is one unit repeated ("aaaa", "abcabc").
func repeats(s string) bool {
	r := []rune(s)
	for unit := 1; unit <= len(r)/2; unit++ {
		if len(r)%unit == 0 && string(r) == strings.Repeat(string(r[:unit]), len(r)/unit) {
			return true
		}
	}
	return false
}

// Password hashes: bcrypt reads only the first 72 bytes of its input (and
// refuses longer ones), so a new hash is bcrypt of base64(SHA-256(password))
// — 44 bytes for any length — marked by prehashPrefix. Hashes without the
// mark are plain bcrypt from an older facegate and still verify.
const prehashPrefix = "bcrypt-sha256$"

func prehash(password string) []byte {
	sum := sha256.Sum256([]byte(password))
	return []byte(base64.StdEncoding.EncodeToString(sum[:]))
}

func hashPassword(password string) (string, error) {
	h, err := bcrypt.GenerateFromPassword(prehash(password), bcryptCost)
	if err != nil {
		return "", err
	}
	return prehashPrefix + string(h), nil
}

// passwordMatches checks password against a stored hash of either kind.
func passwordMatches(hash, password string) bool {
	if h, ok := strings.CutPrefix(hash, prehashPrefix); ok {
		return bcrypt.CompareHashAndPassword([]byte(h), prehash(password)) == nil
	}
	return bcrypt.CompareHashAndPassword([]byte(hash), []byte(password)) == nil
}
