package web_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"html"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"
	"golang.org/x/crypto/bcrypt"
	"gorm.io/gorm"

	"github.com/kangrow/auth/keys"
	"github.com/kangrow/auth/migrations"
	"github.com/kangrow/auth/provider"
	"github.com/kangrow/auth/storage"
	"github.com/kangrow/auth/storage/dbtest"
	"github.com/kangrow/auth/storage/password"
	"github.com/kangrow/auth/web"
)

const (
	testIssuer      = "https://auth.example.test"
	testHost        = "auth.example.test"
	testPassword    = "correct horse battery staple"
	appID           = "app"
	appSecret       = "app-secret-0123456789abcdef0123456789abcdef"
	appName         = "Demo App"
	appRedirect     = "https://app.example.test/callback"
	appLogout       = "https://app.example.test/signed-out"
	firstPartyID    = "first"
	firstPartyName  = "First Party"
	firstRedirect   = "https://first.example.test/callback"
	testState       = "state-1234567890"
	testNonce       = "nonce-1234567890"
	testVerifier    = "verifier-0123456789-0123456789-0123456789-0123456789"
	testSecretBytes = "0123456789abcdef0123456789abcdef-test-secret"
)

// clock is the tests' clock: the wall clock plus an offset they move forward. The store, the provider
// and web all read it; fosite reads the wall clock, which stays within its 5 s tolerance.
type clock struct{ offset atomic.Int64 }

func (c *clock) Now() time.Time { return time.Now().Add(time.Duration(c.offset.Load())) }

func (c *clock) Advance(d time.Duration) { c.offset.Add(int64(d)) }

// Set puts the clock at the wall clock plus d. fosite refuses an auth_time more than 5 s ahead of the
// wall clock, so tests that need an old login sign in with the clock set back, then set it to 0.
func (c *clock) Set(d time.Duration) { c.offset.Store(int64(d)) }

// testEnv is one engine over a fresh SQLite database, a real provider and real signing keys.
type testEnv struct {
	t     *testing.T
	h     http.Handler
	store *storage.Store
	clock *clock
	logs  *syncBuffer
	ready error
	// panicReady makes the readiness check panic, to test recovery.
	panicReady bool
}

func (env *testEnv) readyPanics() { env.panicReady = true }

type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// memKeys is an in-memory keys.Store (cmd holds the adapter over storage).
type memKeys struct {
	mu   sync.Mutex
	recs map[string]keys.Record
}

func (m *memKeys) ListSigningKeys(context.Context) ([]keys.Record, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := make([]keys.Record, 0, len(m.recs))
	for _, r := range m.recs {
		out = append(out, r)
	}
	return out, nil
}

func (m *memKeys) CreateSigningKey(_ context.Context, r keys.Record) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.recs == nil {
		m.recs = map[string]keys.Record{}
	}
	m.recs[r.ID] = r
	return nil
}

func (m *memKeys) UpdateSigningKey(_ context.Context, kid string, fn func(*keys.Record) error) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	r, ok := m.recs[kid]
	if !ok {
		return errors.New("no such key")
	}
	if err := fn(&r); err != nil {
		return err
	}
	m.recs[kid] = r
	return nil
}

// Generating RSA keys is slow; every test shares one key set.
var (
	keySetOnce sync.Once
	keySet     *keys.Set
	keySetErr  error
)

func mustKeys(t *testing.T) *keys.Set {
	t.Helper()
	keySetOnce.Do(func() {
		keySet, keySetErr = keys.New(&memKeys{}, []byte(testSecretBytes))
		if keySetErr == nil {
			keySetErr = keySet.Load(context.Background())
		}
	})
	if keySetErr != nil {
		t.Fatalf("signing keys: %v", keySetErr)
	}
	return keySet
}

// newTestEnv is a testEnv on a fresh SQLite database.
func newTestEnv(t *testing.T) *testEnv {
	t.Helper()
	return newTestEnvOn(t, dbtest.SQLite(t))
}

// testDatabases are the stores the end-to-end tests run on. dbtest.Postgres skips without a server on
// a laptop and fails in CI.
var testDatabases = []struct {
	name string
	open func(testing.TB) *gorm.DB
}{
	{"sqlite", dbtest.SQLite},
	{"postgres", dbtest.Postgres},
}

// newTestEnvOn migrates the empty database db and builds the engine over it.
func newTestEnvOn(t *testing.T, db *gorm.DB) *testEnv {
	t.Helper()
	return newTestEnvWrapped(t, db, nil)
}

