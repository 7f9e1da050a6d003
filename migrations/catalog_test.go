package migrations_test

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"gorm.io/gorm"
)

// The expected PostgreSQL catalog, written out by hand. The seed part is derived from
// shared/seed/auth_migrations.exs.md and ecto_sql's Postgres DDL rules, not from our migrations:
// :string → character varying(255); :utc_datetime → timestamp(0) (precision 0); :utc_datetime_usec →
// timestamp (precision 6); :map → jsonb; :binary → bytea; :binary_id → uuid; :citext → citext (a
// USER-DEFINED type, shown by udt_name); default: fragment("uuidv7()") → uuidv7(); default: false → false;
// default: 0 → 0; a column without null: false is NULLable; timestamps(...) → NOT NULL, no default;
// primary key → <table>_pkey; references(..., on_delete: :delete_all) → <table>_<column>_fkey ON DELETE
// CASCADE; (unique_)index(t, cols) → <t>_<cols>_index. The later part follows docs/schema.md.

const (
	varchar = "character varying"
	ts      = "timestamp without time zone"
)

// pgColumn is one row of information_schema.columns. typ is data_type, or udt_name for USER-DEFINED
// types; maxLen and precision are character_maximum_length and datetime_precision ("" for NULL).
type pgColumn struct {
	table     string
	pos       int
	name      string
	typ       string
	maxLen    string
	precision string
	nullable  string
	def       string
}

func (c pgColumn) String() string {
	return fmt.Sprintf("%s #%d %s %s len=%s prec=%s null=%s default=%q",
		c.table, c.pos, c.name, c.typ, c.maxLen, c.precision, c.nullable, c.def)
}

// pgIndex is one row of pg_indexes.
type pgIndex struct {
	table string
	name  string
	def   string
}

func (i pgIndex) String() string { return fmt.Sprintf("%s %s: %s", i.table, i.name, i.def) }

func (i pgIndex) unique() bool { return strings.HasPrefix(i.def, "CREATE UNIQUE INDEX ") }

// pgConstraint is one primary key, unique, check or foreign key constraint from pg_constraint; onDelete
// is confdeltype for foreign keys ("c" is CASCADE).
type pgConstraint struct {
	table    string
	name     string
	typ      string
	def      string
	onDelete string
}

func (c pgConstraint) String() string {
	return fmt.Sprintf("%s %s (%s) %s on_delete=%q", c.table, c.name, c.typ, c.def, c.onDelete)
}

