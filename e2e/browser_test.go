package e2e_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	mathrand "math/rand/v2"
	"mime"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/net/html"
	"golang.org/x/oauth2"
)

// page is one response the browser ended on.
type page struct {
	method string
	url    *url.URL // the request that produced it (after redirects inside the provider)
	status int
	header http.Header
	body   string
}

func (p page) location() string { return p.header.Get("Location") }

func (p page) String() string {
	body := p.body
	if len(body) > 600 {
		body = body[:600] + "…"
	}
	return fmt.Sprintf("%s %s → %d (Location %q, Content-Type %q)\n%s", p.method, p.url.Path, p.status,
		p.location(), p.header.Get("Content-Type"), body)
}

// browser is a user agent with a cookie jar. It follows redirects inside the provider and stops at
// the first one that leaves it (to a client's redirect URI), which it never dials.
type browser struct {
	t    *testing.T
	s    *suite
	c    *http.Client
	op   *url.URL
	user string // email to sign in with; alice when empty
}

func (s *suite) browser(t *testing.T) *browser {
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	op, _ := url.Parse(s.issuer)
	b := &browser{t: t, s: s, op: op}
	b.c = &http.Client{
		Jar:     jar,
		Timeout: httpTimeout,
		CheckRedirect: func(req *http.Request, via []*http.Request) error {
			if len(via) >= 10 {
				return errors.New("more than 10 redirects inside the provider")
			}
			if req.URL.Scheme != op.Scheme || req.URL.Host != op.Host {
				return http.ErrUseLastResponse
			}
			return nil
		},
	}
	return b
}

