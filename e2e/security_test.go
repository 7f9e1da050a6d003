package e2e_test

import (
	"encoding/json"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"

	"golang.org/x/oauth2"
)

// rfc9700: RFC 9700 (OAuth 2.0 Security Best Current Practice), §2 (recommendations) and §4 (attacks
// and mitigations), as far as an authorization server can be checked from outside. Subtests are named
// after the section.
func (s *suite) rfc9700(t *testing.T) {
	t.Parallel()
	c := s.basic

	// §2.1.1, §4.8.2: a token request with a code_verifier is accepted only if the authorization
	// request had a code_challenge (PKCE downgrade).
	s.module(t, "2.1.1-pkce-downgrade-refused", func(t *testing.T, b *browser) {
		req := authParams(c, "openid")
		code := s.mustCode(t, b.complete(b.authorize(req)), req)
		r := s.exchange(t, c, code, c.Redirect, oauth2Verifier())
		mustTokenError(t, r, http.StatusBadRequest, "invalid_grant")
	})

	// §2.1.1: with a code_challenge the verifier is enforced (RFC 7636 §4.6): missing or wrong →
	// invalid_grant.
	s.module(t, "2.1.1-pkce-verifier-enforced", func(t *testing.T, b *browser) {
		for _, bad := range []string{"", oauth2Verifier()} {
			req := authParams(c, "openid")
			addPKCE(req)
			code := s.mustCode(t, b.complete(b.authorize(req)), req)
			form := url.Values{"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {c.Redirect}}
			if bad != "" {
				form.Set("code_verifier", bad)
			}
			mustTokenError(t, s.token(t, c, form), http.StatusBadRequest, "invalid_grant")
		}
	})

	// §2.1.1: public clients must use PKCE; without it the request is refused at the client, with PKCE
	// it works without any secret.
	s.module(t, "2.1.1-pkce-required-for-public-clients", func(t *testing.T, b *browser) {
		pc := s.public
		req := authParams(pc, "openid")
		req.Set("redirect_uri", loopbackWithPort(pc.Redirect, randomPort()))
		cb := s.mustAuthzError(t, b.complete(b.authorize(req)), req)
		if e := cb.params.Get("error"); e != "invalid_request" {
			t.Errorf("public client without code_challenge: error = %q, want invalid_request (RFC 7636 §4.4.1)", e)
		}
		req = authParams(pc, "openid offline_access")
		req.Set("redirect_uri", loopbackWithPort(pc.Redirect, randomPort()))
		verifier := addPKCE(req)
		f := s.finish(t, pc, req, b.complete(b.authorize(req)), verifier)
		if rt := f.tokens.get("refresh_token"); rt != "" {
			// §4.14.2: refresh tokens of public clients are sender-constrained or rotated.
			r := s.token(t, pc, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt}})
			mustTokens(t, r)
			if nrt := r.get("refresh_token"); nrt == "" || nrt == rt {
				t.Errorf("public client's refresh token was not rotated (RFC 9700 §4.14.2)")
			}
			mustTokenError(t, s.token(t, pc, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt}}), http.StatusBadRequest, "invalid_grant")
		}
	})

	// §2.1, §4.1.3: redirect URIs are compared by exact string matching; the one exception is the port
	// of a native app's loopback redirect. Every variation of the confidential client's registered URI
	// gets the provider's error page, never a redirect.
	s.module(t, "4.1.3-redirect-uri-exact-match", func(t *testing.T, _ *browser) {
		reg, _ := url.Parse(c.Redirect)
		host, port := reg.Hostname(), reg.Port()
		variants := map[string]string{
			"path-suffix":     c.Redirect + "/evil",
			"path-prefix":     strings.TrimSuffix(c.Redirect, "/cb") + "/c",
			"trailing-slash":  c.Redirect + "/",
			"added-query":     c.Redirect + "?next=https://evil.example/",
			"upper-case-path": strings.Replace(c.Redirect, "/cb", "/CB", 1),
			"dot-segment":     c.Redirect + "/../cb",
			"localhost":       "http://localhost:" + port + "/cb",
			"https":           "https://" + host + ":" + port + "/cb",
			"other-host":      "https://evil.example/cb",
			"fragment":        c.Redirect + "#x",
		}
		// The other port, userinfo and percent-encoded variants are in TestRegressions (finding F4).
		s.refusedRedirects(t, c, variants)
	})

	// §4.1.3, RFC 8252 §7.3: a native app's loopback redirect may use any port, nothing else may vary.
	s.module(t, "4.1.3-native-loopback-port", func(t *testing.T, b *browser) {
		pc := s.public
		req := authParams(pc, "openid")
		req.Set("redirect_uri", loopbackWithPort(pc.Redirect, randomPort()))
		verifier := addPKCE(req)
		s.finish(t, pc, req, b.complete(b.authorize(req)), verifier)

		reg, _ := url.Parse(pc.Redirect)
		port := strconv.Itoa(randomPort())
		// The userinfo and percent-encoded variants are in TestRegressions (finding F4).
		s.refusedRedirects(t, pc, map[string]string{
			"other-path":  "http://" + reg.Hostname() + ":" + port + "/native/evil",
			"other-host":  "http://localhost:" + port + "/native/cb",
			"added-query": "http://" + reg.Hostname() + ":" + port + "/native/cb?x=1",
		})
	})

	// §4.12: after a form POST (credentials, consent) the provider redirects with 303 (or 302), never
	// 307/308, which would make the browser post the user's credentials on to the next URL.
	s.module(t, "4.12-no-307-after-post", func(t *testing.T, b *browser) {
		req := authParams(c, "openid profile")
		req.Set("prompt", "consent")
		p := b.authorize(req)
		if !b.onLogin(p) {
			t.Fatalf("want the login page: %s", p)
		}
		form, _ := parseForm(p.body, "")
		target, _ := p.url.Parse(form.action)
		form.values.Set("email", aliceEmail)
		form.values.Set("password", alicePassword)
		hr, _ := http.NewRequest(http.MethodPost, target.String(), strings.NewReader(form.values.Encode()))
		hr.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		for step := 0; step < 6; step++ {
			r := b.doOnce(hr)
			if r.status == http.StatusTemporaryRedirect || r.status == http.StatusPermanentRedirect {
				t.Fatalf("%s %s answered %d: the browser would re-post the form to %s (RFC 9700 §4.12)", r.method, r.url.Path, r.status, r.location())
			}
			if cb, ok := callbackTo(r, c.Redirect); ok {
				if cb.params.Get("code") == "" {
					t.Fatalf("no code: %v", cb.params)
				}
				return
			}
			switch {
			case r.status == http.StatusSeeOther || r.status == http.StatusFound:
				next, _ := r.url.Parse(r.location())
				hr, _ = http.NewRequest(http.MethodGet, next.String(), nil)
			case b.onConsent(r):
				cf, _ := parseForm(r.body, "")
				ct, _ := r.url.Parse(cf.action)
				cf.values.Set("action", "approve")
				hr, _ = http.NewRequest(http.MethodPost, ct.String(), strings.NewReader(cf.values.Encode()))
				hr.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			default:
				t.Fatalf("unexpected step: %s", r)
			}
		}
		t.Fatalf("no callback after 6 steps")
	})

	// RFC 9207 (RFC 9700 §4.4.2): iss in error responses too, e.g. a denied consent.
	s.module(t, "4.4.2-iss-in-error-responses", func(t *testing.T, b *browser) {
		req := authParams(c, "openid profile")
		req.Set("prompt", "consent")
		p := b.authorize(req)
		if b.onLogin(p) {
			p = b.signIn(p)
		}
		cb := s.mustAuthzError(t, b.decide(p, "deny"), req)
		if e := cb.params.Get("error"); e != "access_denied" {
			t.Errorf("denied consent: error = %q, want access_denied (OIDC Core §3.1.2.6)", e)
		}
	})

	// §4.5.3 (and RFC 6749 §4.1.2): a code reused is refused and what its first redemption issued is
	// revoked — access token and refresh token.
	s.module(t, "4.5-code-reuse-revokes-grant", func(t *testing.T, b *browser) {
		f := s.login(t, b, c, authParams(c, "openid offline_access"))
		mustTokenError(t, s.exchange(t, c, f.code, c.Redirect, ""), http.StatusBadRequest, "invalid_grant")
		if r := s.userinfo(t, f.access(), "get"); r.status != http.StatusUnauthorized {
			t.Errorf("access token still works after the code was reused: %s", r)
		}
		if rt := f.tokens.get("refresh_token"); rt != "" {
			mustTokenError(t, s.token(t, c, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt}}), http.StatusBadRequest, "invalid_grant")
		}
	})

	// RFC 6749 §4.1.3, §10.6 (RFC 9700 §4.1, §4.5): a code is bound to its client and its
	// redirect_uri.
	s.module(t, "4.5-code-bound-to-client-and-redirect-uri", func(t *testing.T, b *browser) {
		req := authParams(c, "openid")
		code := s.mustCode(t, b.complete(b.authorize(req)), req)
		mustTokenError(t, s.exchange(t, s.second, code, c.Redirect, ""), http.StatusBadRequest, "invalid_grant")

		req = authParams(c, "openid")
		code = s.mustCode(t, b.complete(b.authorize(req)), req)
		mustTokenError(t, s.exchange(t, c, code, s.second.Redirect, ""), http.StatusBadRequest, "invalid_grant")

		req = authParams(c, "openid")
		code = s.mustCode(t, b.complete(b.authorize(req)), req)
		mustTokenError(t, s.token(t, c, url.Values{"grant_type": {"authorization_code"}, "code": {code}}), http.StatusBadRequest, "invalid_grant")
	})

	// §4.14.2: refresh tokens rotate; a rotated one that comes back revokes the whole grant.
	s.module(t, "4.14.2-refresh-token-rotation-and-reuse", func(t *testing.T, b *browser) {
		conf := s.oauth2Config(c, strings.Fields(defaultScope)...)
		f := s.login(t, b, c, authParams(c, defaultScope))
		rt1 := f.tokens.get("refresh_token")
		if rt1 == "" {
			t.Fatal("no refresh token for offline_access")
		}
		ctx := s.rpContext(t)
		tok2, err := conf.TokenSource(ctx, &oauth2.Token{RefreshToken: rt1}).Token()
		if err != nil {
			t.Fatalf("x/oauth2 refresh: %v", err)
		}
		if tok2.RefreshToken == "" || tok2.RefreshToken == rt1 {
			t.Fatalf("the refresh token was not rotated")
		}
		if r := s.userinfo(t, tok2.AccessToken, "get"); r.status != http.StatusOK {
			t.Fatalf("the refreshed access token does not work: %s", r)
		}
		mustTokenError(t, s.token(t, c, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt1}}), http.StatusBadRequest, "invalid_grant")
		if r := s.userinfo(t, tok2.AccessToken, "get"); r.status != http.StatusUnauthorized {
			t.Errorf("after the rotated refresh token came back, the grant's newest access token still works: %s", r)
		}
		mustTokenError(t, s.token(t, c, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {tok2.RefreshToken}}), http.StatusBadRequest, "invalid_grant")
	})

	// §2.1.2, §2.4: no implicit grant, no resource owner password credentials grant.
	s.module(t, "2.1.2-implicit-grant-refused", func(t *testing.T, b *browser) {
		for _, rt := range []string{"token", "id_token token"} {
			req := authParams(c, "openid")
			req.Set("response_type", rt)
			cb := s.mustAuthzError(t, b.complete(b.authorize(req)), req)
			if cb.params.Get("access_token") != "" || cb.params.Get("id_token") != "" {
				t.Errorf("response_type=%s issued tokens in the front channel", rt)
			}
			if e := cb.params.Get("error"); e != "unsupported_response_type" {
				t.Errorf("response_type=%s: error = %q, want unsupported_response_type", rt, e)
			}
		}
	})
	s.module(t, "2.4-password-grant-refused", func(t *testing.T, _ *browser) {
		r := s.token(t, c, url.Values{"grant_type": {"password"}, "username": {aliceEmail}, "password": {alicePassword}, "scope": {"openid"}})
		if r.get("access_token") != "" {
			t.Fatalf("the password grant issued a token: %s", r)
		}
		// The exact code (unsupported_grant_type, RFC 6749 §5.2) is in TestRegressions (finding F5).
		if r.status != http.StatusBadRequest || r.get("error") == "" {
			t.Errorf("grant_type=password: got %s, want a 400 OAuth error (RFC 6749 §5.2)", r)
		}
	})

	// §4.11: the provider is no open redirector: an unknown client, a forged flow or logout request
	// never sends the browser elsewhere.
	s.module(t, "4.11-no-open-redirector", func(t *testing.T, b *browser) {
		req := authParams(c, "openid")
		req.Set("client_id", "no-such-client")
		req.Set("redirect_uri", "https://evil.example/cb")
		mustErrorPage(t, b.authorize(req))

		req = authParams(c, "openid")
		req.Del("client_id")
		mustErrorPage(t, b.authorize(req))

		for _, path := range []string{"/login?flow=forged.token", "/oauth2/authorize/resume?flow=forged.token", "/consent?flow=forged.token"} {
			p := b.get(s.issuer + path)
			if p.status < 400 || p.location() != "" && !strings.HasPrefix(p.location(), "/") {
				t.Errorf("GET %s with a forged flow: %s", path, p)
			}
		}

		// A second redirect_uri is never where the browser goes (whether the request is refused for
		// the repeated parameter, RFC 6749 §4.1.2.1, is in TestRegressions (finding F6)).
		s.login(t, b, c, authParams(c, "openid"))
		req = authParams(c, "openid")
		p := b.get(s.authzEndpoint() + "?" + req.Encode() + "&redirect_uri=" + url.QueryEscape("https://evil.example/cb"))
		if strings.HasPrefix(p.location(), "https://evil.example") {
			t.Errorf("followed the second redirect_uri: %s", p.location())
		}

		end := str(s.meta["end_session_endpoint"])
		if end != "" {
			p := b.get(end + "?" + url.Values{"client_id": {c.ID}, "post_logout_redirect_uri": {"https://evil.example/"}}.Encode())
			if p.location() != "" {
				t.Errorf("end_session_endpoint followed an unregistered post_logout_redirect_uri: %s", p.location())
			}
		}
	})

	// §4.7: CSRF protection: state comes back verbatim, whatever characters it holds.
	s.module(t, "4.7.1-csrf-state-and-pkce", func(t *testing.T, b *browser) {
		s.login(t, b, c, authParams(c, "openid")) // signed in, consented
		t.Run("state-returned-verbatim", func(t *testing.T) {
			req := authParams(c, "openid")
			req.Set("state", "a b&c=d/é?#%+"+randomValue(32))
			s.mustCode(t, b.authorize(req), req)
		})
		// PKCE without state, and a short state, are in TestRegressions (finding F2).
	})

	// §4.7, RFC 6749 §10.12: the provider's own forms (login, consent) refuse cross-site posts and posts
	// without the form's CSRF token.
	s.module(t, "4.7-login-and-consent-forms-csrf", func(t *testing.T, b *browser) {
		req := authParams(c, "openid profile")
		req.Set("prompt", "consent")
		login := b.authorize(req)
		if !b.onLogin(login) {
			t.Fatalf("want the login page: %s", login)
		}
		lf, _ := parseForm(login.body, "")
		target, _ := login.url.Parse(lf.action)
		forged := url.Values{"flow": lf.values["flow"], "email": {aliceEmail}, "password": {alicePassword}}
		if p := b.postForm(target.String(), forged, nil); p.status != http.StatusForbidden {
			t.Errorf("login POST without csrf_token: want 403, got %s", p)
		}
		all := url.Values{}
		for k, v := range lf.values {
			all[k] = v
		}
		all.Set("email", aliceEmail)
		all.Set("password", alicePassword)
		if p := b.postForm(target.String(), all, http.Header{"Origin": {"https://evil.example"}, "Sec-Fetch-Site": {"cross-site"}}); p.status != http.StatusForbidden {
			t.Errorf("cross-site login POST: want 403, got %s", p)
		}

		consent := b.signIn(login)
		if !b.onConsent(consent) {
			t.Fatalf("want the consent page: %s", consent)
		}
		cf, _ := parseForm(consent.body, "")
		ctarget, _ := consent.url.Parse(cf.action)
		if p := b.postForm(ctarget.String(), url.Values{"flow": cf.values["flow"], "action": {"approve"}}, nil); p.status != http.StatusForbidden || p.location() != "" {
			t.Errorf("consent POST without csrf_token: want 403 and no redirect, got %s", p)
		}
		call := url.Values{"action": {"approve"}}
		for k, v := range cf.values {
			call[k] = v
		}
		if p := b.postForm(ctarget.String(), call, http.Header{"Origin": {"https://evil.example"}, "Sec-Fetch-Site": {"cross-site"}}); p.status != http.StatusForbidden || p.location() != "" {
			t.Errorf("cross-site consent POST: want 403 and no redirect, got %s", p)
		}
		// Another browser (the attacker's session) cannot approve this user's flow with its own token.
		other := s.browser(t)
		op := other.authorize(authParams(c, "openid"))
		of, _ := parseForm(op.body, "")
		call.Set("csrf_token", of.values.Get("csrf_token"))
		if p := other.postForm(ctarget.String(), call, nil); p.location() != "" && strings.Contains(p.location(), "code=") {
			t.Errorf("another browser approved this user's consent: %s", p.location())
		}
	})

	// §4.16: pages where the user acts cannot be framed (clickjacking).
	s.module(t, "4.16-clickjacking", func(t *testing.T, b *browser) {
		req := authParams(c, "openid profile")
		req.Set("prompt", "consent")
		login := b.authorize(req)
		consent := b.signIn(login)
		pages := map[string]page{"login": login, "consent": consent, "error": b.get(s.authzEndpoint() + "?client_id=nobody")}
		if end := str(s.meta["end_session_endpoint"]); end != "" {
			pages["logout-confirmation"] = b.get(end)
		}
		for name, p := range pages {
			xfo := strings.ToUpper(p.header.Get("X-Frame-Options"))
			fa := frameAncestors(p.header.Get("Content-Security-Policy"))
			if xfo != "DENY" && xfo != "SAMEORIGIN" && fa != "'none'" && fa != "'self'" {
				t.Errorf("%s page can be framed: X-Frame-Options %q, CSP %q (RFC 9700 §4.16)", name, p.header.Get("X-Frame-Options"), p.header.Get("Content-Security-Policy"))
			}
			if p.header.Get("X-Content-Type-Options") != "nosniff" {
				t.Errorf("%s page: X-Content-Type-Options = %q, want nosniff (issue 3)", name, p.header.Get("X-Content-Type-Options"))
			}
			if !hasDirective(p.header.Get("Cache-Control"), "no-store") {
				t.Errorf("%s page: Cache-Control = %q, want no-store (issue 3)", name, p.header.Get("Cache-Control"))
			}
		}
	})

	// §4.2: the authorization flow's pages do not leak their URLs (flow tokens, codes, state) through
	// Referer, and load nothing from third parties.
	s.module(t, "4.2-no-leakage-via-referer", func(t *testing.T, b *browser) {
		req := authParams(c, "openid profile")
		req.Set("prompt", "consent")
		login := b.authorize(req)
		consent := b.signIn(login)
		redirect := b.decide(consent, "approve")
		for name, p := range map[string]page{"login": login, "consent": consent, "authorization response": redirect} {
			switch rp := strings.ToLower(strings.TrimSpace(lastToken(p.header.Get("Referrer-Policy")))); rp {
			case "no-referrer", "same-origin", "strict-origin", "origin", "strict-origin-when-cross-origin":
			default:
				t.Errorf("%s: Referrer-Policy = %q: the URL (flow token, state, code) may leak to other sites (RFC 9700 §4.2.4)", name, p.header.Get("Referrer-Policy"))
			}
			for _, ext := range externalRefs.FindAllString(p.body, -1) {
				if !strings.Contains(ext, strings.TrimPrefix(s.issuer, "http://")) {
					t.Errorf("%s page loads a third-party resource %s (RFC 9700 §4.2.4)", name, ext)
				}
			}
		}
	})
}

