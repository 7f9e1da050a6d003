package migrations_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"gorm.io/gorm"

	"github.com/kangrow/auth/migrations"
	"github.com/kangrow/auth/storage"
	"github.com/kangrow/auth/storage/dbtest"
)

// allIDs are the migration IDs of docs/schema.md, in order.
var allIDs = []string{
	"202601151200", "202601151201", "202601151202", "202601151203", "202601151204",
	"202601151205", "202601151206", "202601151207", "202601151208", "202601151209",
	"202601151210",
}

func TestPostgresCatalog(t *testing.T) {
	db := dbtest.Postgres(t)
	mustUp(t, db)

	assertPGCatalog(t, readPGCatalog(t, db),
		slices.Concat(seedColumns, laterColumns),
		slices.Concat(seedIndexes, laterIndexes),
		slices.Concat(seedConstraints, laterConstraints))

	// The seed creates both extensions; citext backs users.email.
	for _, ext := range []string{"citext", "pgcrypto"} {
		if !mustBool(t, db, "SELECT EXISTS (SELECT 1 FROM pg_extension WHERE extname = ?)", ext) {
			t.Errorf("extension %s is not installed", ext)
		}
	}
	if mustBool(t, db, "SELECT to_regprocedure('uuidv7()') IS NULL") {
		t.Error("uuidv7() does not exist")
	}
}

// Rolling back one migration at a time exercises every Rollback; back at 202601151202 the seed tables
// must look exactly as the seed made them, so 202601151204's rollback leaves nothing behind.
func TestPostgresDownOneStepAtATime(t *testing.T) {
	db := dbtest.Postgres(t)
	mustUp(t, db)
	for applied := len(allIDs) - 1; applied >= 0; applied-- {
		mustDown(t, db, 1)
		if got := appliedIDs(mustStatus(t, db)); !slices.Equal(got, allIDs[:applied]) {
			t.Fatalf("after one more step down: applied %v, want %v", got, allIDs[:applied])
		}
		if applied == 3 {
			assertPGCatalog(t, readPGCatalog(t, db), seedColumns, seedIndexes, seedConstraints)
		}
	}
	assertNothingLeft(t, db)
}

func TestPostgresUUIDv7Default(t *testing.T) {
	db := dbtest.Postgres(t)
	mustUp(t, db)

	now := time.Now()
	userID := insertReturningID(t, db, `INSERT INTO users (email, created_at, updated_at) VALUES ('a@x.test', now(), now()) RETURNING id::text`)
	ids := map[string]string{
		"users": userID,
		"users_tokens": insertReturningID(t, db, `INSERT INTO users_tokens (user_id, token, context, created_at)
			VALUES (?, '\x01'::bytea, 'session', now()) RETURNING id::text`, userID),
		"refresh_tokens": insertReturningID(t, db, `INSERT INTO refresh_tokens (token, user_id, expires_at, created_at, updated_at)
			VALUES ('t1', ?, now(), now(), now()) RETURNING id::text`, userID),
	}
	mustExec(t, db, `INSERT INTO clients (id, name, token_endpoint_auth_method, created_at, updated_at) VALUES ('c1', 'C', 'none', now(), now())`)
	ids["consents"] = insertReturningID(t, db, `INSERT INTO consents (user_id, client_id, scopes, created_at, updated_at)
		VALUES (?, 'c1', '["openid"]', now(), now()) RETURNING id::text`, userID)
	ids["client_tokens"] = insertReturningID(t, db, `INSERT INTO client_tokens (token, client_id, expires_at, created_at)
		VALUES ('\x02'::bytea, 'c1', now(), now()) RETURNING id::text`)
	for table, id := range ids {
		assertUUIDv7(t, table, id, now)
	}

	// Many at once: all distinct, all version 7.
	var many []string
	if err := db.Raw(`INSERT INTO users (email, created_at, updated_at)
		SELECT 'u' || g || '@x.test', now(), now() FROM generate_series(1, 500) g RETURNING id::text`).Scan(&many).Error; err != nil {
		t.Fatalf("insert 500 users: %v", err)
	}
	seen := make(map[string]bool)
	for _, id := range many {
		assertUUIDv7(t, "users", id, now)
		if seen[id] {
			t.Fatalf("duplicate id %s", id)
		}
		seen[id] = true
	}
}

