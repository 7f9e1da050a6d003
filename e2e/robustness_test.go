package e2e_test

import (
	"bufio"
	"context"
	"crypto/hkdf"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"mime"
	"net"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// TestRobustness is the robustness sweep of the public listener: every bad input gets a clear error —
// a 4xx with a message (a JSON body with an "error" member, or an HTML page with a heading), never a
// 5xx or a panic (the harness fails the run on any 5xx or panic in the server log) — response headers
// never carry what the request smuggled in (CR/LF), HTML never reflects input unescaped, JSON is valid
// JSON, and pages carry the security headers. Requests go over raw TCP, so malformed encodings, NUL
// bytes and invalid UTF-8 reach the server exactly as written. Afterwards the clients and users created
// at the start still work.
func TestRobustness(t *testing.T) {
	s := startSuite(t)
	r := newRobust(t, s)

	t.Run("HTTP", func(t *testing.T) {
		t.Run("wrong-methods", r.wrongMethods)
		t.Run("bodies", r.bodies)
		t.Run("parameters", r.parameters)
		t.Run("many-and-repeated-parameters", r.manyParameters)
		t.Run("authorization-headers", r.authorizationHeaders)
		t.Run("cookies", r.cookies)
		t.Run("flow-tokens", r.flowTokens)
		t.Run("csrf-tokens", r.csrfTokens)
		t.Run("login-form", r.loginForm)
		t.Run("id_token_hint", r.idTokenHint)
		t.Run("post_logout_redirect_uri", r.postLogoutRedirectURI)
		t.Run("redirect_uri", r.redirectURI)
		t.Run("client_id", r.clientID)
		t.Run("pkce", r.pkce)
		t.Run("code-and-refresh_token", r.codeAndRefreshToken)
		t.Run("reflection", r.reflection)
		t.Run("static-and-unknown-paths", r.staticAndUnknown)
	})
	t.Run("Concurrency/16-logins-one-user", r.concurrentLogins)
	t.Run("StoredDataIntact", r.storedDataIntact)
}

// Payloads.
const (
	xssScript = `<script>alert(1)</script>`
	xssAttr   = `"'><img src=x onerror=1>`
	xssSlash  = `'><img/src=x/onerror=1>`
	crlf      = "x\r\nX-Injected: 1"
	// robustPassword is the password of the users this test creates.
	robustPassword = "a long password for the robustness sweep"
)

// rawUnescaped are the payloads that must never appear as they are in an HTML body.
var rawUnescaped = []string{xssScript, `<img src=x onerror=1>`, `<img/src=x/onerror=1>`}

// robust is the sweep's state: the suite, a signed-in session of alice, and the stable view of the
// stored clients and users taken before the sweep.
type robust struct {
	s        *suite
	alice    *browser // signed in as alice, consented to the basic client's "openid"
	session  string   // alice's kangrow_session cookie value
	idToken  string   // an ID token the provider issued to the basic client for alice
	access   string   // an access token of that grant
	refresh  string   // a refresh token of another grant
	xss      client   // a client whose name and scopes are markup
	loginID  string   // the user of the concurrent logins
	before   string   // clients and users before the sweep (stable fields)
	secret   []byte   // the system secret, to forge signed-but-bad flow tokens
	loginFor string   // email of the concurrent-logins user
}

func newRobust(t *testing.T, s *suite) *robust {
	t.Helper()
	r := &robust{s: s, loginFor: "robust-logins@example.test"}
	r.secret = []byte(s.envValue("KANGROW_SECRET"))

	// A client whose display name and scopes are markup: the login and consent pages show them.
	r.xss = s.createClient(t, client{ID: "robust-xss", Redirect: s.basic.Redirect + "-xss", Style: s.basic.Style},
		"--name", xssScript+" "+xssAttr, "--scope", "openid "+xssScript+" "+xssSlash)
	out := s.cli(t, "users", "create", "--email", r.loginFor, "--password", robustPassword, "--verified")
	var u struct {
		ID string `json:"id"`
	}
	if err := json.Unmarshal(out, &u); err != nil || u.ID == "" {
		t.Fatalf("users create printed %q: %v", out, err)
	}
	r.loginID = u.ID

	r.alice = s.browser(t)
	f := s.login(t, r.alice, s.basic, authParams(s.basic, "openid"))
	r.idToken, r.access = f.tokens.get("id_token"), f.access()
	g := s.login(t, r.alice, s.basic, authParams(s.basic, defaultScope))
	r.refresh = g.tokens.get("refresh_token")
	for _, ck := range r.alice.c.Jar.Cookies(r.alice.op) {
		if ck.Name == "kangrow_session" {
			r.session = ck.Value
		}
	}
	if r.session == "" || r.idToken == "" || r.refresh == "" {
		t.Fatalf("setup: session %q, id_token %q, refresh_token %q", r.session, r.idToken, r.refresh)
	}
	r.before = r.storedState(t)
	return r
}

// envValue is the value of the provider's environment variable key.
func (s *suite) envValue(key string) string {
	for _, kv := range s.env {
		if v, ok := strings.CutPrefix(kv, key+"="); ok {
			return v
		}
	}
	return ""
}

// probe is one raw HTTP/1.1 request, written to the socket exactly as given.
type probe struct {
	name   string
	method string
	target string   // request-target, verbatim (path and query)
	header []string // header lines, verbatim
	body   string
	noLen  bool // send no Content-Length (a POST without a body)
	ok     bool // a 2xx is a correct answer too (the input is not an error for this endpoint)
	want4  bool // only a 4xx is correct (no redirect, no 2xx)
}

func (p probe) String() string {
	target := p.target
	if len(target) > 160 {
		target = target[:160] + fmt.Sprintf("…(%d bytes)", len(p.target))
	}
	extra := ""
	if len(p.header) > 0 {
		var hs []string
		for _, h := range p.header {
			if len(h) > 80 {
				h = h[:80] + fmt.Sprintf("…(%d bytes)", len(h))
			}
			hs = append(hs, h)
		}
		extra += fmt.Sprintf(" headers %q", hs)
	}
	if p.body != "" {
		b := p.body
		if len(b) > 80 {
			b = b[:80] + fmt.Sprintf("…(%d bytes)", len(p.body))
		}
		extra += fmt.Sprintf(" body %q", b)
	}
	return fmt.Sprintf("[%s] %s %s%s", p.name, p.method, target, extra)
}

// answer is what came back.
type answer struct {
	status int
	header http.Header
	body   string
}

func (a answer) String() string {
	b := a.body
	if len(b) > 400 {
		b = b[:400] + "…"
	}
	return fmt.Sprintf("%d (Content-Type %q, Location %q) %q", a.status, a.header.Get("Content-Type"), a.header.Get("Location"), b)
}

// send writes p on a fresh connection and reads the answer. The body is written concurrently: the
// server may answer (413) before it has read a large body.
func (s *suite) send(p probe) (answer, error) {
	addr := strings.TrimPrefix(s.issuer, "http://")
	conn, err := net.DialTimeout("tcp", addr, httpTimeout)
	if err != nil {
		return answer{}, err
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(httpTimeout))
	var head strings.Builder
	fmt.Fprintf(&head, "%s %s HTTP/1.1\r\nHost: %s\r\nConnection: close\r\nUser-Agent: kangrow-robustness\r\n", p.method, p.target, addr)
	for _, h := range p.header {
		head.WriteString(h + "\r\n")
	}
	if !p.noLen && (p.body != "" || p.method == http.MethodPost) {
		fmt.Fprintf(&head, "Content-Length: %d\r\n", len(p.body))
	}
	head.WriteString("\r\n")
	go func() { _, _ = io.WriteString(conn, head.String()+p.body) }()
	resp, err := http.ReadResponse(bufio.NewReader(conn), &http.Request{Method: p.method})
	if err != nil {
		return answer{}, err
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 2<<20))
	return answer{status: resp.StatusCode, header: resp.Header, body: string(body)}, nil
}

var h1RE = regexp.MustCompile(`(?s)<h1[^>]*>\s*([^<\s][^<]*)</h1>`)

