package main

import (
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// server is a serve command running in-process.
type server struct {
	base           string // http://127.0.0.1:PORT
	stdout, stderr *syncBuffer
	stop           func() error // cancels serve's context and returns run's result
}

var listeningRE = regexp.MustCompile(`msg=listening addr=(\S+)|"msg":"listening","addr":"([^"]+)"`)

// startServe runs `serve args…` on a free port and waits until it listens.
func startServe(t *testing.T, e env, args ...string) *server {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	s := &server{stdout: &syncBuffer{}, stderr: &syncBuffer{}}
	var result error
	finished := make(chan struct{})
	go func() {
		defer close(finished)
		result = run(ctx, append([]string{"serve", "--addr", "127.0.0.1:0"}, args...), e.getenv, s.stdout, s.stderr)
	}()
	s.stop = func() error {
		cancel()
		select {
		case <-finished:
		case <-time.After(10 * time.Second):
			t.Fatal("serve did not return within 10s of its context being cancelled")
		}
		return result
	}
	t.Cleanup(func() { _ = s.stop() })

	deadline := time.After(60 * time.Second)
	for {
		if m := listeningRE.FindStringSubmatch(s.stderr.String()); m != nil {
			s.base = "http://" + m[1] + m[2]
			return s
		}
		select {
		case <-finished:
			t.Fatalf("serve ended before listening: %v\nstderr: %s", result, s.stderr.String())
		case <-deadline:
			t.Fatalf("serve did not log its address within 60s; stderr: %s", s.stderr.String())
		case <-time.After(20 * time.Millisecond):
		}
	}
}

func get(t *testing.T, url string) (int, string) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer func() { _ = resp.Body.Close() }()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, string(b)
}

func assertHealthy(t *testing.T, s *server) {
	t.Helper()
	for _, path := range []string{"/health/alive", "/health/ready"} {
		code, body := get(t, s.base+path)
		if code != http.StatusOK || strings.TrimSpace(body) != `{"status":"ok"}` {
			t.Errorf("GET %s = %d %q, want 200 {\"status\":\"ok\"}", path, code, body)
		}
	}
	if code, _ := get(t, s.base+"/nope"); code != http.StatusNotFound {
		t.Errorf("GET /nope = %d, want 404", code)
	}
}

func TestServeDev(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	dbURL := "sqlite:" + filepath.Join(dir, "kangrow-dev.db")

	s := startServe(t, env{}, "--dev", "--database-url", dbURL)
	assertHealthy(t, s)
	out := s.stdout.String()
	pw := regexp.MustCompile(`demo@kangrow\.test  password: (\S+)`).FindStringSubmatch(out)
	secret := regexp.MustCompile(`demo  secret: (\S+)  redirect URI: http://localhost:8085/callback`).FindStringSubmatch(out)
	if pw == nil || secret == nil {
		t.Fatalf("first --dev start did not print the demo user's password and the demo client's secret:\n%s", out)
	}
	if !strings.Contains(s.stderr.String(), "level=INFO") {
		t.Errorf("--dev logs are not text: %s", s.stderr.String())
	}
	assertDevURLWorks(t, s, pw[1])
	start := time.Now()
	if err := s.stop(); err != nil {
		t.Fatalf("serve returned %v after cancel, want nil", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("serve took %v to stop", d)
	}
	secretFile := filepath.Join(dir, devSecretFile)
	fi, err := os.Stat(secretFile)
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("dev secret file: %v, mode %v; want it beside the database with mode 0600", err, fi.Mode().Perm())
	}
	kept, _ := os.ReadFile(secretFile)

	// The demo user and client can sign in: the printed credentials match what is stored.
	e := env{"KANGROW_DATABASE_URL": dbURL}
	if u := mustDecode[userJSON](t, mustRun(t, e, "users", "get", "demo@kangrow.test")); !u.EmailVerified || !u.HasPassword {
		t.Errorf("demo user %+v, want a verified user with a password", u)
	}
	c := mustDecode[clientJSON](t, mustRun(t, e, "clients", "get", "demo"))
	if c.Public || c.SkipConsent || len(c.RedirectURIs) != 1 || c.RedirectURIs[0] != demoRedirectURI {
		t.Errorf("demo client %+v", c)
	}

	// A second start reuses everything and prints no new credentials.
	s = startServe(t, env{}, "--dev", "--database-url", dbURL)
	assertHealthy(t, s)
	if err := s.stop(); err != nil {
		t.Fatal(err)
	}
	out = s.stdout.String()
	if strings.Contains(out, pw[1]) || strings.Contains(out, secret[1]) || !strings.Contains(out, "created on an earlier start") {
		t.Errorf("second --dev start printed:\n%s", out)
	}
	if again, _ := os.ReadFile(secretFile); string(again) != string(kept) {
		t.Error("second --dev start replaced the dev secret")
	}
	if n := len(mustDecode[[]userJSON](t, mustRun(t, e, "users", "list"))); n != 1 {
		t.Errorf("%d users after two --dev starts, want 1", n)
	}
}

