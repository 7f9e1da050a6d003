package main

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"time"

	"github.com/spf13/cobra"

	"github.com/kangrow/auth/migrations"
	"github.com/kangrow/auth/storage"
	"github.com/kangrow/auth/storage/password"
)

const (
	// shutdownTimeout bounds how long in-flight requests may take to finish after SIGINT/SIGTERM.
	shutdownTimeout = 15 * time.Second
	// readyTimeout bounds the database ping behind /health/ready.
	readyTimeout = 2 * time.Second
	// cleanupInterval is how often serve deletes expired codes, tokens and grants.
	cleanupInterval = 10 * time.Minute

	demoEmail       = "demo@kangrow.test"
	demoClientID    = "demo"
	demoRedirectURI = "http://localhost:8085/callback"
)

type serveOptions struct {
	dev, skipMigrate bool
}

func (a *app) serveCmd() *cobra.Command {
	var opts serveOptions
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Apply pending migrations under a lock, then serve",
		Args:  noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return a.serve(cmd.Context(), opts)
		},
	}
	cmd.Flags().BoolVar(&opts.dev, "dev", false,
		"development mode: embedded database, generated secret, demo user and client, text logs")
	cmd.Flags().BoolVar(&opts.skipMigrate, "skip-migrate", false,
		"do not apply pending migrations; refuse to start unless the schema is up to date")
	return cmd
}

// serve runs the provider until ctx is cancelled, then shuts down gracefully.
func (a *app) serve(ctx context.Context, opts serveOptions) error {
	cfg, err := a.serveConfig(opts.dev)
	if err != nil {
		return err
	}
	logger := newLogger(cfg.LogFormat, a.stderr)

	db, err := storage.Open(ctx, cfg.DatabaseURL)
	if err != nil {
		return err
	}
	defer func() { _ = storage.Close(db) }()
	if opts.skipMigrate {
		if err := checkMigrated(ctx, db); err != nil {
			return err
		}
	} else if err := migrations.Up(ctx, db); err != nil {
		return err
	}
	inst, err := newInstance(ctx, cfg, db, logger, nil)
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return fmt.Errorf("%s: %w", cfg.name(needAddr), err)
	}
	if cfg.Dev {
		if err := seedDemo(ctx, inst.store, cfg, a.stdout); err != nil {
			_ = ln.Close()
			return err
		}
	}

	background, stop := context.WithCancel(ctx)
	defer stop()
	go every(background, keyReloadInterval, func(ctx context.Context) { reloadKeys(ctx, inst.keys, logger) })
	go every(background, cleanupInterval, func(ctx context.Context) { cleanExpired(ctx, inst.store, logger) })
	return runServer(ctx, newHTTPServer(cfg, logger, inst.handler), ln, logger, cfg)
}

// serveConfig loads and checks everything serve needs. Under --dev it first fills in the secret from
// the file beside the dev database (creating it on first start).
func (a *app) serveConfig(dev bool) (*Config, error) {
	cfg, err := a.loadConfig(dev)
	if err != nil {
		return nil, err
	}
	if err := cfg.need(needDatabase); err != nil {
		return nil, err
	}
	if dev && cfg.Secret == "" {
		s, path, err := devSecret(cfg.DatabaseURL)
		if err != nil {
			return nil, err
		}
		cfg.Secret, cfg.origin[needSecret] = s, "dev secret file "+path
	}
	if err := cfg.need(needIssuer, needAddr, needAdmin, needSecret, needSMTP, needLog); err != nil {
		return nil, err
	}
	if dev && cfg.origin[needIssuer] == "default" {
		// serve --dev --addr :9000 should just work: follow the port unless the issuer was set.
		if _, port, _ := net.SplitHostPort(cfg.Addr); port != "" && port != "0" {
			cfg.Issuer = "http://localhost:" + port
		}
	}
	return cfg, nil
}

func newLogger(format string, w io.Writer) *slog.Logger {
	if format == "text" {
		return slog.New(slog.NewTextHandler(w, nil))
	}
	return slog.New(slog.NewJSONHandler(w, nil))
}

// newHTTPServer wraps the provider's handler in an http.Server with timeouts that bound slow clients.
func newHTTPServer(cfg *Config, logger *slog.Logger, handler http.Handler) *http.Server {
	return &http.Server{
		Addr:              cfg.Addr,
		Handler:           handler,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      30 * time.Second,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
	}
}

// cleanExpired deletes expired codes, tokens and grants, so the token tables do not grow without
// bound; serve calls it every cleanupInterval. Several replicas doing it at once is harmless.
func cleanExpired(ctx context.Context, store *storage.Store, logger *slog.Logger) {
	n, err := store.DeleteExpired(ctx, time.Now())
	switch {
	case err != nil && ctx.Err() == nil:
		logger.Warn("delete expired tokens", "err", err)
	case n > 0:
		logger.Info("deleted expired tokens", "rows", n)
	}
}

// runServer serves on ln until ctx is cancelled, then stops accepting and lets in-flight requests
// finish for up to shutdownTimeout.
func runServer(ctx context.Context, srv *http.Server, ln net.Listener, logger *slog.Logger, cfg *Config) error {
	logger.Info("listening", "addr", ln.Addr().String(), "issuer", cfg.Issuer)
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
	}
	logger.Info("shutting down", "timeout", shutdownTimeout.String())
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), shutdownTimeout)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	if err := <-errc; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("serve: %w", err)
	}
	logger.Info("stopped")
	return nil
}

