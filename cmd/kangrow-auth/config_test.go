package main

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// mustLoadConfig parses args as the global flags and loads the configuration the way a command does.
func mustLoadConfig(t *testing.T, e env, dev bool, args ...string) *Config {
	t.Helper()
	a := &app{getenv: e.getenv}
	root := a.rootCmd()
	if err := root.PersistentFlags().Parse(args); err != nil {
		t.Fatalf("parse %v: %v", args, err)
	}
	cfg, err := a.loadConfig(dev)
	if err != nil {
		t.Fatalf("loadConfig: %v", err)
	}
	return cfg
}

func writeFile(t *testing.T, name, content string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestConfigPrecedence(t *testing.T) {
	t.Parallel()
	yaml := writeFile(t, "kangrow.yaml", `
database_url: sqlite:/from/file.db
issuer: https://file.example
addr: ":1001"
admin_addr: 127.0.0.1:1002
log_format: text
smtp_url: smtp://file.example:25
`)
	fullEnv := env{
		"KANGROW_CONFIG":       yaml,
		"KANGROW_ISSUER":       "https://env.example",
		"KANGROW_ADDR":         ":2001",
		"KANGROW_DATABASE_URL": "sqlite:/from/env.db",
		"KANGROW_SECRET":       strings.Repeat("e", 32),
	}
	tests := []struct {
		name string
		env  env
		args []string
		dev  bool
		want Config
	}{
		{
			name: "defaults",
			env:  env{},
			want: Config{Issuer: "http://localhost:8080", Addr: ":8080", AdminAddr: "127.0.0.1:8081", LogFormat: "json"},
		},
		{
			name: "dev defaults",
			env:  env{},
			dev:  true,
			want: Config{DatabaseURL: "sqlite:./kangrow-dev.db", Issuer: "http://localhost:8080", Addr: ":8080",
				AdminAddr: "127.0.0.1:8081", LogFormat: "text", Dev: true},
		},
		{
			name: "file over default",
			env:  env{"KANGROW_CONFIG": yaml},
			want: Config{DatabaseURL: "sqlite:/from/file.db", Issuer: "https://file.example", Addr: ":1001",
				AdminAddr: "127.0.0.1:1002", LogFormat: "text", SMTPURL: "smtp://file.example:25"},
		},
		{
			name: "environment over file",
			env:  fullEnv,
			want: Config{DatabaseURL: "sqlite:/from/env.db", Issuer: "https://env.example", Addr: ":2001",
				AdminAddr: "127.0.0.1:1002", LogFormat: "text", SMTPURL: "smtp://file.example:25", Secret: strings.Repeat("e", 32)},
		},
		{
			name: "flag over environment",
			env:  fullEnv,
			args: []string{"--issuer", "https://flag.example", "--log-format=json", "--database-url", "sqlite:/from/flag.db"},
			want: Config{DatabaseURL: "sqlite:/from/flag.db", Issuer: "https://flag.example", Addr: ":2001",
				AdminAddr: "127.0.0.1:1002", LogFormat: "json", SMTPURL: "smtp://file.example:25", Secret: strings.Repeat("e", 32)},
		},
		{
			name: "--config over KANGROW_CONFIG",
			env:  env{"KANGROW_CONFIG": "/does/not/exist.yaml"},
			args: []string{"--config", yaml},
			want: Config{DatabaseURL: "sqlite:/from/file.db", Issuer: "https://file.example", Addr: ":1001",
				AdminAddr: "127.0.0.1:1002", LogFormat: "text", SMTPURL: "smtp://file.example:25"},
		},
		{
			name: "empty environment variable counts as unset",
			env:  env{"KANGROW_ADDR": ""},
			want: Config{Issuer: "http://localhost:8080", Addr: ":8080", AdminAddr: "127.0.0.1:8081", LogFormat: "json"},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := mustLoadConfig(t, tc.env, tc.dev, tc.args...)
			got.origin, tc.want.origin = nil, nil
			if !reflect.DeepEqual(*got, tc.want) {
				t.Errorf("config =\n %+v\nwant\n %+v", *got, tc.want)
			}
		})
	}
}

