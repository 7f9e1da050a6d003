package main

import (
	"bytes"
	"errors"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

func TestUnknownFlagAndCommand(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"unknown global flag", []string{"--foo"}, "unknown flag: --foo"},
		{"unknown subcommand flag", []string{"migrate", "up", "--foo"}, "unknown flag: --foo"},
		{"unknown shorthand", []string{"serve", "-x"}, "unknown shorthand flag: 'x' in -x"},
		{"unknown command", []string{"frobnicate"}, `unknown command "frobnicate" for "kangrow-auth"`},
		{"near miss", []string{"serv"}, `unknown command "serv" for "kangrow-auth" (did you mean "serve"?)`},
		{"group without command", []string{"clients"}, "clients needs a command: create, list, get, delete"},
		{"missing argument", []string{"users", "get"}, "users get needs ID_OR_EMAIL (got 0 arguments)"},
		{"keys without command", []string{"keys"}, "keys needs a command: list, rotate"},
		{"flag without value", []string{"serve", "--addr"}, "flag needs an argument: --addr"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			out, errOut, err := runCmd(t, env{}, tc.args...)
			if err == nil || oneLine(err) != tc.want {
				t.Errorf("err = %v, want %q", err, tc.want)
			}
			if out != "" || errOut != "" {
				t.Errorf("printed stdout %q stderr %q; want nothing (no usage dump)", out, errOut)
			}
		})
	}
}

func TestHelpAndVersion(t *testing.T) {
	t.Parallel()
	out := mustRun(t, env{}, "--help")
	for _, cmd := range []string{"serve", "migrate", "clients", "users", "version"} {
		if !strings.Contains(out, cmd) {
			t.Errorf("--help does not list %s:\n%s", cmd, out)
		}
	}
	if strings.Contains(out, "completion") {
		t.Errorf("--help lists a completion command that DESIGN.md does not have:\n%s", out)
	}
	if out := mustRun(t, env{}, "version"); !strings.HasPrefix(out, "kangrow-auth ") {
		t.Errorf("version printed %q", out)
	}
}

func TestOneLine(t *testing.T) {
	t.Parallel()
	long := strings.Repeat("a", 1<<20)
	tests := []struct {
		name, err, want string
	}{
		{"newlines and tabs collapse", "unknown command \"serv\" for \"kangrow-auth\"\n\nDid you mean this?\n\tserve\n",
			`unknown command "serv" for "kangrow-auth" Did you mean this? serve`},
		{"a word of 120 bytes is kept", "x " + strings.Repeat("b", 120) + " y", "x " + strings.Repeat("b", 120) + " y"},
		{"a word of 121 bytes is cut", "x " + strings.Repeat("b", 121) + " y", "x " + strings.Repeat("b", 60) + "…(121 bytes) y"},
		{"a 1 MB argument", `unknown command "` + long + `" for "kangrow-auth"`,
			`unknown command "` + strings.Repeat("a", 59) + `…(1048578 bytes) for "kangrow-auth"`},
		{"a 100 KB flag value", "--steps: invalid value " + long[:100<<10],
			"--steps: invalid value " + strings.Repeat("a", 60) + "…(102400 bytes)"},
		{"no cut inside a UTF-8 sequence", strings.Repeat("a", 59) + strings.Repeat("é", 100),
			strings.Repeat("a", 59) + "…(259 bytes)"},
		{"invalid UTF-8 is cut by bytes", strings.Repeat("\xff", 200), strings.Repeat("\xff", 60) + "…(200 bytes)"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := oneLine(errors.New(tc.err)); got != tc.want {
				t.Errorf("oneLine = %q, want %q", excerpt(got, 300), excerpt(tc.want, 300))
			}
		})
	}
	t.Run("many short words stay one short line", func(t *testing.T) {
		got := oneLine(errors.New(strings.Repeat("ab ", 50<<10)))
		if len(got) > maxLineLen || strings.ContainsAny(got, "\n\r\t") || !strings.HasSuffix(got, "…(153599 bytes)") {
			t.Errorf("oneLine = %q (%d bytes)", excerpt(got, 100), len(got))
		}
	})
}

