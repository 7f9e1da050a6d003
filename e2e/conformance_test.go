package e2e_test

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"
)

// TestConformance runs the whole suite against one provider. Subtests are named after the OpenID
// Foundation's test modules (BasicOP: oidcc-basic-certification-test-plan; ConfigOP:
// oidcc-config-certification-test-plan), after RFC 9700's sections (RFC9700), or after what issue 3
// promises (Issue3).
func TestConformance(t *testing.T) {
	s := startSuite(t)
	t.Run("ConfigOP", s.configOP)
	t.Run("BasicOP", s.basicOP)
	t.Run("RFC9700", s.rfc9700)
	t.Run("Issue3", s.issue3)
}

// module runs fn as a parallel subtest with a fresh browser.
func (s *suite) module(t *testing.T, name string, fn func(t *testing.T, b *browser)) {
	t.Run(name, func(t *testing.T) {
		t.Parallel()
		fn(t, s.browser(t))
	})
}

// basicOP: oidcc-basic-certification-test-plan, response_type=code, client_secret_basic (one module
// with client_secret_post), default response mode, static clients.
func (s *suite) basicOP(t *testing.T) {
	t.Parallel()
	c := s.basic

	// OP-Response-code: the code flow end to end; the ID token and the resource call.
	s.module(t, "oidcc-server", func(t *testing.T, b *browser) {
		f := s.login(t, b, c, authParams(c, "openid"))
		if r := s.userinfo(t, f.access(), "get"); r.status != http.StatusOK {
			t.Errorf("resource (userinfo) call with the access token: %s", r)
		}
	})

	// OP-Response-Missing: no response_type. An error page, or invalid_request /
	// unsupported_response_type back to the client (RFC 6749 §3.1.1, §4.1.2.1); never a code.
	s.module(t, "oidcc-response-type-missing", func(t *testing.T, b *browser) {
		req := authParams(c, "openid")
		req.Del("response_type")
		p := b.complete(b.authorize(req))
		if cb, ok := callbackTo(p, c.Redirect); ok {
			cb = s.mustAuthzError(t, p, req)
			if e := cb.params.Get("error"); e != "invalid_request" && e != "unsupported_response_type" {
				t.Errorf("error = %q, want invalid_request or unsupported_response_type", e)
			}
			return
		}
		mustErrorPage(t, p)
	})

	// OP-IDToken-Signature, OP-IDToken-kid: signed with a published key named by kid.
	s.module(t, "oidcc-idtoken-signature", func(t *testing.T, b *browser) {
		f := s.login(t, b, c, authParams(c, "openid"))
		if _, ok := s.jwks[str(f.id.header["kid"])]; !ok {
			t.Errorf("kid %v not in the JWKS", f.id.header["kid"])
		}
	})

	// OP-UserInfo-Endpoint, -Header, -Body.
	for _, m := range []struct{ name, where string }{
		{"oidcc-userinfo-get", "get"}, {"oidcc-userinfo-post-header", "header"}, {"oidcc-userinfo-post-body", "body"},
	} {
		s.module(t, m.name, func(t *testing.T, b *browser) {
			f := s.login(t, b, c, authParams(c, "openid"))
			r := s.userinfo(t, f.access(), m.where)
			if r.status != http.StatusOK {
				t.Fatalf("userinfo (%s): %s", m.where, r)
			}
			if !strings.HasPrefix(r.header.Get("Content-Type"), "application/json") {
				t.Errorf("userinfo Content-Type = %q, want application/json (OIDC Core §5.3.2)", r.header.Get("Content-Type"))
			}
			if got := r.get("sub"); got != f.id.tok.Subject {
				t.Errorf("userinfo sub = %q, ID token sub = %q (OIDC Core §5.3.2: MUST be the same)", got, f.id.tok.Subject)
			}
		})
	}

	// OP-nonce-NoReq-code: nonce is optional in the code flow; then the ID token carries none.
	s.module(t, "oidcc-ensure-request-without-nonce-succeeds-for-code-flow", func(t *testing.T, b *browser) {
		req := authParams(c, "openid")
		req.Del("nonce")
		s.login(t, b, c, req)
	})

	// OP-scope-*: claims released per scope (OIDC Core §5.4), checked at userinfo; a scope the
	// provider does not advertise makes the plan skip its module.
	scopeModules := []struct{ name, scope string }{
		{"oidcc-scope-profile", "openid profile"},
		{"oidcc-scope-email", "openid email"},
		{"oidcc-scope-address", "openid address"},
		{"oidcc-scope-phone", "openid phone"},
		{"oidcc-scope-all", "openid profile email address phone"},
	}
	for _, m := range scopeModules {
		s.module(t, m.name, func(t *testing.T, b *browser) {
			supported := strSlice(s.meta["scopes_supported"])
			for _, sc := range strings.Fields(m.scope) {
				if !contains(supported, sc) {
					t.Skipf("scope %q is not in scopes_supported %v: the plan skips this module (OIDCCCheckScopesSupportedContainScopeTest)", sc, supported)
				}
			}
			f := s.login(t, b, c, authParams(c, m.scope))
			r := s.userinfo(t, f.access(), "get")
			if r.status != http.StatusOK {
				t.Fatalf("userinfo: %s", r)
			}
			s.checkScopeClaims(t, m.scope, r.body, f.id)
		})
	}

	s.module(t, "oidcc-ensure-other-scope-order-succeeds", func(t *testing.T, b *browser) {
		f := s.login(t, b, c, authParams(c, "email openid"))
		r := s.userinfo(t, f.access(), "get")
		if r.status != http.StatusOK || r.get("email") != aliceEmail {
			t.Errorf("userinfo after scope \"email openid\": %s", r)
		}
	})

	// OP-display-page, OP-display-popup: accepted.
	for _, d := range []string{"page", "popup"} {
		s.module(t, "oidcc-display-"+d, func(t *testing.T, b *browser) {
			req := authParams(c, "openid")
			req.Set("display", d)
			s.login(t, b, c, req)
		})
	}

	// OP-prompt-none-NotLoggedIn: an error that needs a user interface, with the (long) state intact.
	s.module(t, "oidcc-prompt-none-not-logged-in", func(t *testing.T, b *browser) {
		req := authParams(c, "openid")
		req.Set("state", randomValue(128))
		req.Set("prompt", "none")
		cb := s.mustAuthzError(t, b.authorize(req), req)
		switch e := cb.params.Get("error"); e {
		case "login_required", "interaction_required", "consent_required", "account_selection_required":
		default:
			t.Errorf("error = %q, want one that requires a user interface (OIDC Core §3.1.2.6)", e)
		}
	})

	// OP-prompt-none-LoggedIn: no page at all; same sub and auth_time.
	s.module(t, "oidcc-prompt-none-logged-in", func(t *testing.T, b *browser) {
		first := s.login(t, b, c, authParams(c, "openid"))
		req := authParams(c, "openid")
		req.Set("prompt", "none")
		second := s.finish(t, c, req, b.authorize(req), "")
		sameAuthentication(t, first, second)
	})

	// OP-Req-max_age=1: after 2 seconds, max_age=1 forces a new login; auth_time is present, later
	// and recent.
	s.module(t, "oidcc-max-age-1", func(t *testing.T, b *browser) {
		first := s.login(t, b, c, authParams(c, "openid"))
		time.Sleep(2 * time.Second)
		req := authParams(c, "openid")
		req.Set("max_age", "1")
		p := b.authorize(req)
		if !b.onLogin(p) {
			t.Fatalf("max_age=1, 2s after the login: the user was not asked to sign in again (OIDC Core §3.1.2.1); got %s", p)
		}
		second := s.finish(t, c, req, b.complete(p), "")
		a1, _ := first.id.num("auth_time")
		a2, ok := second.id.num("auth_time")
		switch {
		case !ok:
			t.Errorf("no auth_time although max_age was requested (OIDC Core §2: REQUIRED then)")
		case a2 <= a1:
			t.Errorf("second auth_time %d is not later than the first %d", a2, a1)
		case time.Since(time.Unix(a2, 0)) > time.Minute:
			t.Errorf("auth_time %d is not recent", a2)
		}
	})

	// OP-Req-max_age=10000: no new login; auth_time present and unchanged.
	s.module(t, "oidcc-max-age-10000", func(t *testing.T, b *browser) {
		first := s.login(t, b, c, authParams(c, "openid"))
		req := authParams(c, "openid")
		req.Set("max_age", "10000")
		p := b.authorize(req)
		if b.onLogin(p) {
			t.Fatalf("max_age=10000 right after a login asked the user to sign in again")
		}
		second := s.finish(t, c, req, b.complete(p), "")
		if _, ok := second.id.num("auth_time"); !ok {
			t.Errorf("no auth_time although max_age was requested (OIDC Core §2: REQUIRED then)")
		}
		sameAuthentication(t, first, second)
	})

	// OP-Req-NotUnderstood: unknown parameters are ignored (OIDC Core §3.1.2.1).
	s.module(t, "oidcc-ensure-request-with-unknown-parameter-succeeds", func(t *testing.T, b *browser) {
		req := authParams(c, "openid")
		req.Set("extra", "foobar")
		s.login(t, b, c, req)
	})

	// OP-Req-id_token_hint: prompt=none with the first ID token as hint succeeds silently.
	s.module(t, "oidcc-id-token-hint", func(t *testing.T, b *browser) {
		first := s.login(t, b, c, authParams(c, "openid"))
		req := authParams(c, "openid")
		req.Set("prompt", "none")
		req.Set("id_token_hint", first.id.raw)
		second := s.finish(t, c, req, b.authorize(req), "")
		sameAuthentication(t, first, second)
	})

	// OP-Req-login_hint: accepted; issue 3 also wants it to prefill the login form.
	s.module(t, "oidcc-login-hint", func(t *testing.T, b *browser) {
		req := authParams(c, "openid")
		req.Set("login_hint", aliceEmail)
		p := b.authorize(req)
		if v, ok := inputValue(p.body, "email"); !b.onLogin(p) || !ok || v != aliceEmail {
			t.Errorf("login page email field = %q, want the login_hint %q prefilled (issue 3)", v, aliceEmail)
		}
		s.finish(t, c, req, b.complete(p), "")
	})

	for _, m := range []struct{ name, param, value string }{
		{"oidcc-ui-locales", "ui_locales", "se"},
		{"oidcc-claims-locales", "claims_locales", "se"},
		{"oidcc-ensure-request-with-acr-values-succeeds", "acr_values", "1 2"},
	} {
		s.module(t, m.name, func(t *testing.T, b *browser) {
			req := authParams(c, "openid")
			req.Set(m.param, m.value)
			s.login(t, b, c, req)
		})
	}

	// OP-OAuth-2nd: a code works once; the second use is 400 invalid_grant (RFC 6749 §4.1.2, §5.2).
	s.module(t, "oidcc-codereuse", func(t *testing.T, b *browser) {
		f := s.login(t, b, c, authParams(c, "openid"))
		r := s.exchange(t, c, f.code, c.Redirect, "")
		mustTokenError(t, r, http.StatusBadRequest, "invalid_grant")
	})

	// OP-OAuth-2nd-30s, OP-OAuth-2nd-Revokes: the same 30 seconds later; the tokens the first
	// redemption issued are revoked (RFC 6749 §4.1.2 SHOULD; issue 3 makes it a promise).
	s.module(t, "oidcc-codereuse-30seconds", func(t *testing.T, b *browser) {
		f := s.login(t, b, c, authParams(c, "openid"))
		time.Sleep(30 * time.Second)
		r := s.exchange(t, c, f.code, c.Redirect, "")
		mustTokenError(t, r, http.StatusBadRequest, "invalid_grant")
		if u := s.userinfo(t, f.access(), "get"); u.status != http.StatusUnauthorized {
			t.Errorf("the access token of the first redemption still works after the code was reused: %s", u)
		}
	})

	// OP-redirect_uri-NotReg: an unregistered redirect URI gets the provider's error page.
	s.module(t, "oidcc-ensure-registered-redirect-uri", func(t *testing.T, b *browser) {
		req := authParams(c, "openid")
		req.Set("redirect_uri", c.Redirect+"/"+randomValue(10))
		mustErrorPage(t, b.complete(b.authorize(req)))
	})

	// OP-redirect_uri-Missing (Config/Dynamic plans): OIDC requires redirect_uri even when only one
	// is registered: an error page, or invalid_request to the registered URI; never a code.
	s.module(t, "oidcc-ensure-redirect-uri-in-authorization-request", func(t *testing.T, b *browser) {
		req := authParams(c, "openid")
		req.Del("redirect_uri")
		p := b.complete(b.authorize(req))
		if cb, ok := callbackTo(p, c.Redirect); ok {
			withURI := url.Values{"redirect_uri": {c.Redirect}, "state": req["state"]}
			cb = s.mustAuthzError(t, p, withURI)
			if e := cb.params.Get("error"); e != "invalid_request" && e != "invalid_request_object" {
				t.Errorf("error = %q, want invalid_request (OIDC Core §3.1.2.1, §3.1.2.6)", e)
			}
			return
		}
		mustErrorPage(t, p)
	})

	// OP-ClientAuth-SecretPost: the same flow with client_secret_post, through golang.org/x/oauth2.
	s.module(t, "oidcc-server-client-secret-post", func(t *testing.T, b *browser) {
		pc := s.post
		req := authParams(pc, "openid")
		code := s.mustCode(t, b.complete(b.authorize(req)), req)
		tok, err := s.oauth2Config(pc, "openid").Exchange(s.rpContext(t), code)
		if err != nil {
			t.Fatalf("x/oauth2 exchange with client_secret_post: %v", err)
		}
		raw, _ := tok.Extra("id_token").(string)
		s.checkIDToken(t, raw, pc, req.Get("nonce"), tok.AccessToken)
		info, err := s.op.UserInfo(oidc.ClientContext(s.rpContext(t), s.http), oauth2.StaticTokenSource(tok))
		if err != nil || info.Subject != s.userID {
			t.Errorf("go-oidc userinfo: %v %+v", err, info)
		}
	})

	// The request object names the registered redirect URI, the query an unregistered one. A provider
	// that ignores request objects must not redirect to the unregistered URI.
	s.module(t, "oidcc-ensure-request-object-with-redirect-uri", func(t *testing.T, b *browser) {
		inner := authParams(c, "openid")
		bad := c.Redirect + "/" + randomValue(8)
		req := url.Values{
			"response_type": {"code"}, "client_id": {c.ID}, "scope": {"openid"}, "redirect_uri": {bad},
			"state": inner["state"], "request": {unsignedJWT(t, inner)},
		}
		p := b.complete(b.authorize(req))
		if cb, ok := callbackTo(p, bad); ok {
			t.Fatalf("redirected to the unregistered redirect_uri of the query: %s", cb.target)
		}
		if cb, ok := callbackTo(p, c.Redirect); ok {
			if cb.params.Get("code") != "" || cb.params.Get("error") == "request_not_supported" {
				return // the request object was processed, or refused as unsupported at its own redirect URI
			}
			t.Fatalf("unexpected response at the registered redirect URI: %v", cb.params)
		}
		mustErrorPage(t, p)
	})

	// OP-claims-essential: the claims parameter; discovery says claims_parameter_supported=false, so
	// it is ignored (OIDC Core §5.5: an OP that does not support it ignores it) and the flow succeeds.
	s.module(t, "oidcc-claims-essential", func(t *testing.T, b *browser) {
		req := authParams(c, "openid")
		req.Set("claims", `{"userinfo":{"name":{"essential":true}}}`)
		f := s.login(t, b, c, req)
		if r := s.userinfo(t, f.access(), "get"); r.status != http.StatusOK {
			t.Errorf("userinfo: %s", r)
		}
	})

	// oidcc-refresh-token: offline_access with prompt=consent; the refresh (with scope, after a second)
	// gives a new access token and an ID token whose iss, sub, aud, auth_time and azp are the first's
	// and whose iat is new (OIDC Core §12.2); a refresh token of client 2 is useless to client 1.
	s.module(t, "oidcc-refresh-token", func(t *testing.T, b *browser) {
		scope := "openid offline_access"
		req := authParams(c, scope)
		req.Set("prompt", "consent")
		p := b.authorize(req)
		if b.onLogin(p) {
			p = b.signIn(p)
		}
		if !b.onConsent(p) {
			t.Fatalf("prompt=consent did not show the consent page (OIDC Core §3.1.2.1): %s", p)
		}
		first := s.finish(t, c, req, b.decide(p, "approve"), "")
		rt := first.tokens.get("refresh_token")
		if rt == "" {
			t.Fatalf("no refresh token for offline_access with consent (OIDC Core §11)")
		}
		time.Sleep(time.Second)
		r := s.token(t, c, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt}, "scope": {scope}})
		mustTokens(t, r)
		if r.get("access_token") == first.access() {
			t.Errorf("the refresh returned the same access token")
		}
		second := s.checkIDToken(t, r.get("id_token"), c, "", r.get("access_token"))
		compareRefreshedIDToken(t, first.id, second)

		// Client 2's refresh token presented by client 1 (RFC 6749 §6, §10.4).
		b2 := s.browser(t)
		req2 := authParams(s.second, scope)
		f2 := s.login(t, b2, s.second, req2)
		rt2 := f2.tokens.get("refresh_token")
		if rt2 == "" {
			t.Fatalf("client 2 got no refresh token")
		}
		mustTokenError(t, s.token(t, c, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt2}}), http.StatusBadRequest, "invalid_grant")
	})

	s.module(t, "oidcc-ensure-request-with-valid-pkce-succeeds", func(t *testing.T, b *browser) {
		req := authParams(c, "openid")
		verifier := addPKCE(req)
		s.finish(t, c, req, b.complete(b.authorize(req)), verifier)
	})

	// The authentication request by POST (OIDC Core §3.1.2.1).
	s.module(t, "oidcc-ensure-post-request-succeeds", func(t *testing.T, b *browser) {
		req := authParams(c, "openid")
		p := b.complete(b.postForm(s.authzEndpoint(), req, nil))
		s.finish(t, c, req, p, "")
	})
}

