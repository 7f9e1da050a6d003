package migrations

// createRefreshTokens is the seed's KanGrow.Repo.Migrations.CreateRefreshTokens
// (shared/seed/auth_migrations.exs.md); the PostgreSQL statements are what ecto_sql emits for it.
var createRefreshTokens = newMigration("202601151202", "create refresh_tokens", script{
	postgres: []string{
		`CREATE TABLE "refresh_tokens" ("id" uuid DEFAULT uuidv7(), "token" varchar(255) NOT NULL, "user_id" uuid NOT NULL, CONSTRAINT "refresh_tokens_user_id_fkey" FOREIGN KEY ("user_id") REFERENCES "users"("id") ON DELETE CASCADE, "expires_at" timestamp(0) NOT NULL, "revoked" boolean DEFAULT false NOT NULL, "device_info" varchar(255), "last_used_at" timestamp(0), "created_at" timestamp(0) NOT NULL, "updated_at" timestamp(0) NOT NULL, PRIMARY KEY ("id"))`,
		`CREATE UNIQUE INDEX "refresh_tokens_token_index" ON "refresh_tokens" ("token")`,
		`CREATE INDEX "refresh_tokens_user_id_index" ON "refresh_tokens" ("user_id")`,
		`CREATE INDEX "refresh_tokens_expires_at_index" ON "refresh_tokens" ("expires_at")`,
		`CREATE INDEX "refresh_tokens_user_id_revoked_index" ON "refresh_tokens" ("user_id", "revoked")`,
	},
	sqlite: []string{
		`CREATE TABLE refresh_tokens (
  id TEXT NOT NULL,
  token VARCHAR(255) NOT NULL,
  user_id TEXT NOT NULL CONSTRAINT refresh_tokens_user_id_fkey REFERENCES users (id) ON DELETE CASCADE,
  expires_at DATETIME NOT NULL,
  revoked BOOLEAN NOT NULL DEFAULT false,
  device_info VARCHAR(255),
  last_used_at DATETIME,
  created_at DATETIME NOT NULL,
  updated_at DATETIME NOT NULL,
  CONSTRAINT refresh_tokens_pkey PRIMARY KEY (id)
)`,
		`CREATE UNIQUE INDEX refresh_tokens_token_index ON refresh_tokens (token)`,
		`CREATE INDEX refresh_tokens_user_id_index ON refresh_tokens (user_id)`,
		`CREATE INDEX refresh_tokens_expires_at_index ON refresh_tokens (expires_at)`,
		`CREATE INDEX refresh_tokens_user_id_revoked_index ON refresh_tokens (user_id, revoked)`,
	},
}, script{
	postgres: []string{`DROP TABLE "refresh_tokens"`},
	sqlite:   []string{`DROP TABLE refresh_tokens`},
})
