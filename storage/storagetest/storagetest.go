package storagetest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"net/url"
	"slices"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/ory/fosite"
	"github.com/ory/fosite/handler/openid"
	"github.com/ory/fosite/token/jwt"

	"github.com/kangrow/auth/storage"
)

type test struct {
	name string
	fn   func(t *testing.T, s *storage.Store)
}

// Run runs the suite, one subtest per behaviour. newStore is called at the start of every subtest and
// must return a Store over the migrated schema with empty tables (truncated between subtests).
func Run(t *testing.T, newStore func(t *testing.T) *storage.Store) {
	tests := []test{
		{"users/create and get", testUserCreateGet},
		{"users/duplicate email in another case", testUserDuplicateEmail},
		{"users/get by email ignores case", testUserGetByEmail},
		{"users/list", testUserList},
		{"users/update", testUserUpdate},
		{"users/record login concurrently", testUserRecordLogin},
		{"users/delete", testUserDelete},
		{"users/revoke user grants", testRevokeUserGrants},
		{"identities", testIdentities},
		{"clients", testClients},
		{"clients/fosite client", testFositeClient},
		{"login sessions", testLoginSessions},
		{"consents", testConsents},
		{"signing keys", testSigningKeys},
		{"invalid text", testInvalidText},
		{"fosite/authorize code session", testAuthorizeCodeSession},
		{"fosite/access token session", testAccessTokenSession},
		{"fosite/refresh token session", testRefreshTokenSession},
		{"fosite/pkce session", testPKCESession},
		{"fosite/openid session", testOpenIDSession},
		{"fosite/code invalidation", testCodeInvalidation},
		{"fosite/refresh rotation and reuse", testRefreshRotation},
		{"fosite/revoke by request id", testRevokeByRequestID},
		{"fosite/client credentials tokens", testClientCredentialsTokens},
		{"fosite/client assertion jti", testClientAssertionJTI},
		{"fosite/commit and rollback", testCommitRollback},
		{"fosite/queries inside a transaction", testQueriesInsideTransaction},
		{"delete expired", testDeleteExpired},
		{"race/authorize code redeemed once", testRaceAuthorizeCode},
		{"race/refresh token rotated once", testRaceRefreshRotation},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tc.fn(t, newStore(t))
		})
	}
}

// testContext bounds every subtest: a deadlock (a query waiting for a second connection while a
// transaction holds the only one) fails the test instead of hanging it.
func testContext(t *testing.T) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func mustCreateUser(t *testing.T, s *storage.Store, email string) *storage.User {
	t.Helper()
	u := &storage.User{Email: email}
	if err := s.CreateUser(testContext(t), u); err != nil {
		t.Fatalf("CreateUser(%s): %v", email, err)
	}
	return u
}

func mustCreateClient(t *testing.T, s *storage.Store, id string) *storage.Client {
	t.Helper()
	c := &storage.Client{
		ID:            id,
		Name:          "Client " + id,
		SecretHash:    storage.Digest("secret-of-" + id),
		RedirectURIs:  storage.StringList{"https://rp.example/callback"},
		GrantTypes:    storage.StringList{"authorization_code", "refresh_token", "client_credentials"},
		ResponseTypes: storage.StringList{"code"},
		Scopes:        storage.StringList{"openid", "profile", "email", "offline_access"},
		Audience:      storage.StringList{"https://api.example"},
	}
	if err := s.CreateClient(testContext(t), c); err != nil {
		t.Fatalf("CreateClient(%s): %v", id, err)
	}
	return c
}

// newSignature returns a random string like fosite's token signatures.
func newSignature(t *testing.T) string {
	t.Helper()
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(b)
}