// check holds a against the product rule for p, and returns whether it did.
func check(t *testing.T, p probe, a answer) bool {
	t.Helper()
	var problems []string
	fail := func(format string, args ...any) { problems = append(problems, fmt.Sprintf(format, args...)) }
	ours := a.header.Get("X-Request-Id") != "" // net/http itself answers some malformed requests
	mt, _, _ := mime.ParseMediaType(a.header.Get("Content-Type"))

	if a.status >= 500 {
		fail("status %d: a server error for a bad request", a.status)
	}
	for name, vs := range a.header {
		if strings.EqualFold(name, "X-Injected") {
			fail("response header %s: injected through CR/LF in the request", name)
		}
		for _, v := range vs {
			if strings.ContainsAny(v, "\r\n\x00") {
				fail("response header %s carries CR, LF or NUL: %q", name, v)
			}
		}
	}
	if loc := a.header.Get("Location"); loc != "" {
		if strings.ContainsAny(loc, " \t<>\"") {
			fail("Location %q carries characters a URL must not carry unescaped", excerpt(loc, 200))
		}
	}
	if ours {
		if v := a.header.Get("X-Content-Type-Options"); v != "nosniff" {
			fail("X-Content-Type-Options = %q, want nosniff", v)
		}
		if id := a.header.Get("X-Request-Id"); strings.ContainsFunc(id, func(r rune) bool {
			return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_' || r == '.')
		}) {
			fail("X-Request-Id %q echoes a request value that is not plain", id)
		}
	}
	switch {
	case mt == "application/json" || strings.HasSuffix(mt, "+json"):
		if !json.Valid([]byte(a.body)) {
			fail("Content-Type %s but the body is not valid JSON", mt)
		}
	case mt == "text/html":
		for _, raw := range rawUnescaped {
			if strings.Contains(a.body, raw) {
				fail("HTML body reflects %q unescaped", raw)
			}
		}
		if ours {
			h := a.header
			if !strings.Contains(h.Get("Content-Security-Policy"), "default-src 'none'") || h.Get("X-Frame-Options") != "DENY" ||
				h.Get("Referrer-Policy") != "no-referrer" {
				fail("page without the security headers (CSP %q, X-Frame-Options %q, Referrer-Policy %q)",
					h.Get("Content-Security-Policy"), h.Get("X-Frame-Options"), h.Get("Referrer-Policy"))
			}
		}
	}
	switch {
	case a.status >= 200 && a.status < 300:
		if !p.ok || p.want4 {
			fail("bad input answered %d, want a 4xx with a message", a.status)
		}
	case a.status >= 300 && a.status < 400:
		if p.want4 {
			fail("bad input answered with a redirect, want a 4xx with a message")
		}
		if a.header.Get("Location") == "" {
			fail("redirect without Location")
		}
	case a.status >= 400 && a.status < 500 && p.method != http.MethodHead:
		switch {
		case mt == "application/json":
			var body map[string]any
			if json.Unmarshal([]byte(a.body), &body) != nil || str(body["error"]) == "" {
				fail("JSON error without an \"error\" member")
			}
		case mt == "text/html":
			if m := h1RE.FindStringSubmatch(a.body); m == nil {
				fail("HTML error page without a heading")
			} else if !strings.Contains(a.body, "<p") {
				fail("HTML error page without a message")
			}
		case !ours && strings.TrimSpace(a.body) != "":
			// net/http's own answer to a request it could not read ("400 Bad Request", "431 …").
		default:
			fail("%d with no message (Content-Type %q, body %q)", a.status, a.header.Get("Content-Type"), excerpt(a.body, 80))
		}
	}
	if len(problems) > 0 {
		t.Errorf("%s\n  → %s\n  problems: %s", p, a, strings.Join(problems, "; "))
		return false
	}
	return checkDescriptions(t, p, a)
}

func excerpt(s string, n int) string {
	if len(s) > n {
		return s[:n] + "…"
	}
	return s
}

// run sends every probe (eight at a time) and checks each answer.
func (r *robust) run(t *testing.T, probes []probe) {
	t.Helper()
	var (
		wg       sync.WaitGroup
		mu       sync.Mutex
		statuses = map[int]int{}
	)
	work := make(chan probe)
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for p := range work {
				a, err := r.s.send(p)
				if err != nil {
					t.Errorf("%s: no answer: %v", p, err)
					continue
				}
				mu.Lock()
				statuses[a.status]++
				mu.Unlock()
				check(t, p, a)
			}
		}()
	}
	for _, p := range probes {
		work <- p
	}
	close(work)
	wg.Wait()
	t.Logf("%d requests, answered by status: %v", len(probes), statuses)
}

const formType = "Content-Type: application/x-www-form-urlencoded"

// endpoint is one route of the public listener and the methods it serves.
type endpoint struct {
	path    string
	methods []string
	pages   bool // a browser page behind CSRF protection
}

var endpoints = []endpoint{
	{path: "/.well-known/openid-configuration", methods: []string{"GET"}},
	{path: "/.well-known/oauth-authorization-server", methods: []string{"GET"}},
	{path: "/.well-known/jwks.json", methods: []string{"GET"}},
	{path: "/oauth2/authorize", methods: []string{"GET", "POST"}},
	{path: "/oauth2/authorize/resume", methods: []string{"GET"}},
	{path: "/oauth2/token", methods: []string{"POST"}},
	{path: "/oauth2/revoke", methods: []string{"POST"}},
	{path: "/oauth2/introspect", methods: []string{"POST"}},
	{path: "/userinfo", methods: []string{"GET", "POST"}},
	{path: "/oauth2/logout", methods: []string{"GET", "POST"}},
	{path: "/login", methods: []string{"GET", "POST"}, pages: true},
	{path: "/consent", methods: []string{"GET", "POST"}, pages: true},
	{path: "/logout", methods: []string{"GET", "POST"}, pages: true},
	{path: "/", methods: []string{"GET"}, pages: true},
	{path: "/static/style.css", methods: []string{"GET", "HEAD"}},
	{path: "/health/alive", methods: []string{"GET"}},
	{path: "/health/ready", methods: []string{"GET"}},
}

// wrongMethods: every endpoint with every method it does not serve gets 404 or 405 with a page.
func (r *robust) wrongMethods(t *testing.T) {
	t.Parallel()
	var probes []probe
	for _, e := range endpoints {
		for _, m := range []string{"GET", "POST", "PUT", "DELETE", "PATCH", "OPTIONS", "TRACE", "HEAD", "BREW"} {
			if slices.Contains(e.methods, m) {
				continue
			}
			p := probe{name: "method " + m, method: m, target: e.path, want4: true}
			if m == "PUT" || m == "PATCH" {
				p.header, p.body = []string{formType}, "a=1"
			}
			probes = append(probes, p)
		}
	}
	r.run(t, probes)
}

// body is a request body with its headers.
type body struct {
	name   string
	header []string
	body   string
	noLen  bool
}

func badBodies() []body {
	mb := strings.Repeat("a", 1<<20)
	chunked := fmt.Sprintf("%x\r\n%s\r\n0\r\n\r\n", len(mb)+2, "a="+mb)
	return []body{
		{name: "missing", noLen: true},
		{name: "empty form", header: []string{formType}},
		{name: "1MB form", header: []string{formType}, body: "a=" + mb},
		{name: "1MB without Content-Type", body: mb},
		{name: "1MB chunked", header: []string{formType, "Transfer-Encoding: chunked"}, body: chunked, noLen: true},
		{name: "JSON", header: []string{"Content-Type: application/json"},
			body: `{"grant_type":"client_credentials","token":"x","email":"a@example.test","password":"x","csrf_token":"x","flow":"x"}`},
		{name: "multipart", header: []string{"Content-Type: multipart/form-data; boundary=XyZ"},
			body: "--XyZ\r\nContent-Disposition: form-data; name=\"grant_type\"\r\n\r\nclient_credentials\r\n--XyZ--\r\n"},
		{name: "multipart without boundary", header: []string{"Content-Type: multipart/form-data"}, body: "garbage"},
		{name: "multipart 1MB file", header: []string{"Content-Type: multipart/form-data; boundary=XyZ"},
			body: "--XyZ\r\nContent-Disposition: form-data; name=\"f\"; filename=\"f\"\r\n\r\n" + mb + "\r\n--XyZ--\r\n"},
		{name: "truncated multipart", header: []string{"Content-Type: multipart/form-data; boundary=XyZ"}, body: "--XyZ\r\nContent-Disp"},
		{name: "text/plain", header: []string{"Content-Type: text/plain"}, body: "grant_type=client_credentials"},
		{name: "%zz", header: []string{formType}, body: "a=%zz&b=1"},
		{name: "lone %", header: []string{formType}, body: "%"},
		{name: "trailing %", header: []string{formType}, body: "a=%"},
		{name: "semicolon", header: []string{formType}, body: "a=1;b=2"},
		{name: "raw NUL bytes", header: []string{formType}, body: "a\x00=\x00&b=\x00"},
		{name: "raw invalid UTF-8", header: []string{formType}, body: "a=\xff\xfe&\xff=1"},
		{name: "odd charset", header: []string{"Content-Type: application/x-www-form-urlencoded; charset=ebcdic"}, body: "a=1"},
		{name: "garbage Content-Type", header: []string{"Content-Type: ;;;=="}, body: "a=1"},
	}
}

// bodies: every POST endpoint with missing, empty, huge and malformed bodies, unauthenticated and (for
// the client-authenticated endpoints) as the basic client.
func (r *robust) bodies(t *testing.T) {
	t.Parallel()
	basic := r.basicAuth(r.s.basic.ID, r.s.basic.Secret)
	var probes []probe
	for _, e := range endpoints {
		if !slices.Contains(e.methods, "POST") {
			continue
		}
		auths := [][]string{nil}
		switch e.path {
		case "/oauth2/token", "/oauth2/revoke", "/oauth2/introspect":
			auths = append(auths, []string{basic})
		}
		for _, auth := range auths {
			for _, b := range badBodies() {
				p := probe{name: "body " + b.name, method: "POST", target: e.path, header: append(slices.Clone(auth), b.header...), body: b.body, noLen: b.noLen}
				if auth != nil {
					p.name += " (authenticated)"
				}
				switch e.path {
				case "/oauth2/logout":
					p.ok = true // nothing to do is a valid logout: "You are signed out"
				case "/oauth2/revoke", "/oauth2/introspect":
					p.ok = auth != nil // RFC 7009 §2.2, RFC 7662 §2.2: an unknown token is answered 200
				}
				probes = append(probes, p)
			}
		}
	}
	// A body on a GET is ignored: the page or document as usual, or the endpoint's own error.
	for _, e := range endpoints {
		if slices.Contains(e.methods, "GET") {
			probes = append(probes, probe{name: "GET with 1MB body", method: "GET", target: e.path, header: []string{formType},
				body: "a=" + strings.Repeat("a", 1<<20), ok: true})
		}
	}
	r.run(t, probes)
}

func (r *robust) basicAuth(id, secret string) string {
	return "Authorization: Basic " + base64.StdEncoding.EncodeToString([]byte(url.QueryEscape(id)+":"+url.QueryEscape(secret)))
}

// value is one bad parameter value.
type value struct {
	name string
	v    string
}

// badValues are the values every parameter is tried with (percent-encoded on the wire).
func badValues() []value {
	return []value{
		{"empty", ""},
		{"NUL", "a\x00b"},
		{"invalid UTF-8", "\xff\xfe\xfd"},
		{"unicode", "ünï©ødé 💥 \u202e"},
		{"CRLF", crlf},
		{"script", xssScript},
		{"attribute", xssAttr},
		{"30KB", strings.Repeat("A", 30<<10)},
		{"100KB", strings.Repeat("A", 100<<10)},
		{"spaces", "  a  b  "},
	}
}

