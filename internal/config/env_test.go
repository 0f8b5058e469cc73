package config_test

import (
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/evsync/evsync/internal/config"
	"github.com/evsync/evsync/internal/entity"
	"github.com/evsync/evsync/internal/testing/fixture"
	"github.com/evsync/evsync/internal/testing/fixture/configtest"
)

// The variables follow one rule, which keeps the names the environment had before it covered
// every key.
func TestEnvName(t *testing.T) {
	t.Parallel()
	tests := []struct{ key, want string }{
		{"engage.requests_per_minute", "EVSYNC_ENGAGE_REQUESTS_PER_MINUTE"},
		{"database.lock_timeout", "EVSYNC_DATABASE_LOCK_TIMEOUT"},
		{"database.url", config.EnvDatabaseURL},
		{"ringcentral.server_url", config.EnvRCServerURL},
		{"ringcentral.client_id", config.EnvRCClientID},
		{"ringcentral.client_secret_file", "EVSYNC_RC_CLIENT_SECRET_FILE"},
		{"ringcentral.jwt_file", "EVSYNC_RC_JWT_FILE"},
		{"engage.server_url", config.EnvEngageURL},
		{"sync.entities", "EVSYNC_SYNC_ENTITIES"},
		{"shutdown.grace_period", "EVSYNC_SHUTDOWN_GRACE_PERIOD"},
	}
	for _, tt := range tests {
		if got := config.EnvName(tt.key); got != tt.want {
			t.Errorf("EnvName(%q) = %q, want %q", tt.key, got, tt.want)
		}
	}
}

// EnvVars has every key of the file (as the masked defaults show them), each with its
// variable by the rule, no two alike, none a secret's or a tenant's.
func TestEnvVarsCoverEveryKey(t *testing.T) {
	t.Parallel()
	keys := fileKeys(t)
	var got []string
	seen := map[string]bool{}
	for _, ev := range config.EnvVars() {
		got = append(got, ev.Key)
		if ev.Name != config.EnvName(ev.Key) {
			t.Errorf("%s: variable %s, the rule says %s", ev.Key, ev.Name, config.EnvName(ev.Key))
		}
		if seen[ev.Name] || ev.Name == config.EnvRCClientSecret || ev.Name == config.EnvRCJWT || strings.HasPrefix(ev.Name, "EVSYNC_TENANT_") {
			t.Errorf("%s: variable %s is taken", ev.Key, ev.Name)
		}
		seen[ev.Name] = true
	}
	if diff := cmp.Diff(keys, got); diff != "" {
		t.Errorf("EnvVars keys differ from the file's keys (-file +env):\n%s", diff)
	}
}

// fileKeys are the dotted keys of the masked defaults, in order: every key a file may set but
// tenants.
func fileKeys(t *testing.T) []string {
	t.Helper()
	var keys []string
	section := ""
	for line := range strings.SplitSeq(config.Default().Masked(), "\n") {
		name, _, ok := strings.Cut(strings.TrimSpace(line), ":")
		switch {
		case !ok || strings.HasPrefix(line, "    "):
		case strings.HasPrefix(line, "  "):
			keys = append(keys, section+"."+name)
		default:
			section = name
		}
	}
	if len(keys) < 30 {
		t.Fatalf("read %d keys from the masked defaults:\n%s", len(keys), config.Default().Masked())
	}
	return keys
}

