package web

import (
	"bytes"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/url"
	"strings"
	"time"
)

var b64 = base64.RawURLEncoding

// Consent decisions a flow token can carry.
const (
	consentApproved = "approved"
	consentDenied   = "denied"
)

// flowState carries an authorization request across the login and consent pages, statelessly: the
// client's original parameters, untouched, and when the request first arrived, so that prompt=login
// and max_age are judged against the request and not against the page the user is on (OIDC Core
// §3.1.2.1). A consent decision is only honoured by the login session that made it.
type flowState struct {
	Params      string `json:"p"` // the request's parameters, URL-encoded (GET query or POST form)
	RequestedAt int64  `json:"r"` // unix milliseconds
	Expires     int64  `json:"e"` // unix seconds
	Consent     string `json:"c,omitempty"`
	Session     string `json:"s,omitempty"` // the users_tokens ID of the login session that decided
	// Login is the users_tokens ID of the login session the user signed in to during this flow. It
	// satisfies prompt=login and max_age for this request: authenticated_at is a seed timestamp(0)
	// column, so a sign-in within the second of the request cannot be told apart by its time.
	Login string `json:"l,omitempty"`
}

func (f flowState) values() (url.Values, error) { return url.ParseQuery(f.Params) }

// logoutState carries a validated post-logout redirect to the confirmation form.
type logoutState struct {
	RedirectURI string `json:"u,omitempty"`
	Expires     int64  `json:"e"`
}

var errBadToken = errors.New("bad token")

// signToken returns base64url(JSON(v)) "." base64url(HMAC-SHA256(key, first part)).
func signToken(key []byte, v any) (string, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false) // compact: the parameters' "&" stay one byte
	if err := enc.Encode(v); err != nil {
		return "", err
	}
	body := b64.EncodeToString(bytes.TrimSuffix(buf.Bytes(), []byte("\n")))
	return body + "." + b64.EncodeToString(mac(key, body)), nil
}

// openToken verifies tok and decodes its payload into v. Expiry is the caller's to check.
func openToken(key []byte, tok string, v any) error {
	if tok == "" || len(tok) > maxFlowTokenLen {
		return errBadToken
	}
	body, sig, ok := strings.Cut(tok, ".")
	if !ok {
		return errBadToken
	}
	got, err := b64.DecodeString(sig)
	if err != nil || !hmac.Equal(got, mac(key, body)) {
		return errBadToken
	}
	payload, err := b64.DecodeString(body)
	if err != nil {
		return errBadToken
	}
	if err := json.Unmarshal(payload, v); err != nil {
		return errBadToken
	}
	return nil
}

func mac(key []byte, msg string) []byte {
	h := hmac.New(sha256.New, key)
	h.Write([]byte(msg))
	return h.Sum(nil)
}

// newFlow starts a flow for request parameters that arrived now.
func (s *server) newFlow(params url.Values) flowState {
	now := s.now()
	return flowState{Params: params.Encode(), RequestedAt: now.UnixMilli(), Expires: now.Add(flowLifetime).Unix()}
}

// sealFlow signs f, keeping its expiry: a flow does not grow longer as the user moves through pages.
func (s *server) sealFlow(f flowState) (string, error) { return signToken(s.flowKey, f) }

// flowFits reports whether f's token stays within maxFlowTokenLen through the whole flow: sealed with
// the largest values the login and consent pages add (a consent decision, two login session IDs), so a
// flow that starts never grows into a token openFlow refuses.
func (s *server) flowFits(f flowState) (bool, error) {
	const sessionID = "00000000-0000-0000-0000-000000000000" // a users_tokens ID (UUID) as the pages store it
	f.Consent, f.Session, f.Login = consentApproved, sessionID, sessionID
	tok, err := s.sealFlow(f)
	if err != nil {
		return false, err
	}
	return len(tok) <= maxFlowTokenLen, nil
}

// openFlow verifies a flow token; invalid or expired tokens are errBadFlow.
func (s *server) openFlow(tok string) (flowState, error) {
	var f flowState
	if err := openToken(s.flowKey, tok, &f); err != nil {
		return f, errBadFlow.wrap(err)
	}
	if s.now().Unix() >= f.Expires {
		return f, errBadFlow.wrap(errors.New("flow token expired"))
	}
	if _, err := f.values(); err != nil {
		return f, errBadFlow.wrap(err)
	}
	return f, nil
}

func (s *server) sealLogout(redirectURI string) (string, error) {
	return signToken(s.logoutKey, logoutState{RedirectURI: redirectURI, Expires: s.now().Add(logoutLifetime).Unix()})
}

// openLogout returns the redirect of a valid logout token, ok=false otherwise.
func (s *server) openLogout(tok string) (string, bool) {
	var l logoutState
	if err := openToken(s.logoutKey, tok, &l); err != nil || s.now().Unix() >= l.Expires {
		return "", false
	}
	return l.RedirectURI, true
}

// randomToken returns 32 random bytes, base64url: login session and CSRF cookie values.
func randomToken() string {
	var b [32]byte
	_, _ = rand.Read(b[:]) // never fails (crypto/rand panics instead)
	return b64.EncodeToString(b[:])
}

// wellFormed reports whether v looks like a randomToken, so junk cookies cost no database lookup.
func wellFormed(v string) bool {
	if len(v) != 43 {
		return false
	}
	_, err := b64.DecodeString(v)
	return err == nil
}

// timeFromUnixMilli is the UTC time of unix milliseconds.
func timeFromUnixMilli(ms int64) time.Time { return time.UnixMilli(ms).UTC() }