// rawValues are malformed encodings, written into the query or body as they are.
var rawValues = []value{{"%zz", "%zz"}, {"lone %", "%"}, {"%0", "%0"}, {"%00", "%00"}, {"+%2B", "+%2B"}}

// form builds a query string from base with name set to the bad value (escaped) or to a raw string.
func withParam(base url.Values, name, escaped string) string {
	v := url.Values{}
	for k, vs := range base {
		if k != name {
			v[k] = vs
		}
	}
	q := v.Encode()
	if q != "" {
		q += "&"
	}
	return q + url.QueryEscape(name) + "=" + escaped
}

// paramSet is an endpoint with a base request and the parameters to spoil one at a time.
type paramSet struct {
	label  string
	method string
	path   string
	header []string
	base   url.Values
	names  []string
	ok     bool
}

func (r *robust) paramSets() []paramSet {
	s, c := r.s, r.s.basic
	authz := url.Values{"client_id": {c.ID}, "redirect_uri": {c.Redirect}, "response_type": {"code"}, "scope": {"openid"},
		"state": {"robust-state"}, "nonce": {"robust-nonce"}}
	authzNames := []string{"client_id", "redirect_uri", "response_type", "scope", "state", "nonce", "prompt", "max_age",
		"login_hint", "id_token_hint", "code_challenge", "code_challenge_method", "response_mode", "request", "request_uri",
		"ui_locales", "acr_values", "claims", "display", "audience"}
	signedIn := "Cookie: kangrow_session=" + r.session
	basic := r.basicAuth(c.ID, c.Secret)
	logout := url.Values{"client_id": {c.ID}, "post_logout_redirect_uri": {c.PostLogout}, "state": {"robust"}}
	logoutNames := []string{"id_token_hint", "post_logout_redirect_uri", "state", "client_id", "ui_locales", "logout_hint"}
	return []paramSet{
		{label: "authorize GET", method: "GET", path: "/oauth2/authorize", base: authz, names: authzNames, ok: true},
		{label: "authorize POST", method: "POST", path: "/oauth2/authorize", header: []string{formType}, base: authz, names: authzNames, ok: true},
		{label: "authorize GET signed in", method: "GET", path: "/oauth2/authorize", header: []string{signedIn}, base: authz, names: authzNames, ok: true},
		{label: "resume", method: "GET", path: "/oauth2/authorize/resume", header: []string{signedIn}, base: url.Values{}, names: []string{"flow"}},
		{label: "token authorization_code", method: "POST", path: "/oauth2/token", header: []string{formType, basic},
			base:  url.Values{"grant_type": {"authorization_code"}, "code": {"robust.code"}, "redirect_uri": {c.Redirect}},
			names: []string{"grant_type", "code", "redirect_uri", "code_verifier", "client_id", "client_secret", "scope", "audience", "client_assertion", "client_assertion_type"}},
		{label: "token refresh_token", method: "POST", path: "/oauth2/token", header: []string{formType, basic},
			base: url.Values{"grant_type": {"refresh_token"}, "refresh_token": {"robust.refresh"}}, names: []string{"refresh_token", "scope"}},
		{label: "token client_credentials", method: "POST", path: "/oauth2/token", header: []string{formType, r.basicAuth(s.service.ID, s.service.Secret)},
			base: url.Values{"grant_type": {"client_credentials"}, "scope": {serviceScope}}, names: []string{"scope", "audience"}, ok: true},
		{label: "token client_secret_post", method: "POST", path: "/oauth2/token", header: []string{formType},
			base:  url.Values{"grant_type": {"authorization_code"}, "code": {"robust.code"}, "redirect_uri": {s.post.Redirect}, "client_id": {s.post.ID}, "client_secret": {s.post.Secret}},
			names: []string{"client_id", "client_secret"}},
		{label: "revoke", method: "POST", path: "/oauth2/revoke", header: []string{formType, basic},
			base: url.Values{"token": {"robust-token"}}, names: []string{"token", "token_type_hint", "client_id"}, ok: true},
		{label: "introspect", method: "POST", path: "/oauth2/introspect", header: []string{formType, basic},
			base: url.Values{"token": {"robust-token"}}, names: []string{"token", "token_type_hint", "scope"}, ok: true},
		{label: "userinfo GET", method: "GET", path: "/userinfo", base: url.Values{}, names: []string{"access_token", "schema"}},
		{label: "userinfo POST", method: "POST", path: "/userinfo", header: []string{formType}, base: url.Values{}, names: []string{"access_token"}},
		{label: "logout GET", method: "GET", path: "/oauth2/logout", base: logout, names: logoutNames, ok: true},
		{label: "logout POST", method: "POST", path: "/oauth2/logout", header: []string{formType}, base: logout, names: logoutNames, ok: true},
		{label: "logout GET signed in", method: "GET", path: "/oauth2/logout", header: []string{signedIn}, base: logout, names: logoutNames, ok: true},
		{label: "login page", method: "GET", path: "/login", base: url.Values{}, names: []string{"flow"}},
		{label: "consent page", method: "GET", path: "/consent", header: []string{signedIn}, base: url.Values{}, names: []string{"flow"}},
		{label: "login POST without CSRF", method: "POST", path: "/login", header: []string{formType},
			base: url.Values{"email": {aliceEmail}, "password": {"x"}}, names: []string{"email", "password", "flow", "csrf_token"}},
		{label: "consent POST without CSRF", method: "POST", path: "/consent", header: []string{formType, signedIn},
			base: url.Values{"action": {"approve"}}, names: []string{"flow", "action", "csrf_token"}},
		{label: "logout POST without CSRF", method: "POST", path: "/logout", header: []string{formType, signedIn},
			base: url.Values{}, names: []string{"logout", "csrf_token"}},
		{label: "home", method: "GET", path: "/", base: url.Values{}, names: []string{"q"}, ok: true},
		{label: "discovery", method: "GET", path: "/.well-known/openid-configuration", base: url.Values{}, names: []string{"q"}, ok: true},
		{label: "jwks", method: "GET", path: "/.well-known/jwks.json", base: url.Values{}, names: []string{"q"}, ok: true},
		{label: "health", method: "GET", path: "/health/ready", base: url.Values{}, names: []string{"q"}, ok: true},
	}
}

func (ps paramSet) probe(name, query string) probe {
	return ps.probeOK(name, query, ps.ok)
}

func (ps paramSet) probeOK(name, query string, ok bool) probe {
	p := probe{name: ps.label + ": " + name, method: ps.method, header: ps.header, ok: ok}
	if ps.method == "GET" {
		p.target = ps.path + "?" + query
	} else {
		p.target, p.body = ps.path, query
	}
	return p
}

// parameters: every parameter of every endpoint, one at a time, with each bad value and each
// malformed encoding; the other parameters of the request are valid.
func (r *robust) parameters(t *testing.T) {
	t.Parallel()
	var probes []probe
	for _, ps := range r.paramSets() {
		for _, name := range ps.names {
			for _, v := range badValues() {
				p := ps.probe(name+"="+v.name, withParam(ps.base, name, url.QueryEscape(v.v)))
				p.ok = p.ok || v.v == "" // an empty parameter is an absent one
				probes = append(probes, p)
			}
			for _, v := range rawValues {
				probes = append(probes, ps.probe(name+" raw "+v.name, withParam(ps.base, name, v.v)))
			}
			// Specific values: the ones each parameter's parser must turn down.
			for _, v := range specificValues[name] {
				probes = append(probes, ps.probe(name+"="+v, withParam(ps.base, name, url.QueryEscape(v))))
			}
		}
		// A malformed key and a bare key without "=": unknown parameters, ignored or refused.
		probes = append(probes, ps.probeOK("malformed key", ps.base.Encode()+"&%zz=1", true), ps.probeOK("bare key", ps.base.Encode()+"&novalue", true))
	}
	r.run(t, probes)
}

var specificValues = map[string][]string{
	"max_age":               {"-1", "abc", "1e10", "99999999999999999999999", "0x10", "1.5", " 1"},
	"prompt":                {"none login", "bogus", "none none", "login consent select_account none"},
	"response_type":         {"token", "id_token", "code id_token", "code code", "none"},
	"response_mode":         {"bogus", "form_post", "fragment", "query.jwt", "web_message"},
	"code_challenge_method": {"plain", "S512", "s256"},
	"code_challenge":        {"short", strings.Repeat("a", 129), strings.Repeat("!", 43)},
	"scope":                 {"openid openid", "profile", "openid admin", "offline_access"},
	"claims":                {`{"userinfo":{"email":null}}`, `{`, `[]`},
	"request":               {"a.b.c", "eyJhbGciOiJub25lIn0.e30."},
	"request_uri":           {"https://example.test/r", "urn:ietf:params:oauth:request_uri:x"},
	"grant_type":            {"password", "implicit", "urn:ietf:params:oauth:grant-type:device_code"},
	"token_type_hint":       {"access_token", "refresh_token", "id_token", "bogus"},
	"client_assertion_type": {"urn:ietf:params:oauth:client-assertion-type:jwt-bearer"},
	"client_assertion":      {"a.b.c", "eyJhbGciOiJub25lIn0.e30."},
	"action":                {"approve", "deny", "bogus"},
}

