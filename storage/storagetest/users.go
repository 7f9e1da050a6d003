package storagetest

import (
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/ory/fosite"

	"github.com/kangrow/auth/storage"
)

func testUserCreateGet(t *testing.T, s *storage.Store) {
	ctx := testContext(t)
	confirmed := time.Date(2026, 1, 2, 3, 4, 5, 0, time.FixedZone("CET", 3600))
	u := &storage.User{
		Email:          "Alice@Example.com",
		FirstName:      ptr("Alice"),
		LastName:       ptr("Liddell"),
		HashedPassword: ptr("$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA"),
		Verified:       true,
		ConfirmedAt:    &confirmed,
	}
	must(t, "CreateUser", s.CreateUser(ctx, u))
	if u.ID == uuid.Nil || u.ID.Version() != 7 {
		t.Errorf("ID = %v, want a UUIDv7", u.ID)
	}
	if u.CreatedAt.IsZero() || u.UpdatedAt.IsZero() {
		t.Errorf("timestamps not set: created %v, updated %v", u.CreatedAt, u.UpdatedAt)
	}

	got, err := s.GetUser(ctx, u.ID)
	must(t, "GetUser", err)
	if got.Email != "Alice@Example.com" || *got.FirstName != "Alice" || *got.LastName != "Liddell" ||
		*got.HashedPassword != *u.HashedPassword || !got.Verified || got.Banned || got.LoginsCount != 0 {
		t.Errorf("GetUser = %+v, want %+v", got, u)
	}
	if got.ConfirmedAt == nil || !got.ConfirmedAt.Equal(confirmed) {
		t.Errorf("ConfirmedAt = %v, want %v", got.ConfirmedAt, confirmed)
	}
	if !got.CreatedAt.Equal(u.CreatedAt) {
		t.Errorf("CreatedAt = %v, want %v", got.CreatedAt, u.CreatedAt)
	}
	if got.AvatarURL != nil || got.LastLogin != nil || got.Identities != nil {
		t.Errorf("unset columns read back as %v, %v, %v", got.AvatarURL, got.LastLogin, got.Identities)
	}

	_, err = s.GetUser(ctx, uuid.Must(uuid.NewV7()))
	wantErr(t, "GetUser(unknown)", err, storage.ErrNotFound)
}

func testUserDuplicateEmail(t *testing.T, s *storage.Store) {
	ctx := testContext(t)
	mustCreateUser(t, s, "bob@example.com")
	err := s.CreateUser(ctx, &storage.User{Email: "BOB@Example.COM"})
	wantErr(t, "CreateUser(same email, other case)", err, storage.ErrAlreadyExists)
}

func testUserGetByEmail(t *testing.T, s *storage.Store) {
	ctx := testContext(t)
	u := mustCreateUser(t, s, "Carol@Example.com")
	for _, email := range []string{"Carol@Example.com", "carol@example.com", "CAROL@EXAMPLE.COM"} {
		got, err := s.GetUserByEmail(ctx, email)
		must(t, "GetUserByEmail("+email+")", err)
		if got.ID != u.ID {
			t.Errorf("GetUserByEmail(%s) = %v, want %v", email, got.ID, u.ID)
		}
	}
	_, err := s.GetUserByEmail(ctx, "nobody@example.com")
	wantErr(t, "GetUserByEmail(unknown)", err, storage.ErrNotFound)
}

func testUserList(t *testing.T, s *storage.Store) {
	ctx := testContext(t)
	var ids []uuid.UUID
	for i := range 3 {
		ids = append(ids, mustCreateUser(t, s, fmt.Sprintf("user%d@example.com", i)).ID)
	}
	tests := []struct {
		name string
		opts storage.ListOptions
		want []uuid.UUID
	}{
		{"all", storage.ListOptions{}, ids},
		{"limit", storage.ListOptions{Limit: 2}, ids[:2]},
		{"offset", storage.ListOptions{Limit: 2, Offset: 1}, ids[1:]},
		{"past the end", storage.ListOptions{Offset: 3}, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			users, err := s.ListUsers(ctx, tc.opts)
			must(t, "ListUsers", err)
			var got []uuid.UUID
			for _, u := range users {
				got = append(got, u.ID)
			}
			if fmt.Sprint(got) != fmt.Sprint(tc.want) {
				t.Errorf("ListUsers(%+v) = %v, want %v", tc.opts, got, tc.want)
			}
		})
	}
}

