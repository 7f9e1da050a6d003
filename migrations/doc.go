// Package migrations builds the schema described in docs/schema.md, one gormigrate migration per file,
// on PostgreSQL (the reference) and on the embedded SQLite store. The first three reproduce the seed's
// Ecto migrations exactly; later ones only add.
//
// It never imports storage: each migration carries its own frozen SQL.
package migrations
