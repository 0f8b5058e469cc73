package cli

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"go.yaml.in/yaml/v3"

	"github.com/evsync/evsync/engageclient/engagefake"
	"github.com/evsync/evsync/internal/config"
	"github.com/evsync/evsync/internal/testing/fixture"
	"github.com/evsync/evsync/internal/testing/fixture/configtest"
	"github.com/evsync/evsync/internal/testing/fixture/storetest"
)

// fastYAML lets a test's runs go as fast as the fake answers.
// The entities' tests read no stream (streams_test.go reads them: streamsYAML).
const fastYAML = "engage:\n  requests_per_minute: 60000\n  concurrency: 4\nstreams:\n  enabled: []\n"

// fakeEnv is the environment of a CLI run against fake and the database at dbURL.
func fakeEnv(fake *engagefake.Server, dbURL string) map[string]string {
	return map[string]string{
		config.EnvDatabaseURL:    dbURL,
		config.EnvRCServerURL:    fake.URL(),
		config.EnvEngageURL:      fake.URL(),
		config.EnvRCClientID:     engagefake.ClientIDDefault,
		config.EnvRCClientSecret: engagefake.ClientSecretDefault,
		config.EnvRCJWT:          engagefake.JWTDefault,
	}
}

// smallTenant is a fake tenant of a few dozen rows.
var smallTenant = engagefake.TenantSpec{MainAccounts: 1, SubAccountsPerMain: 2, AgentGroupsPerSubAccount: 1, AgentsPerGroup: 2, Users: 2}

// decodeStrict decodes the one JSON document out into v, refusing keys v does not have, and
// fails the test unless it is all of out.
func decodeStrict(t *testing.T, out string, v any) {
	t.Helper()
	dec := json.NewDecoder(strings.NewReader(out))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		t.Fatalf("decoding %T: %v\n%s", v, err, out)
	}
	if dec.More() {
		t.Fatalf("more than one JSON document on stdout:\n%s", out)
	}
}

// rfc3339UTC fails the test unless s is an RFC 3339 time in UTC.
func rfc3339UTC(t *testing.T, what string, s *string) time.Time {
	t.Helper()
	if s == nil {
		t.Fatalf("%s is null", what)
	}
	tm, err := time.Parse(time.RFC3339Nano, *s)
	if err != nil || !strings.HasSuffix(*s, "Z") {
		t.Fatalf("%s = %q, want RFC 3339 in UTC (%v)", what, *s, err)
	}
	return tm
}

