package keys

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	josev4 "github.com/go-jose/go-jose/v4"
	jwtv4 "github.com/go-jose/go-jose/v4/jwt"
	fositejwt "github.com/ory/fosite/token/jwt"
)

var (
	testSecret  = []byte("0123456789abcdef0123456789abcdef-test-secret")
	otherSecret = []byte("fedcba9876543210fedcba9876543210-other-secret")
	// t0 has a sub-second part on purpose: stored times must come out whole seconds.
	t0 = time.Date(2026, 1, 15, 12, 0, 0, 500_000_000, time.UTC)
)

func TestLoadGeneratesKeysOnFirstStart(t *testing.T) {
	store := newTestStore()
	clock := newTestClock(t0)
	set := newTestSet(t, store, testSecret, clock)

	recs := store.all()
	if len(recs) != 2 {
		t.Fatalf("store holds %d keys after first Load, want 2", len(recs))
	}
	for _, alg := range []string{RS256, ES256} {
		t.Run(alg, func(t *testing.T) {
			kid, signer, ok := set.Signing(alg)
			if !ok {
				t.Fatalf("Signing(%s): no key", alg)
			}
			rec, found := store.get(kid)
			if !found || rec.Algorithm != alg {
				t.Fatalf("signing kid %s not stored as an %s key", kid, alg)
			}
			want := t0.Truncate(time.Second)
			if !rec.CreatedAt.Equal(want) || !rec.ActiveAt.Equal(want) || rec.RetiredAt != nil || rec.ExpiresAt != nil {
				t.Fatalf("record times = created %v active %v retired %v expires %v; want active at once (%v), no retirement",
					rec.CreatedAt, rec.ActiveAt, rec.RetiredAt, rec.ExpiresAt, want)
			}
			switch k := signer.(type) {
			case *rsa.PrivateKey:
				if alg != RS256 || k.N.BitLen() < 2048 {
					t.Fatalf("%s signer is RSA-%d", alg, k.N.BitLen())
				}
			case *ecdsa.PrivateKey:
				if alg != ES256 || k.Curve != elliptic.P256() {
					t.Fatalf("%s signer is ECDSA %s", alg, k.Curve.Params().Name)
				}
			default:
				t.Fatalf("%s signer is %T", alg, signer)
			}

			// Sealed at rest: neither the PKCS#8 DER nor the private scalar appears in what was stored.
			der, err := x509.MarshalPKCS8PrivateKey(signer)
			if err != nil {
				t.Fatal(err)
			}
			if bytes.Contains(rec.PrivateKey, der) || bytes.Contains(rec.PrivateKey, privateScalar(t, signer)) {
				t.Fatal("stored private_key contains the private key in clear")
			}
			if rec.PrivateKey[0] != sealVersion1 {
				t.Fatalf("stored private_key starts with version %d, want %d", rec.PrivateKey[0], sealVersion1)
			}
			assertPublicOnly(t, rec.PublicJWK)
		})
	}
}

func TestLoadExistingKeys(t *testing.T) {
	store := newTestStore()
	first := newTestSet(t, store, testSecret, newTestClock(t0))
	second := newTestSet(t, store, testSecret, newTestClock(t0.Add(time.Hour)))

	if n := len(store.all()); n != 2 {
		t.Fatalf("store holds %d keys after a second Load, want the same 2", n)
	}
	for _, alg := range []string{RS256, ES256} {
		kid1, _, _ := first.Signing(alg)
		kid2, signer, ok := second.Signing(alg)
		if !ok || kid1 != kid2 {
			t.Fatalf("%s: reloaded kid = %q (ok %v), want %q", alg, kid2, ok, kid1)
		}
		jwk, ok := first.PublicKey(kid1)
		if !ok || !samePublic(jwk.Key, signer.Public()) {
			t.Fatalf("%s: reloaded private key does not match the published public key", alg)
		}
	}
}

func TestLoadWrongSecret(t *testing.T) {
	store := newTestStore()
	newTestSet(t, store, testSecret, newTestClock(t0))

	set, err := New(store, otherSecret, WithClock(newTestClock(t0).Now))
	if err != nil {
		t.Fatal(err)
	}
	err = set.Load(context.Background())
	if !errors.Is(err, ErrDecrypt) {
		t.Fatalf("Load with another secret: error = %v, want ErrDecrypt", err)
	}
	if msg := err.Error(); !strings.Contains(msg, "signing key kid=") || !strings.Contains(msg, "wrong KANGROW_SECRET?") {
		t.Fatalf("error %q does not name the kid and the secret", msg)
	}
	if n := len(store.all()); n != 2 {
		t.Fatalf("Load with the wrong secret left %d keys, want the 2 it found (it must not generate)", n)
	}
	if _, _, ok := set.Signing(RS256); ok {
		t.Fatal("Signing works after a failed Load")
	}
	if err := set.Rotate(context.Background()); !errors.Is(err, ErrDecrypt) {
		t.Fatalf("Rotate with another secret: error = %v, want ErrDecrypt", err)
	}
}

