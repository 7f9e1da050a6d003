package web_test

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/kangrow/auth/storage"
	"github.com/kangrow/auth/web"
)

// TestLoginSuccess runs on SQLite and PostgreSQL: the email lookup ignores case on both.
func TestLoginSuccess(t *testing.T) {
	for _, db := range testDatabases {
		t.Run(db.name, func(t *testing.T) {
			testLoginSuccess(t, newTestEnvOn(t, db.open(t)))
		})
	}
}

func testLoginSuccess(t *testing.T, env *testEnv) {
	alice := env.mustCreateUser("alice@example.test")
	b := env.newBrowser()

	page := b.get("/login")
	mustStatus(t, page, http.StatusOK)
	for _, snippet := range []string{
		`<label for="email">`, `autocomplete="username"`, `<label for="password">`, `autocomplete="current-password"`,
		`name="csrf_token"`, `action="/login"`,
	} {
		mustContain(t, page, snippet)
	}
	csrf := page.Result().Cookies()
	if len(csrf) != 1 || csrf[0].Name != "kangrow_csrf" || !csrf[0].HttpOnly || !csrf[0].Secure {
		t.Fatalf("CSRF cookie = %+v", csrf)
	}

	// A cookie planted before the login is never promoted (fixation): the login gets a fresh value.
	b.cookies["kangrow_session"] = &http.Cookie{Name: "kangrow_session", Value: strings.Repeat("A", 43)}
	rec := b.submit(page, "/login", url.Values{"email": {"ALICE@example.test"}, "password": {testPassword}})
	mustRedirectTo(t, rec, "/")
	var sess *http.Cookie
	for _, c := range rec.Result().Cookies() {
		if c.Name == "kangrow_session" {
			sess = c
		}
	}
	switch {
	case sess == nil:
		t.Fatal("no login session cookie")
	case sess.Value == strings.Repeat("A", 43) || len(sess.Value) != 43:
		t.Errorf("session cookie value %q is not fresh", sess.Value)
	case !sess.HttpOnly || !sess.Secure || sess.SameSite != http.SameSiteLaxMode || sess.Path != "/":
		t.Errorf("session cookie attributes: %+v", sess)
	}
	row, user, err := env.store.GetLoginSession(context.Background(), sess.Value)
	if err != nil || user.ID != alice.ID || row.AuthenticatedAt == nil {
		t.Fatalf("login session not stored: %v", err)
	}
	if u := env.mustUser(alice.ID); u.LoginsCount != 1 || u.LastIP == nil || *u.LastIP != "192.0.2.7" {
		t.Errorf("login not recorded: count %d, ip %v", u.LoginsCount, u.LastIP)
	}
	mustContain(t, b.get("/"), "Signed in as <strong>alice@example.test</strong>")

	// Signing in again replaces the login session.
	old := sess.Value
	b.signIn("alice@example.test")
	if _, _, err := env.store.GetLoginSession(context.Background(), old); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("old login session still valid after a new login: %v", err)
	}
}

// TestLoginFailures: every failure is the same answer, whatever the reason.
func TestLoginFailures(t *testing.T) {
	env := newTestEnv(t)
	env.mustCreateUser("alice@example.test")
	env.mustCreateUser("banned@example.test", func(u *storage.User) { u.Banned = true })
	env.mustCreateUser("blocked@example.test", func(u *storage.User) { u.Blocked = true })
	env.mustCreateUser("social@example.test", func(u *storage.User) { u.HashedPassword = nil })
	broken := "$argon2id$v=19$m=1,t=1,p=1$bad$bad"
	env.mustCreateUser("broken@example.test", func(u *storage.User) { u.HashedPassword = &broken })

	b := env.newBrowser()
	page := b.get("/login")
	attempt := func(email, pw string) (int, string) {
		rec := b.submit(page, "/login", url.Values{"email": {email}, "password": {pw}})
		if _, ok := b.cookies["kangrow_session"]; ok {
			t.Fatalf("%s got a login session", email)
		}
		// The form shows the email back; take it out to compare the rest.
		return rec.Code, strings.ReplaceAll(rec.Body.String(), email, "EMAIL")
	}
	wantCode, wantBody := attempt("alice@example.test", "wrong password")
	if wantCode != http.StatusUnauthorized || !strings.Contains(wantBody, "Incorrect email or password.") {
		t.Fatalf("wrong password: %d\n%s", wantCode, wantBody)
	}
	tests := []struct{ name, email, password string }{
		{"unknown email", "nobody@example.test", "wrong password"},
		{"unknown email, the password of another account", "nobody@example.test", testPassword},
		{"banned", "banned@example.test", testPassword},
		{"blocked", "blocked@example.test", testPassword},
		{"social only", "social@example.test", testPassword},
		{"unusable hash", "broken@example.test", testPassword},
		{"overlong password", "alice@example.test", strings.Repeat("x", 2000)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			code, body := attempt(tc.email, tc.password)
			if code != wantCode || body != wantBody {
				t.Errorf("answer differs from a wrong password's: %d\n%s", code, body)
			}
		})
	}
	t.Run("empty fields", func(t *testing.T) {
		rec := b.submit(page, "/login", url.Values{"email": {""}, "password": {""}})
		mustStatus(t, rec, http.StatusBadRequest)
		mustContain(t, rec, "Enter your email address and password.")
	})
}

