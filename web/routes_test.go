package web_test

import (
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/kangrow/auth/provider"
	"github.com/kangrow/auth/web"
)

func pkceChallenge(verifier string) string {
	sum := sha256.Sum256([]byte(verifier))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

// TestRoutes walks the surface: every route answers, and every bad input is a 4xx with a message.
func TestRoutes(t *testing.T) {
	env := newTestEnv(t)
	tests := []struct {
		name    string
		method  string
		path    string
		form    url.Values
		hdr     header
		want    int
		snippet string
	}{
		{name: "alive", method: "GET", path: "/health/alive", want: 200, snippet: `{"status":"ok"}`},
		{name: "ready", method: "GET", path: "/health/ready", want: 200, snippet: `{"status":"ok"}`},
		{name: "openid configuration", method: "GET", path: "/.well-known/openid-configuration", want: 200,
			snippet: `"authorization_endpoint":"` + testIssuer + `/oauth2/authorize"`},
		{name: "oauth authorization server metadata", method: "GET", path: "/.well-known/oauth-authorization-server", want: 200,
			snippet: `"issuer":"` + testIssuer + `"`},
		{name: "jwks", method: "GET", path: "/.well-known/jwks.json", want: 200, snippet: `"keys"`},
		{name: "token without client", method: "POST", path: "/oauth2/token",
			form: url.Values{"grant_type": {"authorization_code"}, "code": {"x"}}, want: 401, snippet: `"error":"invalid_client"`},
		{name: "token with a wrong secret", method: "POST", path: "/oauth2/token",
			form: url.Values{"grant_type": {"authorization_code"}, "code": {"x"}},
			hdr:  header{"Authorization": "Basic " + base64.StdEncoding.EncodeToString([]byte(appID+":wrong"))},
			want: 401, snippet: `"error":"invalid_client"`},
		{name: "token by GET", method: "GET", path: "/oauth2/token", want: 405, snippet: "Method not allowed"},
		{name: "revoke without client", method: "POST", path: "/oauth2/revoke", form: url.Values{"token": {"x"}}, want: 401,
			snippet: `"error":"invalid_client"`},
		{name: "introspect without client", method: "POST", path: "/oauth2/introspect", form: url.Values{"token": {"x"}},
			want: 401, snippet: `"error":"invalid_client"`},
		{name: "userinfo without token", method: "GET", path: "/userinfo", want: 401, snippet: `"error":"invalid_request"`},
		{name: "userinfo bad token", method: "POST", path: "/userinfo", hdr: header{"Authorization": "Bearer nope"}, want: 401,
			snippet: `"error":"invalid_token"`},
		{name: "authorize without parameters", method: "GET", path: "/oauth2/authorize", want: 400,
			snippet: "Invalid authorization request"},
		{name: "authorize unknown client", method: "GET", path: authorizeURL(url.Values{"client_id": {"nobody"}}), want: 400,
			snippet: "invalid_client"},
		{name: "authorize unregistered redirect", method: "GET",
			path: authorizeURL(url.Values{"redirect_uri": {"https://evil.example.test/cb"}}), want: 400,
			snippet: "Invalid authorization request"},
		{name: "authorize by POST, unknown client", method: "POST", path: "/oauth2/authorize",
			form: url.Values{"client_id": {"nobody"}, "response_type": {"code"}}, hdr: header{"Sec-Fetch-Site": "cross-site"},
			want: 400, snippet: "invalid_client"},
		{name: "resume without flow", method: "GET", path: "/oauth2/authorize/resume", want: 400, snippet: "invalid or has expired"},
		{name: "resume forged flow", method: "GET", path: "/oauth2/authorize/resume?flow=eyJwIjoiIn0.AAAA", want: 400,
			snippet: "invalid or has expired"},
		{name: "login page", method: "GET", path: "/login", want: 200, snippet: `autocomplete="current-password"`},
		{name: "login page forged flow", method: "GET", path: "/login?flow=abc", want: 400, snippet: "invalid or has expired"},
		{name: "login without CSRF token", method: "POST", path: "/login",
			form: url.Values{"email": {"a@example.test"}, "password": {"x"}}, want: 403, snippet: "Request refused"},
		{name: "consent without flow", method: "GET", path: "/consent", want: 400, snippet: "invalid or has expired"},
		{name: "consent POST without CSRF token", method: "POST", path: "/consent", form: url.Values{"action": {"approve"}},
			want: 403, snippet: "Request refused"},
		{name: "logout page signed out", method: "GET", path: "/logout", want: 200, snippet: "You are signed out"},
		{name: "logout POST without CSRF token", method: "POST", path: "/logout", form: url.Values{}, want: 403,
			snippet: "Request refused"},
		{name: "rp logout without parameters", method: "GET", path: "/oauth2/logout", want: 200, snippet: "You are signed out"},
		{name: "rp logout unregistered redirect", method: "GET",
			path: "/oauth2/logout?client_id=app&post_logout_redirect_uri=https%3A%2F%2Fevil.example.test%2F", want: 400,
			snippet: "post_logout_redirect_uri is not registered for this client"},
		{name: "rp logout forged hint", method: "GET", path: "/oauth2/logout?id_token_hint=a.b.c", want: 400,
			snippet: "id_token_hint is not an ID token issued here"},
		{name: "home", method: "GET", path: "/", want: 200, snippet: "You are not signed in"},
		{name: "stylesheet", method: "GET", path: "/static/style.css", want: 200, snippet: "font-family"},
		{name: "static directory", method: "GET", path: "/static/", want: 404},
		{name: "static traversal", method: "GET", path: "/static/../templates/login.html", want: 404},
		{name: "unknown page", method: "GET", path: "/nope", want: 404, snippet: "Page not found"},
		{name: "signup is not served yet", method: "GET", path: "/signup", want: 404, snippet: "Page not found"},
		{name: "login by DELETE", method: "DELETE", path: "/login", want: 405, snippet: "Method not allowed"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			rec := env.newBrowser().do(tc.method, tc.path, tc.form, tc.hdr)
			mustStatus(t, rec, tc.want)
			if tc.snippet != "" {
				mustContain(t, rec, tc.snippet)
			}
			if strings.HasPrefix(rec.Header().Get("Content-Type"), "text/html") {
				mustContain(t, rec, `<html lang="en">`)
			}
			if tc.want >= 400 && tc.want < 500 && rec.Header().Get("Location") != "" {
				t.Errorf("error answered with a redirect to %q", rec.Header().Get("Location"))
			}
		})
	}
}

