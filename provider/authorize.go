package provider

import (
	"context"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/ory/fosite"

	"github.com/kangrow/auth/storage"
)

// ParseAuthorize parses and validates an authorization request, GET or POST (RFC 6749 §4.1.1, OIDC
// Core §3.1.2.1): client, redirect URI (exact match; loopback ports may vary, RFC 8252 §7.3), response
// type, scopes, PKCE. Unknown parameters are ignored. On error the returned request may still be
// used with WriteAuthorizeError; CanRedirect says whether the error may go back to the client.
func (p *Provider) ParseAuthorize(ctx context.Context, r *http.Request) (fosite.AuthorizeRequester, error) {
	if err := r.ParseForm(); err != nil {
		return fosite.NewAuthorizeRequest(), fosite.ErrInvalidRequest.WithHint("The request body could not be parsed.")
	}
	// RFC 6749 §3.1: parameters MUST NOT be repeated. The client and the redirect URI must be beyond
	// doubt before anything is sent back (§4.1.2.1), so repeating those gets our error page; any other
	// repeated parameter is reported to the client once the request is otherwise understood.
	repeated := ""
	for k, vs := range r.Form {
		if len(vs) > 1 {
			if k == "client_id" || k == "redirect_uri" {
				return fosite.NewAuthorizeRequest(), fosite.ErrInvalidRequest.WithHintf("The %s parameter is repeated.", k)
			}
			repeated = k
			r.Form[k] = vs[:1]
		}
	}
	if err := p.checkRedirectURI(ctx, r.Form); err != nil {
		return fosite.NewAuthorizeRequest(), err
	}
	// state is optional and opaque (RFC 6749 §4.1.1; RFC 9700 §2.1 lets PKCE clients do without it),
	// but fosite refuses a request without one. A secret placeholder stands in for fosite and never
	// leaves the provider.
	if r.Form.Get("state") == "" {
		r.Form.Set("state", p.noState)
	}
	// Request objects are not supported (discovery says so); fosite would otherwise fetch request_uri
	// or answer with a misleading hint. Parse the rest first so the error can go back to the client.
	request, requestURI := r.Form.Get("request") != "", r.Form.Get("request_uri") != ""
	r.Form.Del("request")
	r.Form.Del("request_uri")
	// OIDC Core §5.4: scope values that are not understood SHOULD be ignored. These are the standard
	// ones we have no claims for; fosite would refuse them as not registered for the client.
	if scope := r.Form.Get("scope"); scope != "" {
		r.Form.Set("scope", strings.Join(slices.DeleteFunc(strings.Fields(scope), func(s string) bool {
			return s == "address" || s == "phone"
		}), " "))
	}

	ar, err := p.oauth2.NewAuthorizeRequest(ctx, r)
	if err != nil {
		return ar, err
	}
	if ar.GetRequestedScopes().Has("openid") && r.Form.Get("redirect_uri") == "" {
		// OIDC Core §3.1.2.1 makes redirect_uri REQUIRED in authentication requests, even where OAuth
		// would fall back to the one registered URI. Not sent back: the client named no URI to send to.
		return fosite.NewAuthorizeRequest(), fosite.ErrInvalidRequest.WithHint("The redirect_uri parameter is required in OpenID Connect requests.")
	}
	switch {
	case request:
		return ar, fosite.ErrRequestNotSupported
	case requestURI:
		return ar, fosite.ErrRequestURINotSupported
	case !ar.GetResponseTypes().ExactOne("code"):
		return ar, fosite.ErrUnsupportedResponseType.WithHint("Only the authorization code flow (response_type=code) is supported.")
	}
	if err := checkPrompt(ar.GetRequestForm().Get("prompt")); err != nil {
		return ar, err
	}
	if repeated != "" {
		return ar, fosite.ErrInvalidRequest.WithHintf("The %s parameter is repeated.", repeated)
	}
	return ar, nil
}

// checkRedirectURI holds the redirect URI to exact string matching against the client's registered
// ones (RFC 9700 §2.1, §4.1.3). Only a public (native) client's http loopback URI may differ, and only
// in its port (RFC 8252 §7.3, §8.4). fosite alone would let confidential clients vary the port too, and
// compares decoded paths. An unknown client is left for fosite to report.
func (p *Provider) checkRedirectURI(ctx context.Context, form url.Values) error {
	raw := form.Get("redirect_uri")
	if raw == "" {
		return nil
	}
	client, err := p.store.GetClientByID(ctx, form.Get("client_id"))
	if err != nil {
		return nil
	}
	if slices.Contains(client.RedirectURIs, raw) || (client.Public && loopbackPortVariant(raw, client.RedirectURIs)) {
		return nil
	}
	return fosite.ErrInvalidRequest.WithHint("The redirect_uri is not registered for this client.")
}

