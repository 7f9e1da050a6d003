package storage_test

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/ory/fosite"
	"github.com/ory/fosite/compose"
	"github.com/ory/fosite/handler/openid"
	"github.com/ory/fosite/token/jwt"
	"gorm.io/gorm"

	"github.com/kangrow/auth/migrations"
	"github.com/kangrow/auth/storage"
	"github.com/kangrow/auth/storage/dbtest"
)

// TestFositeFlows drives fosite's own handlers over the Store, composed with the flows we ship: the
// conformance suite checks the adapter against fosite's documented contract, this checks it against
// fosite's callers (code and refresh reuse, revocation of unknown tokens, sessions read back).
func TestFositeFlows(t *testing.T) {
	t.Run("postgres", func(t *testing.T) { testFositeFlows(t, dbtest.Postgres(t)) })
	t.Run("sqlite", func(t *testing.T) { testFositeFlows(t, dbtest.SQLite(t)) })
}

// sha256Hasher compares client secrets against storage.Digest, as the provider must configure fosite.
type sha256Hasher struct{}

func (sha256Hasher) Compare(_ context.Context, hash, data []byte) error {
	if subtle.ConstantTimeCompare(hash, storage.Digest(string(data))) != 1 {
		return errors.New("secret mismatch")
	}
	return nil
}

func (sha256Hasher) Hash(_ context.Context, data []byte) ([]byte, error) {
	return storage.Digest(string(data)), nil
}

type testProvider struct {
	fosite.OAuth2Provider
	user *storage.User
}

func newTestProvider(t *testing.T, db *gorm.DB) (*testProvider, *storage.Store) {
	t.Helper()
	ctx := t.Context()
	if err := migrations.Up(ctx, db); err != nil {
		t.Fatalf("migrations.Up: %v", err)
	}
	s := storage.New(db)
	u := &storage.User{Email: "flow@example.com"}
	if err := s.CreateUser(ctx, u); err != nil {
		t.Fatal(err)
	}
	if err := s.CreateClient(ctx, &storage.Client{
		ID: "rp", Name: "RP", SecretHash: storage.Digest("s3cret"),
		RedirectURIs:  storage.StringList{"https://rp.example/cb"},
		GrantTypes:    storage.StringList{"authorization_code", "refresh_token", "client_credentials"},
		ResponseTypes: storage.StringList{"code"},
		Scopes:        storage.StringList{"openid", "offline_access"},
	}); err != nil {
		t.Fatal(err)
	}
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	cfg := &fosite.Config{
		GlobalSecret:          []byte("0123456789abcdef0123456789abcdef"),
		ClientSecretsHasher:   sha256Hasher{},
		AccessTokenLifespan:   time.Hour,
		RefreshTokenLifespan:  24 * time.Hour,
		AuthorizeCodeLifespan: 10 * time.Minute,
		IDTokenLifespan:       time.Hour,
		IDTokenIssuer:         "https://issuer.example",
		EnforcePKCE:           true,
	}
	keyGetter := func(context.Context) (any, error) { return key, nil }
	p := compose.Compose(cfg, s, &compose.CommonStrategy{
		CoreStrategy:               compose.NewOAuth2HMACStrategy(cfg),
		OpenIDConnectTokenStrategy: compose.NewOpenIDConnectStrategy(keyGetter, cfg),
		Signer:                     &jwt.DefaultSigner{GetPrivateKey: keyGetter},
	},
		compose.OAuth2AuthorizeExplicitFactory, compose.OAuth2RefreshTokenGrantFactory,
		compose.OAuth2ClientCredentialsGrantFactory, compose.OAuth2PKCEFactory, compose.OpenIDConnectExplicitFactory,
		compose.OAuth2TokenRevocationFactory, compose.OAuth2TokenIntrospectionFactory)
	return &testProvider{OAuth2Provider: p, user: u}, s
}

func newProviderSession() *openid.DefaultSession {
	return &openid.DefaultSession{Claims: &jwt.IDTokenClaims{}, Headers: &jwt.Headers{}}
}

const pkceVerifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"

// mustAuthorize runs an authorization request (code, PKCE S256, openid offline_access) for the user and
// returns the code.
func (p *testProvider) mustAuthorize(t *testing.T) string {
	t.Helper()
	sum := sha256.Sum256([]byte(pkceVerifier))
	q := url.Values{
		"response_type": {"code"}, "client_id": {"rp"}, "redirect_uri": {"https://rp.example/cb"},
		"scope": {"openid offline_access"}, "state": {"state-123456"}, "nonce": {"nonce-123456"},
		"code_challenge": {base64.RawURLEncoding.EncodeToString(sum[:])}, "code_challenge_method": {"S256"},
	}
	ctx := t.Context()
	ar, err := p.NewAuthorizeRequest(ctx, httptest.NewRequest("GET", "/oauth2/auth?"+q.Encode(), nil))
	if err != nil {
		t.Fatalf("authorize request: %v", fosite.ErrorToRFC6749Error(err).WithExposeDebug(true).GetDescription())
	}
	for _, scope := range ar.GetRequestedScopes() {
		ar.GrantScope(scope)
	}
	sess := newProviderSession()
	sess.Subject = p.user.ID.String()
	sess.Claims.Subject = p.user.ID.String()
	sess.Claims.AuthTime = time.Now().UTC()
	resp, err := p.NewAuthorizeResponse(ctx, ar, sess)
	if err != nil {
		t.Fatalf("authorize response: %v", fosite.ErrorToRFC6749Error(err).WithExposeDebug(true).GetDescription())
	}
	return resp.GetParameters().Get("code")
}

