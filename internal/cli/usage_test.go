package cli

import (
	"cmp"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/evsync/evsync/internal/testing/fixture"
)

// A usage error exits 2 with one line naming what was wrong, before any config is read (the
// database and the APIs are unset: reaching them would be exit 1); no command and an unknown
// one show the main usage first.
func TestUsageErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		args      []string
		want      string // on the last stderr line
		wantUsage bool   // the main usage comes first
	}{
		{"no command", nil, "syncer: no command given", true},
		{"only flags", []string{"--config", "x.yaml"}, "syncer: no command given", true},
		{"unknown command", []string{"bogus"}, `syncer: unknown command "bogus"`, true},
		{"unknown command, flags after", []string{"bogus", "--dry-run"}, `syncer: unknown command "bogus"`, true},
		{"unknown global flag", []string{"--bogus"}, "syncer: unknown flag: --bogus (see syncer --help)", false},
		{"unknown flag", []string{"sync", "--bogus"}, "syncer: sync: unknown flag: --bogus (see syncer sync --help)", false},
		{"one dash", []string{"sync", "-dry-run"}, "syncer: sync: unknown shorthand flag: 'd' in -dry-run", false},
		{"another command's flag", []string{"status", "--dry-run"}, "syncer: status: unknown flag: --dry-run", false},
		{"missing value", []string{"sync", "--tenant"}, "syncer: sync: flag needs an argument: --tenant (see syncer sync --help)", false},
		{"bad value", []string{"status", "--runs", "many"}, `syncer: status: invalid argument "many" for "--runs" flag`, false},
		{"bad bool", []string{"run", "--no-migrate=maybe"}, `syncer: run: invalid argument "maybe" for "--no-migrate" flag`, false},
		{"bad duration", []string{"fake-engage", "--token-ttl", "soon"}, `syncer: fake-engage: invalid argument "soon" for "--token-ttl" flag`, false},
		{"bad reporting limits", []string{"fake-engage", "--reporting-limits", "3/60s,lots"}, `syncer: --reporting-limits: must be a list of COUNT/DURATION limits like ["3/60s", "9/15m"], got "lots" (or none)`, false},
		{"argument", []string{"sync", "agents"}, `syncer: sync: unexpected argument "agents"`, false},
		{"argument after flags", []string{"status", "--runs", "3", "acme"}, `syncer: status: unexpected argument "acme"`, false},
		{"argument of run", []string{"run", "now"}, `syncer: run: unexpected argument "now"`, false},
		{"argument of demo", []string{"demo", "big"}, `syncer: demo: unexpected argument "big"`, false},
		{"migrate direction", []string{"migrate", "sideways"}, `syncer: migrate: unknown direction "sideways" (expected up, down or status)`, false},
		{"migrate two directions", []string{"migrate", "down", "--yes", "up"}, `syncer: migrate: unexpected argument "up" (expected one of up, down, status)`, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			code, stdout, stderr := runCLI(t, nil, tt.args...)
			if code != exitUsage {
				t.Fatalf("exit %d, want %d\nstdout: %s\nstderr: %s", code, exitUsage, stdout, stderr)
			}
			if stdout != "" {
				t.Errorf("stdout = %q, want nothing", stdout)
			}
			rest, last := "", strings.TrimSuffix(stderr, "\n")
			if i := strings.LastIndex(last, "\n"); i >= 0 {
				rest, last = last[:i+1], last[i+1:]
			}
			if !strings.HasPrefix(last, tt.want) {
				t.Errorf("last stderr line = %q, want %q", last, tt.want)
			}
			if wantRest := map[bool]string{true: mainUsage(newRoot(&app{}))}[tt.wantUsage]; rest != wantRest {
				t.Errorf("stderr before the error = %q, want %q", rest, wantRest)
			}
		})
	}
}

