package config_test

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/evsync/evsync/internal/config"
	"github.com/evsync/evsync/internal/entity"
	"github.com/evsync/evsync/internal/testing/fixture"
	"github.com/evsync/evsync/internal/testing/fixture/configtest"
)

// Without a tenants list the top level is the one tenant "default", exactly as before tenants.
func TestConfigWithoutTenantsIsTheDefaultTenant(t *testing.T) {
	t.Parallel()
	c, err := config.Load(fixture.WriteFile(t, "c.yaml", "database: {schema: tenant_a}\nengage: {concurrency: 2}\n"),
		fixture.Env(map[string]string{"EVSYNC_RC_CLIENT_ID": "id", "EVSYNC_RC_CLIENT_SECRET": configtest.Secret, "EVSYNC_RC_JWT": configtest.JWT}))
	if err != nil {
		t.Fatal(err)
	}
	if c.MultiTenant() {
		t.Fatal("MultiTenant() = true without a tenants list")
	}
	ts := c.Tenants()
	if len(ts) != 1 || ts[0].Name != "default" || ts[0].Schema != "tenant_a" || ts[0].Engage.Concurrency != 2 ||
		ts[0].RingCentral.ClientSecret != configtest.Secret || ts[0].RingCentral.JWT != configtest.JWT {
		t.Errorf("Tenants() = %+v, want the top level as tenant default", ts)
	}
	if err := c.RequireCredentials(); err != nil {
		t.Errorf("requireCredentials: %v", err)
	}
	if strings.Contains(c.Masked(), "tenants") {
		t.Errorf("masked output of a single-tenant config mentions tenants:\n%s", c.Masked())
	}
}

// Every key a tenant leaves out is the top level's, key by key; secrets come from the
// tenant's variables, which win over its files, which may be the top level's.
func TestTenantsInheritKeyByKey(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	sharedJWT := filepath.Join(dir, "jwt")
	if err := os.WriteFile(sharedJWT, []byte(configtest.JWT+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	acmeSecret := filepath.Join(dir, "acme-secret")
	if err := os.WriteFile(acmeSecret, []byte("acme-"+configtest.Secret), 0o600); err != nil {
		t.Fatal(err)
	}
	file := fixture.WriteFile(t, "c.yaml", `
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
	c, err := config.Load(file, fixture.Env(map[string]string{
		"EVSYNC_TENANT_GLOBEX_RC_CLIENT_SECRET": "globex-" + configtest.Secret,
		"EVSYNC_TENANT_ACME_RC_JWT":             "acme-" + configtest.JWT, // wins over the shared file
	}))
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	if err := c.RequireCredentials(); err != nil {
		t.Fatal(err)
	}
	top := c.Engage
	want := []config.Tenant{
		{
			Name: "acme", Schema: "engage_acme",
			RingCentral: config.RingCentral{ServerURL: c.RingCentral.ServerURL, ClientID: "shared-app",
				ClientSecretFile: acmeSecret, JWTFile: sharedJWT, ClientSecret: "acme-" + configtest.Secret, JWT: "acme-" + configtest.JWT},
			Engage:   withEngage(top, func(e *config.Engage) { e.Concurrency = 8 }),
			Sync:     c.Sync,
			Schedule: c.Schedule,
			Streams:  c.Streams,
		},
		{
			Name: "globex", Schema: "globex_data",
			RingCentral: config.RingCentral{ServerURL: "https://platform.devtest.ringcentral.com", ClientID: "globex-app",
				JWTFile: sharedJWT, ClientSecret: "globex-" + configtest.Secret, JWT: configtest.JWT},
			Engage: withEngage(top, func(e *config.Engage) { e.ServerURL = "https://ringcx.ringcentral.com" }),
			Sync: func() config.Sync {
				s := c.Sync
				s.Entities = []entity.Name{entity.Agents}
				return s
			}(),
			Schedule: func() config.Schedule {
				s := c.Schedule
				s.Cron = "30 3 * * *"
				return s
			}(),
			Streams: c.Streams,
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
	out := c.Masked()
	for _, s := range []string{configtest.Secret, configtest.JWT} {
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
	back, err := config.Load(fixture.WriteFile(t, "masked.yaml", out), nil)
	if err != nil {
		t.Fatalf("loading the masked output: %v\n%s", err, out)
	}
	if got := back.Tenants(); len(got) != 2 || got[0].Engage.Concurrency != 8 || got[1].Schema != "globex_data" || got[1].Sync.Entities[0] != entity.Agents {
		t.Errorf("the masked output loads back as %+v", got)
	}
}

func withEngage(e config.Engage, f func(*config.Engage)) config.Engage {
	f(&e)
	return e
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
	c, err := config.Load(fixture.WriteFile(t, "tenants.yaml", block), fixture.Env(map[string]string{
		"EVSYNC_TENANT_ACME_RC_CLIENT_SECRET": configtest.Secret, "EVSYNC_TENANT_ACME_RC_JWT": configtest.JWT,
		"EVSYNC_TENANT_GLOBEX_RC_CLIENT_SECRET": configtest.Secret, "EVSYNC_TENANT_GLOBEX_RC_JWT": configtest.JWT,
	}))
	if err != nil {
		t.Fatalf("loading the example's tenants:\n%s\n%v", block, err)
	}
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	if err := c.RequireCredentials(); err != nil {
		t.Fatal(err)
	}
	ts := c.Tenants()
	if len(ts) != 2 || ts[1].Schema != "engage_globex" || ts[1].Schedule.Timezone != "America/New_York" || ts[1].Schedule.Timeout != time.Hour {
		t.Errorf("tenants = %+v", ts)
	}
}
