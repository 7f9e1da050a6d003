package provider

import (
	"encoding/json"
	"html/template"
	"net/http"
	"strconv"
)

// Scopes we understand. Claims per scope follow OIDC Core §5.4.
var supportedScopes = []string{"openid", "profile", "email", "offline_access"}

// buildDiscovery renders the one metadata document served at both well-known paths: OIDC Discovery 1.0
// §3 and RFC 8414 §2 share their field names. It advertises only what works, and says false where a
// field's default would claim support we do not have (request_uri_parameter_supported defaults to true).
func (p *Provider) buildDiscovery() ([]byte, error) {
	ep := p.endpoints
	doc := map[string]any{
		"issuer":                                        p.cfg.Issuer,
		"authorization_endpoint":                        ep.authorize,
		"token_endpoint":                                ep.token,
		"userinfo_endpoint":                             ep.userinfo,
		"jwks_uri":                                      ep.jwks,
		"revocation_endpoint":                           ep.revoke,
		"introspection_endpoint":                        ep.introspect,
		"end_session_endpoint":                          ep.endSession,
		"scopes_supported":                              supportedScopes,
		"response_types_supported":                      []string{"code"},
		"response_modes_supported":                      []string{"query", "fragment", "form_post"},
		"grant_types_supported":                         []string{"authorization_code", "refresh_token", "client_credentials"},
		"subject_types_supported":                       []string{"public"},
		"id_token_signing_alg_values_supported":         signingAlgorithms,
		"token_endpoint_auth_methods_supported":         []string{"client_secret_basic", "client_secret_post", "none"},
		"revocation_endpoint_auth_methods_supported":    []string{"client_secret_basic", "client_secret_post", "none"},
		"introspection_endpoint_auth_methods_supported": []string{"client_secret_basic"},
		"code_challenge_methods_supported":              []string{"S256"},
		"claims_supported": []string{
			"iss", "sub", "aud", "exp", "iat", "auth_time", "nonce", "at_hash", "azp", "sid", "amr",
			"name", "given_name", "family_name", "picture", "updated_at", "email", "email_verified",
		},
		"claim_types_supported":                          []string{"normal"},
		"claims_parameter_supported":                     false,
		"request_parameter_supported":                    false,
		"request_uri_parameter_supported":                false,
		"require_request_uri_registration":               false,
		"authorization_response_iss_parameter_supported": true,
		"frontchannel_logout_supported":                  false,
		"backchannel_logout_supported":                   false,
		"prompt_values_supported":                        []string{"none", "login", "consent", "select_account"},
		"ui_locales_supported":                           []string{"en"},
		"claims_locales_supported":                       []string{"en"},
	}
	return json.Marshal(doc)
}

// Discovery serves /.well-known/openid-configuration and /.well-known/oauth-authorization-server.
func (p *Provider) Discovery(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "public, max-age=3600")
	_, _ = w.Write(p.discovery)
}

// formPostTemplate renders form_post responses (OAuth 2.0 Form Post Response Mode §2). The one inline
// handler is allowed by hash in the authorize route's CSP (FormPostScriptHash); without scripts the
// button submits.
var formPostTemplate = template.Must(template.New("form_post").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Continue</title></head>
<body onload="document.forms[0].submit()">
<form method="post" action="{{ .RedirURL }}">
{{ range $key, $values := .Parameters }}{{ range $values }}<input type="hidden" name="{{ $key }}" value="{{ . }}">
{{ end }}{{ end }}<noscript><button type="submit">Continue</button></noscript>
</form>
</body></html>`))

// JWKS serves the public signing keys (RFC 7517 §5). The max-age is what the rotation schedule
// honours: a new key is published at least that long before it signs.
func (p *Provider) JWKS(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "application/jwk-set+json")
	w.Header().Set("Cache-Control", "public, max-age="+strconv.Itoa(int(p.keys.MaxAge().Seconds())))
	_, _ = w.Write(p.keys.JWKSJSON())
}

// FormPostScript is the inline handler of formPostTemplate, for the CSP hash the web layer sends.
const FormPostScript = "document.forms[0].submit()"