// seedDemo creates, on the first --dev start, a demo user and a demo client, and prints how to use
// them: a ready-to-open authorize URL (with PKCE) and the command that redeems its code. The password
// and secret exist only as hashes afterwards, so later starts say so instead.
func seedDemo(ctx context.Context, s *storage.Store, cfg *Config, w io.Writer) error {
	userLine, err := seedDemoUser(ctx, s)
	if err != nil {
		return err
	}
	clientLine, secret, err := seedDemoClient(ctx, s)
	if err != nil {
		return err
	}
	if secret == "" {
		secret = "DEMO_CLIENT_SECRET"
	}
	verifier := randomString(32, base64.RawURLEncoding)
	sum := sha256.Sum256([]byte(verifier))
	authorize := cfg.Issuer + "/oauth2/authorize?" + url.Values{
		"client_id":             {demoClientID},
		"response_type":         {"code"},
		"redirect_uri":          {demoRedirectURI},
		"scope":                 {defaultScope},
		"state":                 {randomString(12, base64.RawURLEncoding)},
		"nonce":                 {randomString(12, base64.RawURLEncoding)},
		"code_challenge":        {base64.RawURLEncoding.EncodeToString(sum[:])},
		"code_challenge_method": {"S256"},
	}.Encode()
	_, err = fmt.Fprintf(w, "KanGrow Auth development mode (not for production)\n"+
		"  issuer:       %s\n"+
		"  database:     %s\n"+
		"  secret from:  %s\n"+
		"  demo user:    %s\n"+
		"  demo client:  %s\n\n"+
		"Sign in: open this URL, sign in as the demo user and approve; the browser then lands on\n"+
		"%s?code=…, where nothing listens: copy the code from the address bar.\n"+
		"  %s\n"+
		"Redeem the code:\n"+
		"  curl -s -u %s:%s -d grant_type=authorization_code -d code=CODE \\\n"+
		"       -d redirect_uri=%s -d code_verifier=%s %s/oauth2/token\n\n",
		cfg.Issuer, redactURL(cfg.DatabaseURL), cfg.name(needSecret), userLine, clientLine,
		demoRedirectURI, authorize,
		demoClientID, secret, url.QueryEscape(demoRedirectURI), verifier, cfg.Issuer)
	return err
}

func seedDemoUser(ctx context.Context, s *storage.Store) (string, error) {
	switch _, err := s.GetUserByEmail(ctx, demoEmail); {
	case err == nil:
		return demoEmail + " (created on an earlier start; its password was printed then)", nil
	case !errors.Is(err, storage.ErrNotFound):
		return "", fmt.Errorf("demo user: %w", err)
	}
	pw := randomString(12, base64.RawURLEncoding)
	hash, err := password.Hash(pw)
	if err != nil {
		return "", fmt.Errorf("demo user: hash password: %w", err)
	}
	now := time.Now().UTC().Truncate(time.Second)
	first, last := "Demo", "User"
	u := &storage.User{
		Email: demoEmail, HashedPassword: &hash, EmailVerified: true, ConfirmedAt: &now,
		FirstName: &first, LastName: &last,
	}
	if err := s.CreateUser(ctx, u); err != nil {
		if errors.Is(err, storage.ErrAlreadyExists) {
			return demoEmail + " (created by another process just now)", nil
		}
		return "", fmt.Errorf("demo user: %w", err)
	}
	return fmt.Sprintf("%s  password: %s", demoEmail, pw), nil
}

// seedDemoClient creates the demo client unless it exists, and returns the line to print and the
// plain secret (empty when the client was made earlier).
func seedDemoClient(ctx context.Context, s *storage.Store) (string, string, error) {
	switch _, err := s.GetClientByID(ctx, demoClientID); {
	case err == nil:
		return demoClientID + " (created on an earlier start; its secret was printed then)", "", nil
	case !errors.Is(err, storage.ErrNotFound):
		return "", "", fmt.Errorf("demo client: %w", err)
	}
	c, secret, err := clientInput{
		id:           demoClientID,
		name:         "KanGrow demo app",
		scope:        defaultScope,
		redirectURIs: []string{demoRedirectURI},
		grantTypes:   []string{grantAuthorizationCode, grantRefreshToken},
	}.client()
	if err != nil {
		return "", "", fmt.Errorf("demo client: %w", err)
	}
	if err := s.CreateClient(ctx, c); err != nil {
		if errors.Is(err, storage.ErrAlreadyExists) {
			return demoClientID + " (created by another process just now)", "", nil
		}
		return "", "", fmt.Errorf("demo client: %w", err)
	}
	return fmt.Sprintf("%s  secret: %s  redirect URI: %s", demoClientID, secret, demoRedirectURI), secret, nil
}

// redactURL hides the password of a URL for printing.
func redactURL(raw string) string {
	if u, err := url.Parse(raw); err == nil {
		return u.Redacted()
	}
	return "(unprintable URL)"
}
