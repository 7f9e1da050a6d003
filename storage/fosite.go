package storage

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"reflect"
	"time"

	"github.com/google/uuid"
	"github.com/ory/fosite"
	"github.com/ory/fosite/handler/oauth2"
	"github.com/ory/fosite/handler/openid"
	"github.com/ory/fosite/handler/pkce"
	fositestorage "github.com/ory/fosite/storage"
	"gorm.io/gorm"
	"gorm.io/gorm/clause"
)

// The fosite interfaces the provider composes. fosite's compose checks them only at run time.
var (
	_ fosite.ClientManager               = (*Store)(nil)
	_ oauth2.AuthorizeCodeStorage        = (*Store)(nil)
	_ oauth2.AccessTokenStorage          = (*Store)(nil)
	_ oauth2.RefreshTokenStorage         = (*Store)(nil)
	_ oauth2.TokenRevocationStorage      = (*Store)(nil)
	_ pkce.PKCERequestStorage            = (*Store)(nil)
	_ openid.OpenIDConnectRequestStorage = (*Store)(nil)
	_ fositestorage.Transactional        = (*Store)(nil)
	_ fosite.Client                      = (*Client)(nil)
	_ fosite.OpenIDConnectClient         = (*Client)(nil)
	_ fosite.ResponseModeClient          = (*Client)(nil)
)

// How fosite's state maps onto the schema (docs/schema.md):
//
//   - Authorization codes, user-bound access tokens, PKCE and OpenID Connect requests are users_tokens
//     rows of context authorize_code, access_token, pkce and openid, keyed by Digest(signature) (for
//     OpenID Connect fosite hands in the code itself, so only its digest is stored). user_id is the
//     provider session's subject, which must be a user ID.
//   - Access tokens of no user (client_credentials: empty subject) are client_tokens rows, so that
//     users_tokens.user_id stays NOT NULL.
//   - Refresh tokens are refresh_tokens rows keyed by the hex of Digest(signature); a rotated or revoked
//     one is marked revoked and kept, so that its reuse is detected.
//   - Rows carry what fosite needs to rebuild the request (TokenRequest): request ID, client ID, requested
//     and granted scopes and audience, the sanitized form, and the provider session as JSON.
//
// Errors: a missing row is fosite.ErrNotFound; a serialization failure or deadlock is
// fosite.ErrSerializationFailure. Deletes and revocations are idempotent: deleting what is not there
// returns nil (as fosite's own memory store does), since every caller treats "already gone" as done.

// refreshTokenFallbackLifetime is the lifetime of a refresh token whose session has no expiry (fosite's
// refresh token lifespan -1 means "never expires"). refresh_tokens.expires_at is NOT NULL in the seed and
// DeleteExpired removes a token after it, so such tokens live 30 days from their request. The same holds
// for client_tokens.expires_at.
const refreshTokenFallbackLifetime = 30 * 24 * time.Hour

// clientToken is a row of client_tokens: an access token that belongs to no user (client_credentials).
type clientToken struct {
	ID        uuid.UUID `gorm:"column:id;primaryKey"`
	Token     []byte    `gorm:"column:token"`
	ExpiresAt time.Time `gorm:"column:expires_at"`
	CreatedAt time.Time `gorm:"column:created_at"`
	TokenRequest
}

func (clientToken) TableName() string { return "client_tokens" }

func (t *clientToken) BeforeCreate(*gorm.DB) error { return newID(&t.ID) }

func (t *clientToken) BeforeSave(*gorm.DB) error {
	t.ExpiresAt = dbTime(t.ExpiresAt)
	normalizeSeconds(&t.CreatedAt)
	t.TokenRequest.normalize()
	return nil
}

// jwtAssertion is a row of jwt_assertions: the jti of a client assertion seen before its expiry.
type jwtAssertion struct {
	JTI       string    `gorm:"column:jti;primaryKey"`
	ExpiresAt time.Time `gorm:"column:expires_at"`
}

func (jwtAssertion) TableName() string { return "jwt_assertions" }

// GetClient implements fosite.ClientManager. It returns fosite.ErrNotFound when there is no such client.
func (s *Store) GetClient(ctx context.Context, id string) (fosite.Client, error) {
	c, err := s.GetClientByID(ctx, id)
	if err != nil {
		return nil, fositeError("get client", err)
	}
	return c, nil
}

