package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// The robustness sweep of the command line: every command with bad flags, arguments and values, bad
// database URLs of every shape, bad KANGROW_* values and bad configuration files. Each must end in
// one clear line — an error, nothing on stdout, nothing written to stderr by run itself (main prints
// the line), no panic, no stack, no raw SQL error, not the password of a database or SMTP URL — and
// the binary must exit 1 with exactly that line.

// robustPassword is the password in every database and SMTP URL of the sweep; it must never be shown.
const robustPassword = "Sup3rS3cretPw"

// mb is a one-megabyte argument.
var mb = strings.Repeat("a", 1<<20)

// runBounded is runCmd with a deadline, so that a serve that wrongly starts cannot hang the test.
func runBounded(t *testing.T, e env, args ...string) (stdout, stderr string, err error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var out, errOut bytes.Buffer
	err = run(ctx, args, e.getenv, &out, &errOut)
	return out.String(), errOut.String(), err
}

// mustFailClean runs args and wants an error that is one clear line containing every want.
func mustFailClean(t *testing.T, e env, args []string, want ...string) string {
	t.Helper()
	out, errOut, err := runBounded(t, e, args...)
	name := describeArgs(args)
	if err == nil {
		t.Errorf("kangrow-auth %s: no error (stdout %q)", name, excerpt(out, 200))
		return ""
	}
	line := oneLine(err)
	for _, problem := range lineProblems(line) {
		t.Errorf("kangrow-auth %s: %s: %q", name, problem, excerpt(line, 300))
	}
	for _, w := range want {
		if !strings.Contains(line, w) {
			t.Errorf("kangrow-auth %s: error %q does not contain %q", name, excerpt(line, 300), w)
		}
	}
	if out != "" || errOut != "" {
		t.Errorf("kangrow-auth %s: printed stdout %q stderr %q besides the error", name, excerpt(out, 200), excerpt(errOut, 200))
	}
	return line
}

// lineProblems lists what makes an error line unfit to show.
func lineProblems(line string) []string {
	var problems []string
	lower := strings.ToLower(line)
	for _, bad := range []string{"panic", "goroutine", "internal error", "runtime error", robustPassword} {
		if strings.Contains(lower, strings.ToLower(bad)) {
			problems = append(problems, "shows "+bad)
		}
	}
	if strings.TrimSpace(line) == "" {
		problems = append(problems, "empty error")
	}
	return problems
}

// mustNotBeRawSQL fails when line is a database error passed through as it is.
func mustNotBeRawSQL(t *testing.T, what, line string) {
	t.Helper()
	if strings.Contains(line, "SQLSTATE") || strings.Contains(line, "ERROR:") || strings.Contains(line, "sql:") {
		t.Errorf("%s: a raw database error: %q", what, excerpt(line, 300))
	}
}

func describeArgs(args []string) string {
	var parts []string
	for _, a := range args {
		parts = append(parts, fmt.Sprintf("%q", excerpt(a, 40)))
	}
	return strings.Join(parts, " ")
}

func excerpt(s string, n int) string {
	if len(s) > n {
		return s[:n] + fmt.Sprintf("…(%d bytes)", len(s))
	}
	return s
}

// migratedSQLite returns an environment naming a fresh, migrated SQLite database.
func migratedSQLite(t *testing.T) env {
	t.Helper()
	e := env{"KANGROW_DATABASE_URL": "sqlite:" + filepath.Join(t.TempDir(), "robust.db")}
	mustRun(t, e, "migrate", "up")
	return e
}

// commands are every command path, with the positional arguments it needs.
var commands = [][]string{
	{"serve"},
	{"migrate", "up"},
	{"migrate", "down"},
	{"migrate", "status"},
	{"clients", "create", "--name", "x", "--redirect-uri", "https://app.example/cb"},
	{"clients", "list"},
	{"clients", "get", "x"},
	{"clients", "delete", "x"},
	{"users", "create", "--email", "a@example.test", "--password", "long enough"},
	{"users", "list"},
	{"users", "get", "x"},
	{"users", "ban", "x"},
	{"users", "unban", "x"},
	{"users", "block", "x"},
	{"users", "unblock", "x"},
	{"users", "delete", "x"},
	{"keys", "list"},
	{"keys", "rotate"},
	{"version"},
}