// token posts form to the token endpoint as the confidential client and returns status and JSON body.
func (p *testProvider) token(t *testing.T, form url.Values) (int, map[string]any) {
	t.Helper()
	r := httptest.NewRequest("POST", "/oauth2/token", strings.NewReader(form.Encode()))
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	r.Header.Set("User-Agent", "FlowTest/1.0")
	r.SetBasicAuth("rp", "s3cret")
	ctx := context.WithValue(t.Context(), fosite.RequestContextKey, r)
	w := httptest.NewRecorder()
	ar, err := p.NewAccessRequest(ctx, r, newProviderSession())
	if err == nil {
		var resp fosite.AccessResponder
		if resp, err = p.NewAccessResponse(ctx, ar); err == nil {
			p.WriteAccessResponse(ctx, w, ar, resp)
		}
	}
	if err != nil {
		p.WriteAccessError(ctx, w, ar, err)
	}
	var body map[string]any
	if err := json.Unmarshal(w.Body.Bytes(), &body); err != nil {
		t.Fatalf("token response %q: %v", w.Body, err)
	}
	return w.Code, body
}

func (p *testProvider) revoke(t *testing.T, token string) int {
	t.Helper()
	r := httptest.NewRequest("POST", "/oauth2/revoke", strings.NewReader(url.Values{"token": {token}}.Encode()))
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	r.SetBasicAuth("rp", "s3cret")
	w := httptest.NewRecorder()
	p.WriteRevocationResponse(t.Context(), w, p.NewRevocationRequest(t.Context(), r))
	return w.Code
}

func (p *testProvider) active(t *testing.T, token string) bool {
	t.Helper()
	r := httptest.NewRequest("POST", "/oauth2/introspect", strings.NewReader(url.Values{"token": {token}}.Encode()))
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	r.SetBasicAuth("rp", "s3cret")
	ir, err := p.NewIntrospectionRequest(t.Context(), r, newProviderSession())
	return err == nil && ir.IsActive()
}

func testFositeFlows(t *testing.T, db *gorm.DB) {
	p, s := newTestProvider(t, db)
	codeForm := func(code string) url.Values {
		return url.Values{"grant_type": {"authorization_code"}, "code": {code},
			"redirect_uri": {"https://rp.example/cb"}, "code_verifier": {pkceVerifier}}
	}
	refreshForm := func(token string) url.Values {
		return url.Values{"grant_type": {"refresh_token"}, "refresh_token": {token}}
	}

	// Code exchange, then reuse of the code: invalid_grant, and what the code gave is revoked.
	code := p.mustAuthorize(t)
	status, body := p.token(t, codeForm(code))
	if status != http.StatusOK || body["id_token"] == nil || body["refresh_token"] == nil {
		t.Fatalf("code exchange: %d %v", status, body)
	}
	access, refresh := body["access_token"].(string), body["refresh_token"].(string)
	if !p.active(t, access) {
		t.Error("access token is not active")
	}
	if status, body = p.token(t, codeForm(code)); status != http.StatusBadRequest || body["error"] != "invalid_grant" {
		t.Errorf("code reuse: %d %v, want invalid_grant", status, body)
	}
	if p.active(t, access) {
		t.Error("access token still active after code reuse")
	}
	if status, body = p.token(t, refreshForm(refresh)); status == http.StatusOK {
		t.Errorf("refresh after code reuse: %d %v, want an error", status, body)
	}

	// Refresh rotation, then reuse of the old refresh token: invalid_grant, and the grant is revoked.
	_, body = p.token(t, codeForm(p.mustAuthorize(t)))
	refreshA, ok := body["refresh_token"].(string)
	if !ok {
		t.Fatalf("second code exchange: %v", body)
	}
	status, body = p.token(t, refreshForm(refreshA))
	if status != http.StatusOK || body["refresh_token"] == nil {
		t.Fatalf("refresh: %d %v", status, body)
	}
	accessB, refreshB := body["access_token"].(string), body["refresh_token"].(string)
	if status, body = p.token(t, refreshForm(refreshA)); status != http.StatusBadRequest || body["error"] != "invalid_grant" {
		t.Errorf("refresh reuse: %d %v, want invalid_grant", status, body)
	}
	if p.active(t, accessB) {
		t.Error("access token of the rotated grant still active after reuse")
	}
	if status, _ = p.token(t, refreshForm(refreshB)); status == http.StatusOK {
		t.Error("refresh token of the rotated grant still usable after reuse")
	}
	rows, err := s.ListRefreshTokens(t.Context(), p.user.ID)
	if err != nil {
		t.Fatal(err)
	}
	for _, row := range rows {
		if !row.Revoked || row.DeviceInfo == nil || *row.DeviceInfo != "FlowTest/1.0" {
			t.Errorf("refresh token row: revoked %v, device %v", row.Revoked, row.DeviceInfo)
		}
	}

	// client_credentials: a token of no user; revocation (RFC 7009) answers 200 even for unknown or
	// already revoked tokens.
	status, body = p.token(t, url.Values{"grant_type": {"client_credentials"}})
	if status != http.StatusOK {
		t.Fatalf("client_credentials: %d %v", status, body)
	}
	service := body["access_token"].(string)
	if !p.active(t, service) {
		t.Error("client_credentials token is not active")
	}
	for _, tc := range []struct {
		name, token string
	}{
		{"client_credentials token", service},
		{"unknown token", "unknown.token"},
		{"revoked access token", access},
		{"revoked refresh token", refreshB},
	} {
		if got := p.revoke(t, tc.token); got != http.StatusOK {
			t.Errorf("revoke %s: %d, want 200", tc.name, got)
		}
	}
	if p.active(t, service) {
		t.Error("client_credentials token still active after revocation")
	}
}
