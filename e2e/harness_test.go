// Package e2e_test is a black-box conformance suite for kangrow-auth. It builds the real binary, runs
// `kangrow-auth serve` as a subprocess on a loopback port against a fresh PostgreSQL database, registers
// clients and a user through the command line, and then drives the public HTTP surface only: the way
// the OpenID Foundation's Basic OP and Config OP certification plans do, plus the checks of RFC 9700
// (OAuth 2.0 Security Best Current Practice) and the promises of issue 3.
//
// PostgreSQL is found through TEST_DATABASE_URL, else postgres://postgres@127.0.0.1:5432/test (then
// .../postgres). Without one the suite is skipped on a laptop and fails when CI is set.
//
//	go test -count=1 -v ./e2e/
//	go test -count=1 -v -run 'TestConformance/BasicOP/oidcc-server$' ./e2e/
package e2e_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"github.com/jackc/pgx/v5"
	"golang.org/x/oauth2"
)

// Bounds on everything that waits.
const (
	buildTimeout    = 4 * time.Minute
	cliTimeout      = 30 * time.Second
	readyTimeout    = 30 * time.Second
	stopTimeout     = 20 * time.Second
	httpTimeout     = 15 * time.Second
	dbSetupTimeout  = 10 * time.Second
	alicePassword   = "a long password for alice"
	aliceEmail      = "alice@example.test"
	serviceScope    = "reports.read"
	defaultScope    = "openid profile email offline_access"
	serveLogTailLen = 8 << 10
)

// client is an OAuth client registered through `kangrow-auth clients create`.
type client struct {
	ID, Secret string
	Redirect   string // the one registered redirect URI (empty for the service client)
	PostLogout string
	Public     bool
	Style      oauth2.AuthStyle // how it authenticates at the token endpoint
}

// suite is one running provider and what was registered in it.
type suite struct {
	issuer  string
	bin     string
	env     []string // the subprocess environment
	logPath string

	meta    map[string]any // the OpenID Provider metadata, as served
	rawMeta []byte
	jwks    map[string]jwk // published keys by kid
	op      *oidc.Provider

	basic   client // client_secret_basic (the plan's default client)
	post    client // client_secret_post
	second  client // a second confidential client ("client2" of the plan)
	public  client // a public client (none, PKCE)
	service client // client_credentials only

	userID string
	http   *http.Client // no redirects followed, bounded
}

type jwk struct {
	Kty, Kid, Alg, Use string
	raw                map[string]any
}