// TestRobustnessFlags: every command with an unknown flag, an unknown shorthand, a global flag
// without its value and an extra argument; and the flags that take numbers or booleans with bad
// values. Nothing touches the database: the flags are refused first.
func TestRobustnessFlags(t *testing.T) {
	t.Parallel()
	e := migratedSQLite(t)
	type tc struct {
		args []string
		want string
	}
	var cases []tc
	for _, cmd := range commands {
		cases = append(cases,
			tc{append(slices.Clone(cmd), "--no-such-flag"), "unknown flag: --no-such-flag"},
			tc{append(slices.Clone(cmd), "-Z"), "unknown shorthand flag: 'Z'"},
			tc{append(slices.Clone(cmd), "--no-such-flag="+mb), "unknown flag: --no-such-flag"},
			tc{append(slices.Clone(cmd), "--database-url"), "flag needs an argument: --database-url"},
			tc{append(slices.Clone(cmd), "--config"), "flag needs an argument: --config"},
		)
		// An extra positional argument (the commands with an argument get a second one).
		cases = append(cases, tc{append(slices.Clone(cmd), "extra"), ""})
	}
	cases = append(cases,
		tc{[]string{"migrate", "down", "--steps", "-1"}, "--steps"},
		tc{[]string{"migrate", "down", "--steps", "0"}, "--steps"},
		tc{[]string{"migrate", "down", "--steps", "abc"}, "--steps"},
		tc{[]string{"migrate", "down", "--steps", "1.5"}, "--steps"},
		tc{[]string{"migrate", "down", "--steps", ""}, "--steps"},
		tc{[]string{"migrate", "down", "--steps", "99999999999999999999999"}, "--steps"},
		tc{[]string{"migrate", "down", "--steps", mb}, "--steps"},
		tc{[]string{"migrate", "down", "--steps"}, "flag needs an argument: --steps"},
		tc{[]string{"users", "list", "--limit", "-1"}, "--limit"},
		tc{[]string{"users", "list", "--limit", "0"}, "--limit"},
		tc{[]string{"users", "list", "--limit", "abc"}, "--limit"},
		tc{[]string{"users", "list", "--offset", "-1"}, "--offset"},
		tc{[]string{"users", "list", "--offset", "x"}, "--offset"},
		tc{[]string{"users", "create", "--email", "a@example.test", "--password", "long enough", "--verified=maybe"}, "--verified"},
		tc{[]string{"clients", "create", "--name", "x", "--redirect-uri", "https://app.example/cb", "--public=2"}, "--public"},
		tc{[]string{"serve", "--dev=yes"}, "--dev"},
		tc{[]string{"serve", "--skip-migrate=1x"}, "--skip-migrate"},
		tc{[]string{"users", "create", "--email"}, "flag needs an argument: --email"},
		tc{[]string{"clients", "create", "--name"}, "flag needs an argument: --name"},
		tc{[]string{"-"}, ""},
		tc{[]string{"users", "--", "get"}, ""},
		tc{[]string{mb}, "unknown command"},
		tc{[]string{"users", mb}, "unknown command"},
		tc{[]string{"\xff\xfe"}, "unknown command"},
	)
	for _, c := range cases {
		mustFailClean(t, e, c.args, c.want)
	}
	// The database is as migrate up left it: no flag slipped through to a command that ran.
	if out := mustRun(t, e, "migrate", "status"); strings.Contains(out, "pending") {
		t.Errorf("a refused command changed the database:\n%s", out)
	}
}

