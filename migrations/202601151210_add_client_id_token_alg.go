package migrations

// addClientIDTokenAlg lets each client choose the algorithm of its ID tokens, as OpenID Connect Dynamic
// Client Registration §2 names it (id_token_signed_response_alg): RS256, the default every client can
// verify (OIDC Core §3.1.3.7), or ES256. See docs/schema.md, 202601151210.
var addClientIDTokenAlg = newMigration("202601151210", "add clients.id_token_signed_response_alg", script{
	postgres: []string{
		`ALTER TABLE clients ADD COLUMN id_token_signed_response_alg varchar(16) NOT NULL DEFAULT 'RS256'`,
	},
	sqlite: []string{
		`ALTER TABLE clients ADD COLUMN id_token_signed_response_alg VARCHAR(16) NOT NULL DEFAULT 'RS256'`,
	},
}, script{
	postgres: []string{`ALTER TABLE clients DROP COLUMN id_token_signed_response_alg`},
	sqlite:   []string{`ALTER TABLE clients DROP COLUMN id_token_signed_response_alg`},
})
