// Package storage owns every query: the GORM models for users (with their social identities), clients,
// login sessions and email tokens in users_tokens, offline grants in refresh_tokens, and the fosite
// storage adapter over them. Nothing outside this package builds SQL or queries a *gorm.DB.
//
// It imports none of our packages. docs/schema.md is the schema it relies on; migrations/ builds it.
package storage
