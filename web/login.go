package web

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/gin-gonic/gin"

	"github.com/kangrow/auth/storage"
	"github.com/kangrow/auth/storage/password"
)

// msgBadCredentials is the one answer to every failed sign-in: unknown email, wrong password, an
// account that cannot sign in. Telling them apart would tell an attacker which emails have accounts.
const msgBadCredentials = "Incorrect email or password."

// maxEmailLen is the longest email we look up (RFC 5321's path limit).
const maxEmailLen = 254

// loginPage serves GET /login[?flow=T]: the sign-in form. A flow's login_hint pre-fills the email.
func (s *server) loginPage(c *gin.Context) {
	tok, err := queryFlow(c.Request.URL.RawQuery)
	if err != nil {
		s.fail(c, err)
		return
	}
	data := pageData{Title: "Sign in", CSRF: s.csrfToken(c)}
	if tok != "" {
		f, err := s.openFlow(tok)
		if err != nil {
			s.fail(c, err)
			return
		}
		params, _ := f.values()
		data.Flow = tok
		if hint := params.Get("login_hint"); lookupable(hint) {
			data.Email = hint
		}
		data.Client = s.clientName(c.Request.Context(), params)
	}
	s.render(c, http.StatusOK, "login", data)
}

// queryFlow returns the flow parameter of a raw query, "" when there is none. A flow parameter that
// cannot be decoded is a bad flow: url.Values (and gin's c.Query) silently drop such a pair, which
// would turn a broken sign-in link into a plain login page that has forgotten the application.
func queryFlow(rawQuery string) (string, error) {
	for rawQuery != "" {
		var pair string
		pair, rawQuery, _ = strings.Cut(rawQuery, "&")
		k, v, _ := strings.Cut(pair, "=")
		if key, err := url.QueryUnescape(k); err != nil || key != "flow" {
			continue
		}
		tok, err := url.QueryUnescape(v)
		if err != nil {
			return "", errBadFlow.wrap(err)
		}
		return tok, nil
	}
	return "", nil
}

// lookupable reports whether email may be an account's email at all: at most maxEmailLen bytes of
// valid UTF-8 without control characters. Anything else is an unknown email, without a lookup: it
// cannot have been stored, and PostgreSQL refuses NUL and invalid UTF-8 in a query with an error.
func lookupable(email string) bool {
	return len(email) <= maxEmailLen && utf8.ValidString(email) && !strings.ContainsFunc(email, unicode.IsControl)
}

// login serves POST /login: check the password, start a fresh login session, and go back to the
// authorization request (or to the home page without one). csrfProtect has parsed the form.
func (s *server) login(c *gin.Context) {
	ctx := c.Request.Context()
	form := c.Request.PostForm
	data := pageData{Title: "Sign in", Flow: form.Get("flow")}
	var flow flowState
	if data.Flow != "" {
		f, err := s.openFlow(data.Flow)
		if err != nil {
			s.fail(c, err)
			return
		}
		params, _ := f.values()
		data.Client = s.clientName(ctx, params)
		flow = f
	}
	email, pw := strings.TrimSpace(form.Get("email")), form.Get("password")
	data.Email = email
	if email == "" || pw == "" {
		data.Error = "Enter your email address and password."
		data.CSRF = s.csrfToken(c)
		s.render(c, http.StatusBadRequest, "login", data)
		return
	}
	if !lookupable(email) {
		data.Email = "" // not shown back: too long, or not text
	}

	user, err := s.checkPassword(ctx, email, pw)
	if err != nil {
		s.fail(c, err)
		return
	}
	if user == nil {
		s.log.Info("sign-in refused", "request_id", c.GetString(requestIDKey))
		data.Error = msgBadCredentials
		data.CSRF = s.csrfToken(c)
		s.render(c, http.StatusUnauthorized, "login", data)
		return
	}

	sess, err := s.startSession(c, user)
	if err != nil {
		s.fail(c, err)
		return
	}
	if err := s.store.RecordLogin(ctx, user.ID, c.ClientIP()); err != nil {
		s.log.Warn("record login", "request_id", c.GetString(requestIDKey), "err", err)
	}
	if data.Flow != "" {
		// The flow goes on with this sign-in recorded, so prompt=login and max_age count it as fresh.
		flow.Login = sess.row.ID.String()
		tok, err := s.sealFlow(flow)
		if err != nil {
			s.fail(c, err)
			return
		}
		c.Redirect(http.StatusSeeOther, s.path("/oauth2/authorize/resume")+"?flow="+url.QueryEscape(tok))
		return
	}
	c.Redirect(http.StatusSeeOther, s.path("/"))
}

// checkPassword returns the user whose email and password these are, or nil. Every way of failing
// costs one password verification, so timing does not tell an unknown email from a wrong password; an
// email that cannot be looked up (see lookupable) or that the store does not find (ErrNotFound) is
// an unknown email.
// A hash made with weaker parameters (bcrypt, older argon2id) is replaced after a successful check.
// Errors are the store's.
func (s *server) checkPassword(ctx context.Context, email, pw string) (*storage.User, error) {
	var user *storage.User
	if lookupable(email) {
		u, err := s.store.GetUserByEmail(ctx, email)
		switch {
		case errors.Is(err, storage.ErrNotFound):
		case err != nil:
			return nil, err
		default:
			user = u
		}
	}
	if user == nil || user.HashedPassword == nil || !user.CanSignIn() {
		password.DummyVerify(pw)
		return nil, nil
	}
	ok, needsRehash, err := password.Verify(*user.HashedPassword, pw)
	switch {
	case errors.Is(err, password.ErrMalformedHash):
		s.log.Error("stored password hash is unusable", "user_id", user.ID, "err", err)
		return nil, nil
	case err != nil || !ok: // ErrEmpty, ErrTooLong, or a wrong password
		return nil, nil
	}
	if needsRehash {
		if h, err := password.Hash(pw); err != nil {
			s.log.Warn("rehash password", "user_id", user.ID, "err", err)
		} else if _, err := s.store.UpdateUser(ctx, user.ID, func(u *storage.User) error {
			u.HashedPassword = &h
			return nil
		}); err != nil {
			s.log.Warn("store rehashed password", "user_id", user.ID, "err", err)
		}
	}
	return user, nil
}

// clientName is the display name of the flow's client, or "" when it cannot be found.
func (s *server) clientName(ctx context.Context, params url.Values) string {
	id := params.Get("client_id")
	if id == "" {
		return ""
	}
	client, err := s.store.GetClientByID(ctx, id)
	if err != nil {
		return ""
	}
	if client.Name != "" {
		return client.Name
	}
	return client.ID
}

// home serves GET /: who is signed in, with a way to sign in or out.
func (s *server) home(c *gin.Context) {
	sess, err := s.currentSession(c)
	if err != nil {
		s.fail(c, err)
		return
	}
	data := pageData{Title: "KanGrow Auth"}
	if sess != nil {
		data.Email = sess.user.Email
	}
	s.render(c, http.StatusOK, "home", data)
}
