package config_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"go.yaml.in/yaml/v3"

	"github.com/evsync/evsync/internal/config"
	"github.com/evsync/evsync/internal/entity"
	"github.com/evsync/evsync/internal/testing/fixture"
	"github.com/evsync/evsync/internal/testing/fixture/configtest"
)

func TestDefaultConfigIsValid(t *testing.T) {
	t.Parallel()
	c := config.Default()
	if err := c.Validate(); err != nil {
		t.Fatalf("default config: %v", err)
	}
	if err := c.RequireCredentials(); err == nil {
		t.Fatal("requireCredentials on the defaults: got nil, want missing credentials")
	}
	if got, want := c.Sync.Entities, []entity.Name{"accounts", "sub_accounts", "users", "agent_groups", "agents",
		"queue_groups", "queues", "skills", "dial_groups", "campaigns", "agent_queues", "agent_dial_groups"}; !cmp.Equal(got, want) {
		t.Errorf("default entities (-want +got):\n%s", cmp.Diff(want, got))
	}
	// The defaults slice is not shared between configs.
	c.Sync.Entities[0] = "changed"
	if config.Default().Sync.Entities[0] != "accounts" {
		t.Error("config.Default shares its entities slice")
	}
}

// TestExampleConfigMatchesDefaults keeps config.example.yaml honest: it loads without error,
// names every key, and states the defaults.
func TestExampleConfigMatchesDefaults(t *testing.T) {
	t.Parallel()
	path := filepath.Join("..", "..", "config.example.yaml")
	got, err := config.Load(path, nil)
	if err != nil {
		t.Fatalf("loading %s: %v", path, err)
	}
	if err := got.Validate(); err != nil {
		t.Fatalf("validating %s: %v", path, err)
	}
	if diff := cmp.Diff(config.Default(), got); diff != "" {
		t.Errorf("config.example.yaml differs from config.Default (-want +got):\n%s", diff)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var doc map[string]map[string]any
	if err := yaml.Unmarshal(data, &doc); err != nil {
		t.Fatal(err)
	}
	var want map[string]map[string]any
	if err := yaml.Unmarshal([]byte(config.Default().Masked()), &want); err != nil {
		t.Fatal(err)
	}
	for section, keys := range want {
		for key := range keys {
			if _, ok := doc[section][key]; !ok {
				t.Errorf("config.example.yaml does not mention %s.%s", section, key)
			}
		}
	}
}

func TestLoadConfigFileAndEnv(t *testing.T) {
	t.Parallel()
	file := fixture.WriteFile(t, "c.yaml", `
database:
  url: postgres://file@db:5432/evsync
  schema: tenant_a
ringcentral:
  server_url: https://platform.devtest.ringcentral.com
  client_id: file-client
engage:
  server_url: https://ringcx.ringcentral.com
  refresh_margin: 90s
  requests_per_minute: 60
  concurrency: 8
sync:
  entities: [accounts, users]
  max_delete_fraction: 0.25
schedule:
  cron: "30 2 * * *"
  timezone: Europe/Berlin
  run_on_start: true
  timeout: 45m
http:
  listen: ":9090"
  ready_staleness: 2h
log:
  level: debug
  format: json
shutdown:
  grace_period: 1m
`)
	want := config.Default()
	want.Database.URL = "postgres://file@db:5432/evsync"
	want.Database.Schema = "tenant_a"
	want.RingCentral.ServerURL = "https://platform.devtest.ringcentral.com"
	want.RingCentral.ClientID = "file-client"
	want.Engage.ServerURL = "https://ringcx.ringcentral.com"
	want.Engage.RefreshMargin = 90 * time.Second
	want.Engage.RequestsPerMinute = 60
	want.Engage.Concurrency = 8
	want.Sync.Entities = []entity.Name{"accounts", "users"}
	want.Sync.MaxDeleteFraction = 0.25
	want.Schedule.Cron = "30 2 * * *"
	want.Schedule.Timezone = "Europe/Berlin"
	want.Schedule.RunOnStart = true
	want.Schedule.Timeout = 45 * time.Minute
	want.HTTP.Listen = ":9090"
	want.HTTP.ReadyStaleness = 2 * time.Hour
	want.Log.Level = "debug"
	want.Log.Format = "json"
	want.Shutdown.GracePeriod = time.Minute

	got, err := config.Load(file, nil)
	if err != nil {
		t.Fatalf("config.Load: %v", err)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("file only (-want +got):\n%s", diff)
	}
	if err := got.Validate(); err != nil {
		t.Errorf("validate: %v", err)
	}

	// The environment wins over the file; an empty variable counts as unset.
	env := map[string]string{
		"EVSYNC_DATABASE_URL":      "postgresql://env@127.0.0.1/x",
		"EVSYNC_RC_SERVER_URL":     "http://127.0.0.1:8090",
		"EVSYNC_RC_CLIENT_ID":      "env-client",
		"EVSYNC_RC_CLIENT_SECRET":  configtest.Secret,
		"EVSYNC_RC_JWT":            " " + configtest.JWT + "\n",
		"EVSYNC_ENGAGE_SERVER_URL": "",
	}
	got, err = config.Load(file, fixture.Env(env))
	if err != nil {
		t.Fatalf("config.Load with env: %v", err)
	}
	want.Database.URL = "postgresql://env@127.0.0.1/x"
	want.RingCentral.ServerURL = "http://127.0.0.1:8090"
	want.RingCentral.ClientID = "env-client"
	want.RingCentral.ClientSecret = configtest.Secret
	want.RingCentral.JWT = configtest.JWT
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("file + env (-want +got):\n%s", diff)
	}
	if err := got.RequireCredentials(); err != nil {
		t.Errorf("requireCredentials: %v", err)
	}

	got, err = config.Load("", fixture.Env(map[string]string{"EVSYNC_ENGAGE_SERVER_URL": "https://ringcx.ringcentral.com"}))
	if err != nil {
		t.Fatalf("config.Load with env only: %v", err)
	}
	if got.Engage.ServerURL != "https://ringcx.ringcentral.com" {
		t.Errorf("EVSYNC_ENGAGE_SERVER_URL: engage.server_url = %q", got.Engage.ServerURL)
	}
}

