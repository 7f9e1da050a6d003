package keys

import (
	"bytes"
	"cmp"
	"context"
	"crypto"
	"crypto/cipher"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	josev3 "github.com/go-jose/go-jose/v3"
	josev4 "github.com/go-jose/go-jose/v4"
)

// Errors returned by Set. Match them with errors.Is.
var (
	// ErrNoSigningKey is returned by FositeKey when no key of the algorithm may sign now (Load not
	// called, or every key retired).
	ErrNoSigningKey = errors.New("no current signing key")
	// ErrRotationPending is returned by Rotate while a key made by an earlier Rotate has not started
	// signing yet.
	ErrRotationPending = errors.New("a rotation is already pending")
)

// Defaults of the rotation policy.
const (
	DefaultMaxAge          = time.Hour // JWKS Cache-Control max-age
	DefaultIDTokenLifespan = time.Hour
	rsaBits                = 2048
)

// Option configures a Set.
type Option func(*Set)

// WithClock sets the clock the Set reads to decide which key signs and which keys are published
// (default time.Now). Tests pass a clock they move by hand.
func WithClock(now func() time.Time) Option { return func(s *Set) { s.now = now } }

// WithMaxAge sets the max-age of the JWKS Cache-Control header (default 1h). Relying parties may serve a
// JWKS this old, which is what the rotation lead and the retirement window are measured against.
func WithMaxAge(d time.Duration) Option { return func(s *Set) { s.maxAge = d } }

// WithIDTokenLifespan sets how long an ID token lives (default 1h): a retired key stays published for
// this long plus max-age, so every token it signed can still be verified until it expires.
func WithIDTokenLifespan(d time.Duration) Option { return func(s *Set) { s.idTokenLifespan = d } }

// WithPublishLead sets how long a new key is published before it signs (default and minimum: twice the
// max-age), so that every relying party's cached JWKS holds it before the first token it signs.
func WithPublishLead(d time.Duration) Option { return func(s *Set) { s.publishLead = d } }

// Set holds the signing keys in memory: the key each algorithm signs with now, and the public JWK set.
// All methods are safe for concurrent use. Create it with New and fill it with Load.
type Set struct {
	store           Store
	aead            cipher.AEAD
	now             func() time.Time
	maxAge          time.Duration
	idTokenLifespan time.Duration
	publishLead     time.Duration

	reloadMu sync.Mutex // serialises Load, Reload and Rotate

	mu          sync.RWMutex
	keys        []*key   // every non-expired key at the last (re)load
	fingerprint [32]byte // of the records keys was built from
	jwksKids    string   // the kids in jwksJSON, joined
	jwksJSON    []byte
}

// key is one decrypted signing key.
type key struct {
	rec    Record // PrivateKey cleared
	signer crypto.Signer
	public josev4.JSONWebKey // public only, with kid, alg, use
	json   []byte            // public, marshalled once
}

// New returns an empty Set that keeps its keys in store, sealed under a key derived from secret (at
// least MinSecretLen bytes). Call Load before use. It returns an error for a short secret or an
// inconsistent policy (non-positive durations, publish lead under twice the max-age).
func New(store Store, secret []byte, opts ...Option) (*Set, error) {
	aead, err := newAEAD(secret)
	if err != nil {
		return nil, err
	}
	s := &Set{store: store, aead: aead, now: time.Now, maxAge: DefaultMaxAge, idTokenLifespan: DefaultIDTokenLifespan}
	for _, o := range opts {
		o(s)
	}
	if s.publishLead == 0 {
		s.publishLead = 2 * s.maxAge
	}
	switch {
	case store == nil:
		return nil, errors.New("signing keys: nil store")
	case s.now == nil:
		return nil, errors.New("signing keys: nil clock")
	case s.maxAge <= 0:
		return nil, fmt.Errorf("signing keys: max-age %s must be positive", s.maxAge)
	case s.idTokenLifespan <= 0:
		return nil, fmt.Errorf("signing keys: ID token lifespan %s must be positive", s.idTokenLifespan)
	case s.publishLead < 2*s.maxAge:
		return nil, fmt.Errorf("signing keys: publish lead %s is shorter than twice the max-age %s", s.publishLead, s.maxAge)
	}
	return s, nil
}

// MaxAge is the max-age for the JWKS response's Cache-Control header.
func (s *Set) MaxAge() time.Duration { return s.maxAge }

