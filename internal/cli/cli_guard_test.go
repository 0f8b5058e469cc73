package cli

import (
	"bufio"
	"context"
	"io"
	"net/http"
	"regexp"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/evsync/evsync/engageclient/engagefake"
	"github.com/evsync/evsync/internal/config"
	"github.com/evsync/evsync/internal/testing/dbtest"
	"github.com/evsync/evsync/internal/testing/fixture"
	"github.com/evsync/evsync/internal/testing/fixture/configtest"
)

// runCLI runs syncer in-process with env as its whole environment and returns the exit code
// and what it wrote.
func runCLI(t *testing.T, env map[string]string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errb strings.Builder
	err := run(t.Context(), args, fixture.Env(env), &out, &errb)
	code = exitCode(err, &errb)
	return code, out.String(), errb.String()
}

// Config that validates but cannot work is refused, one line naming the key (issue 9, #13).
func TestValidateRefusesConfigThatCannotWork(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		mutate  func(c *config.Config)
		wantErr string // "" = valid
	}{
		{"every negative", func(c *config.Config) { c.Schedule.Cron = "@every -1h" }, `config: schedule.cron: an @every interval must be at least 1m (or 1s with schedule.seconds: true), got "@every -1h"`},
		{"every zero", func(c *config.Config) { c.Schedule.Cron = "@every 0s" }, `config: schedule.cron: an @every interval must be at least 1m`},
		{"every 1ms", func(c *config.Config) { c.Schedule.Cron = "@every 1ms" }, `config: schedule.cron: an @every interval must be at least 1m`},
		{"every 30s", func(c *config.Config) { c.Schedule.Cron = "@every 30s" }, `config: schedule.cron: an @every interval must be at least 1m`},
		{"every negative after CRON_TZ", func(c *config.Config) { c.Schedule.Cron = "CRON_TZ=Europe/Berlin @every -5m" }, `config: schedule.cron: an @every interval must be at least 1m`},
		{"every 1ms with seconds", func(c *config.Config) { c.Schedule.Seconds = true; c.Schedule.Cron = "@every 1ms" }, `config: schedule.cron: an @every interval must be at least 1s, got "@every 1ms"`},
		{"every negative with seconds", func(c *config.Config) { c.Schedule.Seconds = true; c.Schedule.Cron = "@every -1h" }, `config: schedule.cron: an @every interval must be at least 1s`},
		{"february 30", func(c *config.Config) { c.Schedule.Cron = "0 0 30 2 *" }, `config: schedule.cron: matches no time in the next 5 years (a date like February 30), so it would never run, got "0 0 30 2 *"`},
		{"april 31 with seconds", func(c *config.Config) { c.Schedule.Seconds = true; c.Schedule.Cron = "0 0 0 31 4 *" }, `config: schedule.cron: matches no time in the next 5 years`},
		{"february 30 in a time zone", func(c *config.Config) { c.Schedule.Timezone = "America/New_York"; c.Schedule.Cron = "0 3 30 2 *" }, `config: schedule.cron: matches no time`},
		{"schema information_schema", func(c *config.Config) { c.Database.Schema = "information_schema" }, `config: database.schema: must not be a PostgreSQL system schema (information_schema, pg_*), got "information_schema"`},
		{"schema pg_catalog", func(c *config.Config) { c.Database.Schema = "pg_catalog" }, `config: database.schema: must not be a PostgreSQL system schema`},
		{"schema pg_toast", func(c *config.Config) { c.Database.Schema = "pg_toast" }, `config: database.schema: must not be a PostgreSQL system schema`},
		{"schema pg_temp", func(c *config.Config) { c.Database.Schema = "pg_temp" }, `config: database.schema: must not be a PostgreSQL system schema`},

		{"every 1m", func(c *config.Config) { c.Schedule.Cron = "@every 1m" }, ""},
		{"every 1s with seconds", func(c *config.Config) { c.Schedule.Seconds = true; c.Schedule.Cron = "@every 1s" }, ""},
		{"leap day", func(c *config.Config) { c.Schedule.Cron = "0 0 29 2 *" }, ""},
		{"yearly", func(c *config.Config) { c.Schedule.Cron = "@yearly" }, ""},
		{"schema public", func(c *config.Config) { c.Database.Schema = "public" }, ""},
		{"schema pg without underscore", func(c *config.Config) { c.Database.Schema = "pgsync" }, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c := config.Default()
			tt.mutate(&c)
			err := c.Validate()
			if tt.wantErr == "" {
				if err != nil {
					t.Fatalf("validate: %v", err)
				}
				return
			}
			if err == nil {
				t.Fatal("validate: got nil error")
			}
			if strings.Contains(err.Error(), "\n") {
				t.Errorf("one mutation gave several lines: %q", err)
			}
			configtest.CheckErr(t, err, []string{tt.wantErr})
		})
	}
}

