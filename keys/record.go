package keys

import (
	"context"
	"time"
)

// Signing algorithms this package generates keys for (RFC 7518 §3.1). OpenID Connect Discovery 1.0 §3
// requires RS256 among id_token_signing_alg_values_supported, so an RS256 key is always kept.
const (
	RS256 = "RS256"
	ES256 = "ES256"
)

// algorithms are the algorithms every Set keeps one current key for.
var algorithms = []string{RS256, ES256}

// Record is one row of the signing_keys table (docs/schema.md), as this package reads and writes it.
// Times are UTC, whole seconds (the columns are timestamp(0)).
type Record struct {
	ID         string     // the kid: the RFC 7638 SHA-256 thumbprint of the public key, base64url
	Algorithm  string     // RS256 or ES256
	PublicJWK  []byte     // the public JWK as JSON (kid, alg, use "sig"); never private material
	PrivateKey []byte     // PKCS#8 DER sealed with AES-256-GCM under a key derived from the system secret
	CreatedAt  time.Time  // published in the JWKS from then
	ActiveAt   time.Time  // may sign from then
	RetiredAt  *time.Time // stops signing then (nil: not scheduled)
	ExpiresAt  *time.Time // removed from the JWKS then (nil: not scheduled)
}

// Store persists signing keys. cmd adapts storage's model to it.
type Store interface {
	// ListSigningKeys returns every stored key, expired ones included, in any order.
	ListSigningKeys(ctx context.Context) ([]Record, error)
	// CreateSigningKey inserts a new key.
	CreateSigningKey(ctx context.Context, r Record) error
	// UpdateSigningKey reads the key kid, calls fn on it and writes back what fn left, in one
	// transaction. An error from fn aborts the update and is returned.
	UpdateSigningKey(ctx context.Context, kid string, fn func(*Record) error) error
}

// State is where a key stands in its life at a given time.
type State string

// The states of a key, in the order a key passes through them.
const (
	StateNext    State = "next"    // published, not signing yet (before active_at)
	StateCurrent State = "current" // published and may sign
	StateRetired State = "retired" // published so that tokens it signed still verify, no longer signing
	StateExpired State = "expired" // neither published nor signing
)

// stateAt tells where r stands at now. Every boundary belongs to the later state: at exactly active_at a
// key is current, at exactly retired_at it is retired.
func stateAt(r *Record, now time.Time) State {
	switch {
	case r.ExpiresAt != nil && !now.Before(*r.ExpiresAt):
		return StateExpired
	case r.RetiredAt != nil && !now.Before(*r.RetiredAt):
		return StateRetired
	case now.Before(r.ActiveAt):
		return StateNext
	default:
		return StateCurrent
	}
}

// Info describes one key for `kangrow-auth keys list` and the admin API. It has no key material.
type Info struct {
	ID        string     `json:"kid"`
	Algorithm string     `json:"alg"`
	State     State      `json:"state"`
	CreatedAt time.Time  `json:"created_at"`
	ActiveAt  time.Time  `json:"active_at"`
	RetiredAt *time.Time `json:"retired_at,omitempty"`
	ExpiresAt *time.Time `json:"expires_at,omitempty"`
}
