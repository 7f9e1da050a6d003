package migrations

// createSigningKeys holds the provider's signing keys (docs/schema.md, 202601151208). A key is published
// in the JWKS from created_at, signs from active_at until retired_at, and leaves the JWKS after
// expires_at, so relying parties can fetch a key before it signs and verify tokens after it stops.
// private_key is sealed (AES-256-GCM under a key derived from the system secret), never plain PKCS#8.
var createSigningKeys = newMigration("202601151208", "create signing_keys", script{
	postgres: []string{
		`CREATE TABLE signing_keys (
  id varchar(255) NOT NULL,
  algorithm varchar(16) NOT NULL,
  public_jwk jsonb NOT NULL,
  private_key bytea NOT NULL,
  created_at timestamp(0) NOT NULL,
  active_at timestamp(0) NOT NULL,
  retired_at timestamp(0) NULL,
  expires_at timestamp(0) NULL,
  CONSTRAINT signing_keys_pkey PRIMARY KEY (id)
)`,
	},
	sqlite: []string{
		`CREATE TABLE signing_keys (
  id VARCHAR(255) NOT NULL,
  algorithm VARCHAR(16) NOT NULL,
  public_jwk TEXT NOT NULL,
  private_key BLOB NOT NULL,
  created_at DATETIME NOT NULL,
  active_at DATETIME NOT NULL,
  retired_at DATETIME,
  expires_at DATETIME,
  CONSTRAINT signing_keys_pkey PRIMARY KEY (id)
)`,
	},
}, script{
	postgres: []string{`DROP TABLE signing_keys`},
	sqlite:   []string{`DROP TABLE signing_keys`},
})
