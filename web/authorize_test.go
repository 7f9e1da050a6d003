package web_test

import (
	"context"
	"html"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/kangrow/auth/storage"
)

// TestAuthorizeCodeFlow walks the whole flow: authorize → login → consent → code → tokens, then a second
// request that the remembered consent lets through at once. It runs on SQLite and PostgreSQL.
func TestAuthorizeCodeFlow(t *testing.T) {
	for _, db := range testDatabases {
		t.Run(db.name, func(t *testing.T) {
			testAuthorizeCodeFlow(t, newTestEnvOn(t, db.open(t)))
		})
	}
}

func testAuthorizeCodeFlow(t *testing.T, env *testEnv) {
	alice := env.mustCreateUser("alice@example.test")
	b := env.newBrowser()

	start := b.get(authorizeURL(url.Values{"login_hint": {"alice@example.test"}, "scope": {"openid email profile"}}))
	q := mustRedirectTo(t, start, "/login?flow=")
	if len(q) != 1 {
		t.Errorf("login redirect carries more than the flow: %v", q)
	}
	page := b.get(start.Header().Get("Location"))
	mustStatus(t, page, http.StatusOK)
	mustContain(t, page, `value="alice@example.test"`) // login_hint
	mustContain(t, page, "to continue to <strong>"+appName+"</strong>")

	rec := b.submit(page, "/login", url.Values{"email": {"alice@example.test"}, "password": {testPassword}})
	mustRedirectTo(t, rec, "/oauth2/authorize/resume?flow=")
	rec = b.get(rec.Header().Get("Location"))
	mustRedirectTo(t, rec, "/consent?flow=")

	consent := b.get(rec.Header().Get("Location"))
	mustStatus(t, consent, http.StatusOK)
	for _, snippet := range []string{appName, "Sign you in", "See your email address", "See your name and picture", "Approve", "Deny", "alice@example.test"} {
		mustContain(t, consent, snippet)
	}
	if strings.Contains(consent.Body.String(), "Keep you signed in") {
		t.Error("consent page lists offline_access, which was not requested")
	}
	rec = b.submit(consent, "/consent", url.Values{"action": {"approve"}})
	mustRedirectTo(t, rec, "/oauth2/authorize/resume?flow=")
	rec = b.get(rec.Header().Get("Location"))
	cb := mustRedirectTo(t, rec, appRedirect+"?")
	if cb.Get("code") == "" || cb.Get("state") != testState || cb.Get("iss") != testIssuer {
		t.Fatalf("callback = %v", cb)
	}
	consented, err := env.store.GetConsent(context.Background(), alice.ID, appID)
	if err != nil || !slices.Equal(sortedCopy(consented.Scopes), []string{"email", "openid", "profile"}) {
		t.Fatalf("remembered consent = %+v, %v", consented, err)
	}

	tokens := env.exchange(cb.Get("code"))
	if tokens["id_token"] == nil || tokens["access_token"] == nil {
		t.Fatalf("token response = %v", tokens)
	}
	if _, ok := tokens["refresh_token"]; ok {
		t.Error("refresh token issued without offline_access")
	}
	if scope, _ := tokens["scope"].(string); !slices.Equal(sortedCopy(strings.Fields(scope)), []string{"email", "openid", "profile"}) {
		t.Errorf("granted scope = %q", scope)
	}
	userinfo := httptest.NewRequest(http.MethodGet, "/userinfo", nil)
	userinfo.Header.Set("Authorization", "Bearer "+tokens["access_token"].(string))
	ui := httptest.NewRecorder()
	env.h.ServeHTTP(ui, userinfo)
	mustStatus(t, ui, http.StatusOK)
	mustContain(t, ui, `"email":"alice@example.test"`)

	// Same scopes again: no login, no consent.
	again := b.get(authorizeURL(url.Values{"scope": {"openid email"}}))
	if q := mustRedirectTo(t, again, appRedirect+"?"); q.Get("code") == "" {
		t.Fatalf("second request: %v", q)
	}
	// prompt=consent asks again even though it was remembered; approving does not loop.
	rec = b.get(authorizeURL(url.Values{"prompt": {"consent"}}))
	mustRedirectTo(t, rec, "/consent?flow=")
	rec = b.submit(b.get(rec.Header().Get("Location")), "/consent", url.Values{"action": {"approve"}})
	if q := mustRedirectTo(t, b.follow(rec), appRedirect+"?"); q.Get("code") == "" {
		t.Fatalf("prompt=consent: %v", q)
	}
}