// sameAuthentication checks that second reused first's authentication: same sub, same auth_time.
func sameAuthentication(t *testing.T, first, second flow) {
	t.Helper()
	if first.id.tok.Subject != second.id.tok.Subject {
		t.Errorf("sub changed: %q then %q", first.id.tok.Subject, second.id.tok.Subject)
	}
	a1, ok1 := first.id.num("auth_time")
	a2, ok2 := second.id.num("auth_time")
	if ok1 && ok2 && a1 != a2 {
		t.Errorf("auth_time changed from %d to %d without a new login", a1, a2)
	}
}

// compareRefreshedIDToken applies OIDC Core §12.2 (the plan's CompareIdTokenClaims).
func compareRefreshedIDToken(t *testing.T, first, second idToken) {
	t.Helper()
	for _, k := range []string{"iss", "sub"} {
		if str(first.claims[k]) != str(second.claims[k]) {
			t.Errorf("refreshed ID token %s = %v, first %v (OIDC Core §12.2: MUST be the same)", k, second.claims[k], first.claims[k])
		}
	}
	a1, a2 := audience(first.claims["aud"]), audience(second.claims["aud"])
	if strings.Join(a1, " ") != strings.Join(a2, " ") {
		t.Errorf("refreshed ID token aud = %v, first %v", a2, a1)
	}
	i1, _ := first.num("iat")
	if i2, _ := second.num("iat"); i2 == i1 {
		t.Errorf("refreshed ID token iat %d equals the first's: it must be the time it was issued", i2)
	}
	if _, ok := second.claims["auth_time"]; ok {
		a1, _ := first.num("auth_time")
		if a2, _ := second.num("auth_time"); a2 != a1 {
			t.Errorf("refreshed ID token auth_time %d, first %d (OIDC Core §12.2: the original authentication)", a2, a1)
		}
	}
	if str(first.claims["azp"]) != str(second.claims["azp"]) {
		t.Errorf("refreshed ID token azp = %v, first %v", second.claims["azp"], first.claims["azp"])
	}
	if _, ok := second.claims["nonce"]; ok {
		t.Logf("note: the refreshed ID token carries a nonce (OIDC Core §12.2: SHOULD NOT)")
	}
}

