package migrations

// createClients adds OAuth 2.0 clients (docs/schema.md, 202601151203). The list columns are JSON
// arrays of strings; '[]' rather than NULL saves every reader a nil check.
var createClients = newMigration("202601151203", "create clients", script{
	postgres: []string{
		`CREATE TABLE clients (
  id varchar(255) NOT NULL,
  name varchar(255) NOT NULL,
  secret_hash bytea NULL,
  public boolean NOT NULL DEFAULT false,
  token_endpoint_auth_method varchar(255) NOT NULL,
  redirect_uris jsonb NOT NULL DEFAULT '[]',
  post_logout_redirect_uris jsonb NOT NULL DEFAULT '[]',
  grant_types jsonb NOT NULL DEFAULT '[]',
  response_types jsonb NOT NULL DEFAULT '[]',
  scopes jsonb NOT NULL DEFAULT '[]',
  audience jsonb NOT NULL DEFAULT '[]',
  skip_consent boolean NOT NULL DEFAULT false,
  created_at timestamp(0) NOT NULL,
  updated_at timestamp(0) NOT NULL,
  CONSTRAINT clients_pkey PRIMARY KEY (id)
)`,
	},
	sqlite: []string{
		`CREATE TABLE clients (
  id VARCHAR(255) NOT NULL,
  name VARCHAR(255) NOT NULL,
  secret_hash BLOB,
  public BOOLEAN NOT NULL DEFAULT false,
  token_endpoint_auth_method VARCHAR(255) NOT NULL,
  redirect_uris TEXT NOT NULL DEFAULT '[]',
  post_logout_redirect_uris TEXT NOT NULL DEFAULT '[]',
  grant_types TEXT NOT NULL DEFAULT '[]',
  response_types TEXT NOT NULL DEFAULT '[]',
  scopes TEXT NOT NULL DEFAULT '[]',
  audience TEXT NOT NULL DEFAULT '[]',
  skip_consent BOOLEAN NOT NULL DEFAULT false,
  created_at DATETIME NOT NULL,
  updated_at DATETIME NOT NULL,
  CONSTRAINT clients_pkey PRIMARY KEY (id)
)`,
	},
}, script{
	postgres: []string{`DROP TABLE clients`},
	sqlite:   []string{`DROP TABLE clients`},
})
