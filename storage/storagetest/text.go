package storagetest

import (
	"testing"

	"github.com/google/uuid"

	"github.com/kangrow/auth/storage"
)

// testInvalidText: text PostgreSQL cannot hold (NUL, invalid UTF-8) is refused on every store with
// ErrInvalidText when written, and is simply not found when looked up — never a driver error.
func testInvalidText(t *testing.T, s *storage.Store) {
	ctx := testContext(t)
	bad := []string{"a\x00b@example.test", "\xff\xfe@example.test"}
	for _, v := range bad {
		_, err := s.GetUserByEmail(ctx, v)
		wantErr(t, "GetUserByEmail(invalid text)", err, storage.ErrNotFound)
		_, err = s.GetClientByID(ctx, v)
		wantErr(t, "GetClientByID(invalid text)", err, storage.ErrNotFound)
		wantErr(t, "DeleteClient(invalid text)", s.DeleteClient(ctx, v), storage.ErrNotFound)
		_, err = s.GetUserByIdentity(ctx, "github", v)
		wantErr(t, "GetUserByIdentity(invalid text)", err, storage.ErrNotFound)
		_, err = s.GetConsent(ctx, uuid.Must(uuid.NewV7()), v)
		wantErr(t, "GetConsent(invalid text)", err, storage.ErrNotFound)
		if _, err := s.GetClient(ctx, v); err == nil {
			t.Fatal("GetClient(invalid text) found a client")
		}

		wantErr(t, "CreateUser(invalid email)", s.CreateUser(ctx, &storage.User{Email: v}), storage.ErrInvalidText)
		name := "Ada" + v
		wantErr(t, "CreateUser(invalid name)", s.CreateUser(ctx, &storage.User{Email: "ok@example.test", FirstName: &name}), storage.ErrInvalidText)
		wantErr(t, "CreateClient(invalid name)", s.CreateClient(ctx, &storage.Client{ID: "c", Name: v, Public: true}), storage.ErrInvalidText)
		wantErr(t, "CreateClient(invalid redirect URI)", s.CreateClient(ctx, &storage.Client{ID: "c", Name: "C", Public: true,
			RedirectURIs: storage.StringList{"https://rp.example/" + v}}), storage.ErrInvalidText)
	}
	// Nothing was stored by the refused writes.
	users, err := s.ListUsers(ctx, storage.ListOptions{})
	must(t, "ListUsers", err)
	clients, err := s.ListClients(ctx)
	must(t, "ListClients", err)
	if len(users) != 0 || len(clients) != 0 {
		t.Fatalf("refused writes stored %d users and %d clients", len(users), len(clients))
	}
}
