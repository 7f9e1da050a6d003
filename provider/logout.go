package provider

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"slices"

	"github.com/ory/fosite/token/jwt"
)

// LogoutRequest is a validated RP-initiated logout request (OpenID Connect RP-Initiated Logout 1.0 §2).
type LogoutRequest struct {
	// Subject and LoginSessionID come from a verified id_token_hint; empty without one.
	Subject        string
	LoginSessionID string
	ClientID       string
	// RedirectURI is the registered post_logout_redirect_uri with state added, or empty.
	RedirectURI string
}

// ErrLogoutRequest is returned for logout requests that must not be honoured with a redirect.
var ErrLogoutRequest = errors.New("invalid logout request")

// ParseLogout validates a logout request, GET or POST. id_token_hint must be an ID token we issued
// (expired ones are accepted, §2); post_logout_redirect_uri must be registered for the client named by
// the hint's aud or by client_id, and is only honoured when the client is known (§3).
func (p *Provider) ParseLogout(ctx context.Context, r *http.Request) (LogoutRequest, error) {
	var out LogoutRequest
	if err := r.ParseForm(); err != nil {
		return out, wrapLogout("the request could not be parsed")
	}
	clientID := r.Form.Get("client_id")
	if hint := r.Form.Get("id_token_hint"); hint != "" {
		tok, err := p.signer.Decode(ctx, hint)
		var ve *jwt.ValidationError
		if err != nil && !(errors.As(err, &ve) && ve.Has(jwt.ValidationErrorExpired)) {
			return out, wrapLogout("id_token_hint is not an ID token issued here")
		}
		if tok == nil {
			return out, wrapLogout("id_token_hint is not an ID token issued here")
		}
		claims := tok.Claims
		if iss, _ := claims["iss"].(string); iss != p.cfg.Issuer {
			return out, wrapLogout("id_token_hint was issued by another issuer")
		}
		out.Subject, _ = claims["sub"].(string)
		out.LoginSessionID, _ = claims["sid"].(string)
		aud := audience(claims["aud"])
		if clientID != "" && !slices.Contains(aud, clientID) {
			return out, wrapLogout("client_id does not match the id_token_hint's audience")
		}
		if clientID == "" && len(aud) > 0 {
			clientID = aud[0]
		}
	}
	out.ClientID = clientID
	redirect := r.Form.Get("post_logout_redirect_uri")
	if redirect == "" {
		return out, nil
	}
	if clientID == "" {
		return out, wrapLogout("post_logout_redirect_uri needs id_token_hint or client_id")
	}
	client, err := p.store.GetClientByID(ctx, clientID)
	if err != nil {
		return out, wrapLogout("unknown client")
	}
	if !slices.Contains(client.PostLogoutRedirectURIs, redirect) {
		return out, wrapLogout("post_logout_redirect_uri is not registered for this client")
	}
	u, err := url.Parse(redirect)
	if err != nil {
		return out, wrapLogout("post_logout_redirect_uri is malformed")
	}
	if state := r.Form.Get("state"); state != "" {
		q := u.Query()
		q.Set("state", state)
		u.RawQuery = q.Encode()
	}
	out.RedirectURI = u.String()
	return out, nil
}

type logoutError struct{ reason string }

func (e *logoutError) Error() string        { return "logout: " + e.reason }
func (e *logoutError) Is(target error) bool { return target == ErrLogoutRequest }

// Reason is the safe, human explanation shown on the error page.
func (e *logoutError) Reason() string { return e.reason }

func wrapLogout(reason string) error { return &logoutError{reason: reason} }

func audience(v interface{}) []string {
	switch a := v.(type) {
	case string:
		return []string{a}
	case []interface{}:
		out := make([]string, 0, len(a))
		for _, x := range a {
			if s, ok := x.(string); ok {
				out = append(out, s)
			}
		}
		return out
	case []string:
		return a
	}
	return nil
}
