package storage_test

import (
	"context"
	"testing"

	"github.com/kangrow/auth/migrations"
	"github.com/kangrow/auth/storage"
	"github.com/kangrow/auth/storage/dbtest"
)

// TestClientMemo: under WithClientMemo a client is read once per context — still served after the row
// is gone — and copies are handed out; without it every lookup reads the database.
func TestClientMemo(t *testing.T) {
	db := dbtest.SQLite(t)
	ctx := context.Background()
	if err := migrations.Up(ctx, db); err != nil {
		t.Fatal(err)
	}
	s := storage.New(db)
	if err := s.CreateClient(ctx, &storage.Client{ID: "rp", Name: "RP", Public: true}); err != nil {
		t.Fatal(err)
	}
	memo := storage.WithClientMemo(ctx)
	first, err := s.GetClientByID(memo, "rp")
	if err != nil {
		t.Fatal(err)
	}
	first.Name = "changed by a caller"
	if err := s.DeleteClient(ctx, "rp"); err != nil {
		t.Fatal(err)
	}
	again, err := s.GetClientByID(memo, "rp")
	if err != nil || again.Name != "RP" {
		t.Fatalf("memoized lookup = %+v, %v; want the client as first read", again, err)
	}
	if _, err := s.GetClient(memo, "rp"); err != nil {
		t.Fatalf("fosite's GetClient does not use the memo: %v", err)
	}
	if _, err := s.GetClientByID(ctx, "rp"); err == nil {
		t.Fatal("a lookup without the memo found the deleted client")
	}
	if _, err := s.GetClientByID(storage.WithClientMemo(ctx), "rp"); err == nil {
		t.Fatal("a new memo found the deleted client")
	}
}