// Load reads every key from the store, decrypts the ones not yet expired and keeps them in memory. When an
// algorithm has no key that may sign now (first start), it generates one, stores it sealed and makes it
// active at once: on a first start no relying party holds a cached JWKS that could lack it.
//
// It returns an error wrapping ErrDecrypt when a stored key does not open with the secret (and then
// generates nothing), or the store's error.
func (s *Set) Load(ctx context.Context) error {
	s.reloadMu.Lock()
	defer s.reloadMu.Unlock()

	recs, err := s.store.ListSigningKeys(ctx)
	if err != nil {
		return fmt.Errorf("load signing keys: %w", err)
	}
	// Decrypt first: with the wrong secret we must fail before writing keys sealed under it.
	if _, err := s.build(recs); err != nil {
		return err
	}
	now := s.now()
	created := false
	for _, alg := range algorithms {
		if slices.ContainsFunc(recs, func(r Record) bool { return r.Algorithm == alg && stateAt(&r, now) == StateCurrent }) {
			continue
		}
		at := storedTime(now)
		rec, err := s.generate(alg, at, at)
		if err != nil {
			return err
		}
		if err := s.store.CreateSigningKey(ctx, rec); err != nil {
			return fmt.Errorf("create signing key: %w", err)
		}
		created = true
	}
	if created {
		if recs, err = s.store.ListSigningKeys(ctx); err != nil {
			return fmt.Errorf("load signing keys: %w", err)
		}
	}
	return s.install(recs, true)
}

// Reload brings the in-memory keys up to date with the store, so that a rotation made by another process
// (the CLI, another replica) is picked up without a restart. serve calls it periodically (once a minute
// is plenty: a new key is published hours before it signs). It costs one ListSigningKeys when nothing
// changed: keys are decrypted again only when the records differ from the last load.
//
// On error the keys already in memory stay in use.
func (s *Set) Reload(ctx context.Context) error {
	s.reloadMu.Lock()
	defer s.reloadMu.Unlock()
	return s.reload(ctx)
}

func (s *Set) reload(ctx context.Context) error {
	recs, err := s.store.ListSigningKeys(ctx)
	if err != nil {
		return fmt.Errorf("reload signing keys: %w", err)
	}
	return s.install(recs, false)
}

// Rotate starts a rotation for every algorithm: it stores a new key, published now and signing from
// now + publish lead, and schedules every key that signs now to retire at that moment and to leave the
// JWKS an ID token lifespan plus a max-age later. Signing switches to the new key by itself when the clock
// passes its active_at; nothing needs restarting. Other processes see the new keys at their next Reload.
// Call Load first.
//
// An algorithm that still has a key from an earlier rotation waiting to sign is left alone, so running
// Rotate again after a partial failure completes the rotation; when every algorithm has one, Rotate
// changes nothing and returns an error wrapping ErrRotationPending. It returns an error wrapping ErrDecrypt
// when the stored keys do not open with this secret.
func (s *Set) Rotate(ctx context.Context) error {
	s.reloadMu.Lock()
	defer s.reloadMu.Unlock()

	recs, err := s.store.ListSigningKeys(ctx)
	if err != nil {
		return fmt.Errorf("rotate signing keys: %w", err)
	}
	if _, err := s.build(recs); err != nil {
		return err
	}
	now := s.now()
	var pending []string
	var todo []string
	for _, alg := range algorithms {
		i := slices.IndexFunc(recs, func(r Record) bool { return r.Algorithm == alg && stateAt(&r, now) == StateNext })
		if i < 0 {
			todo = append(todo, alg)
			continue
		}
		pending = append(pending, fmt.Sprintf("%s key %s signs from %s", alg, recs[i].ID,
			recs[i].ActiveAt.UTC().Format(time.RFC3339)))
	}
	if len(todo) == 0 {
		return fmt.Errorf("rotate signing keys: %w: %s", ErrRotationPending, strings.Join(pending, "; "))
	}
	created := storedTime(now)
	activeAt := created.Add(s.publishLead)
	expiresAt := activeAt.Add(s.idTokenLifespan + s.maxAge)
	for _, alg := range todo {
		rec, err := s.generate(alg, created, activeAt)
		if err != nil {
			return err
		}
		if err := s.store.CreateSigningKey(ctx, rec); err != nil {
			return fmt.Errorf("create signing key: %w", err)
		}
		// Retire after creating: should this fail, the new key still takes over at activeAt (Signing
		// prefers the latest active_at) and the old one merely stays published.
		for _, old := range recs {
			if old.Algorithm != alg || stateAt(&old, now) != StateCurrent {
				continue
			}
			err := s.store.UpdateSigningKey(ctx, old.ID, func(r *Record) error {
				if r.RetiredAt == nil || r.RetiredAt.After(activeAt) {
					t := activeAt
					r.RetiredAt = &t
				}
				if r.ExpiresAt == nil || r.ExpiresAt.After(expiresAt) {
					t := expiresAt
					r.ExpiresAt = &t
				}
				return nil
			})
			if err != nil {
				return fmt.Errorf("retire signing key kid=%s: %w", old.ID, err)
			}
		}
	}
	return s.reload(ctx)
}

