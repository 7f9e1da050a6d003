package main

import (
	"context"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/cdproto/fetch"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
	"golang.org/x/oauth2"

	"github.com/kangrow/auth/storage/dbtest"
)

// The browser test drives the real pages in headless Chromium, Debian's chromium (DESIGN.md,
// "Testing contract"; scripts/test installs it). Every request of a tab passes the Fetch domain:
// requests to the test server go on, the redirect to the client is recorded and failed before it is
// sent, and anything else is failed and reported, so the page reaches nothing but the server.

const (
	browserTimeout = 2 * time.Minute  // the whole browser, start to end
	stepTimeout    = 20 * time.Second // one action
	// msgBadCredentials of package web: the one answer to every failed sign-in.
	wantBadCredentials = "Incorrect email or password."
)

// TestBrowser: authorize → login page → a wrong password shows the generic error → the right one →
// consent names the client and the scopes in words → Approve → the browser goes to the client's
// redirect URI with code, state and iss, and x/oauth2 redeems the code. Then once more with
// JavaScript switched off, submitting with Enter. Screenshots go to KANGROW_TEST_ARTIFACTS when set.
func TestBrowser(t *testing.T) {
	exe := mustFindChromium(t)
	s := newE2EServer(t, dbtest.SQLiteURL(t))
	conf := s.oauth2Config()
	shots := t.TempDir()
	if dir := os.Getenv("KANGROW_TEST_ARTIFACTS"); dir != "" {
		shots = dir
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	browser := newTestBrowser(t, exe)

	t.Run("javascript", func(t *testing.T) {
		tab := newTestTab(t, browser, s.issuer)
		verifier, challenge := pkcePair()
		resp := tab.mustLoad("open the authorize URL", chromedp.Navigate(authorizeURL(conf, challenge)), 200, "/login?")
		for name, want := range map[string]string{
			"Content-Security-Policy": "frame-ancestors 'none'", "X-Frame-Options": "DENY",
			"X-Content-Type-Options": "nosniff", "Referrer-Policy": "no-referrer", "Cache-Control": "no-store",
		} {
			if got := responseHeader(resp.Headers, name); !strings.Contains(got, want) {
				t.Errorf("login page header %s = %q, want %q", name, got, want)
			}
		}
		tab.wantText("title", chromedp.Title(), "Sign in · KanGrow")
		tab.wantText("heading", chromedp.Text(chromedp.CSS("main h1")), "Sign in")
		tab.wantText("client line", chromedp.Text(chromedp.CSS("main h1 + p")), "to continue to Web App")
		tab.wantText("email label", chromedp.Text(chromedp.CSS(`label[for="email"]`)), "Email address")
		tab.wantText("password label", chromedp.Text(chromedp.CSS(`label[for="password"]`)), "Password")
		tab.wantText("focus", chromedp.Evaluate[string](`document.activeElement.id`), "email")
		if !tab.scripting() {
			t.Error("scripting is off in the JavaScript pass; the probe of the other pass proves nothing")
		}
		tab.screenshot(filepath.Join(shots, "login.png"))

		tab.mustDo("type a wrong password",
			chromedp.SendKeys(chromedp.ID("email"), "ada@example.test"),
			chromedp.SendKeys(chromedp.ID("password"), "not the password"))
		tab.mustLoad("submit", chromedp.Click(chromedp.CSS(`button[type="submit"]`)), 401, "/login")
		tab.wantText("error", chromedp.Text(chromedp.CSS(`p.error[role="alert"]`)), wantBadCredentials)
		tab.wantText("email kept", chromedp.Value(chromedp.ID("email")), "ada@example.test")
		tab.wantText("password cleared", chromedp.Value(chromedp.ID("password")), "")
		tab.wantText("focus after error", chromedp.Evaluate[string](`document.activeElement.id`), "password")
		tab.screenshot(filepath.Join(shots, "login-error.png"))

		tab.mustDo("type the password", chromedp.SendKeys(chromedp.ID("password"), e2ePassword))
		tab.mustLoad("sign in", chromedp.Click(chromedp.CSS(`button[type="submit"]`)), 200, "/consent?")
		tab.wantText("consent title", chromedp.Title(), "Allow access? · KanGrow")
		tab.wantText("client", chromedp.Text(chromedp.CSS("main h1 + p strong")), "Web App")
		scopes := mustValue(t, tab.ctx, "read the scopes", chromedp.Evaluate[[]string](
			`[...document.querySelectorAll("ul.scopes li")].map(li => li.innerText)`))
		want := []string{"Sign you in", "See your name and picture", "See your email address", "Keep you signed in (access while you are away)"}
		if !slices.Equal(scopes, want) {
			t.Errorf("consent lists %q, want %q", scopes, want)
		}
		tab.screenshot(filepath.Join(shots, "consent.png"))

		tab.mustDo("approve", chromedp.Click(chromedp.CSS(`button[name="action"][value="approve"]`)))
		s.mustRedeem(tab.mustCallback(), conf, verifier)
	})

	t.Run("no javascript", func(t *testing.T) {
		tab := newTestTab(t, browser, s.issuer)
		if _, err := chromedp.Call(tab.ctx, emulation.SetScriptExecutionDisabled, emulation.SetScriptExecutionDisabledParams{Value: true}); err != nil {
			t.Fatalf("disable JavaScript: %v", err)
		}
		verifier, challenge := pkcePair()
		// prompt=consent: the first pass's approval is remembered and would skip the page.
		tab.mustLoad("open the authorize URL", chromedp.Navigate(authorizeURL(conf, challenge, oauth2.SetAuthURLParam("prompt", "consent"))), 200, "/login?")
		if tab.scripting() {
			t.Fatal("the login page was parsed with scripting on")
		}
		tab.mustDo("type the email", chromedp.SendKeys(chromedp.ID("email"), "ada@example.test"))
		// Enter in the password field submits the form: the browser's implicit submission, no script.
		tab.mustLoad("sign in with Enter", chromedp.SendKeys(chromedp.ID("password"), e2ePassword+"\n"), 200, "/consent?")
		tab.mustDo("approve", chromedp.Click(chromedp.CSS(`button[name="action"][value="approve"]`)))
		s.mustRedeem(tab.mustCallback(), conf, verifier)
	})
}

func authorizeURL(conf *oauth2.Config, challenge string, extra ...oauth2.AuthCodeOption) string {
	return conf.AuthCodeURL(e2eState, append([]oauth2.AuthCodeOption{
		oauth2.SetAuthURLParam("nonce", e2eNonce),
		oauth2.SetAuthURLParam("code_challenge", challenge),
		oauth2.SetAuthURLParam("code_challenge_method", "S256"),
	}, extra...)...)
}

// mustRedeem checks the redirect to the client and redeems its code with x/oauth2 and the verifier.
func (s *e2eServer) mustRedeem(callback string, conf *oauth2.Config, verifier string) {
	s.t.Helper()
	u, err := url.Parse(callback)
	if err != nil || !strings.HasPrefix(callback, e2eRedirect+"?") {
		s.t.Fatalf("redirected to %q, want %s", callback, e2eRedirect)
	}
	q := u.Query()
	if q.Get("code") == "" || q.Get("state") != e2eState || q.Get("iss") != s.issuer {
		s.t.Fatalf("callback %v: want a code, state %q and iss %q", q, e2eState, s.issuer)
	}
	ctx, cancel := context.WithTimeout(context.Background(), stepTimeout)
	defer cancel()
	_, idt := s.exchange(ctx, conf, q.Get("code"), verifier)
	if idt.Subject != s.userID || idt.Nonce != e2eNonce {
		s.t.Errorf("ID token sub=%q nonce=%q", idt.Subject, idt.Nonce)
	}
}

// mustFindChromium returns CHROMIUM or /usr/bin/chromium. Without one the test is skipped on a laptop
// and fails when CI is set, as the database tests do (storage/dbtest).
func mustFindChromium(t *testing.T) string {
	t.Helper()
	exe := os.Getenv("CHROMIUM")
	if exe == "" {
		exe = "/usr/bin/chromium"
	}
	if _, err := exec.LookPath(exe); err != nil {
		msg := "no Chromium for the browser tests (scripts/test installs Debian's chromium; or set CHROMIUM): " + err.Error()
		if os.Getenv("CI") != "" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	return exe
}

// newTestBrowser starts headless Chromium with the flags this machine needs (no sandbox as root, no
// GPU, no background traffic, no QUIC) and a fresh profile. It lives at most browserTimeout.
func newTestBrowser(t *testing.T, exe string) context.Context {
	t.Helper()
	var output syncBuffer
	// chromedp's defaults, plus the flags the machine notes ask for, spelt out even where they repeat.
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(exe),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.Headless, chromedp.NoSandbox, chromedp.DisableGPU, chromedp.NoFirstRun,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		// Names resolve to nothing: the page only ever asks for 127.0.0.1 by address.
		chromedp.Flag("host-resolver-rules", "MAP * ~NOTFOUND, EXCLUDE 127.0.0.1"),
		chromedp.WindowSize(1024, 768),
		chromedp.CombinedOutput(&output),
	)
	ctx, cancel := context.WithTimeout(context.Background(), browserTimeout)
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(ctx, opts...)
	browserCtx, cancelBrowser := chromedp.NewContext(allocCtx)
	t.Cleanup(func() {
		cancelBrowser()
		cancelAlloc()
		cancel()
		if t.Failed() {
			t.Logf("chromium output:\n%s", output.String())
		}
	})
	if err := chromedp.Do(browserCtx); err != nil {
		t.Fatalf("start %s: %v\n%s", exe, err, output.String())
	}
	return browserCtx
}

// testTab is a tab with a profile of its own (no cookies from another tab) that reaches only the
// server at origin. Redirects to the client's URI land on callbacks instead of the network.
type testTab struct {
	t         *testing.T
	ctx       context.Context
	callbacks chan string
	mu        sync.Mutex
	refused   []string // requests to anywhere else
}

func newTestTab(t *testing.T, browser context.Context, origin string) *testTab {
	t.Helper()
	ctx, cancel := chromedp.NewContext(browser, chromedp.WithNewBrowserContext())
	tab := &testTab{t: t, ctx: ctx, callbacks: make(chan string, 4)}
	t.Cleanup(func() {
		cancel()
		tab.mu.Lock()
		defer tab.mu.Unlock()
		if len(tab.refused) > 0 {
			t.Errorf("the page asked for other addresses (refused): %q", tab.refused)
		}
	})
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("open a tab: %v", err)
	}
	paused := chromedp.Events(ctx, fetch.RequestPaused)
	go func() {
		for ev, err := range paused {
			if err != nil {
				return
			}
			u := ev.Request.URL
			if strings.HasPrefix(u, origin+"/") {
				_, _ = chromedp.Call(ctx, fetch.ContinueRequest, fetch.ContinueRequestParams{RequestID: ev.RequestID})
				continue
			}
			if strings.HasPrefix(u, e2eRedirect) {
				select {
				case tab.callbacks <- u:
				default:
				}
			} else {
				tab.mu.Lock()
				tab.refused = append(tab.refused, u)
				tab.mu.Unlock()
			}
			_, _ = chromedp.Call(ctx, fetch.FailRequest, fetch.FailRequestParams{RequestID: ev.RequestID, ErrorReason: network.ErrorReasonBlockedByClient})
		}
	}()
	if _, err := chromedp.Call(ctx, fetch.Enable, fetch.EnableParams{Patterns: []*fetch.RequestPattern{{URLPattern: "*"}}}); err != nil {
		t.Fatalf("intercept requests: %v", err)
	}
	return tab
}

