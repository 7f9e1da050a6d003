package provider

import (
	"context"
	"crypto/hkdf"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"net/url"
	"time"

	"github.com/google/uuid"
	"github.com/ory/fosite"
	"github.com/ory/fosite/compose"
	"github.com/ory/fosite/handler/oauth2"
	"github.com/ory/fosite/handler/openid"
	"github.com/ory/fosite/handler/pkce"
	fositestorage "github.com/ory/fosite/storage"

	"github.com/kangrow/auth/storage"
)

// Store is what the provider needs of storage: fosite's storage interfaces (implemented by the adapter
// in storage/fosite.go) and the user lookup behind userinfo.
type Store interface {
	fosite.ClientManager
	oauth2.CoreStorage
	oauth2.TokenRevocationStorage
	pkce.PKCERequestStorage
	openid.OpenIDConnectRequestStorage
	fositestorage.Transactional

	GetUser(ctx context.Context, id uuid.UUID) (*storage.User, error)
	GetClientByID(ctx context.Context, id string) (*storage.Client, error)
}

// Config holds what the provider needs to know; zero lifespans take the defaults below.
type Config struct {
	// Issuer is the exact "iss" and the base of every endpoint URL (no trailing slash).
	Issuer string
	// Secret is the system secret; the HMAC key of opaque tokens and codes is derived from it.
	Secret []byte

	AccessTokenLifespan   time.Duration // default 1h
	RefreshTokenLifespan  time.Duration // default 30 days
	AuthorizeCodeLifespan time.Duration // default 10 minutes
	IDTokenLifespan       time.Duration // default 1h

	// Now is the clock for what the provider decides itself; fosite reads the wall clock.
	Now func() time.Time
}

// Provider is the OAuth 2.0 / OpenID Connect engine: fosite composed with exactly the flows we ship.
type Provider struct {
	cfg       Config
	oauth2    fosite.OAuth2Provider
	fosite    *fosite.Config
	store     Store
	keys      KeySet
	signer    *signer
	discovery []byte
	endpoints endpoints
	// noState stands in for an absent state while fosite parses a request; see ParseAuthorize.
	noState string
}

type endpoints struct {
	authorize, token, userinfo, jwks, revoke, introspect, endSession string
}

// New validates cfg and composes fosite over store and keys.
func New(cfg Config, store Store, keys KeySet) (*Provider, error) {
	iss, err := url.Parse(cfg.Issuer)
	if err != nil || iss.Scheme == "" || iss.Host == "" || iss.RawQuery != "" || iss.Fragment != "" {
		return nil, fmt.Errorf("issuer %q: want an absolute URL without query or fragment", cfg.Issuer)
	}
	if len(cfg.Secret) < 32 {
		return nil, errors.New("system secret: want at least 32 bytes")
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	def := func(d *time.Duration, v time.Duration) {
		if *d <= 0 {
			*d = v
		}
	}
	def(&cfg.AccessTokenLifespan, time.Hour)
	def(&cfg.RefreshTokenLifespan, 30*24*time.Hour)
	def(&cfg.AuthorizeCodeLifespan, 10*time.Minute)
	def(&cfg.IDTokenLifespan, time.Hour)

	hmacKey, err := hkdf.Key(sha256.New, cfg.Secret, nil, "kangrow-auth fosite hmac v1", 32)
	if err != nil {
		return nil, fmt.Errorf("derive token key: %w", err)
	}

	ep := endpoints{
		authorize:  cfg.Issuer + "/oauth2/authorize",
		token:      cfg.Issuer + "/oauth2/token",
		userinfo:   cfg.Issuer + "/userinfo",
		jwks:       cfg.Issuer + "/.well-known/jwks.json",
		revoke:     cfg.Issuer + "/oauth2/revoke",
		introspect: cfg.Issuer + "/oauth2/introspect",
		endSession: cfg.Issuer + "/oauth2/logout",
	}
	fc := &fosite.Config{
		AccessTokenLifespan:   cfg.AccessTokenLifespan,
		RefreshTokenLifespan:  cfg.RefreshTokenLifespan,
		AuthorizeCodeLifespan: cfg.AuthorizeCodeLifespan,
		IDTokenLifespan:       cfg.IDTokenLifespan,
		IDTokenIssuer:         cfg.Issuer,
		AccessTokenIssuer:     cfg.Issuer,
		TokenURL:              ep.token,
		GlobalSecret:          hmacKey,
		// Scopes are compared exactly: "openid" must not grant "openid.admin" (fosite's default is
		// hierarchic).
		ScopeStrategy:            fosite.ExactScopeStrategy,
		AudienceMatchingStrategy: fosite.DefaultAudienceMatchingStrategy,
		// PKCE: S256 only, and required of public clients (RFC 9700 §2.1.1, RFC 7636 §4.2).
		EnforcePKCEForPublicClients:    true,
		EnablePKCEPlainChallengeMethod: false,
		// Refresh tokens only for offline_access (OIDC Core §11).
		RefreshTokenScopes: []string{"offline_access"},
		// state and nonce are the client's opaque values (RFC 6749 §4.1.1, OIDC Core §3.1.2.1) with no
		// length rule; fosite's default of 8 characters would refuse valid requests.
		MinParameterEntropy:  1,
		ClientSecretsHasher:  digestHasher{},
		FormPostHTMLTemplate: formPostTemplate,
	}

	sig := &signer{keys: keys}
	strategy := &compose.CommonStrategy{
		CoreStrategy:               compose.NewOAuth2HMACStrategy(fc),
		OpenIDConnectTokenStrategy: &openid.DefaultStrategy{Signer: sig, Config: fc},
		Signer:                     sig,
	}
	noState := make([]byte, 24)
	if _, err := rand.Read(noState); err != nil {
		return nil, fmt.Errorf("random: %w", err)
	}
	p := &Provider{
		noState:   "absent-" + base64.RawURLEncoding.EncodeToString(noState),
		cfg:       cfg,
		fosite:    fc,
		store:     store,
		keys:      keys,
		signer:    sig,
		endpoints: ep,
	}
	// Only the flows we ship; compose.ComposeAllEnabled would also switch on implicit, hybrid,
	// password and device flows.
	p.oauth2 = compose.Compose(fc, store, strategy,
		compose.OAuth2AuthorizeExplicitFactory,
		compose.OAuth2ClientCredentialsGrantFactory,
		compose.OAuth2RefreshTokenGrantFactory,
		compose.OpenIDConnectExplicitFactory,
		compose.OpenIDConnectRefreshFactory,
		compose.OAuth2TokenIntrospectionFactory,
		compose.OAuth2TokenRevocationFactory,
		compose.OAuth2PKCEFactory,
	)
	if p.discovery, err = p.buildDiscovery(); err != nil {
		return nil, err
	}
	return p, nil
}

// Issuer returns the configured issuer.
func (p *Provider) Issuer() string { return p.cfg.Issuer }

// digestHasher checks client secrets against storage.Digest. Generated secrets carry 256 bits of
// entropy (and the command line refuses short ones), so a fast keyed-free digest is as safe as a slow
// password hash and keeps client authentication cheap on the token endpoint.
type digestHasher struct{}

func (digestHasher) Compare(_ context.Context, hash, data []byte) error {
	if len(hash) == 0 || subtle.ConstantTimeCompare(hash, storage.Digest(string(data))) != 1 {
		return errors.New("client secret does not match")
	}
	return nil
}

func (digestHasher) Hash(_ context.Context, data []byte) ([]byte, error) {
	return storage.Digest(string(data)), nil
}