// manyParameters: 10 000 and 10 001 parameters (net/url's limit is 10 000), and repeated parameters.
func (r *robust) manyParameters(t *testing.T) {
	t.Parallel()
	many := func(n int) string {
		var b strings.Builder
		for i := range n {
			if i > 0 {
				b.WriteByte('&')
			}
			b.WriteString(strconv.FormatInt(int64(i), 36))
			b.WriteByte('=')
		}
		return b.String()
	}
	var probes []probe
	for _, ps := range r.paramSets() {
		for _, n := range []int{10000, 10001} {
			// Without the request's own parameters a page may simply be shown: any answer but a 5xx.
			probes = append(probes, ps.probeOK(fmt.Sprintf("%d parameters", n), many(n), true))
			probes = append(probes, ps.probeOK(fmt.Sprintf("%d parameters after the request", n), ps.base.Encode()+"&"+many(n), true))
		}
		probes = append(probes, ps.probeOK("one key 10000 times", strings.Repeat("a=1&", 9999)+"a=1", true))
		for _, name := range ps.names {
			q := ps.base.Encode() + "&" + url.QueryEscape(name) + "=second"
			if !ps.base.Has(name) {
				q += "&" + url.QueryEscape(name) + "=first"
			}
			probes = append(probes, ps.probe(name+" repeated", q))
		}
	}
	r.run(t, probes)
}

// authorizationHeaders: garbage credentials at every endpoint that reads the Authorization header.
func (r *robust) authorizationHeaders(t *testing.T) {
	t.Parallel()
	b64 := func(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }
	c := r.s.basic
	headers := []value{
		{"Basic !!!", "Basic !!!"},
		{"Basic without colon", "Basic " + b64("no-colon")},
		{"Basic empty", "Basic "},
		{"Basic only colon", "Basic " + b64(":")},
		{"Basic %zz", "Basic " + b64("%zz:%zz")},
		{"Basic NUL", "Basic " + b64("a\x00b:c\x00d")},
		{"Basic invalid UTF-8", "Basic " + b64("\xff\xfe:\xff")},
		{"Basic NUL escaped", "Basic " + b64("%00:%00")},
		{"Basic invalid UTF-8 escaped", "Basic " + b64("%ff:%fe")},
		{"Basic wrong secret", "Basic " + b64(url.QueryEscape(c.ID)+":wrong")},
		{"Basic unknown client", "Basic " + b64("nobody:nothing")},
		{"Basic markup", "Basic " + b64(url.QueryEscape(xssScript)+":"+url.QueryEscape(xssAttr))},
		{"Basic 10KB", "Basic " + b64(strings.Repeat("a", 10<<10)+":"+strings.Repeat("b", 10<<10))},
		{"basic lower case", "basic " + b64(url.QueryEscape(c.ID)+":"+url.QueryEscape(c.Secret)+"x")},
		{"Basic twice", "Basic Basic " + b64("a:b")},
		{"Bearer alone", "Bearer"},
		{"Bearer empty", "Bearer "},
		{"Bearer with spaces", "Bearer a b c"},
		{"Bearer garbage", "Bearer " + xssAttr},
		{"Bearer 40KB", "Bearer " + strings.Repeat("a", 40<<10)},
		{"Bearer 64KB", "Bearer " + strings.Repeat("a", 64<<10)},
		{"Bearer id_token", "Bearer " + r.idToken},
		{"Digest", `Digest username="a", realm="b"`},
		{"scheme only", "Basic"},
		{"unicode", "Bearer ünï💥"},
	}
	var probes []probe
	for _, ep := range []struct {
		method, path, body string
	}{
		{"POST", "/oauth2/token", "grant_type=client_credentials"},
		{"POST", "/oauth2/token", "grant_type=authorization_code&code=x&redirect_uri=" + url.QueryEscape(c.Redirect)},
		{"POST", "/oauth2/revoke", "token=robust-token"},
		{"POST", "/oauth2/introspect", "token=" + url.QueryEscape(r.access)},
		{"GET", "/userinfo", ""},
		{"POST", "/userinfo", ""},
	} {
		for _, h := range headers {
			p := probe{name: "Authorization " + h.name, method: ep.method, target: ep.path, header: []string{"Authorization: " + h.v}, body: ep.body, want4: true}
			if ep.body != "" {
				p.header = append(p.header, formType)
			}
			probes = append(probes, p)
		}
		// Two Authorization headers.
		probes = append(probes, probe{name: "two Authorization headers", method: ep.method, target: ep.path,
			header: []string{r.basicAuth(c.ID, c.Secret), "Authorization: Bearer x", formType}, body: ep.body, ok: ep.path == "/oauth2/revoke" || ep.path == "/oauth2/introspect"})
	}
	r.run(t, probes)
}

// cookies: garbage, oversized and duplicated kangrow_session and kangrow_csrf cookies on every page
// that reads them.
func (r *robust) cookies(t *testing.T) {
	t.Parallel()
	lookalike := base64.RawURLEncoding.EncodeToString([]byte(strings.Repeat("\x01", 32))) // well formed, unknown
	cookies := []value{
		{"garbage session", "kangrow_session=garbage"},
		{"unknown well-formed session", "kangrow_session=" + lookalike},
		{"4KB session", "kangrow_session=" + strings.Repeat("a", 4<<10)},
		{"4KB csrf", "kangrow_csrf=" + strings.Repeat("a", 4<<10)},
		{"quoted markup", `kangrow_session="` + xssScript + `"`},
		{"escaped NUL", "kangrow_session=%00" + lookalike[3:]},
		{"empty", "kangrow_session=; kangrow_csrf="},
		{"duplicated", "kangrow_session=" + lookalike + "; kangrow_session=" + r.session},
		{"100 cookies", strings.Repeat("c=1; ", 99) + "c=1"},
		{"60KB of cookies", strings.TrimSuffix(strings.Repeat("x="+strings.Repeat("y", 1000)+"; ", 60), "; ")},
		{"no name", "=value"},
		{"semicolons only", ";;;;"},
	}
	authz := authParams(r.s.basic, "openid")
	targets := []struct {
		method, target, body string
	}{
		{"GET", "/", ""},
		{"GET", "/login", ""},
		{"GET", "/consent", ""},
		{"GET", "/logout", ""},
		{"POST", "/logout", "csrf_token=x"},
		{"POST", "/login", "csrf_token=x&email=a%40example.test&password=x"},
		{"GET", "/oauth2/authorize?" + authz.Encode(), ""},
		{"GET", "/oauth2/logout", ""},
	}
	var probes []probe
	for _, tg := range targets {
		for _, ck := range cookies {
			p := probe{name: "cookie " + ck.name, method: tg.method, target: tg.target, header: []string{"Cookie: " + ck.v}, body: tg.body}
			if tg.body != "" {
				p.header = append(p.header, formType)
			}
			// Signed-out pages and the redirect to the login page are correct answers.
			p.ok = tg.target == "/" || tg.target == "/login" || tg.target == "/logout" && tg.method == "GET" || tg.target == "/oauth2/logout"
			probes = append(probes, p)
		}
	}
	r.run(t, probes)
}

