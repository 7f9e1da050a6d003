package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"gorm.io/gorm"

	"github.com/kangrow/auth/storage"
)

func TestClients(t *testing.T) {
	t.Parallel()
	eachStore(t, func(t *testing.T, e env) {
		mustRun(t, e, "migrate", "up")
		ctx := context.Background()

		out := mustRun(t, e, "clients", "create", "--name", "Web app",
			"--redirect-uri", "https://app.example/callback", "--redirect-uri", "http://127.0.0.1:8765/cb",
			"--post-logout-redirect-uri", "https://app.example/bye")
		created := mustDecode[clientJSON](t, out)
		secret := created.ClientSecret
		if len(secret) != 43 { // 32 random bytes, base64url without padding
			t.Fatalf("generated secret %q has %d characters, want 43", secret, len(secret))
		}
		if strings.Count(out, secret) != 1 {
			t.Errorf("create printed the secret %d times, want once", strings.Count(out, secret))
		}
		want := clientJSON{
			ClientID: created.ClientID, ClientSecret: secret, ClientName: "Web app",
			TokenEndpointAuthMethod: "client_secret_basic",
			RedirectURIs:            []string{"https://app.example/callback", "http://127.0.0.1:8765/cb"},
			PostLogoutRedirectURIs:  []string{"https://app.example/bye"},
			GrantTypes:              []string{"authorization_code", "refresh_token"},
			ResponseTypes:           []string{"code"},
			Scope:                   "openid profile email offline_access",
			Audience:                []string{},
			IDTokenSignedAlg:        "RS256",
			CreatedAt:               created.CreatedAt, UpdatedAt: created.UpdatedAt,
		}
		if created.ClientID == "" || created.CreatedAt.IsZero() {
			t.Errorf("create printed no client_id or created_at: %s", out)
		}
		if fmt.Sprint(created) != fmt.Sprint(want) {
			t.Errorf("create printed\n %+v\nwant\n %+v", created, want)
		}

		// Stored only as its digest, and nowhere in the database in the clear.
		s, db := mustOpenStore(t, e)
		c, err := s.GetClientByID(ctx, created.ClientID)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(c.SecretHash, storage.Digest(secret)) {
			t.Errorf("stored secret hash %x, want storage.Digest(printed secret) %x", c.SecretHash, storage.Digest(secret))
		}
		assertNotInDatabase(t, db, secret)

		for _, args := range [][]string{{"clients", "get", created.ClientID}, {"clients", "list"}} {
			out := mustRun(t, e, args...)
			if strings.Contains(out, secret) || strings.Contains(out, "secret_hash") || strings.Contains(out, `"client_secret"`) {
				t.Errorf("%v shows the secret or its hash: %s", args, out)
			}
			if !strings.Contains(out, created.ClientID) {
				t.Errorf("%v does not show the client: %s", args, out)
			}
		}
		got := mustDecode[clientJSON](t, mustRun(t, e, "clients", "get", created.ClientID))
		want.ClientSecret = ""
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("get printed\n %+v\nwant\n %+v", got, want)
		}

		// A given ID and secret, the second auth method, a public client, a machine client.
		given := strings.Repeat("k", 32)
		mine := mustDecode[clientJSON](t, mustRun(t, e, "clients", "create", "--id", "my-app", "--name", "Mine",
			"--secret", given, "--redirect-uri", "com.example.app:/oauth2redirect", "--skip-consent",
			"--token-endpoint-auth-method", "client_secret_post", "--scope", "openid email"))
		if mine.ClientID != "my-app" || mine.ClientSecret != given || !mine.SkipConsent ||
			mine.TokenEndpointAuthMethod != "client_secret_post" || mine.Scope != "openid email" {
			t.Errorf("create with flags printed %+v", mine)
		}
		if c, err := s.GetClientByID(ctx, "my-app"); err != nil || !bytes.Equal(c.SecretHash, storage.Digest(given)) {
			t.Errorf("my-app: stored hash does not match the given secret (err %v)", err)
		}
		assertNotInDatabase(t, db, given)

		spa := mustDecode[clientJSON](t, mustRun(t, e, "clients", "create", "--id", "spa", "--name", "SPA", "--public",
			"--redirect-uri", "http://localhost:3000/cb"))
		if !spa.Public || spa.ClientSecret != "" || spa.TokenEndpointAuthMethod != "none" {
			t.Errorf("public client printed %+v, want public, no secret, auth method none", spa)
		}
		if c, err := s.GetClientByID(ctx, "spa"); err != nil || c.SecretHash != nil {
			t.Errorf("public client: stored secret hash %x (err %v), want none", c.SecretHash, err)
		}

		m2m := mustDecode[clientJSON](t, mustRun(t, e, "clients", "create", "--id", "batch", "--name", "Batch job",
			"--grant-type", "client_credentials", "--scope", "reports.read"))
		if !slices.Equal(m2m.GrantTypes, []string{"client_credentials"}) || len(m2m.ResponseTypes) != 0 || m2m.ClientSecret == "" {
			t.Errorf("client_credentials client printed %+v", m2m)
		}

		mustFail(t, e, []string{"clients", "create", "--id", "my-app", "--name", "Again", "--redirect-uri", "https://x.example/cb"},
			"client my-app already exists")

		list := mustDecode[[]clientJSON](t, mustRun(t, e, "clients", "list"))
		var ids []string
		for _, c := range list {
			ids = append(ids, c.ClientID)
		}
		slices.Sort(ids)
		wantIDs := []string{"batch", created.ClientID, "my-app", "spa"}
		slices.Sort(wantIDs)
		if !slices.Equal(ids, wantIDs) {
			t.Errorf("list = %v, want %v", ids, wantIDs)
		}

		mustRun(t, e, "clients", "delete", "my-app")
		mustFail(t, e, []string{"clients", "get", "my-app"}, "client my-app not found")
		mustFail(t, e, []string{"clients", "delete", "my-app"}, "client my-app not found")
	})
}