// loopbackPortVariant reports whether raw is one of the registered http loopback URIs (IP literal) with
// another port, and otherwise the same to the character.
func loopbackPortVariant(raw string, registered []string) bool {
	u, err := url.Parse(raw)
	if err != nil || u.Scheme != "http" || u.User != nil || u.Fragment != "" || net.ParseIP(u.Hostname()) == nil || !net.ParseIP(u.Hostname()).IsLoopback() {
		return false
	}
	for _, reg := range registered {
		r, err := url.Parse(reg)
		if err == nil && r.Scheme == "http" && r.User == nil && r.Hostname() == u.Hostname() &&
			r.EscapedPath() == u.EscapedPath() && r.RawQuery == u.RawQuery && r.ForceQuery == u.ForceQuery {
			return true
		}
	}
	return false
}

// checkPrompt refuses unknown prompt values and "none" with others before any page is shown (OIDC Core
// §3.1.2.1); fosite would only notice when issuing the code, after the user had signed in.
func checkPrompt(prompt string) error {
	values := strings.Fields(prompt)
	for _, v := range values {
		switch v {
		case "none", "login", "consent", "select_account":
		default:
			return fosite.ErrInvalidRequest.WithHintf("Unknown prompt value '%s'.", v)
		}
		if v == "none" && len(values) > 1 {
			return fosite.ErrInvalidRequest.WithHint("prompt=none cannot be combined with other values.")
		}
	}
	return nil
}

// CanRedirect reports whether errors about ar may be sent to its redirect URI. When the client is
// unknown or the redirect URI is not registered the user must see our own error page instead
// (RFC 6749 §4.1.2.1), never a redirect.
func (p *Provider) CanRedirect(ar fosite.AuthorizeRequester) bool {
	return ar != nil && ar.GetClient() != nil && ar.IsRedirectURIValid()
}

// WriteAuthorizeError sends err back to the client's redirect URI with state and, per RFC 9207, iss.
// Callers check CanRedirect first.
func (p *Provider) WriteAuthorizeError(ctx context.Context, w http.ResponseWriter, ar fosite.AuthorizeRequester, err error) {
	params := safeError(err).ToValues()
	if state := ar.GetState(); state != p.noState {
		params.Set("state", state)
	}
	params.Set("iss", p.cfg.Issuer)

	w.Header().Set("Cache-Control", "no-store")
	redirect := *ar.GetRedirectURI()
	redirect.Fragment = ""
	switch ar.GetResponseMode() {
	case fosite.ResponseModeFormPost:
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fosite.WriteAuthorizeFormPostResponse(redirect.String(), params, formPostTemplate, w)
		return
	case fosite.ResponseModeFragment:
		w.Header().Set("Location", redirect.String()+"#"+params.Encode())
	default:
		q := redirect.Query()
		for k, vs := range params {
			q[k] = vs
		}
		redirect.RawQuery = q.Encode()
		w.Header().Set("Location", redirect.String())
	}
	w.WriteHeader(http.StatusSeeOther)
}

// ErrorDescription is a safe, human description of an authorization error for our own error page.
func ErrorDescription(err error) (code, description string) {
	e := fosite.ErrorToRFC6749Error(err)
	desc := e.GetDescription()
	if e.ErrorField == "error" || e.CodeField >= 500 {
		return "server_error", "The request could not be processed."
	}
	return e.ErrorField, desc
}

// Grant is what the login and consent pages decided about an authorization request.
type Grant struct {
	User           *storage.User
	LoginSessionID string
	// AuthTime is when the user last authenticated in this login session.
	AuthTime time.Time
	// RequestedAt is when this authorization request first arrived, before any login it caused;
	// fosite checks prompt=login and max_age against it (OIDC Core §3.1.2.1).
	RequestedAt time.Time
	// Scopes are the granted scopes, a subset of the requested ones.
	Scopes []string
	// AMR lists the authentication methods used (RFC 8176), e.g. "pwd".
	AMR []string
}