// sign makes a token the way the web package signs flow tokens (base64url(JSON) "." base64url(HMAC)),
// with the key derived from the system secret under label: tokens that pass the signature check and
// still carry bad contents. If the derivation changes, these become plain forgeries, which must be
// refused all the same.
func (r *robust) sign(t *testing.T, label string, payload []byte) string {
	t.Helper()
	key, err := hkdf.Key(sha256.New, r.secret, nil, label, 32)
	if err != nil {
		t.Fatal(err)
	}
	body := base64.RawURLEncoding.EncodeToString(payload)
	m := hmac.New(sha256.New, key)
	m.Write([]byte(body))
	return body + "." + base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

// realFlow starts an authorization request in a fresh browser and returns the flow token of the login
// page it is sent to.
func (r *robust) realFlow(t *testing.T) string {
	t.Helper()
	b := r.s.browser(t)
	p := b.authorize(authParams(r.s.basic, "openid"))
	if !b.onLogin(p) {
		t.Fatalf("want the login page: %s", p)
	}
	tok := p.url.Query().Get("flow")
	if tok == "" {
		t.Fatalf("login page without a flow: %s", p.url)
	}
	return tok
}

// flowTokens: malformed, tampered, oversized, expired and validly signed but nonsensical flow tokens
// at every place that opens one.
func (r *robust) flowTokens(t *testing.T) {
	t.Parallel()
	const flowLabel = "kangrow-auth web flow v1"
	real := r.realFlow(t)
	body, sig, _ := strings.Cut(real, ".")
	flip := func(s string, i int) string {
		b := []byte(s)
		if b[i] == 'A' {
			b[i] = 'B'
		} else {
			b[i] = 'A'
		}
		return string(b)
	}
	c := r.s.basic
	params := authParams(c, "openid").Encode()
	now := time.Now()
	signed := func(v any) string {
		j, _ := json.Marshal(v)
		return r.sign(t, flowLabel, j)
	}
	type flow struct {
		P string `json:"p"`
		R int64  `json:"r"`
		E int64  `json:"e"`
		C string `json:"c,omitempty"`
		S string `json:"s,omitempty"`
		L string `json:"l,omitempty"`
	}
	live := now.Add(10 * time.Minute).Unix()
	tokens := []value{
		{"garbage", "garbage"},
		{"dot", "."},
		{"two dots", "a.b.c"},
		{"signature flipped", body + "." + flip(sig, 3)},
		{"payload flipped", flip(body, 5) + "." + sig},
		{"signature missing", body + "."},
		{"signature not base64", body + ".!!!"},
		{"33KB", strings.Repeat("A", 33<<10) + "." + sig},
		{"markup", xssScript},
		{"NUL", "a\x00." + sig},
		{"invalid UTF-8", "\xff\xfe." + sig},
		{"expired", signed(flow{P: params, R: now.Add(-time.Hour).UnixMilli(), E: now.Add(-time.Minute).Unix()})},
		{"signed non-JSON", r.sign(t, flowLabel, []byte("not json"))},
		{"signed JSON array", r.sign(t, flowLabel, []byte(`[1,2]`))},
		{"signed wrong types", r.sign(t, flowLabel, []byte(`{"p":1,"r":"x","e":"y"}`))},
		{"signed bad params", signed(flow{P: "%zz&client_id=" + c.ID, R: now.UnixMilli(), E: live})},
		{"signed no params", signed(flow{P: "", R: now.UnixMilli(), E: live})},
		{"signed unknown client", signed(flow{P: "client_id=nobody&response_type=code&scope=openid&redirect_uri=" + url.QueryEscape(c.Redirect), R: now.UnixMilli(), E: live})},
		{"signed NUL client", signed(flow{P: "client_id=%00&response_type=code&scope=openid", R: now.UnixMilli(), E: live})},
		{"signed requested in the future", signed(flow{P: params, R: now.Add(1000 * time.Hour).UnixMilli(), E: live})},
		{"signed requested at minus infinity", signed(flow{P: params, R: -1 << 62, E: live})},
		{"signed consent of another session", signed(flow{P: params, R: now.UnixMilli(), E: live, C: "approved", S: "not-a-session"})},
		{"signed consent garbage", signed(flow{P: params, R: now.UnixMilli(), E: live, C: xssScript, S: xssAttr})},
		{"signed login garbage", signed(flow{P: params, R: now.UnixMilli(), E: live, L: xssAttr})},
		{"logout token as flow", r.sign(t, "kangrow-auth web logout v1", []byte(`{"e":`+strconv.FormatInt(live, 10)+`}`))},
	}
	// Validly signed flows whose contents parse go on (a page or a redirect); everything else is refused.
	valid := func(name string) bool {
		switch name {
		case "signed non-JSON", "signed JSON array", "signed wrong types", "signed bad params":
			return false
		}
		return strings.HasPrefix(name, "signed ")
	}
	cookie := "Cookie: kangrow_session=" + r.session
	var probes []probe
	for _, tok := range tokens {
		q := "flow=" + url.QueryEscape(tok.v)
		signedOK := valid(tok.name)
		for _, pr := range []probe{
			{method: "GET", target: "/login?" + q},
			{method: "GET", target: "/consent?" + q, header: []string{cookie}},
			{method: "GET", target: "/oauth2/authorize/resume?" + q},
			{method: "GET", target: "/oauth2/authorize/resume?" + q, header: []string{cookie}},
		} {
			pr.name = "flow " + tok.name
			// A validly signed flow whose contents are odd but harmless goes on: a page or a redirect.
			pr.ok, pr.want4 = signedOK, !signedOK
			probes = append(probes, pr)
		}
	}
	r.run(t, probes)

	// The forms that carry a flow token: POST /login and POST /consent with a valid CSRF token.
	b := r.alice
	for _, tok := range tokens {
		signedOK := valid(tok.name)
		login := r.s.browser(t)
		lp := login.get(r.s.issuer + "/login")
		csrf, _ := inputValue(lp.body, "csrf_token")
		p := login.postForm(r.s.issuer+"/login", url.Values{"csrf_token": {csrf}, "flow": {tok.v}, "email": {"nobody@example.test"}, "password": {"x"}}, nil)
		checkPage(t, "POST /login flow "+tok.name, p, true)
		csrf2 := r.csrfFor(t, b)
		p = b.postForm(r.s.issuer+"/consent", url.Values{"csrf_token": {csrf2}, "flow": {tok.v}, "action": {"deny"}}, nil)
		checkPage(t, "POST /consent flow "+tok.name, p, !signedOK)
	}
}

// csrfFor returns a CSRF token for browser b's CSRF cookie, from the logout confirmation page (alice
// is signed in) or the login page.
func (r *robust) csrfFor(t *testing.T, b *browser) string {
	t.Helper()
	p := b.get(r.s.issuer + "/logout")
	if v, ok := inputValue(p.body, "csrf_token"); ok {
		return v
	}
	p = b.get(r.s.issuer + "/login")
	v, ok := inputValue(p.body, "csrf_token")
	if !ok {
		t.Fatalf("no CSRF token on %s", p)
	}
	return v
}

// checkPage applies check to a page the browser ended on (after redirects inside the provider).
// A redirect that left the provider (to a client) is fine unless want4.
func checkPage(t *testing.T, what string, p page, want4 bool) bool {
	t.Helper()
	return check(t, probe{name: what, method: p.method, target: p.url.RequestURI(), ok: !want4, want4: want4},
		answer{status: p.status, header: p.header, body: p.body})
}

// csrfTokens: the browser pages' forms with missing, garbage, foreign and oversized CSRF tokens.
func (r *robust) csrfTokens(t *testing.T) {
	t.Parallel()
	b := r.s.browser(t)
	lp := b.get(r.s.issuer + "/login")
	good, _ := inputValue(lp.body, "csrf_token")
	other := r.s.browser(t)
	op := other.get(r.s.issuer + "/login")
	foreign, _ := inputValue(op.body, "csrf_token")
	for _, v := range []value{
		{"missing", ""},
		{"garbage", "garbage"},
		{"other browser's", foreign},
		{"4KB", strings.Repeat("A", 4<<10)},
		{"NUL", good + "\x00"},
		{"invalid UTF-8", "\xff" + good},
		{"markup", xssAttr},
		{"truncated", good[:len(good)-1]},
		{"padded", good + "="},
	} {
		for _, path := range []string{"/login", "/consent", "/logout"} {
			f := url.Values{"email": {aliceEmail}, "password": {alicePassword}, "action": {"approve"}}
			if v.v != "" {
				f.Set("csrf_token", v.v)
			}
			p := b.postForm(r.s.issuer+path, f, nil)
			if checkPage(t, "POST "+path+" csrf_token "+v.name, p, true) && p.status != http.StatusForbidden {
				t.Errorf("POST %s with csrf_token %s: %d, want 403", path, v.name, p.status)
			}
		}
	}
	// A garbage CSRF cookie with the page's token.
	for _, ck := range []string{"garbage", strings.Repeat("a", 4<<10), xssScript} {
		p, err := r.s.send(probe{method: "POST", target: "/login", header: []string{formType, "Cookie: kangrow_csrf=" + ck},
			body: url.Values{"csrf_token": {good}, "email": {aliceEmail}, "password": {alicePassword}}.Encode()})
		if err != nil {
			t.Fatal(err)
		}
		if check(t, probe{name: "garbage csrf cookie", method: "POST", target: "/login", want4: true}, p) && p.status != http.StatusForbidden {
			t.Errorf("POST /login with CSRF cookie %q: %d, want 403", excerpt(ck, 20), p.status)
		}
	}
}

// loginForm: the login form with every bad email and password, through a browser with a valid CSRF
// token: a 4xx login page that shows a message, never a 5xx.
func (r *robust) loginForm(t *testing.T) {
	t.Parallel()
	var cases []struct{ name, email, password string }
	for _, v := range badValues() {
		if len(v.v) > 60<<10 {
			continue // over the body limit: the bodies group has it (413)
		}
		cases = append(cases,
			struct{ name, email, password string }{"password " + v.name, aliceEmail, v.v},
			struct{ name, email, password string }{"email " + v.name, v.v, "wrong password"})
	}
	cases = append(cases,
		struct{ name, email, password string }{"email with spaces", "  " + aliceEmail + "  ", "wrong password"},
		struct{ name, email, password string }{"email upper case, wrong password", strings.ToUpper(aliceEmail), "wrong password"},
		struct{ name, email, password string }{"password 1025 bytes", aliceEmail, strings.Repeat("p", 1025)},
		struct{ name, email, password string }{"password 60KB", aliceEmail, strings.Repeat("p", 60<<10)},
		struct{ name, email, password string }{"email 255 bytes", strings.Repeat("a", 243) + "@example.test", "x"},
		struct{ name, email, password string }{"email 254 bytes", strings.Repeat("a", 242) + "@example.test", "x"},
	)
	b := r.s.browser(t)
	for _, tc := range cases {
		p := b.get(r.s.issuer + "/login")
		csrf, _ := inputValue(p.body, "csrf_token")
		p = b.postForm(r.s.issuer+"/login", url.Values{"csrf_token": {csrf}, "email": {tc.email}, "password": {tc.password}}, nil)
		if checkPage(t, "login "+tc.name, p, true) && p.status != http.StatusBadRequest && p.status != http.StatusUnauthorized {
			t.Errorf("login %s: %d, want 400 or 401 with the login page: %s", tc.name, p.status, p)
		}
	}
}

// idTokenHint: garbage id_token_hint values at the authorization endpoint (signed in) and at
// RP-initiated logout (signed in and not).
func (r *robust) idTokenHint(t *testing.T) {
	t.Parallel()
	parts := strings.Split(r.idToken, ".")
	_, claims := decodeJWT(t, r.idToken)
	other := map[string]any{}
	for k, v := range claims {
		other[k] = v
	}
	other["sub"] = "00000000-0000-7000-8000-000000000000"
	enc := func(v any) string { j, _ := json.Marshal(v); return base64.RawURLEncoding.EncodeToString(j) }
	hints := []value{
		{"not a JWT", "not-a-jwt"},
		{"three dots", "a.b.c"},
		{"empty parts", ".."},
		{"alg none, alice", unsignedClaimsJWT(t, claims)},
		{"alg none, someone else", unsignedClaimsJWT(t, other)},
		{"payload swapped", parts[0] + "." + enc(other) + "." + parts[2]},
		{"signature stripped", parts[0] + "." + parts[1] + "."},
		{"signature of garbage", parts[0] + "." + parts[1] + ".AAAA"},
		{"30KB", strings.Repeat("A", 30<<10)},
		{"60KB", strings.Repeat("A", 60<<10)},
		{"header not JSON", base64.RawURLEncoding.EncodeToString([]byte("{{")) + "." + parts[1] + "." + parts[2]},
		{"kid markup", enc(map[string]any{"alg": "RS256", "kid": xssScript}) + "." + parts[1] + "." + parts[2]},
		{"alg HS256", enc(map[string]any{"alg": "HS256", "typ": "JWT"}) + "." + parts[1] + "." + parts[2]},
		{"payload array", parts[0] + "." + base64.RawURLEncoding.EncodeToString([]byte("[]")) + "." + parts[2]},
		{"payload null", parts[0] + "." + base64.RawURLEncoding.EncodeToString([]byte("null")) + "." + parts[2]},
		{"sub a number", parts[0] + "." + enc(map[string]any{"sub": 1, "iss": r.s.issuer}) + "." + parts[2]},
		{"NUL", "a\x00b.c.d"},
		{"five parts (JWE)", "a.b.c.d.e"},
	}
	c := r.s.basic
	var probes []probe
	for _, h := range hints {
		authz := authParams(c, "openid")
		authz.Set("id_token_hint", h.v)
		for _, cookie := range []string{"", "Cookie: kangrow_session=" + r.session} {
			hdr := []string{}
			if cookie != "" {
				hdr = append(hdr, cookie)
			}
			probes = append(probes,
				probe{name: "authorize id_token_hint " + h.name, method: "GET", target: "/oauth2/authorize?" + authz.Encode(), header: hdr, ok: true},
				probe{name: "logout id_token_hint " + h.name, method: "GET", target: "/oauth2/logout?" + url.Values{"id_token_hint": {h.v}}.Encode(), header: hdr, want4: true},
				probe{name: "logout id_token_hint with redirect " + h.name, method: "POST", target: "/oauth2/logout", header: append(slices.Clone(hdr), formType),
					body: url.Values{"id_token_hint": {h.v}, "post_logout_redirect_uri": {c.PostLogout}, "state": {"s"}}.Encode(), want4: true})
		}
	}
	r.run(t, probes)

	// An invalid hint must never get a code: the signed-in, consented browser tries each.
	for _, h := range hints {
		req := authParams(c, "openid")
		req.Set("id_token_hint", h.v)
		p := r.alice.authorize(req)
		if cb, ok := callbackTo(p, c.Redirect); ok && cb.params.Get("code") != "" {
			t.Errorf("id_token_hint %s: a code was issued for an id_token_hint the provider did not issue", h.name)
		}
	}
}

// postLogoutRedirectURI: unregistered, malformed and injected post_logout_redirect_uri values get our
// error page, never a redirect.
func (r *robust) postLogoutRedirectURI(t *testing.T) {
	t.Parallel()
	c := r.s.basic
	bad := []value{
		{"javascript", "javascript:alert(1)"},
		{"data", "data:text/html," + xssScript},
		{"unregistered", "https://evil.example/bye"},
		{"CRLF", c.PostLogout + crlf},
		{"escaped CRLF", c.PostLogout + "%0d%0aX-Injected:%201"},
		{"space", c.PostLogout + " x"},
		{"leading space", " " + c.PostLogout},
		{"NUL", c.PostLogout + "\x00"},
		{"invalid UTF-8", c.PostLogout + "\xff"},
		{"30KB", c.PostLogout + "?" + strings.Repeat("a", 30<<10)},
		{"upper case", strings.ToUpper(c.PostLogout)},
		{"trailing slash", c.PostLogout + "/"},
		{"markup", xssAttr},
		{"protocol relative", "//evil.example/bye"},
		{"backslashes", `\\evil.example\bye`},
	}
	var probes []probe
	for _, v := range bad {
		for _, q := range []url.Values{
			{"client_id": {c.ID}, "post_logout_redirect_uri": {v.v}, "state": {xssAttr}},
			{"id_token_hint": {r.idToken}, "post_logout_redirect_uri": {v.v}},
			{"post_logout_redirect_uri": {v.v}},
			{"client_id": {"nobody"}, "post_logout_redirect_uri": {v.v}},
		} {
			probes = append(probes,
				probe{name: "post_logout_redirect_uri " + v.name, method: "GET", target: "/oauth2/logout?" + q.Encode(), want4: true},
				probe{name: "post_logout_redirect_uri signed in " + v.name, method: "GET", target: "/oauth2/logout?" + q.Encode(),
					header: []string{"Cookie: kangrow_session=" + r.session}, want4: true})
		}
	}
	// A registered URI with a state that tries to inject a header: the state is encoded into the query.
	probes = append(probes, probe{name: "registered with CRLF state", method: "GET",
		target: "/oauth2/logout?" + url.Values{"client_id": {c.ID}, "post_logout_redirect_uri": {c.PostLogout}, "state": {crlf + xssScript}}.Encode(), ok: true})
	r.run(t, probes)
}

// redirectURI: malformed and injected redirect_uri values at the authorization endpoint get our error
// page, never a redirect.
func (r *robust) redirectURI(t *testing.T) {
	t.Parallel()
	c := r.s.basic
	bad := []value{
		{"space", c.Redirect + " x"},
		{"leading space", " " + c.Redirect},
		{"CRLF", c.Redirect + crlf},
		{"escaped CRLF", c.Redirect + "%0d%0aX-Injected:%201"},
		{"NUL", c.Redirect + "\x00"},
		{"invalid UTF-8", c.Redirect + "\xff"},
		{"javascript", "javascript:alert(1)"},
		{"data", "data:text/html," + xssScript},
		{"30KB", c.Redirect + "?" + strings.Repeat("a", 30<<10)},
		{"markup", xssAttr},
		{"relative", "/cb"},
		{"protocol relative", "//evil.example/cb"},
		{"not a URL", "::::"},
		{"%zz", c.Redirect + "%zz"},
	}
	var probes []probe
	for _, v := range bad {
		q := authParams(c, "openid")
		q.Set("redirect_uri", v.v)
		for _, hdr := range [][]string{nil, {"Cookie: kangrow_session=" + r.session}} {
			probes = append(probes,
				probe{name: "redirect_uri " + v.name, method: "GET", target: "/oauth2/authorize?" + q.Encode(), header: hdr, want4: true},
				probe{name: "redirect_uri POST " + v.name, method: "POST", target: "/oauth2/authorize", header: append(slices.Clone(hdr), formType), body: q.Encode(), want4: true})
		}
		// At the token endpoint: a JSON error.
		probes = append(probes, probe{name: "token redirect_uri " + v.name, method: "POST", target: "/oauth2/token",
			header: []string{formType, r.basicAuth(c.ID, c.Secret)},
			body:   url.Values{"grant_type": {"authorization_code"}, "code": {"x.y"}, "redirect_uri": {v.v}}.Encode(), want4: true})
	}
	r.run(t, probes)
}

// clientID: odd client_id values at the authorization endpoint (error page), the token endpoint
// (client_secret_post and Basic: 401 JSON) and logout (error page).
func (r *robust) clientID(t *testing.T) {
	t.Parallel()
	c := r.s.basic
	ids := []value{
		{"unicode", "ünï💥"},
		{"NUL", "a\x00b"},
		{"only NUL", "\x00"},
		{"invalid UTF-8", "\xff\xfe"},
		{"30KB", strings.Repeat("c", 30<<10)},
		{"markup", xssScript},
		{"attribute", xssAttr},
		{"CRLF", crlf},
		{"spaces", " " + c.ID + " "},
		{"upper case", strings.ToUpper(c.ID)},
		{"percent", "%"},
		{"SQL", "' OR '1'='1"},
		{"LIKE wildcard", "conformance%"},
	}
	var probes []probe
	for _, v := range ids {
		q := authParams(c, "openid")
		q.Set("client_id", v.v)
		probes = append(probes,
			probe{name: "authorize client_id " + v.name, method: "GET", target: "/oauth2/authorize?" + q.Encode(), want4: true},
			probe{name: "authorize signed in client_id " + v.name, method: "GET", target: "/oauth2/authorize?" + q.Encode(),
				header: []string{"Cookie: kangrow_session=" + r.session}, want4: true},
			probe{name: "token client_secret_post client_id " + v.name, method: "POST", target: "/oauth2/token", header: []string{formType},
				body: url.Values{"grant_type": {"client_credentials"}, "client_id": {v.v}, "client_secret": {r.s.post.Secret}}.Encode(), want4: true},
			probe{name: "token public client_id " + v.name, method: "POST", target: "/oauth2/token", header: []string{formType},
				body: url.Values{"grant_type": {"authorization_code"}, "code": {"x.y"}, "client_id": {v.v}, "code_verifier": {oauth2Verifier()}}.Encode(), want4: true},
			probe{name: "token Basic client_id " + v.name, method: "POST", target: "/oauth2/token", header: []string{formType, r.basicAuth(v.v, "secret")},
				body: "grant_type=client_credentials", want4: true},
			probe{name: "revoke Basic client_id " + v.name, method: "POST", target: "/oauth2/revoke", header: []string{formType, r.basicAuth(v.v, "secret")},
				body: "token=x", want4: true},
			probe{name: "introspect Basic client_id " + v.name, method: "POST", target: "/oauth2/introspect", header: []string{formType, r.basicAuth(v.v, "secret")},
				body: "token=x", want4: true},
			probe{name: "logout client_id " + v.name, method: "GET", target: "/oauth2/logout?" + url.Values{"client_id": {v.v}, "post_logout_redirect_uri": {c.PostLogout}}.Encode(), want4: true},
		)
	}
	r.run(t, probes)
}

// pkce: bad code_verifier values for a code issued with an S256 challenge, and bad challenges.
func (r *robust) pkce(t *testing.T) {
	t.Parallel()
	c := r.s.basic
	b := r.alice
	verifiers := []value{
		{"missing", ""},
		{"42 characters", strings.Repeat("a", 42)},
		{"129 characters", strings.Repeat("a", 129)},
		{"10KB", strings.Repeat("a", 10<<10)},
		{"invalid characters", strings.Repeat("!", 43)},
		{"spaces", strings.Repeat("a b ", 11)},
		{"NUL", strings.Repeat("a", 42) + "\x00"},
		{"invalid UTF-8", strings.Repeat("a", 41) + "\xff\xfe"},
		{"unicode", strings.Repeat("ü", 43)},
		{"markup", xssScript + strings.Repeat("a", 20)},
	}
	for _, v := range verifiers {
		req := authParams(c, "openid")
		addPKCE(req)
		code := r.s.mustCode(t, r.alice.authorize(req), req)
		form := url.Values{"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {c.Redirect}}
		if v.v != "" {
			form.Set("code_verifier", v.v)
		}
		resp := r.s.token(t, c, form)
		if resp.status != http.StatusBadRequest || (resp.get("error") != "invalid_grant" && resp.get("error") != "invalid_request") {
			t.Errorf("code_verifier %s: %s, want 400 invalid_grant or invalid_request (RFC 7636 §4.6)", v.name, resp)
		}
		if !json.Valid([]byte(resp.raw)) {
			t.Errorf("code_verifier %s: body is not JSON: %s", v.name, resp)
		}
	}
	// Bad challenges: refused back at the client, or (if accepted) no verifier but the right one works.
	for _, ch := range []value{
		{"short", "abc"},
		{"129 characters", strings.Repeat("a", 129)},
		{"10KB", strings.Repeat("a", 10<<10)},
		{"invalid characters", strings.Repeat("!", 43)},
		{"NUL", strings.Repeat("a", 42) + "\x00"},
		{"plain method", "plain:" + strings.Repeat("a", 43)},
		{"unknown method", "S512:" + strings.Repeat("a", 43)},
		{"method without challenge", "S256:"},
	} {
		req := authParams(c, "openid")
		challenge, method := ch.v, "S256"
		if m, v, ok := strings.Cut(ch.v, ":"); ok {
			method, challenge = m, v
		}
		if challenge != "" {
			req.Set("code_challenge", challenge)
		}
		req.Set("code_challenge_method", method)
		p := b.authorize(req)
		if !checkPage(t, "code_challenge "+ch.name, p, false) {
			continue
		}
		if cb, ok := callbackTo(p, c.Redirect); ok && cb.params.Get("code") != "" {
			resp := r.s.exchange(t, c, cb.params.Get("code"), c.Redirect, oauth2Verifier())
			if resp.status == http.StatusOK {
				t.Errorf("code_challenge %s: a random verifier redeemed the code", ch.name)
			}
		}
	}
}

// codeAndRefreshToken: garbage codes and refresh tokens at the token endpoint get 400 JSON errors.
func (r *robust) codeAndRefreshToken(t *testing.T) {
	t.Parallel()
	c := r.s.basic
	bad := []value{
		{"garbage", "garbage"},
		{"dot", "."},
		{"10KB", strings.Repeat("a", 10<<10)},
		{"10KB with dot", strings.Repeat("a", 5<<10) + "." + strings.Repeat("b", 5<<10)},
		{"NUL", "a\x00.b\x00"},
		{"invalid UTF-8", "\xff.\xfe"},
		{"markup", xssScript},
		{"access token", r.access},
		{"ID token", r.idToken},
		{"refresh token", r.refresh},
		{"CRLF", crlf},
	}
	for _, v := range bad {
		if v.name != "refresh token" {
			resp := r.s.token(t, c, url.Values{"grant_type": {"authorization_code"}, "code": {v.v}, "redirect_uri": {c.Redirect}})
			if resp.status != http.StatusBadRequest || resp.get("error") == "" || !json.Valid([]byte(resp.raw)) {
				t.Errorf("code %s: %s, want 400 with a JSON error", v.name, resp)
			}
		}
		if v.name != "refresh token" {
			resp := r.s.token(t, c, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {v.v}})
			if resp.status != http.StatusBadRequest || resp.get("error") == "" || !json.Valid([]byte(resp.raw)) {
				t.Errorf("refresh_token %s: %s, want 400 with a JSON error", v.name, resp)
			}
		}
	}
	// Another client's refresh token.
	resp := r.s.token(t, r.s.second, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {r.refresh}})
	if resp.status != http.StatusBadRequest || resp.get("error") == "" {
		t.Errorf("another client's refresh token: %s, want 400 with a JSON error", resp)
	}
}

