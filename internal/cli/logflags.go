package cli

import (
	"fmt"
	"slices"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/evsync/evsync/internal/config"
)

// logLevels and logFormats are the values of --log-level and --log-format: those of
// log.level (config.ParseLevel) and log.format.
var (
	logLevels  = []string{"debug", "info", "warn", "error"}
	logFormats = []string{"auto", "text", "json"}
)

// logFlags are the global --log-level and --log-format: when given, they override log.level
// and log.format of the config file and the environment.
type logFlags struct {
	level  choiceFlag
	format choiceFlag
}

// add gives root the persistent --log-level and --log-format flags, with shell completion of
// their values.
func (f *logFlags) add(root *cobra.Command) {
	f.level = choiceFlag{allowed: logLevels, placeholder: "LEVEL", valid: func(v string) bool {
		_, err := config.ParseLevel(v)
		return err == nil
	}}
	f.format = choiceFlag{allowed: logFormats, placeholder: "FORMAT"}
	addChoiceFlag(root, root.PersistentFlags(), &f.level, "log-level", "log level: "+strings.Join(logLevels, "|")+"; overrides log.level")
	addChoiceFlag(root, root.PersistentFlags(), &f.format, "log-format", "log format: "+strings.Join(logFormats, "|")+"; overrides log.format")
}

// apply sets c's log.level and log.format to the flags that were given.
func (f *logFlags) apply(c *config.Config) {
	if f.level.value != "" {
		c.Log.Level = f.level.value
	}
	if f.format.value != "" {
		c.Log.Format = f.format.value
	}
}

// choiceFlag is a flag whose value is one of a few words, checked when parsed: another is a
// usage error naming the flag, the value and the words. Its value is its default ("" unless
// set before it is added) until it is given.
type choiceFlag struct {
	value       string
	allowed     []string
	placeholder string
	valid       func(string) bool // nil: the allowed words
}

// addChoiceFlag adds f to fs (cmd's flags or persistent flags) as name, with shell completion
// of its allowed words.
func addChoiceFlag(cmd *cobra.Command, fs *pflag.FlagSet, f *choiceFlag, name, usage string) {
	fs.Var(f, name, usage)
	_ = cmd.RegisterFlagCompletionFunc(name, func(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective) {
		return f.allowed, cobra.ShellCompDirectiveNoFileComp
	})
}

func (f *choiceFlag) String() string { return f.value }

// is reports whether the flag's value is v.
func (f *choiceFlag) is(v string) bool { return f != nil && f.value == v }

// Set accepts one of the allowed words.
func (f *choiceFlag) Set(v string) error {
	ok := slices.Contains(f.allowed, v)
	if f.valid != nil {
		ok = f.valid(v)
	}
	if !ok {
		return fmt.Errorf("must be one of %s", strings.Join(f.allowed, ", "))
	}
	f.value = v
	return nil
}

// Type is the placeholder the flag's help shows.
func (f *choiceFlag) Type() string { return f.placeholder }