// frameAncestors is the frame-ancestors directive of a CSP, or "".
// refusedRedirects checks that each redirect URI variant for client c gets the provider's error page
// and never a redirect (RFC 9700 §2.1, §4.1.3).
func (s *suite) refusedRedirects(t *testing.T, c client, variants map[string]string) {
	t.Helper()
	for name, redirect := range variants {
		t.Run(name, func(t *testing.T) {
			b := s.browser(t)
			req := authParams(c, "openid")
			req.Set("redirect_uri", redirect)
			if c.Public {
				addPKCE(req)
			}
			p := b.complete(b.authorize(req))
			if p.location() != "" {
				t.Fatalf("redirect_uri %q (registered: %q) was followed: Location %s (RFC 9700 §2.1: exact string matching; only the port of a native app's loopback redirect may vary, §4.1.3, RFC 8252 §7.3)",
					redirect, c.Redirect, p.location())
			}
			mustErrorPage(t, p)
		})
	}
}

func frameAncestors(csp string) string {
	for _, d := range strings.Split(csp, ";") {
		f := strings.Fields(d)
		if len(f) >= 2 && strings.EqualFold(f[0], "frame-ancestors") {
			return strings.Join(f[1:], " ")
		}
	}
	return ""
}

func lastToken(list string) string {
	parts := strings.Split(list, ",")
	return parts[len(parts)-1]
}