func TestLoadDamagedRecords(t *testing.T) {
	tests := []struct {
		name    string
		damage  func(rsa, ec *Record)
		wantErr error // nil: any error
	}{
		{name: "private keys swapped between rows", damage: func(r, e *Record) { r.PrivateKey, e.PrivateKey = e.PrivateKey, r.PrivateKey }, wantErr: ErrDecrypt},
		{name: "algorithm changed", damage: func(r, _ *Record) { r.Algorithm = ES256 }, wantErr: ErrDecrypt},
		{name: "ciphertext flipped", damage: func(r, _ *Record) { r.PrivateKey[len(r.PrivateKey)-1] ^= 1 }, wantErr: ErrDecrypt},
		{name: "truncated", damage: func(r, _ *Record) { r.PrivateKey = r.PrivateKey[:10] }},
		{name: "empty", damage: func(r, _ *Record) { r.PrivateKey = nil }},
		{name: "unknown version", damage: func(r, _ *Record) { r.PrivateKey[0] = 9 }},
		{name: "public_jwk of another key", damage: func(r, e *Record) { r.PublicJWK = e.PublicJWK }},
		{name: "public_jwk not JSON", damage: func(r, _ *Record) { r.PublicJWK = []byte("{") }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			store := newTestStore()
			newTestSet(t, store, testSecret, newTestClock(t0))
			store.mutate(tc.damage)

			set, err := New(store, testSecret, WithClock(newTestClock(t0).Now))
			if err != nil {
				t.Fatal(err)
			}
			err = set.Load(context.Background())
			if err == nil || (tc.wantErr != nil && !errors.Is(err, tc.wantErr)) {
				t.Fatalf("Load: error = %v, want %v", err, cmpOr(tc.wantErr, "an error"))
			}
			if !strings.Contains(err.Error(), "kid=") {
				t.Fatalf("error %q does not name the kid", err)
			}
		})
	}
}

func TestNewRejectsBadConfiguration(t *testing.T) {
	tests := []struct {
		name   string
		secret []byte
		opts   []Option
	}{
		{name: "short secret", secret: []byte("too short")},
		{name: "zero max-age", secret: testSecret, opts: []Option{WithMaxAge(0)}},
		{name: "negative lifespan", secret: testSecret, opts: []Option{WithIDTokenLifespan(-time.Hour)}},
		{name: "publish lead under 2x max-age", secret: testSecret, opts: []Option{WithPublishLead(90 * time.Minute)}},
		{name: "nil clock", secret: testSecret, opts: []Option{WithClock(nil)}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := New(newTestStore(), tc.secret, tc.opts...); err == nil {
				t.Fatal("New: no error")
			}
		})
	}
}

func TestPublicJWKSHasNoPrivateMaterial(t *testing.T) {
	store := newTestStore()
	clock := newTestClock(t0)
	set := newTestSet(t, store, testSecret, clock)
	mustRotate(t, set) // next keys are published too

	marshalled, err := json.Marshal(set.PublicJWKS())
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(marshalled, set.JWKSJSON()) {
		t.Fatalf("JWKSJSON differs from PublicJWKS marshalled:\n%s\n%s", set.JWKSJSON(), marshalled)
	}
	var doc struct {
		Keys []json.RawMessage `json:"keys"`
	}
	if err := json.Unmarshal(set.JWKSJSON(), &doc); err != nil {
		t.Fatal(err)
	}
	if len(doc.Keys) != 4 {
		t.Fatalf("JWKS has %d keys, want 4 (current and next, RS256 and ES256)", len(doc.Keys))
	}
	for _, k := range doc.Keys {
		assertPublicOnly(t, k)
	}
}

