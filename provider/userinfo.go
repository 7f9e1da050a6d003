package provider

import (
	"encoding/json"
	"net/http"
	"strings"

	"github.com/google/uuid"
	"github.com/ory/fosite"
)

// UserInfo serves the OIDC UserInfo endpoint (OIDC Core §5.3) by GET or POST. The access token comes in
// the Authorization header or, for POST, the form body (RFC 6750 §2.1, §2.2); never in the query.
func (p *Provider) UserInfo(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	token := bearerToken(r)
	if token == "" {
		// RFC 6750 §3.1: a request without credentials gets a challenge and no error code.
		p.bearerChallenge(w, http.StatusUnauthorized, "", "")
		return
	}
	use, ar, err := p.oauth2.IntrospectToken(ctx, token, fosite.AccessToken, NewSession())
	if err == nil && use != fosite.AccessToken {
		// fosite also finds refresh tokens; only an access token is a bearer credential here.
		err = fosite.ErrInactiveToken
	}
	if err != nil {
		p.bearerChallenge(w, http.StatusUnauthorized, "invalid_token", "The access token is missing, expired or revoked.")
		return
	}
	if !ar.GetGrantedScopes().Has("openid") {
		p.bearerChallenge(w, http.StatusForbidden, "insufficient_scope", "The access token was not granted the openid scope.")
		return
	}
	id, err := uuid.Parse(ar.GetSession().GetSubject())
	if err != nil {
		p.bearerChallenge(w, http.StatusUnauthorized, "invalid_token", "The access token does not belong to a user.")
		return
	}
	u, err := p.store.GetUser(ctx, id)
	if err != nil || !u.CanSignIn() {
		p.bearerChallenge(w, http.StatusUnauthorized, "invalid_token", "The access token's user can no longer sign in.")
		return
	}
	claims := userClaims(u, ar.GetGrantedScopes())
	claims["sub"] = u.ID.String()
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	_ = json.NewEncoder(w).Encode(claims)
}

func bearerToken(r *http.Request) string {
	if h := r.Header.Get("Authorization"); h != "" {
		scheme, value, ok := strings.Cut(h, " ")
		if ok && strings.EqualFold(scheme, "Bearer") {
			return strings.TrimSpace(value)
		}
		return ""
	}
	if r.Method == http.MethodPost && strings.HasPrefix(r.Header.Get("Content-Type"), "application/x-www-form-urlencoded") {
		if err := r.ParseForm(); err == nil {
			return r.PostForm.Get("access_token")
		}
	}
	return ""
}

// bearerChallenge answers with RFC 6750 §3's WWW-Authenticate header and a JSON error body.
func (p *Provider) bearerChallenge(w http.ResponseWriter, status int, code, description string) {
	challenge := `Bearer realm="` + p.cfg.Issuer + `"`
	if code != "" {
		challenge += `, error="` + code + `", error_description="` + description + `"`
	}
	w.Header().Set("WWW-Authenticate", challenge)
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	if code == "" {
		code = "invalid_request"
		description = "The request has no access token."
	}
	_ = json.NewEncoder(w).Encode(map[string]string{"error": code, "error_description": description})
}