// sync, status and migrate status with --output json: one document on stdout each, every key
// known (DisallowUnknownFields), the values those of the database, the exit code that of the
// text output.
func TestOutputJSONSyncStatusMigrate(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	begun := time.Now()
	fake := fixture.Fake(t, engagefake.Options{Seed: 5, Tenant: smallTenant})
	sdb := storetest.New(t)
	env := fakeEnv(fake, sdb.URL())
	cfg := fixture.WriteFile(t, "c.yaml", fastYAML+"database:\n  schema: "+sdb.Schema+"\n")

	// A partial run: one agents scope refused.
	fake.SetFault(engagefake.EndpointAgents, engagefake.Fault{Status: 403, Times: 1})
	code, stdout, stderr := runCLI(t, env, "--config", cfg, "sync", "--output", "json")
	if code != exitPartial {
		t.Fatalf("sync: exit %d, want %d\nstdout: %s\nstderr: %s", code, exitPartial, stdout, stderr)
	}
	var sd syncDoc
	decodeStrict(t, stdout, &sd)
	if sd.ExitCode != exitPartial || len(sd.Tenants) != 1 {
		t.Fatalf("sync document: exit_code %d, %d tenants, want %d and 1:\n%s", sd.ExitCode, len(sd.Tenants), exitPartial, stdout)
	}
	st := sd.Tenants[0]
	var (
		runID                       int64
		status, runErr              string
		requests, inserted, fetched int64
		started, finished           time.Time
	)
	if err := sdb.Pool.QueryRow(ctx, "SELECT run_id, status, coalesce(error, ''), api_requests, inserted, fetched, started_at, finished_at FROM "+
		sdb.Schema+".sync_runs ORDER BY run_id DESC LIMIT 1").Scan(&runID, &status, &runErr, &requests, &inserted, &fetched, &started, &finished); err != nil {
		t.Fatal(err)
	}
	if st.RunID == nil || *st.RunID != runID || st.Status != status || st.Status != "partial" || st.ExitCode != exitPartial ||
		st.Tenant != config.TenantDefault || st.Schema != sdb.Schema || st.DryRun || st.API.Requests != requests {
		t.Errorf("tenant document %+v, want run %d %s, %d requests, schema %s", st, runID, status, requests, sdb.Schema)
	}
	if st.Error == nil || *st.Error != runErr {
		t.Errorf("error = %v, want the recorded %q", st.Error, runErr)
	}
	if got := rfc3339UTC(t, "started_at", st.StartedAt); got.Sub(started).Abs() > time.Second {
		t.Errorf("started_at %s, recorded %s", got, started)
	}
	rfc3339UTC(t, "finished_at", st.FinishedAt)
	if st.DurationSeconds == nil || *st.DurationSeconds <= 0 || *st.DurationSeconds > time.Since(begun).Seconds() {
		t.Errorf("duration_seconds = %v", st.DurationSeconds)
	}
	var sumIns, sumFetched int64
	for _, e := range st.Entities {
		sumIns += e.Inserted
		sumFetched += e.Fetched
	}
	if sumIns != inserted || sumFetched != fetched || len(st.Entities) == 0 {
		t.Errorf("entities inserted %d fetched %d, recorded %d and %d", sumIns, sumFetched, inserted, fetched)
	}
	if len(st.FailedScopes) != 1 || st.FailedScopes[0].Entity != "agents" || st.FailedScopes[0].Status != "failed" ||
		!strings.Contains(st.FailedScopes[0].Error, "403") {
		t.Errorf("failed_scopes = %+v, want the one agents scope refused with 403", st.FailedScopes)
	}
	if strings.Contains(stdout, "run 1 partial") || strings.Contains(stderr, `"{`) {
		t.Errorf("the text summary was printed too:\n%s", stdout)
	}

	// status: the run and the entities' counts as the database has them.
	code, stdout, stderr = runCLI(t, env, "--config", cfg, "status", "--output", "json")
	if code != exitOK {
		t.Fatalf("status: exit %d\nstdout: %s\nstderr: %s", code, stdout, stderr)
	}
	var sts statusDoc
	decodeStrict(t, stdout, &sts)
	if len(sts.Tenants) != 1 || len(sts.Tenants[0].Runs) != 1 {
		t.Fatalf("status document: want one tenant with one run:\n%s", stdout)
	}
	tst := sts.Tenants[0]
	r := tst.Runs[0]
	if r.RunID != runID || r.Status != "partial" || r.Trigger != "manual" || r.APIRequests != requests || r.Inserted != inserted ||
		r.Error == nil || *r.Error != runErr || r.DurationSeconds <= 0 {
		t.Errorf("run %+v, want run %d partial, %d requests, %d inserted", r, runID, requests, inserted)
	}
	rfc3339UTC(t, "runs[0].started_at", r.StartedAt)
	rfc3339UTC(t, "runs[0].finished_at", r.FinishedAt)
	if tst.APIFields.Paths == 0 || tst.APIFields.LatestRunID == nil || *tst.APIFields.LatestRunID != runID || tst.APIFields.LastChangeRunID != nil {
		t.Errorf("api_fields = %+v", tst.APIFields)
	}
	for _, e := range tst.Entities {
		var live int64
		if err := sdb.Pool.QueryRow(ctx, "SELECT count(*) FROM "+sdb.Schema+"."+string(e.Entity)+" WHERE deleted_at IS NULL").Scan(&live); err != nil {
			t.Fatal(err)
		}
		if e.Live != live {
			t.Errorf("%s: live %d, the table has %d", e.Entity, e.Live, live)
		}
		switch e.Entity {
		case "agents": // its one scope failed: never complete
			if e.LastSuccessRunID != nil || e.LastSuccessAt != nil || e.AgeSeconds != nil {
				t.Errorf("agents: %+v, want never complete (nulls)", e)
			}
		case "accounts":
			if e.LastSuccessRunID == nil || *e.LastSuccessRunID != runID || e.AgeSeconds == nil || *e.AgeSeconds < 0 {
				t.Errorf("accounts: %+v, want complete in run %d", e, runID)
			}
			rfc3339UTC(t, "accounts.last_success_at", e.LastSuccessAt)
		}
	}

	// migrate status: every migration applied, with its time.
	code, stdout, stderr = runCLI(t, env, "--config", cfg, "migrate", "status", "--output", "json")
	if code != exitOK {
		t.Fatalf("migrate status: exit %d\nstdout: %s\nstderr: %s", code, stdout, stderr)
	}
	var ms migrateStatusDoc
	decodeStrict(t, stdout, &ms)
	if len(ms.Tenants) != 1 || !ms.Tenants[0].SchemaExists || ms.Tenants[0].Pending != 0 || ms.Tenants[0].Schema != sdb.Schema {
		t.Fatalf("migrate status document:\n%s", stdout)
	}
	var versions []int64
	if err := func() error {
		rows, err := sdb.Pool.Query(ctx, "SELECT version_id FROM "+sdb.Schema+".goose_db_version WHERE version_id > 0 AND is_applied ORDER BY version_id")
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var v int64
			if err := rows.Scan(&v); err != nil {
				return err
			}
			versions = append(versions, v)
		}
		return rows.Err()
	}(); err != nil {
		t.Fatal(err)
	}
	var got []int64
	for _, m := range ms.Tenants[0].Migrations {
		got = append(got, m.Version)
		if !m.Applied || m.Name == "" || !strings.HasSuffix(m.File, ".sql") || !strings.Contains(m.File, m.Name) {
			t.Errorf("migration %+v", m)
		}
		rfc3339UTC(t, "applied_at", m.AppliedAt)
	}
	if diff := cmp.Diff(versions, got); diff != "" {
		t.Errorf("migration versions (-database +document):\n%s", diff)
	}
	if ms.Tenants[0].Migrations[0].Name != "create_tables" {
		t.Errorf("first migration's name %q, want create_tables", ms.Tenants[0].Migrations[0].Name)
	}

	// A schema never migrated: every migration pending, applied_at null.
	code, stdout, _ = runCLI(t, env, "--config", fixture.WriteFile(t, "d.yaml", "database:\n  schema: never_made\n"), "migrate", "status", "--output", "json")
	ms = migrateStatusDoc{}
	decodeStrict(t, stdout, &ms)
	if code != exitOK || ms.Tenants[0].SchemaExists || ms.Tenants[0].Pending != len(versions) || ms.Tenants[0].Migrations[0].Applied ||
		ms.Tenants[0].Migrations[0].AppliedAt != nil || !bytes.Contains([]byte(stdout), []byte(`"applied_at": null`)) {
		t.Errorf("migrate status of a missing schema: exit %d\n%s", code, stdout)
	}

	// --output on migrate up is refused, not ignored.
	if code, _, stderr := runCLI(t, env, "--config", cfg, "migrate", "up", "--output", "json"); code != exitUsage || !strings.Contains(stderr, "--output") {
		t.Errorf("migrate up --output json: exit %d, stderr %q; want exit 2 naming --output", code, stderr)
	}
}