func TestRotation(t *testing.T) {
	ctx := context.Background()
	store := newTestStore()
	clock := newTestClock(t0)
	set := newTestSet(t, store, testSecret, clock)
	oldRS, _, _ := set.Signing(RS256)
	oldES, _, _ := set.Signing(ES256)

	// A token signed just before the rotation, valid for the ID token lifespan.
	tokenOld := newTestToken(t, set, RS256, clock.Now(), DefaultIDTokenLifespan)

	mustRotate(t, set)
	rotatedAt := clock.Now().Truncate(time.Second)
	activeAt := rotatedAt.Add(2 * DefaultMaxAge)
	expiresAt := activeAt.Add(DefaultIDTokenLifespan + DefaultMaxAge)

	newRS := kidInState(t, set, RS256, StateNext)
	newES := kidInState(t, set, ES256, StateNext)
	rec, _ := store.get(oldRS)
	if rec.RetiredAt == nil || !rec.RetiredAt.Equal(activeAt) || rec.ExpiresAt == nil || !rec.ExpiresAt.Equal(expiresAt) {
		t.Fatalf("old key retired %v expires %v, want %v and %v", rec.RetiredAt, rec.ExpiresAt, activeAt, expiresAt)
	}
	if err := set.Rotate(ctx); !errors.Is(err, ErrRotationPending) {
		t.Fatalf("second Rotate: error = %v, want ErrRotationPending", err)
	}
	if n := len(store.all()); n != 4 {
		t.Fatalf("store holds %d keys after a refused Rotate, want 4", n)
	}

	steps := []struct {
		name        string
		at          time.Time
		wantSigning map[string]string // alg → kid
		wantJWKS    []string
		wantGone    []string
		oldVerifies bool
	}{
		{name: "right after rotate", at: t0.Add(time.Second),
			wantSigning: map[string]string{RS256: oldRS, ES256: oldES},
			wantJWKS:    []string{oldRS, oldES, newRS, newES}, oldVerifies: true},
		{name: "just before active_at", at: activeAt.Add(-time.Second),
			wantSigning: map[string]string{RS256: oldRS, ES256: oldES},
			wantJWKS:    []string{oldRS, oldES, newRS, newES}, oldVerifies: true},
		{name: "at active_at", at: activeAt,
			wantSigning: map[string]string{RS256: newRS, ES256: newES},
			wantJWKS:    []string{oldRS, oldES, newRS, newES}, oldVerifies: true},
		{name: "just before expires_at", at: expiresAt.Add(-time.Second),
			wantSigning: map[string]string{RS256: newRS, ES256: newES},
			wantJWKS:    []string{oldRS, oldES, newRS, newES}, oldVerifies: true},
		{name: "at expires_at", at: expiresAt,
			wantSigning: map[string]string{RS256: newRS, ES256: newES},
			wantJWKS:    []string{newRS, newES}, wantGone: []string{oldRS, oldES}},
	}
	for _, st := range steps {
		t.Run(st.name, func(t *testing.T) {
			clock.Set(st.at)
			for alg, want := range st.wantSigning {
				if kid, _, _ := set.Signing(alg); kid != want {
					t.Errorf("Signing(%s) = %s, want %s", alg, kid, want)
				}
			}
			jwks := set.PublicJWKS()
			for _, kid := range st.wantJWKS {
				if len(jwks.Key(kid)) != 1 {
					t.Errorf("kid %s missing from the JWKS", kid)
				}
			}
			for _, kid := range st.wantGone {
				if len(jwks.Key(kid)) != 0 || bytes.Contains(set.JWKSJSON(), []byte(kid)) {
					t.Errorf("expired kid %s still published", kid)
				}
				if _, ok := set.PublicKey(kid); ok {
					t.Errorf("PublicKey(%s) found an expired key", kid)
				}
			}
			err := verifyWithJWKS(tokenOld, RS256, jwks)
			if st.oldVerifies && err != nil {
				t.Errorf("token signed before the rotation: %v", err)
			}
			if !st.oldVerifies && err == nil {
				t.Error("token signed by an expired key still verifies against the JWKS")
			}
			// Whatever signs now verifies against what is published now.
			if err := verifyWithJWKS(newTestToken(t, set, RS256, st.at, time.Minute), RS256, jwks); err != nil {
				t.Errorf("fresh token: %v", err)
			}
		})
	}

	infos, err := set.List(ctx)
	if err != nil {
		t.Fatal(err)
	}
	states := map[string]State{}
	for _, in := range infos {
		states[in.ID] = in.State
	}
	want := map[string]State{oldRS: StateExpired, oldES: StateExpired, newRS: StateCurrent, newES: StateCurrent}
	if fmt.Sprint(states) != fmt.Sprint(want) {
		t.Fatalf("List states = %v, want %v", states, want)
	}
}