func testUserUpdate(t *testing.T, s *storage.Store) {
	ctx := testContext(t)
	u := mustCreateUser(t, s, "dave@example.com")
	other := mustCreateUser(t, s, "erin@example.com")

	got, err := s.UpdateUser(ctx, u.ID, func(u *storage.User) error {
		u.Banned = true
		u.LastName = ptr("Doe")
		u.ID = other.ID // ignored
		return nil
	})
	must(t, "UpdateUser", err)
	if got.ID != u.ID || !got.Banned || *got.LastName != "Doe" {
		t.Errorf("UpdateUser returned %+v", got)
	}
	reread, err := s.GetUser(ctx, u.ID)
	must(t, "GetUser", err)
	if !reread.Banned || *reread.LastName != "Doe" || reread.Email != "dave@example.com" {
		t.Errorf("after UpdateUser, GetUser = %+v", reread)
	}
	if o, _ := s.GetUser(ctx, other.ID); o.Banned {
		t.Error("UpdateUser changed another user")
	}

	errStop := errors.New("stop")
	_, err = s.UpdateUser(ctx, u.ID, func(u *storage.User) error {
		u.Blocked = true
		return errStop
	})
	wantErr(t, "UpdateUser(fn fails)", err, errStop)
	if reread, _ := s.GetUser(ctx, u.ID); reread.Blocked {
		t.Error("a failed UpdateUser wrote its change")
	}

	_, err = s.UpdateUser(ctx, u.ID, func(u *storage.User) error {
		u.Email = "ERIN@example.com"
		return nil
	})
	wantErr(t, "UpdateUser(taken email)", err, storage.ErrAlreadyExists)

	_, err = s.UpdateUser(ctx, uuid.Must(uuid.NewV7()), func(*storage.User) error { return nil })
	wantErr(t, "UpdateUser(unknown)", err, storage.ErrNotFound)
}

func testUserRecordLogin(t *testing.T, s *storage.Store) {
	ctx := testContext(t)
	u := mustCreateUser(t, s, "frank@example.com")
	const n = 16
	var wg sync.WaitGroup
	start := make(chan struct{})
	errs := make(chan error, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			errs <- s.RecordLogin(ctx, u.ID, fmt.Sprintf("192.0.2.%d", i))
		}()
	}
	close(start)
	wg.Wait()
	close(errs)
	for err := range errs {
		must(t, "RecordLogin", err)
	}
	got, err := s.GetUser(ctx, u.ID)
	must(t, "GetUser", err)
	if got.LoginsCount != n {
		t.Errorf("LoginsCount = %d, want %d", got.LoginsCount, n)
	}
	if got.LastLogin == nil || got.LastIP == nil {
		t.Errorf("LastLogin = %v, LastIP = %v, want both set", got.LastLogin, got.LastIP)
	}
	wantErr(t, "RecordLogin(unknown)", s.RecordLogin(ctx, uuid.Must(uuid.NewV7()), "192.0.2.1"), storage.ErrNotFound)
}