var seedColumns = []pgColumn{
	// create table(:users, primary_key: false)
	{"users", 1, "id", "uuid", "", "", "NO", "uuidv7()"},
	{"users", 2, "email", "citext", "", "", "NO", ""},
	{"users", 3, "email_verified", "boolean", "", "", "NO", "false"},
	{"users", 4, "first_name", varchar, "255", "", "YES", ""},
	{"users", 5, "last_name", varchar, "255", "", "YES", ""},
	{"users", 6, "hashed_password", varchar, "255", "", "YES", ""},
	{"users", 7, "identities", "jsonb", "", "", "YES", ""},
	{"users", 8, "avatar_url", varchar, "255", "", "YES", ""},
	{"users", 9, "last_login", ts, "", "0", "YES", ""},
	{"users", 10, "last_ip", varchar, "255", "", "YES", ""},
	{"users", 11, "last_password_reset", ts, "", "0", "YES", ""},
	{"users", 12, "logins_count", "integer", "", "", "NO", "0"},
	{"users", 13, "verified", "boolean", "", "", "NO", "false"},
	{"users", 14, "banned", "boolean", "", "", "NO", "false"},
	{"users", 15, "blocked", "boolean", "", "", "NO", "false"},
	{"users", 16, "reset_password_token", varchar, "255", "", "YES", ""},
	{"users", 17, "reset_password_sent_at", ts, "", "6", "YES", ""},
	{"users", 18, "confirmed_at", ts, "", "0", "YES", ""},
	{"users", 19, "deleted_at", ts, "", "0", "YES", ""},
	{"users", 20, "created_at", ts, "", "0", "NO", ""},
	{"users", 21, "updated_at", ts, "", "0", "NO", ""},

	// create table(:users_tokens, primary_key: false); timestamps(updated_at: false, ...)
	{"users_tokens", 1, "id", "uuid", "", "", "NO", "uuidv7()"},
	{"users_tokens", 2, "user_id", "uuid", "", "", "NO", ""},
	{"users_tokens", 3, "token", "bytea", "", "", "NO", ""},
	{"users_tokens", 4, "context", varchar, "255", "", "NO", ""},
	{"users_tokens", 5, "sent_to", varchar, "255", "", "YES", ""},
	{"users_tokens", 6, "authenticated_at", ts, "", "0", "YES", ""},
	{"users_tokens", 7, "created_at", ts, "", "0", "NO", ""},

	// create table(:refresh_tokens, primary_key: false)
	{"refresh_tokens", 1, "id", "uuid", "", "", "NO", "uuidv7()"},
	{"refresh_tokens", 2, "token", varchar, "255", "", "NO", ""},
	{"refresh_tokens", 3, "user_id", "uuid", "", "", "NO", ""},
	{"refresh_tokens", 4, "expires_at", ts, "", "0", "NO", ""},
	{"refresh_tokens", 5, "revoked", "boolean", "", "", "NO", "false"},
	{"refresh_tokens", 6, "device_info", varchar, "255", "", "YES", ""},
	{"refresh_tokens", 7, "last_used_at", ts, "", "0", "YES", ""},
	{"refresh_tokens", 8, "created_at", ts, "", "0", "NO", ""},
	{"refresh_tokens", 9, "updated_at", ts, "", "0", "NO", ""},
}

var seedIndexes = []pgIndex{
	{"users", "users_pkey", "CREATE UNIQUE INDEX users_pkey ON public.users USING btree (id)"},
	{"users", "users_email_index", "CREATE UNIQUE INDEX users_email_index ON public.users USING btree (email)"},
	{"users", "users_banned_index", "CREATE INDEX users_banned_index ON public.users USING btree (banned)"},
	{"users", "users_reset_password_token_index", "CREATE INDEX users_reset_password_token_index ON public.users USING btree (reset_password_token) WHERE (reset_password_sent_at IS NOT NULL)"},
	{"users_tokens", "users_tokens_pkey", "CREATE UNIQUE INDEX users_tokens_pkey ON public.users_tokens USING btree (id)"},
	{"users_tokens", "users_tokens_user_id_index", "CREATE INDEX users_tokens_user_id_index ON public.users_tokens USING btree (user_id)"},
	{"users_tokens", "users_tokens_context_token_index", "CREATE UNIQUE INDEX users_tokens_context_token_index ON public.users_tokens USING btree (context, token)"},
	{"refresh_tokens", "refresh_tokens_pkey", "CREATE UNIQUE INDEX refresh_tokens_pkey ON public.refresh_tokens USING btree (id)"},
	{"refresh_tokens", "refresh_tokens_token_index", "CREATE UNIQUE INDEX refresh_tokens_token_index ON public.refresh_tokens USING btree (token)"},
	{"refresh_tokens", "refresh_tokens_user_id_index", "CREATE INDEX refresh_tokens_user_id_index ON public.refresh_tokens USING btree (user_id)"},
	{"refresh_tokens", "refresh_tokens_expires_at_index", "CREATE INDEX refresh_tokens_expires_at_index ON public.refresh_tokens USING btree (expires_at)"},
	{"refresh_tokens", "refresh_tokens_user_id_revoked_index", "CREATE INDEX refresh_tokens_user_id_revoked_index ON public.refresh_tokens USING btree (user_id, revoked)"},
}