var externalRefs = regexp.MustCompile(`(?i)(?:src|href)\s*=\s*["']https?://[^"']+`)

// issue3: what issue 3 promises beyond the plans: client credentials, introspection, revocation,
// userinfo and token endpoint errors, logout, account states, sessions, and the races.
func (s *suite) issue3(t *testing.T) {
	t.Parallel()
	c := s.basic

	s.module(t, "client-credentials", func(t *testing.T, _ *browser) {
		r := s.token(t, s.service, url.Values{"grant_type": {"client_credentials"}, "scope": {serviceScope}})
		mustTokens(t, r)
		if r.get("refresh_token") != "" || r.get("id_token") != "" {
			t.Errorf("client_credentials issued a refresh or ID token: %s", r.raw)
		}
		in := s.introspect(t, c, r.get("access_token"))
		if in["active"] != true || str(in["client_id"]) != s.service.ID || str(in["scope"]) != serviceScope {
			t.Errorf("introspection of the client_credentials token: %v", in)
		}
		if u := s.userinfo(t, r.get("access_token"), "get"); u.status == http.StatusOK {
			t.Errorf("userinfo answered for a token without a user: %s", u)
		}
		bad := s.token(t, s.service, url.Values{"grant_type": {"client_credentials"}, "scope": {"admin"}})
		mustTokenError(t, bad, http.StatusBadRequest, "invalid_scope")
		// A client not registered for client_credentials (RFC 6749 §5.2 unauthorized_client).
		if r := s.token(t, c, url.Values{"grant_type": {"client_credentials"}}); r.status == http.StatusOK {
			t.Errorf("a client without the client_credentials grant got a token: %s", r)
		}
	})

	// RFC 7662 through the advertised client_secret_basic; client_secret_post is not advertised for
	// introspection and is refused.
	s.module(t, "introspection", func(t *testing.T, b *browser) {
		f := s.login(t, b, c, authParams(c, "openid"))
		in := s.introspect(t, c, f.access())
		if in["active"] != true || str(in["client_id"]) != c.ID || str(in["sub"]) != s.userID || !strings.Contains(str(in["scope"]), "openid") {
			t.Errorf("introspection of a live token: %v", in)
		}
		if in := s.introspect(t, c, "not-a-token"); in["active"] != false {
			t.Errorf("introspection of garbage: %v", in)
		}
		wrong := c
		wrong.Secret = "wrong-" + c.Secret
		r := s.postClient(t, str(s.meta["introspection_endpoint"]), wrong, url.Values{"token": {f.access()}})
		mustTokenError(t, r, http.StatusUnauthorized, "invalid_client")
		if !contains(strSlice(s.meta["introspection_endpoint_auth_methods_supported"]), "client_secret_post") {
			r := s.postClient(t, str(s.meta["introspection_endpoint"]), s.post, url.Values{"token": {f.access()}})
			if r.status == http.StatusOK {
				t.Errorf("introspection with client_secret_post (not advertised) answered: %s", r)
			}
		}
	})

	// RFC 7009 with every advertised method; revoking a refresh token ends its access tokens too.
	s.module(t, "revocation", func(t *testing.T, b *browser) {
		endpoint := str(s.meta["revocation_endpoint"])
		f := s.login(t, b, c, authParams(c, defaultScope))
		if r := s.postClient(t, endpoint, c, url.Values{"token": {f.access()}, "token_type_hint": {"access_token"}}); r.status != http.StatusOK {
			t.Fatalf("revoke access token: %s", r)
		}
		if u := s.userinfo(t, f.access(), "get"); u.status != http.StatusUnauthorized {
			t.Errorf("revoked access token still works at userinfo: %s", u)
		}
		f = s.login(t, b, c, authParams(c, defaultScope))
		if r := s.postClient(t, endpoint, c, url.Values{"token": {f.tokens.get("refresh_token")}}); r.status != http.StatusOK {
			t.Fatalf("revoke refresh token: %s", r)
		}
		mustTokenError(t, s.token(t, c, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {f.tokens.get("refresh_token")}}), http.StatusBadRequest, "invalid_grant")
		if u := s.userinfo(t, f.access(), "get"); u.status != http.StatusUnauthorized {
			t.Errorf("the access token of a revoked refresh token's grant still works (RFC 7009 §2.1, issue 3): %s", u)
		}
		if r := s.postClient(t, endpoint, c, url.Values{"token": {"unknown-token"}}); r.status != http.StatusOK {
			t.Errorf("revoking an unknown token: %s (RFC 7009 §2.2: 200)", r)
		}
		methods := strSlice(s.meta["revocation_endpoint_auth_methods_supported"])
		if contains(methods, "client_secret_post") {
			fp := s.login(t, b, s.post, authParams(s.post, "openid"))
			if r := s.postClient(t, endpoint, s.post, url.Values{"token": {fp.access()}}); r.status != http.StatusOK {
				t.Errorf("revocation with client_secret_post: %s", r)
			}
		}
		if contains(methods, "none") {
			pc := s.public
			req := authParams(pc, "openid")
			req.Set("redirect_uri", loopbackWithPort(pc.Redirect, randomPort()))
			verifier := addPKCE(req)
			fp := s.finish(t, pc, req, b.complete(b.authorize(req)), verifier)
			if r := s.postClient(t, endpoint, pc, url.Values{"token": {fp.access()}}); r.status != http.StatusOK {
				t.Errorf("revocation by a public client (none): %s", r)
			}
			if u := s.userinfo(t, fp.access(), "get"); u.status != http.StatusUnauthorized {
				t.Errorf("public client's revoked token still works: %s", u)
			}
		}
		// Another client cannot revoke this client's token (RFC 7009 §2.1).
		f = s.login(t, b, c, authParams(c, "openid"))
		_ = s.postClient(t, endpoint, s.second, url.Values{"token": {f.access()}})
		if u := s.userinfo(t, f.access(), "get"); u.status != http.StatusOK {
			t.Errorf("client 2 revoked client 1's access token: %s", u)
		}
	})

	// RFC 6750 §3: missing or bad tokens get 401 with a Bearer challenge; tokens in the query are not
	// accepted (issue 3: header or body only).
	s.module(t, "userinfo-errors", func(t *testing.T, b *browser) {
		req, _ := http.NewRequest(http.MethodGet, str(s.meta["userinfo_endpoint"]), nil)
		r := s.doJSON(t, req)
		if r.status != http.StatusUnauthorized || !strings.HasPrefix(r.header.Get("WWW-Authenticate"), "Bearer") {
			t.Errorf("userinfo without a token: want 401 with a Bearer challenge, got %s (WWW-Authenticate %q)", r, r.header.Get("WWW-Authenticate"))
		}
		r = s.userinfo(t, "not-a-token", "get")
		if r.status != http.StatusUnauthorized || !strings.Contains(r.header.Get("WWW-Authenticate"), `error="invalid_token"`) {
			t.Errorf("userinfo with a bad token: want 401 invalid_token challenge, got %s (WWW-Authenticate %q)", r, r.header.Get("WWW-Authenticate"))
		}
		f := s.login(t, b, c, authParams(c, "openid"))
		if r := s.userinfo(t, f.access(), "query"); r.status == http.StatusOK {
			t.Errorf("userinfo accepted the access token in the query string")
		}
		if r := s.postClient(t, str(s.meta["revocation_endpoint"]), c, url.Values{"token": {f.access()}}); r.status != http.StatusOK {
			t.Fatalf("revoke: %s", r)
		}
		r = s.userinfo(t, f.access(), "header")
		if r.status != http.StatusUnauthorized || !strings.Contains(r.header.Get("WWW-Authenticate"), `error="invalid_token"`) {
			t.Errorf("userinfo with a revoked token: want 401 invalid_token challenge, got %s (WWW-Authenticate %q)", r, r.header.Get("WWW-Authenticate"))
		}
	})

	// Issue 3, OIDC Core §11: refresh tokens only for offline_access.
	s.module(t, "refresh-token-only-with-offline_access", func(t *testing.T, b *browser) {
		f := s.login(t, b, c, authParams(c, "openid profile"))
		if rt := f.tokens.get("refresh_token"); rt != "" {
			t.Errorf("a refresh token was issued without offline_access")
		}
	})

	// Issue 3: the consent page names the client and the requested scopes.
	s.module(t, "consent-page", func(t *testing.T, b *browser) {
		req := authParams(c, "openid profile email")
		req.Set("prompt", "consent")
		p := b.authorize(req)
		if b.onLogin(p) {
			p = b.signIn(p)
		}
		if !b.onConsent(p) {
			t.Fatalf("want the consent page: %s", p)
		}
		if !strings.Contains(p.body, "Conformance RP") {
			t.Errorf("the consent page does not name the client %q", "Conformance RP")
		}
		if strings.Count(p.body, "<li") < 3 {
			t.Errorf("the consent page does not list the 3 requested scopes: %s", p)
		}
	})

	// RFC 6749 §5.2: client authentication failures are 401 invalid_client (with a Basic challenge
	// when Basic was used), never 5xx, and carry no-store.
	s.module(t, "token-endpoint-client-authentication", func(t *testing.T, _ *browser) {
		form := url.Values{"grant_type": {"authorization_code"}, "code": {"x"}, "redirect_uri": {c.Redirect}}
		wrong := c
		wrong.Secret = "wrong"
		r := s.token(t, wrong, form)
		mustTokenError(t, r, http.StatusUnauthorized, "invalid_client")
		if !strings.HasPrefix(r.header.Get("WWW-Authenticate"), "Basic") {
			t.Errorf("invalid_client after Basic auth without a Basic challenge (RFC 6749 §5.2)")
		}
		unknown := client{ID: "no-such-client", Secret: "whatever-whatever-whatever-whatever", Style: oauth2.AuthStyleInParams}
		mustTokenError(t, s.token(t, unknown, form), http.StatusUnauthorized, "invalid_client")
		req, _ := http.NewRequest(http.MethodPost, s.tokenEndpoint(), strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		mustTokenError(t, s.doJSON(t, req), http.StatusUnauthorized, "invalid_client")
	})

	// OIDC RP-Initiated Logout 1.0: id_token_hint, registered post_logout_redirect_uri and state; the
	// login session ends. A forged (unsigned) hint is not honoured with a redirect.
	s.module(t, "rp-initiated-logout", func(t *testing.T, b *browser) {
		end := str(s.meta["end_session_endpoint"])
		if end == "" {
			t.Skip("no end_session_endpoint")
		}
		f := s.login(t, b, c, authParams(c, "openid"))
		state := randomValue(16)
		p := b.get(end + "?" + url.Values{"id_token_hint": {f.id.raw}, "post_logout_redirect_uri": {c.PostLogout}, "state": {state}}.Encode())
		loc, _ := url.Parse(p.location())
		if p.status != http.StatusSeeOther && p.status != http.StatusFound || loc == nil || !strings.HasPrefix(p.location(), c.PostLogout) || loc.Query().Get("state") != state {
			t.Fatalf("logout: want a redirect to %s with state, got %s", c.PostLogout, p)
		}
		req := authParams(c, "openid")
		req.Set("prompt", "none")
		if cb := s.mustAuthzError(t, b.authorize(req), req); cb.params.Get("error") != "login_required" {
			t.Errorf("after logout, prompt=none gave %v, want login_required", cb.params)
		}

		b2 := s.browser(t)
		f2 := s.login(t, b2, c, authParams(c, "openid"))
		h, claims := decodeJWT(t, f2.id.raw)
		_ = h
		forged := unsignedClaimsJWT(t, claims)
		p = b2.get(end + "?" + url.Values{"id_token_hint": {forged}, "post_logout_redirect_uri": {"https://evil.example/"}, "state": {state}}.Encode())
		if p.location() != "" {
			t.Errorf("logout with an unsigned id_token_hint redirected to %s", p.location())
		}
		req = authParams(c, "openid")
		req.Set("prompt", "none")
		s.mustCode(t, b2.authorize(req), req) // still signed in: the forged hint ended nothing
	})

	// Issue 3: banned, blocked and deleted users cannot sign in, and their sessions, codes, access and
	// refresh tokens stop working.
	for _, m := range []struct{ user, action string }{{"bob", "ban"}, {"carol", "block"}, {"dave", "delete"}} {
		s.module(t, "account-"+m.action, func(t *testing.T, b *browser) {
			email := m.user + "@example.test"
			b.user = email
			f := s.login(t, b, c, authParams(c, defaultScope))
			pending := authParams(c, "openid")
			code := s.mustCode(t, b.authorize(pending), pending)

			s.cli(t, "users", m.action, email)

			if u := s.userinfo(t, f.access(), "get"); u.status != http.StatusUnauthorized {
				t.Errorf("%s user: access token still works at userinfo: %s", m.action, u)
			}
			if in := s.introspect(t, c, f.access()); in["active"] != false {
				t.Errorf("%s user: access token still active at introspection: %v", m.action, in)
			}
			if r := s.token(t, c, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {f.tokens.get("refresh_token")}}); r.status == http.StatusOK {
				t.Errorf("%s user: refresh token still works", m.action)
			}
			if r := s.exchange(t, c, code, c.Redirect, ""); r.status == http.StatusOK {
				t.Errorf("%s user: a code issued before still redeems", m.action)
			}
			req := authParams(c, "openid")
			req.Set("prompt", "none")
			if cb := s.mustAuthzError(t, b.authorize(req), req); cb.params.Get("error") != "login_required" {
				t.Errorf("%s user: the login session still works: %v", m.action, cb.params)
			}
			p := b.signInAs(b.authorize(authParams(c, "openid")), email)
			if _, ok := callbackTo(p, c.Redirect); ok || !b.onLogin(p) {
				t.Errorf("%s user could sign in again: %s", m.action, p)
			}
		})
	}

	// A login always starts a fresh session: a session cookie planted before it is not promoted.
	s.module(t, "session-fixation", func(t *testing.T, b *browser) {
		planted := &http.Cookie{Name: "kangrow_session", Value: randomValue(43), Path: "/"}
		b.c.Jar.SetCookies(b.op, []*http.Cookie{planted})
		s.login(t, b, c, authParams(c, "openid"))
		for _, ck := range b.c.Jar.Cookies(b.op) {
			if ck.Name == planted.Name && ck.Value == planted.Value {
				t.Errorf("the planted session cookie survived the login")
			}
		}
	})

	// Unknown email and wrong password get the same answer.
	s.module(t, "login-failure-same-answer", func(t *testing.T, b *browser) {
		var bodies []string
		for _, creds := range [][2]string{{aliceEmail, "wrong password"}, {"nobody@example.test", alicePassword}} {
			p := b.authorize(authParams(c, "openid"))
			p = b.submit(p, url.Values{"email": {creds[0]}, "password": {creds[1]}})
			if !b.onLogin(p) {
				t.Fatalf("failed login did not show the login page again: %s", p)
			}
			bodies = append(bodies, alertText(p.body))
		}
		if bodies[0] != bodies[1] || bodies[0] == "" {
			t.Errorf("unknown email and wrong password answered differently: %q vs %q", bodies[0], bodies[1])
		}
	})

	// Issue 3, "How it will be checked": 16 redemptions of one code and 32 refreshes of one refresh token
	// at the same moment: exactly one success, invalid_grant for the rest, no 5xx.
	s.module(t, "parallel-code-redemption", func(t *testing.T, b *browser) {
		req := authParams(c, defaultScope)
		code := s.mustCode(t, b.complete(b.authorize(req)), req)
		s.race(t, 16, url.Values{"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {c.Redirect}})
	})
	s.module(t, "parallel-refresh", func(t *testing.T, b *browser) {
		f := s.login(t, b, c, authParams(c, defaultScope))
		s.race(t, 32, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {f.tokens.get("refresh_token")}})
	})

}