func sortedCopy(s []string) []string {
	c := slices.Clone(s)
	slices.Sort(c)
	return c
}

func TestAuthorizeByPOST(t *testing.T) {
	env := newTestEnv(t)
	env.mustCreateUser("alice@example.test")
	b := env.newBrowser()
	b.signIn("alice@example.test")
	u, _ := url.Parse(authorizeURL(nil))
	// A third-party site's form: cross-site, no CSRF token, still accepted.
	rec := b.do(http.MethodPost, "/oauth2/authorize", u.Query(), header{"Sec-Fetch-Site": "cross-site", "Origin": "https://app.example.test"})
	mustRedirectTo(t, rec, "/consent?flow=")
}

func TestConsentDeny(t *testing.T) {
	env := newTestEnv(t)
	alice := env.mustCreateUser("alice@example.test")
	b := env.newBrowser()
	b.signIn("alice@example.test")
	consent := b.follow(b.get(authorizeURL(nil)))
	mustContain(t, consent, "Allow access?")
	rec := b.follow(b.submit(consent, "/consent", url.Values{"action": {"deny"}}))
	q := mustRedirectTo(t, rec, appRedirect+"?")
	if q.Get("error") != "access_denied" || q.Get("state") != testState || q.Get("iss") != testIssuer || q.Get("code") != "" {
		t.Fatalf("deny → %v", q)
	}
	if _, err := env.store.GetConsent(context.Background(), alice.ID, appID); err == nil {
		t.Error("a denial was remembered as consent")
	}
}

// TestConsentBoundToSession: an approval made by one user is no approval for another who gets hold
// of the flow token.
func TestConsentBoundToSession(t *testing.T) {
	env := newTestEnv(t)
	env.mustCreateUser("mallory@example.test")
	env.mustCreateUser("alice@example.test")
	mallory := env.newBrowser()
	mallory.signIn("mallory@example.test")
	consent := mallory.follow(mallory.get(authorizeURL(nil)))
	approved := mallory.submit(consent, "/consent", url.Values{"action": {"approve"}})
	resume := approved.Header().Get("Location")
	mustRedirectTo(t, approved, "/oauth2/authorize/resume?flow=")

	alice := env.newBrowser()
	alice.signIn("alice@example.test")
	mustRedirectTo(t, alice.get(resume), "/consent?flow=")
}

func TestConsentSkippedForFirstParty(t *testing.T) {
	env := newTestEnv(t)
	env.mustCreateUser("alice@example.test")
	b := env.newBrowser()
	b.signIn("alice@example.test")
	rec := b.get(authorizeURL(url.Values{"client_id": {firstPartyID}, "redirect_uri": {firstRedirect}, "scope": {"openid offline_access"}, "prompt": {"consent"}}))
	q := mustRedirectTo(t, rec, firstRedirect+"?")
	if q.Get("code") == "" {
		t.Fatalf("first-party client: %v", q)
	}
}

func TestOfflineAccessNeedsConsent(t *testing.T) {
	env := newTestEnv(t)
	alice := env.mustCreateUser("alice@example.test")
	ctx := context.Background()
	if err := env.store.SaveConsent(ctx, alice.ID, appID, []string{"openid", "email"}); err != nil {
		t.Fatal(err)
	}
	b := env.newBrowser()
	b.signIn("alice@example.test")
	// Remembered consent without offline_access does not cover it.
	rec := b.get(authorizeURL(url.Values{"scope": {"openid email offline_access"}}))
	mustRedirectTo(t, rec, "/consent?flow=")
	consent := b.get(rec.Header().Get("Location"))
	mustContain(t, consent, "Keep you signed in (access while you are away)")
	cb := mustRedirectTo(t, b.follow(b.submit(consent, "/consent", url.Values{"action": {"approve"}})), appRedirect+"?")
	tokens := env.exchange(cb.Get("code"))
	if _, ok := tokens["refresh_token"]; !ok {
		t.Fatalf("no refresh token after consenting to offline_access: %v", tokens)
	}
}