// newTestEnvWrapped is newTestEnvOn with the pages' store wrapped by wrap (when not nil), so a test can
// watch or change what the pages ask of storage.
func newTestEnvWrapped(t *testing.T, db *gorm.DB, wrap func(web.Store) web.Store) *testEnv {
	t.Helper()
	ctx := context.Background()
	if err := migrations.Up(ctx, db); err != nil {
		t.Fatalf("migrate: %v", err)
	}
	env := &testEnv{t: t, clock: &clock{}, logs: &syncBuffer{}}
	env.store = storage.New(db, storage.WithClock(env.clock.Now))
	p, err := provider.New(provider.Config{Issuer: testIssuer, Secret: []byte(testSecretBytes), Now: env.clock.Now},
		env.store, mustKeys(t))
	if err != nil {
		t.Fatalf("provider: %v", err)
	}
	var pages web.Store = env.store
	if wrap != nil {
		pages = wrap(env.store)
	}
	h, err := web.New(web.Deps{
		Provider: p,
		Store:    pages,
		Secret:   []byte(testSecretBytes),
		Issuer:   testIssuer,
		Logger:   slog.New(slog.NewJSONHandler(env.logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
		Now:      env.clock.Now,
		Ready: func(context.Context) error {
			if env.panicReady {
				panic("boom")
			}
			return env.ready
		},
	})
	if err != nil {
		t.Fatalf("web.New: %v", err)
	}
	env.h = h
	mustCreateClient(t, env.store, &storage.Client{
		ID: appID, Name: appName, SecretHash: storage.Digest(appSecret),
		RedirectURIs:           []string{appRedirect},
		PostLogoutRedirectURIs: []string{appLogout},
		GrantTypes:             []string{"authorization_code", "refresh_token"},
		ResponseTypes:          []string{"code"},
		Scopes:                 []string{"openid", "profile", "email", "offline_access"},
	})
	mustCreateClient(t, env.store, &storage.Client{
		ID: firstPartyID, Name: firstPartyName, Public: true, SkipConsent: true,
		RedirectURIs:  []string{firstRedirect},
		GrantTypes:    []string{"authorization_code", "refresh_token"},
		ResponseTypes: []string{"code"},
		Scopes:        []string{"openid", "profile", "email", "offline_access"},
	})
	return env
}

func mustCreateClient(t *testing.T, s *storage.Store, c *storage.Client) {
	t.Helper()
	if err := s.CreateClient(context.Background(), c); err != nil {
		t.Fatalf("create client %s: %v", c.ID, err)
	}
}

// mustCreateUser creates a user with the argon2id hash of testPassword, changed by opts.
func (env *testEnv) mustCreateUser(email string, opts ...func(*storage.User)) *storage.User {
	env.t.Helper()
	h, err := password.Hash(testPassword)
	if err != nil {
		env.t.Fatal(err)
	}
	first := "Alice"
	u := &storage.User{Email: email, HashedPassword: &h, FirstName: &first, EmailVerified: true}
	for _, o := range opts {
		o(u)
	}
	if err := env.store.CreateUser(context.Background(), u); err != nil {
		env.t.Fatalf("create user: %v", err)
	}
	return u
}

func withBcrypt(t *testing.T) func(*storage.User) {
	t.Helper()
	h, err := bcrypt.GenerateFromPassword([]byte(testPassword), bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	return func(u *storage.User) { s := string(h); u.HashedPassword = &s }
}

func (env *testEnv) mustUser(id uuid.UUID) *storage.User {
	env.t.Helper()
	u, err := env.store.GetUser(context.Background(), id)
	if err != nil {
		env.t.Fatalf("get user: %v", err)
	}
	return u
}

// browser sends requests to the engine like a browser would: it keeps cookies and sends
// Sec-Fetch-Site: same-origin on its own form posts.
type browser struct {
	env     *testEnv
	cookies map[string]*http.Cookie
}

func (env *testEnv) newBrowser() *browser {
	return &browser{env: env, cookies: map[string]*http.Cookie{}}
}

type header map[string]string

// do sends one request; form goes in a POST body. Extra headers override the defaults.
func (b *browser) do(method, target string, form url.Values, hdr header) *httptest.ResponseRecorder {
	b.env.t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	if strings.HasPrefix(target, testIssuer) {
		target = strings.TrimPrefix(target, testIssuer)
	}
	req := httptest.NewRequest(method, target, body)
	req.Host = testHost
	req.RemoteAddr = "192.0.2.7:40000"
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	if method == http.MethodPost {
		req.Header.Set("Sec-Fetch-Site", "same-origin")
		req.Header.Set("Origin", testIssuer)
	}
	for k, v := range hdr {
		if v == "" {
			req.Header.Del(k)
		} else {
			req.Header.Set(k, v)
		}
	}
	for _, c := range b.cookies {
		req.AddCookie(&http.Cookie{Name: c.Name, Value: c.Value})
	}
	rec := httptest.NewRecorder()
	b.env.h.ServeHTTP(rec, req)
	for _, c := range rec.Result().Cookies() {
		if c.MaxAge < 0 || c.Value == "" {
			delete(b.cookies, c.Name)
		} else {
			b.cookies[c.Name] = c
		}
	}
	return rec
}

func (b *browser) get(target string) *httptest.ResponseRecorder {
	b.env.t.Helper()
	return b.do(http.MethodGet, target, nil, nil)
}

func (b *browser) post(target string, form url.Values) *httptest.ResponseRecorder {
	b.env.t.Helper()
	return b.do(http.MethodPost, target, form, nil)
}

// submit reads the form fields of the page at page, adds fields, and posts the form to action.
func (b *browser) submit(page *httptest.ResponseRecorder, action string, fields url.Values) *httptest.ResponseRecorder {
	b.env.t.Helper()
	form := hiddenFields(page.Body.String())
	for k, v := range fields {
		form[k] = v
	}
	return b.post(action, form)
}

var hiddenRE = regexp.MustCompile(`<input type="hidden" name="([^"]+)" value="([^"]*)">`)

func hiddenFields(body string) url.Values {
	v := url.Values{}
	for _, m := range hiddenRE.FindAllStringSubmatch(body, -1) {
		v.Set(m[1], html.UnescapeString(m[2]))
	}
	return v
}

// signIn signs the browser in as email with testPassword, without a flow.
func (b *browser) signIn(email string) {
	b.env.t.Helper()
	page := b.get("/login")
	rec := b.submit(page, "/login", url.Values{"email": {email}, "password": {testPassword}})
	mustStatus(b.env.t, rec, http.StatusSeeOther)
}

// authorizeURL is an authorization request of the app client, changed by extra.
func authorizeURL(extra url.Values) string {
	q := url.Values{
		"response_type":         {"code"},
		"client_id":             {appID},
		"redirect_uri":          {appRedirect},
		"scope":                 {"openid email"},
		"state":                 {testState},
		"nonce":                 {testNonce},
		"code_challenge":        {pkceChallenge(testVerifier)},
		"code_challenge_method": {"S256"},
	}
	for k, v := range extra {
		if len(v) == 0 || v[0] == "" {
			q.Del(k)
		} else {
			q[k] = v
		}
	}
	return "/oauth2/authorize?" + q.Encode()
}

// follow follows same-site 303 redirects until the response is no longer a redirect to our own pages,
// and returns the last response.
func (b *browser) follow(rec *httptest.ResponseRecorder) *httptest.ResponseRecorder {
	b.env.t.Helper()
	for i := 0; i < 10; i++ {
		loc := rec.Header().Get("Location")
		if rec.Code != http.StatusSeeOther || !strings.HasPrefix(loc, "/") {
			return rec
		}
		rec = b.get(loc)
	}
	b.env.t.Fatal("too many redirects")
	return nil
}

func mustStatus(t *testing.T, rec *httptest.ResponseRecorder, want int) {
	t.Helper()
	if rec.Code != want {
		t.Fatalf("status = %d, want %d; Location %q; body:\n%s", rec.Code, want, rec.Header().Get("Location"), rec.Body.String())
	}
}

func mustContain(t *testing.T, rec *httptest.ResponseRecorder, snippet string) {
	t.Helper()
	if !strings.Contains(rec.Body.String(), snippet) {
		t.Fatalf("body does not contain %q:\n%s", snippet, rec.Body.String())
	}
}

// mustRedirectTo checks a 303 to the given URL prefix and returns the Location's query.
func mustRedirectTo(t *testing.T, rec *httptest.ResponseRecorder, prefix string) url.Values {
	t.Helper()
	mustStatus(t, rec, http.StatusSeeOther)
	loc := rec.Header().Get("Location")
	if !strings.HasPrefix(loc, prefix) {
		t.Fatalf("Location = %q, want prefix %q", loc, prefix)
	}
	u, err := url.Parse(loc)
	if err != nil {
		t.Fatal(err)
	}
	return u.Query()
}

// exchange redeems code at the token endpoint as the app client and returns the JSON response.
func (env *testEnv) exchange(code string) map[string]any {
	env.t.Helper()
	form := url.Values{
		"grant_type":    {"authorization_code"},
		"code":          {code},
		"redirect_uri":  {appRedirect},
		"code_verifier": {testVerifier},
	}
	req := httptest.NewRequest(http.MethodPost, "/oauth2/token", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(appID, appSecret)
	rec := httptest.NewRecorder()
	env.h.ServeHTTP(rec, req)
	mustStatus(env.t, rec, http.StatusOK)
	var out map[string]any
	if err := json.Unmarshal(rec.Body.Bytes(), &out); err != nil {
		env.t.Fatalf("token response: %v", err)
	}
	return out
}