var seedConstraints = []pgConstraint{
	{"users", "users_pkey", "p", "PRIMARY KEY (id)", ""},
	{"users_tokens", "users_tokens_pkey", "p", "PRIMARY KEY (id)", ""},
	{"users_tokens", "users_tokens_user_id_fkey", "f", "FOREIGN KEY (user_id) REFERENCES users(id) ON DELETE CASCADE", "c"},
	{"refresh_tokens", "refresh_tokens_pkey", "p", "PRIMARY KEY (id)", ""},
	{"refresh_tokens", "refresh_tokens_user_id_fkey", "f", "FOREIGN KEY (user_id) REFERENCES users(id) ON DELETE CASCADE", "c"},
}

// laterColumns are what migrations 202601151203 to 202601151210 add (docs/schema.md).
var laterColumns = []pgColumn{
	{"clients", 1, "id", varchar, "255", "", "NO", ""},
	{"clients", 2, "name", varchar, "255", "", "NO", ""},
	{"clients", 3, "secret_hash", "bytea", "", "", "YES", ""},
	{"clients", 4, "public", "boolean", "", "", "NO", "false"},
	{"clients", 5, "token_endpoint_auth_method", varchar, "255", "", "NO", ""},
	{"clients", 6, "redirect_uris", "jsonb", "", "", "NO", "'[]'::jsonb"},
	{"clients", 7, "post_logout_redirect_uris", "jsonb", "", "", "NO", "'[]'::jsonb"},
	{"clients", 8, "grant_types", "jsonb", "", "", "NO", "'[]'::jsonb"},
	{"clients", 9, "response_types", "jsonb", "", "", "NO", "'[]'::jsonb"},
	{"clients", 10, "scopes", "jsonb", "", "", "NO", "'[]'::jsonb"},
	{"clients", 11, "audience", "jsonb", "", "", "NO", "'[]'::jsonb"},
	{"clients", 12, "skip_consent", "boolean", "", "", "NO", "false"},
	{"clients", 13, "created_at", ts, "", "0", "NO", ""},
	{"clients", 14, "updated_at", ts, "", "0", "NO", ""},
	{"clients", 15, "id_token_signed_response_alg", varchar, "16", "", "NO", "'RS256'::character varying"},

	{"users_tokens", 8, "request_id", varchar, "255", "", "YES", ""},
	{"users_tokens", 9, "client_id", varchar, "255", "", "YES", ""},
	{"users_tokens", 10, "requested_at", ts, "", "6", "YES", ""},
	{"users_tokens", 11, "requested_scopes", "jsonb", "", "", "YES", ""},
	{"users_tokens", 12, "granted_scopes", "jsonb", "", "", "YES", ""},
	{"users_tokens", 13, "requested_audience", "jsonb", "", "", "YES", ""},
	{"users_tokens", 14, "granted_audience", "jsonb", "", "", "YES", ""},
	{"users_tokens", 15, "form_data", "text", "", "", "YES", ""},
	{"users_tokens", 16, "session_data", "jsonb", "", "", "YES", ""},
	{"users_tokens", 17, "active", "boolean", "", "", "NO", "true"},
	{"users_tokens", 18, "expires_at", ts, "", "6", "YES", ""},

	{"refresh_tokens", 10, "request_id", varchar, "255", "", "YES", ""},
	{"refresh_tokens", 11, "client_id", varchar, "255", "", "YES", ""},
	{"refresh_tokens", 12, "requested_at", ts, "", "6", "YES", ""},
	{"refresh_tokens", 13, "requested_scopes", "jsonb", "", "", "YES", ""},
	{"refresh_tokens", 14, "granted_scopes", "jsonb", "", "", "YES", ""},
	{"refresh_tokens", 15, "requested_audience", "jsonb", "", "", "YES", ""},
	{"refresh_tokens", 16, "granted_audience", "jsonb", "", "", "YES", ""},
	{"refresh_tokens", 17, "form_data", "text", "", "", "YES", ""},
	{"refresh_tokens", 18, "session_data", "jsonb", "", "", "YES", ""},

	{"client_tokens", 1, "id", "uuid", "", "", "NO", "uuidv7()"},
	{"client_tokens", 2, "token", "bytea", "", "", "NO", ""},
	{"client_tokens", 3, "client_id", varchar, "255", "", "NO", ""},
	{"client_tokens", 4, "request_id", varchar, "255", "", "YES", ""},
	{"client_tokens", 5, "requested_at", ts, "", "6", "YES", ""},
	{"client_tokens", 6, "requested_scopes", "jsonb", "", "", "YES", ""},
	{"client_tokens", 7, "granted_scopes", "jsonb", "", "", "YES", ""},
	{"client_tokens", 8, "requested_audience", "jsonb", "", "", "YES", ""},
	{"client_tokens", 9, "granted_audience", "jsonb", "", "", "YES", ""},
	{"client_tokens", 10, "form_data", "text", "", "", "YES", ""},
	{"client_tokens", 11, "session_data", "jsonb", "", "", "YES", ""},
	{"client_tokens", 12, "expires_at", ts, "", "6", "NO", ""},
	{"client_tokens", 13, "created_at", ts, "", "0", "NO", ""},

	{"user_identities", 1, "provider", varchar, "255", "", "NO", ""},
	{"user_identities", 2, "subject", varchar, "255", "", "NO", ""},
	{"user_identities", 3, "user_id", "uuid", "", "", "NO", ""},
	{"user_identities", 4, "created_at", ts, "", "0", "NO", ""},

	{"consents", 1, "id", "uuid", "", "", "NO", "uuidv7()"},
	{"consents", 2, "user_id", "uuid", "", "", "NO", ""},
	{"consents", 3, "client_id", varchar, "255", "", "NO", ""},
	{"consents", 4, "scopes", "jsonb", "", "", "NO", ""},
	{"consents", 5, "created_at", ts, "", "0", "NO", ""},
	{"consents", 6, "updated_at", ts, "", "0", "NO", ""},

	{"signing_keys", 1, "id", varchar, "255", "", "NO", ""},
	{"signing_keys", 2, "algorithm", varchar, "16", "", "NO", ""},
	{"signing_keys", 3, "public_jwk", "jsonb", "", "", "NO", ""},
	{"signing_keys", 4, "private_key", "bytea", "", "", "NO", ""},
	{"signing_keys", 5, "created_at", ts, "", "0", "NO", ""},
	{"signing_keys", 6, "active_at", ts, "", "0", "NO", ""},
	{"signing_keys", 7, "retired_at", ts, "", "0", "YES", ""},
	{"signing_keys", 8, "expires_at", ts, "", "0", "YES", ""},

	{"jwt_assertions", 1, "jti", varchar, "255", "", "NO", ""},
	{"jwt_assertions", 2, "expires_at", ts, "", "6", "NO", ""},
}

