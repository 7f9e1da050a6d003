package e2e_test

import (
	"encoding/json"
	"mime"
	"net"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	jose "github.com/go-jose/go-jose/v4"
)

// configOP: oidcc-config-certification-test-plan (discovery), and what discovery promises: everything
// advertised works, and what is not advertised is refused.
func (s *suite) configOP(t *testing.T) {
	t.Parallel()
	c := s.basic

	s.module(t, "oidcc-discovery-endpoint-verification", func(t *testing.T, _ *browser) {
		resp, err := s.http.Get(s.issuer + "/.well-known/openid-configuration")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("discovery: status %d (OIDC Discovery §4)", resp.StatusCode)
		}
		if mt, _, _ := mime.ParseMediaType(resp.Header.Get("Content-Type")); mt != "application/json" {
			t.Errorf("discovery Content-Type = %q, want application/json (OIDC Discovery §4.2)", resp.Header.Get("Content-Type"))
		}
		m := s.meta
		// OIDC Discovery §4.3, §7.2: the issuer is exactly the configured one, the one the document was
		// fetched from.
		if got := str(m["issuer"]); got != s.issuer {
			t.Errorf("issuer = %q, want exactly the configured %q (OIDC Discovery §4.3)", got, s.issuer)
		}
		if u, err := url.Parse(str(m["issuer"])); err != nil || u.RawQuery != "" || u.Fragment != "" || u.Path != "" && strings.HasSuffix(u.Path, "/") {
			t.Errorf("issuer %q: want an absolute URL without query, fragment or trailing slash (RFC 8414 §2)", m["issuer"])
		}
		// REQUIRED (OIDC Discovery §3) and RECOMMENDED endpoints.
		for _, k := range []string{"authorization_endpoint", "token_endpoint", "jwks_uri", "userinfo_endpoint"} {
			s.checkEndpointURL(t, k, m[k], true)
		}
		for _, k := range []string{"registration_endpoint", "end_session_endpoint", "revocation_endpoint", "introspection_endpoint"} {
			if v, ok := m[k]; ok {
				s.checkEndpointURL(t, k, v, true)
			}
		}
		// response_types_supported REQUIRED; at least one OIDC response type (the plan's static check).
		rts := mustStringArray(t, m, "response_types_supported", true)
		if !contains(rts, "code") {
			t.Errorf("response_types_supported %v lacks code", rts)
		}
		for _, rt := range rts {
			if !contains([]string{"code", "id_token", "id_token token", "token id_token", "code id_token", "code token", "code id_token token", "code token id_token", "token", "none"}, rt) {
				t.Errorf("response_types_supported has unknown value %q", rt)
			}
		}
		sts := mustStringArray(t, m, "subject_types_supported", true)
		for _, st := range sts {
			if st != "public" && st != "pairwise" {
				t.Errorf("subject_types_supported has %q (OIDC Discovery §3: public or pairwise)", st)
			}
		}
		algs := mustStringArray(t, m, "id_token_signing_alg_values_supported", true)
		if !contains(algs, "RS256") {
			t.Errorf("id_token_signing_alg_values_supported %v lacks RS256 (OIDC Discovery §3: MUST include it)", algs)
		}
		for _, k := range []string{"userinfo_signing_alg_values_supported", "request_object_signing_alg_values_supported", "token_endpoint_auth_signing_alg_values_supported"} {
			if _, ok := m[k]; ok {
				mustStringArray(t, m, k, false)
			}
		}
		// Booleans whose absence means a default (OIDC Discovery §3).
		for _, k := range []string{"claims_parameter_supported", "request_parameter_supported", "request_uri_parameter_supported", "require_request_uri_registration", "authorization_response_iss_parameter_supported"} {
			if v, ok := m[k]; ok {
				if _, isBool := v.(bool); !isBool {
					t.Errorf("%s = %#v, want a boolean", k, v)
				}
			}
		}
		// RECOMMENDED: scopes_supported with openid, in RFC 6749 §3.3 syntax; claims_supported.
		scopes := mustStringArray(t, m, "scopes_supported", true)
		if !contains(scopes, "openid") {
			t.Errorf("scopes_supported %v lacks openid (OIDC Discovery §3)", scopes)
		}
		for _, sc := range scopes {
			if !scopeToken.MatchString(sc) {
				t.Errorf("scopes_supported value %q is not a scope-token (RFC 6749 §3.3)", sc)
			}
		}
		claims := mustStringArray(t, m, "claims_supported", true)
		for _, cl := range []string{"sub", "iss", "aud", "exp", "iat"} {
			if !contains(claims, cl) {
				t.Errorf("claims_supported lacks %s", cl)
			}
		}
		if gts, ok := m["grant_types_supported"]; ok {
			if len(mustStringArray(t, m, "grant_types_supported", true)) == 0 {
				t.Errorf("grant_types_supported %v: must not be empty", gts)
			}
		}
		for _, k := range []string{"ui_locales_supported", "claims_locales_supported"} {
			if _, ok := m[k]; ok {
				for _, l := range mustStringArray(t, m, k, false) {
					if !bcp47.MatchString(l) {
						t.Errorf("%s value %q is not a BCP 47 tag (RFC 8414 §2)", k, l)
					}
				}
			}
		}
		if _, ok := m["code_challenge_methods_supported"]; ok {
			methods := mustStringArray(t, m, "code_challenge_methods_supported", true)
			if contains(methods, "plain") {
				t.Errorf("code_challenge_methods_supported advertises plain (RFC 9700 §2.1.1: use S256)")
			}
		}
		for _, k := range []string{"token_endpoint_auth_methods_supported", "revocation_endpoint_auth_methods_supported", "introspection_endpoint_auth_methods_supported"} {
			if _, ok := m[k]; ok {
				for _, am := range mustStringArray(t, m, k, true) {
					if !contains([]string{"client_secret_basic", "client_secret_post", "client_secret_jwt", "private_key_jwt", "none", "tls_client_auth", "self_signed_tls_client_auth"}, am) {
						t.Errorf("%s has unknown method %q", k, am)
					}
				}
			}
		}
		if modes, ok := m["response_modes_supported"]; ok {
			for _, rm := range mustStringArray(t, m, "response_modes_supported", true) {
				if !contains([]string{"query", "fragment", "form_post", "query.jwt", "fragment.jwt", "form_post.jwt", "jwt"}, rm) {
					t.Errorf("response_modes_supported has unknown value %q (%v)", rm, modes)
				}
			}
		}
	})

	// RFC 8414's document tells the same story as OpenID Discovery's.
	s.module(t, "rfc8414-authorization-server-metadata", func(t *testing.T, _ *browser) {
		var as map[string]any
		if err := json.Unmarshal(s.mustGet(t, s.issuer+"/.well-known/oauth-authorization-server"), &as); err != nil {
			t.Fatalf("RFC 8414 metadata: %v", err)
		}
		if str(as["issuer"]) != s.issuer {
			t.Errorf("RFC 8414 issuer = %v, want %s (§3.3)", as["issuer"], s.issuer)
		}
		for _, k := range []string{"authorization_endpoint", "token_endpoint", "jwks_uri", "response_types_supported"} {
			if _, ok := as[k]; !ok {
				t.Errorf("RFC 8414 metadata lacks %s (§2)", k)
			}
		}
		for k, v := range as {
			if w, ok := s.meta[k]; ok {
				if a, b := mustJSON(t, v), mustJSON(t, w); a != b {
					t.Errorf("%s differs between the two metadata documents: %s vs %s", k, a, b)
				}
			}
		}
	})

	// jwks_uri: public signing keys only, each with kid, alg and use; one for every advertised alg.
	s.module(t, "oidcc-discovery-jwks", func(t *testing.T, _ *browser) {
		resp, err := s.http.Get(str(s.meta["jwks_uri"]))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if mt, _, _ := mime.ParseMediaType(resp.Header.Get("Content-Type")); mt != "application/json" && mt != "application/jwk-set+json" {
			t.Errorf("JWKS Content-Type = %q", resp.Header.Get("Content-Type"))
		}
		// Issue 3: served with a Cache-Control max-age that the rotation schedule honours.
		if !maxAge.MatchString(resp.Header.Get("Cache-Control")) {
			t.Errorf("JWKS Cache-Control = %q, want a positive max-age (issue 3)", resp.Header.Get("Cache-Control"))
		}
		raw := s.mustGet(t, str(s.meta["jwks_uri"]))
		var members struct {
			Keys []map[string]any `json:"keys"`
		}
		if err := json.Unmarshal(raw, &members); err != nil || len(members.Keys) == 0 {
			t.Fatalf("JWKS: want a keys array with keys: %v %s", err, raw)
		}
		var set jose.JSONWebKeySet
		if err := json.Unmarshal(raw, &set); err != nil {
			t.Fatalf("go-jose cannot parse the JWKS: %v", err)
		}
		kids := map[string]bool{}
		algs := map[string]bool{}
		for i, k := range members.Keys {
			for _, private := range []string{"d", "p", "q", "dp", "dq", "qi", "oth", "k"} {
				if _, ok := k[private]; ok {
					t.Errorf("key %d (%v) publishes the private or symmetric member %q (RFC 7518 §6.3.2, §6.4)", i, k["kid"], private)
				}
			}
			kid, alg, use := str(k["kid"]), str(k["alg"]), str(k["use"])
			if kid == "" || alg == "" || use == "" {
				t.Errorf("key %d: kid=%q alg=%q use=%q: want all three", i, kid, alg, use)
			}
			if use != "" && use != "sig" {
				t.Errorf("key %s: use = %q, want sig", kid, use)
			}
			if kids[kid] {
				t.Errorf("kid %q is published twice", kid)
			}
			kids[kid], algs[alg] = true, true
			switch str(k["kty"]) {
			case "RSA":
				for _, f := range []string{"n", "e"} {
					if !base64url.MatchString(str(k[f])) {
						t.Errorf("key %s: %s is not unpadded base64url", kid, f)
					}
				}
			case "EC":
				for _, f := range []string{"crv", "x", "y"} {
					if str(k[f]) == "" {
						t.Errorf("key %s: no %s", kid, f)
					}
				}
			default:
				t.Errorf("key %s: kty %v is not a signing key type we expect", kid, k["kty"])
			}
		}
		for _, k := range set.Keys {
			if !k.IsPublic() || !k.Valid() {
				t.Errorf("key %s: public=%v valid=%v", k.KeyID, k.IsPublic(), k.Valid())
			}
		}
		for _, alg := range strSlice(s.meta["id_token_signing_alg_values_supported"]) {
			if alg != "none" && !algs[alg] {
				t.Errorf("id_token_signing_alg_values_supported has %s, but no key for it is published", alg)
			}
		}
	})

	// Every advertised response mode works, with iss and state (OAuth 2.0 Multiple Response Types §2.1,
	// Form Post Response Mode §2, RFC 9207).
	for _, mode := range []string{"query", "form_post"} {
		s.module(t, "advertised-response_mode="+mode, func(t *testing.T, b *browser) {
			if !contains(strSlice(s.meta["response_modes_supported"]), mode) {
				t.Skipf("response_mode %s is not advertised", mode)
			}
			req := authParams(c, "openid")
			req.Set("response_mode", mode)
			p := b.complete(b.authorize(req))
			cb := s.mustCallback(t, p, req)
			if cb.mode != mode {
				t.Errorf("response_mode=%s answered in %s mode (%v)", mode, cb.mode, cb.params)
			}
			if e := cb.params.Get("error"); e != "" {
				t.Fatalf("response_mode=%s is advertised in response_modes_supported but refused: error=%s (%s)", mode, e, cb.params.Get("error_description"))
			}
			s.finish(t, c, req, p, "")
		})
	}

	// Response modes that are not advertised are refused, never answered with a code.
	s.module(t, "unadvertised-response_modes-refused", func(t *testing.T, _ *browser) {
		for _, mode := range []string{"query", "fragment", "form_post", "query.jwt", "fragment.jwt", "form_post.jwt", "jwt", "web_message", "bogus"} {
			if contains(strSlice(s.meta["response_modes_supported"]), mode) {
				continue
			}
			b := s.browser(t)
			req := authParams(c, "openid")
			req.Set("response_mode", mode)
			p := b.complete(b.authorize(req))
			if cb, ok := callbackTo(p, c.Redirect); ok {
				if cb.params.Get("code") != "" || cb.params.Get("error") == "" {
					t.Errorf("response_mode=%s (not advertised) was served: %v", mode, cb.params)
				}
				continue
			}
			if p.status < 400 || p.status >= 500 {
				t.Errorf("response_mode=%s: want an error, got %s", mode, p)
			}
		}
	})

	// Response types that are not advertised get unsupported_response_type at the client with state
	// and iss (RFC 6749 §4.1.2.1, issue 3); nothing is issued. This covers the implicit and hybrid flows.
	s.module(t, "unadvertised-response_types-refused", func(t *testing.T, _ *browser) {
		for _, rt := range []string{"token", "id_token", "id_token token", "code id_token", "code token", "code id_token token", "none", "bogus"} {
			if contains(strSlice(s.meta["response_types_supported"]), rt) {
				continue
			}
			b := s.browser(t)
			req := authParams(c, "openid")
			req.Set("response_type", rt)
			p := b.complete(b.authorize(req))
			cb, ok := callbackTo(p, c.Redirect)
			if !ok {
				t.Errorf("response_type=%q: want unsupported_response_type at the client, got %s", rt, p)
				continue
			}
			for _, k := range []string{"code", "access_token", "id_token"} {
				if cb.params.Get(k) != "" {
					t.Errorf("response_type=%q (not advertised) issued %s", rt, k)
				}
			}
			if e := cb.params.Get("error"); e != "unsupported_response_type" {
				t.Errorf("response_type=%q: error = %q (%s), want unsupported_response_type (RFC 6749 §4.1.2.1)", rt, e, cb.params.Get("error_description"))
			}
			if cb.params.Get("state") != req.Get("state") || cb.params.Get("iss") != s.issuer {
				t.Errorf("response_type=%q: state/iss = %q/%q", rt, cb.params.Get("state"), cb.params.Get("iss"))
			}
		}
	})

	// Grant types that are not advertised are refused without issuing anything (RFC 6749 §5.2);
	// password and implicit are the ones RFC 9700 §2.4 and §2.1.2 rule out.
	s.module(t, "unadvertised-grant_types-refused", func(t *testing.T, _ *browser) {
		for _, gt := range []string{"password", "implicit", "urn:ietf:params:oauth:grant-type:device_code",
			"urn:ietf:params:oauth:grant-type:jwt-bearer", "urn:ietf:params:oauth:grant-type:token-exchange",
			"urn:ietf:params:oauth:grant-type:saml2-bearer", "bogus"} {
			if contains(strSlice(s.meta["grant_types_supported"]), gt) {
				continue
			}
			form := url.Values{"grant_type": {gt}, "username": {aliceEmail}, "password": {alicePassword}, "scope": {"openid"},
				"device_code": {"x"}, "assertion": {"x.y.z"}, "subject_token": {"x"}, "subject_token_type": {"urn:ietf:params:oauth:token-type:access_token"}}
			r := s.token(t, c, form)
			if r.status == http.StatusOK || r.get("access_token") != "" {
				t.Errorf("grant_type=%s (not advertised) issued tokens: %s", gt, r)
				continue
			}
			// The exact code (unsupported_grant_type, RFC 6749 §5.2) is in TestRegressions (finding F5).
			if r.status != http.StatusBadRequest || r.get("error") == "" {
				t.Errorf("grant_type=%s: got %s, want a 400 OAuth error (RFC 6749 §5.2)", gt, r)
			}
		}
	})

	// code_challenge_methods_supported is S256 only: plain is refused (RFC 7636 §4.4.1), and a code is
	// never issued for it.
	s.module(t, "unadvertised-code_challenge_method-refused", func(t *testing.T, b *browser) {
		for _, method := range []string{"plain", "S512", ""} {
			if contains(strSlice(s.meta["code_challenge_methods_supported"]), method) {
				continue
			}
			req := authParams(c, "openid")
			req.Set("code_challenge", oauth2Verifier())
			if method != "" {
				req.Set("code_challenge_method", method)
			}
			cb := s.mustAuthzError(t, b.complete(b.authorize(req)), req)
			if e := cb.params.Get("error"); e != "invalid_request" {
				t.Errorf("code_challenge_method=%q: error = %q, want invalid_request (RFC 7636 §4.4.1)", method, e)
			}
		}
	})

	// Every advertised token endpoint auth method works: basic, post and none (public client + PKCE).
	s.module(t, "advertised-token_endpoint_auth_methods", func(t *testing.T, b *browser) {
		methods := strSlice(s.meta["token_endpoint_auth_methods_supported"])
		for _, m := range []struct {
			method string
			c      client
		}{{"client_secret_basic", s.basic}, {"client_secret_post", s.post}, {"none", s.public}} {
			if !contains(methods, m.method) {
				continue
			}
			req := authParams(m.c, "openid")
			verifier := ""
			if m.c.Public {
				req.Set("redirect_uri", loopbackWithPort(m.c.Redirect, randomPort()))
				verifier = addPKCE(req)
			}
			s.finish(t, m.c, req, b.complete(b.authorize(req)), verifier)
		}
	})

	// request_parameter_supported / request_uri_parameter_supported are false: requests carrying them
	// get request_not_supported / request_uri_not_supported at the client (OIDC Core §6.1, §6.2,
	// §3.1.2.6) — here with state in the query, so it comes back too.
	s.module(t, "unadvertised-request-objects-refused", func(t *testing.T, b *browser) {
		for _, m := range []struct{ param, supported, want string }{
			{"request", "request_parameter_supported", "request_not_supported"},
			{"request_uri", "request_uri_parameter_supported", "request_uri_not_supported"},
		} {
			if v, ok := s.meta[m.supported].(bool); !ok || v {
				continue
			}
			req := authParams(c, "openid")
			if m.param == "request" {
				req.Set("request", unsignedJWT(t, req))
			} else {
				req.Set("request_uri", "https://rp.example/request/"+randomValue(8))
			}
			cb := s.mustAuthzError(t, b.complete(b.authorize(req)), req)
			if e := cb.params.Get("error"); e != m.want {
				t.Errorf("%s with %s=false: error = %q, want %s", m.param, m.supported, e, m.want)
			}
		}
	})

	// prompt_values_supported: each advertised value behaves as OIDC Core §3.1.2.1 says.
	s.module(t, "advertised-prompt_values", func(t *testing.T, b *browser) {
		s.login(t, b, c, authParams(c, "openid"))
		for _, v := range strSlice(s.meta["prompt_values_supported"]) {
			req := authParams(c, "openid")
			req.Set("prompt", v)
			if v == "login" || v == "select_account" {
				// Not within the second of the previous login: that case is in TestRegressions (finding F3)
				// (oidcc-prompt-login).
				sleepUntilNextSecond()
			}
			p := b.authorize(req)
			switch v {
			case "none":
				s.finish(t, c, req, p, "")
			case "login", "select_account":
				if !b.onLogin(p) {
					t.Errorf("prompt=%s: no login page (issue 3: select_account is treated as login): %s", v, p)
					continue
				}
				s.finish(t, c, req, b.complete(p), "")
			case "consent":
				if !b.onConsent(p) {
					t.Errorf("prompt=consent with a remembered consent: no consent page: %s", p)
					continue
				}
				s.finish(t, c, req, b.decide(p, "approve"), "")
			default:
				t.Errorf("prompt_values_supported has %q, which OIDC does not define", v)
			}
		}
	})

	// subject_types_supported=public: the same sub for every client (OIDC Core §8).
	s.module(t, "advertised-subject_type-public", func(t *testing.T, b *browser) {
		if !contains(strSlice(s.meta["subject_types_supported"]), "public") {
			t.Skip("public subjects not advertised")
		}
		f1 := s.login(t, b, s.basic, authParams(s.basic, "openid"))
		f2 := s.login(t, b, s.second, authParams(s.second, "openid"))
		if f1.id.tok.Subject != f2.id.tok.Subject || f1.id.tok.Subject != s.userID {
			t.Errorf("public sub differs between clients: %q vs %q (user %s)", f1.id.tok.Subject, f2.id.tok.Subject, s.userID)
		}
	})
}

