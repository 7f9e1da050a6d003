package migrations_test

import (
	"slices"
	"strings"
	"testing"

	"gorm.io/gorm"

	"github.com/kangrow/auth/storage/dbtest"
)

// The embedded store has the same tables, column names and order, index names and uniqueness, and
// cascading foreign keys as PostgreSQL; the expectations are taken from the PostgreSQL ones.
func TestSQLiteMatchesPostgresNames(t *testing.T) {
	db := dbtest.SQLite(t)
	mustUp(t, db)
	if got := appliedIDs(mustStatus(t, db)); !slices.Equal(got, allIDs) {
		t.Fatalf("applied %v, want all", got)
	}

	columns := slices.Concat(seedColumns, laterColumns)
	indexes := slices.Concat(seedIndexes, laterIndexes)
	constraints := slices.Concat(seedConstraints, laterConstraints)
	for _, table := range ourTables {
		t.Run(table, func(t *testing.T) {
			assertSQLiteTable(t, db, table, columns, indexes, constraints)
		})
	}
}

// assertSQLiteTable checks one table's column names and order, its index names and uniqueness, and its
// foreign keys against the PostgreSQL expectations.
func assertSQLiteTable(t *testing.T, db *gorm.DB, table string, columns []pgColumn, indexes []pgIndex, constraints []pgConstraint) {
	t.Helper()
	var want []string
	for _, c := range sortedColumns(columns, table) {
		want = append(want, c.name)
	}
	var got []string
	if err := db.Raw("SELECT name FROM pragma_table_info(?) ORDER BY cid", table).Scan(&got).Error; err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(got, want) {
		t.Errorf("%s columns %v, want %v", table, got, want)
	}

	// Primary keys are SQLite's own autoindexes; every other index is ours, by name.
	want = nil
	for _, i := range indexes {
		if i.table == table && !strings.HasSuffix(i.name, "_pkey") {
			want = append(want, indexLine(i.name, i.unique()))
		}
	}
	var idx []struct {
		Name   string
		Unique bool
	}
	if err := db.Raw(`SELECT name, "unique" FROM pragma_index_list(?) WHERE origin = 'c'`, table).Scan(&idx).Error; err != nil {
		t.Fatal(err)
	}
	got = nil
	for _, i := range idx {
		got = append(got, indexLine(i.Name, i.Unique))
	}
	slices.Sort(got)
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Errorf("%s indexes %v, want %v", table, got, want)
	}

	// SQLite keeps constraint names only in the table's SQL.
	var ddl string
	if err := db.Raw("SELECT sql FROM sqlite_master WHERE type = 'table' AND name = ?", table).Scan(&ddl).Error; err != nil {
		t.Fatal(err)
	}
	want, got = nil, nil
	for _, c := range constraints {
		if c.table != table {
			continue
		}
		if !strings.Contains(ddl, "CONSTRAINT "+c.name+" ") {
			t.Errorf("constraint %s is not named in %s", c.name, ddl)
		}
		if c.typ == "f" {
			want = append(want, strings.TrimPrefix(c.def, "FOREIGN KEY "))
		}
	}
	var fks []struct {
		Table    string
		From     string
		To       string
		OnDelete string
	}
	if err := db.Raw(`SELECT "table", "from", "to", on_delete FROM pragma_foreign_key_list(?)`, table).Scan(&fks).Error; err != nil {
		t.Fatal(err)
	}
	for _, fk := range fks {
		got = append(got, "("+fk.From+") REFERENCES "+fk.Table+"("+fk.To+") ON DELETE "+fk.OnDelete)
	}
	slices.Sort(got)
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Errorf("%s foreign keys %v, want %v", table, got, want)
	}
}

func TestSQLiteEmailIsCaseInsensitive(t *testing.T) {
	db := dbtest.SQLite(t)
	mustUp(t, db)
	mustExec(t, db, `INSERT INTO users (id, email, created_at, updated_at) VALUES ('u1', 'a@x.test', datetime(), datetime())`)
	err := db.Exec(`INSERT INTO users (id, email, created_at, updated_at) VALUES ('u2', 'A@x.test', datetime(), datetime())`).Error
	if err == nil {
		t.Fatal("a second user with the same email in other case was accepted")
	}
	var id string
	if err := db.Raw("SELECT id FROM users WHERE email = 'A@X.TEST'").Scan(&id).Error; err != nil || id != "u1" {
		t.Errorf("lookup by email in other case: %q, %v", id, err)
	}
}

