package migrations

// createUserIdentities is the unique, indexed lookup behind users.identities (docs/schema.md,
// 202601151206): the primary key makes one upstream account (provider, subject) link to at most one user,
// which a key inside a jsonb map cannot enforce.
var createUserIdentities = newMigration("202601151206", "create user_identities", script{
	postgres: []string{
		`CREATE TABLE user_identities (
  provider varchar(255) NOT NULL,
  subject varchar(255) NOT NULL,
  user_id uuid NOT NULL,
  created_at timestamp(0) NOT NULL,
  CONSTRAINT user_identities_pkey PRIMARY KEY (provider, subject),
  CONSTRAINT user_identities_user_id_fkey FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE CASCADE
)`,
		`CREATE INDEX user_identities_user_id_index ON user_identities (user_id)`,
	},
	sqlite: []string{
		`CREATE TABLE user_identities (
  provider VARCHAR(255) NOT NULL,
  subject VARCHAR(255) NOT NULL,
  user_id TEXT NOT NULL,
  created_at DATETIME NOT NULL,
  CONSTRAINT user_identities_pkey PRIMARY KEY (provider, subject),
  CONSTRAINT user_identities_user_id_fkey FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE CASCADE
)`,
		`CREATE INDEX user_identities_user_id_index ON user_identities (user_id)`,
	},
}, script{
	postgres: []string{`DROP TABLE user_identities`},
	sqlite:   []string{`DROP TABLE user_identities`},
})
