package bench

// Go benchmarks of the hot-path endpoints, in process, on PostgreSQL (storage/dbtest: TEST_DATABASE_URL,
// else postgres://postgres@127.0.0.1:5432/test; each benchmark gets a fresh database, dropped after it).
// Each iteration is one request served by the public handler (http.Handler.ServeHTTP with a recorder: no
// network, so allocs/op are the server's); the grants they need are made beforehand through the real
// login and consent pages over loopback (bench/flow). Besides ns/op, B/op and allocs/op each reports
// sql/op: the statements issued through GORM per request (BEGIN and COMMIT are not among them; the
// PostgreSQL-log counts in docs/performance.md include them).
//
//	go test -run '^$' -bench . -benchmem -benchtime 2000x ./bench/
//
// Nothing here runs without -bench: the package has no Test of its own besides the parser's.

import (
	"context"
	"database/sql"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"gorm.io/gorm"

	"github.com/kangrow/auth/bench/flow"
	"github.com/kangrow/auth/keys"
	"github.com/kangrow/auth/migrations"
	"github.com/kangrow/auth/provider"
	"github.com/kangrow/auth/storage"
	"github.com/kangrow/auth/storage/dbtest"
	"github.com/kangrow/auth/storage/password"
	"github.com/kangrow/auth/web"
)

const (
	benchSecret    = "bench-system-secret-0123456789abcdef-0123"
	benchPassword  = "correct horse battery staple"
	benchEmail     = "ada@example.test"
	benchRedirect  = "http://127.0.0.1:9/callback" // never dialled
	webappSecret   = "wwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwww"
	serviceSecret  = "ssssssssssssssssssssssssssssssssssssssss"
	benchUserScope = "openid profile email offline_access"
)

// env is the provider wired as cmd/kangrow-auth/wire.go's newInstance wires it (storage, keys, provider,
// web), over a fresh PostgreSQL database, with a confidential code client, a client_credentials client
// and a user. srv serves the same handler on 127.0.0.1 for the setup done through the pages.
type env struct {
	handler http.Handler
	sqlDB   *sql.DB
	store   *storage.Store
	srv     *httptest.Server
	web     *flow.Client
	service *flow.Client
	browser *flow.Browser
	queries atomic.Int64
}

// envOptions vary the wiring for the experiments in extra_test.go; the zero value is newInstance's.
type envOptions struct {
	logger *slog.Logger // default: JSON to io.Discard (serve logs one JSON line per request)
}

func newEnv(b *testing.B) *env { return newEnvWith(b, envOptions{}) }

func newEnvWith(b *testing.B, o envOptions) *env {
	b.Helper()
	if o.logger == nil {
		o.logger = slog.New(slog.NewJSONHandler(io.Discard, nil))
	}
	ctx := context.Background()
	db, err := storage.Open(ctx, dbtest.PostgresURL(b))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = storage.Close(db) })
	if err := migrations.Up(ctx, db); err != nil {
		b.Fatal(err)
	}
	e := &env{}
	countQueries(db, &e.queries)
	if e.sqlDB, err = db.DB(); err != nil {
		b.Fatal(err)
	}

	// As newInstance does it.
	store := storage.New(db)
	ks, err := keys.New(keyStore{store}, []byte(benchSecret))
	if err != nil {
		b.Fatal(err)
	}
	if err := ks.Load(ctx); err != nil {
		b.Fatal(err)
	}
	srv := httptest.NewUnstartedServer(nil) // listens on 127.0.0.1
	issuer := "http://" + srv.Listener.Addr().String()
	prov, err := provider.New(provider.Config{Issuer: issuer, Secret: []byte(benchSecret)}, store, ks)
	if err != nil {
		b.Fatal(err)
	}
	handler, err := web.New(web.Deps{
		Provider: prov, Store: store, Secret: []byte(benchSecret), Issuer: issuer,
		Logger: o.logger,
	})
	if err != nil {
		b.Fatal(err)
	}
	srv.Config.Handler = handler
	srv.Start()
	b.Cleanup(srv.Close)
	e.handler, e.store, e.srv = handler, store, srv

	for _, c := range []*storage.Client{
		{ID: "webapp", Name: "Web App", SecretHash: storage.Digest(webappSecret), RedirectURIs: storage.StringList{benchRedirect},
			GrantTypes: storage.StringList{"authorization_code", "refresh_token"}, ResponseTypes: storage.StringList{"code"},
			Scopes: storage.StringList(strings.Fields(benchUserScope))},
		{ID: "service", Name: "Service", SecretHash: storage.Digest(serviceSecret),
			GrantTypes: storage.StringList{"client_credentials"}, Scopes: storage.StringList{"reports.read"}},
	} {
		if err := store.CreateClient(ctx, c); err != nil {
			b.Fatal(err)
		}
	}
	hash, err := password.Hash(benchPassword)
	if err != nil {
		b.Fatal(err)
	}
	first, last := "Ada", "Lovelace"
	if err := store.CreateUser(ctx, &storage.User{Email: benchEmail, HashedPassword: &hash, EmailVerified: true,
		FirstName: &first, LastName: &last}); err != nil {
		b.Fatal(err)
	}

	hc := srv.Client()
	hc.Timeout = 30 * time.Second
	e.web = &flow.Client{Issuer: issuer, ID: "webapp", Secret: webappSecret, RedirectURI: benchRedirect, Scope: benchUserScope, HTTP: hc}
	e.service = &flow.Client{Issuer: issuer, ID: "service", Secret: serviceSecret, HTTP: hc}
	// Sign in and consent once: afterwards every authorization request is answered with a code.
	e.browser = flow.NewBrowser(e.web)
	if _, _, err := e.browser.SignIn(ctx, benchEmail, benchPassword); err != nil {
		b.Fatal(err)
	}
	return e
}

