package provider

import (
	"errors"
	"testing"

	"github.com/ory/fosite"
)

// TestSafeError: error descriptions keep to RFC 6749 §5.2's characters whatever a request put into
// fosite's hints, and the error stays the same error.
func TestSafeError(t *testing.T) {
	err := fosite.ErrInvalidScope.WithHintf("The OAuth 2.0 Client is not allowed to request scope '%s'.", "a\x00b\r\nX-Injected: 1 \"q\" \\ é")
	safe := safeError(err)
	desc := safe.GetDescription()
	for _, r := range desc {
		if r < 0x20 || r > 0x7e || r == '"' || r == '\\' {
			t.Fatalf("description %q holds %q", desc, r)
		}
	}
	if !errors.Is(safe, fosite.ErrInvalidScope) || safe.ErrorField != "invalid_scope" || safe.CodeField != 400 {
		t.Fatalf("safeError changed the error: %+v", safe)
	}
	if got := safeError(errors.New("boom")); got.ErrorField != "error" || got.CodeField != 500 {
		t.Fatalf("a plain error: %+v", got)
	}
}