// assertNotInDatabase fails if any column of any row of any table holds s.
func assertNotInDatabase(t *testing.T, db *gorm.DB, s string) {
	t.Helper()
	tables, err := db.Migrator().GetTables()
	if err != nil {
		t.Fatal(err)
	}
	if len(tables) == 0 {
		t.Fatal("no tables found")
	}
	for _, table := range tables {
		rows, err := db.Table(table).Rows()
		if err != nil {
			t.Fatalf("read %s: %v", table, err)
		}
		cols, _ := rows.Columns()
		for rows.Next() {
			vals := make([]any, len(cols))
			ptrs := make([]any, len(cols))
			for i := range vals {
				ptrs[i] = &vals[i]
			}
			if err := rows.Scan(ptrs...); err != nil {
				t.Fatalf("scan %s: %v", table, err)
			}
			for i, v := range vals {
				var text string
				if b, ok := v.([]byte); ok {
					text = string(b)
				} else {
					text = fmt.Sprint(v)
				}
				if strings.Contains(text, s) {
					t.Errorf("table %s column %s holds the secret in the clear", table, cols[i])
				}
			}
		}
		_ = rows.Close()
	}
}

// TestClientsCreateValidation needs no database: bad input is refused before one is opened.
func TestClientsCreateValidation(t *testing.T) {
	t.Parallel()
	e := env{"KANGROW_DATABASE_URL": "sqlite:" + filepath.Join(t.TempDir(), "never-created.db")}
	base := []string{"clients", "create", "--name", "App"}
	cb := []string{"--redirect-uri", "https://app.example/cb"}
	join := func(parts ...[]string) []string { return slices.Concat(parts...) }
	tests := []struct {
		name string
		args []string
		want []string
	}{
		{"no name", join([]string{"clients", "create"}, cb), []string{"--name", "required"}},
		{"blank name", join([]string{"clients", "create", "--name", "  "}, cb), []string{"--name", "required"}},
		{"no redirect URI for authorization_code", base, []string{"--redirect-uri", "authorization_code"}},
		{"relative redirect URI", join(base, []string{"--redirect-uri", "/cb"}), []string{"--redirect-uri", "absolute"}},
		{"redirect URI with fragment", join(base, []string{"--redirect-uri", "https://app.example/cb#x"}), []string{"--redirect-uri", "fragment"}},
		{"http redirect URI on a public host", join(base, []string{"--redirect-uri", "http://app.example/cb"}), []string{"--redirect-uri", "https"}},
		{"javascript redirect URI", join(base, []string{"--redirect-uri", "javascript:alert(1)"}), []string{"--redirect-uri", "scheme"}},
		{"https redirect URI without host", join(base, []string{"--redirect-uri", "https:/cb"}), []string{"--redirect-uri", "host"}},
		{"bad post-logout URI", join(base, cb, []string{"--post-logout-redirect-uri", "http://evil.example/"}),
			[]string{"--post-logout-redirect-uri", "https"}},
		{"unknown grant type", join(base, cb, []string{"--grant-type", "password"}), []string{"--grant-type", `"password"`}},
		{"implicit grant type", join(base, cb, []string{"--grant-type", "implicit"}), []string{"--grant-type"}},
		{"public with secret", join(base, cb, []string{"--public", "--secret", strings.Repeat("x", 40)}), []string{"--secret", "--public"}},
		{"public with client_credentials", join(base, cb, []string{"--public", "--grant-type", "authorization_code,client_credentials"}),
			[]string{"--grant-type", "client_credentials"}},
		{"public with secret auth method", join(base, cb, []string{"--public", "--token-endpoint-auth-method", "client_secret_basic"}),
			[]string{"--token-endpoint-auth-method"}},
		{"confidential with none", join(base, cb, []string{"--token-endpoint-auth-method", "none"}), []string{"--token-endpoint-auth-method", "--public"}},
		{"unknown auth method", join(base, cb, []string{"--token-endpoint-auth-method", "private_key_jwt"}), []string{"--token-endpoint-auth-method"}},
		{"short secret", join(base, cb, []string{"--secret", "hunter2"}), []string{"--secret", "at least 32"}},
		{"unknown ID token algorithm", join(base, cb, []string{"--id-token-signed-response-alg", "HS256"}),
			[]string{"--id-token-signed-response-alg", "RS256 or ES256"}},
		{"empty id", join(base, cb, []string{"--id", ""}), []string{"--id", "1 to 255"}},
		{"long id", join(base, cb, []string{"--id", strings.Repeat("i", 256)}), []string{"--id", "1 to 255"}},
		{"id with space", join(base, cb, []string{"--id", "my app"}), []string{"--id", "printable"}},
		{"id with control character", join(base, cb, []string{"--id", "a\x01"}), []string{"--id", "printable"}},
		{"bad scope", join(base, cb, []string{"--scope", `openid "x"`}), []string{"--scope"}},
		// RFC 3986 §2: a URI is printable US-ASCII.
		{"redirect URI with a space", join(base, []string{"--redirect-uri", "https://app.example/c b"}), []string{"--redirect-uri", "printable US-ASCII"}},
		{"two redirect URIs in one flag", join(base, []string{"--redirect-uri", "https://app.example/cb https://app.example/cb2"}),
			[]string{"--redirect-uri", "without spaces"}},
		{"redirect URI with a tab", join(base, []string{"--redirect-uri", "https://app.example/cb\t"}), []string{"--redirect-uri", "printable US-ASCII"}},
		{"redirect URI with NUL", join(base, []string{"--redirect-uri", "https://app.example/cb\x00"}), []string{"--redirect-uri", "printable US-ASCII"}},
		{"redirect URI with DEL", join(base, []string{"--redirect-uri", "https://app.example/cb\x7f"}), []string{"--redirect-uri", "printable US-ASCII"}},
		{"redirect URI with non-ASCII", join(base, []string{"--redirect-uri", "https://app.example/café"}), []string{"--redirect-uri", "percent-encode"}},
		{"redirect URI with an IDN host", join(base, []string{"--redirect-uri", "https://bücher.example/cb"}), []string{"--redirect-uri", "printable US-ASCII"}},
		{"redirect URI with invalid UTF-8", join(base, []string{"--redirect-uri", "https://app.example/\xff"}), []string{"--redirect-uri", `\xff`}},
		{"second redirect URI bad", join(base, cb, []string{"--redirect-uri", "https://app.example/c b"}), []string{"--redirect-uri"}},
		{"post-logout URI with a space", join(base, cb, []string{"--post-logout-redirect-uri", "https://app.example/o ut"}),
			[]string{"--post-logout-redirect-uri", "printable US-ASCII"}},
		{"post-logout URI with invalid UTF-8", join(base, cb, []string{"--post-logout-redirect-uri", "https://app.example/\xfe"}),
			[]string{"--post-logout-redirect-uri", "printable US-ASCII"}},
		// Names are text: valid UTF-8 without control characters.
		{"name invalid UTF-8", join([]string{"clients", "create", "--name", "\xff\xfe"}, cb), []string{"--name", "not valid UTF-8"}},
		{"name with NUL", join([]string{"clients", "create", "--name", "A\x00pp"}, cb), []string{"--name", "control characters", "U+0000"}},
		{"name with LF", join([]string{"clients", "create", "--name", "App\nX"}, cb), []string{"--name", "control characters", "U+000A"}},
		{"name with a trailing LF", join([]string{"clients", "create", "--name", "App\n"}, cb), []string{"--name", "U+000A"}},
		{"name with a tab", join([]string{"clients", "create", "--name", "A\tpp"}, cb), []string{"--name", "U+0009"}},
		{"id invalid UTF-8", join(base, cb, []string{"--id", "\xff\xfe"}), []string{"--id", "printable"}},
		{"unknown flag", join(base, cb, []string{"--foo"}), []string{"unknown flag: --foo"}},
		{"positional argument", join(base, cb, []string{"extra"}), []string{`unknown command "extra"`}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			msg := mustFailOneLine(t, e, tc.args, tc.want...)
			if strings.Contains(msg, "hunter2") || strings.Contains(msg, "xxxxxxxx") {
				t.Errorf("error %q shows the secret", msg)
			}
		})
	}
	// A client ID that is not text is not found, without opening the database.
	for _, id := range []string{"\xff\xfe", "a\x00b", "a\nb", "a\tb"} {
		for _, cmd := range []string{"get", "delete"} {
			mustFailOneLine(t, e, []string{"clients", cmd, id}, "not found", "ID")
		}
	}
	if _, err := os.Stat(strings.TrimPrefix(e["KANGROW_DATABASE_URL"], "sqlite:")); err == nil {
		t.Error("a refused command created the database")
	}
	mustFail(t, e, []string{"clients"}, "clients needs a command", "create, list, get, delete")
	mustFail(t, e, []string{"clients", "get"}, "clients get needs ID")
	mustFail(t, e, []string{"clients", "delete", "a", "b"}, "clients delete needs ID")
}
