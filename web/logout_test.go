package web_test

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"testing"

	"github.com/kangrow/auth/storage"
)

// mustIDToken signs b in as email (consent remembered) and returns an ID token issued to the app.
func (env *testEnv) mustIDToken(b *browser, email string) string {
	env.t.Helper()
	u, err := env.store.GetUserByEmail(context.Background(), email)
	if err != nil {
		env.t.Fatal(err)
	}
	if err := env.store.SaveConsent(context.Background(), u.ID, appID, []string{"openid", "email"}); err != nil {
		env.t.Fatal(err)
	}
	b.signIn(email)
	cb := mustRedirectTo(env.t, b.get(authorizeURL(nil)), appRedirect+"?")
	tok, _ := env.exchange(cb.Get("code"))["id_token"].(string)
	if tok == "" {
		env.t.Fatal("no id_token")
	}
	return tok
}

// mustBeSignedOut checks that b's login session is gone, in the browser and in the store.
func (env *testEnv) mustBeSignedOut(b *browser, token string) {
	env.t.Helper()
	if _, ok := b.cookies["kangrow_session"]; ok {
		env.t.Error("session cookie kept")
	}
	if _, _, err := env.store.GetLoginSession(context.Background(), token); !errors.Is(err, storage.ErrNotFound) {
		env.t.Errorf("login session still stored: %v", err)
	}
}

func logoutURL(v url.Values) string { return "/oauth2/logout?" + v.Encode() }

func TestRPLogout(t *testing.T) {
	env := newTestEnv(t)
	env.mustCreateUser("alice@example.test")
	env.mustCreateUser("bob@example.test")
	bobToken := env.mustIDToken(env.newBrowser(), "bob@example.test")

	t.Run("hint of the signed-in user: at once", func(t *testing.T) {
		b := env.newBrowser()
		hint := env.mustIDToken(b, "alice@example.test")
		session := b.cookies["kangrow_session"].Value
		rec := b.get(logoutURL(url.Values{"id_token_hint": {hint}, "post_logout_redirect_uri": {appLogout}, "state": {"bye-123"}}))
		q := mustRedirectTo(t, rec, appLogout+"?")
		if q.Get("state") != "bye-123" {
			t.Errorf("state = %q", q.Get("state"))
		}
		env.mustBeSignedOut(b, session)
	})
	t.Run("hint by cross-site POST", func(t *testing.T) {
		b := env.newBrowser()
		hint := env.mustIDToken(b, "alice@example.test")
		session := b.cookies["kangrow_session"].Value
		rec := b.do(http.MethodPost, "/oauth2/logout", url.Values{"id_token_hint": {hint}},
			header{"Sec-Fetch-Site": "cross-site", "Origin": "https://app.example.test"})
		mustStatus(t, rec, http.StatusOK)
		mustContain(t, rec, "You are signed out")
		env.mustBeSignedOut(b, session)
	})
	t.Run("nobody signed in: redirect at once", func(t *testing.T) {
		rec := env.newBrowser().get(logoutURL(url.Values{"client_id": {appID}, "post_logout_redirect_uri": {appLogout}}))
		mustRedirectTo(t, rec, appLogout)
	})
	confirmTests := []struct {
		name   string
		params func() url.Values
	}{
		{"no hint", func() url.Values {
			return url.Values{"client_id": {appID}, "post_logout_redirect_uri": {appLogout}, "state": {"bye-123"}}
		}},
		{"hint of another user", func() url.Values {
			return url.Values{"id_token_hint": {bobToken}, "post_logout_redirect_uri": {appLogout}, "state": {"bye-123"}}
		}},
	}
	for _, tc := range confirmTests {
		t.Run("confirm: "+tc.name, func(t *testing.T) {
			b := env.newBrowser()
			b.signIn("alice@example.test")
			session := b.cookies["kangrow_session"].Value
			page := b.get(logoutURL(tc.params()))
			mustStatus(t, page, http.StatusOK)
			mustContain(t, page, "Sign out?")
			mustContain(t, page, "alice@example.test")
			if _, _, err := env.store.GetLoginSession(context.Background(), session); err != nil {
				t.Fatalf("signed out before confirming: %v", err)
			}
			// Without the CSRF token the confirmation is refused.
			form := hiddenFields(page.Body.String())
			form.Del("csrf_token")
			mustStatus(t, b.post("/logout", form), http.StatusForbidden)

			q := mustRedirectTo(t, b.submit(page, "/logout", nil), appLogout+"?")
			if q.Get("state") != "bye-123" {
				t.Errorf("state = %q", q.Get("state"))
			}
			env.mustBeSignedOut(b, session)
		})
	}
	t.Run("tampered logout token: signed out, no redirect", func(t *testing.T) {
		b := env.newBrowser()
		b.signIn("alice@example.test")
		session := b.cookies["kangrow_session"].Value
		page := b.get(logoutURL(url.Values{"client_id": {appID}, "post_logout_redirect_uri": {appLogout}}))
		form := hiddenFields(page.Body.String())
		form.Set("logout", form.Get("logout")+"A")
		rec := b.post("/logout", form)
		mustStatus(t, rec, http.StatusOK)
		mustContain(t, rec, "You are signed out")
		env.mustBeSignedOut(b, session)
	})
}

func TestLogoutPage(t *testing.T) {
	env := newTestEnv(t)
	env.mustCreateUser("alice@example.test")
	b := env.newBrowser()
	b.signIn("alice@example.test")
	session := b.cookies["kangrow_session"].Value
	page := b.get("/logout")
	mustStatus(t, page, http.StatusOK)
	mustContain(t, page, "Sign out?")
	if hiddenFields(page.Body.String()).Get("logout") != "" {
		t.Error("own logout page carries a redirect token")
	}
	rec := b.submit(page, "/logout", nil)
	mustStatus(t, rec, http.StatusOK)
	mustContain(t, rec, "You are signed out")
	env.mustBeSignedOut(b, session)
	mustContain(t, b.get("/"), "You are not signed in")
}

// TestAuthorizeHintOfAnotherUser: an id_token_hint naming someone else sends the user to the login
// page (prompt=none: login_required).
func TestAuthorizeHintOfAnotherUser(t *testing.T) {
	env := newTestEnv(t)
	env.mustCreateUser("alice@example.test")
	env.mustCreateUser("bob@example.test")
	bobToken := env.mustIDToken(env.newBrowser(), "bob@example.test")
	b := env.newBrowser()
	env.mustIDToken(b, "alice@example.test")
	mustRedirectTo(t, b.get(authorizeURL(url.Values{"id_token_hint": {bobToken}})), "/login?flow=")
	q := mustRedirectTo(t, b.get(authorizeURL(url.Values{"id_token_hint": {bobToken}, "prompt": {"none"}})), appRedirect+"?")
	if q.Get("error") != "login_required" {
		t.Fatalf("prompt=none with another user's hint → %v", q)
	}
}