// The same through the command line: exit 2, one line on stderr naming the key or flag, and
// nothing done (the database URL and the APIs point at closed ports: reaching them would be
// exit 1) (issue 9, #13).
func TestUnworkableConfigAndFlagsExit2(t *testing.T) {
	t.Parallel()
	env := map[string]string{
		config.EnvDatabaseURL:    "postgres://postgres@127.0.0.1:1/none?sslmode=disable&connect_timeout=1",
		config.EnvRCServerURL:    "http://127.0.0.1:1",
		config.EnvEngageURL:      "http://127.0.0.1:1",
		config.EnvRCClientID:     "id",
		config.EnvRCClientSecret: configtest.Secret,
		config.EnvRCJWT:          configtest.JWT,
	}
	tests := []struct {
		name string
		yaml string // config file, "" for none
		args []string
		want string // on the one stderr line
	}{
		{"every negative", "schedule:\n  cron: '@every -1h'\n", []string{"run"}, "schedule.cron"},
		{"every 1ms", "schedule:\n  cron: '@every 1ms'\n", []string{"sync"}, "schedule.cron"},
		{"never", "schedule:\n  cron: '0 0 30 2 *'\n", []string{"run"}, "schedule.cron"},
		{"system schema", "database:\n  schema: information_schema\n", []string{"migrate"}, "database.schema"},
		{"empty sub-account", "", []string{"sync", "--sub-account", ""}, "-sub-account"},
		{"empty sub-account element", "", []string{"sync", "--sub-account", "20001,,20002"}, "-sub-account"},
		{"blank sub-account", "", []string{"sync", "--sub-account", " "}, "-sub-account"},
		{"empty entities", "", []string{"sync", "--entities", ""}, "--entities"},
		{"empty entities element", "", []string{"sync", "--entities", "accounts,,users"}, "--entities"},
		{"trailing comma in entities", "", []string{"sync", "--entities", "agents,"}, "--entities"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			args := tt.args
			if tt.yaml != "" {
				args = append([]string{"--config", fixture.WriteFile(t, "config.yaml", tt.yaml)}, args...)
			}
			code, stdout, stderr := runCLI(t, env, args...)
			if code != exitUsage {
				t.Fatalf("exit %d, want %d\nstdout: %s\nstderr: %s", code, exitUsage, stdout, stderr)
			}
			lines := strings.Split(strings.TrimSpace(stderr), "\n")
			if len(lines) != 1 || !strings.HasPrefix(lines[0], "syncer: ") || !strings.Contains(lines[0], tt.want) {
				t.Errorf("stderr = %q, want one line naming %s", stderr, tt.want)
			}
		})
	}
}

