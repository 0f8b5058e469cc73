package cli

import (
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/evsync/evsync/internal/config"
	"github.com/evsync/evsync/internal/daemon"
	"github.com/evsync/evsync/internal/testing/fixture"
	"github.com/evsync/evsync/internal/testing/fixture/configtest"
)

func TestNewLogger(t *testing.T) {
	t.Parallel()
	tests := []struct {
		level, format string
		wantJSON      bool
		wantDebug     bool
	}{
		{"info", "auto", true, false}, // a buffer is not a terminal
		{"debug", "text", false, true},
		{"warn", "json", true, false},
	}
	for _, tt := range tests {
		t.Run(tt.level+"/"+tt.format, func(t *testing.T) {
			t.Parallel()
			c := config.Default()
			c.Log.Level, c.Log.Format = tt.level, tt.format
			var buf strings.Builder
			l := newLogger(c, &buf)
			l.Debug("dbg")
			l.Warn("wrn", "k", "v", "duration", 180*time.Millisecond, slog.Group("g", "wait", 2*time.Second))
			out := buf.String()
			// Durations are never nanoseconds: text in text logs, seconds (numbers) in JSON.
			if strings.Contains(out, "180000000") {
				t.Errorf("durations written as nanoseconds: %q", out)
			}
			if tt.wantJSON && (!strings.Contains(out, `"duration":0.18,`) || !strings.Contains(out, `"wait":2}`)) {
				t.Errorf("durations not written as seconds: %q", out)
			}
			if !tt.wantJSON && (!strings.Contains(out, "duration=180ms") || !strings.Contains(out, "g.wait=2s")) {
				t.Errorf("durations not written as text: %q", out)
			}
			if got := strings.HasPrefix(out, "{"); got != tt.wantJSON {
				t.Errorf("JSON = %v, want %v: %q", got, tt.wantJSON, out)
			}
			if got := strings.Contains(out, "dbg"); got != tt.wantDebug {
				t.Errorf("debug line present = %v, want %v: %q", got, tt.wantDebug, out)
			}
			if !strings.Contains(out, "wrn") {
				t.Errorf("warn line missing: %q", out)
			}
		})
	}
}