func TestHealthReadyFailing(t *testing.T) {
	env := newTestEnv(t)
	env.ready = errors.New("database is down: secret detail")
	rec := env.newBrowser().get("/health/ready")
	mustStatus(t, rec, http.StatusServiceUnavailable)
	mustContain(t, rec, `{"status":"unavailable"}`)
	if strings.Contains(rec.Body.String(), "secret detail") {
		t.Error("readiness error detail leaked to the response")
	}
	if !strings.Contains(env.logs.String(), "secret detail") {
		t.Error("readiness error detail not logged")
	}
}

func TestSecurityHeaders(t *testing.T) {
	env := newTestEnv(t)
	formPostCSP := "script-src 'unsafe-hashes' 'sha256-" + pkceChallengeStd("document.forms[0].submit()") + "'"
	tests := []struct {
		name       string
		path       string
		wantScript bool
	}{
		{name: "home", path: "/"},
		{name: "login", path: "/login"},
		{name: "error page", path: "/nope"},
		{name: "discovery", path: "/.well-known/openid-configuration"},
		{name: "authorize", path: authorizeURL(nil), wantScript: true},
		{name: "authorize error page", path: "/oauth2/authorize", wantScript: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			rec := env.newBrowser().get(tc.path)
			h := rec.Header()
			csp := h.Get("Content-Security-Policy")
			if !strings.HasPrefix(csp, "default-src 'none'; style-src 'self'; img-src 'self' data:; frame-ancestors 'none'; base-uri 'none'") {
				t.Errorf("CSP = %q", csp)
			}
			if strings.Contains(csp, "form-action") {
				t.Errorf("CSP has form-action, which blocks the redirect after a form post: %q", csp)
			}
			if got := strings.Contains(csp, formPostCSP); got != tc.wantScript {
				t.Errorf("CSP %q: form_post script allowed = %v, want %v", csp, got, tc.wantScript)
			}
			for k, want := range map[string]string{
				"X-Frame-Options":        "DENY",
				"X-Content-Type-Options": "nosniff",
				"Referrer-Policy":        "no-referrer",
			} {
				if got := h.Get(k); got != want {
					t.Errorf("%s = %q, want %q", k, got, want)
				}
			}
			if h.Get("X-Request-Id") == "" {
				t.Error("no X-Request-Id")
			}
			if tc.name != "discovery" && h.Get("Cache-Control") != "no-store" {
				t.Errorf("Cache-Control = %q, want no-store", h.Get("Cache-Control"))
			}
		})
	}
}

