package storagetest

import (
	"context"
	"encoding/hex"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/ory/fosite"
	"github.com/ory/fosite/handler/openid"

	"github.com/kangrow/auth/storage"
)

type openidSession = openid.DefaultSession

// grant is a user, a client and a request of the user to the client, as fosite would store it.
type grant struct {
	user   *storage.User
	client *storage.Client
	req    *fosite.Request
}

func newGrant(t *testing.T, s *storage.Store) grant {
	t.Helper()
	u := mustCreateUser(t, s, "user-"+newSignature(t)[:8]+"@example.com")
	c := mustCreateClient(t, s, "rp-"+newSignature(t)[:8])
	return grant{user: u, client: c, req: newRequest(c, u.ID.String())}
}

func testAuthorizeCodeSession(t *testing.T, s *storage.Store) {
	ctx := testContext(t)
	g := newGrant(t, s)
	code := newSignature(t)
	must(t, "CreateAuthorizeCodeSession", s.CreateAuthorizeCodeSession(ctx, code, g.req))

	got, err := s.GetAuthorizeCodeSession(ctx, code, &openidSession{})
	must(t, "GetAuthorizeCodeSession", err)
	assertRequest(t, got, g.req)

	_, err = s.GetAuthorizeCodeSession(ctx, newSignature(t), &openidSession{})
	wantErr(t, "GetAuthorizeCodeSession(unknown)", err, fosite.ErrNotFound)
}

func testAccessTokenSession(t *testing.T, s *storage.Store) {
	ctx := testContext(t)
	g := newGrant(t, s)
	sig := newSignature(t)
	must(t, "CreateAccessTokenSession", s.CreateAccessTokenSession(ctx, sig, g.req))

	got, err := s.GetAccessTokenSession(ctx, sig, &openidSession{})
	must(t, "GetAccessTokenSession", err)
	assertRequest(t, got, g.req)

	// fosite's revocation handler asks without a session.
	got, err = s.GetAccessTokenSession(ctx, sig, nil)
	must(t, "GetAccessTokenSession(nil session)", err)
	if got.GetID() != g.req.ID || got.GetSession().GetSubject() != g.user.ID.String() {
		t.Errorf("GetAccessTokenSession(nil session) = %v, subject %q", got.GetID(), got.GetSession().GetSubject())
	}

	must(t, "DeleteAccessTokenSession", s.DeleteAccessTokenSession(ctx, sig))
	_, err = s.GetAccessTokenSession(ctx, sig, &openidSession{})
	wantErr(t, "GetAccessTokenSession(deleted)", err, fosite.ErrNotFound)
	must(t, "DeleteAccessTokenSession(again)", s.DeleteAccessTokenSession(ctx, sig))
}