// ClientAssertionJWTValid implements fosite.ClientManager: it returns fosite.ErrJTIKnown when the jti
// was seen and has not expired yet, nil otherwise.
func (s *Store) ClientAssertionJWTValid(ctx context.Context, jti string) error {
	if !validText(jti) {
		return nil // no such jti can have been stored
	}
	var n int64
	err := s.conn(ctx).Model(&jwtAssertion{}).Where("jti = ? AND expires_at > ?", jti, dbTime(s.clock())).Count(&n).Error
	if err != nil {
		return fositeError("check client assertion", err)
	}
	if n > 0 {
		return fosite.ErrJTIKnown
	}
	return nil
}

// SetClientAssertionJWT implements fosite.ClientManager: it removes expired jtis, then records jti until
// exp. It returns fosite.ErrJTIKnown when the jti is recorded and unexpired already.
func (s *Store) SetClientAssertionJWT(ctx context.Context, jti string, exp time.Time) error {
	if err := s.conn(ctx).Where("expires_at < ?", dbTime(s.clock())).Delete(&jwtAssertion{}).Error; err != nil {
		return fositeError("set client assertion", err)
	}
	// ON CONFLICT DO NOTHING rather than a unique violation, which would abort a surrounding transaction.
	res := s.conn(ctx).Clauses(clause.OnConflict{DoNothing: true}).Create(&jwtAssertion{JTI: jti, ExpiresAt: dbTime(exp)})
	if res.Error != nil {
		return fositeError("set client assertion", res.Error)
	}
	if res.RowsAffected == 0 {
		return fosite.ErrJTIKnown
	}
	return nil
}

// CreateAuthorizeCodeSession implements oauth2.AuthorizeCodeStorage.
func (s *Store) CreateAuthorizeCodeSession(ctx context.Context, signature string, req fosite.Requester) error {
	return fositeError("create authorize code", s.createUserToken(ctx, TokenContextAuthorizeCode, signature, req, fosite.AuthorizeCode))
}

// GetAuthorizeCodeSession implements oauth2.AuthorizeCodeStorage: it rebuilds the request into session.
// A used (invalidated) code returns the request TOGETHER WITH fosite.ErrInvalidatedAuthorizeCode, which
// fosite needs to revoke the tokens issued for it. An unknown code returns fosite.ErrNotFound.
func (s *Store) GetAuthorizeCodeSession(ctx context.Context, signature string, session fosite.Session) (fosite.Requester, error) {
	t, err := s.getUserToken(ctx, TokenContextAuthorizeCode, signature)
	if err != nil {
		return nil, fositeError("get authorize code", err)
	}
	req, err := s.rebuild(ctx, &t.TokenRequest, session)
	if err != nil {
		return nil, fositeError("get authorize code", err)
	}
	if !t.Active {
		return req, fmt.Errorf("get authorize code: %w", fosite.ErrInvalidatedAuthorizeCode)
	}
	return req, nil
}

// InvalidateAuthorizeCodeSession implements oauth2.AuthorizeCodeStorage with one atomic conditional
// update, so that of concurrent redemptions of one code exactly one succeeds (the others wait for its row
// lock, then find the code inactive). It returns fosite.ErrInvalidatedAuthorizeCode when the code was
// invalidated already, fosite.ErrNotFound when there is no such code.
func (s *Store) InvalidateAuthorizeCodeSession(ctx context.Context, signature string) error {
	res := s.conn(ctx).Model(&UserToken{}).
		Where("context = ? AND token = ? AND active = ?", TokenContextAuthorizeCode, Digest(signature), true).
		Update("active", false)
	if res.Error != nil {
		return fositeError("invalidate authorize code", res.Error)
	}
	if res.RowsAffected == 1 {
		return nil
	}
	var n int64
	if err := s.conn(ctx).Model(&UserToken{}).Where("context = ? AND token = ?", TokenContextAuthorizeCode, Digest(signature)).Count(&n).Error; err != nil {
		return fositeError("invalidate authorize code", err)
	}
	if n == 0 {
		return fmt.Errorf("invalidate authorize code: %w", fosite.ErrNotFound)
	}
	return fmt.Errorf("invalidate authorize code: %w", fosite.ErrInvalidatedAuthorizeCode)
}

