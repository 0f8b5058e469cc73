package cli

import (
	"strings"
	"testing"

	"github.com/evsync/evsync/internal/testing/fixture"
)

// --log-level and --log-format override log.level and log.format of the config file, before
// or after the command; a value they do not take is a usage error naming the flag.
func TestLogFlags(t *testing.T) {
	t.Parallel()
	path := fixture.WriteFile(t, "c.yaml", "log:\n  level: warn\n  format: text\n")
	tests := []struct {
		name string
		args []string
		want string // the log section of `syncer config`
	}{
		{"the file's", []string{"config", "--config", path}, "log:\n  level: warn\n  format: text\n"},
		{"after the command", []string{"config", "--config", path, "--log-level", "debug", "--log-format=json"}, "log:\n  level: debug\n  format: json\n"},
		{"before the command", []string{"--log-level=error", "--config", path, "config"}, "log:\n  level: error\n  format: text\n"},
		{"without a file", []string{"--log-format", "text", "config"}, "log:\n  level: info\n  format: text\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			code, stdout, stderr := runCLI(t, nil, tt.args...)
			if code != exitOK || !strings.Contains(stdout, tt.want) {
				t.Errorf("exit %d, want 0 and %q in\n%s\nstderr: %s", code, tt.want, stdout, stderr)
			}
		})
	}
	for _, tt := range []struct {
		args []string
		want string
	}{
		{[]string{"sync", "--log-level", "loud"}, `syncer: sync: invalid argument "loud" for "--log-level" flag: must be one of debug, info, warn, error (see syncer sync --help)`},
		{[]string{"--log-level", "INFO", "config"}, `syncer: config: invalid argument "INFO" for "--log-level" flag: must be one of debug, info, warn, error`},
		{[]string{"status", "--log-format=xml"}, `syncer: status: invalid argument "xml" for "--log-format" flag: must be one of auto, text, json (see syncer status --help)`},
		{[]string{"run", "--log-format"}, `syncer: run: flag needs an argument: --log-format (see syncer run --help)`},
	} {
		code, stdout, stderr := runCLI(t, nil, tt.args...)
		if code != exitUsage || stdout != "" || !strings.HasPrefix(stderr, tt.want) || strings.Count(stderr, "\n") != 1 {
			t.Errorf("%q: exit %d, stdout %q, stderr %q; want %d and one line starting %q", tt.args, code, stdout, stderr, exitUsage, tt.want)
		}
	}
}

// The logger that the commands set up follows the flags over the config (as loadConfig,
// which withConfig calls, applies them).
func TestLogFlagsReachTheLogger(t *testing.T) {
	t.Parallel()
	var buf strings.Builder
	a := &app{stderr: &buf, environ: []string{"EVSYNC_LOG_FORMAT=json"}} // info, json
	flags := newRoot(a).PersistentFlags()
	if err := flags.Set("log-level", "debug"); err != nil {
		t.Fatal(err)
	}
	if err := flags.Set("log-format", "text"); err != nil {
		t.Fatal(err)
	}
	cfg, err := a.loadConfig()
	if err != nil {
		t.Fatal(err)
	}
	a.cfg = cfg
	a.setupLogger().Debug("hello")
	if got := buf.String(); !strings.HasPrefix(got, "time=") || !strings.Contains(got, "level=DEBUG msg=hello") {
		t.Errorf("log = %q, want a text line at debug", got)
	}
}
