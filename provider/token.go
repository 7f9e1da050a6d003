package provider

import (
	"context"
	"errors"
	"net/http"
	"strings"

	"github.com/google/uuid"
	"github.com/ory/fosite"
)

// Token serves the token endpoint (RFC 6749 §3.2): authorization_code, refresh_token and
// client_credentials. fosite authenticates the client, validates the grant and writes every body.
func (p *Provider) Token(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	if noClientAuth(r) {
		p.writeAccessError(w, r, nil, errNoClientAuth)
		return
	}
	_ = r.ParseForm() // fosite reports a malformed body
	switch r.PostForm.Get("grant_type") {
	case "", "authorization_code", "refresh_token", "client_credentials":
	default:
		// RFC 6749 §5.2; fosite would say invalid_request.
		p.writeAccessError(w, r, nil, fosite.ErrUnsupportedGrantType)
		return
	}
	ar, err := p.oauth2.NewAccessRequest(ctx, r, NewSession())
	if err != nil {
		p.writeAccessError(w, r, ar, err)
		return
	}
	if sub := ar.GetSession().GetSubject(); sub != "" && !p.userMaySignIn(ctx, sub) {
		// A user banned, blocked or deleted since the grant (perhaps by another application sharing
		// the users table) loses it here, not only when the command line revokes it.
		p.revokeGrant(ctx, ar.GetID())
		p.writeAccessError(w, r, ar, fosite.ErrInvalidGrant.WithHint("The user of this grant can no longer sign in."))
		return
	}
	if ar.GetGrantTypes().ExactOne("client_credentials") {
		// RFC 6749 §4.4: fosite has checked the requested scopes against the client's; grant them, less
		// the scopes that only mean something for a user.
		for _, s := range ar.GetRequestedScopes() {
			if s != "openid" && s != "offline_access" {
				ar.GrantScope(s)
			}
		}
	}
	resp, err := p.oauth2.NewAccessResponse(ctx, ar)
	if err != nil {
		if errors.Is(err, fosite.ErrInvalidatedAuthorizeCode) {
			// The code was redeemed by a request that raced this one: a second use all the same, so what
			// the first redemption issued is revoked (RFC 6749 §4.1.2, RFC 9700 §4.5).
			p.revokeGrant(ctx, ar.GetID())
		}
		p.writeAccessError(w, r, ar, grantError(err))
		return
	}
	p.oauth2.WriteAccessResponse(ctx, w, ar, resp)
}

// grantError turns the storage outcomes of a lost race into invalid_grant (RFC 6749 §5.2): a code
// already redeemed, a refresh token already rotated or revoked, or a conflicting concurrent update.
// fosite reports some of these as server_error or invalid_request because it checked the grant before
// the race was decided.
func grantError(err error) error {
	switch {
	case errors.Is(err, fosite.ErrInvalidatedAuthorizeCode),
		errors.Is(err, fosite.ErrInactiveToken),
		errors.Is(err, fosite.ErrSerializationFailure),
		errors.Is(err, fosite.ErrNotFound):
		return fosite.ErrInvalidGrant.WithWrap(err).WithHint("The authorization grant was already used, revoked or is no longer valid.")
	}
	return err
}

// writeAccessError writes fosite's JSON error, with the WWW-Authenticate challenge RFC 6749 §5.2
// requires when a client that used HTTP Basic fails to authenticate.
func (p *Provider) writeAccessError(w http.ResponseWriter, r *http.Request, ar fosite.AccessRequester, err error) {
	if errors.Is(err, fosite.ErrInvalidClient) && strings.HasPrefix(r.Header.Get("Authorization"), "Basic ") {
		w.Header().Set("WWW-Authenticate", `Basic realm="`+p.cfg.Issuer+`"`)
	}
	p.oauth2.WriteAccessError(r.Context(), w, ar, safeError(err))
}

// safeError returns err as fosite's error with a description clients may be sent: RFC 6749 §4.1.2.1
// and §5.2 allow only %x20-21 / %x23-5B / %x5D-7E in error_description, and fosite copies request
// values (scope, response_type, grant_type) into its hints.
func safeError(err error) *fosite.RFC6749Error {
	e := *fosite.ErrorToRFC6749Error(err)
	e.DescriptionField = rfc6749Text(e.DescriptionField)
	e.HintField = rfc6749Text(e.HintField)
	return &e
}