// mustValue runs one action that returns a value, within stepTimeout.
func mustValue[T any](t *testing.T, tabCtx context.Context, what string, a chromedp.Action[T]) T {
	t.Helper()
	ctx, cancel := context.WithTimeout(tabCtx, stepTimeout)
	defer cancel()
	v, err := chromedp.Run(ctx, a)
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
	return v
}

func (tab *testTab) mustDo(what string, actions ...chromedp.Action[chromedp.Void]) {
	tab.t.Helper()
	ctx, cancel := context.WithTimeout(tab.ctx, stepTimeout)
	defer cancel()
	if err := chromedp.Do(ctx, actions...); err != nil {
		tab.t.Fatalf("%s: %v", what, err)
	}
}

// mustLoad runs the action and waits for the page it loads, which must answer status at a URL
// containing want.
func (tab *testTab) mustLoad(what string, a chromedp.Action[chromedp.Void], status int64, want string) *network.Response {
	tab.t.Helper()
	ctx, cancel := context.WithTimeout(tab.ctx, stepTimeout)
	defer cancel()
	resp, err := chromedp.RunResponse(ctx, a)
	if err != nil {
		tab.t.Fatalf("%s: %v", what, err)
	}
	if resp.Status != status || !strings.Contains(resp.URL, want) {
		tab.t.Fatalf("%s: got %d %s, want %d at %s", what, resp.Status, resp.URL, status, want)
	}
	return resp
}

