package cli

import (
	"slices"
	"strings"
	"testing"

	"github.com/evsync/evsync/internal/testing/fixture"
)

// A mistyped command or flag is a usage error (exit 2, one line) that names the nearest
// command or flag of the command, its inherited ones included.
func TestDidYouMean(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		args []string
		want string // the last stderr line, exactly
	}{
		{"command", []string{"synk"}, `syncer: unknown command "synk" (did you mean "sync"?)`},
		{"command prefix", []string{"mig"}, `syncer: unknown command "mig" (did you mean "migrate"?)`},
		{"command, flags after", []string{"stauts", "--runs", "3"}, `syncer: unknown command "stauts" (did you mean "status"?)`},
		{"command far from any", []string{"bogus"}, `syncer: unknown command "bogus"`},
		{"help topic", []string{"help", "synk"}, `syncer: unknown command "synk" (did you mean "sync"?)`},
		{"flag", []string{"sync", "--dry-rn"}, `syncer: sync: unknown flag: --dry-rn (did you mean --dry-run?)`},
		{"flag with a value", []string{"status", "--run=3"}, `syncer: status: unknown flag: --run (did you mean --runs?)`},
		{"inherited flag", []string{"sync", "--confg", "x.yaml"}, `syncer: sync: unknown flag: --confg (did you mean --config?)`},
		{"global flag", []string{"--log-levl", "debug"}, `syncer: unknown flag: --log-levl (did you mean --log-level?)`},
		{"one dash", []string{"sync", "-dry-run"}, `syncer: sync: unknown shorthand flag: 'd' in -dry-run (did you mean --dry-run?)`},
		{"flag far from any", []string{"sync", "--bogus"}, `syncer: sync: unknown flag: --bogus (see syncer sync --help)`},
		{"another command's flag", []string{"status", "--dry-run"}, `syncer: status: unknown flag: --dry-run (see syncer status --help)`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			code, stdout, stderr := runCLI(t, nil, tt.args...)
			if code != exitUsage || stdout != "" {
				t.Fatalf("exit %d, stdout %q; want %d and nothing\nstderr: %s", code, stdout, exitUsage, stderr)
			}
			lines := strings.Split(strings.TrimSuffix(stderr, "\n"), "\n")
			if last := lines[len(lines)-1]; last != tt.want {
				t.Errorf("last stderr line = %q, want %q", last, tt.want)
			}
		})
	}
}

// The global flags work after every command that reads the config as well as before it: a
// missing file named after the command is the error.
func TestGlobalFlagsAfterEachCommand(t *testing.T) {
	t.Parallel()
	missing := fixture.WriteFile(t, "here.yaml", "") + ".missing"
	for _, args := range [][]string{
		{"sync"}, {"backfill", "--since", "1d"}, {"run"}, {"migrate"}, {"migrate", "status"}, {"status"}, {"demo"}, {"config"}, {"check"}, {"healthcheck"},
	} {
		for _, where := range []string{"before", "after", "after, with ="} {
			var full []string
			switch where {
			case "before":
				full = append([]string{"--config", missing}, args...)
			case "after":
				full = append(slices.Clone(args), "--config", missing)
			default:
				full = append(slices.Clone(args), "--config="+missing)
			}
			t.Run(strings.Join(args, " ")+"/"+where, func(t *testing.T) {
				t.Parallel()
				code, stdout, stderr := runCLI(t, nil, full...)
				want := "syncer: config: reading " + missing + ": no such file or directory\n"
				if code != exitUsage || stderr != want || stdout != "" {
					t.Errorf("%q: exit %d, stdout %q, stderr %q; want %d and %q", full, code, stdout, stderr, exitUsage, want)
				}
			})
		}
	}
}

// `syncer completion SHELL` prints the shell's script; another shell, or none, is a usage
// error.
func TestCompletion(t *testing.T) {
	t.Parallel()
	tests := []struct {
		shell string
		want  string // in the script
	}{
		{"bash", "__start_syncer"},
		{"zsh", "#compdef syncer"},
		{"fish", "complete -c syncer"},
		{"powershell", "Register-ArgumentCompleter"},
	}
	for _, tt := range tests {
		t.Run(tt.shell, func(t *testing.T) {
			t.Parallel()
			code, stdout, stderr := runCLI(t, nil, "completion", tt.shell)
			if code != exitOK || stderr != "" || !strings.Contains(stdout, tt.want) {
				t.Errorf("exit %d, stderr %q, script has %q: %v; want 0, nothing, true", code, stderr, tt.want, strings.Contains(stdout, tt.want))
			}
		})
	}
	for args, want := range map[string]string{
		"tcsh":      `syncer: completion: unknown shell "tcsh" (expected one of bash, zsh, fish, powershell)`,
		"":          "syncer: completion: name the shell (one of bash, zsh, fish, powershell)",
		"bash fish": `syncer: completion: unexpected argument "fish" (expected one shell)`,
	} {
		code, stdout, stderr := runCLI(t, nil, append([]string{"completion"}, strings.Fields(args)...)...)
		if code != exitUsage || stdout != "" || stderr != want+"\n" {
			t.Errorf("completion %s: exit %d, stdout %q, stderr %q; want %d and %q", args, code, stdout, stderr, exitUsage, want)
		}
	}
}

// The scripts ask syncer (its hidden __complete command) for the commands, the flags and the
// values of the flags that have few.
func TestCompletionOfValues(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		args []string
		want []string // completions, in order
	}{
		{"commands", []string{"s"}, []string{"status", "sync"}},
		{"log levels", []string{"sync", "--log-level", ""}, logLevels},
		{"log formats, before the command", []string{"--log-format", ""}, logFormats},
		{"migrate directions", []string{"migrate", ""}, migrateVerbs},
		{"shells", []string{"completion", ""}, completionShells},
		{"entities", []string{"sync", "--entities", "ag"}, []string{"agent_groups", "agents", "agent_queues", "agent_dial_groups"}},
		{"entities after a comma", []string{"sync", "--entities", "users,agent_groups,ag"}, []string{"users,agent_groups,agents", "users,agent_groups,agent_queues", "users,agent_groups,agent_dial_groups"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			code, stdout, stderr := runCLI(t, nil, append([]string{"__complete"}, tt.args...)...)
			if code != exitOK {
				t.Fatalf("exit %d\nstderr: %s", code, stderr)
			}
			var got []string
			for _, line := range strings.Split(stdout, "\n") {
				if line == "" || strings.HasPrefix(line, ":") {
					continue // the directive
				}
				name, _, _ := strings.Cut(line, "\t") // the description
				if strings.HasPrefix(name, tt.args[len(tt.args)-1]) {
					got = append(got, name)
				}
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("completions = %q, want %q", got, tt.want)
			}
		})
	}
}