func testUserDelete(t *testing.T, s *storage.Store) {
	ctx := testContext(t)
	u := mustCreateUser(t, s, "grace@example.com")
	client := mustCreateClient(t, s, "rp")
	_, err := s.CreateLoginSession(ctx, u.ID, "login-token")
	must(t, "CreateLoginSession", err)
	must(t, "SetIdentity", s.SetIdentity(ctx, u.ID, "google", storage.Identity{Subject: "g-1"}))
	req := newRequest(client, u.ID.String())
	refresh := newSignature(t)
	must(t, "CreateRefreshTokenSession", s.CreateRefreshTokenSession(ctx, refresh, "", req))

	must(t, "DeleteUser", s.DeleteUser(ctx, u.ID))

	_, err = s.GetUser(ctx, u.ID)
	wantErr(t, "GetUser(deleted)", err, storage.ErrNotFound)
	_, err = s.GetUserByEmail(ctx, "grace@example.com")
	wantErr(t, "GetUserByEmail(deleted)", err, storage.ErrNotFound)
	_, err = s.GetUserByIdentity(ctx, "google", "g-1")
	wantErr(t, "GetUserByIdentity(deleted)", err, storage.ErrNotFound)
	_, _, err = s.GetLoginSession(ctx, "login-token")
	wantErr(t, "GetLoginSession(deleted user)", err, storage.ErrNotFound)
	_, err = s.GetRefreshTokenSession(ctx, refresh, &openidSession{})
	wantErr(t, "GetRefreshTokenSession(deleted user)", err, fosite.ErrInactiveToken)
	users, err := s.ListUsers(ctx, storage.ListOptions{})
	must(t, "ListUsers", err)
	if len(users) != 0 {
		t.Errorf("ListUsers lists %d users, want the deleted one left out", len(users))
	}
	wantErr(t, "DeleteUser(again)", s.DeleteUser(ctx, u.ID), storage.ErrNotFound)
	wantErr(t, "RecordLogin(deleted)", s.RecordLogin(ctx, u.ID, "192.0.2.1"), storage.ErrNotFound)
	// The email stays taken: the seed's unique index covers deleted users too.
	wantErr(t, "CreateUser(email of a deleted user)", s.CreateUser(ctx, &storage.User{Email: "grace@example.com"}), storage.ErrAlreadyExists)
}

func testRevokeUserGrants(t *testing.T, s *storage.Store) {
	ctx := testContext(t)
	client := mustCreateClient(t, s, "rp")
	type grants struct {
		user                           *storage.User
		login, code, access, pkce, oid string
		refresh                        string
	}
	issue := func(email string) grants {
		u := mustCreateUser(t, s, email)
		g := grants{user: u, login: newSignature(t), code: newSignature(t), access: newSignature(t),
			pkce: newSignature(t), oid: newSignature(t), refresh: newSignature(t)}
		_, err := s.CreateLoginSession(ctx, u.ID, g.login)
		must(t, "CreateLoginSession", err)
		req := newRequest(client, u.ID.String())
		must(t, "CreateAuthorizeCodeSession", s.CreateAuthorizeCodeSession(ctx, g.code, req))
		must(t, "CreateAccessTokenSession", s.CreateAccessTokenSession(ctx, g.access, req))
		must(t, "CreatePKCERequestSession", s.CreatePKCERequestSession(ctx, g.pkce, req))
		must(t, "CreateOpenIDConnectSession", s.CreateOpenIDConnectSession(ctx, g.oid, req))
		must(t, "CreateRefreshTokenSession", s.CreateRefreshTokenSession(ctx, g.refresh, g.access, req))
		return g
	}
	banned, kept := issue("henry@example.com"), issue("iris@example.com")

	must(t, "RevokeUserGrants", s.RevokeUserGrants(ctx, banned.user.ID))

	check := func(g grants, revoked bool) {
		t.Helper()
		sess := &openidSession{}
		_, _, loginErr := s.GetLoginSession(ctx, g.login)
		_, codeErr := s.GetAuthorizeCodeSession(ctx, g.code, sess)
		_, accessErr := s.GetAccessTokenSession(ctx, g.access, sess)
		_, pkceErr := s.GetPKCERequestSession(ctx, g.pkce, sess)
		_, oidErr := s.GetOpenIDConnectSession(ctx, g.oid, &fosite.Request{Session: sess})
		_, refreshErr := s.GetRefreshTokenSession(ctx, g.refresh, sess)
		if !revoked {
			for _, err := range []error{loginErr, codeErr, accessErr, pkceErr, oidErr, refreshErr} {
				must(t, "grant of another user", err)
			}
			return
		}
		wantErr(t, "login session", loginErr, storage.ErrNotFound)
		wantErr(t, "authorize code", codeErr, fosite.ErrNotFound)
		wantErr(t, "access token", accessErr, fosite.ErrNotFound)
		wantErr(t, "pkce", pkceErr, fosite.ErrNotFound)
		wantErr(t, "openid", oidErr, fosite.ErrNotFound)
		wantErr(t, "refresh token", refreshErr, fosite.ErrInactiveToken)
	}
	check(banned, true)
	check(kept, false)
	must(t, "RevokeUserGrants(no grants)", s.RevokeUserGrants(ctx, banned.user.ID))
}

