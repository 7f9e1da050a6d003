// Package dbtest gives tests a database of their own: a fresh PostgreSQL database created for the test
// and dropped after it, or a fresh SQLite file. It builds no schema; callers run the migrations.
//
// PostgreSQL is found through TEST_DATABASE_URL, else postgres://postgres@127.0.0.1:5432/test. Without
// one a test is skipped on a laptop and fails when CI is set, so CI never skips database tests silently.
package dbtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"gorm.io/gorm"

	"github.com/kangrow/auth/storage"
)

const defaultURL = "postgres://postgres@127.0.0.1:5432/test?sslmode=disable"

// AdminURL is the URL of the server's maintenance database that fresh databases are created from.
func AdminURL() string {
	if u := os.Getenv("TEST_DATABASE_URL"); u != "" {
		return u
	}
	return defaultURL
}

// PostgresURL creates an empty database for t and returns its URL; it is dropped when t ends.
func PostgresURL(t testing.TB) string {
	t.Helper()
	ctx := context.Background()
	admin, err := storage.Open(ctx, AdminURL())
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("no PostgreSQL for tests (set TEST_DATABASE_URL): %v", err)
		}
		t.Skipf("no PostgreSQL for tests (set TEST_DATABASE_URL): %v", err)
	}
	name := "kangrow_test_" + randomHex(6)
	if err := admin.Exec("CREATE DATABASE " + name).Error; err != nil {
		_ = storage.Close(admin)
		t.Fatalf("create test database: %v", err)
	}
	t.Cleanup(func() {
		_ = admin.Exec("DROP DATABASE IF EXISTS " + name + " WITH (FORCE)").Error
		_ = storage.Close(admin)
	})
	u, err := url.Parse(AdminURL())
	if err != nil {
		t.Fatalf("TEST_DATABASE_URL: %v", err)
	}
	u.Path = "/" + name
	return u.String()
}

// Postgres opens an empty PostgreSQL database of t's own.
func Postgres(t testing.TB) *gorm.DB {
	t.Helper()
	return mustOpen(t, PostgresURL(t))
}

// SQLiteURL returns the URL of a fresh SQLite file in t's temporary directory.
func SQLiteURL(t testing.TB) string {
	t.Helper()
	return "sqlite:" + filepath.Join(t.TempDir(), "kangrow.db")
}

// SQLite opens an empty SQLite database of t's own.
func SQLite(t testing.TB) *gorm.DB {
	t.Helper()
	return mustOpen(t, SQLiteURL(t))
}

// tables are the schema's tables (docs/schema.md), children before the parents they reference.
// The migration history is not among them.
var tables = []string{
	"jwt_assertions", "client_tokens", "consents", "user_identities",
	"refresh_tokens", "users_tokens", "signing_keys", "clients", "users",
}

// Truncate deletes every row of the schema's tables, keeping the schema and the migration history, so
// that a test starts from empty tables without building a new database.
func Truncate(t testing.TB, db *gorm.DB) {
	t.Helper()
	var stmts []string
	switch db.Dialector.Name() {
	case storage.DialectPostgres:
		stmts = []string{"TRUNCATE TABLE " + strings.Join(tables, ", ")}
	default:
		for _, table := range tables {
			stmts = append(stmts, "DELETE FROM "+table)
		}
	}
	for _, stmt := range stmts {
		if err := db.Exec(stmt).Error; err != nil {
			t.Fatalf("truncate: %v", err)
		}
	}
}

func mustOpen(t testing.TB, rawURL string) *gorm.DB {
	t.Helper()
	db, err := storage.Open(context.Background(), rawURL)
	if err != nil {
		t.Fatalf("open test database: %v", err)
	}
	t.Cleanup(func() { _ = storage.Close(db) })
	return db
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