func TestLoginCSRF(t *testing.T) {
	env := newTestEnv(t)
	env.mustCreateUser("alice@example.test")
	creds := url.Values{"email": {"alice@example.test"}, "password": {testPassword}}
	tests := []struct {
		name   string
		change func(b *browser, form url.Values) header
	}{
		{"missing token", func(_ *browser, form url.Values) header { form.Del("csrf_token"); return nil }},
		{"wrong token", func(_ *browser, form url.Values) header { form.Set("csrf_token", "AAAA"); return nil }},
		{"token without its cookie", func(b *browser, _ url.Values) header { delete(b.cookies, "kangrow_csrf"); return nil }},
		{"token of another browser", func(b *browser, form url.Values) header {
			other := hiddenFields(b.env.newBrowser().get("/login").Body.String())
			form.Set("csrf_token", other.Get("csrf_token"))
			return nil
		}},
		{"cross-site post", func(*browser, url.Values) header {
			return header{"Sec-Fetch-Site": "cross-site", "Origin": "https://evil.example.test"}
		}},
		{"same-site post", func(*browser, url.Values) header {
			return header{"Sec-Fetch-Site": "same-site", "Origin": "https://sibling.example.test"}
		}},
		{"cross-site post, own Origin", func(*browser, url.Values) header { return header{"Sec-Fetch-Site": "cross-site"} }},
		{"old browser, foreign origin", func(*browser, url.Values) header {
			return header{"Sec-Fetch-Site": "", "Origin": "https://evil.example.test"}
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			b := env.newBrowser()
			form := hiddenFields(b.get("/login").Body.String())
			for k, v := range creds {
				form[k] = v
			}
			hdr := tc.change(b, form)
			rec := b.do(http.MethodPost, "/login", form, hdr)
			mustStatus(t, rec, http.StatusForbidden)
			mustContain(t, rec, "Request refused")
			if _, ok := b.cookies["kangrow_session"]; ok {
				t.Error("signed in despite the refused form")
			}
		})
	}
	t.Run("no Sec-Fetch-Site or Origin, valid token", func(t *testing.T) {
		b := env.newBrowser()
		form := hiddenFields(b.get("/login").Body.String())
		for k, v := range creds {
			form[k] = v
		}
		rec := b.do(http.MethodPost, "/login", form, header{"Sec-Fetch-Site": "", "Origin": ""})
		mustRedirectTo(t, rec, "/")
	})
}

func TestLoginUpgradesBcryptHash(t *testing.T) {
	env := newTestEnv(t)
	u := env.mustCreateUser("legacy@example.test", withBcrypt(t))
	if !strings.HasPrefix(*u.HashedPassword, "$2a$") {
		t.Fatalf("setup: hash %q is not bcrypt", *u.HashedPassword)
	}
	env.newBrowser().signIn("legacy@example.test")
	got := env.mustUser(u.ID).HashedPassword
	if got == nil || !strings.HasPrefix(*got, "$argon2id$") {
		t.Fatalf("hash after login = %v, want argon2id", got)
	}
	// The new hash works.
	env.newBrowser().signIn("legacy@example.test")
}

func TestLoginTooLarge(t *testing.T) {
	env := newTestEnv(t)
	b := env.newBrowser()
	form := hiddenFields(b.get("/login").Body.String())
	form.Set("password", strings.Repeat("x", 100<<10))
	rec := b.post("/login", form)
	mustStatus(t, rec, http.StatusRequestEntityTooLarge)
	mustContain(t, rec, "The form is too large.")
}