// CreateAccessTokenSession implements oauth2.AccessTokenStorage. A request whose session has no subject
// (client_credentials) goes to client_tokens, any other to users_tokens.
func (s *Store) CreateAccessTokenSession(ctx context.Context, signature string, req fosite.Requester) error {
	if subject(req) != "" {
		return fositeError("create access token", s.createUserToken(ctx, TokenContextAccessToken, signature, req, fosite.AccessToken))
	}
	row, err := tokenRequest(req)
	if err != nil {
		return fositeError("create access token", err)
	}
	// client_tokens.expires_at is NOT NULL: a token without expiry is cleaned up like a refresh token.
	t := &clientToken{Token: Digest(signature), ExpiresAt: s.expiryOrFallback(req, fosite.AccessToken), TokenRequest: row}
	return fositeError("create access token", s.conn(ctx).Create(t).Error)
}

// accessTokenUnion finds an access token in users_tokens and client_tokens with one query.
const accessTokenUnion = `SELECT request_id, client_id, requested_at, requested_scopes, granted_scopes,
  requested_audience, granted_audience, form_data, session_data
FROM users_tokens WHERE context = ? AND token = ?
UNION ALL
SELECT request_id, client_id, requested_at, requested_scopes, granted_scopes,
  requested_audience, granted_audience, form_data, session_data
FROM client_tokens WHERE token = ?`

// GetAccessTokenSession implements oauth2.AccessTokenStorage: it rebuilds the request into session
// (a fresh openid.DefaultSession when session is nil, as in fosite's revocation handler). It returns
// fosite.ErrNotFound when there is no such token.
func (s *Store) GetAccessTokenSession(ctx context.Context, signature string, session fosite.Session) (fosite.Requester, error) {
	digest := Digest(signature)
	var rows []TokenRequest
	if err := s.conn(ctx).Raw(accessTokenUnion, TokenContextAccessToken, digest, digest).Scan(&rows).Error; err != nil {
		return nil, fositeError("get access token", err)
	}
	if len(rows) == 0 {
		return nil, fmt.Errorf("get access token: %w", fosite.ErrNotFound)
	}
	req, err := s.rebuild(ctx, &rows[0], session)
	return req, fositeError("get access token", err)
}

// DeleteAccessTokenSession implements oauth2.AccessTokenStorage. Deleting an unknown token is not an error.
func (s *Store) DeleteAccessTokenSession(ctx context.Context, signature string) error {
	digest := Digest(signature)
	if err := s.conn(ctx).Delete(&UserToken{}, "context = ? AND token = ?", TokenContextAccessToken, digest).Error; err != nil {
		return fositeError("delete access token", err)
	}
	return fositeError("delete access token", s.conn(ctx).Delete(&clientToken{}, "token = ?", digest).Error)
}

// RevokeAccessToken implements oauth2.TokenRevocationStorage (RFC 7009, section 2.1): it deletes every
// access token of the request (grant), in users_tokens and client_tokens. A request without access
// tokens is not an error: fosite's callers treat nil and fosite.ErrNotFound alike, except that after a
// reused authorization code an error would add a misleading hint to the response.
func (s *Store) RevokeAccessToken(ctx context.Context, requestID string) error {
	if err := s.conn(ctx).Delete(&UserToken{}, "context = ? AND request_id = ?", TokenContextAccessToken, requestID).Error; err != nil {
		return fositeError("revoke access token", err)
	}
	return fositeError("revoke access token", s.conn(ctx).Delete(&clientToken{}, "request_id = ?", requestID).Error)
}

// CreateRefreshTokenSession implements oauth2.RefreshTokenStorage. The row expires with the session's
// refresh token expiry, or refreshTokenFallbackLifetime after the request when the session has none.
// device_info is the User-Agent of the *http.Request under fosite.RequestContextKey in ctx, when the
// provider put one there. The access token is found through the request ID, so accessSignature is unused.
func (s *Store) CreateRefreshTokenSession(ctx context.Context, signature, accessSignature string, req fosite.Requester) error {
	userID, err := subjectUserID(req)
	if err != nil {
		return fositeError("create refresh token", err)
	}
	row, err := tokenRequest(req)
	if err != nil {
		return fositeError("create refresh token", err)
	}
	t := &RefreshToken{
		Token:        refreshTokenKey(signature),
		UserID:       userID,
		ExpiresAt:    s.expiryOrFallback(req, fosite.RefreshToken),
		DeviceInfo:   deviceInfo(ctx),
		TokenRequest: row,
	}
	return fositeError("create refresh token", s.conn(ctx).Create(t).Error)
}