func TestPromptNone(t *testing.T) {
	env := newTestEnv(t)
	env.mustCreateUser("alice@example.test")
	tests := []struct {
		name      string
		signedIn  bool
		wantError string
	}{
		{name: "no login session", wantError: "login_required"},
		{name: "no consent", signedIn: true, wantError: "consent_required"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			b := env.newBrowser()
			if tc.signedIn {
				b.signIn("alice@example.test")
			}
			q := mustRedirectTo(t, b.get(authorizeURL(url.Values{"prompt": {"none"}})), appRedirect+"?")
			if q.Get("error") != tc.wantError || q.Get("state") != testState || q.Get("iss") != testIssuer {
				t.Fatalf("prompt=none → %v", q)
			}
		})
	}
	t.Run("consented", func(t *testing.T) {
		b := env.newBrowser()
		env.clock.Set(-3 * time.Second)
		b.signIn("alice@example.test")
		b.follow(b.submit(b.follow(b.get(authorizeURL(nil))), "/consent", url.Values{"action": {"approve"}}))
		env.clock.Set(0)
		q := mustRedirectTo(t, b.get(authorizeURL(url.Values{"prompt": {"none"}})), appRedirect+"?")
		if q.Get("code") == "" {
			t.Fatalf("prompt=none with session and consent → %v", q)
		}
	})
}

// TestReauthentication: prompt=login and max_age send a signed-in user back to the password, and the
// fresh login satisfies them (no loop).
func TestReauthentication(t *testing.T) {
	env := newTestEnv(t)
	alice := env.mustCreateUser("alice@example.test")
	if err := env.store.SaveConsent(context.Background(), alice.ID, appID, []string{"openid", "email"}); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name  string
		extra url.Values
	}{
		{name: "prompt=login", extra: url.Values{"prompt": {"login"}}},
		{name: "prompt=select_account", extra: url.Values{"prompt": {"select_account"}}},
		{name: "max_age=1", extra: url.Values{"max_age": {"1"}}},
		{name: "max_age=0", extra: url.Values{"max_age": {"0"}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			b := env.newBrowser()
			env.clock.Set(-3 * time.Second)
			b.signIn("alice@example.test")
			env.clock.Set(0)
			rec := b.get(authorizeURL(tc.extra))
			login := b.get(rec.Header().Get("Location"))
			mustRedirectTo(t, rec, "/login?flow=")
			rec = b.follow(b.submit(login, "/login", url.Values{"email": {"alice@example.test"}, "password": {testPassword}}))
			if q := mustRedirectTo(t, rec, appRedirect+"?"); q.Get("code") == "" {
				t.Fatalf("after re-authentication: %v", q)
			}
		})
	}
	t.Run("max_age met", func(t *testing.T) {
		b := env.newBrowser()
		b.signIn("alice@example.test")
		if q := mustRedirectTo(t, b.get(authorizeURL(url.Values{"max_age": {"3600"}})), appRedirect+"?"); q.Get("code") == "" {
			t.Fatalf("max_age=3600: %v", q)
		}
	})
}

func TestAuthorizeErrors(t *testing.T) {
	env := newTestEnv(t)
	tests := []struct {
		name      string
		extra     url.Values
		wantPage  string // our error page (no redirect) when set
		wantError string // else the error sent back to the client
	}{
		{name: "unknown client", extra: url.Values{"client_id": {"nobody"}}, wantPage: "invalid_client"},
		{name: "unregistered redirect_uri", extra: url.Values{"redirect_uri": {appRedirect + "/other"}}, wantPage: "redirect_uri"},
		{name: "unsupported response type", extra: url.Values{"response_type": {"token"}}, wantError: "unsupported_response_type"},
		{name: "scope not allowed", extra: url.Values{"scope": {"openid admin"}}, wantError: "invalid_scope"},
		{name: "request object", extra: url.Values{"request": {"eyJhbGciOiJub25lIn0.e30."}}, wantError: "request_not_supported"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			rec := env.newBrowser().get(authorizeURL(tc.extra))
			if tc.wantPage != "" {
				mustStatus(t, rec, http.StatusBadRequest)
				mustContain(t, rec, "Invalid authorization request")
				mustContain(t, rec, tc.wantPage)
				if loc := rec.Header().Get("Location"); loc != "" {
					t.Errorf("redirected to %q", loc)
				}
				return
			}
			q := mustRedirectTo(t, rec, appRedirect+"?")
			if q.Get("error") != tc.wantError || q.Get("state") != testState || q.Get("iss") != testIssuer {
				t.Fatalf("got %v, want error %s", q, tc.wantError)
			}
		})
	}
}