func TestServe(t *testing.T) {
	t.Parallel()
	eachStore(t, func(t *testing.T, e env) {
		e = e.with("KANGROW_SECRET", strings.Repeat("s", 32))

		// --skip-migrate refuses an unmigrated database.
		mustFail(t, e, []string{"serve", "--skip-migrate", "--addr", "127.0.0.1:0"}, "database is not migrated")

		s := startServe(t, e)
		assertHealthy(t, s)
		if strings.Contains(s.stdout.String(), "demo") {
			t.Errorf("serve without --dev printed demo credentials: %s", s.stdout.String())
		}
		if !strings.Contains(s.stderr.String(), `"msg":"listening"`) {
			t.Errorf("logs are not JSON by default: %s", s.stderr.String())
		}
		if err := s.stop(); err != nil {
			t.Fatal(err)
		}
		// serve migrated the database; other commands now work, and so does --skip-migrate.
		mustRun(t, e, "clients", "list")
		s = startServe(t, e, "--skip-migrate")
		assertHealthy(t, s)
		if err := s.stop(); err != nil {
			t.Fatal(err)
		}
	})
}

func TestServeAddressInUse(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = ln.Close() }()
	e := env{"KANGROW_DATABASE_URL": "sqlite:" + filepath.Join(t.TempDir(), "x.db"), "KANGROW_SECRET": strings.Repeat("s", 32)}
	mustFail(t, e, []string{"serve", "--addr", ln.Addr().String()}, "--addr", "address already in use")
}

func httpTestServer(t *testing.T, h http.Handler) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: time.Second}
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { _ = srv.Close() })
	return "http://" + ln.Addr().String()
}

// TestGracefulShutdown: a request in flight when the context is cancelled still gets its answer, and
// runServer returns nil once it has.
func TestGracefulShutdown(t *testing.T) {
	t.Parallel()
	started := make(chan struct{})
	mux := http.NewServeMux()
	mux.HandleFunc("/slow", func(w http.ResponseWriter, _ *http.Request) {
		close(started)
		time.Sleep(300 * time.Millisecond)
		_, _ = io.WriteString(w, "done")
	})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	go func() {
		done <- runServer(ctx, &http.Server{Handler: mux, ReadHeaderTimeout: time.Second}, ln, logger, &Config{})
	}()

	type result struct {
		code int
		body string
	}
	got := make(chan result, 1)
	go func() {
		resp, err := http.Get("http://" + ln.Addr().String() + "/slow")
		if err != nil {
			got <- result{body: err.Error()}
			return
		}
		b, _ := io.ReadAll(resp.Body)
		_ = resp.Body.Close()
		got <- result{resp.StatusCode, string(b)}
	}()
	<-started
	cancel()
	if r := <-got; r.code != http.StatusOK || r.body != "done" {
		t.Errorf("in-flight request got %d %q, want 200 done", r.code, r.body)
	}
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("runServer = %v, want nil", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("runServer did not return after shutdown")
	}
}

// assertDevURLWorks follows the authorize URL --dev printed through the login and consent pages as the
// demo user, and redeems the code exactly as the printed curl command does.
func assertDevURLWorks(t *testing.T, s *server, demoPassword string) {
	t.Helper()
	out := s.stdout.String()
	authorize := regexp.MustCompile(`(?m)^  (http://\S+/oauth2/authorize\?\S+)$`).FindStringSubmatch(out)
	curl := regexp.MustCompile(`curl -s -u (\S+):(\S+) -d grant_type=authorization_code -d code=CODE \\\n\s+-d redirect_uri=(\S+) -d code_verifier=(\S+) (\S+)`).FindStringSubmatch(out)
	if authorize == nil || curl == nil {
		t.Fatalf("--dev did not print an authorize URL and a curl command:\n%s", out)
	}
	u, err := url.Parse(authorize[1])
	if err != nil {
		t.Fatal(err)
	}
	// The printed issuer follows the listener, but the test reaches it through s.base.
	issuer := u.Scheme + "://" + u.Host
	target := strings.Replace(authorize[1], issuer, s.base, 1)
	b := newBrowser(t, s.base, demoRedirectURI)
	b.iss = issuer
	q := b.callback(b.approve(b.loginAs(b.get(target), demoEmail, demoPassword)))
	code := q.Get("code")
	if code == "" {
		t.Fatalf("printed authorize URL gave %v", q)
	}
	redirect, _ := url.QueryUnescape(curl[3])
	form := url.Values{"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {redirect}, "code_verifier": {curl[4]}}
	req, _ := http.NewRequest(http.MethodPost, strings.Replace(curl[5], issuer, s.base, 1), strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(curl[1], curl[2])
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = resp.Body.Close() }()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), `"id_token"`) {
		t.Fatalf("printed token command: %d %s", resp.StatusCode, body)
	}
}
