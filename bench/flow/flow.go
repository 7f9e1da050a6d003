// Package flow drives KanGrow Auth over HTTP as a relying party and a browser do, for the benchmarks
// and the load script: sign in through the real login and consent pages once, then fetch authorization
// codes with that browser session and redeem them. It talks only to the issuer it is given (the
// benchmarks and bench/load.sh use 127.0.0.1) and never follows a redirect to the client's redirect
// URI, which is never dialled.
package flow

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strings"
	"time"

	"golang.org/x/net/html"
)

// Client is one registered client of the provider and how to reach it.
type Client struct {
	Issuer      string // e.g. http://127.0.0.1:18080
	ID, Secret  string // client_secret_basic
	RedirectURI string // registered; never dialled
	Scope       string // e.g. "openid profile email offline_access"
	HTTP        *http.Client
}

func (c *Client) http() *http.Client {
	if c.HTTP != nil {
		return c.HTTP
	}
	return http.DefaultClient
}

// Tokens is a token endpoint answer.
type Tokens struct {
	AccessToken  string `json:"access_token"`
	RefreshToken string `json:"refresh_token"`
	IDToken      string `json:"id_token"`
	Scope        string `json:"scope"`
	ExpiresIn    int    `json:"expires_in"`
}

// Browser is a cookie-keeping HTTP client that stops at the redirect back to the client.
type Browser struct {
	c  *Client
	hc *http.Client
}

// NewBrowser returns a browser with an empty cookie jar for client c.
func NewBrowser(c *Client) *Browser {
	jar, _ := cookiejar.New(nil)
	b := &Browser{c: c}
	b.hc = &http.Client{
		Jar:     jar,
		Timeout: 30 * time.Second,
		CheckRedirect: func(req *http.Request, via []*http.Request) error {
			if len(via) >= 10 {
				return errors.New("too many redirects")
			}
			if !strings.HasPrefix(req.URL.String(), c.Issuer+"/") {
				return http.ErrUseLastResponse // the client's redirect URI: stop here
			}
			return nil
		},
	}
	if c.HTTP != nil {
		b.hc.Transport = c.HTTP.Transport
	}
	return b
}

type page struct {
	url      *url.URL
	status   int
	body     string
	location string
}

func (b *Browser) do(req *http.Request) (page, error) {
	resp, err := b.hc.Do(req)
	if err != nil {
		return page{}, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return page{}, err
	}
	return page{url: resp.Request.URL, status: resp.StatusCode, body: string(body), location: resp.Header.Get("Location")}, nil
}

// AuthorizeURL returns an authorization request URL with PKCE S256, state and nonce, and the verifier.
func (c *Client) AuthorizeURL() (u, verifier string) {
	verifier = random(32)
	sum := sha256.Sum256([]byte(verifier))
	q := url.Values{
		"response_type":         {"code"},
		"client_id":             {c.ID},
		"redirect_uri":          {c.RedirectURI},
		"scope":                 {c.Scope},
		"state":                 {random(12)},
		"nonce":                 {random(12)},
		"code_challenge":        {base64.RawURLEncoding.EncodeToString(sum[:])},
		"code_challenge_method": {"S256"},
	}
	return c.Issuer + "/oauth2/authorize?" + q.Encode(), verifier
}

// SignIn runs one authorization request through the login page (email, password) and, when shown, the
// consent page (approve), and returns the code it ends with. Afterwards the browser holds a login
// session and the consent is remembered, so Code needs no page.
func (b *Browser) SignIn(ctx context.Context, email, password string) (code, verifier string, err error) {
	u, verifier := b.c.AuthorizeURL()
	p, err := b.get(ctx, u)
	if err != nil {
		return "", "", err
	}
	if strings.Contains(p.url.Path, "/login") && p.status == http.StatusOK {
		if p, err = b.submit(ctx, p, url.Values{"email": {email}, "password": {password}}); err != nil {
			return "", "", err
		}
	}
	if strings.Contains(p.url.Path, "/consent") && p.status == http.StatusOK {
		if p, err = b.submit(ctx, p, url.Values{"action": {"approve"}}); err != nil {
			return "", "", err
		}
	}
	code, err = b.callback(p)
	return code, verifier, err
}

// Code runs one authorization request with the browser's login session and remembered consent: one
// GET that the provider answers with a redirect carrying the code.
func (b *Browser) Code(ctx context.Context) (code, verifier string, err error) {
	u, verifier := b.c.AuthorizeURL()
	p, err := b.get(ctx, u)
	if err != nil {
		return "", "", err
	}
	code, err = b.callback(p)
	return code, verifier, err
}