// countQueries counts every statement GORM sends (queries, inserts, updates, deletes, raw SQL).
func countQueries(db *gorm.DB, n *atomic.Int64) {
	inc := func(*gorm.DB) { n.Add(1) }
	cb := db.Callback()
	_ = cb.Query().After("gorm:query").Register("bench:count", inc)
	_ = cb.Create().After("gorm:create").Register("bench:count", inc)
	_ = cb.Update().After("gorm:update").Register("bench:count", inc)
	_ = cb.Delete().After("gorm:delete").Register("bench:count", inc)
	_ = cb.Row().After("gorm:row").Register("bench:count", inc)
	_ = cb.Raw().After("gorm:raw").Register("bench:count", inc)
}

// grant makes a fresh grant through the authorization endpoint and the code exchange.
func (e *env) grant(b *testing.B) flow.Tokens {
	b.Helper()
	ctx := context.Background()
	code, verifier, err := e.browser.Code(ctx)
	if err != nil {
		b.Fatal(err)
	}
	t, err := e.web.Exchange(ctx, code, verifier)
	if err != nil {
		b.Fatal(err)
	}
	return t
}

// serve runs one request through the handler and fails unless it answers want.
func (e *env) serve(b *testing.B, req *http.Request, want int) {
	w := httptest.NewRecorder()
	e.handler.ServeHTTP(w, req)
	if w.Code != want {
		b.Fatalf("%s %s: status %d, want %d: %.300s", req.Method, req.URL.Path, w.Code, want, w.Body.String())
	}
}

func formPost(path string, form url.Values, id, secret string) *http.Request {
	req := httptest.NewRequest(http.MethodPost, path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(id, secret)
	req.RemoteAddr = "127.0.0.1:40000"
	return req
}

func get(path string) *http.Request {
	req := httptest.NewRequest(http.MethodGet, path, nil)
	req.RemoteAddr = "127.0.0.1:40000"
	return req
}

// run times b.N requests made by next and reports sql/op.
func (e *env) run(b *testing.B, want int, next func(i int) *http.Request) {
	b.Helper()
	b.ReportAllocs()
	before := e.queries.Load()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		e.serve(b, next(i), want)
	}
	b.StopTimer()
	b.ReportMetric(float64(e.queries.Load()-before)/float64(b.N), "sql/op")
}

func BenchmarkDiscovery(b *testing.B) {
	e := newEnv(b)
	e.run(b, http.StatusOK, func(int) *http.Request { return get("/.well-known/openid-configuration") })
}

func BenchmarkJWKS(b *testing.B) {
	e := newEnv(b)
	e.run(b, http.StatusOK, func(int) *http.Request { return get("/.well-known/jwks.json") })
}

func BenchmarkTokenClientCredentials(b *testing.B) {
	e := newEnv(b)
	form := url.Values{"grant_type": {"client_credentials"}, "scope": {"reports.read"}}
	e.run(b, http.StatusOK, func(int) *http.Request { return formPost("/oauth2/token", form, "service", serviceSecret) })
}

// BenchmarkIntrospect asks about one live user access token, b.N times (introspection only reads).
func BenchmarkIntrospect(b *testing.B) {
	e := newEnv(b)
	at := e.grant(b).AccessToken
	form := url.Values{"token": {at}}
	e.run(b, http.StatusOK, func(int) *http.Request { return formPost("/oauth2/introspect", form, "webapp", webappSecret) })
}

