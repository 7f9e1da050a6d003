package main

import (
	"context"
	"strings"
	"testing"

	"github.com/kangrow/auth/migrations"
)

// statusLines parses migrate's output into ID → "applied" or "pending", checking the order is kept.
func statusLines(t *testing.T, out string) (ids []string, state map[string]string) {
	t.Helper()
	state = map[string]string{}
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		id, st, ok := strings.Cut(line, "\t")
		if !ok || (st != "applied" && st != "pending") {
			t.Fatalf("status line %q, want \"ID<TAB>applied|pending\"", line)
		}
		ids = append(ids, id)
		state[id] = st
	}
	return ids, state
}

func TestMigrate(t *testing.T) {
	t.Parallel()
	eachStore(t, func(t *testing.T, e env) {
		ids, state := statusLines(t, mustRun(t, e, "migrate", "status"))
		if len(ids) < 3 {
			t.Fatalf("status lists %d migrations, want at least the 3 seed migrations", len(ids))
		}
		for _, id := range ids {
			if state[id] != "pending" {
				t.Fatalf("fresh database: %s is %s, want pending", id, state[id])
			}
		}
		// Commands other than migrate and serve never build the schema themselves.
		mustFail(t, e, []string{"clients", "list"}, "database is not migrated: run `kangrow-auth migrate up`")
		mustFail(t, e, []string{"users", "get", "a@example.test"}, "database is not migrated")

		_, state = statusLines(t, mustRun(t, e, "migrate", "up"))
		for _, id := range ids {
			if state[id] != "applied" {
				t.Fatalf("after up: %s is %s, want applied", id, state[id])
			}
		}
		mustRun(t, e, "migrate", "up") // nothing left to do is not an error
		mustRun(t, e, "clients", "list")

		_, state = statusLines(t, mustRun(t, e, "migrate", "down", "--steps", "2"))
		for i, id := range ids {
			want := "applied"
			if i >= len(ids)-2 {
				want = "pending"
			}
			if state[id] != want {
				t.Errorf("after down --steps 2: %s is %s, want %s", id, state[id], want)
			}
		}
		mustFail(t, e, []string{"clients", "list"}, "2 pending migrations", "migrate up")

		_, state = statusLines(t, mustRun(t, e, "migrate", "down"))
		if state[ids[len(ids)-3]] != "pending" || state[ids[len(ids)-4]] != "applied" {
			t.Errorf("down without --steps rolled back other than one migration: %v", state)
		}
		mustFail(t, e, []string{"migrate", "down", "--steps", "0"}, "--steps", "at least 1")

		mustRun(t, e, "migrate", "up")
		_, db := mustOpenStore(t, e)
		got, err := migrations.Status(context.Background(), db)
		if err != nil {
			t.Fatal(err)
		}
		for _, s := range got {
			if !s.Applied {
				t.Errorf("after the second up: %s is pending", s.ID)
			}
		}

		mustRun(t, e, "migrate", "down", "--steps", "1000")
		_, state = statusLines(t, mustRun(t, e, "migrate", "status"))
		for _, id := range ids {
			if state[id] != "pending" {
				t.Errorf("after down --steps 1000: %s is %s, want pending", id, state[id])
			}
		}
	})
}

func TestMigrateBadInput(t *testing.T) {
	t.Parallel()
	e := env{"KANGROW_DATABASE_URL": "sqlite:" + t.TempDir() + "/x.db"}
	mustFail(t, e, []string{"migrate"}, "migrate needs a command", "up, down, status")
	mustFail(t, e, []string{"migrate", "sideways"}, `unknown command "sideways"`)
	mustFail(t, e, []string{"migrate", "down", "--steps", "many"}, "--steps")
	mustFail(t, e, []string{"migrate", "status", "--database-url", "postgres://127.0.0.1:1/nothing?connect_timeout=2"},
		"database postgres://127.0.0.1:1/nothing", "connection refused")
}
