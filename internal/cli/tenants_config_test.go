package cli

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/evsync/evsync/internal/entity"
)

// Without a tenants list the top level is the one tenant "default", exactly as before tenants.
func TestConfigWithoutTenantsIsTheDefaultTenant(t *testing.T) {
	t.Parallel()
	c, err := loadConfig(writeFile(t, "c.yaml", "database: {schema: tenant_a}\nengage: {concurrency: 2}\n"),
		envMap(map[string]string{"EVSYNC_RC_CLIENT_ID": "id", "EVSYNC_RC_CLIENT_SECRET": testSecret, "EVSYNC_RC_JWT": testJWT}))
	if err != nil {
		t.Fatal(err)
	}
	if c.MultiTenant() {
		t.Fatal("MultiTenant() = true without a tenants list")
	}
	ts := c.Tenants()
	if len(ts) != 1 || ts[0].Name != "default" || ts[0].Schema != "tenant_a" || ts[0].Engage.Concurrency != 2 ||
		ts[0].RingCentral.ClientSecret != testSecret || ts[0].RingCentral.JWT != testJWT {
		t.Errorf("Tenants() = %+v, want the top level as tenant default", ts)
	}
	if err := c.requireCredentials(); err != nil {
		t.Errorf("requireCredentials: %v", err)
	}
	if strings.Contains(c.masked(), "tenants") {
		t.Errorf("masked output of a single-tenant config mentions tenants:\n%s", c.masked())
	}
}

