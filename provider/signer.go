package provider

import (
	"context"
	"crypto"
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
	"time"

	josev3 "github.com/go-jose/go-jose/v3"
	josev4 "github.com/go-jose/go-jose/v4"
	"github.com/ory/fosite/token/jwt"
)

// KeySet is what the provider needs of the signing keys; *keys.Set satisfies it. Keys are held in
// memory by the implementation: none of these methods may touch the database.
type KeySet interface {
	// Signing returns the key that signs now for alg ("RS256" or "ES256").
	Signing(alg string) (kid string, key crypto.Signer, ok bool)
	// PublicKey returns the public key published under kid, if it is still published.
	PublicKey(kid string) (josev4.JSONWebKey, bool)
	// JWKSJSON is the published JWK set, public parts only.
	JWKSJSON() []byte
	// MaxAge is how long clients may cache the JWK set.
	MaxAge() time.Duration
}

// signingAlgorithms are the ID token algorithms we sign with: RS256 is OIDC's default and always
// present (OIDC Discovery §3), ES256 is offered.
var signingAlgorithms = []string{"RS256", "ES256"}

// headerAlg is the header key through which a provider session asks for an ID token algorithm
// (fosite's jwt.Headers drops a plain "alg"); the signer removes it, and go-jose writes the real "alg".
const headerAlg = "kangrow_alg"

// signer is fosite's jwt.Signer over our key set. fosite's DefaultSigner verifies only against the one
// key it signs with, so tokens signed before a rotation (id_token_hint, for example) would stop
// verifying; this one picks the verification key by the token's kid.
type signer struct {
	keys KeySet
}

var _ jwt.Signer = (*signer)(nil)

// Generate signs claims with the current key of the algorithm the header asks for (RS256 when none).
// fosite's DefaultSigner does the JWS work; handing it a go-jose v3 JSONWebKey with KeyID makes go-jose
// write the kid header.
func (s *signer) Generate(ctx context.Context, claims jwt.MapClaims, header jwt.Mapper) (string, string, error) {
	alg := "RS256"
	h := map[string]interface{}{}
	if header != nil {
		for k, v := range header.ToMap() {
			h[k] = v
		}
	}
	if a, ok := h[headerAlg].(string); ok && a != "" {
		alg = a
	}
	delete(h, headerAlg)
	delete(h, "kid")
	claims = integralClaims(claims)
	kid, key, ok := s.keys.Signing(alg)
	if !ok {
		return "", "", fmt.Errorf("no signing key for %s", alg)
	}
	jwk := &josev3.JSONWebKey{Key: key, KeyID: kid, Algorithm: alg, Use: "sig"}
	inner := &jwt.DefaultSigner{GetPrivateKey: func(context.Context) (interface{}, error) { return jwk, nil }}
	return inner.Generate(ctx, claims, &jwt.Headers{Extra: h})
}

// Validate verifies token and returns its signature part.
func (s *signer) Validate(ctx context.Context, token string) (string, error) {
	if _, err := s.Decode(ctx, token); err != nil {
		return "", err
	}
	return s.GetSignature(ctx, token)
}

// Decode parses and verifies token with the published key named by its kid header. Only the algorithms
// we sign with are accepted, so "none" and HMAC confusion are refused.
func (s *signer) Decode(_ context.Context, token string) (*jwt.Token, error) {
	return jwt.ParseWithClaims(token, jwt.MapClaims{}, func(t *jwt.Token) (interface{}, error) {
		alg, _ := t.Header["alg"].(string)
		if !s.accepts(alg) {
			return nil, fmt.Errorf("unexpected signing algorithm %q", alg)
		}
		kid, _ := t.Header["kid"].(string)
		jwk, ok := s.keys.PublicKey(kid)
		if !ok {
			return nil, fmt.Errorf("unknown key id %q", kid)
		}
		return jwk.Key, nil
	})
}

func (s *signer) accepts(alg string) bool {
	return slices.Contains(signingAlgorithms, alg)
}

// GetSignature returns the third part of a compact JWS.
func (s *signer) GetSignature(_ context.Context, token string) (string, error) {
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		return "", errors.New("malformed token: want header.payload.signature")
	}
	return parts[2], nil
}

// Hash is SHA-256, the hash of both RS256 and ES256, as at_hash and c_hash need (OIDC Core §3.1.3.6).
func (s *signer) Hash(_ context.Context, in []byte) ([]byte, error) {
	h := crypto.SHA256.New()
	h.Write(in)
	return h.Sum(nil), nil
}

// GetSigningMethodLength is the SHA-256 size: at_hash takes its left half.
func (s *signer) GetSigningMethodLength(context.Context) int { return crypto.SHA256.Size() }

// integralClaims returns claims with whole-number float64 values turned into int64. Claims kept in a
// provider session come back from storage as JSON, where every number decodes as float64, and
// go-jose's encoder writes large floats in exponent form ("updated_at":1.7e+09), which clients that
// expect NumericDate integers (RFC 7519 §2) reject.
func integralClaims(claims jwt.MapClaims) jwt.MapClaims {
	out := make(jwt.MapClaims, len(claims))
	for k, v := range claims {
		if f, ok := v.(float64); ok && f == math.Trunc(f) && math.Abs(f) < 1<<53 {
			v = int64(f)
		}
		out[k] = v
	}
	return out
}