// GetRefreshTokenSession implements oauth2.RefreshTokenStorage: it rebuilds the request into session
// (a fresh openid.DefaultSession when session is nil). A revoked (rotated) token returns the request
// TOGETHER WITH fosite.ErrInactiveToken, so fosite can detect reuse and revoke the grant. An unknown
// token returns fosite.ErrNotFound.
func (s *Store) GetRefreshTokenSession(ctx context.Context, signature string, session fosite.Session) (fosite.Requester, error) {
	var t RefreshToken
	if err := s.conn(ctx).Take(&t, "token = ?", refreshTokenKey(signature)).Error; err != nil {
		return nil, fositeError("get refresh token", err)
	}
	req, err := s.rebuild(ctx, &t.TokenRequest, session)
	if err != nil {
		return nil, fositeError("get refresh token", err)
	}
	if t.Revoked {
		return req, fmt.Errorf("get refresh token: %w", fosite.ErrInactiveToken)
	}
	return req, nil
}

// DeleteRefreshTokenSession implements oauth2.RefreshTokenStorage. It marks the token revoked rather
// than deleting the row, so that a later use is still detected as reuse. An unknown token is not an error.
func (s *Store) DeleteRefreshTokenSession(ctx context.Context, signature string) error {
	err := s.conn(ctx).Model(&RefreshToken{}).
		Where("token = ? AND revoked = ?", refreshTokenKey(signature), false).
		Update("revoked", true).Error
	return fositeError("delete refresh token", err)
}

// RotateRefreshToken implements oauth2.RefreshTokenStorage (RFC 6819, section 5.2.2.3). One atomic
// conditional update marks the token revoked (and used now) only if it is not revoked yet, so of
// concurrent refreshes with one token exactly one succeeds; then the access tokens of the request are
// revoked. It returns fosite.ErrInactiveToken when the token was revoked already (by an earlier or a
// concurrent rotation), fosite.ErrNotFound when there is no such token.
func (s *Store) RotateRefreshToken(ctx context.Context, requestID, signature string) error {
	key := refreshTokenKey(signature)
	res := s.conn(ctx).Model(&RefreshToken{}).
		Where("token = ? AND revoked = ?", key, false).
		Updates(map[string]any{"revoked": true, "last_used_at": s.now()})
	if res.Error != nil {
		return fositeError("rotate refresh token", res.Error)
	}
	if res.RowsAffected == 0 {
		var n int64
		if err := s.conn(ctx).Model(&RefreshToken{}).Where("token = ?", key).Count(&n).Error; err != nil {
			return fositeError("rotate refresh token", err)
		}
		if n == 0 {
			return fmt.Errorf("rotate refresh token: %w", fosite.ErrNotFound)
		}
		return fmt.Errorf("rotate refresh token: %w", fosite.ErrInactiveToken)
	}
	if err := s.RevokeAccessToken(ctx, requestID); err != nil {
		return fmt.Errorf("rotate refresh token: %w", err)
	}
	return nil
}

// RevokeRefreshToken implements oauth2.TokenRevocationStorage (RFC 7009, section 2.1): it marks every
// refresh token of the request (grant) revoked. A request without refresh tokens is not an error (see
// RevokeAccessToken).
func (s *Store) RevokeRefreshToken(ctx context.Context, requestID string) error {
	err := s.conn(ctx).Model(&RefreshToken{}).
		Where("request_id = ? AND revoked = ?", requestID, false).
		Update("revoked", true).Error
	return fositeError("revoke refresh token", err)
}

// CreatePKCERequestSession implements pkce.PKCERequestStorage.
func (s *Store) CreatePKCERequestSession(ctx context.Context, signature string, req fosite.Requester) error {
	return fositeError("create pkce request", s.createUserToken(ctx, TokenContextPKCE, signature, req, fosite.AuthorizeCode))
}