// migrate down holds the run lock (exit 4 while a run has it) and needs --yes before it drops
// tables that hold rows (issue 9, #14).
func TestMigrateDownGuards(t *testing.T) {
	t.Parallel()
	type step struct {
		args     []string
		wantCode int
		want     string // in stdout (exit 0) or on the one stderr line
	}
	tests := []struct {
		name      string
		rows      bool // a run is recorded first, so sync_runs holds a row
		lock      bool // a run holds the schema's lock throughout
		steps     []step
		wantTable bool // sync_runs still exists at the end
	}{
		{
			name: "a run holds the lock", lock: true, rows: true,
			steps: []step{
				{[]string{"migrate", "down"}, exitLocked, "another run holds the lock on schema engage; nothing was rolled back"},
				{[]string{"migrate", "down", "--yes"}, exitLocked, "another run holds the lock on schema engage"},
			},
			wantTable: true,
		},
		{
			name: "rows need --yes", rows: true,
			steps: []step{
				{[]string{"migrate", "down"}, exitOK, "rolled back migration 8 (00008_create_reporting_streams.sql), dropping 4 tables and 0 rows"},
				{[]string{"migrate", "down"}, exitOK, "rolled back migration 7 (00007_create_streams.sql), dropping 2 tables and 0 rows"},
				{[]string{"migrate", "down"}, exitOK, "rolled back migration 6 (00006_comment_schema.sql), dropping 0 tables and 0 rows"},
				{[]string{"migrate", "down"}, exitOK, "rolled back migration 5 (00005_create_api_fields.sql), dropping 2 tables and 0 rows"},
				{[]string{"migrate", "down"}, exitOK, "rolled back migration 4 (00004_create_config_entities.sql), dropping 14 tables and 0 rows"},
				{[]string{"migrate", "down"}, exitOK, "rolled back migration 3 (00003_replace_entity_freshness.sql), dropping 0 tables and 0 rows"},
				{[]string{"migrate", "down"}, exitOK, "rolled back migration 2 (00002_create_views.sql), dropping 0 tables and 0 rows"},
				{[]string{"migrate", "down"}, exitUsage, "migrate down: rolling back migration 1 (00001_create_tables.sql) would drop 1 rows in 1 tables (sync_runs 1); nothing was rolled back: pass --yes to drop them"},
				{[]string{"migrate", "down", "--yes"}, exitOK, "rolled back migration 1 (00001_create_tables.sql), dropping 12 tables and 1 rows"},
				{[]string{"migrate", "down"}, exitOK, "no migration to roll back"},
			},
		},
		{
			name: "--yes before the direction", rows: true,
			steps: []step{
				{[]string{"migrate", "--yes", "down"}, exitOK, "rolled back migration 8"},
				{[]string{"migrate", "--yes", "down"}, exitOK, "rolled back migration 7"},
				{[]string{"migrate", "--yes", "down"}, exitOK, "rolled back migration 6"},
				{[]string{"migrate", "--yes", "down"}, exitOK, "rolled back migration 5"},
				{[]string{"migrate", "--yes", "down"}, exitOK, "rolled back migration 4"},
				{[]string{"migrate", "--yes", "down"}, exitOK, "rolled back migration 3"},
				{[]string{"migrate", "--yes", "down"}, exitOK, "rolled back migration 2"},
				{[]string{"migrate", "--yes", "down"}, exitOK, "rolled back migration 1 (00001_create_tables.sql), dropping 12 tables and 1 rows"},
			},
		},
		{
			name: "empty tables need no --yes",
			steps: []step{
				{[]string{"migrate", "down"}, exitOK, "rolled back migration 8"},
				{[]string{"migrate", "down"}, exitOK, "rolled back migration 7"},
				{[]string{"migrate", "down"}, exitOK, "rolled back migration 6"},
				{[]string{"migrate", "down"}, exitOK, "rolled back migration 5"},
				{[]string{"migrate", "down"}, exitOK, "rolled back migration 4"},
				{[]string{"migrate", "down"}, exitOK, "rolled back migration 3"},
				{[]string{"migrate", "down"}, exitOK, "rolled back migration 2"},
				{[]string{"migrate", "down"}, exitOK, "rolled back migration 1 (00001_create_tables.sql), dropping 12 tables and 0 rows"},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ctx := t.Context()
			pool, schema := dbtest.New(t)
			store := dbtest.Store(t, pool, schema)
			if tt.rows {
				if _, err := store.RunCreate(ctx, "manual"); err != nil {
					t.Fatal(err)
				}
			}
			if tt.lock {
				lock, err := store.LockTake(ctx)
				if err != nil {
					t.Fatal(err)
				}
				defer lock.Release()
			}
			env := map[string]string{config.EnvDatabaseURL: pool.Config().ConnString()}
			for _, s := range tt.steps {
				code, stdout, stderr := runCLI(t, env, s.args...)
				if code != s.wantCode {
					t.Fatalf("%v: exit %d, want %d\nstdout: %s\nstderr: %s", s.args, code, s.wantCode, stdout, stderr)
				}
				got := strings.TrimSpace(stdout)
				if code != exitOK {
					got = strings.TrimSpace(stderr)
					if strings.Contains(got, "\n") {
						t.Errorf("%v: stderr has several lines: %q", s.args, got)
					}
				}
				if !strings.Contains(got, s.want) {
					t.Errorf("%v: output %q, want %q", s.args, got, s.want)
				}
			}
			var exists bool
			if err := pool.QueryRow(ctx, "SELECT to_regclass('engage.sync_runs') IS NOT NULL").Scan(&exists); err != nil {
				t.Fatal(err)
			}
			if exists != tt.wantTable {
				t.Errorf("sync_runs exists = %v, want %v", exists, tt.wantTable)
			}
		})
	}
}