func testIdentities(t *testing.T, s *storage.Store) {
	ctx := testContext(t)
	u := mustCreateUser(t, s, "judy@example.com")
	other := mustCreateUser(t, s, "kim@example.com")

	_, err := s.GetUserByIdentity(ctx, "google", "g-1")
	wantErr(t, "GetUserByIdentity(unlinked)", err, storage.ErrNotFound)

	must(t, "SetIdentity", s.SetIdentity(ctx, u.ID, "google", storage.Identity{
		Subject: "g-1", Email: "judy@gmail.example", EmailVerified: true, Name: "Judy",
		Raw: map[string]any{"hd": "example.com"},
	}))
	got, err := s.GetUserByIdentity(ctx, "google", "g-1")
	must(t, "GetUserByIdentity", err)
	if got.ID != u.ID {
		t.Fatalf("GetUserByIdentity = %v, want %v", got.ID, u.ID)
	}
	first := got.Identities["google"]
	if first.Subject != "g-1" || first.Email != "judy@gmail.example" || !first.EmailVerified || first.LinkedAt.IsZero() ||
		first.Raw["hd"] != "example.com" {
		t.Errorf("identity = %+v", first)
	}

	// Refresh: what we learnt changes, the link time stays.
	must(t, "SetIdentity(refresh)", s.SetIdentity(ctx, u.ID, "google", storage.Identity{Subject: "g-1", Name: "Judy H."}))
	got, err = s.GetUser(ctx, u.ID)
	must(t, "GetUser", err)
	if id := got.Identities["google"]; id.Name != "Judy H." || !id.LinkedAt.Equal(first.LinkedAt) {
		t.Errorf("after refresh identity = %+v, want name Judy H. linked at %v", id, first.LinkedAt)
	}

	// The same upstream subject cannot belong to two users.
	err = s.SetIdentity(ctx, other.ID, "google", storage.Identity{Subject: "g-1"})
	wantErr(t, "SetIdentity(subject of another user)", err, storage.ErrAlreadyExists)
	// The same subject at another provider is another identity.
	must(t, "SetIdentity(other provider)", s.SetIdentity(ctx, other.ID, "github", storage.Identity{Subject: "g-1"}))
	if got, err := s.GetUserByIdentity(ctx, "github", "g-1"); err != nil || got.ID != other.ID {
		t.Errorf("GetUserByIdentity(github) = %v, %v, want %v", got, err, other.ID)
	}

	// Linking another subject at the same provider replaces the old link.
	must(t, "SetIdentity(new subject)", s.SetIdentity(ctx, u.ID, "google", storage.Identity{Subject: "g-2"}))
	_, err = s.GetUserByIdentity(ctx, "google", "g-1")
	wantErr(t, "GetUserByIdentity(replaced subject)", err, storage.ErrNotFound)
	if got, err := s.GetUserByIdentity(ctx, "google", "g-2"); err != nil || got.ID != u.ID {
		t.Errorf("GetUserByIdentity(g-2) = %v, %v", got, err)
	}
	// …and frees the old subject for someone else.
	must(t, "SetIdentity(freed subject)", s.SetIdentity(ctx, other.ID, "google", storage.Identity{Subject: "g-1"}))

	must(t, "RemoveIdentity", s.RemoveIdentity(ctx, u.ID, "google"))
	_, err = s.GetUserByIdentity(ctx, "google", "g-2")
	wantErr(t, "GetUserByIdentity(removed)", err, storage.ErrNotFound)
	got, err = s.GetUser(ctx, u.ID)
	must(t, "GetUser", err)
	if _, ok := got.Identities["google"]; ok {
		t.Errorf("identities after RemoveIdentity = %v", got.Identities)
	}
	wantErr(t, "RemoveIdentity(again)", s.RemoveIdentity(ctx, u.ID, "google"), storage.ErrNotFound)
	wantErr(t, "SetIdentity(unknown user)", s.SetIdentity(ctx, uuid.Must(uuid.NewV7()), "google", storage.Identity{Subject: "g-9"}), storage.ErrNotFound)
}

