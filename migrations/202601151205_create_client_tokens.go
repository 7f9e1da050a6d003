package migrations

// createClientTokens holds access tokens that belong to no user, from the client_credentials grant
// (docs/schema.md, 202601151205). They get a table of their own so that users_tokens.user_id stays
// NOT NULL as the seed has it. The fosite columns are those addFositeColumns gives users_tokens.
var createClientTokens = newMigration("202601151205", "create client_tokens", script{
	postgres: []string{
		`CREATE TABLE client_tokens (
  id uuid NOT NULL DEFAULT uuidv7(),
  token bytea NOT NULL,
  client_id varchar(255) NOT NULL,
  request_id varchar(255),
  requested_at timestamp,
  requested_scopes jsonb,
  granted_scopes jsonb,
  requested_audience jsonb,
  granted_audience jsonb,
  form_data text,
  session_data jsonb,
  expires_at timestamp NOT NULL,
  created_at timestamp(0) NOT NULL,
  CONSTRAINT client_tokens_pkey PRIMARY KEY (id),
  CONSTRAINT client_tokens_client_id_fkey FOREIGN KEY (client_id) REFERENCES clients (id) ON DELETE CASCADE
)`,
		`CREATE UNIQUE INDEX client_tokens_token_index ON client_tokens (token)`,
		`CREATE INDEX client_tokens_request_id_index ON client_tokens (request_id)`,
		// For the cascade when a client is deleted, and for the clean-up of expired tokens.
		`CREATE INDEX client_tokens_client_id_index ON client_tokens (client_id)`,
		`CREATE INDEX client_tokens_expires_at_index ON client_tokens (expires_at)`,
	},
	sqlite: []string{
		`CREATE TABLE client_tokens (
  id TEXT NOT NULL,
  token BLOB NOT NULL,
  client_id VARCHAR(255) NOT NULL,
  request_id VARCHAR(255),
  requested_at DATETIME,
  requested_scopes TEXT,
  granted_scopes TEXT,
  requested_audience TEXT,
  granted_audience TEXT,
  form_data TEXT,
  session_data TEXT,
  expires_at DATETIME NOT NULL,
  created_at DATETIME NOT NULL,
  CONSTRAINT client_tokens_pkey PRIMARY KEY (id),
  CONSTRAINT client_tokens_client_id_fkey FOREIGN KEY (client_id) REFERENCES clients (id) ON DELETE CASCADE
)`,
		`CREATE UNIQUE INDEX client_tokens_token_index ON client_tokens (token)`,
		`CREATE INDEX client_tokens_request_id_index ON client_tokens (request_id)`,
		`CREATE INDEX client_tokens_client_id_index ON client_tokens (client_id)`,
		`CREATE INDEX client_tokens_expires_at_index ON client_tokens (expires_at)`,
	},
}, script{
	postgres: []string{`DROP TABLE client_tokens`},
	sqlite:   []string{`DROP TABLE client_tokens`},
})
