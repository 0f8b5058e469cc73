// Package cli is the syncer command line: the commands users type, their flags and usage,
// output tables and exit codes (the only package that knows them), and the demo and
// fake-engage wiring.
package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"runtime/debug"
	"strings"
	"syscall"
	"text/tabwriter"

	"github.com/evsync/evsync/internal/config"
	"github.com/evsync/evsync/internal/oneline"
)

// version is set at build time with
// -ldflags "-X github.com/evsync/evsync/internal/cli.version=..."; otherwise it comes from the
// module's build info.
var version = ""

// Exit codes, as in the CLI contract.
const (
	exitOK      = 0
	exitFailed  = 1
	exitUsage   = 2
	exitPartial = 3
	exitLocked  = 4
)

// Main runs the syncer command line with args (without the program name) and returns the
// process's exit code; ctx is canceled by the stop signals (StopSignals).
func Main(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) int {
	return exitCode(run(ctx, args, getenv, stdout, stderr), stderr)
}

// StopSignals are the signals that end a command as cleanly as it can: `sync` cancels its run
// (recorded canceled, nothing published), `run` stops fetching jobs, cancels its runs and
// exits 0 within shutdown.grace_period. SIGHUP is one of them (it does not reload the
// configuration: restart the process for that), since its default action would kill the
// process mid-run, leaving the run recorded running and its River job blocked until rescued;
// unless the process was started with it ignored (nohup), which it keeps ignoring.
func StopSignals() []os.Signal {
	sigs := []os.Signal{os.Interrupt, syscall.SIGTERM}
	if !signal.Ignored(syscall.SIGHUP) {
		sigs = append(sigs, syscall.SIGHUP)
	}
	return sigs
}

// exitError carries an exit code; its message (if any) is printed as one line on stderr.
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string {
	if e.err == nil {
		return fmt.Sprintf("exit %d", e.code)
	}
	return e.err.Error()
}

func (e *exitError) Unwrap() error { return e.err }

func usageErr(format string, args ...any) error {
	return &exitError{code: exitUsage, err: fmt.Errorf(format, args...)}
}

func exitCode(err error, stderr io.Writer) int {
	if err == nil {
		return exitOK
	}
	code := exitFailed
	var ee *exitError
	if errors.As(err, &ee) {
		code = ee.code
		if ee.err == nil {
			return code
		}
	}
	if errors.Is(err, flag.ErrHelp) {
		return exitOK
	}
	for _, line := range problemLines(err) {
		_, _ = fmt.Fprintf(stderr, "syncer: %s\n", line) // stderr is the last place to report to
	}
	return code
}

// joinedError is what errors.Join returns.
type joinedError interface {
	error
	Unwrap() []error
}

// problemLines is err as one line per problem: each error an errors.Join holds (config
// validation reports several at once) on its own line, and each line folded and escaped by
// oneline.Of, so that text from upstream (an API error's message) can neither start a line
// of its own nor drive the terminal.
func problemLines(err error) []string {
	var j joinedError
	if errors.As(err, &j) && j.Error() == err.Error() { // a join, or one only wrapped (exitError)
		var lines []string
		for _, e := range j.Unwrap() {
			lines = append(lines, problemLines(e)...)
		}
		return lines
	}
	if line := oneline.Of(err.Error(), 0); line != "" {
		return []string{line}
	}
	return nil
}

func buildVersion() string {
	if version != "" {
		return version
	}
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
		return bi.Main.Version
	}
	return "dev"
}

const mainUsage = `Usage: syncer [--config FILE] COMMAND [flags]

Keeps a Postgres copy of a RingCentral Engage Voice contact center's admin data.

Commands:
  sync          run one sync now (backfill, or the entry point for an external cron)
  run           daemon: sync on schedule.cron, serve /healthz, /healthz/data, /readyz and /metrics
  migrate       apply (up), roll back one (down; --yes when it drops rows) or list (status) the migrations
  status        show the last runs and per-entity counts and freshness from the database
  demo          start a fake Engage Voice API with a generated tenant and sync it
  fake-engage   serve the fake Engage Voice + RingCentral API standalone
  config        print the effective configuration with secrets masked

Global flags:
  --config FILE   YAML configuration (see config.example.yaml); EVSYNC_* env vars override it
  --version       print the version
  --help          this help; "syncer COMMAND --help" for a command's flags

Exit codes: 0 succeeded, 1 failed, 2 usage or config error, 3 partial, 4 another run holds the lock.
`

