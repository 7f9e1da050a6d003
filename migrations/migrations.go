package migrations

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/go-gormigrate/gormigrate/v2"
	"gorm.io/gorm"
)

// State is one known migration as Status reports it.
type State struct {
	ID      string
	Applied bool
}

// ErrUnknownMigration is returned, wrapped with the IDs, when the database records migrations this build
// does not know, which usually means a newer kangrow-auth has migrated it. Nothing is changed then.
var ErrUnknownMigration = errors.New("database has migrations this build does not know")

// tableName records applied migrations. Ecto keeps its own in schema_migrations, so a database the
// Elixir app also migrates keeps both histories apart.
const tableName = "kangrow_migrations"

// lockKey is the pg_advisory_lock key ("kangrow" in ASCII) that serializes migration runs on one
// database; gormigrate has no lock of its own. Advisory locks are per database, so other databases on
// the same server are not blocked.
const lockKey int64 = 0x6b616e67726f77

// all lists every migration in the order it is applied. Append only: a merged migration never changes.
func all() []*gormigrate.Migration {
	return []*gormigrate.Migration{
		createUsers,
		createUsersTokens,
		createRefreshTokens,
		createClients,
		addFositeColumns,
		createClientTokens,
		createUserIdentities,
		createConsents,
		createSigningKeys,
		createJWTAssertions,
		addClientIDTokenAlg,
	}
}

// Up applies every pending migration, all in one transaction. On PostgreSQL it holds an advisory lock
// for the whole run, so processes that start at the same moment take turns: the first applies, the
// others find nothing left to do. It returns an error wrapping ErrUnknownMigration, and changes nothing,
// when the database has migrations this build does not know.
func Up(ctx context.Context, db *gorm.DB) error {
	err := withLock(ctx, db, func(tx *gorm.DB) error {
		if _, err := knownApplied(tx); err != nil {
			return err
		}
		return newMigrator(tx).Migrate()
	})
	if err != nil {
		return fmt.Errorf("migrate up: %w", err)
	}
	return nil
}

