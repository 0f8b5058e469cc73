package cli

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/evsync/evsync/internal/suggest"
)

// unknownCommand is the usage error of a word that names no command of root, with the
// nearest command's name when one is close (cobra's SuggestionsFor).
func unknownCommand(root *cobra.Command, name string) error {
	if s := root.SuggestionsFor(name); len(s) > 0 {
		return usageErr("unknown command %q (did you mean %q?)", name, s[0])
	}
	return usageErr("unknown command %q", name)
}

// flagError is the usage error of a flag that cmd could not parse: one line naming the
// command, what pflag found wrong, and the nearest flag of cmd when the flag is unknown
// (else where to see the flags).
func flagError(cmd *cobra.Command, err error) error {
	prefix, see := "", "syncer --help"
	if cmd.HasParent() {
		prefix, see = cmd.Name()+": ", cmd.CommandPath()+" --help"
	}
	if s := flagSuggestion(cmd, err); s != "" {
		return usageErr("%s%v (did you mean --%s?)", prefix, err, s)
	}
	return usageErr("%s%v (see %s)", prefix, err, see)
}

// flagSuggestion is the name of cmd's flag (its own or inherited) nearest to the unknown
// flag err names, or "" when err names no unknown flag or none is close. A long flag
// written with one dash ("-dry-run") gets its two-dash spelling.
func flagSuggestion(cmd *cobra.Command, err error) string {
	var ne *pflag.NotExistError
	if !errors.As(err, &ne) {
		return ""
	}
	var names []string
	cmd.Flags().VisitAll(func(f *pflag.Flag) {
		if !f.Hidden {
			names = append(names, f.Name)
		}
	})
	if short := ne.GetSpecifiedShortnames(); short != "" {
		short, _, _ = strings.Cut(short, "=")
		if f := cmd.Flags().Lookup(short); f != nil && !f.Hidden {
			return short
		}
		return ""
	}
	name, _, _ := strings.Cut(ne.GetSpecifiedName(), "=")
	return suggest.Closest(name, names)
}

// newHelpCmd is "syncer help [COMMAND]": the main usage, or the named command's help, on
// stdout.
func newHelpCmd(a *app) *cobra.Command {
	return &cobra.Command{
		Use:                "help [COMMAND]",
		Short:              "print this help, or a command's",
		Args:               cobra.ArbitraryArgs,
		DisableFlagParsing: true, // "syncer help sync --bogus" is sync's help
		RunE: func(cmd *cobra.Command, args []string) error {
			target, err := helpTarget(cmd.Root(), args)
			if err != nil {
				return err
			}
			target.InitDefaultHelpFlag() // cobra adds it to the command that runs only
			if _, err := fmt.Fprint(a.stdout, usage(target)); err != nil {
				return fmt.Errorf("writing the usage: %w", err)
			}
			return nil
		},
	}
}

// helpTarget is the command that the words of args name under root, flags and their values
// skipped (args holds the global flags before "help" too): root itself for none, else the
// deepest command named (the words after it are its arguments). A first word that names no
// command is a usage error.
func helpTarget(root *cobra.Command, args []string) (*cobra.Command, error) {
	target := root
	for i := 0; i < len(args); i++ {
		arg := args[i]
		if strings.HasPrefix(arg, "-") {
			if takesValue(target, arg) {
				i++
			}
			continue
		}
		sub := subcommand(target, arg)
		if sub == nil {
			if target == root {
				return nil, unknownCommand(root, arg)
			}
			break
		}
		target = sub
	}
	return target, nil
}

// takesValue reports whether arg, a flag written without "=value", is one of cmd's flags (its
// own or inherited) that takes the next argument as its value.
func takesValue(cmd *cobra.Command, arg string) bool {
	if strings.Contains(arg, "=") || arg == "--" {
		return false
	}
	var f *pflag.Flag
	if name, ok := strings.CutPrefix(arg, "--"); ok {
		f = lookupFlag(cmd, name)
	} else if len(arg) == 2 {
		for _, fs := range []*pflag.FlagSet{cmd.Flags(), cmd.PersistentFlags(), cmd.InheritedFlags()} {
			if f == nil {
				f = fs.ShorthandLookup(arg[1:])
			}
		}
	}
	return f != nil && f.NoOptDefVal == ""
}

// lookupFlag is cmd's flag named name, its own or inherited, or nil.
func lookupFlag(cmd *cobra.Command, name string) *pflag.Flag {
	for _, fs := range []*pflag.FlagSet{cmd.Flags(), cmd.PersistentFlags(), cmd.InheritedFlags()} {
		if f := fs.Lookup(name); f != nil {
			return f
		}
	}
	return nil
}

// subcommand is cmd's command named name (or one of its aliases), or nil.
func subcommand(cmd *cobra.Command, name string) *cobra.Command {
	for _, c := range cmd.Commands() {
		if c.Name() == name || c.HasAlias(name) {
			return c
		}
	}
	return nil
}

// flagUsages lists the flags of fs that are not hidden, sorted, one a line: the flag with its
// shorthand and its value's placeholder (none for a switch), then its usage and its default
// unless that is the zero value. (pflag's FlagUsages writes "--dry-run[=true|false]".)
func flagUsages(fs *pflag.FlagSet) string {
	var b strings.Builder
	tw := tabwriter.NewWriter(&b, 0, 0, 3, ' ', 0)
	fs.VisitAll(func(f *pflag.Flag) {
		if f.Hidden {
			return
		}
		left := "      --" + f.Name
		if f.Shorthand != "" {
			left = "  -" + f.Shorthand + ", --" + f.Name
		}
		placeholder, text := pflag.UnquoteUsage(f)
		if placeholder != "" {
			left += " " + placeholder
		}
		if d := flagDefault(f); d != "" {
			text += " (default " + d + ")"
		}
		_, _ = fmt.Fprintf(tw, "%s\t%s\n", left, text) // a strings.Builder does not fail
	})
	_ = tw.Flush()
	return b.String()
}

// flagDefault is f's default as its usage shows it: quoted for a string, "" for a zero value.
func flagDefault(f *pflag.Flag) string {
	switch f.DefValue {
	case "", "false", "0", "0s", "[]":
		return ""
	}
	if f.Value.Type() == "string" {
		return strconv.Quote(f.DefValue)
	}
	return f.DefValue
}
