package web

import (
	"context"
	"crypto/hkdf"
	"crypto/sha256"
	"errors"
	"fmt"
	"html/template"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/kangrow/auth/provider"
	"github.com/kangrow/auth/storage"
)

// Store is what the pages need of storage; *storage.Store satisfies it.
type Store interface {
	GetUserByEmail(ctx context.Context, email string) (*storage.User, error)
	UpdateUser(ctx context.Context, id uuid.UUID, fn func(*storage.User) error) (*storage.User, error)
	RecordLogin(ctx context.Context, id uuid.UUID, ip string) error

	CreateLoginSession(ctx context.Context, userID uuid.UUID, token string) (*storage.UserToken, error)
	GetLoginSession(ctx context.Context, token string) (*storage.UserToken, *storage.User, error)
	DeleteLoginSession(ctx context.Context, token string) error

	GetClientByID(ctx context.Context, id string) (*storage.Client, error)
	GetConsent(ctx context.Context, userID uuid.UUID, clientID string) (*storage.Consent, error)
	SaveConsent(ctx context.Context, userID uuid.UUID, clientID string, scopes []string) error
}

// Deps are what New wires together. Provider, Store, Secret and Issuer are required.
type Deps struct {
	Provider *provider.Provider
	Store    Store
	// Secret is the system secret (at least 32 bytes); the keys of flow tokens, logout tokens and CSRF
	// tokens are derived from it with HKDF, each under its own label.
	Secret []byte
	// Issuer is the provider's issuer URL: cookies are Secure when it is https, and the pages' own links
	// and redirects start from its path.
	Issuer string
	// Logger receives the request log and error details; default: discard.
	Logger *slog.Logger
	// Now is the clock for flow tokens, requested_at and login-session age; default time.Now.
	Now func() time.Time
	// Ready reports whether the service can serve (database reachable, keys loaded); nil: always ready.
	Ready func(ctx context.Context) error
	// TrustedProxies are the proxies (IPs or CIDRs) whose X-Forwarded-For gin believes when it picks the
	// client IP recorded at login; default none, so the peer address is used.
	TrustedProxies []string
}

// Lifetimes and limits.
const (
	// flowLifetime bounds how long a user may take between the authorization request and the last page.
	flowLifetime = 30 * time.Minute
	// logoutLifetime bounds the logout confirmation page.
	logoutLifetime = 10 * time.Minute
	// loginSessionLifetime is how long a login session lasts after the password was entered: the
	// storage row has no expiry of its own, so the age of authenticated_at decides.
	loginSessionLifetime = 14 * 24 * time.Hour
	// maxBodyBytes bounds every request body (forms and OAuth requests); a login form with its flow
	// token is a few KiB.
	maxBodyBytes = 64 << 10
	// maxFlowTokenLen bounds the flow and logout tokens we are willing to verify.
	maxFlowTokenLen = 32 << 10
	// readyTimeout bounds the readiness check.
	readyTimeout = 2 * time.Second
)

// Cookie names.
const (
	sessionCookie = "kangrow_session"
	csrfCookie    = "kangrow_csrf"
)

// server holds the handlers' dependencies.
type server struct {
	p              *provider.Provider
	store          Store
	log            *slog.Logger
	now            func() time.Time
	ready          func(ctx context.Context) error
	trustedProxies []string

	// base is the issuer's path ("" or "/prefix"): our links and redirects start from it.
	base string
	// secure marks cookies Secure (issuer is https).
	secure bool

	flowKey, logoutKey, csrfKey []byte
	cop                         *http.CrossOriginProtection
	pages                       map[string]*template.Template
}

// New returns the public listener's handler: the protocol endpoints of deps.Provider, the browser
// pages, health checks and static assets, as listed in routes.go. It returns an error when a required
// dependency is missing or the issuer or a trusted proxy is malformed.
func New(deps Deps) (http.Handler, error) {
	s, err := newServer(deps)
	if err != nil {
		return nil, err
	}
	engine, err := s.routes()
	if err != nil {
		return nil, err
	}
	return engine, nil
}

func newServer(deps Deps) (*server, error) {
	switch {
	case deps.Provider == nil:
		return nil, errors.New("web: nil provider")
	case deps.Store == nil:
		return nil, errors.New("web: nil store")
	case len(deps.Secret) < 32:
		return nil, errors.New("web: system secret: want at least 32 bytes")
	}
	iss, err := url.Parse(deps.Issuer)
	if err != nil || (iss.Scheme != "http" && iss.Scheme != "https") || iss.Host == "" {
		return nil, fmt.Errorf("web: issuer %q: want an absolute http(s) URL", deps.Issuer)
	}
	s := &server{
		p:              deps.Provider,
		store:          deps.Store,
		log:            deps.Logger,
		now:            deps.Now,
		ready:          deps.Ready,
		trustedProxies: deps.TrustedProxies,
		base:           strings.TrimSuffix(iss.Path, "/"),
		secure:         iss.Scheme == "https",
	}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	if s.now == nil {
		s.now = time.Now
	}
	// One key per purpose, so a token made for one use never verifies for another.
	for _, k := range []struct {
		dst   *[]byte
		label string
	}{
		{&s.flowKey, "kangrow-auth web flow v1"},
		{&s.logoutKey, "kangrow-auth web logout v1"},
		{&s.csrfKey, "kangrow-auth web csrf v1"},
	} {
		if *k.dst, err = hkdf.Key(sha256.New, deps.Secret, nil, k.label, 32); err != nil {
			return nil, fmt.Errorf("web: derive key: %w", err)
		}
	}
	// No trusted origins and no bypass patterns: the OAuth endpoints that must accept cross-site
	// requests are simply not behind it (routes.go).
	s.cop = http.NewCrossOriginProtection()
	if s.pages, err = parsePages(); err != nil {
		return nil, err
	}
	return s, nil
}

// path returns p under the issuer's path, for our own links and redirects.
func (s *server) path(p string) string { return s.base + p }