func TestRotateRetriesAfterPartialFailure(t *testing.T) {
	store := newTestStore()
	clock := newTestClock(t0)
	set := newTestSet(t, store, testSecret, clock)
	oldES, _, _ := set.Signing(ES256)

	store.createHook = func(r Record) error {
		if r.Algorithm == ES256 {
			return errors.New("disk full")
		}
		return nil
	}
	if err := set.Rotate(context.Background()); err == nil {
		t.Fatal("Rotate: no error from a failing store")
	}
	store.createHook = nil
	clock.Add(time.Minute)
	mustRotate(t, set) // completes ES256, leaves the pending RS256 key alone

	if n := len(store.all()); n != 4 {
		t.Fatalf("store holds %d keys, want 4", n)
	}
	kidInState(t, set, RS256, StateNext)
	newES := kidInState(t, set, ES256, StateNext)
	clock.Add(2 * DefaultMaxAge)
	if kid, _, _ := set.Signing(ES256); kid != newES || kid == oldES {
		t.Fatalf("Signing(ES256) = %s, want the new key %s", kid, newES)
	}
}

func TestReloadSeesRotationByAnotherProcess(t *testing.T) {
	ctx := context.Background()
	store := newTestStore()
	clock := newTestClock(t0)
	server := newTestSet(t, store, testSecret, clock)
	cli := newTestSet(t, store, testSecret, clock)

	before := slices.Clone(server.keys)
	if err := server.Reload(ctx); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(before, server.keys) {
		t.Fatal("Reload with nothing changed rebuilt the keys")
	}

	mustRotate(t, cli)
	newRS := kidInState(t, cli, RS256, StateNext)
	if _, ok := server.PublicKey(newRS); ok {
		t.Fatal("server published the new key before reloading")
	}
	if err := server.Reload(ctx); err != nil {
		t.Fatal(err)
	}
	if jwks := server.PublicJWKS(); len(jwks.Key(newRS)) != 1 {
		t.Fatal("server does not publish the new key after Reload")
	}
	clock.Add(2 * DefaultMaxAge)
	if kid, _, _ := server.Signing(RS256); kid != newRS {
		t.Fatalf("server signs with %s after active_at, want %s", kid, newRS)
	}
}

func TestFositeSignerRoundTrip(t *testing.T) {
	store := newTestStore()
	clock := newTestClock(time.Now())
	set := newTestSet(t, store, testSecret, clock)

	for _, alg := range []string{RS256, ES256} {
		t.Run(alg, func(t *testing.T) {
			kid, _, _ := set.Signing(alg)
			signer := &fositejwt.DefaultSigner{GetPrivateKey: set.FositeKeyFunc(alg)}
			now := clock.Now()
			tok, _, err := signer.Generate(context.Background(), fositejwt.MapClaims{
				"iss": "https://auth.example.test", "sub": "user-1", "aud": []string{"client-1"},
				"iat": now.Unix(), "exp": now.Add(time.Hour).Unix(), "nonce": "n-0S6_WzA2Mj",
			}, &fositejwt.Headers{})
			if err != nil {
				t.Fatalf("fosite Generate: %v", err)
			}

			parsed, err := jwtv4.ParseSigned(tok, []josev4.SignatureAlgorithm{josev4.SignatureAlgorithm(alg)})
			if err != nil {
				t.Fatalf("ParseSigned: %v", err)
			}
			h := parsed.Headers[0]
			if h.KeyID != kid || h.Algorithm != alg {
				t.Fatalf("header kid=%q alg=%q, want kid=%q alg=%q", h.KeyID, h.Algorithm, kid, alg)
			}
			jwks := set.PublicJWKS()
			found := jwks.Key(h.KeyID)
			if len(found) != 1 {
				t.Fatalf("kid %s: %d keys in the JWKS, want 1", h.KeyID, len(found))
			}
			var claims jwtv4.Claims
			var extra struct {
				Nonce string `json:"nonce"`
			}
			if err := parsed.Claims(found[0].Key, &claims, &extra); err != nil {
				t.Fatalf("verify: %v", err)
			}
			err = claims.Validate(jwtv4.Expected{Issuer: "https://auth.example.test", Subject: "user-1",
				AnyAudience: []string{"client-1"}, Time: now})
			if err != nil || extra.Nonce != "n-0S6_WzA2Mj" {
				t.Fatalf("claims: %v (nonce %q)", err, extra.Nonce)
			}
		})
	}
}

