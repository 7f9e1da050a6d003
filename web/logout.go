package web

import (
	"net/http"

	"github.com/gin-gonic/gin"
)

// rpLogout serves GET and POST /oauth2/logout (OpenID Connect RP-Initiated Logout 1.0). With a valid
// id_token_hint for the signed-in user (or nobody signed in) the login session ends at once and the
// browser goes to the registered post_logout_redirect_uri; otherwise the user confirms first (§2: the
// OP should ask when it cannot tell the request came from the user's RP). Invalid requests get our
// error page, never a redirect.
func (s *server) rpLogout(c *gin.Context) {
	lr, err := s.p.ParseLogout(c.Request.Context(), c.Request)
	if err != nil {
		s.fail(c, err)
		return
	}
	sess, err := s.currentSession(c)
	if err != nil {
		s.fail(c, err)
		return
	}
	if sess == nil || (lr.Subject != "" && lr.Subject == sess.user.ID.String()) {
		if err := s.endSession(c, sess); err != nil {
			s.fail(c, err)
			return
		}
		s.signedOut(c, lr.RedirectURI)
		return
	}
	tok, err := s.sealLogout(lr.RedirectURI)
	if err != nil {
		s.fail(c, err)
		return
	}
	s.render(c, http.StatusOK, "logout", pageData{
		Title:  "Sign out?",
		CSRF:   s.csrfToken(c),
		Logout: tok,
		Email:  sess.user.Email,
	})
}

// logoutPage serves GET /logout: the confirmation form, or "signed out" when nobody is signed in.
func (s *server) logoutPage(c *gin.Context) {
	sess, err := s.currentSession(c)
	if err != nil {
		s.fail(c, err)
		return
	}
	if sess == nil {
		s.signedOut(c, "")
		return
	}
	s.render(c, http.StatusOK, "logout", pageData{Title: "Sign out?", CSRF: s.csrfToken(c), Email: sess.user.Email})
}

// logout serves POST /logout: end the login session, then follow the confirmed RP-initiated logout's
// redirect when the form carries a valid logout token. An expired token still signs out; it only
// loses the redirect.
func (s *server) logout(c *gin.Context) {
	sess, err := s.currentSession(c)
	if err != nil {
		s.fail(c, err)
		return
	}
	if err := s.endSession(c, sess); err != nil {
		s.fail(c, err)
		return
	}
	redirect, _ := s.openLogout(c.Request.PostForm.Get("logout"))
	s.signedOut(c, redirect)
}

// signedOut sends the browser to the relying party's post-logout URI, or shows "You are signed out".
func (s *server) signedOut(c *gin.Context, redirectURI string) {
	if redirectURI != "" {
		c.Redirect(http.StatusSeeOther, redirectURI)
		return
	}
	s.render(c, http.StatusOK, "signed_out", pageData{Title: "Signed out"})
}