// TestRobustnessArguments: the commands that take an ID, an email or other values, with bad ones, on
// a migrated database of each kind. Lookups of what cannot exist say "not found"; bad values are
// refused by name; a 1 MB argument does not come back as a 1 MB line.
func TestRobustnessArguments(t *testing.T) {
	t.Parallel()
	eachStore(t, func(t *testing.T, e env) {
		mustRun(t, e, "migrate", "up")
		created := mustDecode[map[string]any](t, mustRun(t, e, "users", "create", "--email", "kept@example.test", "--password", "long enough", "--verified"))
		client := mustDecode[map[string]any](t, mustRun(t, e, "clients", "create", "--id", "kept", "--name", "Kept", "--redirect-uri", "https://app.example/cb"))

		ids := []struct{ name, v string }{
			{"not a UUID", "not-a-uuid"},
			{"nil UUID", "00000000-0000-0000-0000-000000000000"},
			{"UUID upper case", "0198F0C2-0000-7000-8000-000000000000"},
			{"UUID with braces", "{0198f0c2-0000-7000-8000-000000000000}"},
			{"UUID urn", "urn:uuid:0198f0c2-0000-7000-8000-000000000000"},
			{"almost a UUID", "0198f0c2-0000-7000-8000-00000000000"},
			{"empty", ""},
			{"space", " "},
			{"email with spaces", "kept @example.test"},
			{"unicode email", "ünï@example.test"},
			{"percent", "%"},
			{"LIKE wildcard", "kep%"},
			{"SQL", "' OR '1'='1"},
			{"1KB", strings.Repeat("x", 1<<10)},
			{"1MB", mb},
		}
		for _, id := range ids {
			for _, cmd := range []string{"get", "ban", "unban", "block", "unblock", "delete"} {
				line := mustFailClean(t, e, []string{"users", cmd, id.v}, "not found")
				mustNotBeRawSQL(t, "users "+cmd+" "+id.name, line)
			}
			for _, cmd := range []string{"get", "delete"} {
				line := mustFailClean(t, e, []string{"clients", cmd, id.v}, "not found")
				mustNotBeRawSQL(t, "clients "+cmd+" "+id.name, line)
			}
		}

		emails := []struct{ name, v, want string }{
			{"spaces", "a b@example.test", "--email"},
			{"leading space", " a@example.test", "--email"},
			{"display name", "Ada <a@example.test>", "--email"},
			{"angle brackets", "<a@example.test>", "--email"},
			{"no domain", "a@", "--email"},
			{"no local part", "@example.test", "--email"},
			{"two ats", "a@b@example.test", "--email"},
			{"CRLF", "a@example.test\r\nBcc: b@example.test", "--email"},
			{"NUL", "a\x00@example.test", "--email"},
			{"markup", "<script>@example.test", "--email"},
			{"300 bytes", strings.Repeat("a", 288) + "@example.test", "--email"},
			{"taken", "kept@example.test", "already exists"},
			{"taken upper case", "KEPT@EXAMPLE.TEST", "already exists"},
		}
		for _, em := range emails {
			line := mustFailClean(t, e, []string{"users", "create", "--email", em.v, "--password", "long enough"}, em.want)
			mustNotBeRawSQL(t, "users create --email "+em.name, line)
		}
		for _, pw := range []struct{ name, v string }{{"empty", ""}, {"7 characters", "seven77"}, {"1MB", mb}, {"8 bytes, 2 characters", "🔑🔑"}} {
			mustFailClean(t, e, []string{"users", "create", "--email", "pw@example.test", "--password", pw.v}, "--password")
		}
		mustFailClean(t, e, []string{"users", "create", "--email", "names@example.test", "--password", "long enough", "--first-name", mb}, "--first-name")
		mustFailClean(t, e, []string{"users", "create", "--email", "names@example.test", "--password", "long enough", "--last-name", mb}, "--last-name")

		cb := []string{"--redirect-uri", "https://app.example/cb"}
		clientCases := []struct {
			name string
			args []string
			want string
		}{
			{"name 1MB", append([]string{"--name", mb}, cb...), "--name"},
			{"id taken", append([]string{"--name", "x", "--id", "kept"}, cb...), "already exists"},
			{"id NUL", append([]string{"--name", "x", "--id", "a\x00b"}, cb...), "--id"},
			{"id unicode", append([]string{"--name", "x", "--id", "ünï"}, cb...), "--id"},
			{"id CRLF", append([]string{"--name", "x", "--id", "a\r\nb"}, cb...), "--id"},
			{"redirect URI with CRLF", []string{"--name", "x", "--redirect-uri", "https://app.example/cb\r\nX: 1"}, "--redirect-uri"},
			{"redirect URI data", []string{"--name", "x", "--redirect-uri", "data:text/html,<script>"}, "--redirect-uri"},
			{"redirect URI file", []string{"--name", "x", "--redirect-uri", "file:///etc/passwd"}, "--redirect-uri"},
			{"redirect URI %zz", []string{"--name", "x", "--redirect-uri", "https://app.example/%zz"}, "--redirect-uri"},
			{"redirect URI empty", []string{"--name", "x", "--redirect-uri", ""}, "--redirect-uri"},
			{"grant type empty", append([]string{"--name", "x", "--grant-type", ""}, cb...), "--grant-type"},
			{"grant type list with garbage", append([]string{"--name", "x", "--grant-type", "authorization_code,,x"}, cb...), "--grant-type"},
			{"scope with NUL", append([]string{"--name", "x", "--scope", "openid a\x00b"}, cb...), "--scope"},
			{"scope with backslash", append([]string{"--name", "x", "--scope", `openid a\b`}, cb...), "--scope"},
			{"secret 1MB with public", append([]string{"--name", "x", "--public", "--secret", mb}, cb...), "--secret"},
			{"algorithm none", append([]string{"--name", "x", "--id-token-signed-response-alg", "none"}, cb...), "--id-token-signed-response-alg"},
			{"auth method empty string and public", append([]string{"--name", "x", "--public", "--token-endpoint-auth-method", "client_secret_post"}, cb...), "--token-endpoint-auth-method"},
		}
		for _, c := range clientCases {
			line := mustFailClean(t, e, append([]string{"clients", "create"}, c.args...), c.want)
			mustNotBeRawSQL(t, "clients create "+c.name, line)
		}

		// Nothing that was refused changed what is stored.
		if got := mustDecode[map[string]any](t, mustRun(t, e, "users", "get", "kept@example.test")); got["id"] != created["id"] || got["banned"] != false || got["blocked"] != false {
			t.Errorf("the kept user changed: %v", got)
		}
		if got := mustDecode[map[string]any](t, mustRun(t, e, "clients", "get", "kept")); got["client_name"] != client["client_name"] {
			t.Errorf("the kept client changed: %v", got)
		}
		if users := mustDecode[[]map[string]any](t, mustRun(t, e, "users", "list")); len(users) != 1 {
			t.Errorf("%d users after the refused commands, want 1", len(users))
		}
		if clients := mustDecode[[]map[string]any](t, mustRun(t, e, "clients", "list")); len(clients) != 1 {
			t.Errorf("%d clients after the refused commands, want 1", len(clients))
		}
	})
}

