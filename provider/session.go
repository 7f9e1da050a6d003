package provider

import (
	"github.com/ory/fosite"
	"github.com/ory/fosite/handler/openid"
	"github.com/ory/fosite/token/jwt"
)

// Session is the provider session: fosite's claims carrier, stored as JSON in session_data with every
// code, token and grant, and rebuilt from it by the storage adapter. Subject is the user's id (empty for
// client_credentials). The client and the granted scopes travel in fosite's request, the login
// session's id in the ID token claims (sid).
type Session struct {
	openid.DefaultSession
}

var _ openid.Session = (*Session)(nil)

// NewSession returns an empty provider session for fosite to fill from storage.
func NewSession() *Session {
	return &Session{DefaultSession: openid.DefaultSession{
		Claims:  &jwt.IDTokenClaims{},
		Headers: &jwt.Headers{},
	}}
}

// Clone copies the session deeply for fosite's refresh flow, which mutates the clone's claims, and
// keeps its type (openid.DefaultSession's own Clone would return a *DefaultSession).
func (s *Session) Clone() fosite.Session {
	if s == nil {
		return nil
	}
	c := *s
	if inner, ok := s.DefaultSession.Clone().(*openid.DefaultSession); ok && inner != nil {
		c.DefaultSession = *inner
	}
	return &c
}