func TestDaemonConfigFromConfig(t *testing.T) {
	t.Parallel()
	c := config.Default()
	c.HTTP.Listen = ":9090"
	want := daemon.Config{
		ControlSchema: "evsync", MaxConcurrentRuns: 4,
		Grace: 30 * time.Second, Listen: ":9090", ReadyStaleness: 26 * time.Hour,
	}
	if diff := cmp.Diff(want, daemonConfigOf(c)); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

// A --fault with several options reaches ParseFault whole (before, the flag split it on its
// commas, so the README's own "--fault agents:status=503,times=3" was refused).
func TestFakeEngageFaultFlagKeepsOptions(t *testing.T) {
	t.Parallel()
	var stdout, stderr strings.Builder
	err := run(t.Context(), []string{"fake-engage", "--fault", "agents:status=503,times=3", "--fault", "users:status=401,no-body",
		"--listen", "256.0.0.1:bad"}, nil, &stdout, &stderr)
	if err == nil || strings.Contains(err.Error(), "--fault") || !strings.Contains(err.Error(), "--listen") {
		t.Fatalf("err = %v, want the --listen error after both faults parsed", err)
	}
}

// Each problem of a tenants list is one line naming the entry and the key; the config fails
// to load or to validate, and the CLI exits 2.
func TestTenantsConfigErrors(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	jwt := filepath.Join(dir, "jwt")
	if err := os.WriteFile(jwt, []byte(configtest.JWT), 0o600); err != nil {
		t.Fatal(err)
	}
	ok := "  - name: acme\n    ringcentral: {client_id: a, jwt_file: " + jwt + "}\n"
	tests := []struct {
		name string
		yaml string
		env  map[string]string
		want []string // one line each, in order
	}{
		{"missing jwt file", ok + "  - name: globex\n  - name: initech\n    ringcentral: {jwt_file: " + filepath.Join(dir, "absent") + "}\n", nil,
			[]string{`config: tenants[2].ringcentral.jwt_file: reading secret file "` + filepath.Join(dir, "absent") + `": no such file or directory`}},
		{"inline secret", ok + "  - name: globex\n    ringcentral: {jwt: " + configtest.JWT + "}\n", nil,
			[]string{"config: tenants[1].ringcentral.jwt must not be written in the config file: set EVSYNC_TENANT_<NAME>_RC_JWT or the tenant's ringcentral.jwt_file instead"}},
		{"duplicate name", ok + "  - name: globex\n  - name: acme\n    schema: other\n", nil,
			[]string{`config: tenants[2].name: "acme" is already the name of tenants[0]`}},
		{"duplicate schema", ok + "  - name: globex\n    schema: engage_acme\n", nil,
			[]string{`config: tenants[1].schema: "engage_acme" is already the schema of tenants[0]`}},
		{"bad name", ok + "  - name: Globex-1\n  - schema: x\n", nil,
			[]string{`config: tenants[1].name: must be a lower-case name like acme: a letter, then up to 30 letters, digits or _, got "Globex-1"`, "config: tenants[2].name: missing"}},
		{"unknown key", ok + "  - name: globex\n    engage: {concurency: 2}\n", nil,
			[]string{`config: unknown key "tenants[1].engage.concurency"`}},
		{"bad value", ok + "  - name: globex\n    engage: {concurrency: 0}\n", nil,
			[]string{"config: tenants[1].engage.concurrency: must be an integer from 1 to 64, got 0"}},
		{"per-process key", ok + "  - name: globex\n    schedule: {max_concurrent_runs: 2}\n", nil,
			[]string{"config: tenants[1].schedule.max_concurrent_runs: is per process, not per tenant: set schedule.max_concurrent_runs at the top level"}},
		{"top-level schema", "database: {schema: engage}\ntenants:\n" + ok, nil,
			[]string{"config: database.schema: belongs to the single-tenant form"}},
		{"single-tenant env", "tenants:\n" + ok, map[string]string{"EVSYNC_RC_JWT": configtest.JWT},
			[]string{"config: EVSYNC_RC_JWT: is ambiguous with a tenants list"}},
		{"unknown tenant's variable", "tenants:\n" + ok, map[string]string{"EVSYNC_TENANT_ACNE_RC_JWT": configtest.JWT},
			[]string{"config: EVSYNC_TENANT_ACNE_RC_JWT: unknown variable (did you mean EVSYNC_TENANT_ACME_RC_JWT?)"}},
		{"schema is the control schema", "tenants:\n" + ok + "  - name: globex\n    schema: evsync\n", nil,
			[]string{`config: tenants[1].schema: "evsync" is database.control_schema`}},
		{"empty list", "tenants: []\n", nil, []string{"config: tenants: must list at least one tenant"}},
		{"not a list", "tenants: {name: acme}\n", nil, []string{"config: tenants: must be a list of tenants"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			body := tt.yaml
			if !strings.HasPrefix(body, "tenants:") && !strings.HasPrefix(body, "database:") {
				body = "tenants:\n" + body
			}
			path := fixture.WriteFile(t, "c.yaml", body)
			c, err := config.Load(path, fixture.Env(tt.env))
			if err == nil {
				err = c.Validate()
			}
			if err == nil {
				t.Fatalf("no error for:\n%s", body)
			}
			configtest.CheckErr(t, err, tt.want)
			if lines := strings.Count(err.Error(), "\n") + 1; lines != len(tt.want) {
				t.Errorf("%d error lines, want %d: %v", lines, len(tt.want), err)
			}

			// The CLI: exit 2, the same lines, nothing else.
			var stdout, stderr strings.Builder
			code := exitCode(run(t.Context(), []string{"--config", path, "config"}, fixture.Env(tt.env), &stdout, &stderr), &stderr)
			if code != exitUsage {
				t.Errorf("syncer config exited %d, want %d; stderr %q", code, exitUsage, stderr.String())
			}
		})
	}
}