// TestRobustnessDatabaseURLs: bad database URLs of every shape, for a command of each kind; the
// password in them never shows.
func TestRobustnessDatabaseURLs(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	file := filepath.Join(dir, "a-file")
	if err := os.WriteFile(file, []byte("not a database"), 0o600); err != nil {
		t.Fatal(err)
	}
	pw := robustPassword
	urls := []struct{ name, url, want string }{
		{"postgres:// alone", "postgres://", "KANGROW_DATABASE_URL"},
		{"postgresql:// alone", "postgresql://", "KANGROW_DATABASE_URL"},
		{"postgres %zz", "postgres://%zz", "KANGROW_DATABASE_URL"},
		{"postgres %zz in the password", "postgres://u:" + pw + "%zz@127.0.0.1:1/db", "KANGROW_DATABASE_URL"},
		{"postgres bad port", "postgres://u:" + pw + "@127.0.0.1:99999/db", "port"},
		{"postgres named port", "postgres://u:" + pw + "@127.0.0.1:pg/db", "KANGROW_DATABASE_URL"},
		{"postgres unclosed IPv6", "postgres://u:" + pw + "@[::1/db", "KANGROW_DATABASE_URL"},
		{"postgres unreachable", "postgres://u:" + pw + "@127.0.0.1:1/db?connect_timeout=2", "connection refused"},
		{"postgres bad sslmode", "postgres://u:" + pw + "@127.0.0.1:1/db?sslmode=bogus", "database"},
		{"postgres unknown database", "postgres://postgres:" + pw + "@127.0.0.1:5432/kangrow_no_such_db?sslmode=disable&connect_timeout=2", "database"},
		{"postgres 1MB host", "postgres://u:" + pw + "@" + mb + "/db", "database"},
		{"sqlite: alone", "sqlite:", "KANGROW_DATABASE_URL"},
		{"sqlite:// alone", "sqlite://", "KANGROW_DATABASE_URL"},
		{"sqlite under a file", "sqlite:" + file + "/x.db", "database"},
		{"sqlite a directory", "sqlite:" + dir, "database"},
		{"sqlite not a database", "sqlite:" + file, "database"},
		{"mysql", "mysql://u:" + pw + "@127.0.0.1/db", `unsupported scheme "mysql"`},
		{"no scheme", "kangrow.db", "KANGROW_DATABASE_URL"},
		{"upper case scheme", "POSTGRES://u:" + pw + "@127.0.0.1:1/db", "KANGROW_DATABASE_URL"},
		{"leading space", " postgres://u:" + pw + "@127.0.0.1:1/db", "KANGROW_DATABASE_URL"},
		{"1MB scheme", mb + "://u:" + pw + "@h/db", "KANGROW_DATABASE_URL"},
	}
	for _, u := range urls {
		for _, cmd := range [][]string{{"migrate", "status"}, {"clients", "list"}, {"users", "get", "a@example.test"}, {"keys", "list"}} {
			mustFailClean(t, env{"KANGROW_DATABASE_URL": u.url}, cmd, u.want)
		}
		// As a flag, named as a flag.
		want := strings.ReplaceAll(u.want, "KANGROW_DATABASE_URL", "--database-url")
		mustFailClean(t, env{}, []string{"migrate", "up", "--database-url", u.url}, want)
		// serve checks the database URL before anything else.
		mustFailClean(t, env{"KANGROW_DATABASE_URL": u.url, "KANGROW_SECRET": strings.Repeat("s", 32), "KANGROW_ADDR": "127.0.0.1:0"}, []string{"serve"}, u.want)
	}
	if _, err := os.Stat(file + "/x.db"); err == nil {
		t.Errorf("a database was created under a file")
	}
}