// --help, -h and "syncer help [COMMAND]" print a usage on stdout and exit 0, without reading
// the config (a broken one cannot keep a user from the help).
func TestHelp(t *testing.T) {
	t.Parallel()
	broken := fixture.WriteFile(t, "broken.yaml", "databse: {}\n")
	syncHelp := `^Usage: syncer \[--config FILE\] sync \[--tenant NAME\]\.\.\. .*\n\nFlags:\n(?s:.*)--dry-run +fetch and stage(?s:.*)--tenant NAME +sync tenant NAME only`
	tests := []struct {
		name       string
		args       []string
		wantStdout string // a regexp
	}{
		{"help", []string{"help"}, "^" + regexp.QuoteMeta(mainUsage(newRoot(&app{}))) + "$"},
		{"--help", []string{"--help"}, "^" + regexp.QuoteMeta(mainUsage(newRoot(&app{}))) + "$"},
		{"-h", []string{"-h"}, "^" + regexp.QuoteMeta(mainUsage(newRoot(&app{}))) + "$"},
		{"help sync", []string{"help", "sync"}, syncHelp},
		{"help with flags", []string{"--config", broken, "help", "sync", "--bogus"}, syncHelp},
		{"sync --help", []string{"--config", broken, "sync", "--help"}, syncHelp},
		{"help migrate down", []string{"help", "migrate", "down"}, `^Usage: syncer \[--config FILE\] migrate \[up\|down\|status\] .*\n\ndown rolls back`},
		{"migrate -h", []string{"migrate", "down", "-h"}, `^Usage: syncer \[--config FILE\] migrate \[up\|down\|status\] .*\n\ndown rolls back the latest migration (?s:.*)--yes`},
		{"status --help", []string{"status", "--help"}, `--runs N +show the latest N runs \(default 10\)`},
		{"run --help", []string{"run", "--help"}, `^Usage: syncer \[--config FILE\] run \[--no-migrate\]\n`},
		{"demo --help", []string{"demo", "--help"}, `--agents int +agents per agent group \(default 25\)`},
		{"config --help", []string{"config", "--help"}, `^Usage: syncer \[--config FILE\] config\n`},
		{"fake-engage --help", []string{"fake-engage", "--help"}, `--listen ADDR +ADDR to listen on \(host:port\) \(default "127\.0\.0\.1:8090"\)`},
		{"fake-engage --help shows the reporting limits", []string{"fake-engage", "--help"}, `--reporting-limits LIMITS +the per-sub-account LIMITS of the four reporting endpoints, COUNT/DURATION\[,COUNT/DURATION\.\.\.\] \(the documented ones by default\), or none \(default "3/60s,9/15m"\)`},
		{"switches show no value", []string{"help", "sync"}, `\n      --no-migrate +do not apply`},
		{"help help", []string{"help", "help"}, `^Usage: syncer \[--config FILE\] help \[COMMAND\]\n`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			code, stdout, stderr := runCLI(t, nil, tt.args...)
			if code != exitOK {
				t.Fatalf("exit %d, want 0\nstdout: %s\nstderr: %s", code, stdout, stderr)
			}
			if !regexp.MustCompile(tt.wantStdout).MatchString(stdout) {
				t.Errorf("stdout = %q, want it to match %q", stdout, tt.wantStdout)
			}
			if stderr != "" {
				t.Errorf("stderr = %q, want nothing", stderr)
			}
		})
	}
}

// Every command's help lists its own flags, then the global ones, in --flag spelling.
func TestHelpListsGlobalFlags(t *testing.T) {
	t.Parallel()
	for _, cmd := range newRoot(&app{}).Commands() {
		if cmd.Hidden {
			continue
		}
		t.Run(cmd.Name(), func(t *testing.T) {
			t.Parallel()
			code, stdout, stderr := runCLI(t, nil, "help", cmd.Name())
			if code != exitOK {
				t.Fatalf("exit %d\nstderr: %s", code, stderr)
			}
			flags, global, ok := strings.Cut(stdout, "\nGlobal flags:\n")
			if !ok || !strings.Contains(flags, "\nFlags:\n") || !strings.Contains(flags, "  -h, --help ") {
				t.Fatalf("help of %s has no Flags section with --help, then a Global flags section:\n%s", cmd.Name(), stdout)
			}
			for _, re := range []string{`(?m)^      --config FILE +YAML configuration`, `(?m)^      --log-level LEVEL +`,
				`(?m)^      --log-format FORMAT +`, `(?m)^      --version +print the version$`} {
				if !regexp.MustCompile(re).MatchString(global) {
					t.Errorf("global flags of %s do not match %q:\n%s", cmd.Name(), re, global)
				}
			}
		})
	}
}