func pkceChallengeStd(s string) string {
	sum := sha256.Sum256([]byte(s))
	return base64.StdEncoding.EncodeToString(sum[:])
}

// TestRequestLog checks the request log: one line per request with the route pattern, never the query
// string or form values.
func TestRequestLog(t *testing.T) {
	env := newTestEnv(t)
	env.mustCreateUser("alice@example.test")
	b := env.newBrowser()
	b.get(authorizeURL(nil))
	page := b.get("/login")
	b.submit(page, "/login", url.Values{"email": {"alice@example.test"}, "password": {testPassword}})
	logs := env.logs.String()
	for _, secret := range []string{testState, testNonce, testPassword, "alice@example.test", "kangrow_session"} {
		if strings.Contains(logs, secret) {
			t.Errorf("log contains %q:\n%s", secret, logs)
		}
	}
	for _, want := range []string{`"route":"/oauth2/authorize"`, `"route":"/login"`, `"status":303`, `"request_id":"`, `"latency":`} {
		if !strings.Contains(logs, want) {
			t.Errorf("log lacks %s:\n%s", want, logs)
		}
	}
}

// TestPanicRecovery: a panicking handler gives a plain 500 page and a logged stack.
func TestPanicRecovery(t *testing.T) {
	env := newTestEnv(t)
	env.readyPanics()
	rec := env.newBrowser().get("/health/ready")
	mustStatus(t, rec, http.StatusInternalServerError)
	mustContain(t, rec, "Something went wrong")
	if strings.Contains(rec.Body.String(), "boom") || strings.Contains(rec.Body.String(), "goroutine") {
		t.Errorf("panic detail leaked: %s", rec.Body.String())
	}
	if logs := env.logs.String(); !strings.Contains(logs, "boom") || !strings.Contains(logs, "stack") {
		t.Errorf("panic not logged with its stack:\n%s", logs)
	}
}

func TestNewValidatesDeps(t *testing.T) {
	env := newTestEnv(t)
	p, err := provider.New(provider.Config{Issuer: testIssuer, Secret: []byte(testSecretBytes)}, env.store, mustKeys(t))
	if err != nil {
		t.Fatal(err)
	}
	good := web.Deps{Provider: p, Store: env.store, Secret: []byte(testSecretBytes), Issuer: testIssuer}
	tests := []struct {
		name   string
		change func(*web.Deps)
		want   string
	}{
		{"no provider", func(d *web.Deps) { d.Provider = nil }, "nil provider"},
		{"no store", func(d *web.Deps) { d.Store = nil }, "nil store"},
		{"short secret", func(d *web.Deps) { d.Secret = []byte("short") }, "at least 32 bytes"},
		{"relative issuer", func(d *web.Deps) { d.Issuer = "/auth" }, "issuer"},
		{"bad trusted proxy", func(d *web.Deps) { d.TrustedProxies = []string{"not-an-ip"} }, "trusted proxies"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			d := good
			tc.change(&d)
			h, err := web.New(d)
			if err == nil || !strings.Contains(err.Error(), tc.want) || h != nil {
				t.Fatalf("web.New = %v, %v; want an error about %q", h, err, tc.want)
			}
		})
	}
	if h, err := web.New(good); err != nil || h == nil {
		t.Fatalf("web.New(good) = %v, %v", h, err)
	}
}

