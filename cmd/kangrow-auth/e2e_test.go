package main

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"github.com/google/uuid"
	"golang.org/x/net/html"
	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"

	"github.com/kangrow/auth/migrations"
	"github.com/kangrow/auth/storage"
	"github.com/kangrow/auth/storage/password"
)

// The end-to-end tests run the whole provider (storage, keys, fosite, pages) on a real listener and
// drive it as a relying party does: golang.org/x/oauth2 for the protocol, go-oidc for discovery and ID
// token verification, and a cookie-keeping HTTP client that fills in the real HTML login and consent
// forms. Each runs on PostgreSQL and on the embedded SQLite store.

const (
	e2eSecret       = "e2e-system-secret-0123456789abcdef-0123"
	e2ePassword     = "correct horse battery staple"
	e2eRedirect     = "http://127.0.0.1:9/callback" // never dialled: the browser stops at the redirect
	e2ePostLogout   = "http://127.0.0.1:9/signed-out"
	e2eClientID     = "webapp"
	e2eServiceID    = "service"
	e2eState        = "state-0123456789"
	e2eNonce        = "nonce-0123456789"
	e2eScopeDefault = "openid profile email offline_access"
)

// testClock is the clock of storage, keys and pages: the wall clock plus an offset the test moves.
// fosite reads the wall clock itself, so only what we decide moves with it.
type testClock struct {
	mu     sync.Mutex
	offset time.Duration
}

func (c *testClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return time.Now().Add(c.offset)
}

func (c *testClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.offset += d
}

type e2eServer struct {
	t        *testing.T
	issuer   string
	inst     *instance
	clock    *testClock
	secret   string // the confidential client's secret
	userID   string
	provider *oidc.Provider
}

// newE2EServer migrates the database at dbURL, creates a confidential client, a client_credentials
// service and a user, and serves the provider on 127.0.0.1.
func newE2EServer(t *testing.T, dbURL string) *e2eServer {
	t.Helper()
	ctx := context.Background()
	db, err := storage.Open(ctx, dbURL)
	if err != nil {
		t.Fatalf("open database: %v", err)
	}
	t.Cleanup(func() { _ = storage.Close(db) })
	if err := migrations.Up(ctx, db); err != nil {
		t.Fatal(err)
	}

	srv := httptest.NewUnstartedServer(nil)
	issuer := "http://" + srv.Listener.Addr().String()
	clock := &testClock{}
	cfg := &Config{Issuer: issuer, Secret: e2eSecret}
	inst, err := newInstance(ctx, cfg, db, slog.New(slog.NewTextHandler(io.Discard, nil)), clock.Now)
	if err != nil {
		t.Fatalf("wire the provider: %v", err)
	}
	srv.Config.Handler = inst.handler
	srv.Start()
	t.Cleanup(srv.Close)

	s := &e2eServer{t: t, issuer: issuer, inst: inst, clock: clock}
	client, secret, err := clientInput{
		id: e2eClientID, name: "Web App", scope: e2eScopeDefault,
		redirectURIs: []string{e2eRedirect}, postLogoutURIs: []string{e2ePostLogout},
		grantTypes: []string{grantAuthorizationCode, grantRefreshToken},
	}.client()
	if err != nil {
		t.Fatal(err)
	}
	if err := inst.store.CreateClient(ctx, client); err != nil {
		t.Fatal(err)
	}
	s.secret = secret
	service, serviceSecret, err := clientInput{
		id: e2eServiceID, name: "Service", scope: "reports.read",
		grantTypes: []string{grantClientCredentials}, secret: strings.Repeat("s", 40),
	}.client()
	if err != nil || serviceSecret == "" {
		t.Fatalf("service client: %v", err)
	}
	if err := inst.store.CreateClient(ctx, service); err != nil {
		t.Fatal(err)
	}
	hash, err := password.Hash(e2ePassword)
	if err != nil {
		t.Fatal(err)
	}
	first, last := "Ada", "Lovelace"
	u := &storage.User{Email: "ada@example.test", HashedPassword: &hash, EmailVerified: true, FirstName: &first, LastName: &last}
	if err := inst.store.CreateUser(ctx, u); err != nil {
		t.Fatal(err)
	}
	s.userID = u.ID.String()

	s.provider, err = oidc.NewProvider(ctx, issuer)
	if err != nil {
		t.Fatalf("OIDC discovery: %v", err)
	}
	return s
}

func (s *e2eServer) oauth2Config() *oauth2.Config {
	return &oauth2.Config{
		ClientID:     e2eClientID,
		ClientSecret: s.secret,
		Endpoint:     s.provider.Endpoint(),
		RedirectURL:  e2eRedirect,
		Scopes:       strings.Fields(e2eScopeDefault),
	}
}

func (s *e2eServer) verifier() *oidc.IDTokenVerifier {
	return s.provider.Verifier(&oidc.Config{ClientID: e2eClientID})
}

