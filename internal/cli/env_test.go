package cli

import (
	"strings"
	"testing"

	"github.com/evsync/evsync/internal/testing/fixture/configtest"
)

// A misspelt EVSYNC_ variable is a config error (exit 2, one line, nothing on stdout), not a
// silent fallback to the default; a well-spelt one sets its key, and secrets stay masked.
func TestConfigCommandEnvironment(t *testing.T) {
	t.Parallel()
	code, stdout, stderr := runCLI(t, map[string]string{
		"EVSYNC_DATABSE_URL": "postgres://evsync:" + configtest.Password + "@db.example/evsync",
		"HOME":               t.TempDir(),
	}, "config")
	if code != exitUsage {
		t.Errorf("exit %d, want %d", code, exitUsage)
	}
	if want := "syncer: config: EVSYNC_DATABSE_URL: unknown variable (did you mean EVSYNC_DATABASE_URL?)\n"; stderr != want {
		t.Errorf("stderr:\n got %q\nwant %q", stderr, want)
	}
	if stdout != "" {
		t.Errorf("stdout %q, want nothing", stdout)
	}

	code, stdout, stderr = runCLI(t, map[string]string{
		"EVSYNC_ENGAGE_REQUESTS_PER_MINUTE": "30",
		"EVSYNC_DATABASE_URL":               "postgres://evsync:" + configtest.Password + "@db.example/evsync",
		"EVSYNC_RC_CLIENT_SECRET":           configtest.Secret,
		"EVSYNC_RC_JWT":                     configtest.JWT,
	}, "config")
	if code != exitOK {
		t.Fatalf("exit %d, stderr %q", code, stderr)
	}
	for _, want := range []string{"requests_per_minute: 30\n", "url: postgres://evsync:****@db.example/evsync\n", "client secret: set", "JWT: set"} {
		if !strings.Contains(stdout, want) {
			t.Errorf("output lacks %q:\n%s", want, stdout)
		}
	}
	for _, s := range []string{configtest.Secret, configtest.JWT, configtest.Password} {
		if strings.Contains(stdout+stderr, s) {
			t.Errorf("output leaks %q:\n%s%s", s, stdout, stderr)
		}
	}

	code, _, stderr = runCLI(t, map[string]string{"EVSYNC_ENGAGE_REQUESTS_PER_MINUTE": "fast"}, "config")
	if want := "syncer: config: EVSYNC_ENGAGE_REQUESTS_PER_MINUTE (engage.requests_per_minute): must be an integer, got \"fast\"\n"; code != exitUsage || stderr != want {
		t.Errorf("bad value: exit %d, stderr %q; want %d, %q", code, stderr, exitUsage, want)
	}
}