func testRefreshTokenSession(t *testing.T, s *storage.Store) {
	g := newGrant(t, s)
	sig, access := newSignature(t), newSignature(t)
	// The provider may put the HTTP request in the context; its User-Agent becomes device_info.
	r := httptest.NewRequest("POST", "/oauth2/token", nil)
	r.Header.Set("User-Agent", "TestBrowser/1.0")
	ctx := context.WithValue(testContext(t), fosite.RequestContextKey, r)
	must(t, "CreateRefreshTokenSession", s.CreateRefreshTokenSession(ctx, sig, access, g.req))

	got, err := s.GetRefreshTokenSession(ctx, sig, &openidSession{})
	must(t, "GetRefreshTokenSession", err)
	assertRequest(t, got, g.req)

	rows, err := s.ListRefreshTokens(ctx, g.user.ID)
	must(t, "ListRefreshTokens", err)
	if len(rows) != 1 {
		t.Fatalf("ListRefreshTokens = %d rows, want 1", len(rows))
	}
	row := rows[0]
	if row.Token == sig || row.Token != hex.EncodeToString(storage.Digest(sig)) {
		t.Errorf("stored token = %q, want the hex digest of the signature", row.Token)
	}
	if want := g.req.Session.GetExpiresAt(fosite.RefreshToken); !row.ExpiresAt.Equal(want) {
		t.Errorf("ExpiresAt = %v, want the session's refresh expiry %v", row.ExpiresAt, want)
	}
	if row.Revoked || row.DeviceInfo == nil || *row.DeviceInfo != "TestBrowser/1.0" || row.RequestID == nil || *row.RequestID != g.req.ID {
		t.Errorf("row = %+v", row)
	}

	// Deleting marks it revoked and keeps it, so that a later use is detected as reuse.
	must(t, "DeleteRefreshTokenSession", s.DeleteRefreshTokenSession(ctx, sig))
	got, err = s.GetRefreshTokenSession(ctx, sig, &openidSession{})
	wantErr(t, "GetRefreshTokenSession(deleted)", err, fosite.ErrInactiveToken)
	assertRequest(t, got, g.req)
	must(t, "DeleteRefreshTokenSession(unknown)", s.DeleteRefreshTokenSession(ctx, newSignature(t)))
	_, err = s.GetRefreshTokenSession(ctx, newSignature(t), &openidSession{})
	wantErr(t, "GetRefreshTokenSession(unknown)", err, fosite.ErrNotFound)

	// A session without refresh expiry (lifespan -1) still gets one: expires_at is NOT NULL.
	forever := newRequest(g.client, g.user.ID.String())
	delete(forever.Session.(*openidSession).ExpiresAt, fosite.RefreshToken)
	must(t, "CreateRefreshTokenSession(no expiry)", s.CreateRefreshTokenSession(ctx, newSignature(t), "", forever))
	rows, err = s.ListRefreshTokens(ctx, g.user.ID)
	must(t, "ListRefreshTokens", err)
	if want := forever.RequestedAt.Add(30 * 24 * time.Hour); len(rows) != 2 || !rows[1].ExpiresAt.Equal(want) {
		t.Errorf("fallback expiry = %+v, want %v", rows, want)
	}

	// A refresh token belongs to a user.
	err = s.CreateRefreshTokenSession(ctx, newSignature(t), "", newRequest(g.client, ""))
	if err == nil {
		t.Error("CreateRefreshTokenSession(no subject) succeeded")
	}
}

func testPKCESession(t *testing.T, s *storage.Store) {
	ctx := testContext(t)
	g := newGrant(t, s)
	sig := newSignature(t)
	must(t, "CreatePKCERequestSession", s.CreatePKCERequestSession(ctx, sig, g.req))
	got, err := s.GetPKCERequestSession(ctx, sig, &openidSession{})
	must(t, "GetPKCERequestSession", err)
	assertRequest(t, got, g.req)
	if got.GetRequestForm().Get("code_challenge") == "" {
		t.Error("code_challenge lost")
	}
	must(t, "DeletePKCERequestSession", s.DeletePKCERequestSession(ctx, sig))
	_, err = s.GetPKCERequestSession(ctx, sig, &openidSession{})
	wantErr(t, "GetPKCERequestSession(deleted)", err, fosite.ErrNotFound)
	must(t, "DeletePKCERequestSession(again)", s.DeletePKCERequestSession(ctx, sig))
}

func testOpenIDSession(t *testing.T, s *storage.Store) {
	ctx := testContext(t)
	g := newGrant(t, s)
	code := newSignature(t)
	must(t, "CreateOpenIDConnectSession", s.CreateOpenIDConnectSession(ctx, code, g.req))

	// fosite passes the token request in flight; its session must be left alone.
	inFlight := &fosite.Request{Session: &openidSession{Subject: "in-flight"}}
	got, err := s.GetOpenIDConnectSession(ctx, code, inFlight)
	must(t, "GetOpenIDConnectSession", err)
	assertRequest(t, got, g.req)
	if _, ok := got.GetSession().(openid.Session); !ok {
		t.Errorf("session is a %T, want an openid.Session", got.GetSession())
	}
	if inFlight.Session.GetSubject() != "in-flight" {
		t.Error("GetOpenIDConnectSession changed the session of the request in flight")
	}

	must(t, "DeleteOpenIDConnectSession", s.DeleteOpenIDConnectSession(ctx, code))
	_, err = s.GetOpenIDConnectSession(ctx, code, inFlight)
	wantErr(t, "GetOpenIDConnectSession(deleted)", err, openid.ErrNoSessionFound)
}

