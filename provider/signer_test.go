package provider

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"strings"
	"testing"
	"time"

	josev4 "github.com/go-jose/go-jose/v4"
	"github.com/ory/fosite/token/jwt"
)

// fakeKeys is a KeySet of one RSA and one EC key, with an optional retired RSA key still published.
type fakeKeys struct {
	signing map[string]string // alg → kid
	private map[string]crypto.Signer
}

func (f *fakeKeys) Signing(alg string) (string, crypto.Signer, bool) {
	kid, ok := f.signing[alg]
	return kid, f.private[kid], ok
}

func (f *fakeKeys) PublicKey(kid string) (josev4.JSONWebKey, bool) {
	k, ok := f.private[kid]
	if !ok {
		return josev4.JSONWebKey{}, false
	}
	return josev4.JSONWebKey{Key: k.Public(), KeyID: kid}, true
}

func (f *fakeKeys) JWKSJSON() []byte      { return []byte(`{"keys":[]}`) }
func (f *fakeKeys) MaxAge() time.Duration { return time.Hour }

func newTestKeys(t *testing.T) *fakeKeys {
	t.Helper()
	rsaKey, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	ecKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return &fakeKeys{
		signing: map[string]string{"RS256": "rsa-1", "ES256": "ec-1"},
		private: map[string]crypto.Signer{"rsa-1": rsaKey, "ec-1": ecKey},
	}
}

func header(t *testing.T, token string) map[string]any {
	t.Helper()
	head, _, _ := strings.Cut(token, ".")
	raw, err := base64.RawURLEncoding.DecodeString(head)
	if err != nil {
		t.Fatal(err)
	}
	var h map[string]any
	if err := json.Unmarshal(raw, &h); err != nil {
		t.Fatal(err)
	}
	return h
}

func TestSignerGenerateAndDecode(t *testing.T) {
	ctx := context.Background()
	keys := newTestKeys(t)
	s := &signer{keys: keys}
	tests := []struct {
		name    string
		extra   map[string]any
		wantAlg string
		wantKid string
	}{
		{"default is RS256", nil, "RS256", "rsa-1"},
		{"session asks for ES256", map[string]any{headerAlg: "ES256"}, "ES256", "ec-1"},
		{"a stale kid in the session is ignored", map[string]any{headerAlg: "RS256", "kid": "old"}, "RS256", "rsa-1"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			token, sig, err := s.Generate(ctx, jwt.MapClaims{"sub": "u1", "updated_at": float64(1796418278)}, &jwt.Headers{Extra: tc.extra})
			if err != nil {
				t.Fatal(err)
			}
			h := header(t, token)
			if h["alg"] != tc.wantAlg || h["kid"] != tc.wantKid || h[headerAlg] != nil {
				t.Fatalf("header = %v, want alg %s kid %s and no %s", h, tc.wantAlg, tc.wantKid, headerAlg)
			}
			if !strings.HasSuffix(token, "."+sig) {
				t.Error("Generate returned a signature that is not the token's")
			}
			// NumericDate claims that went through JSON come out as integers, not 1.79e+09.
			_, payload, _ := strings.Cut(token, ".")
			payload, _, _ = strings.Cut(payload, ".")
			body, _ := base64.RawURLEncoding.DecodeString(payload)
			if !strings.Contains(string(body), `"updated_at":1796418278`) {
				t.Errorf("payload %s: want updated_at as an integer", body)
			}
			decoded, err := s.Decode(ctx, token)
			if err != nil || decoded.Claims["sub"] != "u1" {
				t.Fatalf("Decode = %v, %v", decoded, err)
			}
		})
	}
}

func TestSignerDecodeRefuses(t *testing.T) {
	ctx := context.Background()
	keys := newTestKeys(t)
	s := &signer{keys: keys}
	good, _, err := s.Generate(ctx, jwt.MapClaims{"sub": "u1"}, &jwt.Headers{})
	if err != nil {
		t.Fatal(err)
	}
	enc := func(v any) string {
		b, _ := json.Marshal(v)
		return base64.RawURLEncoding.EncodeToString(b)
	}
	_, rest, _ := strings.Cut(good, ".")
	payload, sig, _ := strings.Cut(rest, ".")
	tests := []struct {
		name  string
		token string
	}{
		{"alg none", enc(map[string]any{"alg": "none", "kid": "rsa-1"}) + "." + payload + "."},
		{"HMAC with the public key", enc(map[string]any{"alg": "HS256", "kid": "rsa-1"}) + "." + payload + "." + sig},
		{"unknown kid", enc(map[string]any{"alg": "RS256", "kid": "nope"}) + "." + payload + "." + sig},
		{"kid of another key", enc(map[string]any{"alg": "ES256", "kid": "ec-1"}) + "." + payload + "." + sig},
		{"tampered payload", strings.Replace(good, payload, enc(map[string]any{"sub": "admin"}), 1)},
		{"not a JWS", "abc"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := s.Decode(ctx, tc.token); err == nil {
				t.Fatal("Decode accepted it")
			}
			if _, err := s.Validate(ctx, tc.token); err == nil {
				t.Fatal("Validate accepted it")
			}
		})
	}

	// After a rotation the old key is still published: tokens it signed keep verifying by kid.
	keys.signing["RS256"] = "rsa-2"
	rsa2, _ := rsa.GenerateKey(rand.Reader, 2048)
	keys.private["rsa-2"] = rsa2
	if _, err := s.Decode(ctx, good); err != nil {
		t.Fatalf("token of the retired key: %v", err)
	}
	delete(keys.private, "rsa-1")
	if _, err := s.Decode(ctx, good); err == nil {
		t.Fatal("token of a key no longer published still verifies")
	}
}