// BenchmarkUserInfo reads the claims of one live access token, b.N times.
func BenchmarkUserInfo(b *testing.B) {
	e := newEnv(b)
	at := e.grant(b).AccessToken
	e.run(b, http.StatusOK, func(int) *http.Request {
		req := get("/userinfo")
		req.Header.Set("Authorization", "Bearer "+at)
		return req
	})
}

// BenchmarkRefresh redeems b.N refresh tokens of b.N distinct grants, made before the timer starts.
func BenchmarkRefresh(b *testing.B) {
	e := newEnv(b)
	pool := make([]string, b.N)
	for i := range pool {
		pool[i] = e.grant(b).RefreshToken
	}
	e.run(b, http.StatusOK, func(i int) *http.Request {
		return formPost("/oauth2/token", url.Values{"grant_type": {"refresh_token"}, "refresh_token": {pool[i]}}, "webapp", webappSecret)
	})
}

// BenchmarkTokenAuthorizationCode redeems b.N codes (with PKCE), made before the timer starts.
func BenchmarkTokenAuthorizationCode(b *testing.B) {
	e := newEnv(b)
	type codePair struct{ code, verifier string }
	pool := make([]codePair, b.N)
	for i := range pool {
		code, verifier, err := e.browser.Code(context.Background())
		if err != nil {
			b.Fatal(err)
		}
		pool[i] = codePair{code, verifier}
	}
	e.run(b, http.StatusOK, func(i int) *http.Request {
		return formPost("/oauth2/token", url.Values{"grant_type": {"authorization_code"}, "code": {pool[i].code},
			"code_verifier": {pool[i].verifier}, "redirect_uri": {benchRedirect}}, "webapp", webappSecret)
	})
}

// BenchmarkAuthorize is one authorization request of a signed-in user who consented before: the
// provider answers 303 with a code.
func BenchmarkAuthorize(b *testing.B) {
	e := newEnv(b)
	cookies := e.browser.Cookies()
	e.run(b, http.StatusSeeOther, func(int) *http.Request {
		u, _ := e.web.AuthorizeURL()
		req := get(strings.TrimPrefix(u, e.web.Issuer))
		for _, c := range cookies {
			req.AddCookie(c)
		}
		return req
	})
}

// BenchmarkStoreGetClient is the cost of one client load, the statement the hot paths repeat most.
func BenchmarkStoreGetClient(b *testing.B) {
	e := newEnv(b)
	ctx := context.Background()
	b.ReportAllocs()
	before := e.queries.Load()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := e.store.GetClient(ctx, "webapp"); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	b.ReportMetric(float64(e.queries.Load()-before)/float64(b.N), "sql/op")
}

// keyStore adapts storage's signing_keys rows to the keys package, as cmd/kangrow-auth/wire.go does.
type keyStore struct{ s *storage.Store }

func (k keyStore) ListSigningKeys(ctx context.Context) ([]keys.Record, error) {
	rows, err := k.s.ListSigningKeys(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]keys.Record, len(rows))
	for i, r := range rows {
		out[i] = toRecord(r)
	}
	return out, nil
}

func (k keyStore) CreateSigningKey(ctx context.Context, r keys.Record) error {
	row := fromRecord(r)
	return k.s.CreateSigningKey(ctx, &row)
}

func (k keyStore) UpdateSigningKey(ctx context.Context, kid string, fn func(*keys.Record) error) error {
	return k.s.UpdateSigningKey(ctx, kid, func(row *storage.SigningKey) error {
		r := toRecord(*row)
		if err := fn(&r); err != nil {
			return err
		}
		*row = fromRecord(r)
		return nil
	})
}

func toRecord(r storage.SigningKey) keys.Record {
	return keys.Record{
		ID: r.ID, Algorithm: r.Algorithm, PublicJWK: []byte(r.PublicJWK), PrivateKey: r.PrivateKey,
		CreatedAt: r.CreatedAt, ActiveAt: r.ActiveAt, RetiredAt: r.RetiredAt, ExpiresAt: r.ExpiresAt,
	}
}

func fromRecord(r keys.Record) storage.SigningKey {
	return storage.SigningKey{
		ID: r.ID, Algorithm: r.Algorithm, PublicJWK: storage.RawJSON(r.PublicJWK), PrivateKey: r.PrivateKey,
		CreatedAt: r.CreatedAt, ActiveAt: r.ActiveAt, RetiredAt: r.RetiredAt, ExpiresAt: r.ExpiresAt,
	}
}