// TestUnknownPrompt: fosite validates prompt values only when the code is issued, so an unknown value
// is refused after the login and consent pages (see the report: ParseAuthorize could refuse it first).
func TestUnknownPrompt(t *testing.T) {
	env := newTestEnv(t)
	alice := env.mustCreateUser("alice@example.test")
	if err := env.store.SaveConsent(context.Background(), alice.ID, appID, []string{"openid", "email"}); err != nil {
		t.Fatal(err)
	}
	b := env.newBrowser()
	b.signIn("alice@example.test")
	q := mustRedirectTo(t, b.get(authorizeURL(url.Values{"prompt": {"bogus"}})), appRedirect+"?")
	if q.Get("error") != "invalid_request" || q.Get("state") != testState {
		t.Fatalf("prompt=bogus → %v", q)
	}
	// Refused before any page: a browser without a login session is not sent to /login first.
	for _, prompt := range []string{"bogus", "none login"} {
		q = mustRedirectTo(t, env.newBrowser().get(authorizeURL(url.Values{"prompt": {prompt}})), appRedirect+"?")
		if q.Get("error") != "invalid_request" || q.Get("state") != testState {
			t.Fatalf("prompt=%q without a session → %v", prompt, q)
		}
	}
}

// TestConsentNeedsLoginSession: the consent page of a flow sends a browser without a login session to
// the login page of the same flow.
func TestConsentNeedsLoginSession(t *testing.T) {
	env := newTestEnv(t)
	env.mustCreateUser("alice@example.test")
	b := env.newBrowser()
	b.signIn("alice@example.test")
	consent := b.get(authorizeURL(nil)).Header().Get("Location")
	u, _ := url.Parse(consent)
	stranger := env.newBrowser()
	mustRedirectTo(t, stranger.get(consent), "/login?"+u.RawQuery)
}

// TestFlowTokenExpires: a flow older than 30 minutes is refused with a page, not a redirect.
func TestFlowTokenExpires(t *testing.T) {
	env := newTestEnv(t)
	b := env.newBrowser()
	loc := b.get(authorizeURL(nil)).Header().Get("Location")
	u, _ := url.Parse(loc)
	env.clock.Advance(31 * time.Minute)
	for _, target := range []string{loc, "/oauth2/authorize/resume?" + u.RawQuery, "/consent?" + u.RawQuery} {
		rec := b.get(target)
		mustStatus(t, rec, http.StatusBadRequest)
		mustContain(t, rec, "invalid or has expired")
	}
}

// TestFormPostResponseMode: the code comes back through the provider's auto-submitting form, which the
// authorize CSP admits.
func TestFormPostResponseMode(t *testing.T) {
	env := newTestEnv(t)
	alice := env.mustCreateUser("alice@example.test")
	if err := env.store.SaveConsent(context.Background(), alice.ID, appID, []string{"openid", "email"}); err != nil {
		t.Fatal(err)
	}
	b := env.newBrowser()
	b.signIn("alice@example.test")
	rec := b.get(authorizeURL(url.Values{"response_mode": {"form_post"}}))
	mustStatus(t, rec, http.StatusOK)
	mustContain(t, rec, `action="`+appRedirect+`"`)
	mustContain(t, rec, `name="code"`)
	mustContain(t, rec, `onload="document.forms[0].submit()"`)
	if csp := rec.Header().Get("Content-Security-Policy"); !strings.Contains(csp, "'unsafe-hashes' 'sha256-") {
		t.Errorf("CSP = %q", csp)
	}
}

var _ = storage.ErrNotFound

// formPostInputRE reads the inputs of the provider's form_post page.
var formPostInputRE = regexp.MustCompile(`name="([^"]+)" value="([^"]*)"`)