// GetPKCERequestSession implements pkce.PKCERequestStorage: it rebuilds the request into session, or
// returns fosite.ErrNotFound.
func (s *Store) GetPKCERequestSession(ctx context.Context, signature string, session fosite.Session) (fosite.Requester, error) {
	t, err := s.getUserToken(ctx, TokenContextPKCE, signature)
	if err != nil {
		return nil, fositeError("get pkce request", err)
	}
	req, err := s.rebuild(ctx, &t.TokenRequest, session)
	return req, fositeError("get pkce request", err)
}

// DeletePKCERequestSession implements pkce.PKCERequestStorage. Deleting an unknown one is not an error.
func (s *Store) DeletePKCERequestSession(ctx context.Context, signature string) error {
	return fositeError("delete pkce request", s.deleteUserToken(ctx, TokenContextPKCE, signature))
}

// CreateOpenIDConnectSession implements openid.OpenIDConnectRequestStorage. fosite keys it by the
// authorization code itself; only its digest is stored.
func (s *Store) CreateOpenIDConnectSession(ctx context.Context, authorizeCode string, req fosite.Requester) error {
	return fositeError("create openid request", s.createUserToken(ctx, TokenContextOpenID, authorizeCode, req, fosite.AuthorizeCode))
}

// GetOpenIDConnectSession implements openid.OpenIDConnectRequestStorage. The stored session is read into
// a new session of the same type as req's (req is fosite's request in flight, left untouched). It
// returns fosite.ErrNotFound (openid.ErrNoSessionFound) when there is none.
func (s *Store) GetOpenIDConnectSession(ctx context.Context, authorizeCode string, req fosite.Requester) (fosite.Requester, error) {
	t, err := s.getUserToken(ctx, TokenContextOpenID, authorizeCode)
	if err != nil {
		return nil, fositeError("get openid request", err)
	}
	var session fosite.Session
	if req != nil {
		session = newSessionLike(req.GetSession())
	}
	out, err := s.rebuild(ctx, &t.TokenRequest, session)
	return out, fositeError("get openid request", err)
}

// DeleteOpenIDConnectSession implements openid.OpenIDConnectRequestStorage. Deleting an unknown one is
// not an error.
func (s *Store) DeleteOpenIDConnectSession(ctx context.Context, authorizeCode string) error {
	return fositeError("delete openid request", s.deleteUserToken(ctx, TokenContextOpenID, authorizeCode))
}

// createUserToken stores req as a users_tokens row of the given context, keyed by Digest(key), expiring
// with the session's expiry of tokenType.
func (s *Store) createUserToken(ctx context.Context, tokenContext, key string, req fosite.Requester, tokenType fosite.TokenType) error {
	userID, err := subjectUserID(req)
	if err != nil {
		return err
	}
	row, err := tokenRequest(req)
	if err != nil {
		return err
	}
	return s.conn(ctx).Create(&UserToken{
		UserID:       userID,
		Token:        Digest(key),
		Context:      tokenContext,
		Active:       true,
		ExpiresAt:    expiresAt(req, tokenType),
		TokenRequest: row,
	}).Error
}

func (s *Store) getUserToken(ctx context.Context, tokenContext, key string) (*UserToken, error) {
	var t UserToken
	if err := s.conn(ctx).Take(&t, "context = ? AND token = ?", tokenContext, Digest(key)).Error; err != nil {
		return nil, err
	}
	return &t, nil
}

func (s *Store) deleteUserToken(ctx context.Context, tokenContext, key string) error {
	return s.conn(ctx).Delete(&UserToken{}, "context = ? AND token = ?", tokenContext, Digest(key)).Error
}

// rebuild turns a stored request back into a *fosite.Request: the client is loaded through the same
// connection (inside a transaction, the transaction's), and the stored session is unmarshalled into
// session, or into a fresh openid.DefaultSession when session is nil.
func (s *Store) rebuild(ctx context.Context, row *TokenRequest, session fosite.Session) (*fosite.Request, error) {
	client, err := s.GetClient(ctx, deref(row.ClientID))
	if err != nil {
		return nil, err
	}
	form, err := url.ParseQuery(deref(row.FormData))
	if err != nil {
		return nil, fmt.Errorf("stored form: %w", err)
	}
	if session == nil {
		session = openid.NewDefaultSession()
	}
	if len(row.SessionData) > 0 {
		if err := json.Unmarshal(row.SessionData, session); err != nil {
			return nil, fmt.Errorf("stored session: %w", err)
		}
	}
	req := &fosite.Request{
		ID:                deref(row.RequestID),
		Client:            client,
		RequestedScope:    fosite.Arguments(row.RequestedScopes),
		GrantedScope:      fosite.Arguments(row.GrantedScopes),
		RequestedAudience: fosite.Arguments(row.RequestedAudience),
		GrantedAudience:   fosite.Arguments(row.GrantedAudience),
		Form:              form,
		Session:           session,
	}
	if row.RequestedAt != nil {
		req.RequestedAt = row.RequestedAt.UTC()
	}
	return req, nil
}