func TestConfigNamesTheSettingWhereItWasSet(t *testing.T) {
	t.Parallel()
	yaml := writeFile(t, "kangrow.yaml", "issuer: ftp://file.example\n")
	tests := []struct {
		name string
		env  env
		args []string
		want string
	}{
		{"from the file", env{"KANGROW_CONFIG": yaml}, nil, "issuer in " + yaml + ": "},
		{"from the environment", env{"KANGROW_CONFIG": yaml, "KANGROW_ISSUER": "ftp://env.example"}, nil, "KANGROW_ISSUER: "},
		{"from a flag", env{"KANGROW_CONFIG": yaml, "KANGROW_ISSUER": "ftp://env.example"},
			[]string{"--issuer", "ftp://flag.example"}, "--issuer: "},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := mustLoadConfig(t, tc.env, false, tc.args...).need(needIssuer)
			if err == nil || !strings.HasPrefix(err.Error(), tc.want) {
				t.Fatalf("need(issuer) = %v, want it to start with %q", err, tc.want)
			}
		})
	}
}

// TestServeValidation checks that serve refuses every bad setting up front, with one line that names
// it, before it opens a database or writes anything.
func TestServeValidation(t *testing.T) {
	t.Parallel()
	secret := strings.Repeat("s", 32)
	good := env{
		"KANGROW_DATABASE_URL": "sqlite:" + filepath.Join(t.TempDir(), "never-created.db"),
		"KANGROW_SECRET":       secret,
		"KANGROW_ISSUER":       "https://id.example",
	}
	tests := []struct {
		name string
		env  env
		args []string
		want []string
	}{
		{"database URL missing", good.with("KANGROW_DATABASE_URL", ""), nil, []string{"KANGROW_DATABASE_URL", "not set"}},
		{"database URL malformed", good.with("KANGROW_DATABASE_URL", "postgres://user:hunter2@%zz/db"), nil,
			[]string{"KANGROW_DATABASE_URL", "malformed"}},
		{"database URL bad scheme", good.with("KANGROW_DATABASE_URL", "mysql://db/x"), nil,
			[]string{"KANGROW_DATABASE_URL", `unsupported scheme "mysql"`}},
		{"database URL without scheme", good.with("KANGROW_DATABASE_URL", "kangrow.db"), nil,
			[]string{"KANGROW_DATABASE_URL", "malformed"}},
		{"sqlite without path", good, []string{"--database-url", "sqlite:"}, []string{"--database-url", "file path"}},
		{"issuer relative", good.with("KANGROW_ISSUER", "/auth"), nil, []string{"KANGROW_ISSUER", "absolute http(s) URL"}},
		{"issuer without scheme", good.with("KANGROW_ISSUER", "id.example"), nil, []string{"KANGROW_ISSUER", "absolute"}},
		{"issuer other scheme", good.with("KANGROW_ISSUER", "ftp://id.example"), nil, []string{"KANGROW_ISSUER", "absolute"}},
		{"issuer with query", good.with("KANGROW_ISSUER", "https://id.example?x=1"), nil, []string{"KANGROW_ISSUER", "query"}},
		{"issuer with empty query", good.with("KANGROW_ISSUER", "https://id.example?"), nil, []string{"KANGROW_ISSUER", "query"}},
		{"issuer with fragment", good.with("KANGROW_ISSUER", "https://id.example#x"), nil, []string{"KANGROW_ISSUER", "fragment"}},
		{"issuer with trailing slash", good.with("KANGROW_ISSUER", "https://id.example/"), nil, []string{"KANGROW_ISSUER", "slash"}},
		{"issuer http on a public host", good.with("KANGROW_ISSUER", "http://id.example"), nil, []string{"KANGROW_ISSUER", "https"}},
		{"issuer with user info", good.with("KANGROW_ISSUER", "https://u:p@id.example"), nil, []string{"KANGROW_ISSUER", "user"}},
		{"addr without port", good.with("KANGROW_ADDR", "8080"), nil, []string{"KANGROW_ADDR", "host:port"}},
		{"addr with a named port", good, []string{"--addr", "localhost:http"}, []string{"--addr", "port"}},
		{"addr port out of range", good.with("KANGROW_ADDR", ":70000"), nil, []string{"KANGROW_ADDR", "port"}},
		{"admin addr", good.with("KANGROW_ADMIN_ADDR", "nope"), nil, []string{"KANGROW_ADMIN_ADDR", "host:port"}},
		{"secret missing", good.with("KANGROW_SECRET", ""), nil, []string{"KANGROW_SECRET", "not set"}},
		{"secret short", good.with("KANGROW_SECRET", "short"), nil, []string{"KANGROW_SECRET", "at least 32 bytes", "got 5"}},
		{"smtp URL", good.with("KANGROW_SMTP_URL", "http://mail.example"), nil, []string{"KANGROW_SMTP_URL", "smtp://"}},
		{"log format", good.with("KANGROW_LOG_FORMAT", "xml"), nil, []string{"KANGROW_LOG_FORMAT", "json or text"}},
		{"log format flag", good, []string{"--log-format", "yaml"}, []string{"--log-format", "json or text"}},
		{"config file missing", good.with("KANGROW_CONFIG", "/does/not/exist.yaml"), nil, []string{"config file /does/not/exist.yaml"}},
		{"config file unknown key", good.with("KANGROW_CONFIG", writeFile(t, "typo.yaml", "isuer: https://x\n")), nil,
			[]string{"unknown setting \"isuer\""}},
		{"config file nested value", good.with("KANGROW_CONFIG", writeFile(t, "nested.yaml", "addr:\n  host: x\n")), nil,
			[]string{"unknown setting \"addr.host\""}},
		{"config file not YAML", good.with("KANGROW_CONFIG", writeFile(t, "bad.yaml", "addr: [\n")), nil,
			[]string{"config file"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			msg := mustFailOneLine(t, tc.env, append([]string{"serve"}, tc.args...), tc.want...)
			if strings.Contains(msg, "hunter2") {
				t.Errorf("error %q shows the database password", msg)
			}
		})
	}
	if _, err := os.Stat(strings.TrimPrefix(good["KANGROW_DATABASE_URL"], "sqlite:")); !os.IsNotExist(err) {
		t.Errorf("a refused serve created the database: %v", err)
	}
}