// reflection: every field the pages show from the request or the store, filled with markup; the pages
// show it escaped (and the value survives the round trip), and error descriptions sent to clients stay
// within RFC 6749's character set.
func (r *robust) reflection(t *testing.T) {
	t.Parallel()
	s, c := r.s, r.s.basic
	for _, payload := range []string{xssScript, xssAttr} {
		// login_hint pre-fills the email field.
		b := s.browser(t)
		req := authParams(c, "openid")
		req.Set("login_hint", payload)
		p := b.authorize(req)
		if checkPage(t, "login_hint", p, false) {
			if v, _ := inputValue(p.body, "email"); v != payload {
				t.Errorf("login_hint %q shown as %q", payload, v)
			}
		}
		// The email typed into the login form is shown again with the error.
		csrf, _ := inputValue(p.body, "csrf_token")
		flowTok, _ := inputValue(p.body, "flow")
		p = b.postForm(s.issuer+"/login", url.Values{"csrf_token": {csrf}, "flow": {flowTok}, "email": {payload}, "password": {"wrong"}}, nil)
		if checkPage(t, "login email", p, true) {
			if v, _ := inputValue(p.body, "email"); v != payload {
				t.Errorf("email %q shown again as %q", payload, v)
			}
		}
		// state in a form_post response, with a code and with an error.
		for _, extra := range []url.Values{{}, {"prompt": {"bogus"}}} {
			req := authParams(c, "openid")
			req.Set("state", payload)
			req.Set("response_mode", "form_post")
			for k, v := range extra {
				req[k] = v
			}
			p := r.alice.authorize(req)
			if checkPage(t, "form_post state", p, false) {
				if cb, ok := callbackTo(p, c.Redirect); !ok || cb.params.Get("state") != payload {
					t.Errorf("form_post state %q: got %v (%s)", payload, cb.params, p)
				}
			}
		}
		// state and an error description in a query response.
		req = authParams(c, "openid")
		req.Set("state", payload)
		req.Set("prompt", payload)
		p = r.alice.authorize(req)
		if checkPage(t, "query error", p, false) {
			cb, ok := callbackTo(p, c.Redirect)
			if !ok || cb.params.Get("state") != payload || cb.params.Get("error") == "" {
				t.Errorf("prompt %q: want an error with the state back at the client, got %s", payload, p)
			}
		}
		// Our own error page for an unknown client named by markup.
		req = authParams(c, "openid")
		req.Set("client_id", payload)
		checkPage(t, "unknown client page", b.authorize(req), true)
		// X-Request-Id is replaced, not echoed.
		a, err := s.send(probe{method: "GET", target: "/health/alive", header: []string{"X-Request-Id: " + payload}})
		if err != nil {
			t.Fatal(err)
		}
		if id := a.header.Get("X-Request-Id"); id == payload || strings.ContainsAny(id, `<>"'`) {
			t.Errorf("X-Request-Id %q echoed as %q", payload, id)
		}
	}

	// A client whose name and scopes are markup: the login and consent pages escape them.
	b := s.browser(t)
	req := authParams(r.xss, "openid "+xssScript+" "+xssSlash)
	p := b.authorize(req)
	if checkPage(t, "login page for a client named by markup", p, false) && !strings.Contains(p.body, "&lt;script&gt;alert(1)&lt;/script&gt;") {
		t.Errorf("the login page does not show the client's name (escaped): %s", p)
	}
	p = b.signIn(p)
	if !b.onConsent(p) {
		t.Fatalf("want the consent page for %s, got %s", r.xss.ID, p)
	}
	if checkPage(t, "consent page for a client named by markup", p, false) && !strings.Contains(p.body, "&lt;img/src=x/onerror=1&gt;") {
		t.Errorf("the consent page does not show the scope (escaped): %s", p)
	}
	p = b.decide(p, "approve")
	if code := s.mustCode(t, p, req); code == "" {
		t.Errorf("no code for the client named by markup")
	}
}