func (tab *testTab) wantText(what string, a chromedp.Action[string], want string) {
	tab.t.Helper()
	if got := strings.TrimSpace(mustValue(tab.t, tab.ctx, what, a)); got != want {
		tab.t.Errorf("%s = %q, want %q", what, got, want)
	}
}

// scripting tells whether the page was parsed with scripting on. DevTools still evaluates with
// JavaScript disabled, but the HTML parser reads <noscript> content as markup only when it is off.
func (tab *testTab) scripting() bool {
	tab.t.Helper()
	return mustValue(tab.t, tab.ctx, "probe scripting", chromedp.Evaluate[int](
		`(() => { const n = document.createElement("noscript"); n.innerHTML = "<b>x</b>"; return n.children.length })()`)) == 0
}

// mustCallback waits for the redirect to the client's URI.
func (tab *testTab) mustCallback() string {
	tab.t.Helper()
	select {
	case u := <-tab.callbacks:
		return u
	case <-time.After(stepTimeout):
		ctx, cancel := context.WithTimeout(tab.ctx, 5*time.Second)
		defer cancel()
		loc, _ := chromedp.Run(ctx, chromedp.Location())
		tab.t.Fatalf("no redirect to %s; the tab is at %s", e2eRedirect, loc)
		return ""
	}
}

func (tab *testTab) screenshot(path string) {
	tab.t.Helper()
	png := mustValue(tab.t, tab.ctx, "screenshot", chromedp.CaptureScreenshot())
	if err := os.WriteFile(path, png, 0o644); err != nil {
		tab.t.Fatal(err)
	}
	tab.t.Logf("screenshot: %s", path)
}

// responseHeader reads a header case-insensitively (the protocol keeps the server's spelling).
func responseHeader(h network.Headers, name string) string {
	for k, v := range h {
		if strings.EqualFold(k, name) {
			s, _ := v.(string)
			return s
		}
	}
	return ""
}
