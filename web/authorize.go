package web

import (
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/ory/fosite"

	"github.com/kangrow/auth/provider"
	"github.com/kangrow/auth/storage"
)

// authorize serves GET and POST /oauth2/authorize: a fresh authorization request (OIDC Core §3.1.2).
func (s *server) authorize(c *gin.Context) {
	s.runAuthorize(c, c.Request, nil)
}

// resume serves GET /oauth2/authorize/resume?flow=T: the login and consent pages send the browser back
// here, and the request the flow carries is decided again, with its original parameters and
// requested_at.
func (s *server) resume(c *gin.Context) {
	f, err := s.openFlow(c.Query("flow"))
	if err != nil {
		s.fail(c, err)
		return
	}
	s.runAuthorize(c, s.flowRequest(c, f), &f)
}

// flowRequest rebuilds the client's authorization request from a flow: a GET whose Form holds exactly
// the original parameters. openFlow has checked that they parse.
func (s *server) flowRequest(c *gin.Context, f flowState) *http.Request {
	params, _ := f.values()
	r := &http.Request{
		Method:     http.MethodGet,
		URL:        &url.URL{Path: s.path("/oauth2/authorize")},
		Proto:      "HTTP/1.1",
		ProtoMajor: 1,
		ProtoMinor: 1,
		Header:     http.Header{},
		Host:       c.Request.Host,
		RemoteAddr: c.Request.RemoteAddr,
		Form:       params,
		PostForm:   url.Values{},
	}
	return r.WithContext(c.Request.Context())
}

// runAuthorize decides an authorization request: parse it, make sure the user is signed in as the
// request demands, make sure the user consented, then let the provider issue the code. f is nil for a
// fresh request; then a flow starts now.
func (s *server) runAuthorize(c *gin.Context, r *http.Request, f *flowState) {
	ctx := r.Context()
	ar, err := s.p.ParseAuthorize(ctx, r)
	if err != nil {
		s.authorizeError(c, ar, err)
		return
	}
	var flow flowState
	if f != nil {
		flow = *f
	} else {
		flow = s.newFlow(r.Form)
	}
	requestedAt := timeFromUnixMilli(flow.RequestedAt)

	sess, err := s.currentSession(c)
	if err != nil {
		s.authorizeServerError(c, ar, err)
		return
	}
	prompts := provider.Prompts(ar)
	if needLogin(ar, sess, prompts, requestedAt, flow.Login) {
		if prompts["none"] {
			s.p.WriteAuthorizeError(ctx, c.Writer, ar, fosite.ErrLoginRequired)
			return
		}
		flow.Consent, flow.Session = "", ""
		s.toFlowPage(c, ar, "/login", flow)
		return
	}

	client, err := s.store.GetClientByID(ctx, ar.GetClient().GetID())
	if err != nil {
		s.authorizeServerError(c, ar, err)
		return
	}
	requested := ar.GetRequestedScopes()
	decided := flow.Consent != "" && flow.Session == sess.row.ID.String()
	if decided && flow.Consent != consentApproved {
		s.p.WriteAuthorizeError(ctx, c.Writer, ar, fosite.ErrAccessDenied.WithHint("The user denied the request."))
		return
	}
	consented := decided || client.SkipConsent
	if !consented && !prompts["consent"] {
		remembered, err := s.store.GetConsent(ctx, sess.user.ID, client.ID)
		switch {
		case errors.Is(err, storage.ErrNotFound):
		case err != nil:
			s.authorizeServerError(c, ar, err)
			return
		default:
			consented = covers(remembered.Scopes, requested)
		}
	}
	if !consented {
		if prompts["none"] {
			s.p.WriteAuthorizeError(ctx, c.Writer, ar, fosite.ErrConsentRequired)
			return
		}
		flow.Consent, flow.Session = "", ""
		s.toFlowPage(c, ar, "/consent", flow)
		return
	}

	// Every requested scope was consented to: in this flow, remembered, or by a first-party client.
	// That is also the condition for offline_access (OIDC Core §11). fosite has refused scopes the
	// client may not ask for; the intersection keeps that true here too.
	var granted []string
	for _, scope := range requested {
		if slices.Contains(ar.GetClient().GetScopes(), scope) {
			granted = append(granted, scope)
		}
	}
	err = s.p.Authorize(ctx, c.Writer, ar, provider.Grant{
		User:           sess.user,
		LoginSessionID: sess.row.ID.String(),
		AuthTime:       sess.row.AuthenticatedAt.UTC(),
		RequestedAt:    requestedAt,
		Scopes:         granted,
		AMR:            []string{"pwd"},
	})
	if err != nil {
		s.log.Warn("authorization code not issued", "request_id", c.GetString(requestIDKey), "err", err)
	}
}