// browser is a cookie-keeping HTTP client that stops at redirects leaving the provider at issuer.
type browser struct {
	t        *testing.T
	issuer   string // where the provider is reached
	iss      string // the iss it puts in responses; the issuer unless told otherwise
	redirect string // the client's redirect URI
	client   *http.Client
}

func (s *e2eServer) newBrowser() *browser { return newBrowser(s.t, s.issuer, e2eRedirect) }

func newBrowser(t *testing.T, issuer, redirect string) *browser {
	jar, _ := cookiejar.New(nil)
	b := &browser{t: t, issuer: issuer, iss: issuer, redirect: redirect}
	b.client = &http.Client{
		Jar:     jar,
		Timeout: 20 * time.Second,
		CheckRedirect: func(req *http.Request, _ []*http.Request) error {
			if !strings.HasPrefix(req.URL.String(), issuer) {
				return http.ErrUseLastResponse
			}
			return nil
		},
	}
	return b
}

// page is a fetched response: where it ended, its status and body.
type page struct {
	url      *url.URL
	status   int
	body     string
	location string
}

func (b *browser) do(req *http.Request) page {
	b.t.Helper()
	resp, err := b.client.Do(req)
	if err != nil {
		b.t.Fatalf("%s %s: %v", req.Method, req.URL, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return page{url: resp.Request.URL, status: resp.StatusCode, body: string(body), location: resp.Header.Get("Location")}
}

func (b *browser) get(u string) page {
	b.t.Helper()
	req, _ := http.NewRequest(http.MethodGet, u, nil)
	return b.do(req)
}

// submit fills the page's first POST form with fields (and the button's name=value, if any) and posts it.
func (b *browser) submit(p page, fields url.Values) page {
	b.t.Helper()
	action, values := parseForm(b.t, p)
	for k, v := range fields {
		values[k] = v
	}
	target, err := p.url.Parse(action)
	if err != nil {
		b.t.Fatalf("form action %q: %v", action, err)
	}
	req, _ := http.NewRequest(http.MethodPost, target.String(), strings.NewReader(values.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return b.do(req)
}

// parseForm returns the action and hidden inputs of the first POST form of p.
func parseForm(t *testing.T, p page) (string, url.Values) {
	t.Helper()
	doc, err := html.Parse(strings.NewReader(p.body))
	if err != nil {
		t.Fatalf("parse HTML of %s: %v", p.url, err)
	}
	var action string
	values := url.Values{}
	found := false
	var walk func(n *html.Node, inForm bool)
	walk = func(n *html.Node, inForm bool) {
		if n.Type == html.ElementNode && n.Data == "form" && !found && strings.EqualFold(attr(n, "method"), "post") {
			found, inForm, action = true, true, attr(n, "action")
		}
		if inForm && n.Type == html.ElementNode && n.Data == "input" && attr(n, "type") == "hidden" {
			values.Set(attr(n, "name"), attr(n, "value"))
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c, inForm)
		}
	}
	walk(doc, false)
	if !found {
		t.Fatalf("no POST form on %s (status %d):\n%s", p.url, p.status, p.body)
	}
	return action, values
}

func attr(n *html.Node, name string) string {
	for _, a := range n.Attr {
		if a.Key == name {
			return a.Val
		}
	}
	return ""
}

// pkcePair returns an RFC 7636 S256 verifier and challenge.
func pkcePair() (verifier, challenge string) {
	verifier = oauth2.GenerateVerifier()
	sum := sha256.Sum256([]byte(verifier))
	return verifier, base64.RawURLEncoding.EncodeToString(sum[:])
}

// callback is what the client's redirect URI received.
func (b *browser) callback(p page) url.Values {
	b.t.Helper()
	if p.status != http.StatusSeeOther && p.status != http.StatusFound {
		b.t.Fatalf("want a redirect to the client, got %d at %s:\n%s", p.status, p.url, p.body)
	}
	u, err := url.Parse(p.location)
	if err != nil || !strings.HasPrefix(p.location, b.redirect) {
		b.t.Fatalf("redirect to %q, want %s", p.location, b.redirect)
	}
	q := u.Query()
	if q.Get("iss") != b.iss {
		b.t.Errorf("iss = %q, want %q (RFC 9207)", q.Get("iss"), b.iss)
	}
	return q
}

// authorize starts an authorization request with extra parameters and returns the first response
// that leaves the provider or shows a page.
func (b *browser) authorize(conf *oauth2.Config, challenge string, extra ...oauth2.AuthCodeOption) page {
	opts := append([]oauth2.AuthCodeOption{
		oauth2.SetAuthURLParam("nonce", e2eNonce),
		oauth2.SetAuthURLParam("code_challenge", challenge),
		oauth2.SetAuthURLParam("code_challenge_method", "S256"),
	}, extra...)
	return b.get(conf.AuthCodeURL(e2eState, opts...))
}

// login fills the login page p with the test user's credentials.
func (b *browser) login(p page) page {
	b.t.Helper()
	return b.loginAs(p, "ada@example.test", e2ePassword)
}

func (b *browser) loginAs(p page, email, pw string) page {
	b.t.Helper()
	if !strings.Contains(p.url.Path, "/login") {
		b.t.Fatalf("want the login page, got %s (%d):\n%s", p.url, p.status, p.body)
	}
	return b.submit(p, url.Values{"email": {email}, "password": {pw}})
}

// approve approves the consent page p; a consent the user gave before skips the page.
func (b *browser) approve(p page) page {
	b.t.Helper()
	if p.status == http.StatusSeeOther && strings.HasPrefix(p.location, b.redirect) {
		return p
	}
	if !strings.Contains(p.url.Path, "/consent") {
		b.t.Fatalf("want the consent page naming the client, got %s (%d):\n%s", p.url, p.status, p.body)
	}
	return b.submit(p, url.Values{"action": {"approve"}})
}

// codeFlow runs authorize → login → consent → callback and returns the code and the PKCE verifier.
func (s *e2eServer) codeFlow(b *browser, conf *oauth2.Config) (code, verifier string) {
	s.t.Helper()
	verifier, challenge := pkcePair()
	q := b.callback(b.approve(b.login(b.authorize(conf, challenge))))
	if q.Get("state") != e2eState || q.Get("code") == "" {
		s.t.Fatalf("callback %v: want code and state", q)
	}
	return q.Get("code"), verifier
}

// exchange redeems code with PKCE and verifies the ID token.
func (s *e2eServer) exchange(ctx context.Context, conf *oauth2.Config, code, verifier string) (*oauth2.Token, *oidc.IDToken) {
	s.t.Helper()
	tok, err := conf.Exchange(ctx, code, oauth2.VerifierOption(verifier))
	if err != nil {
		s.t.Fatalf("exchange code: %v", err)
	}
	raw, _ := tok.Extra("id_token").(string)
	idt, err := s.verifier().Verify(ctx, raw)
	if err != nil {
		s.t.Fatalf("verify ID token: %v", err)
	}
	return tok, idt
}

// introspect asks the introspection endpoint about token as the confidential client.
func (s *e2eServer) introspect(token string) map[string]any {
	s.t.Helper()
	req, _ := http.NewRequest(http.MethodPost, s.issuer+"/oauth2/introspect", strings.NewReader(url.Values{"token": {token}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(e2eClientID, s.secret)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		s.t.Fatal(err)
	}
	defer resp.Body.Close()
	var out map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil || resp.StatusCode != http.StatusOK {
		s.t.Fatalf("introspect: status %d, %v %v", resp.StatusCode, err, out)
	}
	return out
}

// postForm posts form to path with the confidential client's HTTP Basic credentials.
func (s *e2eServer) postForm(path string, form url.Values) (int, map[string]any, http.Header) {
	s.t.Helper()
	req, _ := http.NewRequest(http.MethodPost, s.issuer+path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(e2eClientID, s.secret)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		s.t.Fatal(err)
	}
	defer resp.Body.Close()
	var out map[string]any
	body, _ := io.ReadAll(resp.Body)
	_ = json.Unmarshal(body, &out)
	return resp.StatusCode, out, resp.Header
}

// refresh redeems a refresh token the way x/oauth2 does when the access token has expired.
func refresh(ctx context.Context, conf *oauth2.Config, rt string) (*oauth2.Token, error) {
	return conf.TokenSource(ctx, &oauth2.Token{RefreshToken: rt, Expiry: time.Now().Add(-time.Hour)}).Token()
}

func wantOAuthError(t *testing.T, err error, code string) {
	t.Helper()
	var re *oauth2.RetrieveError
	if !errors.As(err, &re) {
		t.Fatalf("want OAuth error %s, got %v", code, err)
	}
	if re.ErrorCode != code {
		t.Fatalf("error = %q (%d), want %q: %s", re.ErrorCode, re.Response.StatusCode, code, re.Body)
	}
}

func eachE2E(t *testing.T, fn func(t *testing.T, s *e2eServer)) {
	t.Helper()
	for _, st := range stores {
		t.Run(st.name, func(t *testing.T) {
			t.Parallel()
			fn(t, newE2EServer(t, st.url(t)))
		})
	}
}

// TestE2ECodeFlow: code flow with PKCE and nonce through the real pages; the ID token verifies against
// the JWKS with go-oidc and carries the claims the scopes release; userinfo agrees.
func TestE2ECodeFlow(t *testing.T) {
	eachE2E(t, func(t *testing.T, s *e2eServer) {
		ctx := context.Background()
		conf := s.oauth2Config()
		b := s.newBrowser()
		code, verifier := s.codeFlow(b, conf)
		tok, idt := s.exchange(ctx, conf, code, verifier)

		if tok.TokenType != "bearer" && tok.TokenType != "Bearer" {
			t.Errorf("token_type = %q", tok.TokenType)
		}
		if tok.RefreshToken == "" {
			t.Error("no refresh token although offline_access was consented")
		}
		if idt.Subject != s.userID || idt.Issuer != s.issuer || idt.Nonce != e2eNonce {
			t.Errorf("ID token sub=%q iss=%q nonce=%q", idt.Subject, idt.Issuer, idt.Nonce)
		}
		if err := idt.VerifyAccessToken(tok.AccessToken); err != nil {
			t.Errorf("at_hash: %v", err)
		}
		var claims struct {
			AuthTime      int64    `json:"auth_time"`
			Azp           string   `json:"azp"`
			Sid           string   `json:"sid"`
			Amr           []string `json:"amr"`
			Email         string   `json:"email"`
			EmailVerified *bool    `json:"email_verified"`
			Name          string   `json:"name"`
			GivenName     string   `json:"given_name"`
			FamilyName    string   `json:"family_name"`
			UpdatedAt     int64    `json:"updated_at"`
		}
		if err := idt.Claims(&claims); err != nil {
			t.Fatal(err)
		}
		if claims.AuthTime == 0 || claims.Azp != e2eClientID || claims.Sid == "" || len(claims.Amr) == 0 {
			t.Errorf("auth_time/azp/sid/amr: %+v", claims)
		}
		if claims.Email != "ada@example.test" || claims.EmailVerified == nil || !*claims.EmailVerified {
			t.Errorf("email claims: %+v", claims)
		}
		if claims.Name != "Ada Lovelace" || claims.GivenName != "Ada" || claims.FamilyName != "Lovelace" || claims.UpdatedAt == 0 {
			t.Errorf("profile claims: %+v", claims)
		}

		info, err := s.provider.UserInfo(ctx, oauth2.StaticTokenSource(tok))
		if err != nil {
			t.Fatalf("userinfo: %v", err)
		}
		var ui map[string]any
		_ = info.Claims(&ui)
		if info.Subject != s.userID || info.Email != "ada@example.test" || ui["name"] != "Ada Lovelace" {
			t.Errorf("userinfo: %v", ui)
		}

		// A refresh token is no bearer credential, though fosite's introspection finds it.
		if _, err := s.provider.UserInfo(ctx, oauth2.StaticTokenSource(&oauth2.Token{AccessToken: tok.RefreshToken})); err == nil {
			t.Error("userinfo accepted a refresh token as an access token")
		}
		if s.introspect(tok.RefreshToken)["active"] != true {
			t.Error("the refresh token userinfo refused is not active: the check above proves nothing")
		}

		// userinfo by POST with the token in the body (RFC 6750 §2.2).
		req, _ := http.NewRequest(http.MethodPost, s.issuer+"/userinfo", strings.NewReader("access_token="+url.QueryEscape(tok.AccessToken)))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		resp, err := http.DefaultClient.Do(req)
		if err != nil || resp.StatusCode != http.StatusOK {
			t.Fatalf("userinfo by POST: %v %v", resp, err)
		}
		resp.Body.Close()

		// A second authorization needs no login and no consent: remembered, and signed in.
		q := b.callback(b.authorize(conf, "x"+strings.Repeat("y", 42)))
		if q.Get("code") == "" {
			t.Errorf("second authorization without pages: %v", q)
		}
	})
}

// TestE2ERefreshRotationAndReuse: every refresh rotates; the old refresh token coming back revokes the
// whole grant (RFC 9700 §4.14.2).
func TestE2ERefreshRotationAndReuse(t *testing.T) {
	eachE2E(t, func(t *testing.T, s *e2eServer) {
		ctx := context.Background()
		conf := s.oauth2Config()
		code, verifier := s.codeFlow(s.newBrowser(), conf)
		tok, _ := s.exchange(ctx, conf, code, verifier)

		refresh := func(rt string) (*oauth2.Token, error) { return refresh(ctx, conf, rt) }
		tok2, err := refresh(tok.RefreshToken)
		if err != nil {
			t.Fatalf("refresh: %v", err)
		}
		if tok2.RefreshToken == "" || tok2.RefreshToken == tok.RefreshToken || tok2.AccessToken == tok.AccessToken {
			t.Fatal("refresh did not rotate the tokens")
		}
		if raw, _ := tok2.Extra("id_token").(string); raw == "" {
			t.Error("no ID token on refresh with openid")
		} else if _, err := s.verifier().Verify(ctx, raw); err != nil {
			t.Errorf("refreshed ID token: %v", err)
		}
		if s.introspect(tok.AccessToken)["active"] != false {
			t.Error("the access token before the refresh is still active")
		}
		if s.introspect(tok2.AccessToken)["active"] != true {
			t.Fatal("the new access token is not active")
		}

		// The rotated token comes back: invalid_grant, and the whole grant is gone.
		_, err = refresh(tok.RefreshToken)
		wantOAuthError(t, err, "invalid_grant")
		if s.introspect(tok2.AccessToken)["active"] != false {
			t.Error("reuse of a rotated refresh token left the grant's access token active")
		}
		_, err = refresh(tok2.RefreshToken)
		wantOAuthError(t, err, "invalid_grant")
	})
}

// TestE2ECodeReuse: a code is good once; its second use is refused and revokes what the first issued
// (RFC 6749 §4.1.2).
func TestE2ECodeReuse(t *testing.T) {
	eachE2E(t, func(t *testing.T, s *e2eServer) {
		ctx := context.Background()
		conf := s.oauth2Config()
		code, verifier := s.codeFlow(s.newBrowser(), conf)
		tok, _ := s.exchange(ctx, conf, code, verifier)
		_, err := conf.Exchange(ctx, code, oauth2.VerifierOption(verifier))
		wantOAuthError(t, err, "invalid_grant")
		if s.introspect(tok.AccessToken)["active"] != false {
			t.Error("code reuse left the first access token active")
		}
		_, err = refresh(ctx, conf, tok.RefreshToken)
		wantOAuthError(t, err, "invalid_grant")

		// A wrong PKCE verifier is refused too.
		code2, _ := s.codeFlow(s.newBrowser(), conf)
		_, err = conf.Exchange(ctx, code2, oauth2.VerifierOption(oauth2.GenerateVerifier()))
		wantOAuthError(t, err, "invalid_grant")
	})
}

// TestE2ERevokeAndIntrospect: RFC 7662 introspection of live tokens and RFC 7009 revocation.
func TestE2ERevokeAndIntrospect(t *testing.T) {
	eachE2E(t, func(t *testing.T, s *e2eServer) {
		ctx := context.Background()
		conf := s.oauth2Config()
		code, verifier := s.codeFlow(s.newBrowser(), conf)
		tok, _ := s.exchange(ctx, conf, code, verifier)

		in := s.introspect(tok.AccessToken)
		if in["active"] != true || in["client_id"] != e2eClientID || in["sub"] != s.userID {
			t.Fatalf("introspect live token: %v", in)
		}
		if scope, _ := in["scope"].(string); !strings.Contains(scope, "openid") {
			t.Errorf("introspect scope = %q", scope)
		}
		if exp, _ := in["exp"].(float64); exp <= float64(time.Now().Unix()) {
			t.Errorf("introspect exp = %v", in["exp"])
		}

		status, _, _ := s.postForm("/oauth2/revoke", url.Values{"token": {tok.AccessToken}})
		if status != http.StatusOK {
			t.Fatalf("revoke access token: %d", status)
		}
		if s.introspect(tok.AccessToken)["active"] != false {
			t.Error("revoked access token is active")
		}
		if _, err := s.provider.UserInfo(ctx, oauth2.StaticTokenSource(tok)); err == nil {
			t.Error("userinfo accepted a revoked token")
		}

		status, _, _ = s.postForm("/oauth2/revoke", url.Values{"token": {tok.RefreshToken}, "token_type_hint": {"refresh_token"}})
		if status != http.StatusOK {
			t.Fatalf("revoke refresh token: %d", status)
		}
		_, err := refresh(ctx, conf, tok.RefreshToken)
		wantOAuthError(t, err, "invalid_grant")

		// Unknown tokens: revocation answers 200 (RFC 7009 §2.2), introspection inactive.
		if status, _, _ := s.postForm("/oauth2/revoke", url.Values{"token": {"nonsense"}}); status != http.StatusOK {
			t.Errorf("revoke unknown token: %d", status)
		}
		if s.introspect("nonsense")["active"] != false {
			t.Error("unknown token is active")
		}

		// Wrong client credentials: 401 invalid_client with a Basic challenge.
		bad := *conf
		bad.ClientSecret = "wrong"
		_, err = bad.Exchange(ctx, "whatever", oauth2.VerifierOption(verifier))
		wantOAuthError(t, err, "invalid_client")
		var re *oauth2.RetrieveError
		if errors.As(err, &re) && (re.Response.StatusCode != http.StatusUnauthorized || re.Response.Header.Get("Cache-Control") != "no-store") {
			t.Errorf("invalid_client: status %d, Cache-Control %q", re.Response.StatusCode, re.Response.Header.Get("Cache-Control"))
		}
	})
}

// TestE2EClientCredentials: a service gets an access token without a user; no refresh token, no ID token.
func TestE2EClientCredentials(t *testing.T) {
	eachE2E(t, func(t *testing.T, s *e2eServer) {
		ctx := context.Background()
		cc := clientcredentials.Config{
			ClientID: e2eServiceID, ClientSecret: strings.Repeat("s", 40),
			TokenURL: s.provider.Endpoint().TokenURL, Scopes: []string{"reports.read"},
		}
		tok, err := cc.Token(ctx)
		if err != nil {
			t.Fatalf("client_credentials: %v", err)
		}
		if tok.RefreshToken != "" || tok.Extra("id_token") != nil {
			t.Errorf("client_credentials issued a refresh or ID token")
		}
		in := s.introspect(tok.AccessToken)
		if in["active"] != true || in["client_id"] != e2eServiceID || in["scope"] != "reports.read" {
			t.Errorf("introspect: %v", in)
		}
		// A scope the client was not registered for is refused.
		cc.Scopes = []string{"admin"}
		_, err = cc.Token(ctx)
		wantOAuthError(t, err, "invalid_scope")
	})
}

// TestE2EPromptAndMaxAge: prompt=none answers without pages, login_required when signed out; max_age=0
// and prompt=login force a new login.
func TestE2EPromptAndMaxAge(t *testing.T) {
	eachE2E(t, func(t *testing.T, s *e2eServer) {
		ctx := context.Background()
		conf := s.oauth2Config()
		_, challenge := pkcePair()

		q := s.newBrowser().callback(s.newBrowser().authorize(conf, challenge, oauth2.SetAuthURLParam("prompt", "none")))
		if q.Get("error") != "login_required" || q.Get("state") != e2eState {
			t.Fatalf("prompt=none signed out: %v", q)
		}

		b := s.newBrowser()
		code, verifier := s.codeFlow(b, conf)
		s.exchange(ctx, conf, code, verifier)

		verifier, challenge = pkcePair()
		q = b.callback(b.authorize(conf, challenge, oauth2.SetAuthURLParam("prompt", "none")))
		if q.Get("code") == "" {
			t.Fatalf("prompt=none signed in: %v", q)
		}
		_, idt := s.exchange(ctx, conf, q.Get("code"), verifier)
		firstAuth := idt.IssuedAt

		for _, extra := range []oauth2.AuthCodeOption{oauth2.SetAuthURLParam("max_age", "0"), oauth2.SetAuthURLParam("prompt", "login")} {
			s.clock.Advance(2 * time.Second)
			verifier, challenge = pkcePair()
			p := b.authorize(conf, challenge, extra)
			q = b.callback(b.login(p))
			_, idt = s.exchange(ctx, conf, q.Get("code"), verifier)
			var c struct {
				AuthTime int64 `json:"auth_time"`
			}
			_ = idt.Claims(&c)
			if c.AuthTime < firstAuth.Unix() {
				t.Errorf("auth_time %d after a forced login is older than %d", c.AuthTime, firstAuth.Unix())
			}
		}
	})
}

// TestE2ELogout: RP-initiated logout with id_token_hint, a registered post_logout_redirect_uri and
// state ends the login session.
func TestE2ELogout(t *testing.T) {
	eachE2E(t, func(t *testing.T, s *e2eServer) {
		ctx := context.Background()
		conf := s.oauth2Config()
		b := s.newBrowser()
		code, verifier := s.codeFlow(b, conf)
		tok, _ := s.exchange(ctx, conf, code, verifier)
		raw, _ := tok.Extra("id_token").(string)

		var meta struct {
			EndSession string `json:"end_session_endpoint"`
		}
		if err := s.provider.Claims(&meta); err != nil || meta.EndSession == "" {
			t.Fatalf("discovery end_session_endpoint: %v", err)
		}
		p := b.get(meta.EndSession + "?" + url.Values{
			"id_token_hint": {raw}, "post_logout_redirect_uri": {e2ePostLogout}, "state": {"bye"},
		}.Encode())
		if !strings.HasPrefix(p.location, e2ePostLogout) || !strings.Contains(p.location, "state=bye") {
			t.Fatalf("logout redirect %d %q:\n%s", p.status, p.location, p.body)
		}
		_, challenge := pkcePair()
		q := b.callback(b.authorize(conf, challenge, oauth2.SetAuthURLParam("prompt", "none")))
		if q.Get("error") != "login_required" {
			t.Errorf("after logout prompt=none gave %v", q)
		}

		// An unregistered post_logout_redirect_uri is never followed.
		p = s.newBrowser().get(meta.EndSession + "?" + url.Values{
			"id_token_hint": {raw}, "post_logout_redirect_uri": {"https://evil.example/"},
		}.Encode())
		if p.status != http.StatusBadRequest || p.location != "" {
			t.Errorf("unregistered post_logout_redirect_uri: %d %q", p.status, p.location)
		}
	})
}

// TestE2EKeyRotation: after a rotation the next key is published at once and signs from its active
// time; ID tokens signed before still verify against the JWKS.
func TestE2EKeyRotation(t *testing.T) {
	eachE2E(t, func(t *testing.T, s *e2eServer) {
		ctx := context.Background()
		conf := s.oauth2Config()
		b := s.newBrowser()
		code, verifier := s.codeFlow(b, conf)
		tok, _ := s.exchange(ctx, conf, code, verifier)
		oldRaw, _ := tok.Extra("id_token").(string)
		oldKid := kidOf(t, oldRaw)

		if err := s.inst.keys.Rotate(ctx); err != nil {
			t.Fatalf("rotate: %v", err)
		}
		s.clock.Advance(3 * time.Hour) // past the publish lead (2 × JWKS max-age)

		// A fresh verifier fetches the JWKS anew; the old token still verifies.
		fresh, err := oidc.NewProvider(ctx, s.issuer)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := fresh.Verifier(&oidc.Config{ClientID: e2eClientID}).Verify(ctx, oldRaw); err != nil {
			t.Fatalf("token signed before the rotation no longer verifies: %v", err)
		}
		verifier, challenge := pkcePair()
		q := b.callback(b.authorize(conf, challenge))
		tok2, err := conf.Exchange(ctx, q.Get("code"), oauth2.VerifierOption(verifier))
		if err != nil {
			t.Fatal(err)
		}
		newRaw, _ := tok2.Extra("id_token").(string)
		if kidOf(t, newRaw) == oldKid {
			t.Fatal("the new key does not sign after its active time")
		}
		if _, err := fresh.Verifier(&oidc.Config{ClientID: e2eClientID}).Verify(ctx, newRaw); err != nil {
			t.Fatalf("token signed by the new key: %v", err)
		}
	})
}

func kidOf(t *testing.T, jws string) string {
	t.Helper()
	head, _, _ := strings.Cut(jws, ".")
	raw, err := base64.RawURLEncoding.DecodeString(head)
	if err != nil {
		t.Fatalf("JWS header: %v", err)
	}
	var h struct {
		Kid string `json:"kid"`
	}
	_ = json.Unmarshal(raw, &h)
	if h.Kid == "" {
		t.Fatal("ID token has no kid")
	}
	return h.Kid
}

// TestE2ERaces: 16 redemptions of one code and 32 refreshes of one refresh token at the same moment:
// exactly one succeeds, the others get invalid_grant, none gets a 5xx.
func TestE2ERaces(t *testing.T) {
	eachE2E(t, func(t *testing.T, s *e2eServer) {
		ctx := context.Background()
		conf := s.oauth2Config()
		code, verifier := s.codeFlow(s.newBrowser(), conf)
		form := url.Values{"grant_type": {"authorization_code"}, "code": {code}, "code_verifier": {verifier}, "redirect_uri": {e2eRedirect}}
		wins := s.race(16, form)
		if len(wins) != 1 {
			t.Fatalf("code redeemed %d times", len(wins))
		}
		if rt, _ := wins[0]["refresh_token"].(string); rt == "" {
			t.Fatal("winner got no refresh token")
		}
		// The losers that came after the winner were a second use of the code and revoked its grant
		// (RFC 6749 §4.1.2), so the refresh race needs a grant of its own.
		code, verifier = s.codeFlow(s.newBrowser(), conf)
		tok, _ := s.exchange(ctx, conf, code, verifier)
		wins = s.race(32, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {tok.RefreshToken}})
		if len(wins) != 1 {
			t.Fatalf("refresh token used %d times", len(wins))
		}
	})
}

// race posts form to the token endpoint n times at once and returns the successful bodies; every
// other answer must be 400 invalid_grant.
func (s *e2eServer) race(n int, form url.Values) []map[string]any {
	s.t.Helper()
	type result struct {
		status int
		body   map[string]any
	}
	results := make([]result, n)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			req, _ := http.NewRequest(http.MethodPost, s.issuer+"/oauth2/token", strings.NewReader(form.Encode()))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			req.SetBasicAuth(e2eClientID, s.secret)
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				results[i] = result{status: -1}
				return
			}
			defer resp.Body.Close()
			var body map[string]any
			_ = json.NewDecoder(resp.Body).Decode(&body)
			results[i] = result{resp.StatusCode, body}
		}()
	}
	close(start)
	wg.Wait()
	var wins []map[string]any
	for _, r := range results {
		switch {
		case r.status == http.StatusOK:
			wins = append(wins, r.body)
		case r.status == http.StatusBadRequest && r.body["error"] == "invalid_grant":
		default:
			s.t.Errorf("racing request: status %d, body %v", r.status, r.body)
		}
	}
	return wins
}

// TestE2EES256Client: a client registered for ES256 gets ES256 ID tokens signed by the published EC
// key, and they verify with go-oidc (discovery advertises ES256).
func TestE2EES256Client(t *testing.T) {
	eachE2E(t, func(t *testing.T, s *e2eServer) {
		ctx := context.Background()
		client, secret, err := clientInput{
			id: "es-app", name: "Web App", scope: e2eScopeDefault, idTokenAlg: "ES256",
			redirectURIs: []string{e2eRedirect}, grantTypes: []string{grantAuthorizationCode},
		}.client()
		if err != nil {
			t.Fatal(err)
		}
		if err := s.inst.store.CreateClient(ctx, client); err != nil {
			t.Fatal(err)
		}
		conf := s.oauth2Config()
		conf.ClientID, conf.ClientSecret = "es-app", secret
		code, verifier := s.codeFlow(s.newBrowser(), conf)
		tok, err := conf.Exchange(ctx, code, oauth2.VerifierOption(verifier))
		if err != nil {
			t.Fatal(err)
		}
		raw, _ := tok.Extra("id_token").(string)
		head, _, _ := strings.Cut(raw, ".")
		hb, _ := base64.RawURLEncoding.DecodeString(head)
		var h struct{ Alg, Kid string }
		_ = json.Unmarshal(hb, &h)
		if h.Alg != "ES256" {
			t.Fatalf("ID token alg = %q, want ES256", h.Alg)
		}
		if jwk, ok := s.inst.keys.PublicKey(h.Kid); !ok || jwk.Algorithm != "ES256" {
			t.Fatalf("kid %q is not a published ES256 key", h.Kid)
		}
		if _, err := s.provider.Verifier(&oidc.Config{ClientID: "es-app"}).Verify(ctx, raw); err != nil {
			t.Fatalf("verify ES256 ID token: %v", err)
		}
	})
}

// TestE2EAuthorizeRequestChecks: OIDC requests without redirect_uri get our error page, never a
// redirect (OIDC Core §3.1.2.1); standard scopes we have no claims for are ignored (§5.4).
func TestE2EAuthorizeRequestChecks(t *testing.T) {
	eachE2E(t, func(t *testing.T, s *e2eServer) {
		_, challenge := pkcePair()
		p := s.newBrowser().get(s.issuer + "/oauth2/authorize?" + url.Values{
			"client_id": {e2eClientID}, "response_type": {"code"}, "scope": {"openid"}, "state": {e2eState},
			"code_challenge": {challenge}, "code_challenge_method": {"S256"},
		}.Encode())
		if p.status != http.StatusBadRequest || p.location != "" || !strings.Contains(p.body, "redirect_uri") {
			t.Errorf("OIDC request without redirect_uri: %d %q\n%s", p.status, p.location, p.body)
		}

		conf := s.oauth2Config()
		conf.Scopes = []string{"openid", "email", "address", "phone"}
		b := s.newBrowser()
		verifier, challenge := pkcePair()
		q := b.callback(b.approve(b.login(b.authorize(conf, challenge))))
		if q.Get("code") == "" {
			t.Fatalf("request with address and phone scopes: %v", q)
		}
		tok, _ := s.exchange(context.Background(), conf, q.Get("code"), verifier)
		if scope, _ := tok.Extra("scope").(string); strings.Contains(scope, "address") || strings.Contains(scope, "phone") {
			t.Errorf("granted scope %q includes scopes we have no claims for", scope)
		}
	})
}

// TestE2EUserBarred: a user banned, blocked or deleted behind the command line's back (by another
// application writing the users table) loses the grant at the next refresh, introspection and userinfo.
func TestE2EUserBarred(t *testing.T) {
	eachE2E(t, func(t *testing.T, s *e2eServer) {
		ctx := context.Background()
		conf := s.oauth2Config()
		id, err := uuid.Parse(s.userID)
		if err != nil {
			t.Fatal(err)
		}
		for _, tc := range []struct {
			name         string
			bar, restore func(*storage.User)
		}{
			{"banned", func(u *storage.User) { u.Banned = true }, func(u *storage.User) { u.Banned = false }},
			{"blocked", func(u *storage.User) { u.Blocked = true }, func(u *storage.User) { u.Blocked = false }},
		} {
			code, verifier := s.codeFlow(s.newBrowser(), conf)
			tok, _ := s.exchange(ctx, conf, code, verifier)
			if _, err := s.inst.store.UpdateUser(ctx, id, func(u *storage.User) error { tc.bar(u); return nil }); err != nil {
				t.Fatal(err)
			}
			if s.introspect(tok.AccessToken)["active"] != false {
				t.Errorf("%s: introspection says the access token is active", tc.name)
			}
			if _, err := s.provider.UserInfo(ctx, oauth2.StaticTokenSource(tok)); err == nil {
				t.Errorf("%s: userinfo answered", tc.name)
			}
			_, err := refresh(ctx, conf, tok.RefreshToken)
			wantOAuthError(t, err, "invalid_grant")
			if _, err := s.inst.store.UpdateUser(ctx, id, func(u *storage.User) error { tc.restore(u); return nil }); err != nil {
				t.Fatal(err)
			}
			// The refresh refused while barred revoked the grant for good.
			_, err = refresh(ctx, conf, tok.RefreshToken)
			wantOAuthError(t, err, "invalid_grant")
		}
	})
}