// newRequest builds a request as fosite hands it to the store: subject is the user ID ("" for
// client_credentials), every field set so that a round trip can be checked.
func newRequest(client fosite.Client, subject string) *fosite.Request {
	now := time.Now().UTC().Truncate(time.Second)
	return &fosite.Request{
		ID:                uuid.NewString(),
		RequestedAt:       now,
		Client:            client,
		RequestedScope:    fosite.Arguments{"openid", "profile", "offline_access"},
		GrantedScope:      fosite.Arguments{"openid", "offline_access"},
		RequestedAudience: fosite.Arguments{"https://api.example"},
		GrantedAudience:   fosite.Arguments{"https://api.example"},
		Form: url.Values{
			"redirect_uri":          {"https://rp.example/callback"},
			"code_challenge":        {"E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"},
			"code_challenge_method": {"S256"},
		},
		Session: &openid.DefaultSession{
			Subject:  subject,
			Username: "alice",
			ExpiresAt: map[fosite.TokenType]time.Time{
				fosite.AuthorizeCode: now.Add(10 * time.Minute),
				fosite.AccessToken:   now.Add(time.Hour),
				fosite.RefreshToken:  now.Add(30 * 24 * time.Hour),
			},
			Claims: &jwt.IDTokenClaims{
				Subject:     subject,
				Issuer:      "https://issuer.example",
				Nonce:       "n-0S6_WzA2Mj",
				AuthTime:    now.Add(-time.Minute),
				RequestedAt: now,
				Extra:       map[string]any{"email": "alice@example.com"},
			},
			Headers: &jwt.Headers{Extra: map[string]any{"kid": "key-1"}},
		},
	}
}

// assertRequest checks that got is want after a trip through the store.
func assertRequest(t *testing.T, got fosite.Requester, want *fosite.Request) {
	t.Helper()
	if got == nil {
		t.Fatal("request is nil")
	}
	if got.GetID() != want.ID {
		t.Errorf("ID = %q, want %q", got.GetID(), want.ID)
	}
	if got.GetClient() == nil || got.GetClient().GetID() != want.Client.GetID() {
		t.Errorf("client = %v, want %q", got.GetClient(), want.Client.GetID())
	}
	if !got.GetRequestedAt().Equal(want.RequestedAt) {
		t.Errorf("RequestedAt = %v, want %v", got.GetRequestedAt(), want.RequestedAt)
	}
	for _, c := range []struct {
		name      string
		got, want fosite.Arguments
	}{
		{"requested scopes", got.GetRequestedScopes(), want.RequestedScope},
		{"granted scopes", got.GetGrantedScopes(), want.GrantedScope},
		{"requested audience", got.GetRequestedAudience(), want.RequestedAudience},
		{"granted audience", got.GetGrantedAudience(), want.GrantedAudience},
	} {
		if !slices.Equal(c.got, c.want) {
			t.Errorf("%s = %v, want %v", c.name, c.got, c.want)
		}
	}
	if g, w := got.GetRequestForm().Encode(), want.Form.Encode(); g != w {
		t.Errorf("form = %q, want %q", g, w)
	}
	if got.GetSession() == nil {
		t.Fatal("session is nil")
	}
	if g, w := got.GetSession().GetSubject(), want.Session.GetSubject(); g != w {
		t.Errorf("subject = %q, want %q", g, w)
	}
	for _, tt := range []fosite.TokenType{fosite.AuthorizeCode, fosite.AccessToken, fosite.RefreshToken} {
		if g, w := got.GetSession().GetExpiresAt(tt), want.Session.GetExpiresAt(tt); !g.Equal(w) {
			t.Errorf("session expiry of %s = %v, want %v", tt, g, w)
		}
	}
	if g, w := mustJSON(t, got.GetSession()), mustJSON(t, want.Session); g != w {
		t.Errorf("session = %s\nwant %s", g, w)
	}
}

func mustJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// wantErr fails unless errors.Is(err, target).
func wantErr(t *testing.T, what string, err, target error) {
	t.Helper()
	if !errors.Is(err, target) {
		t.Fatalf("%s: error = %v, want %v", what, err, target)
	}
}

// must fails on a non-nil error.
func must(t *testing.T, what string, err error) {
	t.Helper()
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

func ptr[T any](v T) *T { return &v }