func (s *suite) checkEndpointURL(t *testing.T, name string, v any, required bool) {
	t.Helper()
	raw, ok := v.(string)
	if !ok {
		if required {
			t.Errorf("%s = %#v: want a URL string (OIDC Discovery §3)", name, v)
		}
		return
	}
	u, err := url.Parse(raw)
	if err != nil || !u.IsAbs() || u.Host == "" || u.Fragment != "" {
		t.Errorf("%s = %q: want an absolute URL without fragment", name, raw)
		return
	}
	// The plan's CheckDiscEndpointAllEndpointsAreHttps: https, except on a loopback issuer, where this
	// suite runs (and where the OpenID Foundation's suite cannot).
	if ip := net.ParseIP(u.Hostname()); u.Scheme != "https" && !(u.Scheme == "http" && (ip != nil && ip.IsLoopback() || u.Hostname() == "localhost")) {
		t.Errorf("%s = %q: want https", name, raw)
	}
}

func mustStringArray(t *testing.T, m map[string]any, key string, required bool) []string {
	t.Helper()
	v, ok := m[key]
	if !ok {
		if required {
			t.Errorf("discovery lacks %s", key)
		}
		return nil
	}
	a, ok := v.([]any)
	if !ok {
		t.Errorf("%s = %#v: want a JSON array", key, v)
		return nil
	}
	out := strSlice(a)
	if len(out) != len(a) {
		t.Errorf("%s = %v: want strings only", key, a)
	}
	return out
}

func mustJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

var (
	scopeToken = regexp.MustCompile(`^[\x21\x23-\x5B\x5D-\x7E]+$`)
	bcp47      = regexp.MustCompile(`^[A-Za-z]{2,8}(-[A-Za-z0-9]{1,8})*$`)
	base64url  = regexp.MustCompile(`^[A-Za-z0-9_-]+$`)
	maxAge     = regexp.MustCompile(`(?i)(^|[ ,])max-age=[1-9][0-9]*`)
)