// Every key a tenant leaves out is the top level's, key by key; secrets come from the
// tenant's variables, which win over its files, which may be the top level's.
func TestTenantsInheritKeyByKey(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	sharedJWT := filepath.Join(dir, "jwt")
	if err := os.WriteFile(sharedJWT, []byte(testJWT+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	acmeSecret := filepath.Join(dir, "acme-secret")
	if err := os.WriteFile(acmeSecret, []byte("acme-"+testSecret), 0o600); err != nil {
		t.Fatal(err)
	}
	file := writeFile(t, "c.yaml", `
ringcentral:
  client_id: shared-app
  jwt_file: `+sharedJWT+`
engage:
  requests_per_minute: 200
  concurrency: 2
sync:
  entities: [accounts, users]
  tenant_concurrency: 3
schedule:
  cron: '0 2 * * *'
  timezone: Europe/Paris
  retries: 1
tenants:
  - name: acme
    ringcentral: {client_secret_file: `+acmeSecret+`}
    engage: {concurrency: 8}
  - name: globex
    schema: globex_data
    ringcentral: {client_id: globex-app, server_url: 'https://platform.devtest.ringcentral.com'}
    engage: {server_url: 'https://ringcx.ringcentral.com'}
    schedule: {cron: '30 3 * * *'}
    sync: {entities: [agents]}
`)
	c, err := loadConfig(file, envMap(map[string]string{
		"EVSYNC_TENANT_GLOBEX_RC_CLIENT_SECRET": "globex-" + testSecret,
		"EVSYNC_TENANT_ACME_RC_JWT":             "acme-" + testJWT, // wins over the shared file
	}))
	if err != nil {
		t.Fatal(err)
	}
	if err := c.validate(); err != nil {
		t.Fatal(err)
	}
	if err := c.requireCredentials(); err != nil {
		t.Fatal(err)
	}
	top := c.Engage
	want := []Tenant{
		{
			Name: "acme", Schema: "engage_acme",
			RingCentral: RingCentralConfig{ServerURL: c.RingCentral.ServerURL, ClientID: "shared-app",
				ClientSecretFile: acmeSecret, JWTFile: sharedJWT, ClientSecret: "acme-" + testSecret, JWT: "acme-" + testJWT},
			Engage:   withEngage(top, func(e *EngageConfig) { e.Concurrency = 8 }),
			Sync:     c.Sync,
			Schedule: c.Schedule,
		},
		{
			Name: "globex", Schema: "globex_data",
			RingCentral: RingCentralConfig{ServerURL: "https://platform.devtest.ringcentral.com", ClientID: "globex-app",
				JWTFile: sharedJWT, ClientSecret: "globex-" + testSecret, JWT: testJWT},
			Engage: withEngage(top, func(e *EngageConfig) { e.ServerURL = "https://ringcx.ringcentral.com" }),
			Sync: func() SyncConfig {
				s := c.Sync
				s.Entities = []entity.Name{entity.Agents}
				return s
			}(),
			Schedule: func() ScheduleConfig {
				s := c.Schedule
				s.Cron = "30 3 * * *"
				return s
			}(),
		},
	}
	if diff := cmp.Diff(want, c.Tenants()); diff != "" {
		t.Errorf("tenants (-want +got):\n%s", diff)
	}
	if c.Schedule.Timezone != "Europe/Paris" || want[1].Schedule.Timezone != "Europe/Paris" || want[1].Schedule.Retries != 1 {
		t.Errorf("the top-level schedule was not inherited: %+v", want[1].Schedule)
	}
	if !c.MultiTenant() {
		t.Error("MultiTenant() = false with a tenants list")
	}

	// `syncer config` shows every tenant, secrets masked, and loads back.
	out := c.masked()
	for _, s := range []string{testSecret, testJWT} {
		if strings.Contains(out, s) {
			t.Fatalf("masked output leaks a secret:\n%s", out)
		}
	}
	for _, w := range []string{"name: acme", "name: globex", "schema: engage_acme", "schema: globex_data",
		"client secret: set (EVSYNC_TENANT_ACME_RC_CLIENT_SECRET wins over this file)", "JWT: set (EVSYNC_TENANT_GLOBEX_RC_JWT wins over this file)"} {
		if !strings.Contains(out, w) {
			t.Errorf("masked output lacks %q:\n%s", w, out)
		}
	}
	back, err := loadConfig(writeFile(t, "masked.yaml", out), nil)
	if err != nil {
		t.Fatalf("loading the masked output: %v\n%s", err, out)
	}
	if got := back.Tenants(); len(got) != 2 || got[0].Engage.Concurrency != 8 || got[1].Schema != "globex_data" || got[1].Sync.Entities[0] != entity.Agents {
		t.Errorf("the masked output loads back as %+v", got)
	}
}

func withEngage(e EngageConfig, f func(*EngageConfig)) EngageConfig {
	f(&e)
	return e
}

// Each problem of a tenants list is one line naming the entry and the key; the config fails
// to load or to validate, and the CLI exits 2.
func TestTenantsConfigErrors(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	jwt := filepath.Join(dir, "jwt")
	if err := os.WriteFile(jwt, []byte(testJWT), 0o600); err != nil {
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
		{"inline secret", ok + "  - name: globex\n    ringcentral: {jwt: " + testJWT + "}\n", nil,
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
		{"single-tenant env", "tenants:\n" + ok, map[string]string{"EVSYNC_RC_JWT": testJWT},
			[]string{"config: EVSYNC_RC_JWT: is ambiguous with a tenants list"}},
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
			path := writeFile(t, "c.yaml", body)
			c, err := loadConfig(path, envMap(tt.env))
			if err == nil {
				err = c.validate()
			}
			if err == nil {
				t.Fatalf("no error for:\n%s", body)
			}
			checkErr(t, err, tt.want)
			if lines := strings.Count(err.Error(), "\n") + 1; lines != len(tt.want) {
				t.Errorf("%d error lines, want %d: %v", lines, len(tt.want), err)
			}

			// The CLI: exit 2, the same lines, nothing else.
			var stdout, stderr strings.Builder
			code := exitCode(run(t.Context(), []string{"--config", path, "config"}, envMap(tt.env), &stdout, &stderr), &stderr)
			if code != exitUsage {
				t.Errorf("syncer config exited %d, want %d; stderr %q", code, exitUsage, stderr.String())
			}
		})
	}
}

// The tenants example in config.example.yaml, uncommented, is a valid config.
func TestExampleConfigTenantsBlockLoads(t *testing.T) {
	t.Parallel()
	data, err := os.ReadFile(filepath.Join("..", "..", "config.example.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	text := string(data)
	i := strings.Index(text, "# tenants:\n")
	if i < 0 {
		t.Fatal("config.example.yaml has no commented tenants example")
	}
	block := regexp.MustCompile(`(?m)^# ?`).ReplaceAllString(text[i:], "")
	c, err := loadConfig(writeFile(t, "tenants.yaml", block), envMap(map[string]string{
		"EVSYNC_TENANT_ACME_RC_CLIENT_SECRET": testSecret, "EVSYNC_TENANT_ACME_RC_JWT": testJWT,
		"EVSYNC_TENANT_GLOBEX_RC_CLIENT_SECRET": testSecret, "EVSYNC_TENANT_GLOBEX_RC_JWT": testJWT,
	}))
	if err != nil {
		t.Fatalf("loading the example's tenants:\n%s\n%v", block, err)
	}
	if err := c.validate(); err != nil {
		t.Fatal(err)
	}
	if err := c.requireCredentials(); err != nil {
		t.Fatal(err)
	}
	ts := c.Tenants()
	if len(ts) != 2 || ts[1].Schema != "engage_globex" || ts[1].Schedule.Timezone != "America/New_York" || ts[1].Schedule.Timeout != time.Hour {
		t.Errorf("tenants = %+v", ts)
	}
}