// config --output json: the effective configuration, its secrets masked as the YAML masks
// them, durations in seconds.
func TestOutputJSONConfig(t *testing.T) {
	t.Parallel()
	env := map[string]string{
		config.EnvDatabaseURL:    "postgres://syncer:" + configtest.Secret + "@db:5432/evsync?sslmode=disable",
		config.EnvRCClientID:     "id",
		config.EnvRCClientSecret: configtest.Secret,
		config.EnvRCJWT:          configtest.JWT,
	}
	cfg := fixture.WriteFile(t, "c.yaml", "sync:\n  timeout: 90s\n")
	code, stdout, stderr := runCLI(t, env, "--config", cfg, "config", "--output", "json")
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	for _, s := range []string{configtest.Secret, configtest.JWT} {
		if strings.Contains(stdout, s) {
			t.Errorf("the output holds a secret:\n%s", stdout)
		}
	}
	var doc map[string]any
	decodeStrict(t, stdout, &doc)
	db := doc["database"].(map[string]any)
	rc := doc["ringcentral"].(map[string]any)
	sync := doc["sync"].(map[string]any)
	if db["url"] != "postgres://syncer:****@db:5432/evsync?sslmode=disable" {
		t.Errorf("database.url = %v, want the password masked", db["url"])
	}
	if rc["client_secret_set"] != true || rc["jwt_set"] != true || rc["client_id"] != "id" {
		t.Errorf("ringcentral = %v, want client_secret_set and jwt_set true", rc)
	}
	if sync["timeout"] != 90.0 {
		t.Errorf("sync.timeout = %v, want 90 (seconds)", sync["timeout"])
	}
	if _, ok := doc["tenants"]; !ok || doc["tenants"] != nil {
		t.Errorf("tenants = %v, want null without a tenants list", doc["tenants"])
	}
	// Every section of the YAML output is there.
	var yamlDoc map[string]any
	_, text, _ := runCLI(t, env, "--config", cfg, "config")
	if err := yaml.Unmarshal([]byte(text), &yamlDoc); err != nil {
		t.Fatal(err)
	}
	for k := range yamlDoc {
		if _, ok := doc[k]; !ok {
			t.Errorf("section %s of the YAML output is missing from the JSON", k)
		}
	}
}