func TestPostgresUpDownUp(t *testing.T) {
	db := dbtest.Postgres(t)
	mustUp(t, db)
	first := dumpSchema(t, db)

	mustDown(t, db, 1000)
	assertNothingLeft(t, db)
	if got := appliedIDs(mustStatus(t, db)); len(got) != 0 {
		t.Fatalf("after down: applied %v, want none", got)
	}

	mustUp(t, db)
	second := dumpSchema(t, db)
	if !slices.Equal(first, second) {
		for _, l := range first {
			if !slices.Contains(second, l) {
				t.Errorf("second up lacks: %s", l)
			}
		}
		for _, l := range second {
			if !slices.Contains(first, l) {
				t.Errorf("second up adds: %s", l)
			}
		}
	}
	// The Down above dropped uuidv7() because it was ours; the second Up made it again.
	if mustBool(t, db, "SELECT to_regprocedure('uuidv7()') IS NULL") {
		t.Error("uuidv7() does not exist after the second up")
	}
}

func TestPostgresConcurrentUp(t *testing.T) {
	for round := range 3 {
		t.Run(fmt.Sprint("round ", round), func(t *testing.T) {
			url := dbtest.PostgresURL(t)
			dbs := []*gorm.DB{mustOpen(t, url), mustOpen(t, url)}
			start := make(chan struct{})
			errs := make([]error, len(dbs))
			var wg sync.WaitGroup
			for i, db := range dbs {
				wg.Go(func() {
					<-start
					errs[i] = migrations.Up(context.Background(), db)
				})
			}
			close(start)
			wg.Wait()
			for i, err := range errs {
				if err != nil {
					t.Errorf("Up #%d: %v", i, err)
				}
			}
			var ids []string
			if err := dbs[0].Raw("SELECT id FROM kangrow_migrations ORDER BY id").Scan(&ids).Error; err != nil {
				t.Fatalf("read kangrow_migrations: %v", err)
			}
			if !slices.Equal(ids, allIDs) {
				t.Errorf("kangrow_migrations holds %v, want each of %v once", ids, allIDs)
			}
			assertNoAdvisoryLocks(t, dbs[0])
		})
	}
}

// migrationLockKey is the advisory lock key Up and Down take ("kangrow" in ASCII). Operators can look
// for it in pg_locks; this test holds it from another session to see Up wait for it.
const migrationLockKey int64 = 0x6b616e67726f77

func TestPostgresUpWaitsForTheLock(t *testing.T) {
	url := dbtest.PostgresURL(t)
	db := mustOpen(t, url)
	holder := holdLock(t, mustOpen(t, url))

	done := make(chan error, 1)
	go func() { done <- migrations.Up(context.Background(), db) }()
	select {
	case err := <-done:
		t.Fatalf("Up returned while another session held the lock: %v", err)
	case <-time.After(300 * time.Millisecond):
	}
	if got := appliedIDs(mustStatus(t, db)); len(got) != 0 {
		t.Fatalf("applied %v while the lock was held elsewhere", got)
	}
	holder.release()
	if err := <-done; err != nil {
		t.Fatalf("Up after the lock was released: %v", err)
	}

	// A caller that stops waiting gets a clear error and leaves no lock behind.
	holder = holdLock(t, mustOpen(t, url))
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	err := migrations.Down(ctx, db, 1)
	if err == nil || !strings.HasPrefix(err.Error(), "migrate down: take migration lock: ") {
		t.Fatalf("Down with an expiring context = %v, want a take migration lock error", err)
	}
	holder.release()
	assertNoAdvisoryLocks(t, db)
	if got := appliedIDs(mustStatus(t, db)); !slices.Equal(got, allIDs) {
		t.Fatalf("a Down that never got the lock changed the database: applied %v", got)
	}
}

type lockHolder struct {
	t    *testing.T
	conn *sql.Conn
}