// Authorize issues the authorization code for ar as decided in g and redirects back to the client
// with code, state and iss (RFC 9207). On error it answers like WriteAuthorizeError and returns the
// error for the caller to log.
func (p *Provider) Authorize(ctx context.Context, w http.ResponseWriter, ar fosite.AuthorizeRequester, g Grant) error {
	for _, s := range g.Scopes {
		if ar.GetRequestedScopes().Has(s) {
			ar.GrantScope(s)
		}
	}
	for _, a := range ar.GetRequestedAudience() {
		ar.GrantAudience(a)
	}
	session := p.newUserSession(ar, g)
	// The code, PKCE and OpenID Connect sessions are written together or not at all.
	var resp fosite.AuthorizeResponder
	err := p.inTransaction(ctx, func(ctx context.Context) (err error) {
		resp, err = p.oauth2.NewAuthorizeResponse(ctx, ar, session)
		return err
	})
	if err != nil {
		p.WriteAuthorizeError(ctx, w, ar, err)
		return err
	}
	resp.AddParameter("iss", p.cfg.Issuer)
	if ar.GetState() == p.noState {
		resp.GetParameters().Del("state")
	}
	p.oauth2.WriteAuthorizeResponse(ctx, w, ar, resp)
	return nil
}

// newUserSession builds the provider session for a user's grant: the ID token claims that do not
// change until the grant ends (OIDC Core §2, §5.1).
func (p *Provider) newUserSession(ar fosite.AuthorizeRequester, g Grant) *Session {
	s := NewSession()
	sub := g.User.ID.String()
	s.Subject = sub

	c := s.Claims
	c.Subject = sub
	c.Issuer = p.cfg.Issuer
	c.AuthTime = g.AuthTime.UTC().Truncate(time.Second)
	c.RequestedAt = g.RequestedAt.UTC().Truncate(time.Second)
	if c.RequestedAt.IsZero() || c.RequestedAt.After(p.cfg.Now().UTC()) {
		c.RequestedAt = p.cfg.Now().UTC().Truncate(time.Second)
	}
	c.AuthenticationMethodsReferences = g.AMR
	c.Extra = userClaims(g.User, ar.GetGrantedScopes())
	c.Extra["azp"] = ar.GetClient().GetID()
	// The client's registered ID token algorithm travels in the session's headers to the signer, which
	// picks that algorithm's current key (and drops the marker) each time it signs for this grant.
	if client, ok := ar.GetClient().(*storage.Client); ok && client.IDTokenSignedResponseAlg != "" {
		s.Headers.Extra = map[string]interface{}{headerAlg: client.IDTokenSignedResponseAlg}
	}
	if g.LoginSessionID != "" {
		c.Extra["sid"] = g.LoginSessionID
	}
	return s
}

// userClaims returns the standard claims the granted scopes release (OIDC Core §5.4), for the ID token
// and for userinfo. Absent values are left out rather than sent empty (§5.3.2).
func userClaims(u *storage.User, scopes fosite.Arguments) map[string]interface{} {
	claims := map[string]interface{}{}
	if scopes.Has("profile") {
		first, last := deref(u.FirstName), deref(u.LastName)
		if name := strings.TrimSpace(first + " " + last); name != "" {
			claims["name"] = name
		}
		if first != "" {
			claims["given_name"] = first
		}
		if last != "" {
			claims["family_name"] = last
		}
		if pic := deref(u.AvatarURL); pic != "" {
			claims["picture"] = pic
		}
		if !u.UpdatedAt.IsZero() {
			claims["updated_at"] = u.UpdatedAt.Unix()
		}
	}
	if scopes.Has("email") {
		claims["email"] = u.Email
		claims["email_verified"] = u.EmailVerified
	}
	return claims
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

// RequestedMaxAge returns the max_age of ar, if any (OIDC Core §3.1.2.1).
func RequestedMaxAge(ar fosite.AuthorizeRequester) (time.Duration, bool) {
	v := ar.GetRequestForm().Get("max_age")
	if v == "" {
		return 0, false
	}
	d, err := time.ParseDuration(v + "s")
	if err != nil || d < 0 {
		return 0, false
	}
	return d, true
}

// Prompts returns the prompt values of ar; select_account is treated as login since we keep one
// account per browser.
func Prompts(ar fosite.AuthorizeRequester) map[string]bool {
	out := map[string]bool{}
	for _, v := range strings.Fields(ar.GetRequestForm().Get("prompt")) {
		if v == "select_account" {
			v = "login"
		}
		out[v] = true
	}
	return out
}
