package cli

import (
	"slices"
	"strings"

	"github.com/spf13/cobra"

	"github.com/evsync/evsync/internal/entity"
)

// completionShells are the shells `syncer completion` writes a script for.
var completionShells = []string{"bash", "zsh", "fish", "powershell"}

// newCompletionCmd is "syncer completion SHELL": cobra's completion script for the shell, on
// stdout. The script asks syncer itself (its hidden __complete command) for the commands,
// flags and flag values.
func newCompletionCmd(a *app) *cobra.Command {
	return &cobra.Command{
		Use:   "completion bash|zsh|fish|powershell",
		Short: "print the shell completion script for bash, zsh, fish or powershell",
		Long: "Load it in the current shell, or install it for every new one:\n" +
			"  bash:  source <(syncer completion bash)\n" +
			"         syncer completion bash > /etc/bash_completion.d/syncer\n" +
			"  zsh:   source <(syncer completion zsh)\n" +
			"         syncer completion zsh > \"${fpath[1]}/_syncer\"\n" +
			"  fish:  syncer completion fish > ~/.config/fish/completions/syncer.fish",
		ValidArgs: completionShells,
		Args:      completionArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			root, o := cmd.Root(), &output{w: a.stdout}
			switch args[0] {
			case "bash":
				_ = root.GenBashCompletionV2(o, true)
			case "zsh":
				_ = root.GenZshCompletion(o)
			case "fish":
				_ = root.GenFishCompletion(o, true)
			case "powershell":
				_ = root.GenPowerShellCompletionWithDesc(o)
			}
			return o.done("the completion script")
		},
	}
}

// completionArgs accepts exactly one argument, a shell completion knows.
func completionArgs(_ *cobra.Command, args []string) error {
	want := strings.Join(completionShells, ", ")
	switch {
	case len(args) == 0:
		return usageErr("completion: name the shell (one of %s)", want)
	case len(args) > 1:
		return usageErr("completion: unexpected argument %q (expected one shell)", args[1])
	case !slices.Contains(completionShells, args[0]):
		return usageErr("completion: unknown shell %q (expected one of %s)", args[0], want)
	}
	return nil
}

// completeFlagValues registers the shell completion of the flag values that syncer knows
// without a config: --config (YAML files) and, on every command that has it, --entities.
// (--tenant names are the config's: not completed.)
func completeFlagValues(root *cobra.Command) {
	_ = root.MarkPersistentFlagFilename("config", "yaml", "yml")
	for _, cmd := range root.Commands() {
		if cmd.Flags().Lookup("entities") != nil {
			_ = cmd.RegisterFlagCompletionFunc("entities", completeEntities)
		}
	}
}

// completeEntities completes the last element of a comma-separated entity list with the
// entities not yet in it.
func completeEntities(_ *cobra.Command, _ []string, toComplete string) ([]string, cobra.ShellCompDirective) {
	i := strings.LastIndex(toComplete, ",")
	given := strings.Split(toComplete[:i+1], ",")
	var out []string
	for _, e := range entity.Names() {
		if !slices.Contains(given, string(e)) {
			out = append(out, toComplete[:i+1]+string(e))
		}
	}
	return out, cobra.ShellCompDirectiveNoFileComp | cobra.ShellCompDirectiveNoSpace
}