// checkScopeClaims checks the userinfo claims the scopes release (OIDC Core §5.1, §5.4) and their
// types, and that userinfo and the ID token name the same subject.
func (s *suite) checkScopeClaims(t *testing.T, scope string, info map[string]any, id idToken) {
	t.Helper()
	if str(info["sub"]) != id.tok.Subject {
		t.Errorf("userinfo sub = %v, ID token sub = %s", info["sub"], id.tok.Subject)
	}
	scopes := strings.Fields(scope)
	if contains(scopes, "profile") {
		want := map[string]string{"name": "Alice Smith", "given_name": "Alice", "family_name": "Smith"}
		for k, v := range want {
			if str(info[k]) != v {
				t.Errorf("userinfo %s = %v, want %q for scope profile", k, info[k], v)
			}
		}
		if v, ok := info["updated_at"]; ok {
			n, isNum := v.(json.Number)
			sec, err := n.Int64()
			if !isNum || err != nil {
				t.Errorf("updated_at = %#v: want a number of seconds (OIDC Core §5.1)", v)
			} else if sec > time.Now().Add(5*time.Minute).Unix() || sec < 631152000 {
				t.Errorf("updated_at %d is in the future or before 1990", sec)
			}
		}
	} else if _, ok := info["name"]; ok {
		t.Errorf("userinfo released name without the profile scope")
	}
	if contains(scopes, "email") {
		if str(info["email"]) != aliceEmail {
			t.Errorf("userinfo email = %v, want %s", info["email"], aliceEmail)
		}
		if v, ok := info["email_verified"].(bool); !ok || !v {
			t.Errorf("email_verified = %#v, want the boolean true (OIDC Core §5.1)", info["email_verified"])
		}
	} else if _, ok := info["email"]; ok {
		t.Errorf("userinfo released email without the email scope")
	}
	if contains(scopes, "address") {
		if _, ok := info["address"].(map[string]any); !ok {
			t.Errorf("address = %#v, want a JSON object (OIDC Core §5.1.1)", info["address"])
		}
	}
	if contains(scopes, "phone") {
		if _, ok := info["phone_number_verified"]; ok {
			if _, isBool := info["phone_number_verified"].(bool); !isBool {
				t.Errorf("phone_number_verified = %#v, want a boolean", info["phone_number_verified"])
			}
		}
	}
}

// unsignedJWT is a request object with alg none holding params as claims (OIDC Core §6.1).
func unsignedJWT(t *testing.T, params url.Values) string {
	t.Helper()
	claims := map[string]any{}
	for k := range params {
		claims[k] = params.Get(k)
	}
	head, _ := json.Marshal(map[string]string{"alg": "none"})
	body, err := json.Marshal(claims)
	if err != nil {
		t.Fatal(err)
	}
	return b64(head) + "." + b64(body) + "."
}
