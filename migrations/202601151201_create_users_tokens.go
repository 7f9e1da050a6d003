package migrations

// createUsersTokens is the seed's KanGrow.Repo.Migrations.CreateUsersTokens
// (shared/seed/auth_migrations.exs.md). As in createUsers, the PostgreSQL statements are what ecto_sql
// emits for it; references(:users, on_delete: :delete_all, type: :binary_id) becomes the
// users_tokens_user_id_fkey constraint written where Ecto writes it, right after its column, and
// timestamps(updated_at: false, ...) leaves only created_at.
var createUsersTokens = newMigration("202601151201", "create users_tokens", script{
	postgres: []string{
		// Nothing here needs pgcrypto (gen_random_uuid is built in since PostgreSQL 13), but the seed
		// creates it, and databases shared with the Elixir app expect it.
		`CREATE EXTENSION IF NOT EXISTS pgcrypto`,
		`CREATE TABLE "users_tokens" ("id" uuid DEFAULT uuidv7(), "user_id" uuid NOT NULL, CONSTRAINT "users_tokens_user_id_fkey" FOREIGN KEY ("user_id") REFERENCES "users"("id") ON DELETE CASCADE, "token" bytea NOT NULL, "context" varchar(255) NOT NULL, "sent_to" varchar(255), "authenticated_at" timestamp(0), "created_at" timestamp(0) NOT NULL, PRIMARY KEY ("id"))`,
		`CREATE INDEX "users_tokens_user_id_index" ON "users_tokens" ("user_id")`,
		`CREATE UNIQUE INDEX "users_tokens_context_token_index" ON "users_tokens" ("context", "token")`,
	},
	sqlite: []string{
		`CREATE TABLE users_tokens (
  id TEXT NOT NULL,
  user_id TEXT NOT NULL CONSTRAINT users_tokens_user_id_fkey REFERENCES users (id) ON DELETE CASCADE,
  token BLOB NOT NULL,
  context VARCHAR(255) NOT NULL,
  sent_to VARCHAR(255),
  authenticated_at DATETIME,
  created_at DATETIME NOT NULL,
  CONSTRAINT users_tokens_pkey PRIMARY KEY (id)
)`,
		`CREATE INDEX users_tokens_user_id_index ON users_tokens (user_id)`,
		`CREATE UNIQUE INDEX users_tokens_context_token_index ON users_tokens (context, token)`,
	},
}, script{
	// The seed's execute/1 of pgcrypto has no down (Ecto cannot reverse it); the extension stays.
	postgres: []string{`DROP TABLE "users_tokens"`},
	sqlite:   []string{`DROP TABLE users_tokens`},
})
