// Package cli is the syncer command line: the commands users type, their flags and usage,
// output tables and exit codes (the only package that knows them), and the demo and
// fake-engage wiring.
package cli

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"slices"
	"strings"
	"syscall"
	"text/tabwriter"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/evsync/evsync/internal/config"
	"github.com/evsync/evsync/internal/oneline"
)

// Exit codes, as in the CLI contract.
const (
	exitOK      = 0
	exitFailed  = 1
	exitUsage   = 2
	exitPartial = 3
	exitLocked  = 4
)

// Main runs the syncer command line with args (without the program name) and environ (the
// whole environment, in os.Environ's form) and returns the process's exit code; ctx is
// canceled by the stop signals (StopSignals).
func Main(ctx context.Context, args, environ []string, stdout, stderr io.Writer) int {
	return exitCode(run(ctx, args, environ, stdout, stderr), stderr)
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

// exitOf is the exit code of a command that returned err: 0 for nil, an exitError's code,
// else 1.
func exitOf(err error) int {
	if err == nil {
		return exitOK
	}
	var ee *exitError
	if errors.As(err, &ee) {
		return ee.code
	}
	return exitFailed
}

// exitCode is exitOf(err), after printing err on stderr unless it is nil or an exitError
// without a message.
func exitCode(err error, stderr io.Writer) int {
	code := exitOf(err)
	if ee := (*exitError)(nil); err == nil || (errors.As(err, &ee) && ee.err == nil) {
		return code
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

// mainCommands is the order of the commands in the main usage: a sync, the daemon and the
// schema first, the tools after. A command missing from it comes last.
var mainCommands = []string{"sync", "backfill", "run", "migrate", "status", "check", "demo", "fake-engage",
	"config", "healthcheck", "tables", "completion", "version"}

// mainUsage is syncer's own usage: its visible commands (in mainCommands' order) with their
// Short, and the global flags (root's persistent flags, in the order added, and --help) with
// their usage.
func mainUsage(root *cobra.Command) string {
	var b strings.Builder
	b.WriteString("Usage: syncer [--config FILE] COMMAND [flags]\n\n" +
		"Keeps a Postgres copy of a RingCentral Engage Voice contact center's admin data.\n\n" +
		"Commands:\n")
	cmds := slices.Clone(root.Commands())
	slices.SortStableFunc(cmds, func(c, d *cobra.Command) int {
		return cmp.Compare(mainCommandRank(c), mainCommandRank(d))
	})
	tw := tabwriter.NewWriter(&b, 0, 0, 3, ' ', 0)
	for _, c := range cmds {
		if c.IsAvailableCommand() { // not hidden, deprecated or "help" (the usage itself)
			_, _ = fmt.Fprintf(tw, "  %s\t%s\n", c.Name(), c.Short) // a strings.Builder does not fail
		}
	}
	_ = tw.Flush()
	b.WriteString("\nGlobal flags:\n")
	tw = tabwriter.NewWriter(&b, 0, 0, 4, ' ', 0)
	root.PersistentFlags().VisitAll(func(f *pflag.Flag) {
		if f.Hidden {
			return
		}
		left := "  --" + f.Name
		placeholder, text := pflag.UnquoteUsage(f)
		if placeholder != "" {
			left += " " + placeholder
		}
		if d := flagDefault(f); d != "" {
			text += " (default " + d + ")"
		}
		_, _ = fmt.Fprintf(tw, "%s\t%s\n", left, text)
	})
	_, _ = fmt.Fprintf(tw, "  --help\t%s\n", `this help; "syncer help COMMAND" for a command's flags`)
	_ = tw.Flush()
	b.WriteString("\nExit codes: 0 succeeded, 1 failed, 2 usage or config error, 3 partial, 4 another run holds the lock.\n")
	return b.String()
}

// mainCommandRank is c's place in mainCommands; len(mainCommands) when it has none.
func mainCommandRank(c *cobra.Command) int {
	if i := slices.Index(mainCommands, c.Name()); i >= 0 {
		return i
	}
	return len(mainCommands)
}

// run is the whole program: it parses args, loads config and runs a command.
func run(ctx context.Context, args, environ []string, stdout, stderr io.Writer) error {
	root := newRoot(&app{stdout: stdout, stderr: stderr, environ: environ})
	if args == nil {
		args = []string{} // cobra would read os.Args instead
	}
	root.SetArgs(args)
	return root.ExecuteContext(ctx)
}

// newRoot returns the syncer command, with its commands running on a (a's config is loaded
// by the commands that need one, see withConfig).
func newRoot(a *app) *cobra.Command {
	var showVersion bool
	root := &cobra.Command{
		Use: "syncer",
		// A word that names no command reaches RunE, which reports it.
		Args: cobra.ArbitraryArgs,
		// exitCode prints an error, one line per problem, and picks the exit code.
		SilenceErrors:     true,
		SilenceUsage:      true,
		CompletionOptions: cobra.CompletionOptions{DisableDefaultCmd: true},
		PersistentPreRunE: func(*cobra.Command, []string) error {
			if !showVersion {
				return nil
			}
			if err := writeVersion(a); err != nil {
				return err
			}
			return &exitError{code: exitOK} // the version is all that was asked for
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			_, _ = fmt.Fprint(a.stderr, mainUsage(cmd))
			if len(args) == 0 {
				return usageErr("no command given")
			}
			return unknownCommand(cmd, args[0])
		},
		SuggestionsMinimumDistance: 2,
	}
	root.SetOut(a.stdout)
	root.SetErr(a.stderr)
	root.PersistentFlags().StringVar(&a.configPath, "config", "", "YAML configuration `FILE` (see config.example.yaml); EVSYNC_* variables override it")
	a.logFlags.add(root)
	root.PersistentFlags().BoolVar(&showVersion, "version", false, "print the version")
	// The main usage lists the global flags in the order added (a command's help, sorted).
	root.PersistentFlags().SortFlags = false
	// Before the command's name, only the global flags: "syncer bogus --dry-run" is an
	// unknown command, not an unknown flag.
	root.Flags().SetInterspersed(false)
	// Help that was asked for goes to stdout; the usage that comes with a usage error, to
	// stderr.
	root.SetHelpFunc(func(cmd *cobra.Command, _ []string) { _, _ = fmt.Fprint(cmd.OutOrStdout(), usage(cmd)) })
	root.SetUsageFunc(func(cmd *cobra.Command) error {
		_, err := fmt.Fprint(cmd.ErrOrStderr(), usage(cmd))
		return err
	})
	root.SetFlagErrorFunc(flagError)
	root.SetHelpCommand(newHelpCmd(a))
	root.AddCommand(newSyncCmd(a), newBackfillCmd(a), newRunCmd(a), newMigrateCmd(a), newStatusCmd(a),
		newDemoCmd(a), newFakeEngageCmd(a), newConfigCmd(a), newCheckCmd(a), newTablesCmd(a))
	root.AddCommand(newHealthcheckCmd(a), newCompletionCmd(a), newVersionCmd(a))
	completeFlagValues(root)
	return root
}

// usage is cmd's usage: mainUsage for syncer itself; a command's usage line, its Long
// description, and its flags.
func usage(cmd *cobra.Command) string {
	if !cmd.HasParent() {
		return mainUsage(cmd)
	}
	var b strings.Builder
	fmt.Fprintf(&b, "Usage: syncer [--config FILE] %s\n\n", cmd.Use)
	if cmd.Long != "" {
		fmt.Fprintf(&b, "%s\n\n", cmd.Long)
	}
	fmt.Fprintf(&b, "Flags:\n%s", flagUsages(cmd.LocalFlags()))
	if global := flagUsages(cmd.InheritedFlags()); global != "" {
		fmt.Fprintf(&b, "\nGlobal flags:\n%s", global)
	}
	return b.String()
}

// withConfig returns a command's RunE that loads and validates the configuration (exit 2 when
// it cannot) into a, then runs body.
func (a *app) withConfig(body func(cmd *cobra.Command, args []string) error) func(*cobra.Command, []string) error {
	return func(cmd *cobra.Command, args []string) error {
		cfg, err := a.loadConfig()
		if err != nil {
			return err
		}
		a.cfg = cfg
		return body(cmd, args)
	}
}

// loadConfig loads the configuration (--config and the environment), applies the
// --log-level and --log-format flags and validates it: a usage error (exit 2) when it cannot.
func (a *app) loadConfig() (config.Config, error) {
	cfg, err := config.Load(a.configPath, a.environ)
	if err == nil {
		a.logFlags.apply(&cfg)
		err = cfg.Validate()
	}
	if err != nil {
		return config.Config{}, &exitError{code: exitUsage, err: err}
	}
	return cfg, nil
}

// noArgs refuses any argument: a command that takes none names the first one (exit 2).
func noArgs(cmd *cobra.Command, args []string) error {
	if len(args) > 0 {
		return usageErr("%s: unexpected argument %q", cmd.Name(), args[0])
	}
	return nil
}

// app is what every command shares: the loaded config and the output streams.
type app struct {
	configPath string   // --config
	logFlags   logFlags // --log-level, --log-format
	cfg        config.Config
	stdout     io.Writer
	stderr     io.Writer
	environ    []string // the whole environment, for config.Load and getenv
	logger     *slog.Logger
}

// getenv is the variable key of a's environment ("" when unset, as without one).
func (a *app) getenv(key string) string { return config.GetenvFunc(a.environ)(key) }

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

// setupLogger builds the slog logger from log.level and log.format (which loadConfig set
// from the flags that override them).
func (a *app) setupLogger() *slog.Logger {
	a.logger = newLogger(a.cfg, a.stderr)
	return a.logger
}