// TestFositeHeaderKidWins pins the trap documented on FositeKey: a kid in fosite's header extras replaces
// the one fosite takes from the key.
func TestFositeHeaderKidWins(t *testing.T) {
	set := newTestSet(t, newTestStore(), testSecret, newTestClock(t0))
	signer := &fositejwt.DefaultSigner{GetPrivateKey: set.FositeKeyFunc(RS256)}
	tok, _, err := signer.Generate(context.Background(), fositejwt.MapClaims{"sub": "user-1"},
		&fositejwt.Headers{Extra: map[string]interface{}{"kid": "stale"}})
	if err != nil {
		t.Fatal(err)
	}
	parsed, err := jwtv4.ParseSigned(tok, []josev4.SignatureAlgorithm{josev4.RS256})
	if err != nil {
		t.Fatal(err)
	}
	if kid := parsed.Headers[0].KeyID; kid != "stale" {
		t.Fatalf("header kid = %q: go-jose no longer lets header extras override the key's kid; update the FositeKey doc", kid)
	}
}

func TestFositeKeyBeforeLoad(t *testing.T) {
	set, err := New(newTestStore(), testSecret)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := set.FositeKey(RS256); !errors.Is(err, ErrNoSigningKey) {
		t.Fatalf("FositeKey before Load: error = %v, want ErrNoSigningKey", err)
	}
	if _, err := set.FositeKeyFunc(RS256)(context.Background()); !errors.Is(err, ErrNoSigningKey) {
		t.Fatalf("FositeKeyFunc before Load: error = %v, want ErrNoSigningKey", err)
	}
	if got := string(set.JWKSJSON()); got != `{"keys":[]}` {
		t.Fatalf("JWKSJSON before Load = %s", got)
	}
}

func TestListAndMaxAge(t *testing.T) {
	store := newTestStore()
	clock := newTestClock(t0)
	set := newTestSet(t, store, testSecret, clock, WithMaxAge(10*time.Minute), WithIDTokenLifespan(5*time.Minute))
	if set.MaxAge() != 10*time.Minute {
		t.Fatalf("MaxAge = %s", set.MaxAge())
	}
	mustRotate(t, set)
	infos, err := set.List(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, in := range infos {
		got = append(got, fmt.Sprintf("%s %s %s", in.Algorithm, in.State, in.ActiveAt.Sub(in.CreatedAt)))
		if in.State == StateCurrent && (in.ExpiresAt == nil || in.ExpiresAt.Sub(*in.RetiredAt) != 15*time.Minute) {
			t.Errorf("current key %s: expires %v retired %v, want 15m apart", in.ID, in.ExpiresAt, in.RetiredAt)
		}
	}
	want := []string{"ES256 current 0s", "ES256 next 20m0s", "RS256 current 0s", "RS256 next 20m0s"}
	if !slices.Equal(got, want) {
		t.Fatalf("List = %q, want %q", got, want)
	}
}

// testStore is an in-memory Store. createHook, when set, can fail a CreateSigningKey.
type testStore struct {
	mu         sync.Mutex
	recs       map[string]Record
	createHook func(Record) error
}

func newTestStore() *testStore { return &testStore{recs: map[string]Record{}} }

func (s *testStore) ListSigningKeys(context.Context) ([]Record, error) {
	return s.all(), nil
}

func (s *testStore) CreateSigningKey(_ context.Context, r Record) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.createHook != nil {
		if err := s.createHook(r); err != nil {
			return err
		}
	}
	if _, ok := s.recs[r.ID]; ok {
		return fmt.Errorf("kid %s already exists", r.ID)
	}
	s.recs[r.ID] = copyRecord(r)
	return nil
}

func (s *testStore) UpdateSigningKey(_ context.Context, kid string, fn func(*Record) error) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	r, ok := s.recs[kid]
	if !ok {
		return fmt.Errorf("kid %s not found", kid)
	}
	r = copyRecord(r)
	if err := fn(&r); err != nil {
		return err
	}
	s.recs[kid] = copyRecord(r)
	return nil
}

func (s *testStore) all() []Record {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Record
	for _, r := range s.recs {
		out = append(out, copyRecord(r))
	}
	return out
}

func (s *testStore) get(kid string) (Record, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	r, ok := s.recs[kid]
	return copyRecord(r), ok
}

// mutate hands fn the stored RS256 and ES256 records (the first Load's two) to damage in place.
func (s *testStore) mutate(fn func(rsa, ec *Record)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var r, e Record
	var rk, ek string
	for kid, rec := range s.recs {
		switch rec.Algorithm {
		case RS256:
			r, rk = copyRecord(rec), kid
		case ES256:
			e, ek = copyRecord(rec), kid
		}
	}
	fn(&r, &e)
	s.recs[rk], s.recs[ek] = r, e
}

