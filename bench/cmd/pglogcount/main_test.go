package main

import (
	"regexp"
	"strings"
	"testing"
)

// A log as PostgreSQL 15 writes it with log_min_duration_statement=0 and log_line_prefix '%m [%p] %v ':
// markers from one backend, the provider's statements from another (pgx's extended protocol, a
// multi-line statement, a transaction) and a background statement that must not count.
const sample = `2026-12-04 21:43:41.976 UTC [10] 4/0 LOG:  duration: 0.021 ms  statement: SELECT 'kgmark begin token 1'
2026-12-04 21:43:41.976 UTC [20] 3/194 LOG:  duration: 0.050 ms  parse stmtcache_1: SELECT * FROM "clients" WHERE id = $1 LIMIT $2
2026-12-04 21:43:41.976 UTC [20] 3/194 LOG:  duration: 0.017 ms  bind stmtcache_1: SELECT * FROM "clients" WHERE id = $1 LIMIT $2
2026-12-04 21:43:41.976 UTC [20] 3/194 DETAIL:  parameters: $1 = 'webapp', $2 = '1'
2026-12-04 21:43:41.976 UTC [20] 3/194 LOG:  duration: 0.013 ms  execute stmtcache_1: SELECT * FROM "clients" WHERE id = $1 LIMIT $2
2026-12-04 21:43:41.976 UTC [20] 3/194 DETAIL:  parameters: $1 = 'webapp', $2 = '1'
2026-12-04 21:43:41.976 UTC [20] 3/195 LOG:  duration: 0.017 ms  bind stmtcache_1: SELECT * FROM "clients" WHERE id = $1 LIMIT $2
2026-12-04 21:43:41.976 UTC [20] 3/195 LOG:  duration: 0.013 ms  execute stmtcache_1: SELECT * FROM "clients" WHERE id = $1 LIMIT $2
2026-12-04 21:43:41.977 UTC [20] 3/196 LOG:  duration: 0.010 ms  bind stmtcache_2: SELECT request_id
	FROM users_tokens WHERE token = $1
2026-12-04 21:43:41.977 UTC [20] 3/196 LOG:  duration: 0.020 ms  execute stmtcache_2: SELECT request_id
	FROM users_tokens WHERE token = $1
2026-12-04 21:43:41.977 UTC [21] 5/7 LOG:  duration: 0.300 ms  execute stmtcache_9: SELECT * FROM "signing_keys" ORDER BY created_at, id
2026-12-04 21:43:41.977 UTC [20] 3/197 LOG:  duration: 0.010 ms  statement: begin
2026-12-04 21:43:41.977 UTC [20] 3/197 LOG:  duration: 0.040 ms  bind stmtcache_3: INSERT INTO "refresh_tokens" ("id") VALUES ($1)
2026-12-04 21:43:41.977 UTC [20] 3/197 LOG:  duration: 0.060 ms  execute stmtcache_3: INSERT INTO "refresh_tokens" ("id") VALUES ($1)
2026-12-04 21:43:41.978 UTC [20] 3/197 LOG:  duration: 0.250 ms  statement: commit
2026-12-04 21:43:41.978 UTC [10] 4/0 LOG:  duration: 0.032 ms  statement: SELECT 'kgmark end token 1'
2026-12-04 21:43:41.979 UTC [20] 3/198 LOG:  duration: 0.013 ms  execute stmtcache_1: SELECT * FROM "clients" WHERE id = $1 LIMIT $2
`

func TestCountWindow(t *testing.T) {
	background = regexp.MustCompile(`FROM "signing_keys"`)
	entries, err := read(strings.NewReader(sample))
	if err != nil {
		t.Fatal(err)
	}
	windows := cut(entries)
	if len(windows) != 1 || windows[0].step != "token" || windows[0].round != 1 {
		t.Fatalf("windows = %+v, want one: token round 1", windows)
	}
	c := windows[0].count()
	// 2 client loads, 1 multi-line select, begin, insert, commit.
	if c.statements != 6 || c.explicitTx != 1 || c.implicitTx != 3 || c.parses != 1 || c.roundTrips != 7 {
		t.Errorf("counts = %+v, want 6 statements, 1+3 transactions, 1 parse, 7 round trips", c)
	}
	if n := c.bySQL[`SELECT * FROM "clients" WHERE id = $1 LIMIT $2`].n; n != 2 {
		t.Errorf("client loads = %d, want 2", n)
	}
	if len(windows[0].background) != 1 {
		t.Errorf("background = %v, want the signing_keys query", windows[0].background)
	}
	var out strings.Builder
	report(&out, windows, -1, true)
	if !strings.Contains(out.String(), "| token | 6 | 1 + 3 | 7 | 1 |") || !strings.Contains(out.String(), "<-- repeated") {
		t.Errorf("report:\n%s", out.String())
	}
}