func (b *browser) do(req *http.Request) page {
	b.t.Helper()
	resp, err := b.c.Do(req)
	if err != nil {
		b.t.Fatalf("%s %s: %v", req.Method, req.URL, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	return page{method: resp.Request.Method, url: resp.Request.URL, status: resp.StatusCode, header: resp.Header, body: string(body)}
}

// doOnce sends req with the browser's cookies without following any redirect.
func (b *browser) doOnce(req *http.Request) page {
	b.t.Helper()
	c := *b.c
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	resp, err := c.Do(req)
	if err != nil {
		b.t.Fatalf("%s %s: %v", req.Method, req.URL, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	return page{method: req.Method, url: req.URL, status: resp.StatusCode, header: resp.Header, body: string(body)}
}

func (b *browser) get(u string) page {
	b.t.Helper()
	req, err := http.NewRequest(http.MethodGet, u, nil)
	if err != nil {
		b.t.Fatal(err)
	}
	return b.do(req)
}

// postForm posts form to u; header adds or overrides request headers.
func (b *browser) postForm(u string, form url.Values, header http.Header) page {
	b.t.Helper()
	req, err := http.NewRequest(http.MethodPost, u, strings.NewReader(form.Encode()))
	if err != nil {
		b.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	for k, vs := range header {
		req.Header[k] = vs
	}
	return b.do(req)
}

// authorize sends the browser to the authorization endpoint with params (GET).
func (b *browser) authorize(params url.Values) page {
	b.t.Helper()
	return b.get(b.s.authzEndpoint() + "?" + params.Encode())
}

func (s *suite) authzEndpoint() string { return str(s.meta["authorization_endpoint"]) }
func (s *suite) tokenEndpoint() string { return str(s.meta["token_endpoint"]) }

// onPage reports whether p is our page at path showing its form (200, or 400/401 when the page is
// shown again with an error).
func (b *browser) onPage(p page, path string) bool {
	switch p.status {
	case http.StatusOK, http.StatusBadRequest, http.StatusUnauthorized:
	default:
		return false
	}
	return p.url.Host == b.op.Host && p.url.Path == b.op.Path+path && strings.Contains(p.body, "<form")
}

func (b *browser) onLogin(p page) bool   { return b.onPage(p, "/login") }
func (b *browser) onConsent(p page) bool { return b.onPage(p, "/consent") }

// signIn fills the login page p with the user's email and password and submits it.
func (b *browser) signIn(p page) page {
	b.t.Helper()
	return b.signInAs(p, b.email())
}

func (b *browser) signInAs(p page, email string) page {
	b.t.Helper()
	if !b.onLogin(p) {
		b.t.Fatalf("want the login page, got %s", p)
	}
	return b.submit(p, url.Values{"email": {email}, "password": {alicePassword}})
}

// email is the account this browser signs in with: alice unless told otherwise.
func (b *browser) email() string {
	if b.user != "" {
		return b.user
	}
	return aliceEmail
}

// decide answers the consent page p with action (approve or deny).
func (b *browser) decide(p page, action string) page {
	b.t.Helper()
	if !b.onConsent(p) {
		b.t.Fatalf("want the consent page, got %s", p)
	}
	return b.submit(p, url.Values{"action": {action}})
}

// complete walks the pages a user meets after an authorization request: the login page (signing in)
// and the consent page (approving), whichever appear, and returns the response that follows.
func (b *browser) complete(p page) page {
	b.t.Helper()
	for range 3 {
		switch {
		case b.onLogin(p):
			p = b.signIn(p)
		case b.onConsent(p):
			p = b.decide(p, "approve")
		default:
			return p
		}
	}
	return p
}

// submit posts p's first form with its hidden fields, overridden and completed by fields.
func (b *browser) submit(p page, fields url.Values) page {
	b.t.Helper()
	f, ok := parseForm(p.body, "")
	if !ok {
		b.t.Fatalf("no form on %s", p)
	}
	for k, v := range fields {
		f.values[k] = v
	}
	target, err := p.url.Parse(f.action)
	if err != nil {
		b.t.Fatalf("form action %q: %v", f.action, err)
	}
	return b.postForm(target.String(), f.values, nil)
}

// form is an HTML form: its action, method and the values its inputs carry.
type form struct {
	action, method string
	values         url.Values
}

// parseForm returns the first form of body whose action is action (any form when action is empty),
// with the values of its inputs (hidden, text, email) — not of its buttons.
func parseForm(body, action string) (form, bool) {
	doc, err := html.Parse(strings.NewReader(body))
	if err != nil {
		return form{}, false
	}
	var found *html.Node
	var find func(*html.Node)
	find = func(n *html.Node) {
		if found != nil {
			return
		}
		if n.Type == html.ElementNode && n.Data == "form" && (action == "" || attr(n, "action") == action) {
			found = n
			return
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			find(c)
		}
	}
	find(doc)
	if found == nil {
		return form{}, false
	}
	f := form{action: attr(found, "action"), method: strings.ToLower(attr(found, "method")), values: url.Values{}}
	var walk func(*html.Node)
	walk = func(n *html.Node) {
		if n.Type == html.ElementNode && n.Data == "input" && attr(n, "name") != "" {
			switch strings.ToLower(attr(n, "type")) {
			case "submit", "button", "image", "reset":
			default:
				f.values.Add(attr(n, "name"), attr(n, "value"))
			}
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c)
		}
	}
	walk(found)
	return f, true
}

func attr(n *html.Node, key string) string {
	for _, a := range n.Attr {
		if a.Key == key {
			return a.Val
		}
	}
	return ""
}

// inputValue is the value attribute of the input named name on the page, and whether there is one.
func inputValue(body, name string) (string, bool) {
	doc, err := html.Parse(strings.NewReader(body))
	if err != nil {
		return "", false
	}
	var val string
	var ok bool
	var walk func(*html.Node)
	walk = func(n *html.Node) {
		if n.Type == html.ElementNode && n.Data == "input" && attr(n, "name") == name {
			val, ok = attr(n, "value"), true
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c)
		}
	}
	walk(doc)
	return val, ok
}

// callback is what a client's redirect URI received.
type callback struct {
	mode   string // "query", "fragment" or "form_post"
	params url.Values
	target string // where the browser was sent
}

// callbackTo returns what the redirect URI redirect received if p sends the browser there: a
// redirect (parameters in the query or the fragment) or a form_post page.
func callbackTo(p page, redirect string) (callback, bool) {
	if p.status >= 300 && p.status < 400 {
		loc, err := url.Parse(p.location())
		if err != nil {
			return callback{}, false
		}
		base := *loc
		base.RawQuery, base.Fragment, base.RawFragment = "", "", ""
		if base.String() != redirect {
			return callback{}, false
		}
		if loc.Fragment != "" {
			params, _ := url.ParseQuery(loc.Fragment)
			return callback{mode: "fragment", params: params, target: p.location()}, true
		}
		return callback{mode: "query", params: loc.Query(), target: p.location()}, true
	}
	if p.status == http.StatusOK {
		if f, ok := parseForm(p.body, redirect); ok && f.method == "post" {
			return callback{mode: "form_post", params: f.values, target: f.action}, true
		}
	}
	return callback{}, false
}

// mustCallback is callbackTo that fails the test when p does not go back to the client. It checks
// what every authorization response carries: iss (RFC 9207, advertised by
// authorization_response_iss_parameter_supported) and the request's state (RFC 6749 §4.1.2).
func (s *suite) mustCallback(t *testing.T, p page, req url.Values) callback {
	t.Helper()
	redirect := req.Get("redirect_uri")
	cb, ok := callbackTo(p, redirect)
	if !ok {
		t.Fatalf("the provider did not send the browser back to %s: %s", redirect, p)
	}
	if got := cb.params.Get("iss"); got != s.issuer {
		t.Errorf("authorization response iss = %q, want %q (RFC 9207 §2; discovery advertises authorization_response_iss_parameter_supported)", got, s.issuer)
	}
	if len(cb.params["iss"]) > 1 {
		t.Errorf("authorization response carries iss %d times", len(cb.params["iss"]))
	}
	if got := cb.params.Get("state"); got != req.Get("state") {
		t.Errorf("authorization response state = %q, want %q (RFC 6749 §4.1.2, §4.1.2.1)", got, req.Get("state"))
	}
	if e := cb.params.Get("error"); e != "" {
		if !contains(authzErrorCodes, e) {
			t.Errorf("authorization error %q is not an error code RFC 6749 §4.1.2.1, OIDC Core §3.1.2.6 or the IANA registry define", e)
		}
		if d := cb.params.Get("error_description"); strings.ContainsFunc(d, func(c rune) bool { return c < 0x20 || c > 0x7e || c == '"' || c == '\\' }) {
			t.Errorf("error_description %q has characters RFC 6749 §4.1.2.1 forbids", d)
		}
	}
	return cb
}

// authzErrorCodes are the authorization endpoint error codes of RFC 6749 §4.1.2.1, OIDC Core
// §3.1.2.6 and the IANA "OAuth Extensions Error" registry, plus unsupported_response_mode, which
// OAuth 2.0 Multiple Response Types leaves to implementations and fosite uses.
var authzErrorCodes = []string{
	"invalid_request", "unauthorized_client", "access_denied", "unsupported_response_type", "invalid_scope",
	"server_error", "temporarily_unavailable", "interaction_required", "login_required",
	"account_selection_required", "consent_required", "invalid_request_uri", "invalid_request_object",
	"request_not_supported", "request_uri_not_supported", "registration_not_supported", "invalid_target",
	"unsupported_response_mode",
}

// mustCode returns the code of a successful authorization response.
func (s *suite) mustCode(t *testing.T, p page, req url.Values) string {
	t.Helper()
	cb := s.mustCallback(t, p, req)
	if e := cb.params.Get("error"); e != "" {
		t.Fatalf("authorization failed: error=%s error_description=%q", e, cb.params.Get("error_description"))
	}
	code := cb.params.Get("code")
	if code == "" {
		t.Fatalf("authorization response without code: %v", cb.params)
	}
	return code
}

// mustAuthzError returns the error of an authorization error response sent back to the client.
func (s *suite) mustAuthzError(t *testing.T, p page, req url.Values) callback {
	t.Helper()
	cb := s.mustCallback(t, p, req)
	if cb.params.Get("code") != "" {
		t.Errorf("error response carries a code: %v", cb.params)
	}
	if cb.params.Get("error") == "" {
		t.Fatalf("want an error response, got %v", cb.params)
	}
	return cb
}

// mustErrorPage checks that p is the provider's own error page: a 4xx HTML page and no redirect
// anywhere (RFC 6749 §4.1.2.1: the user is not sent to an unverified redirect URI).
func mustErrorPage(t *testing.T, p page) {
	t.Helper()
	mt, _, _ := mime.ParseMediaType(p.header.Get("Content-Type"))
	if p.status < 400 || p.status >= 500 || p.location() != "" || mt != "text/html" {
		t.Fatalf("want the provider's own error page (4xx HTML, no redirect), got %s", p)
	}
	if strings.Contains(p.body, "<form") {
		t.Fatalf("the error page carries a form (a form_post to the client?): %s", p)
	}
}

// authParams is an authentication request as the plan's modules send it (OIDC Core §3.1.2.1): code
// flow, state and nonce, and no PKCE for a confidential client.
func authParams(c client, scope string) url.Values {
	return url.Values{
		"response_type": {"code"},
		"client_id":     {c.ID},
		"redirect_uri":  {c.Redirect},
		"scope":         {scope},
		"state":         {randomValue(24)},
		"nonce":         {randomValue(24)},
	}
}

// addPKCE adds an S256 code challenge (RFC 7636 §4.2) and returns the verifier.
func addPKCE(v url.Values) string {
	verifier := oauth2.GenerateVerifier()
	v.Set("code_challenge", s256(verifier))
	v.Set("code_challenge_method", "S256")
	return verifier
}

// loopbackWithPort is redirect with its port set: a native app's loopback redirect (RFC 8252 §7.3).
func loopbackWithPort(redirect string, port int) string {
	u, err := url.Parse(redirect)
	if err != nil {
		panic(err)
	}
	u.Host = net.JoinHostPort(u.Hostname(), strconv.Itoa(port))
	return u.String()
}

// randomPort is an ephemeral port number nobody listens on (the browser never dials redirect URIs).
func randomPort() int { return 49152 + mathrand.IntN(16000) }

func oauth2Verifier() string { return oauth2.GenerateVerifier() }

func b64(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }

func s256(verifier string) string {
	sum := sha256.Sum256([]byte(verifier))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

// tokenResponse is a raw token endpoint answer.
type tokenResponse struct {
	status int
	header http.Header
	body   map[string]any
	raw    string
}

func (r tokenResponse) get(k string) string { return str(r.body[k]) }

func (r tokenResponse) String() string {
	return fmt.Sprintf("status %d, Content-Type %q, body %s", r.status, r.header.Get("Content-Type"), r.raw)
}

// token posts form to the token endpoint with c's client authentication (RFC 6749 §2.3.1: Basic with
// form-encoded id and secret, or the body; a public client sends only client_id).
func (s *suite) token(t *testing.T, c client, form url.Values) tokenResponse {
	t.Helper()
	return s.postClient(t, s.tokenEndpoint(), c, form)
}

func (s *suite) postClient(t *testing.T, endpoint string, c client, form url.Values) tokenResponse {
	t.Helper()
	f := url.Values{}
	for k, v := range form {
		f[k] = v
	}
	basic := false
	switch {
	case c.Public:
		f.Set("client_id", c.ID)
	case c.Style == oauth2.AuthStyleInParams:
		f.Set("client_id", c.ID)
		f.Set("client_secret", c.Secret)
	default:
		basic = true
	}
	req, err := http.NewRequest(http.MethodPost, endpoint, strings.NewReader(f.Encode()))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if basic {
		req.SetBasicAuth(url.QueryEscape(c.ID), url.QueryEscape(c.Secret))
	}
	return s.doJSON(t, req)
}

func (s *suite) doJSON(t *testing.T, req *http.Request) tokenResponse {
	t.Helper()
	resp, err := s.http.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", req.Method, req.URL, err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	r := tokenResponse{status: resp.StatusCode, header: resp.Header, raw: string(raw)}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	_ = dec.Decode(&r.body)
	return r
}

// exchange redeems code at the token endpoint (RFC 6749 §4.1.3).
func (s *suite) exchange(t *testing.T, c client, code, redirect, verifier string) tokenResponse {
	t.Helper()
	form := url.Values{"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {redirect}}
	if verifier != "" {
		form.Set("code_verifier", verifier)
	}
	return s.token(t, c, form)
}

// mustTokens checks a successful token response as the plan does (RFC 6749 §5.1, OIDC Core §3.1.3.3).
func mustTokens(t *testing.T, r tokenResponse) {
	t.Helper()
	if r.status != http.StatusOK {
		t.Fatalf("token endpoint: want 200, got %s", r)
	}
	if mt, _, _ := mime.ParseMediaType(r.header.Get("Content-Type")); mt != "application/json" {
		t.Errorf("token response Content-Type = %q, want application/json (RFC 6749 §5.1)", r.header.Get("Content-Type"))
	}
	if !hasDirective(r.header.Get("Cache-Control"), "no-store") {
		t.Errorf("token response Cache-Control = %q, want no-store (RFC 6749 §5.1)", r.header.Get("Cache-Control"))
	}
	if p := r.header.Get("Pragma"); p != "no-cache" {
		t.Errorf("token response Pragma = %q, want no-cache (RFC 6749 §5.1)", p)
	}
	if r.get("access_token") == "" {
		t.Errorf("token response without access_token: %s", r.raw)
	}
	if !strings.EqualFold(r.get("token_type"), "Bearer") {
		t.Errorf("token_type = %q, want Bearer (OIDC Core §3.1.3.3)", r.get("token_type"))
	}
	if n, ok := r.body["expires_in"].(json.Number); ok {
		if v, err := n.Int64(); err != nil || v <= 0 {
			t.Errorf("expires_in = %v, want a positive integer (RFC 6749 §5.1)", n)
		}
	} else if r.body["expires_in"] != nil {
		t.Errorf("expires_in = %#v, want a number (RFC 6749 §5.1)", r.body["expires_in"])
	}
	for _, k := range []string{"access_token", "refresh_token"} {
		v := r.get(k)
		if strings.ContainsFunc(v, func(c rune) bool { return c < 0x20 || c > 0x7e }) {
			t.Errorf("%s contains characters outside VSCHAR (RFC 6749 Appendix A)", k)
		}
		// The plan's EnsureMinimumAccessTokenEntropy / EnsureMinimumRefreshTokenEntropy (RFC 6749 §10.10).
		if v != "" && shannonBits(v) < 128 {
			t.Errorf("%s carries about %.0f bits of entropy, want at least 128 (RFC 6749 §10.10)", k, shannonBits(v))
		}
	}
}

// shannonBits estimates the entropy of s as its length times the Shannon entropy of its characters.
func shannonBits(s string) float64 {
	counts := map[rune]float64{}
	for _, r := range s {
		counts[r]++
	}
	n := float64(len([]rune(s)))
	h := 0.0
	for _, c := range counts {
		p := c / n
		h -= p * math.Log2(p)
	}
	return h * n
}

// mustTokenError checks an error answer of the token endpoint (RFC 6749 §5.2).
func mustTokenError(t *testing.T, r tokenResponse, status int, code string) {
	t.Helper()
	if r.status != status || r.get("error") != code {
		t.Fatalf("want %d %s, got %s", status, code, r)
	}
	if mt, _, _ := mime.ParseMediaType(r.header.Get("Content-Type")); mt != "application/json" {
		t.Errorf("error Content-Type = %q, want application/json (RFC 6749 §5.2)", r.header.Get("Content-Type"))
	}
	if !hasDirective(r.header.Get("Cache-Control"), "no-store") {
		t.Errorf("error Cache-Control = %q, want no-store", r.header.Get("Cache-Control"))
	}
	if d := r.get("error_description"); strings.ContainsFunc(d, func(c rune) bool { return c < 0x20 || c > 0x7e || c == '"' || c == '\\' }) {
		t.Errorf("error_description %q has characters RFC 6749 §5.2 forbids", d)
	}
}

func hasDirective(header, directive string) bool {
	for _, d := range strings.Split(header, ",") {
		if strings.EqualFold(strings.TrimSpace(d), directive) {
			return true
		}
	}
	return false
}

// idToken is a verified ID token with its raw header and claims.
type idToken struct {
	raw    string
	header map[string]any
	claims map[string]any // numbers as json.Number
	tok    *oidc.IDToken
}

func (it idToken) num(name string) (int64, bool) {
	n, ok := it.claims[name].(json.Number)
	if !ok {
		return 0, false
	}
	v, err := n.Int64()
	return v, err == nil
}

// decodeJWT returns the header and payload of a compact JWS, without verifying it.
func decodeJWT(t *testing.T, raw string) (header, claims map[string]any) {
	t.Helper()
	parts := strings.Split(raw, ".")
	if len(parts) != 3 {
		t.Fatalf("ID token is not a compact JWS (%d parts)", len(parts))
	}
	for i, dst := range []*map[string]any{&header, &claims} {
		b, err := base64.RawURLEncoding.DecodeString(parts[i])
		if err != nil {
			t.Fatalf("ID token part %d: %v", i, err)
		}
		dec := json.NewDecoder(bytes.NewReader(b))
		dec.UseNumber()
		if err := dec.Decode(dst); err != nil {
			t.Fatalf("ID token part %d: %v", i, err)
		}
	}
	return header, claims
}

// checkIDToken verifies raw with go-oidc against the published keys and checks its claims as OIDC Core
// §2, §3.1.3.7 and the plan's ValidateIdToken do. nonce is the request's (empty: none was sent);
// accessToken, when given, is checked against at_hash.
func (s *suite) checkIDToken(t *testing.T, raw string, c client, nonce, accessToken string) idToken {
	t.Helper()
	if raw == "" {
		t.Fatal("no id_token in the token response (OIDC Core §3.1.3.3)")
	}
	it := idToken{raw: raw}
	it.header, it.claims = decodeJWT(t, raw)

	alg, kid := str(it.header["alg"]), str(it.header["kid"])
	if alg == "" || strings.EqualFold(alg, "none") {
		t.Fatalf("ID token alg = %q: unsigned (OIDC Core §2)", alg)
	}
	if !contains(strSlice(s.meta["id_token_signing_alg_values_supported"]), alg) {
		t.Errorf("ID token alg %s is not in id_token_signing_alg_values_supported", alg)
	}
	if alg != "RS256" {
		t.Errorf("ID token alg = %s, want RS256 for a client registered without id_token_signed_response_alg (OIDC Registration §2, OIDC Core §3.1.3.7)", alg)
	}
	if kid == "" {
		t.Errorf("ID token header has no kid although the JWKS holds %d keys (OIDC Core §10.1)", len(s.jwks))
	} else if k, ok := s.jwks[kid]; !ok {
		t.Errorf("ID token kid %q is not published in the JWKS", kid)
	} else if k.Alg != "" && k.Alg != alg {
		t.Errorf("ID token alg %s, but its key %s is published for %s", alg, kid, k.Alg)
	}

	ctx, cancel := context.WithTimeout(context.Background(), httpTimeout)
	defer cancel()
	ctx = oidc.ClientContext(ctx, s.http)
	tok, err := s.op.Verifier(&oidc.Config{ClientID: c.ID}).Verify(ctx, raw)
	if err != nil {
		t.Fatalf("go-oidc rejects the ID token: %v", err)
	}
	it.tok = tok

	now := time.Now()
	if got := str(it.claims["iss"]); got != s.issuer {
		t.Errorf("iss = %q, want exactly %q (OIDC Core §3.1.3.7 (2))", got, s.issuer)
	}
	sub := str(it.claims["sub"])
	if sub == "" || len(sub) > 255 || strings.ContainsFunc(sub, func(r rune) bool { return r < 0x20 || r > 0x7e }) {
		t.Errorf("sub = %q: want 1 to 255 ASCII characters (OIDC Core §2)", sub)
	}
	aud := audience(it.claims["aud"])
	if !contains(aud, c.ID) {
		t.Errorf("aud = %v, want it to contain %s (OIDC Core §3.1.3.7 (3))", aud, c.ID)
	}
	if azp, ok := it.claims["azp"]; (len(aud) > 1 || ok) && str(azp) != c.ID {
		t.Errorf("azp = %v, want %s (OIDC Core §2, §3.1.3.7 (4)-(5))", azp, c.ID)
	}
	for _, name := range []string{"exp", "iat"} {
		if _, ok := it.num(name); !ok {
			t.Errorf("%s = %#v: want an integer NumericDate (RFC 7519 §2)", name, it.claims[name])
		}
	}
	if exp, _ := it.num("exp"); exp <= now.Unix() {
		t.Errorf("exp %d is not in the future", exp)
	}
	if iat, _ := it.num("iat"); iat > now.Add(5*time.Minute).Unix() || iat < now.Add(-5*time.Minute).Unix() {
		t.Errorf("iat %d is more than 5 minutes away from now %d", iat, now.Unix())
	}
	if v, present := it.claims["auth_time"]; present {
		at, ok := it.num("auth_time")
		if !ok {
			t.Errorf("auth_time = %#v: want an integer (OIDC Core §2)", v)
		} else if at > now.Add(5*time.Minute).Unix() || at < now.Add(-365*24*time.Hour).Unix() {
			t.Errorf("auth_time %d is in the future or over a year old", at)
		}
	}
	if acr, present := it.claims["acr"]; present && str(acr) == "" {
		t.Errorf("acr is present but empty: %#v", acr)
	}
	switch got, present := it.claims["nonce"]; {
	case nonce != "" && str(got) != nonce:
		t.Errorf("nonce = %v, want %q (OIDC Core §3.1.3.7 (11))", got, nonce)
	case nonce == "" && present:
		t.Errorf("nonce %v in an ID token whose request sent none (OIDC Core §2: only when present in the request)", got)
	}
	if accessToken != "" {
		if str(it.claims["at_hash"]) == "" {
			t.Logf("no at_hash (OPTIONAL in the code flow, OIDC Core §3.1.3.6)")
		} else if err := tok.VerifyAccessToken(accessToken); err != nil {
			t.Errorf("at_hash does not match the access token: %v", err)
		}
	}
	return it
}

func audience(v any) []string {
	switch a := v.(type) {
	case string:
		return []string{a}
	case []any:
		return strSlice(a)
	}
	return nil
}

func strSlice(v any) []string {
	a, _ := v.([]any)
	out := make([]string, 0, len(a))
	for _, x := range a {
		if s, ok := x.(string); ok {
			out = append(out, s)
		}
	}
	return out
}

func contains(list []string, v string) bool {
	for _, x := range list {
		if x == v {
			return true
		}
	}
	return false
}

// userinfo calls the UserInfo endpoint with token, carried as where says: "get" (GET, Authorization
// header), "header" (POST, Authorization header), "body" (POST, form body, RFC 6750 §2.2) or "query"
// (GET, RFC 6750 §2.3).
func (s *suite) userinfo(t *testing.T, token, where string) tokenResponse {
	t.Helper()
	endpoint := str(s.meta["userinfo_endpoint"])
	var req *http.Request
	var err error
	switch where {
	case "get":
		req, err = http.NewRequest(http.MethodGet, endpoint, nil)
		req.Header.Set("Authorization", "Bearer "+token)
	case "header":
		req, err = http.NewRequest(http.MethodPost, endpoint, nil)
		req.Header.Set("Authorization", "Bearer "+token)
	case "body":
		req, err = http.NewRequest(http.MethodPost, endpoint, strings.NewReader(url.Values{"access_token": {token}}.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	case "query":
		req, err = http.NewRequest(http.MethodGet, endpoint+"?"+url.Values{"access_token": {token}}.Encode(), nil)
	default:
		t.Fatalf("userinfo: unknown way %q", where)
	}
	if err != nil {
		t.Fatal(err)
	}
	return s.doJSON(t, req)
}

// flow is the outcome of one successful authentication: the request, the callback, the token response
// and the checked ID token.
type flow struct {
	req      url.Values
	verifier string
	code     string
	tokens   tokenResponse
	id       idToken
}

func (f flow) access() string { return f.tokens.get("access_token") }

// login runs a whole authentication with browser b: request params (made by authParams), the pages,
// the callback, the code exchange, and the checks of the token response and the ID token.
func (s *suite) login(t *testing.T, b *browser, c client, params url.Values) flow {
	t.Helper()
	p := b.complete(b.authorize(params))
	return s.finish(t, c, params, p, "")
}

// finish takes the page that should be the callback of params, redeems its code and checks the tokens.
func (s *suite) finish(t *testing.T, c client, params url.Values, p page, verifier string) flow {
	t.Helper()
	f := flow{req: params, verifier: verifier}
	f.code = s.mustCode(t, p, params)
	f.tokens = s.exchange(t, c, f.code, params.Get("redirect_uri"), verifier)
	mustTokens(t, f.tokens)
	f.id = s.checkIDToken(t, f.tokens.get("id_token"), c, params.Get("nonce"), f.access())
	return f
}

// oauth2Config is the golang.org/x/oauth2 view of client c, its endpoints from go-oidc's discovery.
func (s *suite) oauth2Config(c client, scopes ...string) *oauth2.Config {
	ep := s.op.Endpoint()
	ep.AuthStyle = c.Style
	return &oauth2.Config{ClientID: c.ID, ClientSecret: c.Secret, Endpoint: ep, RedirectURL: c.Redirect, Scopes: scopes}
}

// rpContext is a bounded context whose HTTP client is the suite's (for x/oauth2 and go-oidc).
func (s *suite) rpContext(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), httpTimeout)
	t.Cleanup(cancel)
	return context.WithValue(ctx, oauth2.HTTPClient, s.http)
}

// sleepUntilNextSecond waits until just after the next wall-clock second starts: JWT times are whole
// seconds, so two events meant to have different auth_time must not share one.
func sleepUntilNextSecond() {
	now := time.Now()
	time.Sleep(now.Truncate(time.Second).Add(time.Second + 50*time.Millisecond).Sub(now))
}