// TestSessionOfBannedUser: a login session whose user was banned afterwards counts as none and is
// deleted.
func TestSessionOfBannedUser(t *testing.T) {
	env := newTestEnv(t)
	alice := env.mustCreateUser("alice@example.test")
	b := env.newBrowser()
	b.signIn("alice@example.test")
	token := b.cookies["kangrow_session"].Value
	if _, err := env.store.UpdateUser(context.Background(), alice.ID, func(u *storage.User) error {
		u.Banned = true
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	mustRedirectTo(t, b.get(authorizeURL(nil)), "/login?flow=")
	if _, ok := b.cookies["kangrow_session"]; ok {
		t.Error("session cookie kept")
	}
	if _, _, err := env.store.GetLoginSession(context.Background(), token); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("login session of a banned user not deleted: %v", err)
	}
}

// emailWatch is a web.Store that records every email the pages look up.
type emailWatch struct {
	web.Store
	mu     sync.Mutex
	emails []string
}

func (w *emailWatch) GetUserByEmail(ctx context.Context, email string) (*storage.User, error) {
	w.mu.Lock()
	w.emails = append(w.emails, email)
	w.mu.Unlock()
	return w.Store.GetUserByEmail(ctx, email)
}

// TestLoginEmailNotText: an email that is not text (NUL, invalid UTF-8, control characters) is an
// unknown email: one dummy password check, 401, the same page as an unknown email that is not shown
// back (as one over 254 bytes), and no lookup, which PostgreSQL would answer with an encoding error.
// Runs on SQLite and PostgreSQL.
func TestLoginEmailNotText(t *testing.T) {
	for _, db := range testDatabases {
		t.Run(db.name, func(t *testing.T) {
			watch := &emailWatch{}
			env := newTestEnvWrapped(t, db.open(t), func(s web.Store) web.Store { watch.Store = s; return watch })
			env.mustCreateUser("alice@example.test")
			b := env.newBrowser()
			page := b.get("/login")
			attempt := func(email string) (int, string) {
				rec := b.submit(page, "/login", url.Values{"email": {email}, "password": {testPassword}})
				if _, ok := b.cookies["kangrow_session"]; ok {
					t.Fatalf("%q got a login session", email)
				}
				return rec.Code, rec.Body.String()
			}
			// The reference: an unknown email that the form does not show back.
			wantCode, wantBody := attempt(strings.Repeat("a", 250) + "@example.test")
			if wantCode != http.StatusUnauthorized || !strings.Contains(wantBody, "Incorrect email or password.") {
				t.Fatalf("overlong email: %d\n%s", wantCode, wantBody)
			}
			tests := []struct{ name, email string }{
				{"NUL", "a\x00b"},
				{"invalid UTF-8", "\xff\xfe\xfd"},
				{"known email and NUL", "alice@example.test\x00"},
				{"invalid byte and known email", "\xffalice@example.test"},
				{"known email cut inside a rune", "alice@example.test\xc3"},
				{"tab inside", "alice@exa\tmple.test"},
				{"LF inside", "alice@example.test\nBcc: x@example.test"},
				{"DEL", "alice@example.test\x7f"},
				{"C1 control inside", "alice\u0085@example.test"},
			}
			for _, tc := range tests {
				t.Run(tc.name, func(t *testing.T) {
					code, body := attempt(tc.email)
					if code != wantCode || body != wantBody {
						t.Errorf("answer differs from an unknown email's: %d\n%s", code, body)
					}
				})
			}
			watch.mu.Lock()
			defer watch.mu.Unlock()
			if len(watch.emails) != 0 {
				t.Errorf("emails that are not text were looked up: %q", watch.emails)
			}
		})
	}
}

// TestLoginPageFlowParameter: the login page's flow parameter as the browser sends it. One that cannot
// be decoded is a bad flow (the "link invalid" page), not a plain login page that forgets the
// application; other undecodable parameters are ignored.
func TestLoginPageFlowParameter(t *testing.T) {
	env := newTestEnv(t)
	loc := env.newBrowser().get(authorizeURL(nil)).Header().Get("Location")
	u, err := url.Parse(loc)
	if err != nil || u.Query().Get("flow") == "" {
		t.Fatalf("authorize sent the browser to %q", loc)
	}
	flow := u.Query().Get("flow")
	const withFlow, noFlow, badFlow = "flow", "no flow", "bad flow"
	tests := []struct {
		name, query, want string
	}{
		{"no query", "", noFlow},
		{"empty flow", "flow=", noFlow},
		{"bare flow key", "flow", noFlow},
		{"flow %zz", "flow=%zz", badFlow},
		{"flow %", "flow=%", badFlow},
		{"flow %0", "flow=%0", badFlow},
		{"flow abc%zz", "flow=abc%zz", badFlow},
		{"flow after another parameter", "x=1&flow=%zz", badFlow},
		{"flow key percent-encoded", "fl%6Fw=%zz", badFlow},
		{"flow with a semicolon", "flow=a;b", badFlow},
		{"garbage flow", "flow=garbage", badFlow},
		{"undecodable key", "%zz=1", noFlow},
		{"undecodable other value", "other=%zz", noFlow},
		{"valid flow", "flow=" + url.QueryEscape(flow), withFlow},
		{"valid flow and an undecodable parameter", "flow=" + url.QueryEscape(flow) + "&x=%zz", withFlow},
		{"valid flow, then an undecodable one", "flow=" + url.QueryEscape(flow) + "&flow=%zz", withFlow},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			target := "/login"
			if tc.query != "" {
				target += "?" + tc.query
			}
			rec := env.newBrowser().get(target)
			switch tc.want {
			case badFlow:
				mustStatus(t, rec, http.StatusBadRequest)
				mustContain(t, rec, "This sign-in link is invalid or has expired.")
			case noFlow, withFlow:
				mustStatus(t, rec, http.StatusOK)
				mustContain(t, rec, `autocomplete="current-password"`)
				if got := hiddenFields(rec.Body.String()).Get("flow"); (got != "") != (tc.want == withFlow) {
					t.Errorf("flow field %q, want %s", got, tc.want)
				}
			}
		})
	}
}