func testCodeInvalidation(t *testing.T, s *storage.Store) {
	ctx := testContext(t)
	g := newGrant(t, s)
	code := newSignature(t)
	must(t, "CreateAuthorizeCodeSession", s.CreateAuthorizeCodeSession(ctx, code, g.req))

	must(t, "InvalidateAuthorizeCodeSession", s.InvalidateAuthorizeCodeSession(ctx, code))
	wantErr(t, "InvalidateAuthorizeCodeSession(again)", s.InvalidateAuthorizeCodeSession(ctx, code), fosite.ErrInvalidatedAuthorizeCode)

	// fosite needs the request along with the sentinel to revoke what the code gave.
	got, err := s.GetAuthorizeCodeSession(ctx, code, &openidSession{})
	wantErr(t, "GetAuthorizeCodeSession(used)", err, fosite.ErrInvalidatedAuthorizeCode)
	assertRequest(t, got, g.req)

	wantErr(t, "InvalidateAuthorizeCodeSession(unknown)", s.InvalidateAuthorizeCodeSession(ctx, newSignature(t)), fosite.ErrNotFound)
}

func testRefreshRotation(t *testing.T, s *storage.Store) {
	ctx := testContext(t)
	g := newGrant(t, s)
	access1, refresh1 := newSignature(t), newSignature(t)
	must(t, "CreateAccessTokenSession", s.CreateAccessTokenSession(ctx, access1, g.req))
	must(t, "CreateRefreshTokenSession", s.CreateRefreshTokenSession(ctx, refresh1, access1, g.req))

	must(t, "RotateRefreshToken", s.RotateRefreshToken(ctx, g.req.ID, refresh1))
	_, err := s.GetAccessTokenSession(ctx, access1, &openidSession{})
	wantErr(t, "GetAccessTokenSession(after rotation)", err, fosite.ErrNotFound)
	got, err := s.GetRefreshTokenSession(ctx, refresh1, &openidSession{})
	wantErr(t, "GetRefreshTokenSession(rotated)", err, fosite.ErrInactiveToken)
	assertRequest(t, got, g.req)
	wantErr(t, "RotateRefreshToken(again)", s.RotateRefreshToken(ctx, g.req.ID, refresh1), fosite.ErrInactiveToken)
	wantErr(t, "RotateRefreshToken(unknown)", s.RotateRefreshToken(ctx, g.req.ID, newSignature(t)), fosite.ErrNotFound)
	rows, err := s.ListRefreshTokens(ctx, g.user.ID)
	must(t, "ListRefreshTokens", err)
	if len(rows) != 1 || rows[0].LastUsedAt == nil {
		t.Errorf("rotated token: %+v, want last_used_at set", rows)
	}

	// The next pair of the same grant.
	access2, refresh2 := newSignature(t), newSignature(t)
	must(t, "CreateAccessTokenSession(2)", s.CreateAccessTokenSession(ctx, access2, g.req))
	must(t, "CreateRefreshTokenSession(2)", s.CreateRefreshTokenSession(ctx, refresh2, access2, g.req))
	_, err = s.GetRefreshTokenSession(ctx, refresh2, &openidSession{})
	must(t, "GetRefreshTokenSession(2)", err)

	// Reuse of refresh1: fosite deletes it and revokes the whole grant.
	must(t, "DeleteRefreshTokenSession", s.DeleteRefreshTokenSession(ctx, refresh1))
	must(t, "RevokeRefreshToken", s.RevokeRefreshToken(ctx, g.req.ID))
	must(t, "RevokeAccessToken", s.RevokeAccessToken(ctx, g.req.ID))
	_, err = s.GetRefreshTokenSession(ctx, refresh2, &openidSession{})
	wantErr(t, "GetRefreshTokenSession(2, after reuse)", err, fosite.ErrInactiveToken)
	_, err = s.GetAccessTokenSession(ctx, access2, &openidSession{})
	wantErr(t, "GetAccessTokenSession(2, after reuse)", err, fosite.ErrNotFound)
}