func TestSQLiteForeignKeysCascade(t *testing.T) {
	db := dbtest.SQLite(t)
	mustUp(t, db)
	for _, q := range []string{
		`INSERT INTO users (id, email, created_at, updated_at) VALUES ('u1', 'a@x.test', datetime(), datetime())`,
		`INSERT INTO clients (id, name, token_endpoint_auth_method, created_at, updated_at) VALUES ('c1', 'C', 'none', datetime(), datetime())`,
		`INSERT INTO users_tokens (id, user_id, token, context, created_at) VALUES ('t1', 'u1', x'01', 'session', datetime())`,
		`INSERT INTO users_tokens (id, user_id, token, context, created_at, client_id) VALUES ('t2', 'u1', x'02', 'access_token', datetime(), 'c1')`,
		`INSERT INTO refresh_tokens (id, token, user_id, expires_at, created_at, updated_at) VALUES ('r1', 'r', 'u1', datetime(), datetime(), datetime())`,
		`INSERT INTO user_identities (provider, subject, user_id, created_at) VALUES ('github', '42', 'u1', datetime())`,
		`INSERT INTO consents (id, user_id, client_id, scopes, created_at, updated_at) VALUES ('k1', 'u1', 'c1', '[]', datetime(), datetime())`,
		`INSERT INTO client_tokens (id, token, client_id, expires_at, created_at) VALUES ('ct1', x'03', 'c1', datetime(), datetime())`,
	} {
		mustExec(t, db, q)
	}
	if err := db.Exec(`INSERT INTO users_tokens (id, user_id, token, context, created_at) VALUES ('t3', 'nobody', x'04', 'session', datetime())`).Error; err == nil {
		t.Error("a token for a user that does not exist was accepted: foreign keys are off")
	}
	// The 202601151204 defaults apply to rows that do not name the new columns.
	var active bool
	if err := db.Raw("SELECT active FROM users_tokens WHERE id = 't1'").Scan(&active).Error; err != nil || !active {
		t.Errorf("users_tokens.active default: %v, %v", active, err)
	}

	mustExec(t, db, "DELETE FROM clients WHERE id = 'c1'")
	assertCount(t, db, "client_tokens", 0)
	assertCount(t, db, "consents", 0)
	assertCount(t, db, "users_tokens", 1) // t2 belonged to the client

	mustExec(t, db, "DELETE FROM users WHERE id = 'u1'")
	for _, table := range []string{"users_tokens", "refresh_tokens", "user_identities"} {
		assertCount(t, db, table, 0)
	}
}

func TestSQLiteUpDownUp(t *testing.T) {
	db := dbtest.SQLite(t)
	mustUp(t, db)
	first := dumpSQLite(t, db)

	// One step at a time, so every SQLite rollback runs on its own. At 202601151202 the seed tables
	// must be as the seed made them: 202601151204's DROP COLUMNs undo its ADD COLUMNs.
	for applied := len(allIDs) - 1; applied >= 0; applied-- {
		mustDown(t, db, 1)
		if got := appliedIDs(mustStatus(t, db)); !slices.Equal(got, allIDs[:applied]) {
			t.Fatalf("applied %v, want %v", got, allIDs[:applied])
		}
		if applied == 3 {
			for _, table := range ourTables[:3] {
				assertSQLiteTable(t, db, table, seedColumns, seedIndexes, seedConstraints)
			}
			var tables []string
			if err := db.Raw("SELECT name FROM sqlite_master WHERE type = 'table' AND name <> 'kangrow_migrations' ORDER BY name").Scan(&tables).Error; err != nil {
				t.Fatal(err)
			}
			if want := []string{"refresh_tokens", "users", "users_tokens"}; !slices.Equal(tables, want) {
				t.Errorf("tables at 202601151202: %v, want %v", tables, want)
			}
		}
	}
	var left []string
	if err := db.Raw("SELECT name FROM sqlite_master WHERE name NOT LIKE 'sqlite_%' AND name <> 'kangrow_migrations'").Scan(&left).Error; err != nil {
		t.Fatal(err)
	}
	if len(left) > 0 {
		t.Errorf("left after down: %v", left)
	}

	mustUp(t, db)
	if second := dumpSQLite(t, db); !slices.Equal(first, second) {
		t.Errorf("schema after the second up differs:\nfirst  %q\nsecond %q", first, second)
	}

	// Down with more steps than applied rolls back everything, without an error.
	mustDown(t, db, 1000)
	if got := appliedIDs(mustStatus(t, db)); len(got) != 0 {
		t.Errorf("after down 1000: applied %v", got)
	}
}

func sortedColumns(cols []pgColumn, table string) []pgColumn {
	var out []pgColumn
	for _, c := range cols {
		if c.table == table {
			out = append(out, c)
		}
	}
	slices.SortFunc(out, func(a, b pgColumn) int { return a.pos - b.pos })
	return out
}

func indexLine(name string, unique bool) string {
	if unique {
		return name + " (unique)"
	}
	return name
}

func assertCount(t *testing.T, db *gorm.DB, table string, want int64) {
	t.Helper()
	var n int64
	if err := db.Table(table).Count(&n).Error; err != nil {
		t.Fatalf("count %s: %v", table, err)
	}
	if n != want {
		t.Errorf("%s has %d rows, want %d", table, n, want)
	}
}

// dumpSQLite lists the SQL of every table and index but the migrations' own, sorted by name.
func dumpSQLite(t *testing.T, db *gorm.DB) []string {
	t.Helper()
	var out []string
	if err := db.Raw(`SELECT type || ' ' || name || ': ' || coalesce(sql, '') FROM sqlite_master
		WHERE tbl_name <> 'kangrow_migrations' ORDER BY name`).Scan(&out).Error; err != nil {
		t.Fatal(err)
	}
	return out
}
