package e2e_test

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestRegressions holds the checks of the six findings of the first black-box audit (F1 fragment
// advertised but refused, F2 state/nonce length rules, F3 prompt=login and max_age within the second
// of a login, F4 inexact redirect URI matching, F5 unsupported_grant_type, F6 repeated parameters),
// under the names of the modules they belong to. Each failed before its fix.
func TestRegressions(t *testing.T) {
	s := startSuite(t)
	c := s.basic

	t.Run("BasicOP", func(t *testing.T) {
		// F3. OP-prompt-login: the second request, with prompt=login, must show the login page again
		// although the user is signed in, and the new ID token's auth_time differs (OIDC Core
		// §3.1.2.1). The second request is sent at once, as a fast relying party does: within the
		// second of the first login.
		s.module(t, "oidcc-prompt-login", func(t *testing.T, b *browser) {
			sleepUntilNextSecond()
			first := s.login(t, b, c, authParams(c, "openid"))
			req := authParams(c, "openid")
			req.Set("prompt", "login")
			p := b.authorize(req)
			if !b.onLogin(p) {
				t.Fatalf("prompt=login %s after the first login: the user was not asked to sign in again (OIDC Core §3.1.2.1: the OP MUST prompt for reauthentication or return an error); got %s",
					time.Since(first.id.tok.IssuedAt).Round(time.Millisecond), p)
			}
			sleepUntilNextSecond()
			second := s.finish(t, c, req, b.complete(p), "")
			a1, ok1 := first.id.num("auth_time")
			a2, ok2 := second.id.num("auth_time")
			if ok1 && ok2 && a1 == a2 {
				t.Errorf("auth_time %d unchanged after the forced reauthentication (CheckIdTokenAuthTimeClaimsDifferIfPresent)", a2)
			}
		})

		// F2. OP-request_uri-Unsigned: request_uri works or is refused with request_uri_not_supported.
		// The module sends state and nonce only inside the request object, as OIDC Core §6 allows.
		s.module(t, "oidcc-request-uri-unsigned-supported-correctly-or-rejected-as-unsupported", func(t *testing.T, b *browser) {
			req := url.Values{
				"response_type": {"code"}, "client_id": {c.ID}, "scope": {"openid"}, "redirect_uri": {c.Redirect},
				"request_uri": {"https://rp.example/request/" + randomValue(16)},
			}
			p := b.complete(b.authorize(req))
			cb, ok := callbackTo(p, c.Redirect)
			if !ok {
				t.Fatalf("request_uri: want request_uri_not_supported back at the client (OIDC Core §6.3, §3.1.2.6), got %s", p)
			}
			if e := cb.params.Get("error"); e != "request_uri_not_supported" {
				t.Fatalf("request_uri: error = %q (%s), want request_uri_not_supported; discovery says request_uri_parameter_supported=%v",
					e, cb.params.Get("error_description"), s.meta["request_uri_parameter_supported"])
			}
			if cb.params.Get("iss") != s.issuer {
				t.Errorf("iss = %q, want %q (RFC 9207)", cb.params.Get("iss"), s.issuer)
			}
		})

		// F2. OP-request-Unsigned: an unsigned request object by value works or is refused with
		// request_not_supported; state and nonce travel inside it only.
		s.module(t, "oidcc-unsigned-request-object-supported-correctly-or-rejected-as-unsupported", func(t *testing.T, b *browser) {
			inner := authParams(c, "openid")
			req := url.Values{
				"response_type": {"code"}, "client_id": {c.ID}, "scope": {"openid"}, "redirect_uri": {c.Redirect},
				"request": {unsignedJWT(t, inner)},
			}
			p := b.complete(b.authorize(req))
			cb, ok := callbackTo(p, c.Redirect)
			if !ok {
				t.Fatalf("request object: want request_not_supported back at the client (OIDC Core §6.1, §3.1.2.6), got %s", p)
			}
			if e := cb.params.Get("error"); e != "request_not_supported" {
				if cb.params.Get("code") != "" && cb.params.Get("state") == inner.Get("state") {
					return // processed, which is the other correct outcome
				}
				t.Fatalf("request object: error = %q (%s), want request_not_supported; discovery says request_parameter_supported=%v",
					e, cb.params.Get("error_description"), s.meta["request_parameter_supported"])
			}
			if cb.params.Get("iss") != s.issuer {
				t.Errorf("iss = %q, want %q (RFC 9207)", cb.params.Get("iss"), s.issuer)
			}
		})
	})

	t.Run("ConfigOP", func(t *testing.T) {
		// F1. response_mode=fragment: advertised, so it must work (OAuth 2.0 Multiple Response Types
		// §2.1); if it stops being advertised, it must be refused.
		s.module(t, "advertised-response_mode=fragment", func(t *testing.T, b *browser) {
			req := authParams(c, "openid")
			req.Set("response_mode", "fragment")
			p := b.complete(b.authorize(req))
			if !contains(strSlice(s.meta["response_modes_supported"]), "fragment") {
				if cb, ok := callbackTo(p, c.Redirect); ok && cb.params.Get("code") != "" {
					t.Fatalf("response_mode=fragment is not advertised but was served")
				}
				return
			}
			cb := s.mustCallback(t, p, req)
			if e := cb.params.Get("error"); e != "" {
				t.Fatalf("response_mode=fragment is advertised in response_modes_supported but refused: error=%s (%s)", e, cb.params.Get("error_description"))
			}
			if cb.mode != "fragment" {
				t.Errorf("response_mode=fragment answered in %s mode", cb.mode)
			}
			s.finish(t, c, req, p, "")
		})

		// F5. Grant types that are not advertised get unsupported_grant_type (RFC 6749 §5.2).
		s.module(t, "unadvertised-grant_types-unsupported_grant_type", func(t *testing.T, _ *browser) {
			for _, gt := range []string{"password", "implicit", "urn:ietf:params:oauth:grant-type:device_code",
				"urn:ietf:params:oauth:grant-type:jwt-bearer", "urn:ietf:params:oauth:grant-type:token-exchange", "bogus"} {
				r := s.token(t, c, url.Values{"grant_type": {gt}, "username": {aliceEmail}, "password": {alicePassword}})
				if r.status != http.StatusBadRequest || r.get("error") != "unsupported_grant_type" {
					t.Errorf("grant_type=%s: got %d %s (%s), want 400 unsupported_grant_type (RFC 6749 §5.2)", gt, r.status, r.get("error"), r.get("error_description"))
				}
			}
		})

		// F3. prompt=login and prompt=select_account right after a login (issue 3: select_account is
		// treated as login).
		s.module(t, "advertised-prompt_values-right-after-login", func(t *testing.T, _ *browser) {
			for _, v := range []string{"login", "select_account"} {
				b := s.browser(t) // a fresh browser, so that s.login really signs in
				sleepUntilNextSecond()
				s.login(t, b, c, authParams(c, "openid"))
				req := authParams(c, "openid")
				req.Set("prompt", v)
				if p := b.authorize(req); !b.onLogin(p) {
					t.Errorf("prompt=%s right after a login: no login page (OIDC Core §3.1.2.1): %s", v, p)
				}
			}
		})
	})

	t.Run("RFC9700", func(t *testing.T) {
		// F4. §2.1, §4.1.3: exact string matching for a confidential (web) client; the loopback port
		// exception of RFC 8252 §7.3 is for native apps, and never covers userinfo or path encoding.
		s.module(t, "4.1.3-redirect-uri-exact-match", func(t *testing.T, _ *browser) {
			reg, _ := url.Parse(c.Redirect)
			s.refusedRedirects(t, c, map[string]string{
				"other-port":   loopbackWithPort(c.Redirect, randomPort()),
				"userinfo":     "http://evil.example@" + reg.Host + "/cb",
				"encoded-path": strings.Replace(c.Redirect, "/cb", "/%63b", 1),
			})
		})
		s.module(t, "4.1.3-native-loopback-port", func(t *testing.T, _ *browser) {
			pc := s.public
			reg, _ := url.Parse(pc.Redirect)
			port := strconv.Itoa(randomPort())
			s.refusedRedirects(t, pc, map[string]string{
				"userinfo":     "http://evil.example@" + reg.Hostname() + ":" + port + "/native/cb",
				"encoded-path": "http://" + reg.Hostname() + ":" + port + "/native/%63b",
			})
		})

		// F2. §2.1: "clients that have ensured that the authorization server supports PKCE MAY rely on
		// the CSRF protection provided by PKCE"; state is an opaque client value (RFC 6749 §4.1.1:
		// RECOMMENDED, no length rule).
		s.module(t, "4.7.1-csrf-state-and-pkce", func(t *testing.T, b *browser) {
			s.login(t, b, c, authParams(c, "openid")) // signed in, consented
			t.Run("pkce-without-state", func(t *testing.T) {
				req := authParams(c, "openid")
				req.Del("state")
				verifier := addPKCE(req)
				p := b.authorize(req)
				if cb, ok := callbackTo(p, c.Redirect); ok && cb.params.Get("error") != "" {
					t.Fatalf("a PKCE request without state was refused: error=%s (%s); RFC 9700 §2.1 lets PKCE clients rely on PKCE for CSRF protection, and RFC 6749 §4.1.1 makes state optional",
						cb.params.Get("error"), cb.params.Get("error_description"))
				}
				s.finish(t, c, req, p, verifier)
			})
			t.Run("short-state", func(t *testing.T) {
				req := authParams(c, "openid")
				req.Set("state", "xyz")
				p := b.authorize(req)
				if cb, ok := callbackTo(p, c.Redirect); ok && cb.params.Get("error") != "" {
					t.Fatalf("state=%q was refused: error=%s (%s); state is an opaque client value (RFC 6749 §4.1.1), and %q is not an error code RFC 6749 §4.1.2.1 defines",
						req.Get("state"), cb.params.Get("error"), cb.params.Get("error_description"), cb.params.Get("error"))
				}
				s.finish(t, c, req, p, "")
			})
		})

		// F5. §2.4: the password grant is refused as unsupported (RFC 6749 §5.2).
		s.module(t, "2.4-password-grant-refused", func(t *testing.T, _ *browser) {
			r := s.token(t, c, url.Values{"grant_type": {"password"}, "username": {aliceEmail}, "password": {alicePassword}, "scope": {"openid"}})
			if r.status != http.StatusBadRequest || r.get("error") != "unsupported_grant_type" {
				t.Errorf("grant_type=password: got %d %s (%s), want 400 unsupported_grant_type (RFC 6749 §5.2)", r.status, r.get("error"), r.get("error_description"))
			}
		})
	})

	t.Run("Issue3", func(t *testing.T) {
		// F2. OIDC Core §3.1.2.1: nonce is a string value; nothing makes a short one invalid, and a
		// request that was authorized must not fail at the token endpoint because of it.
		s.module(t, "oidc-short-nonce", func(t *testing.T, b *browser) {
			req := authParams(c, "openid")
			req.Set("nonce", "n-1")
			code := s.mustCode(t, b.complete(b.authorize(req)), req)
			r := s.exchange(t, c, code, c.Redirect, "")
			if r.status != http.StatusOK {
				t.Fatalf("nonce=%q: the authorization succeeded, then the code exchange failed: %s", req.Get("nonce"), r)
			}
			s.checkIDToken(t, r.get("id_token"), c, req.Get("nonce"), r.get("access_token"))
		})

		// F3. max_age=0 demands a login for every request (OIDC Core §3.1.2.1), also one sent within
		// the second of the previous login.
		s.module(t, "max-age-0", func(t *testing.T, b *browser) {
			sleepUntilNextSecond()
			s.login(t, b, c, authParams(c, "openid"))
			req := authParams(c, "openid")
			req.Set("max_age", "0")
			if p := b.authorize(req); !b.onLogin(p) {
				t.Errorf("max_age=0 right after a login did not ask the user to sign in (OIDC Core §3.1.2.1): %s", p)
			}
		})

		// F6. RFC 6749 §3.1 ("parameters MUST NOT be included more than once"), §4.1.2.1 (a repeated
		// parameter is invalid_request): no code for a request with a repeated parameter.
		s.module(t, "rfc6749-repeated-parameters", func(t *testing.T, b *browser) {
			s.login(t, b, c, authParams(c, "openid"))
			for _, extra := range []string{
				"&redirect_uri=" + url.QueryEscape("https://evil.example/cb"),
				"&scope=" + url.QueryEscape("openid profile"),
				"&state=second",
			} {
				req := authParams(c, "openid")
				p := b.get(s.authzEndpoint() + "?" + req.Encode() + extra)
				if cb, ok := callbackTo(p, c.Redirect); ok && cb.params.Get("code") != "" {
					t.Errorf("%s repeated: a code was issued; want invalid_request (RFC 6749 §3.1, §4.1.2.1)", strings.SplitN(extra[1:], "=", 2)[0])
				}
			}
		})
	})
}
