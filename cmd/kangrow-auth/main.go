// Command kangrow-auth is the KanGrow Auth OAuth 2.0 / OpenID Connect provider and its admin command line.
//
// This is the only package that reads flags and environment, opens the database and wires the other
// packages together. Its entry point for tests is run; main only adds the process around it.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"unicode"
	"unicode/utf8"

	"github.com/spf13/cobra"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	go func() {
		// After the first signal starts a graceful shutdown, a second one ends the process at once.
		<-ctx.Done()
		stop()
	}()
	err := run(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr)
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "kangrow-auth: "+oneLine(err))
		os.Exit(1)
	}
}

// run executes the command line args (without the program name). It reads the environment only through
// getenv and writes only to stdout and stderr, so tests call it in-process. It returns when the command
// is done or, for serve, when ctx is cancelled and the server has shut down.
func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) (err error) {
	defer func() {
		// A bug must still end as one line, not a stack trace (STYLE.md, DESIGN.md "Configuration").
		if r := recover(); r != nil {
			err = fmt.Errorf("internal error: %v", r)
		}
	}()
	a := &app{getenv: getenv, stdout: stdout, stderr: stderr}
	root := a.rootCmd()
	root.SetArgs(args)
	root.SetOut(stdout)
	root.SetErr(stderr)
	root.SetIn(strings.NewReader(""))
	return root.ExecuteContext(ctx)
}

// app holds what every command shares: the process's environment, its outputs and the global flags.
type app struct {
	getenv         func(string) string
	stdout, stderr io.Writer
	global         *globalFlags
}

func (a *app) rootCmd() *cobra.Command {
	root := &cobra.Command{
		Use:   "kangrow-auth",
		Short: "KanGrow Auth: an OAuth 2.0 and OpenID Connect provider",
		Long: "KanGrow Auth is an OAuth 2.0 / OpenID Connect provider in one binary.\n\n" +
			"Configuration: flag > environment (KANGROW_*) > YAML file (--config or KANGROW_CONFIG) > default.",
		Args: noArgs,
		// The root command alone prints its help; that is not an error.
		RunE: func(cmd *cobra.Command, _ []string) error { return cmd.Help() },
		// Errors are printed once, as one line, by main; usage is for --help, not for runtime errors.
		SilenceUsage:      true,
		SilenceErrors:     true,
		CompletionOptions: cobra.CompletionOptions{DisableDefaultCmd: true},
	}
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return err })
	a.global = addGlobalFlags(root)
	root.AddCommand(
		a.serveCmd(),
		a.migrateCmd(),
		a.clientsCmd(),
		a.usersCmd(),
		a.keysCmd(),
		a.versionCmd(),
	)
	return root
}

// group makes a command that only holds subcommands. Run without one, or with an unknown one, it fails
// with one line instead of printing its help and exiting 0.
func group(use, short string, subs ...*cobra.Command) *cobra.Command {
	names := make([]string, 0, len(subs))
	for _, s := range subs {
		names = append(names, s.Name())
	}
	c := &cobra.Command{
		Use:   use,
		Short: short,
		Args:  noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return fmt.Errorf("%s needs a command: %s", path(cmd), strings.Join(names, ", "))
		},
	}
	c.AddCommand(subs...)
	return c
}

// noArgs rejects positional arguments, naming the first as an unknown command (with cobra's
// suggestion for a near miss, as in "serv").
func noArgs(cmd *cobra.Command, args []string) error {
	if len(args) == 0 {
		return nil
	}
	msg := fmt.Sprintf("unknown command %q for %q", args[0], cmd.CommandPath())
	if s := cmd.SuggestionsFor(args[0]); len(s) > 0 {
		msg += fmt.Sprintf(" (did you mean %q?)", s[0])
	}
	return errors.New(msg)
}

// path is the command's path without the program name: "clients get".
func path(cmd *cobra.Command) string {
	p := cmd.CommandPath()
	if r := cmd.Root(); r != cmd {
		p = strings.TrimPrefix(p, r.Name()+" ")
	}
	return p
}

// exactArgs wants exactly the named positional arguments, as in exactArgs("ID").
func exactArgs(names ...string) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if len(args) != len(names) {
			return fmt.Errorf("%s needs %s (got %d arguments)", path(cmd), strings.Join(names, " "), len(args))
		}
		return nil
	}
}

// checkText refuses a value that is not plain text: invalid UTF-8 (PostgreSQL refuses it in text
// columns and queries; SQLite would store it as it is) or a control character (NUL, tab, CR, LF, DEL,
// C1), which no name, email or ID we store may contain. name is the flag or argument, as in "--name".
func checkText(name, value string) error {
	if !utf8.ValidString(value) {
		return fmt.Errorf("%s: not valid UTF-8", name)
	}
	if i := strings.IndexFunc(value, unicode.IsControl); i >= 0 {
		r, _ := utf8.DecodeRuneInString(value[i:])
		return fmt.Errorf("%s: must not contain control characters (found %U)", name, r)
	}
	return nil
}

// Limits of an error line: a word longer than maxWordLen bytes (a pasted token, a 100 KB argument) is
// cut to its first keepWordLen bytes and its length, so the line stays short and still says which
// value it was about; a line that is still longer than maxLineLen is cut too.
const (
	maxWordLen  = 120
	keepWordLen = 60
	maxLineLen  = 2000
)

// oneLine turns an error into a single, short line for the terminal: errors from deep down (drivers,
// cobra's suggestions) sometimes carry newlines, and errors that quote an argument can be as long as
// the argument.
func oneLine(err error) string {
	words := strings.Fields(err.Error())
	for i, w := range words {
		if len(w) > maxWordLen {
			words[i] = shorten(w, keepWordLen)
		}
	}
	line := strings.Join(words, " ")
	if len(line) > maxLineLen {
		line = shorten(line, maxLineLen/2)
	}
	return line
}

// shorten cuts s to at most n bytes, without splitting a UTF-8 sequence, and says how long s was:
// "aaaa…(1048576 bytes)".
func shorten(s string, n int) string {
	cut := n
	for cut > 0 && cut < len(s) && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + fmt.Sprintf("…(%d bytes)", len(s))
}