// TestIssuerPath: under an issuer with a path (a proxy strips it), our links and redirects keep it.
func TestIssuerPath(t *testing.T) {
	env := newTestEnv(t)
	const issuer = testIssuer + "/auth"
	p, err := provider.New(provider.Config{Issuer: issuer, Secret: []byte(testSecretBytes)}, env.store, mustKeys(t))
	if err != nil {
		t.Fatal(err)
	}
	h, err := web.New(web.Deps{Provider: p, Store: env.store, Secret: []byte(testSecretBytes), Issuer: issuer})
	if err != nil {
		t.Fatal(err)
	}
	env.h = h
	b := env.newBrowser()
	mustRedirectTo(t, b.get(authorizeURL(nil)), "/auth/login?flow=")
	page := b.get("/login")
	mustContain(t, page, `action="/auth/login"`)
	mustContain(t, page, `href="/auth/static/style.css"`)
	for _, c := range page.Result().Cookies() {
		if c.Path != "/auth/" {
			t.Errorf("cookie %s has path %q", c.Name, c.Path)
		}
	}
}

// TestStaticNotFound: whatever is not an embedded file under /static/ gets the 404 page every unknown
// path gets (HTML, a message, the security headers), not an empty 404; a file that exists is served.
func TestStaticNotFound(t *testing.T) {
	env := newTestEnv(t)
	tests := []struct {
		name, method, path string
	}{
		{"missing file", "GET", "/static/nonexistent.css"},
		{"the directory", "GET", "/static/"},
		{"traversal", "GET", "/static/../../../../etc/passwd"},
		{"traversal to a template", "GET", "/static/../templates/login.html"},
		{"encoded traversal", "GET", "/static/%2e%2e/%2e%2e/go.mod"},
		{"encoded slash", "GET", "/static/..%2f..%2fgo.mod"},
		{"NUL after a real file", "GET", "/static/style.css%00"},
		{"a subdirectory that does not exist", "GET", "/static/css/style.css"},
		{"long name", "GET", "/static/" + strings.Repeat("a", 30<<10)},
		{"missing file by HEAD", "HEAD", "/static/nonexistent.css"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			rec := env.newBrowser().do(tc.method, tc.path, nil, nil)
			mustStatus(t, rec, http.StatusNotFound)
			h := rec.Header()
			if ct := h.Get("Content-Type"); ct != "text/html; charset=utf-8" {
				t.Errorf("Content-Type = %q, want the HTML 404 page", ct)
			}
			if tc.method == "GET" {
				mustContain(t, rec, "Page not found")
				mustContain(t, rec, "There is no page at this address.")
			}
			if !strings.HasPrefix(h.Get("Content-Security-Policy"), "default-src 'none'") || h.Get("X-Frame-Options") != "DENY" ||
				h.Get("X-Content-Type-Options") != "nosniff" || h.Get("Cache-Control") != "no-store" {
				t.Errorf("404 without the security headers: %v", h)
			}
		})
	}
	for _, method := range []string{"GET", "HEAD"} {
		rec := env.newBrowser().do(method, "/static/style.css", nil, nil)
		mustStatus(t, rec, http.StatusOK)
		if ct := rec.Header().Get("Content-Type"); !strings.HasPrefix(ct, "text/css") {
			t.Errorf("%s /static/style.css: Content-Type %q", method, ct)
		}
	}
}