// introspect asks the introspection endpoint about token as client c.
func (s *suite) introspect(t *testing.T, c client, token string) map[string]any {
	t.Helper()
	r := s.postClient(t, str(s.meta["introspection_endpoint"]), c, url.Values{"token": {token}})
	if r.status != http.StatusOK {
		t.Fatalf("introspection: %s", r)
	}
	return r.body
}

// race posts form to the token endpoint n times at once as the basic client: exactly one must
// succeed, the others get 400 invalid_grant, none a 5xx.
func (s *suite) race(t *testing.T, n int, form url.Values) {
	t.Helper()
	type result struct {
		status int
		body   map[string]any
		err    error
	}
	results := make([]result, n)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			req, _ := http.NewRequest(http.MethodPost, s.tokenEndpoint(), strings.NewReader(form.Encode()))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			req.SetBasicAuth(url.QueryEscape(s.basic.ID), url.QueryEscape(s.basic.Secret))
			<-start
			resp, err := s.http.Do(req)
			if err != nil {
				results[i] = result{err: err}
				return
			}
			defer resp.Body.Close()
			var body map[string]any
			_ = json.NewDecoder(resp.Body).Decode(&body)
			results[i] = result{status: resp.StatusCode, body: body}
		}()
	}
	close(start)
	wg.Wait()
	wins := 0
	for _, r := range results {
		switch {
		case r.err != nil:
			t.Errorf("racing request: %v", r.err)
		case r.status == http.StatusOK:
			wins++
		case r.status == http.StatusBadRequest && r.body["error"] == "invalid_grant":
		default:
			t.Errorf("racing request: status %d, body %v (want 200 once, else 400 invalid_grant)", r.status, r.body)
		}
	}
	if wins != 1 {
		t.Errorf("%d of %d concurrent requests succeeded, want exactly 1", wins, n)
	}
}

// unsignedClaimsJWT re-encodes claims as an unsigned JWT (alg none).
func unsignedClaimsJWT(t *testing.T, claims map[string]any) string {
	t.Helper()
	head, _ := json.Marshal(map[string]string{"alg": "none", "typ": "JWT"})
	body, err := json.Marshal(claims)
	if err != nil {
		t.Fatal(err)
	}
	return b64(head) + "." + b64(body) + "."
}

var alertRE = regexp.MustCompile(`(?s)role="alert">(.*?)<`)

// alertText is the text of the page's alert (the login form's error), or "".
func alertText(body string) string {
	m := alertRE.FindStringSubmatch(body)
	if m == nil {
		return ""
	}
	return strings.TrimSpace(m[1])
}
