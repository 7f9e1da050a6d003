package storage_test

import (
	"testing"

	"gorm.io/gorm"

	"github.com/kangrow/auth/migrations"
	"github.com/kangrow/auth/storage"
	"github.com/kangrow/auth/storage/dbtest"
	"github.com/kangrow/auth/storage/storagetest"
)

func TestPostgres(t *testing.T) {
	storagetest.Run(t, newStoreFunc(t, dbtest.Postgres(t)))
}

func TestSQLite(t *testing.T) {
	storagetest.Run(t, newStoreFunc(t, dbtest.SQLite(t)))
}

// newStoreFunc migrates db once and returns a newStore that empties its tables for every subtest.
func newStoreFunc(t *testing.T, db *gorm.DB) func(t *testing.T) *storage.Store {
	t.Helper()
	if err := migrations.Up(t.Context(), db); err != nil {
		t.Fatalf("migrations.Up: %v", err)
	}
	return func(t *testing.T) *storage.Store {
		t.Helper()
		dbtest.Truncate(t, db)
		return storage.New(db)
	}
}