// startSuite builds the binary, creates a database, registers clients and the user with the command
// line, starts `serve` and waits until it is ready. Everything is undone in t.Cleanup.
func startSuite(t *testing.T) *suite {
	t.Helper()
	root := moduleRoot(t)
	dbURL := freshDatabase(t)
	dir := t.TempDir()

	s := &suite{bin: filepath.Join(dir, "kangrow-auth"), logPath: filepath.Join(dir, "serve.log")}
	build(t, root, s.bin)

	port := freePort(t)
	s.issuer = fmt.Sprintf("http://127.0.0.1:%d", port)
	secret := make([]byte, 32)
	_, _ = rand.Read(secret)
	s.env = append(cleanEnv(),
		"KANGROW_DATABASE_URL="+dbURL,
		"KANGROW_SECRET="+base64.StdEncoding.EncodeToString(secret),
		"KANGROW_ISSUER="+s.issuer,
		fmt.Sprintf("KANGROW_ADDR=127.0.0.1:%d", port),
		fmt.Sprintf("KANGROW_ADMIN_ADDR=127.0.0.1:%d", freePort(t)),
		"KANGROW_LOG_FORMAT=text",
	)
	s.http = &http.Client{
		Timeout:       httpTimeout,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}

	s.cli(t, "migrate", "up")
	// Redirect URIs are loopback addresses nobody listens on: the browser stops at the redirect.
	cb := fmt.Sprintf("http://127.0.0.1:%d", freePort(t))
	s.basic = s.createClient(t, client{ID: "conformance-rp", Redirect: cb + "/cb", PostLogout: cb + "/bye", Style: oauth2.AuthStyleInHeader},
		"--name", "Conformance RP")
	s.post = s.createClient(t, client{ID: "conformance-rp-post", Redirect: cb + "/cb-post", PostLogout: cb + "/bye", Style: oauth2.AuthStyleInParams},
		"--name", "Conformance RP (post)", "--token-endpoint-auth-method", "client_secret_post")
	s.second = s.createClient(t, client{ID: "conformance-rp-2", Redirect: cb + "/cb2", PostLogout: cb + "/bye", Style: oauth2.AuthStyleInHeader},
		"--name", "Conformance RP 2")
	// A native app: loopback redirect registered without a port (RFC 8252 §7.3).
	s.public = s.createClient(t, client{ID: "conformance-native", Redirect: "http://127.0.0.1/native/cb", Public: true, Style: oauth2.AuthStyleInParams},
		"--name", "Conformance native app", "--public")
	s.service = s.createClient(t, client{ID: "conformance-service", Style: oauth2.AuthStyleInHeader},
		"--name", "Conformance service", "--grant-type", "client_credentials", "--scope", serviceScope)

	out := s.cli(t, "users", "create", "--email", aliceEmail, "--password", alicePassword, "--verified",
		"--first-name", "Alice", "--last-name", "Smith")
	var u struct {
		ID string `json:"id"`
	}
	if err := json.Unmarshal(out, &u); err != nil || u.ID == "" {
		t.Fatalf("users create printed %q: %v", out, err)
	}
	s.userID = u.ID
	// Users whose accounts are banned, blocked or deleted while they hold sessions and tokens.
	for _, name := range []string{"bob", "carol", "dave"} {
		s.cli(t, "users", "create", "--email", name+"@example.test", "--password", alicePassword, "--verified",
			"--first-name", name)
	}

	s.serve(t)

	ctx, cancel := context.WithTimeout(context.Background(), httpTimeout)
	defer cancel()
	ctx = oidc.ClientContext(ctx, s.http)
	var err error
	if s.op, err = oidc.NewProvider(ctx, s.issuer); err != nil {
		t.Fatalf("go-oidc discovery of %s: %v", s.issuer, err)
	}
	s.rawMeta = s.mustGet(t, s.issuer+"/.well-known/openid-configuration")
	if err := json.Unmarshal(s.rawMeta, &s.meta); err != nil {
		t.Fatalf("discovery document: %v", err)
	}
	s.jwks = map[string]jwk{}
	var set struct {
		Keys []map[string]any `json:"keys"`
	}
	if err := json.Unmarshal(s.mustGet(t, str(s.meta["jwks_uri"])), &set); err != nil {
		t.Fatalf("JWKS: %v", err)
	}
	for _, k := range set.Keys {
		s.jwks[str(k["kid"])] = jwk{Kty: str(k["kty"]), Kid: str(k["kid"]), Alg: str(k["alg"]), Use: str(k["use"]), raw: k}
	}
	return s
}

// createClient runs `clients create` with the client's ID and redirect URIs and extra flags, and takes
// the generated secret from its output.
func (s *suite) createClient(t *testing.T, c client, flags ...string) client {
	t.Helper()
	args := append([]string{"clients", "create", "--id", c.ID}, flags...)
	if c.Redirect != "" {
		args = append(args, "--redirect-uri", c.Redirect)
	}
	if c.PostLogout != "" {
		args = append(args, "--post-logout-redirect-uri", c.PostLogout)
	}
	out := s.cli(t, args...)
	var got struct {
		ID     string `json:"client_id"`
		Secret string `json:"client_secret"`
	}
	if err := json.Unmarshal(out, &got); err != nil || got.ID != c.ID {
		t.Fatalf("clients create printed %q: %v", out, err)
	}
	if !c.Public && got.Secret == "" {
		t.Fatalf("clients create printed no secret for confidential client %s", c.ID)
	}
	c.Secret = got.Secret
	return c
}

// cli runs the binary with args and returns its standard output; a non-zero exit fails the test.
func (s *suite) cli(t *testing.T, args ...string) []byte {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), cliTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, s.bin, args...)
	cmd.Env = s.env
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("kangrow-auth %s: %v\n%s", strings.Join(args[:min(len(args), 3)], " "), err, stderr.String())
	}
	return out
}