var laterIndexes = []pgIndex{
	{"users_tokens", "users_tokens_request_id_index", "CREATE INDEX users_tokens_request_id_index ON public.users_tokens USING btree (request_id)"},
	{"users_tokens", "users_tokens_client_id_index", "CREATE INDEX users_tokens_client_id_index ON public.users_tokens USING btree (client_id)"},
	{"users_tokens", "users_tokens_expires_at_index", "CREATE INDEX users_tokens_expires_at_index ON public.users_tokens USING btree (expires_at)"},
	{"refresh_tokens", "refresh_tokens_request_id_index", "CREATE INDEX refresh_tokens_request_id_index ON public.refresh_tokens USING btree (request_id)"},
	{"refresh_tokens", "refresh_tokens_client_id_index", "CREATE INDEX refresh_tokens_client_id_index ON public.refresh_tokens USING btree (client_id)"},
	{"clients", "clients_pkey", "CREATE UNIQUE INDEX clients_pkey ON public.clients USING btree (id)"},
	{"client_tokens", "client_tokens_pkey", "CREATE UNIQUE INDEX client_tokens_pkey ON public.client_tokens USING btree (id)"},
	{"client_tokens", "client_tokens_token_index", "CREATE UNIQUE INDEX client_tokens_token_index ON public.client_tokens USING btree (token)"},
	{"client_tokens", "client_tokens_request_id_index", "CREATE INDEX client_tokens_request_id_index ON public.client_tokens USING btree (request_id)"},
	{"client_tokens", "client_tokens_client_id_index", "CREATE INDEX client_tokens_client_id_index ON public.client_tokens USING btree (client_id)"},
	{"client_tokens", "client_tokens_expires_at_index", "CREATE INDEX client_tokens_expires_at_index ON public.client_tokens USING btree (expires_at)"},
	{"user_identities", "user_identities_pkey", "CREATE UNIQUE INDEX user_identities_pkey ON public.user_identities USING btree (provider, subject)"},
	{"user_identities", "user_identities_user_id_index", "CREATE INDEX user_identities_user_id_index ON public.user_identities USING btree (user_id)"},
	{"consents", "consents_pkey", "CREATE UNIQUE INDEX consents_pkey ON public.consents USING btree (id)"},
	{"consents", "consents_user_id_client_id_index", "CREATE UNIQUE INDEX consents_user_id_client_id_index ON public.consents USING btree (user_id, client_id)"},
	{"signing_keys", "signing_keys_pkey", "CREATE UNIQUE INDEX signing_keys_pkey ON public.signing_keys USING btree (id)"},
	{"jwt_assertions", "jwt_assertions_pkey", "CREATE UNIQUE INDEX jwt_assertions_pkey ON public.jwt_assertions USING btree (jti)"},
	{"jwt_assertions", "jwt_assertions_expires_at_index", "CREATE INDEX jwt_assertions_expires_at_index ON public.jwt_assertions USING btree (expires_at)"},
}

