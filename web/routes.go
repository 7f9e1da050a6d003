package web

import (
	"fmt"
	"net/http"

	"github.com/gin-gonic/gin"
)

// routes lists every route of the public listener. Groups scope the middleware:
//
//   - protocol documents and client-authenticated OAuth endpoints: no CSRF (clients call them from
//     other origins by design);
//   - the authorization and RP-initiated logout endpoints: reached from third-party sites by GET or by
//     POST, so no CSRF either; the authorization endpoint's CSP admits fosite's form_post script;
//   - browser pages: cross-origin protection plus a CSRF token on every form;
//   - static assets.
//
// Every response carries the security headers; every request body is capped at maxBodyBytes.
func (s *server) routes() (*gin.Engine, error) {
	gin.SetMode(gin.ReleaseMode)
	r := gin.New()
	r.HandleMethodNotAllowed = true
	if err := r.SetTrustedProxies(s.trustedProxies); err != nil {
		return nil, fmt.Errorf("web: trusted proxies: %w", err)
	}
	r.Use(requestID, s.logRequests, s.recoverPanic, securityHeaders(pageCSP), limitBody)
	r.NoRoute(s.notFound)
	r.NoMethod(s.methodNotAllowed)

	r.GET("/health/alive", s.alive)
	r.GET("/health/ready", s.readyCheck)

	// Public metadata: any origin may read it (CORS without credentials).
	docs := r.Group("/.well-known", allowAnyOrigin)
	docs.GET("/openid-configuration", gin.WrapF(s.p.Discovery))
	docs.GET("/oauth-authorization-server", gin.WrapF(s.p.Discovery))
	docs.GET("/jwks.json", gin.WrapF(s.p.JWKS))

	// Client-authenticated (or bearer) endpoints: fosite writes every body.
	r.POST("/oauth2/token", gin.WrapF(s.p.Token))
	r.POST("/oauth2/revoke", gin.WrapF(s.p.Revoke))
	r.POST("/oauth2/introspect", gin.WrapF(s.p.Introspect))
	r.GET("/userinfo", gin.WrapF(s.p.UserInfo))
	r.POST("/userinfo", gin.WrapF(s.p.UserInfo))

	// The authorization flow. Its responses may be fosite's form_post page, whose one inline handler
	// the CSP admits by hash.
	authz := r.Group("/oauth2/authorize", securityHeaders(authorizeCSP))
	authz.GET("", s.authorize)
	authz.POST("", s.authorize)
	authz.GET("/resume", s.resume)

	// RP-initiated logout: relying parties send the browser here from their own sites.
	r.GET("/oauth2/logout", s.rpLogout)
	r.POST("/oauth2/logout", s.rpLogout)

	// Browser pages.
	pages := r.Group("", s.csrfProtect)
	pages.GET("/", s.home)
	pages.GET("/login", s.loginPage)
	pages.POST("/login", s.login)
	pages.GET("/consent", s.consentPage)
	pages.POST("/consent", s.consent)
	pages.GET("/logout", s.logoutPage)
	pages.POST("/logout", s.logout)

	r.GET("/static/*file", s.serveStatic)
	r.HEAD("/static/*file", s.serveStatic)
	return r, nil
}

// alive answers the liveness probe.
func (s *server) alive(c *gin.Context) {
	c.JSON(http.StatusOK, gin.H{"status": "ok"})
}

// readyCheck answers 200 while Deps.Ready does, 503 otherwise; the reason goes to the log only.
func (s *server) readyCheck(c *gin.Context) {
	if s.ready != nil {
		ctx, cancel := contextWithTimeout(c, readyTimeout)
		defer cancel()
		if err := s.ready(ctx); err != nil {
			s.log.Warn("not ready", "request_id", c.GetString(requestIDKey), "err", err)
			c.JSON(http.StatusServiceUnavailable, gin.H{"status": "unavailable"})
			return
		}
	}
	c.JSON(http.StatusOK, gin.H{"status": "ok"})
}

func (s *server) notFound(c *gin.Context) {
	s.renderError(c, http.StatusNotFound, "Page not found", "There is no page at this address.")
}

func (s *server) methodNotAllowed(c *gin.Context) {
	s.renderError(c, http.StatusMethodNotAllowed, "Method not allowed", "This page does not accept that kind of request.")
}