func TestLoadConfigNoFileEmptyFileAndNulls(t *testing.T) {
	t.Parallel()
	for name, content := range map[string]string{
		"no file":       "",
		"empty file":    "\n",
		"comments only": "# nothing here\n",
		"null sections": "database:\nengage:\n  concurrency:\n",
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			path := ""
			if name != "no file" {
				path = fixture.WriteFile(t, "c.yaml", content)
			}
			got, err := config.Load(path, nil)
			if err != nil {
				t.Fatalf("config.Load: %v", err)
			}
			if diff := cmp.Diff(config.Default(), got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

func TestLoadConfigSecretFiles(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	secretFile := filepath.Join(dir, "client_secret")
	jwtFile := filepath.Join(dir, "jwt")
	if err := os.WriteFile(secretFile, []byte("\n  "+configtest.Secret+"  \n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(jwtFile, []byte(configtest.JWT+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	emptyFile := filepath.Join(dir, "empty")
	if err := os.WriteFile(emptyFile, []byte(" \n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cfgFile := func(secret, jwt string) string {
		return fixture.WriteFile(t, "c.yaml", "ringcentral:\n  client_id: id\n  client_secret_file: "+secret+"\n  jwt_file: "+jwt+"\n")
	}

	got, err := config.Load(cfgFile(secretFile, jwtFile), nil)
	if err != nil {
		t.Fatalf("config.Load: %v", err)
	}
	if got.RingCentral.ClientSecret != configtest.Secret || got.RingCentral.JWT != configtest.JWT {
		t.Errorf("secrets from files were not read and trimmed")
	}
	if err := got.RequireCredentials(); err != nil {
		t.Errorf("requireCredentials: %v", err)
	}

	// The variable wins over the file, and then a bad file is not even read.
	got, err = config.Load(cfgFile(filepath.Join(dir, "missing"), jwtFile), fixture.Env(map[string]string{"EVSYNC_RC_CLIENT_SECRET": "from-env"}))
	if err != nil {
		t.Fatalf("config.Load with env secret: %v", err)
	}
	if got.RingCentral.ClientSecret != "from-env" {
		t.Errorf("client secret: the variable did not win over the file")
	}

	tests := []struct {
		name, secret, jwt string
		wantErr           []string
	}{
		{"missing secret file", filepath.Join(dir, "missing"), jwtFile, []string{"config: ringcentral.client_secret_file: reading secret file", "no such file"}},
		{"missing jwt file", secretFile, filepath.Join(dir, "nope"), []string{"config: ringcentral.jwt_file: reading secret file"}},
		{"empty jwt file", secretFile, emptyFile, []string{"config: ringcentral.jwt_file: secret file", "is empty"}},
		{"directory", dir, jwtFile, []string{"config: ringcentral.client_secret_file: reading secret file"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := config.Load(cfgFile(tt.secret, tt.jwt), nil)
			if err == nil {
				t.Fatal("config.Load: got nil error")
			}
			configtest.CheckErr(t, err, tt.wantErr)
		})
	}
}

func TestLoadConfigFileErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		yaml    string
		wantErr []string
	}{
		{"unknown key", "engage:\n  request_per_minute: 10\n", []string{`config: unknown key "engage.request_per_minute" in `, `(did you mean "requests_per_minute"?)`, "evsync.yaml line 2"}},
		{"unknown section", "databse:\n  url: x\n", []string{`unknown key "databse"`, `did you mean "database"?`}},
		{"unknown far key", "log:\n  colour: true\n", []string{`unknown key "log.colour"`}},
		{"inline client secret", "ringcentral:\n  client_secret: " + configtest.Secret + "\n", []string{"ringcentral.client_secret must not be written in the config file", "EVSYNC_RC_CLIENT_SECRET", "ringcentral.client_secret_file"}},
		{"inline jwt", "ringcentral:\n  jwt: " + configtest.JWT + "\n", []string{"ringcentral.jwt must not be written in the config file", "EVSYNC_RC_JWT", "ringcentral.jwt_file"}},
		{"duration as number", "engage:\n  refresh_margin: 60\n", []string{`config: engage.refresh_margin: must be a duration like "60s"`, `got "60"`}},
		{"bad duration", "schedule:\n  timeout: soon\n", []string{`schedule.timeout: must be a duration`, `got "soon"`}},
		{"int as text", "engage:\n  concurrency: four\n", []string{`engage.concurrency: must be an integer, got "four"`}},
		{"float as text", "sync:\n  max_delete_fraction: half\n", []string{`sync.max_delete_fraction: must be a number, got "half"`}},
		{"bool as text", "schedule:\n  run_on_start: yes please\n", []string{`schedule.run_on_start: must be true or false`}},
		{"list as scalar", "sync:\n  entities: accounts\n", []string{`sync.entities: must be a list`}},
		{"scalar as mapping", "database:\n  url:\n    host: x\n", []string{`database.url: must be a single value`}},
		{"section as scalar", "engage: fast\n", []string{`engage: must be a mapping of keys`}},
		{"top level list", "- a\n- b\n", []string{"the top level of", "must be a mapping"}},
		{"bad yaml", "engage:\n  concurrency: [1\n", []string{"config: parsing "}},
		{"duplicate key", "engage:\n  concurrency: 1\n  concurrency: 2\n", []string{`config: duplicate key "engage.concurrency" in `, "line 3"}},
		{"several problems", "engage:\n  concurrency: x\n  foo: 1\n", []string{"engage.concurrency", `"engage.foo"`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			path := fixture.WriteFile(t, "evsync.yaml", tt.yaml)
			_, err := config.Load(path, nil)
			if err == nil {
				t.Fatal("config.Load: got nil error")
			}
			configtest.CheckErr(t, err, append(tt.wantErr, "evsync.yaml"))
		})
	}

	_, err := config.Load(filepath.Join(t.TempDir(), "absent.yaml"), nil)
	if err == nil {
		t.Fatal("missing config file: got nil error")
	}
	configtest.CheckErr(t, err, []string{"config: reading ", "absent.yaml: no such file or directory"})
	if strings.Contains(err.Error(), "open ") {
		t.Errorf("error repeats the operation: %v", err)
	}
	// A directory: one "reading", no "read dir.yaml" inside it.
	dirCfg := filepath.Join(t.TempDir(), "dir.yaml")
	if err := os.Mkdir(dirCfg, 0o755); err != nil {
		t.Fatal(err)
	}
	_, err = config.Load(dirCfg, nil)
	if err == nil || err.Error() != "config: reading "+dirCfg+": is a directory" {
		t.Errorf("directory as config: err = %v", err)
	}
}

func TestValidateErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		mutate  func(c *config.Config)
		wantErr string
	}{
		{"db url empty", func(c *config.Config) { c.Database.URL = "" }, `config: database.url: must be a postgres:// URL`},
		{"db url scheme", func(c *config.Config) { c.Database.URL = "mysql://u:" + configtest.Password + "@h/db" }, `config: database.url: must be a postgres:// or postgresql:// URL, got scheme "mysql"`},
		{"db url unparsable", func(c *config.Config) { c.Database.URL = "postgres://u:" + configtest.Password + "@h:port/db" }, `config: database.url: must be a postgres:// or postgresql:// URL, and this one does not parse`},
		{"schema upper", func(c *config.Config) { c.Database.Schema = "Engage" }, `config: database.schema: must be a lower-case SQL identifier`},
		{"schema empty", func(c *config.Config) { c.Database.Schema = "" }, `config: database.schema: must be a lower-case SQL identifier`},
		{"schema injection", func(c *config.Config) { c.Database.Schema = "a; drop" }, `config: database.schema: must be a lower-case SQL identifier`},
		{"schema too long", func(c *config.Config) { c.Database.Schema = strings.Repeat("a", 64) }, `config: database.schema: must be a lower-case SQL identifier`},
		{"schema pg_", func(c *config.Config) { c.Database.Schema = "pg_engage" }, `config: database.schema: must not be a PostgreSQL system schema (information_schema, pg_*), got "pg_engage"`},
		{"rc url relative", func(c *config.Config) { c.RingCentral.ServerURL = "platform.ringcentral.com" }, `config: ringcentral.server_url: must be an absolute http:// or https:// URL, got "platform.ringcentral.com"`},
		{"rc url ftp", func(c *config.Config) { c.RingCentral.ServerURL = "ftp://x" }, `config: ringcentral.server_url: must be an absolute http:// or https:// URL`},
		{"engage url userinfo", func(c *config.Config) { c.Engage.ServerURL = "https://u:" + configtest.Password + "@engage.example" }, `config: engage.server_url: must not carry credentials, got "https://u:****@engage.example"`},
		{"engage url empty", func(c *config.Config) { c.Engage.ServerURL = "" }, `config: engage.server_url: must be an absolute http:// or https:// URL, got ""`},
		{"refresh margin", func(c *config.Config) { c.Engage.RefreshMargin = 0 }, `config: engage.refresh_margin: must be a positive duration like "60s", got "0s"`},
		{"rpm zero", func(c *config.Config) { c.Engage.RequestsPerMinute = 0 }, `config: engage.requests_per_minute: must be a positive integer, got 0`},
		{"concurrency zero", func(c *config.Config) { c.Engage.Concurrency = 0 }, `config: engage.concurrency: must be an integer from 1 to 64, got 0`},
		{"concurrency big", func(c *config.Config) { c.Engage.Concurrency = 65 }, `config: engage.concurrency: must be an integer from 1 to 64, got 65`},
		{"no entities", func(c *config.Config) { c.Sync.Entities = nil }, `config: sync.entities: must list at least one of accounts, sub_accounts, users, agent_groups, agents`},
		{"unknown entity", func(c *config.Config) { c.Sync.Entities = []entity.Name{"accounts", "gates"} }, `config: sync.entities: unknown entity "gates"`},
		{"assigned agents page size", func(c *config.Config) { c.Engage.AssignedAgentsPageSize = -1 }, `config: engage.assigned_agents_page_size: must be 0 (full lists) or a page size from 1 to 100000, got -1`},
		{"duplicate entity", func(c *config.Config) { c.Sync.Entities = []entity.Name{"users", "users"} }, `config: sync.entities: entity "users" is listed twice`},
		{"fraction zero", func(c *config.Config) { c.Sync.MaxDeleteFraction = 0 }, `config: sync.max_delete_fraction: must be a number greater than 0 and at most 1, got 0`},
		{"fraction big", func(c *config.Config) { c.Sync.MaxDeleteFraction = 1.5 }, `config: sync.max_delete_fraction: must be a number greater than 0 and at most 1, got 1.5`},
		{"cron garbage", func(c *config.Config) { c.Schedule.Cron = "every day" }, `config: schedule.cron: must be 5 fields`},
		{"cron seconds", func(c *config.Config) { c.Schedule.Cron = "0 0 2 * * *" }, `config: schedule.cron: must be 5 fields`},
		{"cron five fields with seconds on", func(c *config.Config) { c.Schedule.Seconds = true; c.Schedule.Cron = "0 2 * * *" }, `config: schedule.cron: must be 6 fields`},
		{"cron empty", func(c *config.Config) { c.Schedule.Cron = "" }, `config: schedule.cron: `},
		{"cron bad descriptor", func(c *config.Config) { c.Schedule.Cron = "@fortnightly" }, `config: schedule.cron: `},
		{"timezone", func(c *config.Config) { c.Schedule.Timezone = "Mars/Olympus" }, `config: schedule.timezone: must be an IANA time zone name like UTC or Europe/Berlin, got "Mars/Olympus"`},
		{"timezone empty", func(c *config.Config) { c.Schedule.Timezone = "" }, `config: schedule.timezone: must be an IANA time zone name`},
		{"timeout", func(c *config.Config) { c.Schedule.Timeout = -time.Second }, `config: schedule.timeout: must be a positive duration`},
		{"listen no port", func(c *config.Config) { c.HTTP.Listen = "9090" }, `config: http.listen: must be empty (off) or host:port like ":9090" or "127.0.0.1:9090", got "9090"`},
		{"listen bad port", func(c *config.Config) { c.HTTP.Listen = ":99999" }, `config: http.listen: must be empty (off) or host:port`},
		{"staleness", func(c *config.Config) { c.HTTP.ReadyStaleness = 0 }, `config: http.ready_staleness: must be a positive duration`},
		{"log level", func(c *config.Config) { c.Log.Level = "verbose" }, `config: log.level: must be one of debug, info, warn, error, got "verbose"`},
		{"log format", func(c *config.Config) { c.Log.Format = "xml" }, `config: log.format: must be one of auto, text, json, got "xml"`},
		{"grace", func(c *config.Config) { c.Shutdown.GracePeriod = 0 }, `config: shutdown.grace_period: must be a positive duration`},
		{"lock timeout short", func(c *config.Config) { c.Database.LockTimeout = 500 * time.Millisecond }, `config: database.lock_timeout: must be a duration from 1s to 1h like "1m", got "500ms"`},
		{"lock timeout long", func(c *config.Config) { c.Database.LockTimeout = 2 * time.Hour }, `config: database.lock_timeout: must be a duration from 1s to 1h like "1m", got "2h0m0s"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c := config.Default()
			c.RingCentral.ClientSecret, c.RingCentral.JWT = configtest.Secret, configtest.JWT
			tt.mutate(&c)
			err := c.Validate()
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

func TestValidateAccepts(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		mutate func(c *config.Config)
	}{
		{"postgresql scheme", func(c *config.Config) { c.Database.URL = "postgresql://u:p@db/evsync?sslmode=require" }},
		{"unix socket url", func(c *config.Config) { c.Database.URL = "postgres:///evsync?host=/var/run/postgresql" }},
		{"ringcx host", func(c *config.Config) { c.Engage.ServerURL = "https://ringcx.ringcentral.com" }},
		{"http fake", func(c *config.Config) { c.Engage.ServerURL = "http://fake-engage:8090" }},
		{"five fields", func(c *config.Config) { c.Schedule.Cron = "*/15 2-5 * * MON-FRI" }},
		{"every", func(c *config.Config) { c.Schedule.Cron = "@every 1h30m" }},
		{"hourly", func(c *config.Config) { c.Schedule.Cron = "@hourly" }},
		{"cron tz prefix", func(c *config.Config) { c.Schedule.Cron = "CRON_TZ=America/New_York 0 3 * * *" }},
		{"timezone", func(c *config.Config) { c.Schedule.Timezone = "America/Los_Angeles" }},
		{"listen any", func(c *config.Config) { c.HTTP.Listen = ":9090" }},
		{"listen loopback", func(c *config.Config) { c.HTTP.Listen = "127.0.0.1:0" }},
		{"listen ipv6", func(c *config.Config) { c.HTTP.Listen = "[::1]:9090" }},
		{"one entity", func(c *config.Config) { c.Sync.Entities = []entity.Name{"agents"} }},
		{"fraction one", func(c *config.Config) { c.Sync.MaxDeleteFraction = 1 }},
		{"concurrency 64", func(c *config.Config) { c.Engage.Concurrency = 64 }},
		{"schema underscore", func(c *config.Config) { c.Database.Schema = "_tenant_42" }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c := config.Default()
			tt.mutate(&c)
			if err := c.Validate(); err != nil {
				t.Errorf("validate: %v", err)
			}
		})
	}
}

func TestValidateReportsEveryProblem(t *testing.T) {
	t.Parallel()
	c := config.Default()
	c.Engage.Concurrency = 0
	c.Log.Level = "loud"
	c.Schedule.Timezone = "Nowhere/Here"
	err := c.Validate()
	if err == nil {
		t.Fatal("validate: got nil")
	}
	lines := strings.Split(err.Error(), "\n")
	if len(lines) != 3 {
		t.Fatalf("got %d lines, want 3: %q", len(lines), err)
	}
	configtest.CheckErr(t, err, []string{"engage.concurrency", "log.level", "schedule.timezone"})
}

func TestRequireCredentials(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name            string
		id, secret, jwt string
		wantErr         []string
		wantLines       int
	}{
		{"all set", "id", configtest.Secret, configtest.JWT, nil, 0},
		{"none", "", "", "", []string{"ringcentral.client_id: missing; set EVSYNC_RC_CLIENT_ID", "EVSYNC_RC_CLIENT_SECRET or ringcentral.client_secret_file", "EVSYNC_RC_JWT or ringcentral.jwt_file"}, 3},
		{"secret only missing", "id", "", configtest.JWT, []string{"client secret: missing; set EVSYNC_RC_CLIENT_SECRET"}, 1},
		{"jwt only missing", "id", configtest.Secret, "", []string{"JWT: missing; set EVSYNC_RC_JWT"}, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c := config.Default()
			c.RingCentral.ClientID, c.RingCentral.ClientSecret, c.RingCentral.JWT = tt.id, tt.secret, tt.jwt
			err := c.RequireCredentials()
			if tt.wantLines == 0 {
				if err != nil {
					t.Fatalf("requireCredentials: %v", err)
				}
				return
			}
			if err == nil {
				t.Fatal("requireCredentials: got nil")
			}
			if n := len(strings.Split(err.Error(), "\n")); n != tt.wantLines {
				t.Errorf("got %d lines, want %d: %q", n, tt.wantLines, err)
			}
			configtest.CheckErr(t, err, tt.wantErr)
		})
	}
}

func TestMasked(t *testing.T) {
	t.Parallel()
	c := config.Default()
	c.Database.URL = "postgres://evsync:" + configtest.Password + "@db:5432/evsync?sslmode=require&sslpassword=" + configtest.Password
	c.RingCentral.ClientID = "visible-client-id"
	c.RingCentral.ClientSecret = configtest.Secret
	c.RingCentral.JWT = configtest.JWT
	out := c.Masked()
	for _, s := range []string{configtest.Secret, configtest.JWT, configtest.Password} {
		if strings.Contains(out, s) {
			t.Fatalf("masked output leaks %q:\n%s", s, out)
		}
	}
	for _, want := range []string{
		"postgres://evsync:****@db:5432/evsync?",
		"sslpassword=****",
		"visible-client-id",
		"client secret: set",
		"JWT: set",
		"refresh_margin: 1m0s",
		"grace_period: 30s",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("masked output lacks %q:\n%s", want, out)
		}
	}

	// The output is a config file that loads back to the same settings (secrets aside).
	back, err := config.Load(fixture.WriteFile(t, "masked.yaml", out), nil)
	if err != nil {
		t.Fatalf("loading the masked output: %v", err)
	}
	want := c
	want.Database.URL = config.RedactURL(c.Database.URL)
	want.RingCentral.ClientSecret, want.RingCentral.JWT = "", ""
	if diff := cmp.Diff(want, back); diff != "" {
		t.Errorf("masked round trip (-want +got):\n%s", diff)
	}

	unset := config.Default().Masked()
	for _, want := range []string{"client secret: unset", "JWT: unset", "url: postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable"} {
		if !strings.Contains(unset, want) {
			t.Errorf("masked defaults lack %q:\n%s", want, unset)
		}
	}
}

func TestScheduleSecondsAcceptsSixFields(t *testing.T) {
	t.Parallel()
	c := config.Default()
	c.Schedule.Seconds = true
	c.Schedule.Cron = "*/30 * * * * *"
	if err := c.Validate(); err != nil {
		t.Fatalf("validate: %v", err)
	}
	sched, err := c.Schedule.Parse()
	if err != nil {
		t.Fatalf("Parse with a seconds spec: %v", err)
	}
	from := time.Date(2026, 1, 1, 0, 0, 10, 0, time.UTC)
	if got, want := sched.Next(from), from.Add(20*time.Second); !got.Equal(want) {
		t.Errorf("Next(%v) = %v, want %v", from, got, want)
	}
}