// The --fault example of `fake-engage --help`, passed exactly as shown, injects that fault
// (it was split on its commas: `parsing fault "times=3"`) (issue 9, #15).
func TestFakeEngageHelpFaultExampleWorks(t *testing.T) {
	t.Parallel()
	code, help, _ := runCLI(t, nil, "fake-engage", "--help") // help is on stdout
	if code != exitOK {
		t.Fatalf("fake-engage --help: exit %d: %s", code, help)
	}
	m := regexp.MustCompile(`e\.g\. --fault (\S+)`).FindStringSubmatch(help)
	if m == nil {
		t.Fatalf("fake-engage --help shows no --fault example:\n%s", help)
	}
	example := m[1]
	endpoint, fault, err := engagefake.ParseFault(example)
	if err != nil || endpoint != engagefake.EndpointAgents || fault.Status == 0 || fault.Times == 0 {
		t.Fatalf("the help's example %q: endpoint %q, fault %+v, err %v; this test wants an agents status=N,times=N example", example, endpoint, fault, err)
	}

	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	pr, pw := io.Pipe()
	done := make(chan error, 1)
	go func() {
		var stderr strings.Builder
		done <- run(ctx, []string{"fake-engage", "--listen", "127.0.0.1:0", "--fault", example}, fixture.Env(nil), pw, &stderr)
		pw.Close()
	}()
	base := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(pr)
		for sc.Scan() {
			if u, ok := strings.CutPrefix(sc.Text(), "fake Engage Voice + RingCentral API on "); ok {
				base <- u
			}
		}
		close(base)
		_, _ = io.Copy(io.Discard, pr)
	}()
	url, ok := <-base
	if !ok {
		t.Fatalf("fake-engage ended without serving: %v", <-done)
	}

	// The fault answers before authentication; then the fake asks for a token (401).
	var want, got []int
	for range fault.Times {
		want = append(want, fault.Status)
	}
	want = append(want, http.StatusUnauthorized)
	for range len(want) {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, url+"/voice/api/v1/admin/accounts/20001/agentGroups/1/agents", nil)
		if err != nil {
			t.Fatal(err)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		got = append(got, resp.StatusCode)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("statuses with --fault %s (-want +got):\n%s", example, diff)
	}
	cancel()
	if err := <-done; err != nil {
		t.Errorf("fake-engage: %v", err)
	}
}