func TestDevRelaxesIssuerScheme(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	e := env{"KANGROW_ISSUER": "http://id.example", "KANGROW_LOG_FORMAT": "bad"}
	// The issuer passes under --dev; the next check, the log format, is what fails.
	mustFail(t, e, []string{"serve", "--dev", "--database-url", "sqlite:" + filepath.Join(dir, "dev.db")}, "KANGROW_LOG_FORMAT")
}

func TestCommandsCheckOnlyWhatTheyNeed(t *testing.T) {
	t.Parallel()
	// A bad issuer and no secret do not stop commands that use neither.
	e := env{"KANGROW_ISSUER": "not a url", "KANGROW_LOG_FORMAT": "xml"}
	mustFail(t, e, []string{"migrate", "status"}, "KANGROW_DATABASE_URL", "not set")
	mustFail(t, e, []string{"clients", "list"}, "KANGROW_DATABASE_URL", "not set")
	mustFail(t, e, []string{"users", "list"}, "KANGROW_DATABASE_URL", "not set")
	mustRun(t, e, "version")
}

func TestDevSecretIsKeptBesideTheDatabase(t *testing.T) {
	t.Parallel()
	dir := filepath.Join(t.TempDir(), "state")
	url := "sqlite:" + filepath.Join(dir, "kangrow-dev.db")
	s1, path, err := devSecret(url)
	if err != nil {
		t.Fatal(err)
	}
	if want := filepath.Join(dir, devSecretFile); path != want {
		t.Errorf("secret file %s, want %s", path, want)
	}
	if len(s1) < minSecretLen {
		t.Errorf("secret has %d bytes, want at least %d", len(s1), minSecretLen)
	}
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("secret file mode %v, want 0600", fi.Mode().Perm())
	}
	s2, _, err := devSecret(url)
	if err != nil || s2 != s1 {
		t.Errorf("second devSecret = %q, %v; want the first secret again", s2, err)
	}
	if err := os.WriteFile(path, []byte("short\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, _, err := devSecret(url); err == nil || !strings.Contains(err.Error(), path) {
		t.Errorf("short secret file: err = %v, want one naming %s", err, path)
	}
}

func TestDevIssuerFollowsThePort(t *testing.T) {
	t.Parallel()
	db := "sqlite:" + filepath.Join(t.TempDir(), "dev.db")
	tests := []struct {
		name string
		env  env
		args []string
		want string
	}{
		{"default port", env{}, nil, "http://localhost:8080"},
		{"other port", env{}, []string{"--addr", "127.0.0.1:9000"}, "http://localhost:9000"},
		{"any free port", env{}, []string{"--addr", "127.0.0.1:0"}, "http://localhost:8080"},
		{"issuer set", env{"KANGROW_ISSUER": "http://auth.test:8080"}, []string{"--addr", ":9000"}, "http://auth.test:8080"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			a := &app{getenv: tc.env.getenv}
			root := a.rootCmd()
			if err := root.PersistentFlags().Parse(append([]string{"--database-url", db}, tc.args...)); err != nil {
				t.Fatal(err)
			}
			cfg, err := a.serveConfig(true)
			if err != nil {
				t.Fatal(err)
			}
			if cfg.Issuer != tc.want {
				t.Errorf("issuer = %q, want %q", cfg.Issuer, tc.want)
			}
		})
	}
}
