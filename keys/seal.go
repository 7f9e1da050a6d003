package keys

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"fmt"
)

// ErrDecrypt is returned (wrapped, naming the kid) when a stored private key does not open with the
// secret given to New. Almost always the secret is not the one the key was sealed with.
var ErrDecrypt = errors.New("cannot decrypt: wrong KANGROW_SECRET?")

// MinSecretLen is the shortest system secret New accepts (DESIGN.md: KANGROW_SECRET ≥ 32 bytes).
const MinSecretLen = 32

// Sealed private keys are: version byte, 12-byte random nonce, AES-256-GCM ciphertext and tag.
// The version leaves room to change the scheme (or the key derivation) without guessing.
const sealVersion1 = 1

// hkdfInfo labels the key derived from the system secret, so the same secret used elsewhere (cookies)
// never yields this key.
const hkdfInfo = "kangrow-auth signing-key encryption v1"

// newAEAD derives the key-encryption key from the system secret with HKDF-SHA256 (RFC 5869). The secret
// already has ≥ 256 bits of entropy, so no salt is needed; the info label separates uses.
func newAEAD(secret []byte) (cipher.AEAD, error) {
	if len(secret) < MinSecretLen {
		return nil, fmt.Errorf("signing keys: secret is %d bytes, want at least %d", len(secret), MinSecretLen)
	}
	kek, err := hkdf.Key(sha256.New, secret, nil, hkdfInfo, 32)
	if err != nil {
		return nil, fmt.Errorf("signing keys: derive key: %w", err)
	}
	block, err := aes.NewCipher(kek)
	if err != nil {
		return nil, fmt.Errorf("signing keys: %w", err)
	}
	return cipher.NewGCM(block)
}

// additionalData binds a sealed key to its row: a ciphertext copied to another kid or algorithm does not
// open.
func additionalData(kid, alg string) []byte {
	return []byte("kangrow-auth signing key\x00" + kid + "\x00" + alg)
}

func seal(aead cipher.AEAD, kid, alg string, der []byte) ([]byte, error) {
	out := make([]byte, 1+aead.NonceSize(), 1+aead.NonceSize()+len(der)+aead.Overhead())
	out[0] = sealVersion1
	if _, err := rand.Read(out[1:]); err != nil {
		return nil, fmt.Errorf("signing key kid=%s: nonce: %w", kid, err)
	}
	return aead.Seal(out, out[1:], der, additionalData(kid, alg)), nil
}

func open(aead cipher.AEAD, kid, alg string, sealed []byte) ([]byte, error) {
	if len(sealed) == 0 {
		return nil, fmt.Errorf("signing key kid=%s: no private key stored", kid)
	}
	if sealed[0] != sealVersion1 {
		return nil, fmt.Errorf("signing key kid=%s: unknown encryption version %d", kid, sealed[0])
	}
	if len(sealed) < 1+aead.NonceSize()+aead.Overhead() {
		return nil, fmt.Errorf("signing key kid=%s: sealed private key truncated", kid)
	}
	nonce, ct := sealed[1:1+aead.NonceSize()], sealed[1+aead.NonceSize():]
	der, err := aead.Open(nil, nonce, ct, additionalData(kid, alg))
	if err != nil {
		return nil, fmt.Errorf("signing key kid=%s: %w", kid, ErrDecrypt)
	}
	return der, nil
}
