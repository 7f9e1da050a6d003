package main

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kangrow/auth/storage"
	"github.com/kangrow/auth/storage/password"
)

func TestUsers(t *testing.T) {
	t.Parallel()
	eachStore(t, func(t *testing.T, e env) {
		mustRun(t, e, "migrate", "up")
		ctx := context.Background()
		s, _ := mustOpenStore(t, e)

		out := mustRun(t, e, "users", "create", "--email", "Ada@Example.test", "--password", "correct horse",
			"--verified", "--first-name", "Ada", "--last-name", "Lovelace")
		if strings.Contains(out, "argon2") || strings.Contains(out, "hashed_password") || strings.Contains(out, "correct horse") {
			t.Errorf("create shows the password or its hash: %s", out)
		}
		ada := mustDecode[userJSON](t, out)
		if ada.Email != "Ada@Example.test" || !ada.EmailVerified || ada.ConfirmedAt == nil || !ada.HasPassword ||
			ada.FirstName == nil || *ada.FirstName != "Ada" || ada.LastName == nil || *ada.LastName != "Lovelace" {
			t.Errorf("create printed %+v", ada)
		}
		stored, err := s.GetUser(ctx, ada.ID)
		if err != nil {
			t.Fatal(err)
		}
		if stored.HashedPassword == nil {
			t.Fatal("no password hash stored")
		}
		if ok, _, err := password.Verify(*stored.HashedPassword, "correct horse"); err != nil || !ok {
			t.Errorf("stored hash does not verify the password: %v, %v", ok, err)
		}

		bob := mustDecode[userJSON](t, mustRun(t, e, "users", "create", "--email", "bob@example.test", "--password", "12345678"))
		if bob.EmailVerified || bob.ConfirmedAt != nil || bob.FirstName != nil || bob.LastName != nil {
			t.Errorf("create without options printed %+v", bob)
		}

		mustFail(t, e, []string{"users", "create", "--email", "ada@example.test", "--password", "another one"},
			"user ada@example.test already exists")

		for _, key := range []string{ada.ID.String(), "ada@example.test", "ADA@EXAMPLE.TEST"} {
			got := mustDecode[userJSON](t, mustRun(t, e, "users", "get", key))
			if got.ID != ada.ID {
				t.Errorf("get %s = %s, want %s", key, got.ID, ada.ID)
			}
		}
		mustFail(t, e, []string{"users", "get", "nobody@example.test"}, "user nobody@example.test not found")
		mustFail(t, e, []string{"users", "get", "0190b5a0-0000-7000-8000-000000000000"}, "not found")

		list := mustDecode[[]userJSON](t, mustRun(t, e, "users", "list"))
		if len(list) != 2 || list[0].ID != ada.ID || list[1].ID != bob.ID {
			t.Errorf("list = %+v, want ada then bob", list)
		}
		page := mustDecode[[]userJSON](t, mustRun(t, e, "users", "list", "--limit", "1", "--offset", "1"))
		if len(page) != 1 || page[0].ID != bob.ID {
			t.Errorf("list --limit 1 --offset 1 = %+v, want bob", page)
		}
		mustFail(t, e, []string{"users", "list", "--limit", "0"}, "--limit")

		// Ban and block revoke the user's grants; unban and unblock lift only the flag.
		if _, err := s.CreateLoginSession(ctx, bob.ID, "bob-session"); err != nil {
			t.Fatal(err)
		}
		if u := mustDecode[userJSON](t, mustRun(t, e, "users", "ban", "bob@example.test")); !u.Banned {
			t.Errorf("ban printed %+v", u)
		}
		if _, _, err := s.GetLoginSession(ctx, "bob-session"); !errors.Is(err, storage.ErrNotFound) {
			t.Errorf("after ban, bob's login session: err = %v, want ErrNotFound", err)
		}
		if u := mustDecode[userJSON](t, mustRun(t, e, "users", "unban", bob.ID.String())); u.Banned {
			t.Errorf("unban printed %+v", u)
		}
		if u := mustDecode[userJSON](t, mustRun(t, e, "users", "block", "bob@example.test")); !u.Blocked || u.Banned {
			t.Errorf("block printed %+v", u)
		}
		if u := mustDecode[userJSON](t, mustRun(t, e, "users", "unblock", "bob@example.test")); u.Blocked {
			t.Errorf("unblock printed %+v", u)
		}

		mustRun(t, e, "users", "delete", "bob@example.test")
		mustFail(t, e, []string{"users", "get", "bob@example.test"}, "user bob@example.test not found")
		mustFail(t, e, []string{"users", "ban", "bob@example.test"}, "not found")
		if list := mustDecode[[]userJSON](t, mustRun(t, e, "users", "list")); len(list) != 1 {
			t.Errorf("list after delete = %+v, want ada alone", list)
		}
	})
}