func testRevokeByRequestID(t *testing.T, s *storage.Store) {
	ctx := testContext(t)
	g := newGrant(t, s)
	other := newRequest(g.client, g.user.ID.String())
	access, refresh := newSignature(t), newSignature(t)
	otherAccess, otherRefresh := newSignature(t), newSignature(t)
	must(t, "CreateAccessTokenSession", s.CreateAccessTokenSession(ctx, access, g.req))
	must(t, "CreateRefreshTokenSession", s.CreateRefreshTokenSession(ctx, refresh, access, g.req))
	must(t, "CreateAccessTokenSession(other)", s.CreateAccessTokenSession(ctx, otherAccess, other))
	must(t, "CreateRefreshTokenSession(other)", s.CreateRefreshTokenSession(ctx, otherRefresh, otherAccess, other))

	must(t, "RevokeRefreshToken", s.RevokeRefreshToken(ctx, g.req.ID))
	must(t, "RevokeAccessToken", s.RevokeAccessToken(ctx, g.req.ID))

	_, err := s.GetAccessTokenSession(ctx, access, &openidSession{})
	wantErr(t, "access token of the revoked grant", err, fosite.ErrNotFound)
	_, err = s.GetRefreshTokenSession(ctx, refresh, &openidSession{})
	wantErr(t, "refresh token of the revoked grant", err, fosite.ErrInactiveToken)
	_, err = s.GetAccessTokenSession(ctx, otherAccess, &openidSession{})
	must(t, "access token of another grant", err)
	_, err = s.GetRefreshTokenSession(ctx, otherRefresh, &openidSession{})
	must(t, "refresh token of another grant", err)

	// Revoking a grant with nothing left is done, not an error (fosite's revocation must not fail).
	must(t, "RevokeRefreshToken(unknown)", s.RevokeRefreshToken(ctx, "no-such-request"))
	must(t, "RevokeAccessToken(unknown)", s.RevokeAccessToken(ctx, "no-such-request"))
}

func testClientCredentialsTokens(t *testing.T, s *storage.Store) {
	ctx := testContext(t)
	client := mustCreateClient(t, s, "service")
	req := newRequest(client, "") // client_credentials: no user
	sig := newSignature(t)
	must(t, "CreateAccessTokenSession(no subject)", s.CreateAccessTokenSession(ctx, sig, req))

	got, err := s.GetAccessTokenSession(ctx, sig, &openidSession{})
	must(t, "GetAccessTokenSession", err)
	assertRequest(t, got, req)

	must(t, "RevokeAccessToken", s.RevokeAccessToken(ctx, req.ID))
	_, err = s.GetAccessTokenSession(ctx, sig, &openidSession{})
	wantErr(t, "GetAccessTokenSession(revoked)", err, fosite.ErrNotFound)

	sig2 := newSignature(t)
	must(t, "CreateAccessTokenSession(2)", s.CreateAccessTokenSession(ctx, sig2, req))
	must(t, "DeleteAccessTokenSession", s.DeleteAccessTokenSession(ctx, sig2))
	_, err = s.GetAccessTokenSession(ctx, sig2, &openidSession{})
	wantErr(t, "GetAccessTokenSession(deleted)", err, fosite.ErrNotFound)

	// Deleting the client deletes its tokens.
	sig3 := newSignature(t)
	must(t, "CreateAccessTokenSession(3)", s.CreateAccessTokenSession(ctx, sig3, req))
	must(t, "DeleteClient", s.DeleteClient(ctx, "service"))
	_, err = s.GetAccessTokenSession(ctx, sig3, &openidSession{})
	wantErr(t, "GetAccessTokenSession(client deleted)", err, fosite.ErrNotFound)
}

func testClientAssertionJTI(t *testing.T, s *storage.Store) {
	ctx := testContext(t)
	must(t, "ClientAssertionJWTValid(new)", s.ClientAssertionJWTValid(ctx, "jti-1"))
	must(t, "SetClientAssertionJWT", s.SetClientAssertionJWT(ctx, "jti-1", time.Now().Add(time.Hour)))
	wantErr(t, "ClientAssertionJWTValid(known)", s.ClientAssertionJWTValid(ctx, "jti-1"), fosite.ErrJTIKnown)
	wantErr(t, "SetClientAssertionJWT(known)", s.SetClientAssertionJWT(ctx, "jti-1", time.Now().Add(time.Hour)), fosite.ErrJTIKnown)

	// An expired jti can no longer be replayed, so it is forgotten.
	must(t, "SetClientAssertionJWT(expired)", s.SetClientAssertionJWT(ctx, "jti-2", time.Now().Add(-time.Minute)))
	must(t, "ClientAssertionJWTValid(expired)", s.ClientAssertionJWTValid(ctx, "jti-2"))
	must(t, "SetClientAssertionJWT(after expiry)", s.SetClientAssertionJWT(ctx, "jti-2", time.Now().Add(time.Hour)))
}