func TestCheckText(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, value, want string // want "" for accepted
	}{
		{"plain", "Ada Lovelace", ""},
		{"empty", "", ""},
		{"non-ASCII", "Ünïcödé 名前 🔑", ""},
		{"leading and trailing spaces", "  Ada  ", ""},
		{"invalid UTF-8", "\xff\xfe", "--name: not valid UTF-8"},
		{"cut inside a rune", "Ad\xc3", "--name: not valid UTF-8"},
		{"NUL", "a\x00b", "--name: must not contain control characters (found U+0000)"},
		{"tab", "a\tb", "--name: must not contain control characters (found U+0009)"},
		{"LF", "a\nb", "--name: must not contain control characters (found U+000A)"},
		{"CR", "a\rb", "--name: must not contain control characters (found U+000D)"},
		{"escape", "\x1b[31mred", "--name: must not contain control characters (found U+001B)"},
		{"DEL", "a\x7f", "--name: must not contain control characters (found U+007F)"},
		{"C1 control", "a\u0085b", "--name: must not contain control characters (found U+0085)"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := checkText("--name", tc.value)
			switch {
			case tc.want == "" && err != nil:
				t.Errorf("checkText(%q) = %v, want accepted", tc.value, err)
			case tc.want != "" && (err == nil || err.Error() != tc.want):
				t.Errorf("checkText(%q) = %v, want %q", tc.value, err, tc.want)
			}
		})
	}
}

// TestBinary builds the real binary and checks what a user sees on a bad command line: exit status 1
// and one line on stderr, no usage dump and no stack trace.
func TestBinary(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	t.Parallel()
	goTool := filepath.Join(runtime.GOROOT(), "bin", "go")
	if p, err := exec.LookPath("go"); err == nil {
		goTool = p
	}
	bin := filepath.Join(t.TempDir(), "kangrow-auth")
	build := exec.Command(goTool, "build", "-o", bin, ".")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	tests := []struct {
		name     string
		args     []string
		env      []string
		wantCode int
		wantErr  string
	}{
		{"unknown flag", []string{"--foo"}, nil, 1, "kangrow-auth: unknown flag: --foo\n"},
		{"runtime error", []string{"clients", "list"}, nil, 1,
			"kangrow-auth: KANGROW_DATABASE_URL: not set (want postgres://user:pass@host:port/db or sqlite:PATH)\n"},
		{"bad setting", []string{"serve"}, []string{"KANGROW_DATABASE_URL=mysql://x/y"}, 1,
			"kangrow-auth: KANGROW_DATABASE_URL: unsupported scheme \"mysql\" (want postgres:// or sqlite:)\n"},
		{"version", []string{"version"}, nil, 0, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cmd := exec.Command(bin, tc.args...)
			cmd.Env = append([]string{"PATH=/usr/bin:/bin", "HOME=" + t.TempDir()}, tc.env...)
			var stdout, stderr bytes.Buffer
			cmd.Stdout, cmd.Stderr = &stdout, &stderr
			err := cmd.Run()
			code := 0
			var exit *exec.ExitError
			if errors.As(err, &exit) {
				code = exit.ExitCode()
			} else if err != nil {
				t.Fatal(err)
			}
			if code != tc.wantCode || stderr.String() != tc.wantErr {
				t.Errorf("exit %d, stderr %q; want exit %d, stderr %q", code, stderr.String(), tc.wantCode, tc.wantErr)
			}
			if strings.Contains(stderr.String(), "goroutine") || strings.Contains(stdout.String(), "Usage:") && code != 0 {
				t.Errorf("stack trace or usage dump: stdout %q stderr %q", stdout.String(), stderr.String())
			}
		})
	}
}