// run is the whole program: it parses args, loads config and dispatches to a command.
func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("syncer", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { _, _ = fmt.Fprint(stderr, mainUsage) }
	configPath := fs.String("config", "", "YAML configuration file")
	showVersion := fs.Bool("version", false, "print the version")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return &exitError{code: exitUsage}
	}
	if *showVersion {
		if _, err := fmt.Fprintf(stdout, "syncer %s\n", buildVersion()); err != nil {
			return fmt.Errorf("writing the version: %w", err)
		}
		return nil
	}
	rest := fs.Args()
	if len(rest) == 0 {
		_, _ = fmt.Fprint(stderr, mainUsage)
		return usageErr("no command given")
	}
	cmd, cmdArgs := rest[0], rest[1:]
	if cmd == "help" {
		if _, err := fmt.Fprint(stdout, mainUsage); err != nil {
			return fmt.Errorf("writing the usage: %w", err)
		}
		return nil
	}
	if cmd == "fake-engage" {
		return cmdFakeEngage(ctx, cmdArgs, stdout, stderr)
	}
	commands := map[string]func(context.Context, *app, []string) error{
		"sync":    cmdSync,
		"run":     cmdRun,
		"migrate": cmdMigrate,
		"status":  cmdStatus,
		"demo":    cmdDemo,
		"config":  cmdConfig,
	}
	fn, ok := commands[cmd]
	if !ok {
		_, _ = fmt.Fprint(stderr, mainUsage)
		return usageErr("unknown command %q", cmd)
	}
	cfg, err := config.Load(*configPath, getenv)
	if err == nil {
		err = cfg.Validate()
	}
	if err != nil {
		return &exitError{code: exitUsage, err: err}
	}
	a := &app{cfg: cfg, stdout: stdout, stderr: stderr, getenv: getenv}
	return fn(ctx, a, cmdArgs)
}

// app is what every command shares: the loaded config and the output streams.
type app struct {
	cfg    config.Config
	stdout io.Writer
	stderr io.Writer
	getenv func(string) string
	logger *slog.Logger
}

// newFlagSet returns a command's flag set writing its usage to stderr.
func (a *app) newFlagSet(name, usage string) *flag.FlagSet {
	fs := flag.NewFlagSet("syncer "+name, flag.ContinueOnError)
	fs.SetOutput(a.stderr)
	fs.Usage = func() {
		_, _ = fmt.Fprintf(a.stderr, "Usage: syncer [--config FILE] %s\n\n", usage)
		fs.PrintDefaults()
	}
	return fs
}

// parseFlags parses a command's flags. --help prints the usage and exits 0; a bad flag or
// value exits 2 with one line naming the flag (the flag package would print its message and
// the whole usage).
func parseFlags(fs *flag.FlagSet, args []string) error {
	out, usage := fs.Output(), fs.Usage
	fs.SetOutput(io.Discard)
	fs.Usage = func() {}
	err := fs.Parse(args)
	fs.SetOutput(out)
	fs.Usage = usage
	switch {
	case err == nil:
		return nil
	case errors.Is(err, flag.ErrHelp):
		fs.Usage()
		return &exitError{code: exitOK}
	}
	return usageErr("%s: %v (see %s --help)", strings.TrimPrefix(fs.Name(), "syncer "), err, fs.Name())
}

// flagSet reports whether the flag name was given on the command line (an explicit empty
// value included).
func flagSet(fs *flag.FlagSet, name string) bool {
	set := false
	fs.Visit(func(f *flag.Flag) { set = set || f.Name == name })
	return set
}

// isTerminal reports whether w is a character device (a terminal).
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}

// output writes a command's output to w and keeps the first write error, so that a command
// prints everything and checks once, with done. After a failed write it writes nothing more.
type output struct {
	w   io.Writer
	err error
}

// Write writes p to o's writer unless an earlier write failed.
func (o *output) Write(p []byte) (int, error) {
	if o.err != nil {
		return 0, o.err
	}
	n, err := o.w.Write(p)
	o.err = err
	return n, err
}

// printf writes like fmt.Fprintf; o keeps the error.
func (o *output) printf(format string, args ...any) { _, _ = fmt.Fprintf(o, format, args...) }

// println writes like fmt.Fprintln; o keeps the error.
func (o *output) println(args ...any) { _, _ = fmt.Fprintln(o, args...) }

// table returns a table that aligns tab-separated cells into columns (padding 2) on o.
func (o *output) table(flags uint) table {
	return table{tabwriter.NewWriter(o, 0, 0, 2, ' ', flags)}
}

// done returns the first write error, naming what was being written, or nil.
func (o *output) done(what string) error {
	if o.err != nil {
		return fmt.Errorf("writing %s: %w", what, o.err)
	}
	return nil
}

// table is a tabwriter on an output. Its write errors are the output's, which keeps them, so
// its methods return none.
type table struct{ tw *tabwriter.Writer }

// printf writes cells like fmt.Fprintf.
func (t table) printf(format string, args ...any) { _, _ = fmt.Fprintf(t.tw, format, args...) }

// flush writes the aligned rows to the output.
func (t table) flush() { _ = t.tw.Flush() }

// setupLogger builds the slog logger from log.level and log.format.
func (a *app) setupLogger() *slog.Logger {
	a.logger = newLogger(a.cfg, a.stderr)
	return a.logger
}