// Signing returns the key that signs alg tokens now, and its kid: among the keys of alg that are
// current, the one with the latest active_at. ok is false when there is none (Load not called yet).
func (s *Set) Signing(alg string) (kid string, signer crypto.Signer, ok bool) {
	now := s.now()
	s.mu.RLock()
	defer s.mu.RUnlock()
	var best *key
	for _, k := range s.keys {
		if k.rec.Algorithm != alg || stateAt(&k.rec, now) != StateCurrent {
			continue
		}
		if best == nil || k.rec.ActiveAt.After(best.rec.ActiveAt) ||
			(k.rec.ActiveAt.Equal(best.rec.ActiveAt) && k.rec.ID > best.rec.ID) {
			best = k
		}
	}
	if best == nil {
		return "", nil, false
	}
	return best.rec.ID, best.signer, true
}

// FositeKey returns what fosite's token/jwt.DefaultSigner.GetPrivateKey should return for alg: a go-jose
// v3 JSON Web Key wrapping the current private key. fosite bundles go-jose v3 and accepts this type (a
// v4 key does not fit); from the wrapper it takes the algorithm and puts KeyID in the JWT's kid header,
// which a bare *rsa.PrivateKey would not. It returns an error wrapping ErrNoSigningKey when no key of alg
// may sign now.
//
// Leave kid out of the headers handed to fosite (the provider session's ID token headers): go-jose v3 lets
// an extra header override the key's KeyID, so a kid remembered at authorize time would name the wrong key
// once a rotation happens in between.
func (s *Set) FositeKey(alg string) (*josev3.JSONWebKey, error) {
	kid, signer, ok := s.Signing(alg)
	if !ok {
		return nil, fmt.Errorf("%s: %w", alg, ErrNoSigningKey)
	}
	return &josev3.JSONWebKey{Key: signer, KeyID: kid, Algorithm: alg, Use: "sig"}, nil
}

// FositeKeyFunc adapts FositeKey to fosite's jwt.GetPrivateKeyFunc, so the key is looked up at every
// signature and follows rotation: jwt.DefaultSigner{GetPrivateKey: set.FositeKeyFunc(keys.RS256)}.
func (s *Set) FositeKeyFunc(alg string) func(context.Context) (interface{}, error) {
	return func(context.Context) (interface{}, error) {
		k, err := s.FositeKey(alg)
		if err != nil {
			return nil, err
		}
		return k, nil
	}
}

// PublicJWKS returns the published keys (every key not yet expired: next, current and retired), public
// material only, each with kid, alg and use "sig". Newest first.
func (s *Set) PublicJWKS() josev4.JSONWebKeySet {
	var set josev4.JSONWebKeySet
	for _, k := range s.published() {
		set.Keys = append(set.Keys, k.public)
	}
	return set
}

// JWKSJSON returns PublicJWKS marshalled, the body of /.well-known/jwks.json. It is rebuilt only when the
// published keys change. The caller must not modify it.
func (s *Set) JWKSJSON() []byte {
	pub := s.published()
	var ids strings.Builder
	for _, k := range pub {
		ids.WriteString(k.rec.ID + " ")
	}
	s.mu.RLock()
	cached, body := s.jwksKids, s.jwksJSON
	s.mu.RUnlock()
	if body != nil && cached == ids.String() {
		return body
	}
	parts := make([][]byte, len(pub))
	for i, k := range pub {
		parts[i] = k.json
	}
	body = slices.Concat([]byte(`{"keys":[`), bytes.Join(parts, []byte(",")), []byte("]}"))
	s.mu.Lock()
	s.jwksKids, s.jwksJSON = ids.String(), body
	s.mu.Unlock()
	return body
}