var laterConstraints = []pgConstraint{
	{"users_tokens", "users_tokens_client_id_fkey", "f", "FOREIGN KEY (client_id) REFERENCES clients(id) ON DELETE CASCADE", "c"},
	{"refresh_tokens", "refresh_tokens_client_id_fkey", "f", "FOREIGN KEY (client_id) REFERENCES clients(id) ON DELETE CASCADE", "c"},
	{"clients", "clients_pkey", "p", "PRIMARY KEY (id)", ""},
	{"client_tokens", "client_tokens_pkey", "p", "PRIMARY KEY (id)", ""},
	{"client_tokens", "client_tokens_client_id_fkey", "f", "FOREIGN KEY (client_id) REFERENCES clients(id) ON DELETE CASCADE", "c"},
	{"user_identities", "user_identities_pkey", "p", "PRIMARY KEY (provider, subject)", ""},
	{"user_identities", "user_identities_user_id_fkey", "f", "FOREIGN KEY (user_id) REFERENCES users(id) ON DELETE CASCADE", "c"},
	{"consents", "consents_pkey", "p", "PRIMARY KEY (id)", ""},
	{"consents", "consents_user_id_fkey", "f", "FOREIGN KEY (user_id) REFERENCES users(id) ON DELETE CASCADE", "c"},
	{"consents", "consents_client_id_fkey", "f", "FOREIGN KEY (client_id) REFERENCES clients(id) ON DELETE CASCADE", "c"},
	{"signing_keys", "signing_keys_pkey", "p", "PRIMARY KEY (id)", ""},
	{"jwt_assertions", "jwt_assertions_pkey", "p", "PRIMARY KEY (jti)", ""},
}

// ourTables are the tables the migrations create, in creation order.
var ourTables = []string{"users", "users_tokens", "refresh_tokens", "clients", "client_tokens", "user_identities", "consents", "signing_keys", "jwt_assertions"}

