package main

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"sync"
	"testing"

	"gorm.io/gorm"

	"github.com/kangrow/auth/storage"
	"github.com/kangrow/auth/storage/dbtest"
)

// env is a fake process environment for run's getenv.
type env map[string]string

func (e env) getenv(k string) string { return e[k] }

// with returns a copy of e with more variables.
func (e env) with(kv ...string) env {
	out := env{}
	for k, v := range e {
		out[k] = v
	}
	for i := 0; i+1 < len(kv); i += 2 {
		out[kv[i]] = kv[i+1]
	}
	return out
}

// syncBuffer is a bytes.Buffer that a running server may write to while the test reads it.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// runCmd runs the command line in-process with the fake environment and returns what it printed.
func runCmd(t *testing.T, e env, args ...string) (stdout, stderr string, err error) {
	t.Helper()
	var out, errOut bytes.Buffer
	err = run(context.Background(), args, e.getenv, &out, &errOut)
	return out.String(), errOut.String(), err
}

// mustRun runs the command line and fails the test unless it succeeds; it returns stdout.
func mustRun(t *testing.T, e env, args ...string) string {
	t.Helper()
	out, errOut, err := runCmd(t, e, args...)
	if err != nil {
		t.Fatalf("kangrow-auth %s: %v (stderr %q)", strings.Join(args, " "), err, errOut)
	}
	return out
}

// mustFail runs the command line, wants an error whose line (as main prints it) contains every want,
// and returns the error's text as run returned it.
func mustFail(t *testing.T, e env, args []string, want ...string) string {
	t.Helper()
	out, errOut, err := runCmd(t, e, args...)
	if err == nil {
		t.Fatalf("kangrow-auth %s: no error, stdout %q", strings.Join(args, " "), out)
	}
	line := oneLine(err)
	for _, w := range want {
		if !strings.Contains(line, w) {
			t.Errorf("kangrow-auth %s: error %q does not contain %q", strings.Join(args, " "), line, w)
		}
	}
	if errOut != "" {
		t.Errorf("kangrow-auth %s: run wrote to stderr itself (main prints the one line): %q", strings.Join(args, " "), errOut)
	}
	return err.Error()
}

// mustFailOneLine is mustFail for errors of our own making, which must be one line before main
// collapses anything.
func mustFailOneLine(t *testing.T, e env, args []string, want ...string) string {
	t.Helper()
	msg := mustFail(t, e, args, want...)
	if strings.Contains(msg, "\n") {
		t.Errorf("kangrow-auth %s: error has more than one line: %q", strings.Join(args, " "), msg)
	}
	return msg
}

func mustDecode[T any](t *testing.T, s string) T {
	t.Helper()
	var v T
	if err := json.Unmarshal([]byte(s), &v); err != nil {
		t.Fatalf("decode JSON %q: %v", s, err)
	}
	return v
}

// store is one kind of database every database test runs on.
type store struct {
	name string
	url  func(t *testing.T) string
}

// stores are PostgreSQL (skipped on a laptop without one, failing under CI=true; see dbtest) and SQLite.
var stores = []store{
	{"postgres", func(t *testing.T) string { return dbtest.PostgresURL(t) }},
	{"sqlite", func(t *testing.T) string { return dbtest.SQLiteURL(t) }},
}

// eachStore runs fn as a parallel subtest on a fresh, unmigrated database of each kind, with an
// environment naming it.
func eachStore(t *testing.T, fn func(t *testing.T, e env)) {
	t.Helper()
	for _, s := range stores {
		t.Run(s.name, func(t *testing.T) {
			t.Parallel()
			fn(t, env{"KANGROW_DATABASE_URL": s.url(t)})
		})
	}
}

// mustOpenStore opens the database of e for checks behind the command line's back.
func mustOpenStore(t *testing.T, e env) (*storage.Store, *gorm.DB) {
	t.Helper()
	db, err := storage.Open(context.Background(), e["KANGROW_DATABASE_URL"])
	if err != nil {
		t.Fatalf("open database: %v", err)
	}
	t.Cleanup(func() { _ = storage.Close(db) })
	return storage.New(db), db
}