// TestAuthorizeRequestTooLarge: a request whose flow token would be longer than the pages accept is
// refused at the authorization endpoint, back to the client with invalid_request, state and iss; the
// largest request that is sent on to the login page gets through login and consent to a code.
func TestAuthorizeRequestTooLarge(t *testing.T) {
	env := newTestEnv(t)
	env.mustCreateUser("alice@example.test")
	withState := func(n int, extra ...string) string {
		q := url.Values{"state": {strings.Repeat("s", n)}}
		for i := 0; i+1 < len(extra); i += 2 {
			q.Set(extra[i], extra[i+1])
		}
		return authorizeURL(q)
	}
	toLogin := func(n int) bool {
		rec := env.newBrowser().get(withState(n))
		return rec.Code == http.StatusSeeOther && strings.HasPrefix(rec.Header().Get("Location"), "/login?flow=")
	}
	// The largest state that is sent on to the login page.
	lo, hi := 1<<10, 40<<10
	if !toLogin(lo) || toLogin(hi) {
		t.Fatalf("a %d-byte state should reach the login page and a %d-byte one should not", lo, hi)
	}
	for hi-lo > 1 {
		if mid := (lo + hi) / 2; toLogin(mid) {
			lo = mid
		} else {
			hi = mid
		}
	}
	t.Logf("largest state sent to the login page: %d bytes", lo)

	t.Run("largest request goes through login and consent", func(t *testing.T) {
		b := env.newBrowser()
		rec := b.get(withState(lo))
		mustRedirectTo(t, rec, "/login?flow=")
		page := b.get(rec.Header().Get("Location"))
		mustStatus(t, page, http.StatusOK)
		rec = b.follow(b.submit(page, "/login", url.Values{"email": {"alice@example.test"}, "password": {testPassword}}))
		mustStatus(t, rec, http.StatusOK) // the consent page
		mustContain(t, rec, "Approve")
		rec = b.follow(b.submit(rec, "/consent", url.Values{"action": {"approve"}}))
		if q := mustRedirectTo(t, rec, appRedirect+"?"); q.Get("code") == "" || q.Get("state") != strings.Repeat("s", lo) {
			t.Fatalf("callback without code or state: error %q", q.Get("error"))
		}
	})

	signedIn := env.newBrowser()
	signedIn.signIn("alice@example.test")
	tests := []struct {
		name string
		b    *browser
		do   func(b *browser) *httptest.ResponseRecorder
		mode string // where the error comes back: query, fragment or form_post
	}{
		{"one byte more", env.newBrowser(), func(b *browser) *httptest.ResponseRecorder { return b.get(withState(hi)) }, "query"},
		{"40 KB state", env.newBrowser(), func(b *browser) *httptest.ResponseRecorder { return b.get(withState(40 << 10)) }, "query"},
		{"signed in, on the way to consent", signedIn, func(b *browser) *httptest.ResponseRecorder {
			return b.get(withState(hi, "prompt", "consent"))
		}, "query"},
		{"by POST", env.newBrowser(), func(b *browser) *httptest.ResponseRecorder {
			u, _ := url.Parse(withState(hi))
			return b.do(http.MethodPost, "/oauth2/authorize", u.Query(), header{"Sec-Fetch-Site": "cross-site", "Origin": "https://app.example.test"})
		}, "query"},
		{"fragment response mode", env.newBrowser(), func(b *browser) *httptest.ResponseRecorder {
			return b.get(withState(hi, "response_mode", "fragment"))
		}, "fragment"},
		{"form_post response mode", env.newBrowser(), func(b *browser) *httptest.ResponseRecorder {
			return b.get(withState(hi, "response_mode", "form_post"))
		}, "form_post"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			rec := tc.do(tc.b)
			var q url.Values
			switch tc.mode {
			case "form_post":
				mustStatus(t, rec, http.StatusOK)
				mustContain(t, rec, `action="`+appRedirect+`"`)
				q = url.Values{}
				for _, m := range formPostInputRE.FindAllStringSubmatch(rec.Body.String(), -1) {
					q.Set(m[1], html.UnescapeString(m[2]))
				}
			case "fragment":
				mustStatus(t, rec, http.StatusSeeOther)
				loc := rec.Header().Get("Location")
				before, frag, _ := strings.Cut(loc, "#")
				if before != appRedirect {
					t.Fatalf("Location %.100q, want the client's redirect URI", loc)
				}
				q, _ = url.ParseQuery(frag)
			default:
				q = mustRedirectTo(t, rec, appRedirect+"?")
			}
			if q.Get("error") != "invalid_request" || q.Get("iss") != testIssuer || !strings.HasPrefix(q.Get("state"), "sss") {
				t.Fatalf("error %q, iss %q, state %.20q…; want invalid_request with state and iss", q.Get("error"), q.Get("iss"), q.Get("state"))
			}
			if d := q.Get("error_description"); !strings.Contains(d, "too large") {
				t.Errorf("error_description %q does not say the request is too large", d)
			}
		})
	}
}
