package cli

import (
	"encoding/json"
	"fmt"
	"io"
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
// unknown one is a usage error naming the flag, the value and the formats).
type formatFlag = choiceFlag

// addFormatFlag gives cmd an --output flag offering text and formats (text is the default),
// with shell completion of its values, and returns it.
func addFormatFlag(cmd *cobra.Command, formats ...string) *formatFlag {
	f := &formatFlag{value: formatText, allowed: append([]string{formatText}, formats...), placeholder: "FORMAT"}
	addChoiceFlag(cmd, cmd.Flags(), f, "output", "output format: "+strings.Join(f.allowed, "|"))
	return f
}

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
