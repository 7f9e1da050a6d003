package provider

import (
	"time"

	"github.com/ory/fosite"
	"github.com/ory/fosite/handler/openid"
	"github.com/ory/fosite/token/jwt"
)

// Session is the provider session: fosite's claims carrier, stored as JSON in session_data with every
// code, token and grant, and rebuilt from it by the storage adapter. Subject is the user's id (empty for
// client_credentials); LoginSessionID is the browser login session that authorized the grant (the ID
// token's sid).
type Session struct {
	openid.DefaultSession
	LoginSessionID string   `json:"login_session_id,omitempty"`
	ClientID       string   `json:"client_id,omitempty"`
	GrantedScopes  []string `json:"granted_scopes,omitempty"`
}

var _ openid.Session = (*Session)(nil)

// NewSession returns an empty provider session for fosite to fill from storage.
func NewSession() *Session {
	return &Session{DefaultSession: openid.DefaultSession{
		Claims:  &jwt.IDTokenClaims{},
		Headers: &jwt.Headers{},
	}}
}

// Clone copies the session deeply enough for fosite's refresh flow, which mutates the clone's claims.
func (s *Session) Clone() fosite.Session {
	if s == nil {
		return nil
	}
	c := *s
	if inner, ok := s.DefaultSession.Clone().(*openid.DefaultSession); ok && inner != nil {
		c.DefaultSession = *inner
	}
	c.GrantedScopes = append([]string(nil), s.GrantedScopes...)
	return &c
}

// expiry returns the expiry fosite set for kind, for tests and the storage adapter's callers.
func (s *Session) expiry(kind fosite.TokenType) time.Time { return s.GetExpiresAt(kind) }