func (b *Browser) get(ctx context.Context, u string) (page, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return page{}, err
	}
	return b.do(req)
}

func (b *Browser) callback(p page) (string, error) {
	if p.status != http.StatusSeeOther && p.status != http.StatusFound {
		return "", fmt.Errorf("want a redirect to the client, got %d at %s: %.300s", p.status, p.url, p.body)
	}
	if !strings.HasPrefix(p.location, b.c.RedirectURI) {
		return "", fmt.Errorf("redirect to %q, want %s", p.location, b.c.RedirectURI)
	}
	u, err := url.Parse(p.location)
	if err != nil {
		return "", err
	}
	code := u.Query().Get("code")
	if code == "" {
		return "", fmt.Errorf("no code in %q", p.location)
	}
	return code, nil
}

// submit posts the page's first POST form with its hidden fields plus fields.
func (b *Browser) submit(ctx context.Context, p page, fields url.Values) (page, error) {
	action, values, err := parseForm(p.body)
	if err != nil {
		return page{}, fmt.Errorf("%s (%d): %w", p.url, p.status, err)
	}
	for k, v := range fields {
		values[k] = v
	}
	target, err := p.url.Parse(action)
	if err != nil {
		return page{}, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, target.String(), strings.NewReader(values.Encode()))
	if err != nil {
		return page{}, err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return b.do(req)
}

func parseForm(body string) (string, url.Values, error) {
	doc, err := html.Parse(strings.NewReader(body))
	if err != nil {
		return "", nil, err
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
		return "", nil, errors.New("no POST form on the page")
	}
	return action, values, nil
}

func attr(n *html.Node, name string) string {
	for _, a := range n.Attr {
		if a.Key == name {
			return a.Val
		}
	}
	return ""
}

// Exchange redeems an authorization code with its PKCE verifier.
func (c *Client) Exchange(ctx context.Context, code, verifier string) (Tokens, error) {
	return c.token(ctx, url.Values{
		"grant_type":    {"authorization_code"},
		"code":          {code},
		"code_verifier": {verifier},
		"redirect_uri":  {c.RedirectURI},
	})
}

// Refresh redeems a refresh token (which the provider then rotates).
func (c *Client) Refresh(ctx context.Context, refreshToken string) (Tokens, error) {
	return c.token(ctx, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {refreshToken}})
}

// ClientCredentials asks for a client_credentials token with scope (may be empty).
func (c *Client) ClientCredentials(ctx context.Context, scope string) (Tokens, error) {
	form := url.Values{"grant_type": {"client_credentials"}}
	if scope != "" {
		form.Set("scope", scope)
	}
	return c.token(ctx, form)
}

func (c *Client) token(ctx context.Context, form url.Values) (Tokens, error) {
	var t Tokens
	status, body, err := c.Post(ctx, "/oauth2/token", form)
	if err != nil {
		return t, err
	}
	if status != http.StatusOK {
		return t, fmt.Errorf("token endpoint: %d %s", status, body)
	}
	if err := json.Unmarshal(body, &t); err != nil {
		return t, fmt.Errorf("token endpoint: %w", err)
	}
	return t, nil
}

// Post posts form to path with the client's HTTP Basic credentials and returns status and body.
func (c *Client) Post(ctx context.Context, path string, form url.Values) (int, []byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.Issuer+path, strings.NewReader(form.Encode()))
	if err != nil {
		return 0, nil, err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(url.QueryEscape(c.ID), url.QueryEscape(c.Secret)) // RFC 6749 §2.3.1
	return c.send(req)
}

// Get sends a GET to path, with a bearer token when one is given.
func (c *Client) Get(ctx context.Context, path, bearer string) (int, []byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.Issuer+path, nil)
	if err != nil {
		return 0, nil, err
	}
	if bearer != "" {
		req.Header.Set("Authorization", "Bearer "+bearer)
	}
	return c.send(req)
}

func (c *Client) send(req *http.Request) (int, []byte, error) {
	resp, err := c.http().Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	return resp.StatusCode, body, err
}

func random(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// Cookies returns the cookies the browser would send to the issuer (its login session among them).
func (b *Browser) Cookies() []*http.Cookie {
	u, err := url.Parse(b.c.Issuer + "/")
	if err != nil {
		return nil
	}
	return b.hc.Jar.Cookies(u)
}