// tokenRequest is what the row of req keeps for rebuild.
func tokenRequest(req fosite.Requester) (TokenRequest, error) {
	session, err := json.Marshal(req.GetSession())
	if err != nil {
		return TokenRequest{}, fmt.Errorf("marshal session: %w", err)
	}
	if req.GetClient() == nil {
		return TokenRequest{}, errors.New("request has no client")
	}
	requestedAt := req.GetRequestedAt()
	return TokenRequest{
		RequestID:         ptr(req.GetID()),
		ClientID:          ptr(req.GetClient().GetID()),
		RequestedAt:       &requestedAt,
		RequestedScopes:   StringList(req.GetRequestedScopes()),
		GrantedScopes:     StringList(req.GetGrantedScopes()),
		RequestedAudience: StringList(req.GetRequestedAudience()),
		GrantedAudience:   StringList(req.GetGrantedAudience()),
		FormData:          ptr(req.GetRequestForm().Encode()),
		SessionData:       session,
	}, nil
}

func subject(req fosite.Requester) string {
	if req.GetSession() == nil {
		return ""
	}
	return req.GetSession().GetSubject()
}

// subjectUserID is the user a request belongs to: its session's subject, which must be a user ID.
func subjectUserID(req fosite.Requester) (uuid.UUID, error) {
	sub := subject(req)
	if sub == "" {
		return uuid.Nil, errors.New("request session has no subject")
	}
	id, err := uuid.Parse(sub)
	if err != nil {
		return uuid.Nil, fmt.Errorf("request session subject %q is not a user ID", sub)
	}
	return id, nil
}

// expiresAt is the session's expiry for tokenType, nil when it has none.
func expiresAt(req fosite.Requester, tokenType fosite.TokenType) *time.Time {
	if req.GetSession() == nil {
		return nil
	}
	exp := req.GetSession().GetExpiresAt(tokenType)
	if exp.IsZero() {
		return nil
	}
	return &exp
}

// expiryOrFallback is the session's expiry for tokenType, or, for the NOT NULL expires_at of
// refresh_tokens and client_tokens when the session has none, refreshTokenFallbackLifetime after the
// request (after now, should the request carry no time).
func (s *Store) expiryOrFallback(req fosite.Requester, tokenType fosite.TokenType) time.Time {
	if exp := expiresAt(req, tokenType); exp != nil {
		return *exp
	}
	from := req.GetRequestedAt()
	if from.IsZero() {
		from = s.now()
	}
	return from.Add(refreshTokenFallbackLifetime)
}

func refreshTokenKey(signature string) string { return hex.EncodeToString(Digest(signature)) }

// deviceInfo is the User-Agent of the HTTP request in ctx, cut to the column's 255 characters.
func deviceInfo(ctx context.Context) *string {
	r, ok := ctx.Value(fosite.RequestContextKey).(*http.Request)
	if !ok || r.UserAgent() == "" {
		return nil
	}
	ua := []rune(r.UserAgent())
	if len(ua) > 255 {
		ua = ua[:255]
	}
	return ptr(string(ua))
}

// newSessionLike returns a new, empty session of the same concrete type as session (a pointer type, as
// fosite's sessions are), or a fresh openid.DefaultSession when that is not possible.
func newSessionLike(session fosite.Session) fosite.Session {
	if session == nil {
		return nil
	}
	t := reflect.TypeOf(session)
	if t.Kind() != reflect.Pointer {
		return nil
	}
	if s, ok := reflect.New(t.Elem()).Interface().(fosite.Session); ok {
		return s
	}
	return nil
}

func ptr[T any](v T) *T { return &v }

func deref(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}