// needLogin reports whether the user must (re-)enter the password before the request can go on: no
// login session; prompt=login (or select_account) and the last login is older than the request; a
// max_age the last login does not meet; an id_token_hint for another user. The clock of prompt and
// max_age is the request's requested_at, as fosite's (OIDC Core §3.1.2.1); a login made in this flow
// (flowLogin, the login session's ID) satisfies both.
func needLogin(ar fosite.AuthorizeRequester, sess *loginSession, prompts map[string]bool, requestedAt time.Time, flowLogin string) bool {
	if sess == nil {
		return true
	}
	authAt := sess.row.AuthenticatedAt.UTC()
	freshLogin := flowLogin != "" && flowLogin == sess.row.ID.String()
	if prompts["login"] && !freshLogin && authAt.Before(requestedAt) {
		return true
	}
	if maxAge, ok := provider.RequestedMaxAge(ar); ok && !freshLogin && authAt.Add(maxAge).Before(requestedAt) {
		return true
	}
	if sub := hintSubject(ar.GetRequestForm().Get("id_token_hint")); sub != "" && sub != sess.user.ID.String() {
		return true
	}
	return false
}

// hintSubject reads the sub claim of an id_token_hint without verifying it: a forged hint can only send
// the user to the login page. fosite verifies the hint before a code is issued and answers
// login_required when its subject is not the signed-in user.
func hintSubject(hint string) string {
	parts := strings.Split(hint, ".")
	if len(parts) != 3 {
		return ""
	}
	payload, err := b64.DecodeString(strings.TrimRight(parts[1], "="))
	if err != nil {
		return ""
	}
	var claims struct {
		Sub string `json:"sub"`
	}
	if json.Unmarshal(payload, &claims) != nil {
		return ""
	}
	return claims.Sub
}

// covers reports whether the remembered scopes include every requested one.
func covers(remembered []string, requested []string) bool {
	for _, s := range requested {
		if !slices.Contains(remembered, s) {
			return false
		}
	}
	return true
}

// toFlowPage sends the browser from the authorization endpoint to the login or consent page with the
// flow token. A request whose flow token would be too long to come back (see flowFits) is refused here,
// back to the client with invalid_request (RFC 6749 §4.1.2.1), rather than sending the browser to a
// link the pages would refuse.
func (s *server) toFlowPage(c *gin.Context, ar fosite.AuthorizeRequester, page string, f flowState) {
	fits, err := s.flowFits(f)
	if err != nil {
		s.authorizeServerError(c, ar, err)
		return
	}
	if !fits {
		s.log.Info("authorization request refused", "request_id", c.GetString(requestIDKey), "error", "invalid_request",
			"err", "flow token too large", "params_bytes", len(f.Params))
		s.p.WriteAuthorizeError(c.Request.Context(), c.Writer, ar,
			fosite.ErrInvalidRequest.WithHint("The authorization request is too large."))
		return
	}
	s.redirectFlow(c, page, f)
}

// redirectFlow sends the browser to one of our pages (or back to resume) with the flow token.
func (s *server) redirectFlow(c *gin.Context, page string, f flowState) {
	tok, err := s.sealFlow(f)
	if err != nil {
		s.fail(c, err)
		return
	}
	c.Redirect(http.StatusSeeOther, s.path(page)+"?flow="+url.QueryEscape(tok))
}

// authorizeError answers a request the provider refused: back to the client when its redirect URI is
// known to be the client's, else our own error page (RFC 6749 §4.1.2.1).
func (s *server) authorizeError(c *gin.Context, ar fosite.AuthorizeRequester, err error) {
	if !s.p.CanRedirect(ar) {
		s.fail(c, authorizeRequestError(err))
		return
	}
	code, _ := provider.ErrorDescription(err)
	s.log.Info("authorization request refused", "request_id", c.GetString(requestIDKey), "error", code, "err", err)
	s.p.WriteAuthorizeError(c.Request.Context(), c.Writer, ar, err)
}

// authorizeServerError logs err and answers server_error to the client (RFC 6749 §4.1.2.1), without
// the detail.
func (s *server) authorizeServerError(c *gin.Context, ar fosite.AuthorizeRequester, err error) {
	s.log.Error("authorization request failed", "request_id", c.GetString(requestIDKey), "err", err)
	s.p.WriteAuthorizeError(c.Request.Context(), c.Writer, ar, fosite.ErrServerError)
}