// holdLock takes the migration lock on a connection of db's own and keeps it until release.
func holdLock(t *testing.T, db *gorm.DB) *lockHolder {
	t.Helper()
	sqlDB, err := db.DB()
	if err != nil {
		t.Fatal(err)
	}
	conn, err := sqlDB.Conn(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := conn.ExecContext(context.Background(), "SELECT pg_advisory_lock($1)", migrationLockKey); err != nil {
		t.Fatalf("take the migration lock: %v", err)
	}
	return &lockHolder{t: t, conn: conn}
}

func (h *lockHolder) release() {
	h.t.Helper()
	if _, err := h.conn.ExecContext(context.Background(), "SELECT pg_advisory_unlock($1)", migrationLockKey); err != nil {
		h.t.Fatalf("release the migration lock: %v", err)
	}
	_ = h.conn.Close()
}

func TestPostgresStatus(t *testing.T) {
	db := dbtest.Postgres(t)
	ctx := context.Background()

	states := mustStatus(t, db)
	if got := idsOf(states); !slices.Equal(got, allIDs) {
		t.Fatalf("status IDs %v, want %v", got, allIDs)
	}
	if got := appliedIDs(states); len(got) != 0 {
		t.Fatalf("fresh database: applied %v, want none", got)
	}
	// Nothing applied and no kangrow_migrations yet: Down has nothing to do.
	if err := migrations.Down(ctx, db, 3); err != nil {
		t.Fatalf("Down on a fresh database: %v", err)
	}

	mustUp(t, db)
	if got := appliedIDs(mustStatus(t, db)); !slices.Equal(got, allIDs) {
		t.Fatalf("after up: applied %v, want all", got)
	}
	mustUp(t, db) // nothing pending: a no-op
	assertNoAdvisoryLocks(t, db)

	mustDown(t, db, 1)
	if got := appliedIDs(mustStatus(t, db)); !slices.Equal(got, allIDs[:len(allIDs)-1]) {
		t.Fatalf("after down 1: applied %v, want all but the last", got)
	}
	if !tableExists(t, db, "jwt_assertions") || columnExists(t, db, "clients", "id_token_signed_response_alg") {
		t.Fatal("down 1 should drop clients.id_token_signed_response_alg only")
	}
	mustUp(t, db)
	if !columnExists(t, db, "clients", "id_token_signed_response_alg") {
		t.Fatal("up after down 1 did not restore clients.id_token_signed_response_alg")
	}

	for _, steps := range []int{0, -1} {
		err := migrations.Down(ctx, db, steps)
		if err == nil || !strings.HasPrefix(err.Error(), "migrate down: ") {
			t.Errorf("Down(%d) = %v, want a migrate down error", steps, err)
		}
	}
}

func TestPostgresUnknownMigration(t *testing.T) {
	db := dbtest.Postgres(t)
	ctx := context.Background()
	mustUp(t, db)
	mustExec(t, db, "INSERT INTO kangrow_migrations (id) VALUES ('202701010000')")

	check := func(op string, err error) {
		t.Helper()
		if !errors.Is(err, migrations.ErrUnknownMigration) || !strings.HasPrefix(err.Error(), "migrate "+op+": ") ||
			!strings.Contains(err.Error(), "202701010000") {
			t.Errorf("%s: got %v, want ErrUnknownMigration naming 202701010000", op, err)
		}
	}
	check("up", migrations.Up(ctx, db))
	check("down", migrations.Down(ctx, db, 1))
	_, err := migrations.Status(ctx, db)
	check("status", err)
	if !tableExists(t, db, "jwt_assertions") {
		t.Error("a refused down still rolled back")
	}
}

// Up runs in one transaction: when a migration fails, the ones before it are undone too, the lock is
// released, and a later Up starts over cleanly.
func TestPostgresFailedUpChangesNothing(t *testing.T) {
	db := dbtest.Postgres(t)
	mustExec(t, db, "CREATE TABLE clients (id int)")

	err := migrations.Up(context.Background(), db)
	if err == nil || !strings.HasPrefix(err.Error(), "migrate up: 202601151203 create clients: ") {
		t.Fatalf("Up = %v, want it to stop at 202601151203", err)
	}
	if got := appliedIDs(mustStatus(t, db)); len(got) != 0 {
		t.Errorf("after a failed up: applied %v, want none", got)
	}
	if tableExists(t, db, "users") {
		t.Error("users exists after a failed up")
	}
	assertNoAdvisoryLocks(t, db)

	mustExec(t, db, "DROP TABLE clients")
	mustUp(t, db)
}

func mustOpen(t *testing.T, url string) *gorm.DB {
	t.Helper()
	db, err := storage.Open(context.Background(), url)
	if err != nil {
		t.Fatalf("open: %v", err)
	}
	t.Cleanup(func() { _ = storage.Close(db) })
	return db
}

func mustUp(t *testing.T, db *gorm.DB) {
	t.Helper()
	if err := migrations.Up(context.Background(), db); err != nil {
		t.Fatal(err)
	}
}

func mustDown(t *testing.T, db *gorm.DB, steps int) {
	t.Helper()
	if err := migrations.Down(context.Background(), db, steps); err != nil {
		t.Fatal(err)
	}
}

func mustStatus(t *testing.T, db *gorm.DB) []migrations.State {
	t.Helper()
	states, err := migrations.Status(context.Background(), db)
	if err != nil {
		t.Fatal(err)
	}
	return states
}

func idsOf(states []migrations.State) []string {
	var ids []string
	for _, s := range states {
		ids = append(ids, s.ID)
	}
	return ids
}

func appliedIDs(states []migrations.State) []string {
	ids := []string{}
	for _, s := range states {
		if s.Applied {
			ids = append(ids, s.ID)
		}
	}
	return ids
}

func mustExec(t *testing.T, db *gorm.DB, sql string, args ...any) {
	t.Helper()
	if err := db.Exec(sql, args...).Error; err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
}

func mustBool(t *testing.T, db *gorm.DB, sql string, args ...any) bool {
	t.Helper()
	var b bool
	if err := db.Raw(sql, args...).Scan(&b).Error; err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
	return b
}

func tableExists(t *testing.T, db *gorm.DB, name string) bool {
	t.Helper()
	return mustBool(t, db, "SELECT to_regclass(?) IS NOT NULL", name)
}

func columnExists(t *testing.T, db *gorm.DB, table, column string) bool {
	t.Helper()
	return mustBool(t, db, "SELECT EXISTS (SELECT 1 FROM information_schema.columns WHERE table_schema = 'public' AND table_name = ? AND column_name = ?)", table, column)
}

func insertReturningID(t *testing.T, db *gorm.DB, sql string, args ...any) string {
	t.Helper()
	var id string
	if err := db.Raw(sql, args...).Scan(&id).Error; err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
	return id
}

// assertUUIDv7 checks RFC 9562: version 7, variant 10, and a 48-bit Unix millisecond prefix near now.
func assertUUIDv7(t *testing.T, table, s string, now time.Time) {
	t.Helper()
	u, err := uuid.Parse(s)
	if err != nil {
		t.Fatalf("%s id %q: %v", table, s, err)
	}
	if u.Version() != 7 || u.Variant() != uuid.RFC4122 {
		t.Errorf("%s id %s: version %d, variant %v; want version 7, RFC 9562 variant", table, s, u.Version(), u.Variant())
	}
	var ms int64
	for _, b := range u[:6] {
		ms = ms<<8 | int64(b)
	}
	if d := time.UnixMilli(ms).Sub(now); d < -5*time.Second || d > 5*time.Second {
		t.Errorf("%s id %s: timestamp %v is %v from now", table, s, time.UnixMilli(ms), d)
	}
}

// assertNothingLeft checks that only the (empty) kangrow_migrations table remains in the schema, and no
// function of ours. The seed's extensions stay on purpose, as its rollback leaves them.
func assertNothingLeft(t *testing.T, db *gorm.DB) {
	t.Helper()
	var rels []string
	if err := db.Raw(`SELECT relname FROM pg_class WHERE relnamespace = current_schema()::regnamespace
		AND relname NOT IN ('kangrow_migrations', 'kangrow_migrations_pkey') ORDER BY relname`).Scan(&rels).Error; err != nil {
		t.Fatalf("list relations: %v", err)
	}
	if len(rels) > 0 {
		t.Errorf("left after down: %v", rels)
	}
	if mustBool(t, db, "SELECT EXISTS (SELECT 1 FROM pg_proc WHERE proname = 'uuidv7' AND pronamespace <> 'pg_catalog'::regnamespace)") {
		t.Error("our uuidv7() is left after down")
	}
	if mustBool(t, db, "SELECT EXISTS (SELECT 1 FROM kangrow_migrations)") {
		t.Error("kangrow_migrations is not empty after down")
	}
}

func assertNoAdvisoryLocks(t *testing.T, db *gorm.DB) {
	t.Helper()
	if mustBool(t, db, `SELECT EXISTS (SELECT 1 FROM pg_locks WHERE locktype = 'advisory'
		AND database = (SELECT oid FROM pg_database WHERE datname = current_database()))`) {
		t.Error("an advisory lock is still held after the run")
	}
}

// dumpSchema lists everything in the current schema: relations, columns, indexes, constraints,
// functions and the installed extensions, one line each.
func dumpSchema(t *testing.T, db *gorm.DB) []string {
	t.Helper()
	c := readPGCatalog(t, db)
	lines := slices.Concat(stringsOf(c.columns), stringsOf(c.indexes), stringsOf(c.constraints))
	for _, q := range []string{
		`SELECT 'relation ' || relname || ' ' || relkind::text FROM pg_class WHERE relnamespace = current_schema()::regnamespace`,
		`SELECT 'function ' || oid::regprocedure::text || ' ' || prokind::text || ' ' || provolatile::text || ' ' || prosrc ||
		 ' ' || coalesce(obj_description(oid, 'pg_proc'), '') FROM pg_proc WHERE pronamespace = current_schema()::regnamespace`,
		`SELECT 'extension ' || extname FROM pg_extension`,
		`SELECT 'column default ' || table_name || '.' || column_name || ' ' || column_default FROM information_schema.columns
		 WHERE table_schema = current_schema() AND column_default IS NOT NULL`,
	} {
		var more []string
		if err := db.Raw(q).Scan(&more).Error; err != nil {
			t.Fatalf("dump schema: %v", err)
		}
		lines = append(lines, more...)
	}
	slices.Sort(lines)
	return lines
}