// TestRobustnessEnvironment: bad KANGROW_* values; each names its variable, and an SMTP password
// never shows.
func TestRobustnessEnvironment(t *testing.T) {
	t.Parallel()
	good := env{
		"KANGROW_DATABASE_URL": "sqlite:" + filepath.Join(t.TempDir(), "never-created.db"),
		"KANGROW_SECRET":       strings.Repeat("s", 32),
		"KANGROW_ISSUER":       "https://id.example",
		"KANGROW_ADDR":         "127.0.0.1:0",
		"KANGROW_ADMIN_ADDR":   "127.0.0.1:0",
	}
	cases := []struct{ key, value string }{
		{"KANGROW_ISSUER", "ftp://id.example"},
		{"KANGROW_ISSUER", "https://id.example/"},
		{"KANGROW_ISSUER", "https://id.example/\r\nX: 1"},
		{"KANGROW_ISSUER", "https://"},
		{"KANGROW_ISSUER", "https://%zz"},
		{"KANGROW_ISSUER", "https://id.example/" + mb + "?q"},
		{"KANGROW_ISSUER", "\xff\xfe"},
		{"KANGROW_ISSUER", " "},
		{"KANGROW_ADDR", "nonsense"},
		{"KANGROW_ADDR", ":99999"},
		{"KANGROW_ADDR", ":-1"},
		{"KANGROW_ADDR", "a b:80"},
		{"KANGROW_ADDR", mb + ":80"},
		{"KANGROW_ADMIN_ADDR", "::::"},
		{"KANGROW_SECRET", "short"},
		{"KANGROW_SECRET", " "},
		{"KANGROW_SMTP_URL", "smtp://user:" + robustPassword + "@mail.example:99999"},
		{"KANGROW_SMTP_URL", "http://user:" + robustPassword + "@mail.example"},
		{"KANGROW_SMTP_URL", "smtp://user:" + robustPassword + "%zz@mail.example"},
		{"KANGROW_SMTP_URL", "smtp://user:" + robustPassword + "@"},
		{"KANGROW_LOG_FORMAT", "xml"},
		{"KANGROW_LOG_FORMAT", "JSON"},
		{"KANGROW_LOG_FORMAT", "\x00"},
		{"KANGROW_CONFIG", "/does/not/exist.yaml"},
		{"KANGROW_CONFIG", mb},
	}
	for _, c := range cases {
		want := c.key
		if c.key == "KANGROW_CONFIG" {
			want = "config file"
		}
		e := good.with(c.key, c.value)
		if c.key == "KANGROW_ADDR" && strings.HasPrefix(c.value, "aaaa") {
			// A host name that passes the syntax check fails only when serve listens, after migrating.
			e = e.with("KANGROW_DATABASE_URL", "sqlite:"+filepath.Join(t.TempDir(), "listen.db"))
		}
		mustFailClean(t, e, []string{"serve"}, want)
	}
	// keys rotate needs the secret; a short one is refused before the database is opened.
	mustFailClean(t, good.with("KANGROW_SECRET", "short"), []string{"keys", "rotate"}, "KANGROW_SECRET")
	if _, err := os.Stat(strings.TrimPrefix(good["KANGROW_DATABASE_URL"], "sqlite:")); err == nil {
		t.Errorf("a refused command created the database")
	}
}