// serve starts `kangrow-auth serve`, waits for /health/ready, and stops it with SIGTERM in t.Cleanup.
func (s *suite) serve(t *testing.T) {
	t.Helper()
	logFile, err := os.Create(s.logPath)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(s.bin, "serve")
	cmd.Env = s.env
	cmd.Stdout, cmd.Stderr = logFile, logFile
	if err := cmd.Start(); err != nil {
		_ = logFile.Close()
		t.Fatalf("start serve: %v", err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	t.Cleanup(func() {
		defer logFile.Close()
		_ = cmd.Process.Signal(syscall.SIGTERM)
		select {
		case err := <-exited:
			if err != nil {
				t.Errorf("serve exited with %v after SIGTERM (want a clean exit)", err)
			}
		case <-time.After(stopTimeout):
			_ = cmd.Process.Kill()
			<-exited
			t.Errorf("serve did not stop within %s of SIGTERM", stopTimeout)
		}
		// Issue 3: no request of any kind gets a 5xx, and nothing panics.
		if bad := s.serverErrors(); len(bad) > 0 {
			t.Errorf("the provider answered %d requests with a 5xx or logged a panic:\n%s", len(bad), strings.Join(bad, "\n"))
		}
		if t.Failed() {
			t.Logf("serve log (tail):\n%s", s.logTail())
		}
	})

	deadline := time.Now().Add(readyTimeout)
	for {
		select {
		case err := <-exited:
			exited <- err // for the cleanup
			t.Fatalf("serve exited before it was ready: %v\n%s", err, s.logTail())
		default:
		}
		resp, err := s.http.Get(s.issuer + "/health/ready")
		if err == nil {
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("serve not ready within %s (last: %v)\n%s", readyTimeout, err, s.logTail())
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// serverErrors are the log lines of 5xx answers and panics.
func (s *suite) serverErrors() []string {
	b, _ := os.ReadFile(s.logPath)
	var out []string
	for _, line := range strings.Split(string(b), "\n") {
		if strings.Contains(line, "route=/health/ready") {
			continue // 503 while starting up is the readiness probe doing its job
		}
		if strings.Contains(line, " status=5") || strings.Contains(line, "msg=panic") {
			out = append(out, line)
		}
	}
	return out
}

func (s *suite) logTail() string {
	b, _ := os.ReadFile(s.logPath)
	if len(b) > serveLogTailLen {
		b = b[len(b)-serveLogTailLen:]
	}
	return string(b)
}

func (s *suite) mustGet(t *testing.T, u string) []byte {
	t.Helper()
	resp, err := s.http.Get(u)
	if err != nil {
		t.Fatalf("GET %s: %v", u, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: status %d: %s", u, resp.StatusCode, b)
	}
	return b
}

// moduleRoot is the directory of the go.mod this package belongs to.
func moduleRoot(t *testing.T) string {
	t.Helper()
	out, err := exec.Command("go", "env", "GOMOD").Output()
	if err != nil || strings.TrimSpace(string(out)) == "" || strings.TrimSpace(string(out)) == os.DevNull {
		t.Fatalf("go env GOMOD: %v (%q)", err, out)
	}
	return filepath.Dir(strings.TrimSpace(string(out)))
}

// build compiles ./cmd/kangrow-auth into bin.
func build(t *testing.T, root, bin string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), buildTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, "go", "build", "-o", bin, "./cmd/kangrow-auth")
	cmd.Dir = root
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build ./cmd/kangrow-auth: %v\n%s", err, out)
	}
}

// cleanEnv is the test's environment without any KANGROW_ setting, so that nothing of the caller's
// configuration leaks into the provider under test.
func cleanEnv() []string {
	var out []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "KANGROW_") {
			out = append(out, kv)
		}
	}
	return out
}

func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("free port: %v", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// freshDatabase creates an empty PostgreSQL database for the suite and drops it in t.Cleanup (which
// runs after the server has stopped: cleanups run last-registered first).
func freshDatabase(t *testing.T) string {
	t.Helper()
	candidates := []string{os.Getenv("TEST_DATABASE_URL")}
	if candidates[0] == "" {
		candidates = []string{
			"postgres://postgres@127.0.0.1:5432/test?sslmode=disable",
			"postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable",
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), dbSetupTimeout)
	defer cancel()
	var (
		conn     *pgx.Conn
		adminURL string
		errs     []error
	)
	for _, u := range candidates {
		c, err := pgx.Connect(ctx, u)
		if err == nil {
			conn, adminURL = c, u
			break
		}
		errs = append(errs, err)
	}
	if conn == nil {
		msg := fmt.Sprintf("no PostgreSQL for the conformance suite (set TEST_DATABASE_URL): %v", errors.Join(errs...))
		if os.Getenv("CI") != "" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	name := "kangrow_e2e_" + randomHex(6)
	if _, err := conn.Exec(ctx, "CREATE DATABASE "+name); err != nil {
		_ = conn.Close(ctx)
		t.Fatalf("create database: %v", err)
	}
	_ = conn.Close(ctx)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), dbSetupTimeout)
		defer cancel()
		c, err := pgx.Connect(ctx, adminURL)
		if err != nil {
			t.Logf("drop database %s: %v", name, err)
			return
		}
		defer c.Close(ctx)
		if _, err := c.Exec(ctx, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)"); err != nil {
			t.Logf("drop database %s: %v", name, err)
		}
	})
	u, err := url.Parse(adminURL)
	if err != nil {
		t.Fatal(err)
	}
	u.Path = "/" + name
	return u.String()
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// randomValue is an unguessable state or nonce of n base64url characters.
func randomValue(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)[:n]
}

func str(v any) string {
	s, _ := v.(string)
	return s
}