// The global flags may come before or after the command.
func TestGlobalFlagsAfterTheCommand(t *testing.T) {
	t.Parallel()
	path := fixture.WriteFile(t, "c.yaml", "database:\n  schema: after_the_command\n")
	for _, args := range [][]string{
		{"--config", path, "config"},
		{"config", "--config", path},
		{"config", "--config=" + path},
	} {
		code, stdout, stderr := runCLI(t, nil, args...)
		if code != exitOK || !strings.Contains(stdout, "schema: after_the_command\n") {
			t.Errorf("%q: exit %d, want 0 and the file's schema\nstdout: %s\nstderr: %s", args, code, stdout, stderr)
		}
	}
	for _, args := range [][]string{
		{"--version"},
		{"--version", "sync"},
		{"sync", "--version"},
		{"--config", "/nonexistent", "--version"},
	} {
		code, stdout, stderr := runCLI(t, nil, args...)
		if code != exitOK || stdout != versionLine(build()) || stderr != "" {
			t.Errorf("%q: exit %d, stdout %q, stderr %q; want 0 and the version alone", args, code, stdout, stderr)
		}
	}
}

// mainUsageSection is the lines of the main usage's section title (up to the blank line).
func mainUsageSection(t *testing.T, usage, title string) []string {
	t.Helper()
	_, section, ok := strings.Cut(usage, "\n"+title+"\n")
	if !ok {
		t.Fatalf("main usage has no %q section:\n%s", title, usage)
	}
	section, _, _ = strings.Cut(section, "\n\n")
	return strings.Split(section, "\n")
}

// The main usage lists every visible command with its one-line description, in mainCommands'
// order; a hidden command stays out of it.
func TestMainUsageListsEveryCommand(t *testing.T) {
	t.Parallel()
	root := newRoot(&app{})
	root.AddCommand(&cobra.Command{Use: "secret", Short: "not for users", Hidden: true, Run: func(*cobra.Command, []string) {}})
	lines := mainUsageSection(t, mainUsage(root), "Commands:")
	line := regexp.MustCompile(`^  ([a-z-]+) +(.*)$`)
	var names []string
	for _, l := range lines {
		m := line.FindStringSubmatch(l)
		if m == nil {
			t.Fatalf("main usage command line %q is not \"  NAME  SHORT\"", l)
		}
		names = append(names, m[1])
		cmd, _, err := root.Find([]string{m[1]})
		if err != nil || cmd == root {
			t.Errorf("main usage lists %s, which syncer does not have", m[1])
			continue
		}
		if m[2] != cmd.Short {
			t.Errorf("main usage line of %s says %q, want its Short %q", m[1], m[2], cmd.Short)
		}
	}
	var want []string
	for _, cmd := range root.Commands() {
		if cmd.Name() != "help" && !cmd.Hidden { // "syncer help" is the usage itself
			want = append(want, cmd.Name())
		}
	}
	slices.SortFunc(want, func(a, b string) int {
		return cmp.Compare(slices.Index(mainCommands, a), slices.Index(mainCommands, b))
	})
	if !slices.Equal(names, want) || !slices.Equal(names, mainCommands) {
		t.Errorf("main usage lists commands %q, want every visible one %q in mainCommands' order %q", names, want, mainCommands)
	}
}

// The main usage's global flags are the root's persistent flags, each in --flag spelling with
// its placeholder and its own usage, and --help last.
func TestMainUsageListsEveryGlobalFlag(t *testing.T) {
	t.Parallel()
	root := newRoot(&app{})
	lines := mainUsageSection(t, mainUsage(root), "Global flags:")
	var want []string
	root.PersistentFlags().VisitAll(func(f *pflag.Flag) {
		placeholder, text := pflag.UnquoteUsage(f)
		want = append(want, strings.TrimSpace("--"+f.Name+" "+placeholder)+"\x00"+text)
	})
	want = append(want, "--help\x00"+`this help; "syncer help COMMAND" for a command's flags`)
	if len(lines) != len(want) {
		t.Errorf("main usage lists %d global flags, want %d:\n%s", len(lines), len(want), strings.Join(lines, "\n"))
	}
	flagLine := regexp.MustCompile(`^  (--[a-z-]+(?: [A-Z]+)?) +(.*)$`)
	for i, l := range lines {
		m := flagLine.FindStringSubmatch(l)
		if m == nil {
			t.Errorf("main usage flag line %q is not \"  --NAME [PLACEHOLDER]  USAGE\"", l)
			continue
		}
		if i < len(want) && m[1]+"\x00"+m[2] != want[i] {
			t.Errorf("main usage flag line %d = %q, want %q", i, l, strings.ReplaceAll(want[i], "\x00", "  "))
		}
	}
}
