// Package storage owns every query: the GORM models for users (with their social identities), clients,
// login sessions and email tokens in users_tokens, offline grants in refresh_tokens, and the fosite
// storage adapter over them. Nothing outside this package builds SQL or queries a *gorm.DB.
//
// Every query starts from the transaction in the context (BeginTX) or the pool; read-modify-write runs in
// a transaction under a row lock. Times are written in UTC at the precision of their columns. Only
// digests of tokens and secrets are stored (Digest).
//
// It imports none of our packages. docs/schema.md is the schema it relies on; migrations/ builds it.
// storagetest is its conformance suite; dbtest gives tests fresh databases.
package storage
