package storage

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
)

// TestOpenNeverPrintsSecrets: whatever goes wrong, the password of the URL does not appear in the
// error, wherever the URL carries it.
func TestOpenNeverPrintsSecrets(t *testing.T) {
	const secret = "Sup3rS3cretPw"
	tests := []string{
		"postgres://kangrow:" + secret + "@127.0.0.1:1/db?connect_timeout=2",
		"postgres://127.0.0.1:1/db?password=" + secret + "&connect_timeout=2",
		"postgres://127.0.0.1:1/db?sslpassword=" + secret + "&connect_timeout=2",
		"postgres://kangrow:" + secret + "@127.0.0.1:1/db?sslmode=bogus",
		"postgres://kangrow:" + secret + "@127.0.0.1:1/db?connect_timeout=nope",
	}
	for _, raw := range tests {
		_, err := Open(context.Background(), raw)
		if err == nil {
			t.Fatalf("Open(%q) succeeded", raw)
		}
		if strings.Contains(err.Error(), secret) || strings.Contains(err.Error(), "\n") {
			t.Errorf("Open error shows the secret or spans lines: %v", err)
		}
	}
}

func TestOpenSQLiteNeedsItsDirectory(t *testing.T) {
	missing := filepath.Join(t.TempDir(), "no", "such", "dir")
	_, err := Open(context.Background(), "sqlite:"+filepath.Join(missing, "x.db"))
	if err == nil || !strings.Contains(err.Error(), "does not exist") {
		t.Fatalf("Open in a missing directory: %v, want a does-not-exist error", err)
	}
	db, err := Open(context.Background(), "sqlite:"+filepath.Join(t.TempDir(), "x.db"))
	if err != nil {
		t.Fatalf("Open in an existing directory: %v", err)
	}
	_ = Close(db)
}