func testCommitRollback(t *testing.T, s *storage.Store) {
	ctx := testContext(t)
	g := newGrant(t, s)

	committed := newSignature(t)
	txCtx, err := s.BeginTX(ctx)
	must(t, "BeginTX", err)
	must(t, "CreateAccessTokenSession(in tx)", s.CreateAccessTokenSession(txCtx, committed, g.req))
	_, err = s.GetAccessTokenSession(txCtx, committed, &openidSession{})
	must(t, "GetAccessTokenSession(in tx)", err)
	_, err = s.BeginTX(txCtx)
	if err == nil {
		t.Error("BeginTX inside a transaction succeeded; transactions do not nest")
	}
	must(t, "Commit", s.Commit(txCtx))
	_, err = s.GetAccessTokenSession(ctx, committed, &openidSession{})
	must(t, "GetAccessTokenSession(committed)", err)

	rolledBack := newSignature(t)
	txCtx, err = s.BeginTX(ctx)
	must(t, "BeginTX", err)
	must(t, "CreateAccessTokenSession(in tx)", s.CreateAccessTokenSession(txCtx, rolledBack, g.req))
	must(t, "CreateUser(in tx)", s.CreateUser(txCtx, &storage.User{Email: "rolled-back@example.com"}))
	must(t, "Rollback", s.Rollback(txCtx))
	_, err = s.GetAccessTokenSession(ctx, rolledBack, &openidSession{})
	wantErr(t, "GetAccessTokenSession(rolled back)", err, fosite.ErrNotFound)
	_, err = s.GetUserByEmail(ctx, "rolled-back@example.com")
	wantErr(t, "GetUserByEmail(rolled back)", err, storage.ErrNotFound)

	if err := s.Commit(ctx); err == nil {
		t.Error("Commit without a transaction succeeded")
	}
	if err := s.Rollback(ctx); err == nil {
		t.Error("Rollback without a transaction succeeded")
	}
}

// testQueriesInsideTransaction calls, inside one transaction, every kind of method that reads and writes
// (including those that load the client or run their own transaction). On SQLite, with its pool of one
// connection, any query that left the transaction would wait for ever; testContext turns that into a
// failure.
func testQueriesInsideTransaction(t *testing.T, s *storage.Store) {
	ctx := testContext(t)
	g := newGrant(t, s)
	code, access, refresh := newSignature(t), newSignature(t), newSignature(t)
	must(t, "CreateAuthorizeCodeSession", s.CreateAuthorizeCodeSession(ctx, code, g.req))
	must(t, "CreateRefreshTokenSession", s.CreateRefreshTokenSession(ctx, refresh, "", g.req))

	txCtx, err := s.BeginTX(ctx)
	must(t, "BeginTX", err)
	steps := []struct {
		name string
		fn   func() error
	}{
		{"GetClient", func() error { _, err := s.GetClient(txCtx, g.client.ID); return err }},
		{"GetAuthorizeCodeSession", func() error { _, err := s.GetAuthorizeCodeSession(txCtx, code, &openidSession{}); return err }},
		{"InvalidateAuthorizeCodeSession", func() error { return s.InvalidateAuthorizeCodeSession(txCtx, code) }},
		{"CreateAccessTokenSession", func() error { return s.CreateAccessTokenSession(txCtx, access, g.req) }},
		{"GetAccessTokenSession", func() error { _, err := s.GetAccessTokenSession(txCtx, access, &openidSession{}); return err }},
		{"GetRefreshTokenSession", func() error { _, err := s.GetRefreshTokenSession(txCtx, refresh, &openidSession{}); return err }},
		{"RotateRefreshToken", func() error { return s.RotateRefreshToken(txCtx, g.req.ID, refresh) }},
		{"UpdateUser", func() error {
			_, err := s.UpdateUser(txCtx, g.user.ID, func(u *storage.User) error { u.Verified = true; return nil })
			return err
		}},
		{"SetIdentity", func() error { return s.SetIdentity(txCtx, g.user.ID, "google", storage.Identity{Subject: "tx"}) }},
		{"SaveConsent", func() error { return s.SaveConsent(txCtx, g.user.ID, g.client.ID, []string{"openid"}) }},
		{"RecordLogin", func() error { return s.RecordLogin(txCtx, g.user.ID, "192.0.2.1") }},
		{"RevokeUserGrants", func() error { return s.RevokeUserGrants(txCtx, g.user.ID) }},
	}
	for _, step := range steps {
		if err := step.fn(); err != nil {
			_ = s.Rollback(txCtx)
			t.Fatalf("%s inside a transaction: %v", step.name, err)
		}
	}
	must(t, "Commit", s.Commit(txCtx))
	u, err := s.GetUser(ctx, g.user.ID)
	must(t, "GetUser", err)
	if !u.Verified || u.LoginsCount != 1 || u.Identities["google"].Subject != "tx" {
		t.Errorf("after commit, user = %+v", u)
	}
}

