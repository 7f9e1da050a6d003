package web

import (
	"errors"
	"log/slog"
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/kangrow/auth/provider"
)

// pageError is an error with what the user may see of it: a status, a title and a message written for
// people. err, when set, is the detail that goes to the log only.
type pageError struct {
	status     int
	title, msg string
	code       string // an OAuth error code, shown to help developers
	err        error
}

func (e *pageError) Error() string {
	if e.err != nil {
		return e.title + ": " + e.err.Error()
	}
	return e.title
}

func (e *pageError) Unwrap() error { return e.err }

// wrap returns a copy of e carrying err as its detail.
func (e *pageError) wrap(err error) *pageError {
	c := *e
	c.err = err
	return &c
}

var (
	errCrossOrigin = &pageError{status: http.StatusForbidden, title: "Request refused",
		msg: "This form was sent from another site, so it was refused. Go back, reload the page and try again."}
	errBadCSRF = &pageError{status: http.StatusForbidden, title: "Request refused",
		msg: "This form has expired or did not come from this site. Go back, reload the page and try again."}
	errBadFlow = &pageError{status: http.StatusBadRequest, title: "Link expired",
		msg: "This sign-in link is invalid or has expired. Go back to the application and start again."}
	errBadForm = &pageError{status: http.StatusBadRequest, title: "Bad request",
		msg: "The form could not be read. Go back, reload the page and try again."}
	errTooLarge = &pageError{status: http.StatusRequestEntityTooLarge, title: "Request too large",
		msg: "The form is too large."}
	errServer = &pageError{status: http.StatusInternalServerError, title: "Something went wrong",
		msg: "Something went wrong on our side. Please try again in a moment."}
)

// formError classifies a form that failed to parse.
func formError(err error) error {
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) {
		return errTooLarge.wrap(err)
	}
	return errBadForm.wrap(err)
}

// authorizeRequestError is the page for an authorization request that must not be answered with a
// redirect (unknown client, unregistered redirect URI: RFC 6749 §4.1.2.1). The text is fosite's safe
// description, never the error's detail.
func authorizeRequestError(err error) error {
	code, desc := provider.ErrorDescription(err)
	status := http.StatusBadRequest
	if code == "server_error" {
		status = http.StatusInternalServerError
	}
	return &pageError{status: status, title: "Invalid authorization request", code: code,
		msg: "The application sent an authorization request we cannot accept: " + desc, err: err}
}

// classify turns err into what the error page shows. Only pageError messages and the provider's safe
// logout reasons reach the page; anything else is a 500 with a fixed text.
func classify(err error) *pageError {
	var pe *pageError
	if errors.As(err, &pe) {
		return pe
	}
	if errors.Is(err, provider.ErrLogoutRequest) {
		msg := "This sign-out request cannot be honoured."
		var r interface{ Reason() string }
		if errors.As(err, &r) && r.Reason() != "" {
			msg = "This sign-out request cannot be honoured: " + r.Reason() + "."
		}
		return &pageError{status: http.StatusBadRequest, title: "Invalid sign-out request", msg: msg, err: err}
	}
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) {
		return errTooLarge.wrap(err)
	}
	return errServer.wrap(err)
}

// fail is the one way a handler gives up: it logs err's detail and renders the error page with only
// the safe part, then stops the handler chain.
func (s *server) fail(c *gin.Context, err error) {
	pe := classify(err)
	level := slog.LevelInfo
	if pe.status >= 500 {
		level = slog.LevelError
	}
	s.log.Log(c.Request.Context(), level, "request failed",
		"request_id", c.GetString(requestIDKey), "route", c.FullPath(), "status", pe.status, "err", err)
	s.render(c, pe.status, "error", pageData{Title: pe.title, Message: pe.msg, Code: pe.code})
	c.Abort()
}

// renderError renders the error page for a condition that needs no logging (404, 405).
func (s *server) renderError(c *gin.Context, status int, title, msg string) {
	s.render(c, status, "error", pageData{Title: title, Message: msg})
}