// Down rolls back the last steps applied migrations, newest first, each in its own transaction. Asking
// for more steps than are applied rolls back all of them. steps must be at least 1. Like Up, it refuses
// a database with unknown migrations: rolling back "the last one" would then skip the newest.
func Down(ctx context.Context, db *gorm.DB, steps int) error {
	if steps < 1 {
		return fmt.Errorf("migrate down: steps must be at least 1, got %d", steps)
	}
	err := withLock(ctx, db, func(tx *gorm.DB) error {
		applied, err := knownApplied(tx)
		if err != nil {
			return err
		}
		m := newMigrator(tx)
		for range min(steps, len(applied)) {
			if err := m.RollbackLast(); err != nil {
				if errors.Is(err, gormigrate.ErrNoRunMigration) {
					return nil
				}
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("migrate down: %w", err)
	}
	return nil
}

// Status reports every known migration in order and whether it is applied. It returns an error wrapping
// ErrUnknownMigration when the database has migrations this build does not know.
func Status(ctx context.Context, db *gorm.DB) ([]State, error) {
	applied, err := knownApplied(db.WithContext(ctx))
	if err != nil {
		return nil, fmt.Errorf("migrate status: %w", err)
	}
	var states []State
	for _, m := range all() {
		states = append(states, State{ID: m.ID, Applied: slices.Contains(applied, m.ID)})
	}
	return states, nil
}

func newMigrator(tx *gorm.DB) *gormigrate.Gormigrate {
	return gormigrate.New(tx, &gormigrate.Options{
		TableName:    tableName,
		IDColumnName: "id",
		IDColumnSize: 255,
		// gormigrate v2.1.7 opens one transaction per call: Migrate applies all pending migrations in
		// it, RollbackLast rolls back one. PostgreSQL and SQLite both have transactional DDL, so a
		// failed run leaves nothing half done.
		UseTransaction: true,
		// knownApplied reports unknown IDs by name first; this is the backstop.
		ValidateUnknownMigrations: true,
	}, all())
}

// withLock runs fn with a *gorm.DB that Up and Down hand to gormigrate. On PostgreSQL that DB is pinned
// to one connection that holds pg_advisory_lock(lockKey) until fn returns: a session lock belongs to a
// connection, so taking it from a pool and running the migration transaction on another connection
// would lock nothing. gormigrate's transaction is begun on the same pinned connection.
func withLock(ctx context.Context, db *gorm.DB, fn func(tx *gorm.DB) error) (err error) {
	db = db.WithContext(ctx)
	switch name := db.Dialector.Name(); name {
	case "postgres":
	case "sqlite":
		// storage.Open gives SQLite one connection, which already lets one writer in at a time.
		return fn(db)
	default:
		return fmt.Errorf("unsupported database %q", name)
	}

	sqlDB, err := db.DB()
	if err != nil {
		return err
	}
	conn, err := sqlDB.Conn(ctx)
	if err != nil {
		return fmt.Errorf("connect: %w", err)
	}
	defer func() { _ = conn.Close() }()
	if err := lock(ctx, conn); err != nil {
		// A query cut short by ctx may still have taken the lock on the server; closing the connection
		// for good is what surely releases it.
		_ = conn.Raw(func(any) error { return driver.ErrBadConn })
		return fmt.Errorf("take migration lock: %w", err)
	}
	defer func() {
		// Unlock even when ctx is done. If that fails, the connection must not go back to the pool still
		// holding the lock: ErrBadConn makes database/sql close it, and the server then releases it.
		uctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
		defer cancel()
		var released bool
		uerr := conn.QueryRowContext(uctx, "SELECT pg_advisory_unlock($1)", lockKey).Scan(&released)
		if uerr != nil || !released {
			_ = conn.Raw(func(any) error { return driver.ErrBadConn })
		}
		if uerr != nil && err == nil {
			err = fmt.Errorf("release migration lock: %w", uerr)
		}
	}()

	// What gorm's own DB.Connection does, but as a new session so statements do not pile up clauses.
	pinned := db.Session(&gorm.Session{NewDB: true, Context: ctx})
	pinned.Statement.ConnPool = conn
	return fn(pinned)
}

// lockPoll is how often a waiting run tries the lock again.
const lockPoll = 100 * time.Millisecond

// lock takes the session-level advisory lock on conn, waiting as long as ctx allows. It polls with
// pg_try_advisory_lock rather than blocking in pg_advisory_lock: a blocked call that ctx gives up on
// stays queued on the server (the driver drops the connection without a cancel request), and would
// take the lock, however briefly, for a caller that has gone.
func lock(ctx context.Context, conn *sql.Conn) error {
	for {
		var ok bool
		if err := conn.QueryRowContext(ctx, "SELECT pg_try_advisory_lock($1)", lockKey).Scan(&ok); err != nil {
			return err
		}
		if ok {
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(lockPoll):
		}
	}
}

// knownApplied returns the IDs recorded in kangrow_migrations (none when the table does not exist yet),
// or an error wrapping ErrUnknownMigration if any of them is not one of ours.
func knownApplied(tx *gorm.DB) ([]string, error) {
	exists, err := hasTable(tx, tableName)
	if err != nil || !exists {
		return nil, err
	}
	var ids []string
	if err := tx.Table(tableName).Order("id").Pluck("id", &ids).Error; err != nil {
		return nil, fmt.Errorf("read %s: %w", tableName, err)
	}
	known := make(map[string]bool)
	for _, m := range all() {
		known[m.ID] = true
	}
	var unknown []string
	for _, id := range ids {
		if !known[id] {
			unknown = append(unknown, id)
		}
	}
	if len(unknown) > 0 {
		return nil, fmt.Errorf("%w: %s (was it migrated by a newer kangrow-auth?)", ErrUnknownMigration, strings.Join(unknown, ", "))
	}
	return ids, nil
}

// hasTable is gorm's Migrator.HasTable, which turns a database error into "no", reporting the error.
func hasTable(tx *gorm.DB, name string) (bool, error) {
	var q string
	switch d := tx.Dialector.Name(); d {
	case "postgres":
		// The same test gormigrate makes before it creates the table.
		q = "SELECT count(*) FROM information_schema.tables WHERE table_schema = current_schema() AND table_name = ? AND table_type = 'BASE TABLE'"
	case "sqlite":
		q = "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = ?"
	default:
		return false, fmt.Errorf("unsupported database %q", d)
	}
	var n int64
	if err := tx.Raw(q, name).Scan(&n).Error; err != nil {
		return false, fmt.Errorf("look for %s: %w", name, err)
	}
	return n > 0, nil
}

// script is one direction of a migration: the statements for each dialect, run in order.
type script struct {
	postgres []string
	sqlite   []string
}

// newMigration builds a migration whose errors name it, so "migrate up: 202601151204 add fosite
// columns: …" says where a run stopped.
func newMigration(id, name string, up, down script) *gormigrate.Migration {
	return &gormigrate.Migration{
		ID:       id,
		Migrate:  func(tx *gorm.DB) error { return exec(tx, id, name, up) },
		Rollback: func(tx *gorm.DB) error { return exec(tx, id, name, down) },
	}
}

func exec(tx *gorm.DB, id, name string, s script) error {
	var stmts []string
	switch d := tx.Dialector.Name(); d {
	case "postgres":
		stmts = s.postgres
	case "sqlite":
		stmts = s.sqlite
	default:
		return fmt.Errorf("%s %s: unsupported database %q", id, name, d)
	}
	for _, stmt := range stmts {
		if err := tx.Exec(stmt).Error; err != nil {
			return fmt.Errorf("%s %s: %w", id, name, err)
		}
	}
	return nil
}
