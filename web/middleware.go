package web

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"log/slog"
	"net/http"
	"runtime/debug"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/kangrow/auth/provider"
	"github.com/kangrow/auth/storage"
)

const requestIDKey = "request_id"

// requestID gives every request an ID for the log and the X-Request-Id response header. An incoming
// X-Request-Id is kept when it is short and plain, so that a proxy's ID follows the request.
func requestID(c *gin.Context) {
	id := c.GetHeader("X-Request-Id")
	if !plainID(id) {
		var b [12]byte
		_, _ = rand.Read(b[:])
		id = hex.EncodeToString(b[:])
	}
	c.Set(requestIDKey, id)
	c.Header("X-Request-Id", id)
	// Each request reads a client from the database once, however often fosite and the pages ask.
	c.Request = c.Request.WithContext(storage.WithClientMemo(c.Request.Context()))
	c.Next()
}

func plainID(id string) bool {
	if id == "" || len(id) > 64 {
		return false
	}
	for _, r := range id {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_' || r == '.') {
			return false
		}
	}
	return true
}

// logRequests writes one line per request: method, route pattern, status, latency and request ID.
// Never the query string, form values or cookies: they carry codes, tokens and passwords.
func (s *server) logRequests(c *gin.Context) {
	start := time.Now()
	c.Next()
	route := c.FullPath()
	if route == "" {
		route = "unmatched"
	}
	status := c.Writer.Status()
	level := slog.LevelInfo
	if status >= 500 {
		level = slog.LevelError
	}
	s.log.LogAttrs(c.Request.Context(), level, "request",
		slog.String("method", c.Request.Method),
		slog.String("route", route),
		slog.Int("status", status),
		slog.Duration("latency", time.Since(start)),
		slog.String("request_id", c.GetString(requestIDKey)),
	)
}

// plain500 is the page a panic gets: nothing from the failing handler reaches the client.
const plain500 = `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Server error</title></head>` +
	`<body><h1>Something went wrong</h1><p>Please try again later.</p></body></html>`

// recoverPanic turns a panic into a logged error (with its stack) and a plain 500 page.
func (s *server) recoverPanic(c *gin.Context) {
	defer func() {
		v := recover()
		if v == nil {
			return
		}
		if v == http.ErrAbortHandler {
			panic(v)
		}
		s.log.Error("panic", "request_id", c.GetString(requestIDKey), "route", c.FullPath(),
			"panic", fmt.Sprint(v), "stack", string(debug.Stack()))
		c.Abort()
		if c.Writer.Written() {
			return
		}
		h := c.Writer.Header()
		for _, k := range []string{"Location", "Set-Cookie", "Content-Disposition"} {
			h.Del(k)
		}
		h.Set("Content-Type", "text/html; charset=utf-8")
		c.Writer.WriteHeader(http.StatusInternalServerError)
		_, _ = c.Writer.WriteString(plain500)
	}()
	c.Next()
}

// pageCSP is the Content-Security-Policy of every response. It has no form-action: Chrome applies
// form-action to the redirect that follows a form POST, which would block the final redirect from the
// consent or logout form to the client.
const pageCSP = "default-src 'none'; style-src 'self'; img-src 'self' data:; frame-ancestors 'none'; base-uri 'none'"

// authorizeCSP additionally admits, by hash, the one inline handler of the provider's form_post page.
var authorizeCSP = pageCSP + "; script-src 'unsafe-hashes' 'sha256-" + scriptHash(provider.FormPostScript) + "'"

func scriptHash(script string) string {
	sum := sha256.Sum256([]byte(script))
	return base64.StdEncoding.EncodeToString(sum[:])
}

// securityHeaders sets the headers every page carries. Handlers may override Cache-Control (discovery
// and JWKS are public and cacheable).
func securityHeaders(csp string) gin.HandlerFunc {
	return func(c *gin.Context) {
		h := c.Writer.Header()
		h.Set("Content-Security-Policy", csp)
		h.Set("X-Frame-Options", "DENY")
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "no-referrer")
		h.Set("Cache-Control", "no-store")
		c.Next()
	}
}

// limitBody caps every request body; a larger form fails to parse (413 on our pages, invalid_request
// from fosite).
func limitBody(c *gin.Context) {
	if c.Request.Body != nil {
		c.Request.Body = http.MaxBytesReader(c.Writer, c.Request.Body, maxBodyBytes)
	}
	c.Next()
}

// allowAnyOrigin lets browser apps on any origin read the public metadata (discovery, JWKS). No
// credentials are involved, so "*" is safe. The token, userinfo and revocation endpoints get no CORS
// headers yet: that needs per-client allowed origins, which clients do not register.
func allowAnyOrigin(c *gin.Context) {
	c.Header("Access-Control-Allow-Origin", "*")
	c.Next()
}

// csrfProtect guards the browser pages: http.CrossOriginProtection refuses cross-site unsafe requests
// (by Sec-Fetch-Site, or Origin against Host), and every unsafe request must carry the form's CSRF
// token, which also covers clients that send neither header.
func (s *server) csrfProtect(c *gin.Context) {
	if err := s.cop.Check(c.Request); err != nil {
		s.fail(c, errCrossOrigin.wrap(err))
		return
	}
	switch c.Request.Method {
	case http.MethodGet, http.MethodHead, http.MethodOptions:
		c.Next()
		return
	}
	if err := c.Request.ParseForm(); err != nil {
		s.fail(c, formError(err))
		return
	}
	if !s.validCSRF(c, c.Request.PostForm.Get("csrf_token")) {
		s.fail(c, errBadCSRF)
		return
	}
	c.Next()
}

// contextWithTimeout derives a context from the request's, never from *gin.Context.
func contextWithTimeout(c *gin.Context, d time.Duration) (context.Context, context.CancelFunc) {
	return context.WithTimeout(c.Request.Context(), d)
}
