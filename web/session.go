package web

import (
	"crypto/hmac"
	"errors"
	"fmt"
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/kangrow/auth/storage"
)

// loginSession is the browser's login session: the cookie value, its users_tokens row and its user.
type loginSession struct {
	token string
	row   *storage.UserToken
	user  *storage.User
}

// currentSession returns the request's login session, or nil when there is none. A session whose user
// can no longer sign in (banned, blocked, deleted) or that is older than loginSessionLifetime counts as
// none, and is deleted with its cookie. Errors are the store's.
func (s *server) currentSession(c *gin.Context) (*loginSession, error) {
	ctx := c.Request.Context()
	cookie, err := c.Request.Cookie(sessionCookie)
	if err != nil {
		return nil, nil
	}
	if !wellFormed(cookie.Value) {
		s.clearSessionCookie(c)
		return nil, nil
	}
	row, user, err := s.store.GetLoginSession(ctx, cookie.Value)
	switch {
	case errors.Is(err, storage.ErrNotFound):
		s.clearSessionCookie(c)
		return nil, nil
	case err != nil:
		return nil, err
	}
	if !user.CanSignIn() || row.AuthenticatedAt == nil || s.now().Sub(*row.AuthenticatedAt) > loginSessionLifetime {
		if err := s.store.DeleteLoginSession(ctx, cookie.Value); err != nil && !errors.Is(err, storage.ErrNotFound) {
			return nil, err
		}
		s.clearSessionCookie(c)
		return nil, nil
	}
	return &loginSession{token: cookie.Value, row: row, user: user}, nil
}

// startSession replaces the browser's login session (if any) with a fresh one for user: a new random
// cookie value, so a value planted before the login is never promoted (session fixation).
func (s *server) startSession(c *gin.Context, user *storage.User) (*loginSession, error) {
	ctx := c.Request.Context()
	if old, err := c.Request.Cookie(sessionCookie); err == nil && wellFormed(old.Value) {
		if err := s.store.DeleteLoginSession(ctx, old.Value); err != nil && !errors.Is(err, storage.ErrNotFound) {
			return nil, fmt.Errorf("end old login session: %w", err)
		}
	}
	token := randomToken()
	row, err := s.store.CreateLoginSession(ctx, user.ID, token)
	if err != nil {
		return nil, err
	}
	s.setCookie(c, sessionCookie, token, int(loginSessionLifetime.Seconds()))
	return &loginSession{token: token, row: row, user: user}, nil
}

// endSession deletes the login session (when there is one) and its cookie.
func (s *server) endSession(c *gin.Context, sess *loginSession) error {
	s.clearSessionCookie(c)
	if sess == nil {
		return nil
	}
	if err := s.store.DeleteLoginSession(c.Request.Context(), sess.token); err != nil && !errors.Is(err, storage.ErrNotFound) {
		return err
	}
	return nil
}

func (s *server) clearSessionCookie(c *gin.Context) { s.setCookie(c, sessionCookie, "", -1) }

// setCookie sets an HttpOnly, SameSite=Lax cookie on the issuer's path; Secure under https. maxAge 0
// makes a browser-session cookie, negative deletes it.
func (s *server) setCookie(c *gin.Context, name, value string, maxAge int) {
	http.SetCookie(c.Writer, &http.Cookie{
		Name:     name,
		Value:    value,
		Path:     s.path("/"),
		MaxAge:   maxAge,
		HttpOnly: true,
		Secure:   s.secure,
		SameSite: http.SameSiteLaxMode,
	})
}

// csrfToken returns the CSRF token for the page's forms, setting the browser's CSRF cookie when it
// has none. The token is HMAC(csrfKey, cookie value): a cookie planted from a sibling domain gives an
// attacker no token to go with it.
func (s *server) csrfToken(c *gin.Context) string {
	const key = "csrf_cookie"
	v := c.GetString(key)
	if v == "" {
		if ck, err := c.Request.Cookie(csrfCookie); err == nil && wellFormed(ck.Value) {
			v = ck.Value
		} else {
			v = randomToken()
			s.setCookie(c, csrfCookie, v, 0)
		}
		c.Set(key, v) // a page rendered twice in one response uses one value
	}
	return b64.EncodeToString(mac(s.csrfKey, "csrf:"+v))
}

// validCSRF compares the form's token with the one the CSRF cookie calls for, in constant time.
func (s *server) validCSRF(c *gin.Context, token string) bool {
	ck, err := c.Request.Cookie(csrfCookie)
	if err != nil || !wellFormed(ck.Value) || token == "" {
		return false
	}
	got, err := b64.DecodeString(token)
	return err == nil && hmac.Equal(got, mac(s.csrfKey, "csrf:"+ck.Value))
}