// PublicKey returns the published key kid (for verifying tokens we signed, such as an id_token_hint,
// across a rotation). ok is false for an unknown or expired kid.
func (s *Set) PublicKey(kid string) (jwk josev4.JSONWebKey, ok bool) {
	for _, k := range s.published() {
		if k.rec.ID == kid {
			return k.public, true
		}
	}
	return josev4.JSONWebKey{}, false
}

func (s *Set) published() []*key {
	now := s.now()
	s.mu.RLock()
	defer s.mu.RUnlock()
	var pub []*key
	for _, k := range s.keys {
		if stateAt(&k.rec, now) != StateExpired {
			pub = append(pub, k)
		}
	}
	return pub
}

// List describes every stored key, expired ones included, with its state now, sorted by algorithm and
// then by creation. It reads the store and decrypts nothing.
func (s *Set) List(ctx context.Context) ([]Info, error) {
	recs, err := s.store.ListSigningKeys(ctx)
	if err != nil {
		return nil, fmt.Errorf("list signing keys: %w", err)
	}
	now := s.now()
	infos := make([]Info, 0, len(recs))
	for _, r := range recs {
		infos = append(infos, Info{ID: r.ID, Algorithm: r.Algorithm, State: stateAt(&r, now), CreatedAt: r.CreatedAt,
			ActiveAt: r.ActiveAt, RetiredAt: r.RetiredAt, ExpiresAt: r.ExpiresAt})
	}
	slices.SortFunc(infos, func(a, b Info) int {
		return cmp.Or(cmp.Compare(a.Algorithm, b.Algorithm), a.CreatedAt.Compare(b.CreatedAt),
			a.ActiveAt.Compare(b.ActiveAt), cmp.Compare(a.ID, b.ID))
	})
	return infos, nil
}

// install makes recs the keys in memory. Unless force is set, it does nothing when recs are the records
// of the last install.
func (s *Set) install(recs []Record, force bool) error {
	fp := fingerprint(recs)
	s.mu.RLock()
	same := s.keys != nil && s.fingerprint == fp
	s.mu.RUnlock()
	if same && !force {
		return nil
	}
	keys, err := s.build(recs)
	if err != nil {
		return err
	}
	slices.SortFunc(keys, func(a, b *key) int {
		return cmp.Or(b.rec.ActiveAt.Compare(a.rec.ActiveAt), cmp.Compare(a.rec.Algorithm, b.rec.Algorithm),
			cmp.Compare(a.rec.ID, b.rec.ID))
	})
	s.mu.Lock()
	s.keys, s.fingerprint = keys, fp
	s.jwksKids, s.jwksJSON = "", nil
	s.mu.Unlock()
	return nil
}

// build decrypts and checks every record not yet expired. Expired keys are never needed again.
func (s *Set) build(recs []Record) ([]*key, error) {
	now := s.now()
	keys := make([]*key, 0, len(recs))
	for _, r := range recs {
		if stateAt(&r, now) == StateExpired {
			continue
		}
		k, err := s.decode(r)
		if err != nil {
			return nil, err
		}
		keys = append(keys, k)
	}
	return keys, nil
}

func (s *Set) decode(r Record) (*key, error) {
	der, err := open(s.aead, r.ID, r.Algorithm, r.PrivateKey)
	if err != nil {
		return nil, err
	}
	defer clear(der)
	parsed, err := x509.ParsePKCS8PrivateKey(der)
	if err != nil {
		return nil, fmt.Errorf("signing key kid=%s: parse private key: %w", r.ID, err)
	}
	signer, err := checkKey(r.Algorithm, parsed)
	if err != nil {
		return nil, fmt.Errorf("signing key kid=%s: %w", r.ID, err)
	}
	var stored josev4.JSONWebKey
	if err := json.Unmarshal(r.PublicJWK, &stored); err != nil {
		return nil, fmt.Errorf("signing key kid=%s: parse public_jwk: %w", r.ID, err)
	}
	if !stored.IsPublic() || stored.KeyID != r.ID || !samePublic(stored.Key, signer.Public()) {
		return nil, fmt.Errorf("signing key kid=%s: public_jwk does not match the private key", r.ID)
	}
	pub := publicJWK(signer, r.ID, r.Algorithm)
	js, err := json.Marshal(pub)
	if err != nil {
		return nil, fmt.Errorf("signing key kid=%s: marshal public key: %w", r.ID, err)
	}
	r.PrivateKey = nil
	return &key{rec: r, signer: signer, public: pub, json: js}, nil
}

