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
	err := errors.New("unknown command \"serv\" for \"kangrow-auth\"\n\nDid you mean this?\n\tserve\n")
	if got, want := oneLine(err), `unknown command "serv" for "kangrow-auth" Did you mean this? serve`; got != want {
		t.Errorf("oneLine = %q, want %q", got, want)
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
