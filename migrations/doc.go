// Package migrations builds the schema described in docs/schema.md, one gormigrate migration per file,
// on PostgreSQL (the reference) and on the embedded SQLite store. The first three reproduce the seed's
// Ecto migrations exactly; later ones only add.
//
// Up, Down and Status are what `kangrow-auth migrate` and `serve` call. Applied migrations are recorded
// in kangrow_migrations (Ecto keeps its own schema_migrations). On PostgreSQL a run holds an advisory
// lock, so several processes may call Up at once.
//
// It never imports storage: each migration carries its own frozen SQL.
package migrations