// pgCatalog is the part of the catalog the migrations build, for every table in the current schema
// except the migrations' own bookkeeping table.
type pgCatalog struct {
	columns     []pgColumn
	indexes     []pgIndex
	constraints []pgConstraint
}

func readPGCatalog(t *testing.T, db *gorm.DB) pgCatalog {
	t.Helper()
	var c pgCatalog
	rows, err := db.Raw(`
SELECT table_name, ordinal_position, column_name,
       CASE WHEN data_type = 'USER-DEFINED' THEN udt_name::text ELSE data_type::text END,
       coalesce(character_maximum_length::text, ''), coalesce(datetime_precision::text, ''),
       is_nullable, coalesce(column_default, '')
FROM information_schema.columns
WHERE table_schema = current_schema() AND table_name <> 'kangrow_migrations'
ORDER BY table_name, ordinal_position`).Rows()
	if err != nil {
		t.Fatalf("read columns: %v", err)
	}
	for rows.Next() {
		var x pgColumn
		if err := rows.Scan(&x.table, &x.pos, &x.name, &x.typ, &x.maxLen, &x.precision, &x.nullable, &x.def); err != nil {
			t.Fatalf("scan column: %v", err)
		}
		c.columns = append(c.columns, x)
	}
	_ = rows.Close()

	rows, err = db.Raw(`
SELECT tablename, indexname, indexdef FROM pg_indexes
WHERE schemaname = current_schema() AND tablename <> 'kangrow_migrations'
ORDER BY tablename, indexname`).Rows()
	if err != nil {
		t.Fatalf("read indexes: %v", err)
	}
	for rows.Next() {
		var x pgIndex
		if err := rows.Scan(&x.table, &x.name, &x.def); err != nil {
			t.Fatalf("scan index: %v", err)
		}
		c.indexes = append(c.indexes, x)
	}
	_ = rows.Close()

	// contype 'n' (NOT NULL, listed from PostgreSQL 18 on) is covered by is_nullable above.
	rows, err = db.Raw(`
SELECT conrelid::regclass::text, conname, contype::text, pg_get_constraintdef(oid),
       CASE WHEN contype = 'f' THEN confdeltype::text ELSE '' END
FROM pg_constraint
WHERE connamespace = current_schema()::regnamespace AND contype IN ('p', 'f', 'u', 'c', 'x')
  AND conrelid::regclass::text <> 'kangrow_migrations'
ORDER BY 1, 2`).Rows()
	if err != nil {
		t.Fatalf("read constraints: %v", err)
	}
	for rows.Next() {
		var x pgConstraint
		if err := rows.Scan(&x.table, &x.name, &x.typ, &x.def, &x.onDelete); err != nil {
			t.Fatalf("scan constraint: %v", err)
		}
		c.constraints = append(c.constraints, x)
	}
	_ = rows.Close()
	return c
}

// diffLines reports what want has that got lacks and the other way round, ignoring order.
func diffLines[T fmt.Stringer](t *testing.T, what string, got, want []T) {
	t.Helper()
	g, w := stringsOf(got), stringsOf(want)
	for _, s := range w {
		if !slices.Contains(g, s) {
			t.Errorf("%s: missing %s", what, s)
		}
	}
	for _, s := range g {
		if !slices.Contains(w, s) {
			t.Errorf("%s: unexpected %s", what, s)
		}
	}
}

func stringsOf[T fmt.Stringer](xs []T) []string {
	out := make([]string, len(xs))
	for i, x := range xs {
		out[i] = x.String()
	}
	slices.Sort(out)
	return out
}

func assertPGCatalog(t *testing.T, got pgCatalog, columns []pgColumn, indexes []pgIndex, constraints []pgConstraint) {
	t.Helper()
	diffLines(t, "columns", got.columns, columns)
	diffLines(t, "indexes", got.indexes, indexes)
	diffLines(t, "constraints", got.constraints, constraints)
}