// Every key's variable sets the key: a valid value other than the default, read as the same
// value in the file would be, and the result validates.
func TestEnvSetsEveryKey(t *testing.T) {
	t.Parallel()
	secretFile := filepath.Join(t.TempDir(), "secret")
	if err := os.WriteFile(secretFile, []byte(configtest.Secret), 0o600); err != nil {
		t.Fatal(err)
	}
	// A valid value for each key of type string (a new one fails the test until it has one).
	strs := map[string]string{
		"database.url":                   "postgres://env@db.example:5432/evsync",
		"database.schema":                "engage_env",
		"database.control_schema":        "evsync_env",
		"ringcentral.server_url":         "https://platform.devtest.ringcentral.com",
		"ringcentral.client_id":          "env-client",
		"ringcentral.client_secret_file": secretFile,
		"ringcentral.jwt_file":           secretFile,
		"engage.server_url":              "https://ringcx.ringcentral.com",
		"schedule.cron":                  "30 2 * * MON-FRI",
		"schedule.timezone":              "Europe/Berlin",
		"http.listen":                    "127.0.0.1:9090",
		"log.level":                      "debug",
		"log.format":                     "json",
		"streams.time_zone":              "America/New_York",
		"streams.schedule":               "*/5 * * * *",
	}
	// The keys whose kind's sample below they would refuse: each's variable and file values.
	special := map[string][2]string{
		"streams.enabled":          {"[]", "[]"},
		"streams.start":            {"30d", "30d"},
		"streams.window":           {"1h", "1h"},
		"streams.audit_window":     {"15m", "15m"},
		"streams.first_delay":      {"10m", "10m"},
		"streams.settle_after":     {"0s", "0s"},
		"streams.reporting_limits": {" 5/1m , 20/1h ,", `["5/1m", "20/1h"]`},
		"streams.redact":           {"ani, source_ip", "[ani, source_ip]"},
	}
	def := reflect.ValueOf(config.Default())
	for _, ev := range config.EnvVars() {
		t.Run(ev.Key, func(t *testing.T) {
			t.Parallel()
			section, name, _ := strings.Cut(ev.Key, ".")
			var envValue, yamlValue string
			switch kind := fieldKind(def, ev.Key); {
			case special[ev.Key] != [2]string{}:
				envValue, yamlValue = special[ev.Key][0], special[ev.Key][1]
			case kind == reflect.String:
				s, ok := strs[ev.Key]
				if !ok {
					t.Fatalf("no test value for the string key %s", ev.Key)
				}
				envValue, yamlValue = s, strconv.Quote(s)
			case kind == reflect.Int64: // durations
				envValue, yamlValue = "17m", "17m"
			case kind == reflect.Int:
				envValue, yamlValue = "7", "7"
			case kind == reflect.Float64:
				envValue, yamlValue = "0.25", "0.25"
			case kind == reflect.Bool:
				envValue, yamlValue = "true", "true"
			case kind == reflect.Slice:
				envValue, yamlValue = " agents, users ,", "[agents, users]"
			default:
				t.Fatalf("no test value for %s of kind %s", ev.Key, fieldKind(def, ev.Key))
			}
			got, err := config.Load("", []string{"PATH=/bin", ev.Name + "=" + envValue})
			if err != nil {
				t.Fatalf("%s=%s: %v", ev.Name, envValue, err)
			}
			fromFile, err := config.Load(fixture.WriteFile(t, "c.yaml", section+":\n  "+name+": "+yamlValue+"\n"), nil)
			if err != nil {
				t.Fatalf("the same in a file: %v", err)
			}
			if diff := cmp.Diff(fromFile, got); diff != "" {
				t.Errorf("%s=%s differs from the file's %s: %s (-file +env):\n%s", ev.Name, envValue, ev.Key, yamlValue, diff)
			}
			if cmp.Equal(config.Default(), got) {
				t.Errorf("%s=%s left the defaults", ev.Name, envValue)
			}
			if err := got.Validate(); err != nil {
				t.Errorf("validate: %v", err)
			}
		})
	}
}

// fieldKind is the kind of the field of the struct v at the dotted key.
func fieldKind(v reflect.Value, key string) reflect.Kind {
	for part := range strings.SplitSeq(key, ".") {
		for i := range v.NumField() {
			if tag, _, _ := strings.Cut(v.Type().Field(i).Tag.Get("yaml"), ","); tag == part {
				v = v.Field(i)
				break
			}
		}
	}
	return v.Kind()
}

