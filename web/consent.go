package web

import (
	"net/http"
	"net/url"

	"github.com/gin-gonic/gin"
	"github.com/ory/fosite"

	"github.com/kangrow/auth/storage"
)

// scopeDescriptions say in plain words what each scope lets the client do.
var scopeDescriptions = map[string]string{
	"openid":         "Sign you in",
	"profile":        "See your name and picture",
	"email":          "See your email address",
	"offline_access": "Keep you signed in (access while you are away)",
}

func describeScopes(scopes []string) []scopeLine {
	lines := make([]scopeLine, 0, len(scopes))
	for _, sc := range scopes {
		d, ok := scopeDescriptions[sc]
		if !ok {
			d = "Access to “" + sc + "”"
		}
		lines = append(lines, scopeLine{Scope: sc, Description: d})
	}
	return lines
}

// consentRequest is what the consent page works on: the flow, the signed-in user, and the
// authorization request the flow carries, validated again (the client may have changed since).
type consentRequest struct {
	tok    string
	flow   flowState
	sess   *loginSession
	ar     fosite.AuthorizeRequester
	client *storage.Client
}

// loadConsent opens the flow token tok and checks that it can be consented to. When it answers
// ok=false it has already answered the request: an error page, the login page (no login session), or
// back to resume, which answers an invalid request the way the authorization endpoint does.
func (s *server) loadConsent(c *gin.Context, tok string) (*consentRequest, bool) {
	f, err := s.openFlow(tok)
	if err != nil {
		s.fail(c, err)
		return nil, false
	}
	sess, err := s.currentSession(c)
	if err != nil {
		s.fail(c, err)
		return nil, false
	}
	if sess == nil {
		c.Redirect(http.StatusSeeOther, s.path("/login")+"?flow="+url.QueryEscape(tok))
		return nil, false
	}
	ctx := c.Request.Context()
	ar, err := s.p.ParseAuthorize(ctx, s.flowRequest(c, f))
	if err != nil {
		c.Redirect(http.StatusSeeOther, s.path("/oauth2/authorize/resume")+"?flow="+url.QueryEscape(tok))
		return nil, false
	}
	client, err := s.store.GetClientByID(ctx, ar.GetClient().GetID())
	if err != nil {
		s.fail(c, err)
		return nil, false
	}
	return &consentRequest{tok: tok, flow: f, sess: sess, ar: ar, client: client}, true
}

// consentPage serves GET /consent?flow=T: which client asks for what, Approve or Deny.
func (s *server) consentPage(c *gin.Context) {
	cr, ok := s.loadConsent(c, c.Query("flow"))
	if !ok {
		return
	}
	name := cr.client.Name
	if name == "" {
		name = cr.client.ID
	}
	s.render(c, http.StatusOK, "consent", pageData{
		Title:  "Allow access?",
		CSRF:   s.csrfToken(c),
		Flow:   cr.tok,
		Email:  cr.sess.user.Email,
		Client: name,
		Scopes: describeScopes(cr.ar.GetRequestedScopes()),
	})
}

// consent serves POST /consent: Approve remembers the requested scopes for the client and goes back
// to resume with the decision; Deny goes back with a refusal, which resume sends to the client as
// access_denied. The decision is bound to this login session, so a flow token approved by one user is
// no approval for another.
func (s *server) consent(c *gin.Context) {
	cr, ok := s.loadConsent(c, c.Request.PostForm.Get("flow"))
	if !ok {
		return
	}
	f := cr.flow
	switch c.Request.PostForm.Get("action") {
	case "approve":
		if err := s.store.SaveConsent(c.Request.Context(), cr.sess.user.ID, cr.client.ID, cr.ar.GetRequestedScopes()); err != nil {
			s.fail(c, err)
			return
		}
		f.Consent = consentApproved
	case "deny":
		f.Consent = consentDenied
	default:
		s.fail(c, errBadForm)
		return
	}
	f.Session = cr.sess.row.ID.String()
	s.redirectFlow(c, "/oauth2/authorize/resume", f)
}
