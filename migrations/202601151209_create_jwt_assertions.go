package migrations

// createJWTAssertions remembers the jti of each client assertion JWT until it expires, so that none is
// accepted twice (RFC 7523 section 3; fosite.ClientManager's SetClientAssertionJWT). See docs/schema.md,
// 202601151209.
var createJWTAssertions = newMigration("202601151209", "create jwt_assertions", script{
	postgres: []string{
		`CREATE TABLE jwt_assertions (
  jti varchar(255) NOT NULL,
  expires_at timestamp NOT NULL,
  CONSTRAINT jwt_assertions_pkey PRIMARY KEY (jti)
)`,
		// For the clean-up of expired rows.
		`CREATE INDEX jwt_assertions_expires_at_index ON jwt_assertions (expires_at)`,
	},
	sqlite: []string{
		`CREATE TABLE jwt_assertions (
  jti VARCHAR(255) NOT NULL,
  expires_at DATETIME NOT NULL,
  CONSTRAINT jwt_assertions_pkey PRIMARY KEY (jti)
)`,
		`CREATE INDEX jwt_assertions_expires_at_index ON jwt_assertions (expires_at)`,
	},
}, script{
	postgres: []string{`DROP TABLE jwt_assertions`},
	sqlite:   []string{`DROP TABLE jwt_assertions`},
})