func testDeleteExpired(t *testing.T, s *storage.Store) {
	ctx := testContext(t)
	g := newGrant(t, s)
	now := time.Now().UTC().Truncate(time.Second)
	expired := func(client fosite.Client, subject string) *fosite.Request {
		r := newRequest(client, subject)
		for tt := range r.Session.(*openidSession).ExpiresAt {
			r.Session.(*openidSession).ExpiresAt[tt] = now.Add(-time.Minute)
		}
		return r
	}
	old, fresh := expired(g.client, g.user.ID.String()), g.req
	oldService := expired(g.client, "")

	sigs := map[string]string{}
	for _, name := range []string{"old code", "fresh code", "old access", "fresh access", "old service", "old refresh", "fresh refresh"} {
		sigs[name] = newSignature(t)
	}
	must(t, "old code", s.CreateAuthorizeCodeSession(ctx, sigs["old code"], old))
	must(t, "fresh code", s.CreateAuthorizeCodeSession(ctx, sigs["fresh code"], fresh))
	must(t, "old access", s.CreateAccessTokenSession(ctx, sigs["old access"], old))
	must(t, "fresh access", s.CreateAccessTokenSession(ctx, sigs["fresh access"], fresh))
	must(t, "old service", s.CreateAccessTokenSession(ctx, sigs["old service"], oldService))
	must(t, "old refresh", s.CreateRefreshTokenSession(ctx, sigs["old refresh"], "", old))
	must(t, "fresh refresh", s.CreateRefreshTokenSession(ctx, sigs["fresh refresh"], "", fresh))
	// In this order: SetClientAssertionJWT itself forgets expired jtis first.
	must(t, "fresh jti", s.SetClientAssertionJWT(ctx, "fresh-jti", now.Add(time.Hour)))
	must(t, "old jti", s.SetClientAssertionJWT(ctx, "old-jti", now.Add(-time.Minute)))
	_, err := s.CreateLoginSession(ctx, g.user.ID, "login")
	must(t, "login session", err)

	n, err := s.DeleteExpired(ctx, now)
	must(t, "DeleteExpired", err)
	if n != 5 {
		t.Errorf("DeleteExpired removed %d rows, want 5", n)
	}

	sess := &openidSession{}
	_, err = s.GetAuthorizeCodeSession(ctx, sigs["old code"], sess)
	wantErr(t, "old code", err, fosite.ErrNotFound)
	_, err = s.GetAccessTokenSession(ctx, sigs["old access"], sess)
	wantErr(t, "old access", err, fosite.ErrNotFound)
	_, err = s.GetAccessTokenSession(ctx, sigs["old service"], sess)
	wantErr(t, "old service", err, fosite.ErrNotFound)
	_, err = s.GetRefreshTokenSession(ctx, sigs["old refresh"], sess)
	wantErr(t, "old refresh", err, fosite.ErrNotFound)
	_, err = s.GetAuthorizeCodeSession(ctx, sigs["fresh code"], sess)
	must(t, "fresh code", err)
	_, err = s.GetAccessTokenSession(ctx, sigs["fresh access"], sess)
	must(t, "fresh access", err)
	_, err = s.GetRefreshTokenSession(ctx, sigs["fresh refresh"], sess)
	must(t, "fresh refresh", err)
	wantErr(t, "fresh jti", s.ClientAssertionJWTValid(ctx, "fresh-jti"), fosite.ErrJTIKnown)
	_, _, err = s.GetLoginSession(ctx, "login")
	must(t, "login session (no expiry)", err)
}