// docs/output.md describes every key of each document, in the command's section.
func TestOutputJSONDocumented(t *testing.T) {
	t.Parallel()
	data, err := os.ReadFile(filepath.Join("..", "..", "docs", "output.md"))
	if err != nil {
		t.Fatal(err)
	}
	doc := string(data)
	tests := []struct {
		section string
		typ     reflect.Type
	}{
		{"## syncer status", reflect.TypeFor[statusDoc]()},
		{"## syncer sync", reflect.TypeFor[syncDoc]()},
		{"## syncer backfill", reflect.TypeFor[syncDoc]()},
		{"## syncer migrate status", reflect.TypeFor[migrateStatusDoc]()},
	}
	for _, tt := range tests {
		_, section, ok := strings.Cut(doc, tt.section+"\n")
		if !ok {
			t.Errorf("docs/output.md has no section %q", tt.section)
			continue
		}
		section, _, _ = strings.Cut(section, "\n## ")
		for _, path := range jsonPaths(tt.typ, "") {
			name := path[strings.LastIndexAny(path, ".")+1:]
			if !strings.Contains(section, "`"+path+"`") && !strings.Contains(section, "`"+name+"`") {
				t.Errorf("%s: key %s is not described", tt.section, path)
			}
		}
	}
}

// jsonPaths lists the keys of the JSON of typ, as paths ("tenants[].run_id").
func jsonPaths(typ reflect.Type, prefix string) []string {
	for typ.Kind() == reflect.Pointer {
		typ = typ.Elem()
	}
	var out []string
	for i := range typ.NumField() {
		f := typ.Field(i)
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		path := prefix + name
		out = append(out, path)
		ft := f.Type
		for ft.Kind() == reflect.Pointer {
			ft = ft.Elem()
		}
		switch {
		case ft.Kind() == reflect.Slice && ft.Elem().Kind() == reflect.Struct:
			out = append(out, jsonPaths(ft.Elem(), path+"[].")...)
		case ft.Kind() == reflect.Struct:
			out = append(out, jsonPaths(ft, path+".")...)
		}
	}
	return out
}