// staticAndUnknown: paths outside the routes, traversal under /static, and odd paths.
func (r *robust) staticAndUnknown(t *testing.T) {
	t.Parallel()
	var probes []probe
	for _, target := range []string{
		"/nonexistent",
		"/oauth2/authorize/nonexistent",
		"/" + strings.Repeat("a", 30<<10),
		"/%00",
		"/%zz",
		"/%ff%fe",
		"/login/../oauth2/token",
		"//login",
		"/login%00",
		"/login/",
		"/LOGIN",
		"/" + url.PathEscape(xssScript),
		"/.well-known/",
		"/.well-known/openid-configuration/extra",
		"/static/style.css?" + strings.Repeat("a", 30<<10),
		// Raw bytes in the request-target, not percent-encoded.
		"/oauth2/authorize?client_id=\x00",
		"/oauth2/authorize?client_id=\xff\xfe",
		"/login?flow=\x7f",
		"/userinfo?\x1b[31m",
	} {
		// A redirect to the canonical path is fine; a page for a path that does not exist is not.
		probes = append(probes, probe{name: "path", method: "GET", target: target, ok: strings.HasPrefix(target, "/static/style.css")})
	}
	r.run(t, probes)
}

// concurrentLogins: 16 logins of one user at the same moment through the real login form; every one
// succeeds and logins_count grows by exactly 16.
func (r *robust) concurrentLogins(t *testing.T) {
	const n = 16
	before := r.loginsCount(t)
	type ready struct {
		b    *browser
		csrf string
	}
	browsers := make([]ready, n)
	for i := range browsers {
		b := r.s.browser(t)
		b.user = r.loginFor
		p := b.get(r.s.issuer + "/login")
		csrf, ok := inputValue(p.body, "csrf_token")
		if !ok {
			t.Fatalf("no CSRF token on the login page: %s", p)
		}
		browsers[i] = ready{b, csrf}
	}
	start := make(chan struct{})
	var wg sync.WaitGroup
	results := make([]page, n)
	for i, rb := range browsers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			req, _ := http.NewRequest(http.MethodPost, r.s.issuer+"/login",
				strings.NewReader(url.Values{"csrf_token": {rb.csrf}, "email": {r.loginFor}, "password": {robustPassword}}.Encode()))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			<-start
			resp, err := rb.b.c.Do(req)
			if err != nil {
				results[i] = page{status: -1, body: err.Error()}
				return
			}
			defer resp.Body.Close()
			body, _ := io.ReadAll(resp.Body)
			results[i] = page{method: "POST", url: resp.Request.URL, status: resp.StatusCode, header: resp.Header, body: string(body)}
		}()
	}
	close(start)
	wg.Wait()
	for i, p := range results {
		if p.status != http.StatusOK || !strings.Contains(p.body, r.loginFor) {
			t.Errorf("login %d: want the home page signed in as %s, got %d %s", i, r.loginFor, p.status, excerpt(p.body, 300))
		}
	}
	if after := r.loginsCount(t); after != before+n {
		t.Errorf("logins_count went from %d to %d after %d concurrent logins, want +%d", before, after, n, n)
	}
}