// A variable wins over the file; an empty one counts as unset; the secrets are values.
func TestEnvOverFile(t *testing.T) {
	t.Parallel()
	file := fixture.WriteFile(t, "c.yaml", "engage:\n  requests_per_minute: 60\n  concurrency: 8\nsync:\n  entities: [accounts]\n")
	got, err := config.Load(file, fixture.Env(map[string]string{
		"EVSYNC_ENGAGE_REQUESTS_PER_MINUTE": "30",
		"EVSYNC_ENGAGE_CONCURRENCY":         " ",
		"EVSYNC_SYNC_ENTITIES":              "users,agents",
		"EVSYNC_SCHEDULE_TIMEOUT":           "1h30m",
		"EVSYNC_RC_JWT":                     configtest.JWT,
		"EVSYNC_PG_PORT":                    "5433", // docker-compose.yml's, not config
	}))
	if err != nil {
		t.Fatal(err)
	}
	want := config.Default()
	want.Engage.RequestsPerMinute = 30
	want.Engage.Concurrency = 8
	want.Sync.Entities = []entity.Name{entity.Users, entity.Agents}
	want.Schedule.Timeout = 90 * time.Minute
	want.RingCentral.JWT = configtest.JWT
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

// An unknown EVSYNC_ variable and a value that does not parse are config errors, one line
// each, naming the variable (and the key), with "did you mean".
func TestEnvErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		env  map[string]string
		want string // the whole error
	}{
		{"typo", map[string]string{"EVSYNC_DATABSE_URL": "postgres://x@db/y"},
			"config: EVSYNC_DATABSE_URL: unknown variable (did you mean EVSYNC_DATABASE_URL?)"},
		{"singular", map[string]string{"EVSYNC_ENGAGE_REQUEST_PER_MINUTE": "30"},
			"config: EVSYNC_ENGAGE_REQUEST_PER_MINUTE: unknown variable (did you mean EVSYNC_ENGAGE_REQUESTS_PER_MINUTE?)"},
		{"section in full", map[string]string{"EVSYNC_RINGCENTRAL_CLIENT_ID": "id"},
			"config: EVSYNC_RINGCENTRAL_CLIENT_ID: unknown variable (did you mean EVSYNC_RC_CLIENT_ID?)"},
		{"secret typo", map[string]string{"EVSYNC_RC_JWTT": configtest.JWT},
			"config: EVSYNC_RC_JWTT: unknown variable (did you mean EVSYNC_RC_JWT?)"},
		{"far", map[string]string{"EVSYNC_COLOUR": "blue"},
			"config: EVSYNC_COLOUR: unknown variable (every config key has one: EVSYNC_ and the key upper-cased, dots as underscores, ringcentral as RC)"},
		{"tenant without tenants", map[string]string{"EVSYNC_TENANT_ACME_RC_JWT": configtest.JWT},
			"config: EVSYNC_TENANT_ACME_RC_JWT: unknown variable (a tenant's variables need a tenants list in the config file)"},
		{"int", map[string]string{"EVSYNC_ENGAGE_REQUESTS_PER_MINUTE": "fast"},
			`config: EVSYNC_ENGAGE_REQUESTS_PER_MINUTE (engage.requests_per_minute): must be an integer, got "fast"`},
		{"duration", map[string]string{"EVSYNC_DATABASE_LOCK_TIMEOUT": "60"},
			`config: EVSYNC_DATABASE_LOCK_TIMEOUT (database.lock_timeout): must be a duration like "60s" or "1h30m", got "60"`},
		{"float", map[string]string{"EVSYNC_SYNC_MAX_DELETE_FRACTION": "half"},
			`config: EVSYNC_SYNC_MAX_DELETE_FRACTION (sync.max_delete_fraction): must be a number, got "half"`},
		{"bool", map[string]string{"EVSYNC_SCHEDULE_RUN_ON_START": "sometimes"},
			`config: EVSYNC_SCHEDULE_RUN_ON_START (schedule.run_on_start): must be true or false, got "sometimes"`},
		{"null", map[string]string{"EVSYNC_ENGAGE_CONCURRENCY": "null"},
			`config: EVSYNC_ENGAGE_CONCURRENCY (engage.concurrency): must be an integer, got "null"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := config.Load("", fixture.Env(tt.env))
			if err == nil {
				t.Fatal("config.Load: got nil error")
			}
			if err.Error() != tt.want {
				t.Errorf("error:\n got %s\nwant %s", err, tt.want)
			}
			configtest.CheckErr(t, err, nil)
		})
	}

	// An empty typo is unset, as an empty variable is.
	if _, err := config.Load("", []string{"EVSYNC_DATABSE_URL=", "EVSYNC_LOG_LEVL= "}); err != nil {
		t.Errorf("empty unknown variables: %v", err)
	}
	// Every problem is reported, in the variables' order.
	_, err := config.Load("", fixture.Env(map[string]string{"EVSYNC_B": "1", "EVSYNC_A": "1", "EVSYNC_ENGAGE_CONCURRENCY": "x"}))
	if err == nil || strings.Count(err.Error(), "\n") != 2 || !strings.HasPrefix(err.Error(), "config: EVSYNC_A: unknown variable") {
		t.Errorf("several problems: %v", err)
	}
}

// With a tenants list a top-level variable sets the top level, which the tenants inherit
// unless they set the key; the tenants' variables name a tenant of the config and one of its
// two secrets.
func TestEnvWithTenants(t *testing.T) {
	t.Parallel()
	file := fixture.WriteFile(t, "c.yaml", `
tenants:
  - name: acme
  - name: globex
    engage: {requests_per_minute: 60}
`)
	c, err := config.Load(file, fixture.Env(map[string]string{
		"EVSYNC_ENGAGE_REQUESTS_PER_MINUTE":   "30",
		"EVSYNC_RC_JWT_FILE":                  "",
		"EVSYNC_TENANT_ACME_RC_CLIENT_SECRET": configtest.Secret,
		"EVSYNC_TENANT_GLOBEX_RC_JWT":         configtest.JWT,
	}))
	if err != nil {
		t.Fatal(err)
	}
	ts := c.Tenants()
	if c.Engage.RequestsPerMinute != 30 || ts[0].Engage.RequestsPerMinute != 30 || ts[1].Engage.RequestsPerMinute != 60 {
		t.Errorf("requests_per_minute: top %d, acme %d, globex %d; want 30, 30 (inherited), 60 (its own)",
			c.Engage.RequestsPerMinute, ts[0].Engage.RequestsPerMinute, ts[1].Engage.RequestsPerMinute)
	}
	if ts[0].RingCentral.ClientSecret != configtest.Secret || ts[1].RingCentral.JWT != configtest.JWT {
		t.Errorf("the tenants' secret variables were not read")
	}

	tests := []struct {
		name string
		env  map[string]string
		want string
	}{
		{"unknown tenant", map[string]string{"EVSYNC_TENANT_ACMEE_RC_JWT": configtest.JWT},
			"config: EVSYNC_TENANT_ACMEE_RC_JWT: unknown variable (did you mean EVSYNC_TENANT_ACME_RC_JWT?)"},
		{"far tenant", map[string]string{"EVSYNC_TENANT_INITECH_RC_JWT": configtest.JWT},
			"config: EVSYNC_TENANT_INITECH_RC_JWT: unknown variable (a tenant's variables are EVSYNC_TENANT_<NAME>_RC_CLIENT_SECRET and EVSYNC_TENANT_<NAME>_RC_JWT, for the tenants acme, globex)"},
		{"not a secret", map[string]string{"EVSYNC_TENANT_ACME_ENGAGE_CONCURRENCY": "2"},
			"config: EVSYNC_TENANT_ACME_ENGAGE_CONCURRENCY: unknown variable (a tenant's variables are EVSYNC_TENANT_<NAME>_RC_CLIENT_SECRET and EVSYNC_TENANT_<NAME>_RC_JWT, for the tenants acme, globex)"},
		{"single-tenant client id", map[string]string{"EVSYNC_RC_CLIENT_ID": "id"},
			"config: EVSYNC_RC_CLIENT_ID: is ambiguous with a tenants list; set ringcentral.client_id (for every tenant) or tenants[I].ringcentral.client_id instead"},
		{"single-tenant secret", map[string]string{"EVSYNC_RC_CLIENT_SECRET": configtest.Secret},
			"config: EVSYNC_RC_CLIENT_SECRET: is ambiguous with a tenants list; set EVSYNC_TENANT_<NAME>_RC_CLIENT_SECRET or a client_secret_file instead"},
		{"single-tenant schema", map[string]string{"EVSYNC_DATABASE_SCHEMA": "engage"},
			"config: EVSYNC_DATABASE_SCHEMA: is ambiguous with a tenants list; set tenants[I].schema (default engage_<name>) instead"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := config.Load(file, fixture.Env(tt.env))
			if err == nil || err.Error() != tt.want {
				t.Errorf("error:\n got %v\nwant %s", err, tt.want)
			}
		})
	}
}

func TestGetenvFunc(t *testing.T) {
	t.Parallel()
	getenv := config.GetenvFunc([]string{"A=1", "B=x=y", "A=2", "NOEQUALS"})
	for k, want := range map[string]string{"A": "2", "B": "x=y", "NOEQUALS": "", "C": ""} {
		if got := getenv(k); got != want {
			t.Errorf("getenv(%q) = %q, want %q", k, got, want)
		}
	}
}

// GetenvFunc reads a variable as Load does: trimmed, a value of white space unset.
func TestGetenvFuncTrimsAsLoad(t *testing.T) {
	t.Parallel()
	environ := []string{config.EnvDatabaseURL + "=  ", config.EnvEngageURL + "= https://engage.example.com\t", "HOME= /home/x "}
	getenv := config.GetenvFunc(environ)
	c, err := config.Load("", environ)
	if err != nil {
		t.Fatal(err)
	}
	if got := getenv(config.EnvDatabaseURL); got != "" || c.Database.URL != config.Default().Database.URL {
		t.Errorf("%s of white space: getenv = %q, Load's database.url = %q; want both unset", config.EnvDatabaseURL, got, c.Database.URL)
	}
	if got := getenv(config.EnvEngageURL); got != c.Engage.ServerURL || got != "https://engage.example.com" {
		t.Errorf("%s: getenv = %q, Load's engage.server_url = %q; want both https://engage.example.com", config.EnvEngageURL, got, c.Engage.ServerURL)
	}
	if got := getenv("HOME"); got != "/home/x" {
		t.Errorf("getenv(HOME) = %q, want /home/x", got)
	}
	if got := config.GetenvFunc([]string{"A=1", "A= "})("A"); got != "" {
		t.Errorf("getenv(A) after a later empty entry = %q, want unset", got)
	}
}