// TestRobustnessConfigFile: configuration files that are malformed, hold unknown keys or values of the
// wrong shape, are directories, cannot be read, or are huge.
func TestRobustnessConfigFile(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	write := func(name, content string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	laughs := "a: &a [\"x\",\"x\",\"x\",\"x\",\"x\",\"x\",\"x\",\"x\",\"x\"]\n"
	prev := "a"
	for _, n := range []string{"b", "c", "d", "e", "f", "g", "h", "i"} {
		laughs += fmt.Sprintf("%s: &%s [*%s,*%s,*%s,*%s,*%s,*%s,*%s,*%s,*%s]\n", n, n, prev, prev, prev, prev, prev, prev, prev, prev, prev)
		prev = n
	}
	files := []struct{ name, path string }{
		{"malformed", write("malformed.yaml", "issuer: [unclosed\n")},
		{"tab indentation", write("tabs.yaml", "issuer:\n\t- x\n")},
		{"unknown key", write("unknown.yaml", "issuerr: https://id.example\n")},
		{"unknown key with a password", write("unknown-pw.yaml", "database_urll: postgres://u:"+robustPassword+"@127.0.0.1/db\n")},
		{"nested", write("nested.yaml", "database:\n  url: x\n")},
		{"list value", write("list.yaml", "issuer:\n  - a\n  - b\n")},
		{"map value", write("map.yaml", "issuer: {a: b}\n")},
		{"top-level list", write("toplist.yaml", "- a\n- b\n")},
		{"top-level scalar", write("scalar.yaml", "just a string\n")},
		{"duplicate key", write("dup.yaml", "issuer: https://a.example\nissuer: https://b.example\n")},
		{"binary", write("binary.yaml", "\x00\x01\x02\xff\xfe")},
		{"alias bomb", write("laughs.yaml", laughs)},
		{"1MB unknown key", write("huge.yaml", strings.Repeat("k", 1<<20)+": x\n")},
		{"bad value with a password", write("pw.yaml", "database_url: mysql://u:"+robustPassword+"@127.0.0.1/db\n")},
		{"unreachable database with a password", write("pw2.yaml", "database_url: postgres://u:"+robustPassword+"@127.0.0.1:1/db?connect_timeout=2\n")},
		{"directory", dir},
		{"missing", filepath.Join(dir, "missing.yaml")},
		{"under a file", filepath.Join(write("plain", "x"), "kangrow.yaml")},
		{"1MB path", "/" + mb},
	}
	if _, err := os.Stat("/proc/self/mem"); err == nil {
		// Unreadable even for root: reading /proc/self/mem at offset 0 fails with EIO.
		files = append(files, struct{ name, path string }{"unreadable (/proc/self/mem)", "/proc/self/mem"})
	}
	if os.Geteuid() != 0 {
		p := write("unreadable.yaml", "issuer: https://id.example\n")
		if err := os.Chmod(p, 0); err != nil {
			t.Fatal(err)
		}
		files = append(files, struct{ name, path string }{"unreadable (mode 000)", p})
	}
	for _, f := range files {
		for _, args := range [][]string{{"migrate", "status"}, {"serve"}, {"clients", "list"}} {
			mustFailClean(t, env{"KANGROW_CONFIG": f.path}, args)
			mustFailClean(t, env{}, append(slices.Clone(args), "--config", f.path))
		}
	}
}

// TestRobustnessBinary runs a sample of the sweep through the real binary: exit status 1, exactly one
// line on stderr starting "kangrow-auth: ", nothing on stdout, no stack trace, no password.
func TestRobustnessBinary(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	t.Parallel()
	goTool := filepath.Join(runtime.GOROOT(), "bin", "go")
	if p, err := exec.LookPath("go"); err == nil {
		goTool = p
	}
	bin := filepath.Join(t.TempDir(), "kangrow-auth")
	if out, err := exec.Command(goTool, "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	dir := t.TempDir()
	db := "sqlite:" + filepath.Join(dir, "robust.db")
	malformed := filepath.Join(dir, "bad.yaml")
	if err := os.WriteFile(malformed, []byte("issuer: [\n  - x\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	run := func(envs []string, args ...string) (int, string, string) {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		cmd := exec.CommandContext(ctx, bin, args...)
		cmd.Env = append([]string{"PATH=/usr/bin:/bin", "HOME=" + dir}, envs...)
		var stdout, stderr bytes.Buffer
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		err := cmd.Run()
		var exit *exec.ExitError
		switch {
		case errors.As(err, &exit):
			return exit.ExitCode(), stdout.String(), stderr.String()
		case err != nil:
			t.Fatalf("run %v: %v", args, err)
		}
		return 0, stdout.String(), stderr.String()
	}
	if code, _, stderr := run([]string{"KANGROW_DATABASE_URL=" + db}, "migrate", "up"); code != 0 {
		t.Fatalf("migrate up: exit %d: %s", code, stderr)
	}
	cases := []struct {
		name string
		env  []string
		args []string
	}{
		{"unknown flag", nil, []string{"users", "list", "--no-such-flag"}},
		{"flag without value", nil, []string{"serve", "--database-url"}},
		{"steps -1", []string{"KANGROW_DATABASE_URL=" + db}, []string{"migrate", "down", "--steps", "-1"}},
		{"steps abc", []string{"KANGROW_DATABASE_URL=" + db}, []string{"migrate", "down", "--steps", "abc"}},
		{"unknown user", []string{"KANGROW_DATABASE_URL=" + db}, []string{"users", "get", "00000000-0000-0000-0000-000000000000"}},
		{"email with spaces", []string{"KANGROW_DATABASE_URL=" + db}, []string{"users", "create", "--email", "a b@example.test", "--password", "long enough"}},
		// Linux takes at most 128 KiB per argument (MAX_ARG_STRLEN).
		{"100KB argument", []string{"KANGROW_DATABASE_URL=" + db}, []string{"users", "list", "--limit", mb[:100<<10]}},
		{"100KB unknown command", nil, []string{mb[:100<<10]}},
		{"invalid UTF-8 argument", []string{"KANGROW_DATABASE_URL=" + db}, []string{"users", "get", "\xff\xfe"}},
		{"postgres://", []string{"KANGROW_DATABASE_URL=postgres://"}, []string{"clients", "list"}},
		{"postgres://%zz", []string{"KANGROW_DATABASE_URL=postgres://%zz"}, []string{"clients", "list"}},
		{"sqlite:", []string{"KANGROW_DATABASE_URL=sqlite:"}, []string{"clients", "list"}},
		{"sqlite under a file", []string{"KANGROW_DATABASE_URL=sqlite:" + malformed + "/x.db"}, []string{"clients", "list"}},
		{"mysql", []string{"KANGROW_DATABASE_URL=mysql://u:" + robustPassword + "@h/db"}, []string{"clients", "list"}},
		{"unreachable with password", []string{"KANGROW_DATABASE_URL=postgres://u:" + robustPassword + "@127.0.0.1:1/db?connect_timeout=2"}, []string{"migrate", "status"}},
		{"bad log format", []string{"KANGROW_DATABASE_URL=" + db, "KANGROW_SECRET=" + strings.Repeat("s", 32), "KANGROW_LOG_FORMAT=xml"}, []string{"serve"}},
		{"bad SMTP URL with password", []string{"KANGROW_DATABASE_URL=" + db, "KANGROW_SECRET=" + strings.Repeat("s", 32),
			"KANGROW_SMTP_URL=http://u:" + robustPassword + "@mail.example"}, []string{"serve"}},
		{"malformed config", []string{"KANGROW_CONFIG=" + malformed}, []string{"migrate", "status"}},
		{"config is a directory", []string{"KANGROW_CONFIG=" + dir}, []string{"migrate", "status"}},
	}
	for _, tc := range cases {
		code, stdout, stderr := run(tc.env, tc.args...)
		lines := strings.Split(strings.TrimSuffix(stderr, "\n"), "\n")
		switch {
		case code != 1:
			t.Errorf("%s: exit %d, want 1 (stderr %q)", tc.name, code, excerpt(stderr, 300))
		case len(lines) != 1 || !strings.HasPrefix(lines[0], "kangrow-auth: ") || !strings.HasSuffix(stderr, "\n"):
			t.Errorf("%s: stderr %q, want one line \"kangrow-auth: …\"", tc.name, excerpt(stderr, 300))
		case stdout != "":
			t.Errorf("%s: stdout %q, want nothing", tc.name, excerpt(stdout, 300))
		}
		for _, problem := range lineProblems(stderr) {
			t.Errorf("%s: %s: %q", tc.name, problem, excerpt(stderr, 300))
		}
	}
}

// TestRobustnessConcurrentUsersCreate: 16 `users create` of one email at the same moment (also with
// the email in different cases): exactly one succeeds, the others say "already exists" in one line,
// and exactly one user is stored.
func TestRobustnessConcurrentUsersCreate(t *testing.T) {
	t.Parallel()
	eachStore(t, func(t *testing.T, e env) {
		mustRun(t, e, "migrate", "up")
		for _, variant := range []struct {
			name  string
			email func(i int) string
		}{
			{"same email", func(int) string { return "race@example.test" }},
			{"different case", func(i int) string {
				if i%2 == 0 {
					return "Race-Case@Example.Test"
				}
				return "race-case@example.test"
			}},
		} {
			const n = 16
			type result struct {
				out, errOut string
				err         error
			}
			results := make([]result, n)
			start := make(chan struct{})
			var wg sync.WaitGroup
			for i := range n {
				wg.Add(1)
				go func() {
					defer wg.Done()
					<-start
					out, errOut, err := runBounded(t, e, "users", "create", "--email", variant.email(i), "--password", "long enough")
					results[i] = result{out, errOut, err}
				}()
			}
			close(start)
			wg.Wait()
			wins := 0
			for i, r := range results {
				switch {
				case r.err == nil:
					wins++
				case strings.Contains(oneLine(r.err), "already exists"):
					for _, problem := range lineProblems(oneLine(r.err)) {
						t.Errorf("%s: create %d: %s: %q", variant.name, i, problem, oneLine(r.err))
					}
				default:
					t.Errorf("%s: create %d: %q, want success or \"already exists\"", variant.name, i, oneLine(r.err))
				}
				if r.errOut != "" {
					t.Errorf("%s: create %d wrote to stderr itself: %q", variant.name, i, r.errOut)
				}
			}
			if wins != 1 {
				t.Errorf("%s: %d of %d concurrent creates succeeded, want exactly 1", variant.name, wins, n)
			}
			got := mustDecode[map[string]any](t, mustRun(t, e, "users", "get", variant.email(1)))
			if got["id"] == nil {
				t.Errorf("%s: no user stored", variant.name)
			}
		}
		if users := mustDecode[[]map[string]any](t, mustRun(t, e, "users", "list")); len(users) != 2 {
			t.Errorf("%d users stored after the races, want 2", len(users))
		}
	})
}

// C1: a long argument is not echoed whole: the error line stays short (it was 1–3 MB for a 1 MB
// argument; on Linux an argument can be 128 KiB).
func TestRobustnessFindingLongArgumentsAreNotEchoed(t *testing.T) {
	t.Parallel()
	e := migratedSQLite(t)
	good := env{
		"KANGROW_DATABASE_URL": "sqlite:" + t.TempDir() + "/never-created.db",
		"KANGROW_SECRET":       strings.Repeat("s", 32),
		"KANGROW_ADDR":         "127.0.0.1:0",
	}
	for _, arg := range []string{mb, mb[:100<<10]} {
		for _, c := range []struct {
			env  env
			args []string
		}{
			{e, []string{arg}},
			{e, []string{"users", arg}},
			{e, []string{"migrate", "down", "--steps", arg}},
			{e, []string{"migrate", "status", "--config", "/" + arg}},
			{env{"KANGROW_DATABASE_URL": arg + "://u:p@h/db"}, []string{"clients", "list"}},
			{env{"KANGROW_DATABASE_URL": "postgres://u:p@" + arg + "/db"}, []string{"clients", "list"}},
			{good.with("KANGROW_ISSUER", "https://id.example/"+arg+"?q"), []string{"serve"}},
			{good.with("KANGROW_ADDR", arg+":80"), []string{"serve"}},
		} {
			line := mustFailClean(t, c.env, c.args)
			if len(line) > 4<<10 {
				t.Errorf("kangrow-auth %s: a %d-byte error line for a %d-byte argument", describeArgs(c.args), len(line), len(arg))
			}
		}
	}
}

// C2: docs/cli.md: "Database URLs are never echoed in errors with their password" — also when the
// password is a query parameter, as libpq and pgx accept it.
func TestRobustnessFindingPasswordInTheQueryIsNotEchoed(t *testing.T) {
	t.Parallel()
	for _, u := range []string{
		"postgres://127.0.0.1:1/db?password=" + robustPassword + "&connect_timeout=2",
		"postgres://u@127.0.0.1:1/db?connect_timeout=2&password=" + robustPassword,
		"postgresql://127.0.0.1:1/db?sslmode=disable&password=" + robustPassword + "&connect_timeout=2",
	} {
		for _, cmd := range [][]string{{"migrate", "status"}, {"clients", "list"}} {
			mustFailClean(t, env{"KANGROW_DATABASE_URL": u}, cmd, "database") // lineProblems flags the password
		}
		mustFailClean(t, env{"KANGROW_DATABASE_URL": u, "KANGROW_SECRET": strings.Repeat("s", 32), "KANGROW_ADDR": "127.0.0.1:0"}, []string{"serve"}, "database")
	}
}

// C3: a redirect URI must be a URI: no spaces (two URIs pasted into one flag), no invalid UTF-8.
func TestRobustnessFindingRedirectURIsAreURIs(t *testing.T) {
	t.Parallel()
	eachStore(t, func(t *testing.T, e env) {
		mustRun(t, e, "migrate", "up")
		for _, uri := range []string{
			"https://app.example/c b",
			"https://app.example/cb https://app.example/cb2",
			"https://app.example/\xff",
			"https://app.example/cb\t",
		} {
			for _, flag := range []string{"--redirect-uri", "--post-logout-redirect-uri"} {
				args := []string{"clients", "create", "--name", "x", "--redirect-uri", "https://app.example/cb", flag, uri}
				mustFailClean(t, e, args, flag)
			}
		}
		if clients := mustDecode[[]map[string]any](t, mustRun(t, e, "clients", "list")); len(clients) != 0 {
			t.Errorf("%d clients stored with bad redirect URIs", len(clients))
		}
	})
}

// C4: invalid UTF-8 in an argument: lookups say "not found" (they showed PostgreSQL's raw SQLSTATE
// 22021), values to store are refused by name (they were a raw SQL error on PostgreSQL, stored as is on
// SQLite).
func TestRobustnessFindingInvalidUTF8Arguments(t *testing.T) {
	t.Parallel()
	eachStore(t, func(t *testing.T, e env) {
		mustRun(t, e, "migrate", "up")
		for _, v := range []string{"\xff\xfe", "k\xffpt@example.test"} {
			for _, cmd := range []string{"get", "ban", "unban", "block", "unblock", "delete"} {
				line := mustFailClean(t, e, []string{"users", cmd, v}, "not found")
				mustNotBeRawSQL(t, "users "+cmd, line)
			}
			for _, cmd := range []string{"get", "delete"} {
				line := mustFailClean(t, e, []string{"clients", cmd, v}, "not found")
				mustNotBeRawSQL(t, "clients "+cmd, line)
			}
		}
		for _, flag := range []string{"--first-name", "--last-name"} {
			line := mustFailClean(t, e, []string{"users", "create", "--email", "names@example.test", "--password", "long enough", flag, "\xff\xfe"}, flag)
			mustNotBeRawSQL(t, "users create "+flag, line)
		}
		line := mustFailClean(t, e, []string{"clients", "create", "--name", "\xff\xfe", "--redirect-uri", "https://app.example/cb"}, "--name")
		mustNotBeRawSQL(t, "clients create --name", line)
		if users := mustDecode[[]map[string]any](t, mustRun(t, e, "users", "list")); len(users) != 0 {
			t.Errorf("%d users stored with invalid UTF-8 names", len(users))
		}
		if clients := mustDecode[[]map[string]any](t, mustRun(t, e, "clients", "list")); len(clients) != 0 {
			t.Errorf("%d clients stored with an invalid UTF-8 name", len(clients))
		}
	})
}