// loginsCount reads the concurrent-logins user's logins_count from the database.
func (r *robust) loginsCount(t *testing.T) int64 {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), dbSetupTimeout)
	defer cancel()
	conn, err := pgx.Connect(ctx, r.s.envValue("KANGROW_DATABASE_URL"))
	if err != nil {
		t.Fatalf("connect: %v", err)
	}
	defer conn.Close(ctx)
	var n int64
	if err := conn.QueryRow(ctx, "SELECT logins_count FROM users WHERE id = $1", r.loginID).Scan(&n); err != nil {
		t.Fatalf("logins_count: %v", err)
	}
	return n
}

// storedState is the stable part of every client and user, as the command line prints them.
func (r *robust) storedState(t *testing.T) string {
	t.Helper()
	var clients []map[string]any
	if err := json.Unmarshal(r.s.cli(t, "clients", "list"), &clients); err != nil {
		t.Fatalf("clients list: %v", err)
	}
	var users []map[string]any
	if err := json.Unmarshal(r.s.cli(t, "users", "list", "--limit", "1000"), &users); err != nil {
		t.Fatalf("users list: %v", err)
	}
	for _, u := range users {
		delete(u, "updated_at") // a login touches it
	}
	out, _ := json.MarshalIndent(map[string]any{"clients": clients, "users": users}, "", " ")
	return string(out)
}

// storedDataIntact: after the sweep every client and user is as it was, and each kind of client still
// completes its flow.
func (r *robust) storedDataIntact(t *testing.T) {
	s := r.s
	if after := r.storedState(t); after != r.before {
		t.Errorf("stored clients or users changed during the sweep:\nbefore %s\nafter  %s", r.before, after)
	}
	b := s.browser(t)
	f := s.login(t, b, s.basic, authParams(s.basic, defaultScope))
	if u := s.userinfo(t, f.access(), "get"); u.status != http.StatusOK || str(u.body["sub"]) != s.userID {
		t.Errorf("userinfo after the sweep: %s", u)
	}
	rt := s.token(t, s.basic, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {f.tokens.get("refresh_token")}})
	mustTokens(t, rt)
	s.login(t, b, s.post, authParams(s.post, "openid"))
	pc := s.public
	req := authParams(pc, "openid")
	req.Set("redirect_uri", loopbackWithPort(pc.Redirect, randomPort()))
	verifier := addPKCE(req)
	s.finish(t, pc, req, b.complete(b.authorize(req)), verifier)
	mustTokens(t, s.token(t, s.service, url.Values{"grant_type": {"client_credentials"}, "scope": {serviceScope}}))
	// alice signs in afresh with her password.
	fresh := s.browser(t)
	s.login(t, fresh, s.basic, authParams(s.basic, "openid"))
}

// TestRobustnessFindings keeps the cases of the sweep's findings H1–H6, each of which failed before its
// fix: userinfo and refresh tokens, the login form with emails that are not text, error_description
// characters, the 404 page under /static/, an undecodable flow on the login page, and authorization
// requests too large to carry through the login page.
func TestRobustnessFindings(t *testing.T) {
	s := startSuite(t)
	r := newRobust(t, s)

	// H1: RFC 6750 / OIDC Core §5.3: userinfo takes an access token. A refresh token is not one.
	t.Run("H1-userinfo-refuses-refresh-tokens", func(t *testing.T) {
		for _, m := range []string{"GET", "POST"} {
			r.run(t, []probe{{name: "Authorization Bearer refresh token", method: m, target: "/userinfo",
				header: []string{"Authorization: Bearer " + r.refresh}, want4: true}})
		}
		// In the form body too (RFC 6750 §2.2).
		r.run(t, []probe{{name: "access_token=refresh token", method: "POST", target: "/userinfo",
			header: []string{formType}, body: url.Values{"access_token": {r.refresh}}.Encode(), want4: true}})
	})

	// H2: the login form with an email holding NUL or invalid UTF-8 (was a 500: PostgreSQL 22021).
	t.Run("H2-login-email-NUL-and-invalid-UTF-8", func(t *testing.T) {
		b := s.browser(t)
		for _, email := range []string{"a\x00b", "\xff\xfe\xfd", aliceEmail + "\x00", "\xff" + aliceEmail} {
			p := b.get(s.issuer + "/login")
			csrf, _ := inputValue(p.body, "csrf_token")
			p = b.postForm(s.issuer+"/login", url.Values{"csrf_token": {csrf}, "email": {email}, "password": {"wrong password"}}, nil)
			if checkPage(t, fmt.Sprintf("login email %q", email), p, true) && p.status != http.StatusBadRequest && p.status != http.StatusUnauthorized {
				t.Errorf("login email %q: %d, want 400 or 401 with the login page", email, p.status)
			}
		}
	})

	// H3: RFC 6749 §4.1.2.1 and §5.2: error_description MUST NOT include characters outside
	// %x20-21 / %x23-5B / %x5D-7E; request values used to be echoed into it (CR, LF, NUL, invalid
	// UTF-8, non-ASCII, backslash).
	t.Run("H3-error_description-characters", func(t *testing.T) {
		var probes []probe
		for _, ps := range r.paramSets() {
			for _, name := range ps.names {
				for _, v := range badValues() {
					probes = append(probes, ps.probeOK(name+"="+v.name, withParam(ps.base, name, url.QueryEscape(v.v)), true))
				}
				for _, v := range rawValues {
					probes = append(probes, ps.probeOK(name+" raw "+v.name, withParam(ps.base, name, v.v), true))
				}
			}
		}
		for _, p := range probes {
			a, err := s.send(p)
			if err != nil {
				t.Errorf("%s: no answer: %v", p, err)
				continue
			}
			checkDescriptions(t, p, a)
		}
	})

	// H4: a missing static file gets a 404 page with a message, like every other unknown path.
	t.Run("H4-static-404-has-a-message", func(t *testing.T) {
		var probes []probe
		for _, target := range []string{
			"/static/nonexistent.css",
			"/static/",
			"/static/../../../../etc/passwd",
			"/static/%2e%2e/%2e%2e/etc/passwd",
			"/static/..%2f..%2fgo.mod",
			"/static/style.css%00",
			"/static/" + strings.Repeat("a", 30<<10),
		} {
			probes = append(probes, probe{name: "static", method: "GET", target: target, want4: true})
		}
		r.run(t, probes)
	})

	// H5: a flow parameter that cannot be decoded is a bad flow ("link invalid"), not a plain login
	// page that forgets the application.
	t.Run("H5-login-undecodable-flow", func(t *testing.T) {
		var probes []probe
		for _, v := range []string{"%zz", "%", "%0", "abc%zz"} {
			probes = append(probes, probe{name: "login flow " + v, method: "GET", target: "/login?flow=" + v, want4: true})
		}
		r.run(t, probes)
	})

	// H6: an authorization request too large to carry through the login page is refused at the
	// authorization endpoint; the browser used to be sent to a /login URL the provider then refused
	// ("link invalid or expired", or net/http's plain "431 Request Header Fields Too Large").
	t.Run("H6-oversized-authorization-request", func(t *testing.T) {
		for _, n := range []int{20 << 10, 25 << 10, 30 << 10, 40 << 10} {
			b := s.browser(t)
			req := authParams(s.basic, "openid")
			req.Set("state", strings.Repeat("s", n))
			p := b.authorize(req)
			_, toClient := callbackTo(p, s.basic.Redirect)
			flowTok, _ := inputValue(p.body, "flow")
			switch {
			case b.onLogin(p) && p.status == http.StatusOK && flowTok != "":
				// carried through: the login page works
			case p.url.Path == "/oauth2/authorize" && p.status >= 400 && p.status < 500:
				checkPage(t, fmt.Sprintf("state of %d bytes", n), p, true) // refused up front, on our page
			case toClient:
				// refused back at the client
			default:
				t.Errorf("state of %d bytes: the provider sent the browser to a page it cannot serve: %s", n, p)
			}
		}
	})
}

// checkDescriptions holds every error_description of a (Location query or fragment, form_post page,
// JSON body) to RFC 6749's characters, and returns whether they held; check calls it for every answer.
func checkDescriptions(t *testing.T, p probe, a answer) bool {
	t.Helper()
	var descs []string
	if loc := a.header.Get("Location"); loc != "" {
		if u, err := url.Parse(loc); err == nil {
			frag, _ := url.ParseQuery(u.Fragment)
			descs = append(descs, u.Query()["error_description"]...)
			descs = append(descs, frag["error_description"]...)
		}
	}
	if v, ok := inputValue(a.body, "error_description"); ok {
		descs = append(descs, v)
	}
	var body map[string]any
	if json.Unmarshal([]byte(a.body), &body) == nil {
		if d := str(body["error_description"]); d != "" {
			descs = append(descs, d)
		}
	}
	ok := true
	for _, d := range descs {
		if strings.ContainsFunc(d, func(c rune) bool { return c < 0x20 || c > 0x7e || c == '"' || c == '\\' }) {
			t.Errorf("%s\n  → %s\n  error_description %q has characters RFC 6749 §4.1.2.1/§5.2 forbid", p, a, excerpt(d, 200))
			ok = false
		}
	}
	return ok
}
