package migrations

// createConsents remembers the scopes a user granted a client, so the consent page is not shown again
// (docs/schema.md, 202601151207). One row per user and client.
var createConsents = newMigration("202601151207", "create consents", script{
	postgres: []string{
		`CREATE TABLE consents (
  id uuid NOT NULL DEFAULT uuidv7(),
  user_id uuid NOT NULL,
  client_id varchar(255) NOT NULL,
  scopes jsonb NOT NULL,
  created_at timestamp(0) NOT NULL,
  updated_at timestamp(0) NOT NULL,
  CONSTRAINT consents_pkey PRIMARY KEY (id),
  CONSTRAINT consents_user_id_fkey FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE CASCADE,
  CONSTRAINT consents_client_id_fkey FOREIGN KEY (client_id) REFERENCES clients (id) ON DELETE CASCADE
)`,
		`CREATE UNIQUE INDEX consents_user_id_client_id_index ON consents (user_id, client_id)`,
	},
	sqlite: []string{
		`CREATE TABLE consents (
  id TEXT NOT NULL,
  user_id TEXT NOT NULL,
  client_id VARCHAR(255) NOT NULL,
  scopes TEXT NOT NULL,
  created_at DATETIME NOT NULL,
  updated_at DATETIME NOT NULL,
  CONSTRAINT consents_pkey PRIMARY KEY (id),
  CONSTRAINT consents_user_id_fkey FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE CASCADE,
  CONSTRAINT consents_client_id_fkey FOREIGN KEY (client_id) REFERENCES clients (id) ON DELETE CASCADE
)`,
		`CREATE UNIQUE INDEX consents_user_id_client_id_index ON consents (user_id, client_id)`,
	},
}, script{
	postgres: []string{`DROP TABLE consents`},
	sqlite:   []string{`DROP TABLE consents`},
})
