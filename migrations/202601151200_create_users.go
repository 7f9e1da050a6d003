package migrations

// createUsers is the seed's KanGrow.Repo.Migrations.CreateUsers (shared/seed/auth_migrations.exs.md).
//
// The PostgreSQL statements after the uuidv7 block are, byte for byte, what ecto_sql's Postgres adapter
// (Ecto.Adapters.Postgres.Connection.execute_ddl) emits for it: :string → varchar(255), :utc_datetime →
// timestamp(0), :utc_datetime_usec → timestamp, :map → jsonb, :binary_id → uuid, citext as named,
// column options as DEFAULT then NOT NULL/NULL, the primary key as a trailing PRIMARY KEY clause (named
// users_pkey by PostgreSQL), timestamps(type: :utc_datetime, inserted_at: :created_at) as created_at and
// updated_at NOT NULL with no default, and indexes named <table>_<columns>_index. Keep them so: the
// catalog test compares the result with what Ecto builds.
var createUsers = newMigration("202601151200", "create users", script{
	postgres: []string{
		`CREATE EXTENSION IF NOT EXISTS citext`,
		// The seed's DEFAULT uuidv7() needs the function, built into PostgreSQL 18 only. On 15–17 we
		// create it (UUIDv7 per RFC 9562: 48-bit Unix ms, version 7, variant 10, random rest); where the
		// server has it, to_regprocedure finds it first and nothing is created. The comment marks the
		// function as ours, so the rollback never drops one it did not create.
		`DO $do$
BEGIN
  IF to_regprocedure('uuidv7()') IS NULL THEN
    CREATE FUNCTION uuidv7() RETURNS uuid LANGUAGE sql VOLATILE PARALLEL SAFE AS $f$
      SELECT encode(set_bit(set_bit(
        overlay(uuid_send(gen_random_uuid())
                PLACING substring(int8send((extract(epoch FROM clock_timestamp()) * 1000)::bigint) FROM 3)
                FROM 1 FOR 6), 52, 1), 53, 1), 'hex')::uuid
    $f$;
    COMMENT ON FUNCTION uuidv7() IS '` + uuidv7Marker + `';
  END IF;
END
$do$`,
		`CREATE TABLE "users" ("id" uuid DEFAULT uuidv7(), "email" citext NOT NULL, "email_verified" boolean DEFAULT false NOT NULL, "first_name" varchar(255), "last_name" varchar(255), "hashed_password" varchar(255) NULL, "identities" jsonb NULL, "avatar_url" varchar(255), "last_login" timestamp(0), "last_ip" varchar(255), "last_password_reset" timestamp(0), "logins_count" integer DEFAULT 0 NOT NULL, "verified" boolean DEFAULT false NOT NULL, "banned" boolean DEFAULT false NOT NULL, "blocked" boolean DEFAULT false NOT NULL, "reset_password_token" varchar(255), "reset_password_sent_at" timestamp, "confirmed_at" timestamp(0), "deleted_at" timestamp(0), "created_at" timestamp(0) NOT NULL, "updated_at" timestamp(0) NOT NULL, PRIMARY KEY ("id"))`,
		`CREATE UNIQUE INDEX "users_email_index" ON "users" ("email")`,
		`CREATE INDEX "users_banned_index" ON "users" ("banned")`,
		`CREATE INDEX "users_reset_password_token_index" ON "users" ("reset_password_token") WHERE reset_password_sent_at IS NOT NULL`,
	},
	// Closest SQLite types (docs/schema.md). COLLATE NOCASE stands in for citext, so users_email_index
	// is case-insensitive too (ASCII only: SQLite folds no other letters). No id default: Go makes ids.
	sqlite: []string{
		`CREATE TABLE users (
  id TEXT NOT NULL,
  email TEXT COLLATE NOCASE NOT NULL,
  email_verified BOOLEAN NOT NULL DEFAULT false,
  first_name VARCHAR(255),
  last_name VARCHAR(255),
  hashed_password VARCHAR(255),
  identities TEXT,
  avatar_url VARCHAR(255),
  last_login DATETIME,
  last_ip VARCHAR(255),
  last_password_reset DATETIME,
  logins_count INTEGER NOT NULL DEFAULT 0,
  verified BOOLEAN NOT NULL DEFAULT false,
  banned BOOLEAN NOT NULL DEFAULT false,
  blocked BOOLEAN NOT NULL DEFAULT false,
  reset_password_token VARCHAR(255),
  reset_password_sent_at DATETIME,
  confirmed_at DATETIME,
  deleted_at DATETIME,
  created_at DATETIME NOT NULL,
  updated_at DATETIME NOT NULL,
  CONSTRAINT users_pkey PRIMARY KEY (id)
)`,
		`CREATE UNIQUE INDEX users_email_index ON users (email)`,
		`CREATE INDEX users_banned_index ON users (banned)`,
		`CREATE INDEX users_reset_password_token_index ON users (reset_password_token) WHERE reset_password_sent_at IS NOT NULL`,
	},
}, script{
	postgres: []string{
		`DROP TABLE "users"`,
		// Drop uuidv7() only if this migration made it (marked by its comment) and nothing outside our
		// tables, such as the Elixir app's own tables in the same database, still uses it as a default.
		`DO $do$
DECLARE
  fn regprocedure;
BEGIN
  FOR fn IN
    SELECT p.oid::regprocedure FROM pg_proc p
    WHERE p.proname = 'uuidv7' AND p.pronargs = 0
      AND p.pronamespace <> 'pg_catalog'::regnamespace
      AND obj_description(p.oid, 'pg_proc') = '` + uuidv7Marker + `'
      AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.refclassid = 'pg_proc'::regclass AND d.refobjid = p.oid)
  LOOP
    EXECUTE format('DROP FUNCTION %s', fn);
  END LOOP;
END
$do$`,
		// The citext extension stays, as in the seed, whose down for it is "": other objects in the
		// database may use it.
	},
	sqlite: []string{
		`DROP TABLE users`,
	},
})

// uuidv7Marker is the comment on the uuidv7() function that createUsers makes.
const uuidv7Marker = "kangrow-auth: UUIDv7 for PostgreSQL before 18 (migration 202601151200)"