func rfc6749Text(s string) string {
	return strings.Map(func(r rune) rune {
		switch {
		case r == '"':
			return '\''
		case r == '\\':
			return '/'
		case r >= 0x20 && r <= 0x7e:
			return r
		}
		return '?'
	}, s)
}

// Revoke serves RFC 7009 token revocation. Revoking a refresh token revokes its grant's access tokens
// too (§2.1); an unknown token is answered 200 (§2.2).
func (p *Provider) Revoke(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	if noClientAuth(r) {
		p.oauth2.WriteRevocationResponse(ctx, w, errNoClientAuth)
		return
	}
	// fosite revokes the access and refresh tokens of a grant one by one and opens no transaction:
	// one here makes revocation all or nothing.
	err := p.inTransaction(ctx, func(ctx context.Context) error { return p.oauth2.NewRevocationRequest(ctx, r) })
	if err != nil {
		p.oauth2.WriteRevocationResponse(ctx, w, safeError(err))
		return
	}
	p.oauth2.WriteRevocationResponse(ctx, w, nil)
}

// Introspect serves RFC 7662 token introspection for clients authenticated with HTTP Basic (the one
// method fosite's introspection accepts, as discovery says).
func (p *Provider) Introspect(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	if r.Header.Get("Authorization") == "" {
		p.writeAccessError(w, r, nil, errNoClientAuth)
		return
	}
	ir, err := p.oauth2.NewIntrospectionRequest(ctx, r, NewSession())
	if errors.Is(err, fosite.ErrRequestUnauthorized) && !errors.Is(err, fosite.ErrInactiveToken) {
		// RFC 7662 §2.3: bad credentials are answered as RFC 6749 §5.2 does, 401 invalid_client.
		p.writeAccessError(w, r, nil, fosite.ErrInvalidClient.WithWrap(err))
		return
	}
	if err != nil {
		p.oauth2.WriteIntrospectionError(ctx, w, safeError(err))
		return
	}
	if sub := ir.GetAccessRequester().GetSession().GetSubject(); sub != "" && !p.userMaySignIn(ctx, sub) {
		p.oauth2.WriteIntrospectionError(ctx, w, fosite.ErrInactiveToken)
		return
	}
	p.oauth2.WriteIntrospectionResponse(ctx, w, ir)
}

// errNoClientAuth answers a request that names no client at all: RFC 6749 §5.2 lists "no client
// authentication included" under invalid_client (401), where fosite would say invalid_request.
var errNoClientAuth = fosite.ErrInvalidClient.WithHint("The request carries no client authentication.")

func noClientAuth(r *http.Request) bool {
	if r.Header.Get("Authorization") != "" {
		return false
	}
	if err := r.ParseForm(); err != nil {
		return false // fosite reports the malformed body
	}
	return r.PostForm.Get("client_id") == ""
}

// revokeGrant revokes every access and refresh token of the grant requestID, as far as it goes: the
// caller answers invalid_grant either way, and what is left expires.
func (p *Provider) revokeGrant(ctx context.Context, requestID string) {
	_ = p.store.RevokeAccessToken(ctx, requestID)
	_ = p.store.RevokeRefreshToken(ctx, requestID)
}

// userMaySignIn reports whether the user with this subject exists and is neither banned, blocked nor
// deleted.
func (p *Provider) userMaySignIn(ctx context.Context, subject string) bool {
	id, err := uuid.Parse(subject)
	if err != nil {
		return false
	}
	u, err := p.store.GetUser(ctx, id)
	return err == nil && u.CanSignIn()
}

// inTransaction runs fn in one storage transaction, committed when fn succeeds. For fosite paths that
// write several rows without a transaction of their own.
func (p *Provider) inTransaction(ctx context.Context, fn func(context.Context) error) error {
	txCtx, err := p.store.BeginTX(ctx)
	if err != nil {
		return err
	}
	if err := fn(txCtx); err != nil {
		_ = p.store.Rollback(txCtx)
		return err
	}
	return p.store.Commit(txCtx)
}