// With a tenants list, sync and status --output json print one document holding every tenant;
// a tenant that failed has its error and what to check, and the exit code is the worst.
func TestOutputJSONSeveralTenants(t *testing.T) {
	t.Parallel()
	fake := fixture.Fake(t, engagefake.Options{Seed: 21, Tenant: smallTenant})
	sdb := storetest.New(t)
	env := fakeEnv(fake, sdb.URL())
	delete(env, config.EnvRCJWT)
	delete(env, config.EnvRCClientSecret)
	delete(env, config.EnvRCClientID)
	env[config.TenantEnv("acme", "RC_JWT")] = engagefake.JWTDefault
	env[config.TenantEnv("acme", "RC_CLIENT_SECRET")] = engagefake.ClientSecretDefault
	env[config.TenantEnv("globex", "RC_JWT")] = "not-the-jwt"
	env[config.TenantEnv("globex", "RC_CLIENT_SECRET")] = engagefake.ClientSecretDefault
	cfg := fixture.WriteFile(t, "c.yaml", fastYAML+"ringcentral:\n  client_id: "+engagefake.ClientIDDefault+"\ntenants:\n  - name: acme\n  - name: globex\n")

	code, stdout, stderr := runCLI(t, env, "--config", cfg, "sync", "--output", "json")
	if code != exitFailed {
		t.Fatalf("exit %d, want 1\nstdout: %s\nstderr: %s", code, stdout, stderr)
	}
	var sd syncDoc
	decodeStrict(t, stdout, &sd)
	if sd.ExitCode != exitFailed || len(sd.Tenants) != 2 {
		t.Fatalf("document: exit_code %d, %d tenants; want 1 and 2:\n%s", sd.ExitCode, len(sd.Tenants), stdout)
	}
	acme, globex := sd.Tenants[0], sd.Tenants[1]
	if acme.Tenant != "acme" || acme.Schema != "engage_acme" || acme.Status != "succeeded" || acme.ExitCode != exitOK || acme.Error != nil ||
		len(acme.Entities) == 0 {
		t.Errorf("acme: %+v, want succeeded in engage_acme", acme)
	}
	if globex.Tenant != "globex" || globex.Status != "failed" || globex.ExitCode != exitFailed || globex.Error == nil ||
		!strings.Contains(*globex.Error, "invalid_grant") ||
		!strings.Contains(*globex.Error, "check the JWT (EVSYNC_TENANT_GLOBEX_RC_JWT or tenant globex's ringcentral.jwt_file)") {
		t.Errorf("globex: %+v, want failed on invalid_grant, naming its JWT", globex)
	}
	if strings.Contains(stderr, "syncer: ") {
		t.Errorf("a final stderr line repeats the document:\n%s", stderr)
	}

	code, stdout, stderr = runCLI(t, env, "--config", cfg, "status", "--output", "json")
	var st statusDoc
	decodeStrict(t, stdout, &st)
	if code != exitOK || len(st.Tenants) != 2 || st.Tenants[0].Tenant != "acme" || st.Tenants[1].Schema != "engage_globex" ||
		len(st.Tenants[1].Runs) != 1 || st.Tenants[1].Runs[0].Status != "failed" {
		t.Errorf("status: exit %d\nstdout: %s\nstderr: %s", code, stdout, stderr)
	}

	code, stdout, _ = runCLI(t, env, "--config", cfg, "config", "--output", "json")
	var doc map[string]any
	decodeStrict(t, stdout, &doc)
	ts, _ := doc["tenants"].([]any)
	if code != exitOK || len(ts) != 2 || strings.Contains(stdout, engagefake.JWTDefault) || strings.Contains(stdout, engagefake.ClientSecretDefault) {
		t.Fatalf("config: exit %d, want two tenants and no secret:\n%s", code, stdout)
	}
	rc := ts[1].(map[string]any)["ringcentral"].(map[string]any)
	if rc["jwt_set"] != true || rc["client_secret_set"] != true {
		t.Errorf("globex's ringcentral: %v, want its secrets set", rc)
	}
	if _, ok := doc["database"].(map[string]any)["schema"]; ok {
		t.Errorf("database.schema is shown with a tenants list")
	}
}