func copyRecord(r Record) Record {
	r.PublicJWK = bytes.Clone(r.PublicJWK)
	r.PrivateKey = bytes.Clone(r.PrivateKey)
	if r.RetiredAt != nil {
		t := *r.RetiredAt
		r.RetiredAt = &t
	}
	if r.ExpiresAt != nil {
		t := *r.ExpiresAt
		r.ExpiresAt = &t
	}
	return r
}

type testClock struct {
	mu sync.Mutex
	t  time.Time
}

func newTestClock(t time.Time) *testClock { return &testClock{t: t} }

func (c *testClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *testClock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = t
}

func (c *testClock) Add(d time.Duration) { c.Set(c.Now().Add(d)) }

func newTestSet(t *testing.T, store Store, secret []byte, clock *testClock, opts ...Option) *Set {
	t.Helper()
	set, err := New(store, secret, append([]Option{WithClock(clock.Now)}, opts...)...)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	if err := set.Load(context.Background()); err != nil {
		t.Fatalf("Load: %v", err)
	}
	return set
}

func mustRotate(t *testing.T, set *Set) {
	t.Helper()
	if err := set.Rotate(context.Background()); err != nil {
		t.Fatalf("Rotate: %v", err)
	}
}

// kidInState returns the one key of alg in state st, as List reports it.
func kidInState(t *testing.T, set *Set, alg string, st State) string {
	t.Helper()
	infos, err := set.List(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	var kids []string
	for _, in := range infos {
		if in.Algorithm == alg && in.State == st {
			kids = append(kids, in.ID)
		}
	}
	if len(kids) != 1 {
		t.Fatalf("%s keys in state %s: %v, want exactly one", alg, st, kids)
	}
	return kids[0]
}

// newTestToken signs a token with fosite's signer, as the provider will, issued at iat.
func newTestToken(t *testing.T, set *Set, alg string, iat time.Time, lifespan time.Duration) string {
	t.Helper()
	signer := &fositejwt.DefaultSigner{GetPrivateKey: set.FositeKeyFunc(alg)}
	tok, _, err := signer.Generate(context.Background(), fositejwt.MapClaims{
		"iss": "https://auth.example.test", "sub": "user-1", "iat": iat.Unix(), "exp": iat.Add(lifespan).Unix(),
	}, &fositejwt.Headers{})
	if err != nil {
		t.Fatalf("fosite Generate: %v", err)
	}
	return tok
}

// verifyWithJWKS verifies tok's signature the way a relying party does: by the kid in its header, against
// the published set.
func verifyWithJWKS(tok, alg string, jwks josev4.JSONWebKeySet) error {
	parsed, err := jwtv4.ParseSigned(tok, []josev4.SignatureAlgorithm{josev4.SignatureAlgorithm(alg)})
	if err != nil {
		return err
	}
	found := jwks.Key(parsed.Headers[0].KeyID)
	if len(found) != 1 {
		return fmt.Errorf("kid %q: %d keys in the JWKS", parsed.Headers[0].KeyID, len(found))
	}
	var claims jwtv4.Claims
	return parsed.Claims(found[0].Key, &claims)
}

// assertPublicOnly fails unless raw is a public signing JWK: kid, alg, use "sig", and none of the private
// members of RFC 7518 §6.2.2 and §6.3.2.
func assertPublicOnly(t *testing.T, raw []byte) {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatalf("JWK %s: %v", raw, err)
	}
	for _, private := range []string{"d", "p", "q", "dp", "dq", "qi", "oth", "k"} {
		if _, ok := m[private]; ok {
			t.Fatalf("JWK has private member %q: %s", private, raw)
		}
	}
	if m["kid"] == "" || m["kid"] == nil || (m["alg"] != RS256 && m["alg"] != ES256) || m["use"] != "sig" {
		t.Fatalf("JWK lacks kid, alg or use=sig: %s", raw)
	}
}

func privateScalar(t *testing.T, signer any) []byte {
	t.Helper()
	switch k := signer.(type) {
	case *rsa.PrivateKey:
		return k.D.Bytes()
	case *ecdsa.PrivateKey:
		b, err := k.Bytes()
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	t.Fatalf("unexpected key %T", signer)
	return nil
}

func cmpOr(err error, s string) any {
	if err != nil {
		return err
	}
	return s
}