// TestUsersCreateValidation needs no database: bad input is refused before one is opened.
func TestUsersCreateValidation(t *testing.T) {
	t.Parallel()
	e := env{"KANGROW_DATABASE_URL": "sqlite:" + filepath.Join(t.TempDir(), "never-created.db")}
	tests := []struct {
		name string
		args []string
		want []string
	}{
		{"no email", []string{"--password", "12345678"}, []string{"--email", "required"}},
		{"not an email", []string{"--email", "ada", "--password", "12345678"}, []string{"--email", `"ada"`}},
		{"display name", []string{"--email", "Ada <ada@example.test>", "--password", "12345678"}, []string{"--email"}},
		{"no password", []string{"--email", "ada@example.test"}, []string{"--password", "required"}},
		{"short password", []string{"--email", "ada@example.test", "--password", "seven77"}, []string{"--password", "at least 8"}},
		{"long password", []string{"--email", "ada@example.test", "--password", strings.Repeat("p", password.MaxLength+1)},
			[]string{"--password", "at most"}},
		{"email invalid UTF-8", []string{"--email", "k\xffpt@example.test", "--password", "12345678"}, []string{"--email", "not valid UTF-8"}},
		{"email with NUL", []string{"--email", "ada\x00@example.test", "--password", "12345678"}, []string{"--email", "U+0000"}},
		{"email with CRLF", []string{"--email", "ada@example.test\r\nBcc: x@example.test", "--password", "12345678"}, []string{"--email", "U+000D"}},
		{"first name invalid UTF-8", []string{"--email", "ada@example.test", "--password", "12345678", "--first-name", "\xff\xfe"},
			[]string{"--first-name", "not valid UTF-8"}},
		{"first name with a tab", []string{"--email", "ada@example.test", "--password", "12345678", "--first-name", "A\tda"},
			[]string{"--first-name", "U+0009"}},
		{"last name with NUL", []string{"--email", "ada@example.test", "--password", "12345678", "--last-name", "Love\x00lace"},
			[]string{"--last-name", "U+0000"}},
		{"last name with LF", []string{"--email", "ada@example.test", "--password", "12345678", "--last-name", "Lovelace\n"},
			[]string{"--last-name", "U+000A"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			msg := mustFailOneLine(t, e, append([]string{"users", "create"}, tc.args...), tc.want...)
			if strings.Contains(msg, "seven77") {
				t.Errorf("error %q shows the password", msg)
			}
		})
	}
	// An ID_OR_EMAIL that is not text is not found, without opening the database.
	for _, v := range []string{"\xff\xfe", "k\xffpt@example.test", "ada@example.test\x00", "ada@example.test\n", "a\tb"} {
		for _, cmd := range []string{"get", "ban", "unban", "block", "unblock", "delete"} {
			mustFailOneLine(t, e, []string{"users", cmd, v}, "not found", "ID_OR_EMAIL")
		}
	}
	if _, err := os.Stat(strings.TrimPrefix(e["KANGROW_DATABASE_URL"], "sqlite:")); err == nil {
		t.Error("a refused command created the database")
	}
	mustFail(t, e, []string{"users"}, "users needs a command")
	mustFail(t, e, []string{"users", "get"}, "users get needs ID_OR_EMAIL")
}