func testLoginSessions(t *testing.T, s *storage.Store) {
	ctx := testContext(t)
	u := mustCreateUser(t, s, "leo@example.com")
	const token = "a-random-login-session-token"

	created, err := s.CreateLoginSession(ctx, u.ID, token)
	must(t, "CreateLoginSession", err)
	if created.AuthenticatedAt == nil || created.Context != storage.TokenContextSession {
		t.Errorf("CreateLoginSession = %+v", created)
	}

	got, user, err := s.GetLoginSession(ctx, token)
	must(t, "GetLoginSession", err)
	if user.ID != u.ID || got.UserID != u.ID || got.ID != created.ID {
		t.Errorf("GetLoginSession = %+v, %v", got, user.ID)
	}
	// The row holds the digest, never the token.
	if string(got.Token) == token || string(got.Token) != string(storage.Digest(token)) {
		t.Errorf("stored token = %x, want the digest %x", got.Token, storage.Digest(token))
	}
	if !got.AuthenticatedAt.Equal(*created.AuthenticatedAt) {
		t.Errorf("AuthenticatedAt = %v, want %v", got.AuthenticatedAt, created.AuthenticatedAt)
	}

	_, _, err = s.GetLoginSession(ctx, "another-token")
	wantErr(t, "GetLoginSession(unknown)", err, storage.ErrNotFound)
	must(t, "DeleteLoginSession", s.DeleteLoginSession(ctx, token))
	_, _, err = s.GetLoginSession(ctx, token)
	wantErr(t, "GetLoginSession(deleted)", err, storage.ErrNotFound)
	wantErr(t, "DeleteLoginSession(again)", s.DeleteLoginSession(ctx, token), storage.ErrNotFound)
}

func testConsents(t *testing.T, s *storage.Store) {
	ctx := testContext(t)
	u := mustCreateUser(t, s, "mia@example.com")
	mustCreateClient(t, s, "rp")
	mustCreateClient(t, s, "other")

	_, err := s.GetConsent(ctx, u.ID, "rp")
	wantErr(t, "GetConsent(none)", err, storage.ErrNotFound)

	must(t, "SaveConsent", s.SaveConsent(ctx, u.ID, "rp", []string{"openid", "profile"}))
	must(t, "SaveConsent(more)", s.SaveConsent(ctx, u.ID, "rp", []string{"profile", "email"}))
	c, err := s.GetConsent(ctx, u.ID, "rp")
	must(t, "GetConsent", err)
	if fmt.Sprint(c.Scopes) != "[openid profile email]" {
		t.Errorf("scopes = %v, want the union [openid profile email]", c.Scopes)
	}

	// Concurrent saves for one pair all count.
	var wg sync.WaitGroup
	start := make(chan struct{})
	errs := make(chan error, 8)
	for i := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			errs <- s.SaveConsent(ctx, u.ID, "other", []string{fmt.Sprintf("scope%d", i)})
		}()
	}
	close(start)
	wg.Wait()
	close(errs)
	for err := range errs {
		must(t, "SaveConsent(concurrent)", err)
	}
	c, err = s.GetConsent(ctx, u.ID, "other")
	must(t, "GetConsent(other)", err)
	if len(c.Scopes) != 8 {
		t.Errorf("scopes after concurrent saves = %v, want 8", c.Scopes)
	}

	must(t, "DeleteConsent", s.DeleteConsent(ctx, u.ID, "rp"))
	_, err = s.GetConsent(ctx, u.ID, "rp")
	wantErr(t, "GetConsent(deleted)", err, storage.ErrNotFound)
	wantErr(t, "DeleteConsent(again)", s.DeleteConsent(ctx, u.ID, "rp"), storage.ErrNotFound)
}
