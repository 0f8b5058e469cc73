package cli

import (
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/spf13/cobra"
)

// Output formats of --output. Every command that has the flag writes text by default; each
// other format is one documented object (docs/output.md) with stable snake_case keys, for cron
// wrappers and CI.
const (
	formatText     = "text"
	formatJSON     = "json"
	formatMarkdown = "markdown"
)

// formatFlag is a command's --output: one of the formats it offers, checked when parsed (an
// unknown one is a usage error naming the flag and the formats).
type formatFlag struct {
	value   string
	allowed []string
}

// addFormatFlag gives cmd an --output flag offering text and formats (text is the default),
// with shell completion of its values, and returns it.
func addFormatFlag(cmd *cobra.Command, formats ...string) *formatFlag {
	f := &formatFlag{value: formatText, allowed: append([]string{formatText}, formats...)}
	cmd.Flags().Var(f, "output", "output format: "+strings.Join(f.allowed, "|"))
	_ = cmd.RegisterFlagCompletionFunc("output", func(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective) {
		return f.allowed, cobra.ShellCompDirectiveNoFileComp
	})
	return f
}

func (f *formatFlag) String() string { return f.value }

// Set accepts one of the formats offered.
func (f *formatFlag) Set(v string) error {
	if !slices.Contains(f.allowed, v) {
		return fmt.Errorf("must be one of %s, got %q", strings.Join(f.allowed, ", "), v)
	}
	f.value = v
	return nil
}

// Type is the placeholder the flag's help shows.
func (f *formatFlag) Type() string { return "FORMAT" }

// is reports whether the chosen format is format.
func (f *formatFlag) is(format string) bool { return f != nil && f.value == format }

// writeJSON writes v to w as one indented JSON document and a newline: a command's whole
// --output json answer.
func writeJSON(w io.Writer, what string, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	if err := enc.Encode(v); err != nil {
		return fmt.Errorf("writing %s: %w", what, err)
	}
	return nil
}