// checkKey accepts RSA keys of at least 2048 bits for RS256 (RFC 7518 §3.3) and P-256 keys for ES256
// (§3.4).
func checkKey(alg string, k any) (crypto.Signer, error) {
	switch alg {
	case RS256:
		if rk, ok := k.(*rsa.PrivateKey); ok && rk.N.BitLen() >= rsaBits {
			return rk, nil
		}
	case ES256:
		if ek, ok := k.(*ecdsa.PrivateKey); ok && ek.Curve == elliptic.P256() {
			return ek, nil
		}
	default:
		return nil, fmt.Errorf("unsupported algorithm %q", alg)
	}
	return nil, fmt.Errorf("private key %T does not fit %s", k, alg)
}

func samePublic(a, b crypto.PublicKey) bool {
	eq, ok := a.(interface{ Equal(crypto.PublicKey) bool })
	return ok && eq.Equal(b)
}

func publicJWK(signer crypto.Signer, kid, alg string) josev4.JSONWebKey {
	return josev4.JSONWebKey{Key: signer.Public(), KeyID: kid, Algorithm: alg, Use: "sig"}
}

// generate makes a new key for alg and its sealed record. The kid is the key's RFC 7638 thumbprint, so it
// is unique without coordination between replicas.
func (s *Set) generate(alg string, createdAt, activeAt time.Time) (Record, error) {
	var (
		signer crypto.Signer
		err    error
	)
	switch alg {
	case RS256:
		signer, err = rsa.GenerateKey(rand.Reader, rsaBits)
	case ES256:
		signer, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	default:
		err = fmt.Errorf("unsupported algorithm %q", alg)
	}
	if err != nil {
		return Record{}, fmt.Errorf("generate %s signing key: %w", alg, err)
	}
	pub := josev4.JSONWebKey{Key: signer.Public()}
	tp, err := pub.Thumbprint(crypto.SHA256)
	if err != nil {
		return Record{}, fmt.Errorf("generate %s signing key: thumbprint: %w", alg, err)
	}
	kid := base64.RawURLEncoding.EncodeToString(tp)
	pubJSON, err := json.Marshal(publicJWK(signer, kid, alg))
	if err != nil {
		return Record{}, fmt.Errorf("generate %s signing key: %w", alg, err)
	}
	der, err := x509.MarshalPKCS8PrivateKey(signer)
	if err != nil {
		return Record{}, fmt.Errorf("generate %s signing key: %w", alg, err)
	}
	defer clear(der)
	sealed, err := seal(s.aead, kid, alg, der)
	if err != nil {
		return Record{}, err
	}
	return Record{ID: kid, Algorithm: alg, PublicJWK: pubJSON, PrivateKey: sealed, CreatedAt: createdAt,
		ActiveAt: activeAt}, nil
}

// storedTime is t as the signing_keys columns keep it: UTC, whole seconds (timestamp(0)). Truncating here
// keeps a round trip through the database from moving a boundary.
func storedTime(t time.Time) time.Time { return t.UTC().Truncate(time.Second) }

// fingerprint digests everything in recs that install depends on, in an order-independent way.
func fingerprint(recs []Record) [32]byte {
	sorted := slices.Clone(recs)
	slices.SortFunc(sorted, func(a, b Record) int { return cmp.Compare(a.ID, b.ID) })
	h := sha256.New()
	field := func(b []byte) {
		h.Write(binary.BigEndian.AppendUint64(nil, uint64(len(b))))
		h.Write(b)
	}
	when := func(t *time.Time) {
		if t == nil {
			field(nil)
			return
		}
		b, _ := t.MarshalBinary()
		field(b)
	}
	for _, r := range sorted {
		field([]byte(r.ID))
		field([]byte(r.Algorithm))
		field(r.PublicJWK)
		field(r.PrivateKey)
		when(&r.CreatedAt)
		when(&r.ActiveAt)
		when(r.RetiredAt)
		when(r.ExpiresAt)
	}
	return [32]byte(h.Sum(nil))
}
