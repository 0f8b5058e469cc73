package cli

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/jackc/pgx/v5"

	"github.com/evsync/evsync/engageclient/engagefake"
	"github.com/evsync/evsync/internal/config"
	"github.com/evsync/evsync/internal/testing/dbtest"
	"github.com/evsync/evsync/internal/testing/fixture"
	"github.com/evsync/evsync/internal/testing/fixture/storetest"
)

// checkNames are the checks of a tenant that selects every entity, in order.
var checkNames = []string{"config", "database", "schema", "ringcentral_jwt", "engage_exchange", "accounts", "users",
	"agent_groups", "queue_groups", "dial_groups", "audit_log", "reporting", "revoke"}

// checkSetup is a fake Engage server and the environment of a check against it and dbURL.
func checkSetup(t *testing.T, opts engagefake.Options, dbURL string) (*engagefake.Server, map[string]string) {
	t.Helper()
	opts.Seed = 23
	opts.Tenant = engagefake.TenantSpec{MainAccounts: 1, SubAccountsPerMain: 2, AgentGroupsPerSubAccount: 2, AgentsPerGroup: 2, Users: 3}
	fake := fixture.Fake(t, opts)
	o := fake.Options()
	return fake, map[string]string{
		config.EnvDatabaseURL:    dbURL,
		config.EnvRCServerURL:    fake.URL(),
		config.EnvEngageURL:      fake.URL(),
		config.EnvRCClientID:     o.ClientID,
		config.EnvRCClientSecret: o.ClientSecret,
		config.EnvRCJWT:          o.JWT,
	}
}

// runCheck runs syncer check --output json with yaml as its config file ("" for none) and
// returns the exit code, the parsed report and stderr.
func runCheck(t *testing.T, fake *engagefake.Server, env map[string]string, yaml string, args ...string) (int, checkReport, string) {
	t.Helper()
	if yaml == "" {
		yaml = "engage:\n  requests_per_minute: 6000\n"
	}
	all := append([]string{"--config", fixture.WriteFile(t, "c.yaml", yaml), "check", "--output", "json"}, args...)
	code, stdout, stderr := runCLI(t, env, all...)
	var rep checkReport
	if err := json.Unmarshal([]byte(stdout), &rep); err != nil {
		t.Fatalf("stdout is not the JSON report: %v\nstdout: %s\nstderr: %s", err, stdout, stderr)
	}
	fixture.NoSecrets(t, fake, "check's output", stdout, stderr)
	// Every RingCentral token the check obtained is revoked, and its Engage session logged out.
	if n := fake.LiveRCTokens(); n != 0 {
		t.Errorf("%d RingCentral tokens left live, want every one revoked", n)
	}
	if st := fake.Stats(); st.Exchanges > 0 && st.Requests[engagefake.EndpointLogout] != st.Exchanges {
		t.Errorf("%d logouts for %d exchanges", st.Requests[engagefake.EndpointLogout], st.Exchanges)
	}
	return code, rep, stderr
}

// byName returns a tenant's checks by name, and fails unless they are the named ones in order.
func byName(t *testing.T, tc tenantCheck, names []string) map[string]checkResult {
	t.Helper()
	out := map[string]checkResult{}
	var got []string
	for _, c := range tc.Checks {
		out[c.Name] = c
		got = append(got, c.Name)
	}
	if diff := cmp.Diff(names, got); diff != "" {
		t.Errorf("checks (-want +got):\n%s", diff)
	}
	return out
}

// catalog is what the database at dbURL holds outside the system schemas (dbtest.Catalog).
func catalog(t *testing.T, dbURL string) []string {
	t.Helper()
	conn, err := pgx.Connect(t.Context(), dbURL)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	return dbtest.Catalog(t, conn, "engage")
}

// Against the fake and a fresh database every check passes (exit 0), each with the answer it
// got, and the check writes nothing: no schema on a fresh database, no relation and no run in
// a migrated one.
func TestCheckAllPass(t *testing.T) {
	t.Parallel()
	for _, migrated := range []bool{false, true} {
		dbURL := dbtest.NewURL(t)
		if migrated {
			dbURL = dbtest.NewMigratedURL(t)
		}
		before := catalog(t, dbURL)
		fake, env := checkSetup(t, engagefake.Options{AuditDays: -1, CallDays: -1}, dbURL)
		code, rep, stderr := runCheck(t, fake, env, "")
		if code != exitOK || !rep.OK || len(rep.Tenants) != 1 {
			t.Fatalf("migrated=%v: exit %d, report %+v, stderr %s", migrated, code, rep, stderr)
		}
		checks := byName(t, rep.Tenants[0], checkNames)
		for _, c := range rep.Tenants[0].Checks {
			if c.Status != checkOK {
				t.Errorf("check %s: %s %q, want ok", c.Name, c.Status, c.Detail)
			}
		}
		if want := (checkSummary{OK: len(checkNames)}); rep.Summary != want {
			t.Errorf("summary = %+v, want %+v", rep.Summary, want)
		}
		wantSchema := "schema engage does not exist; role postgres may create it"
		if migrated {
			wantSchema = "schema engage exists; role postgres may use it and create in it"
		}
		sub := fake.SubAccountIDs()[0]
		for name, want := range map[string]string{
			"database":     "PostgreSQL ",
			"schema":       wantSchema,
			"accounts":     "200, 2 sub-accounts of 1 main account",
			"users":        "200, 3 users",
			"agent_groups": "200, 2 agent groups in sub-account " + sub,
			"audit_log":    "200, 0 audit log entries of sub-account " + sub,
			"reporting":    "200, 0 queue stats rows (agg-queue-stats) of sub-account " + sub,
		} {
			if !strings.HasPrefix(checks[name].Detail, want) {
				t.Errorf("migrated=%v: %s detail = %q, want it to start %q", migrated, name, checks[name].Detail, want)
			}
		}
		if after := catalog(t, dbURL); !slices.Equal(before, after) {
			t.Errorf("migrated=%v: the check changed the database (-before +after):\n%s", migrated, cmp.Diff(before, after))
		}
	}
}

// The text output is a table of the checks and a summary line.
func TestCheckTextTable(t *testing.T) {
	t.Parallel()
	fake, env := checkSetup(t, engagefake.Options{}, dbtest.NewURL(t))
	code, stdout, stderr := runCLI(t, env, "--config", fixture.WriteFile(t, "c.yaml", "engage:\n  requests_per_minute: 6000\n"), "check")
	if code != exitOK {
		t.Fatalf("exit %d\nstdout: %s\nstderr: %s", code, stdout, stderr)
	}
	lines := strings.Split(strings.TrimSpace(stdout), "\n")
	if len(lines) != len(checkNames)+3 || !strings.HasPrefix(lines[0], "check ") || !strings.Contains(lines[0], "status") {
		t.Fatalf("stdout:\n%s", stdout)
	}
	for i, name := range checkNames {
		if f := strings.Fields(lines[i+1]); len(f) < 2 || f[0] != name || f[1] != checkOK {
			t.Errorf("line %q, want check %s ok", lines[i+1], name)
		}
	}
	if want := "13 ok, 0 failed, 0 skipped: ready to sync"; lines[len(lines)-1] != want {
		t.Errorf("last line %q, want %q", lines[len(lines)-1], want)
	}
	fixture.NoSecrets(t, fake, "check's output", stdout, stderr)
}

// A JWT that RingCentral refuses fails the grant check, naming where the JWT comes from; every
// check that needs a token is skipped; exit 1.
func TestCheckBadJWT(t *testing.T) {
	t.Parallel()
	fake, env := checkSetup(t, engagefake.Options{}, dbtest.NewURL(t))
	env[config.EnvRCJWT] = "eyJhbGciOi.not-the-right-jwt.sig"
	code, rep, stderr := runCheck(t, fake, env, "")
	if code != exitFailed || rep.OK {
		t.Fatalf("exit %d, ok %v, want 1 and false", code, rep.OK)
	}
	checks := byName(t, rep.Tenants[0], checkNames[:len(checkNames)-1]) // no token, nothing to revoke
	jwt := checks["ringcentral_jwt"]
	if jwt.Status != checkFail || !strings.Contains(jwt.Detail, "invalid_grant") || !strings.Contains(jwt.Detail, "EVSYNC_RC_JWT or ringcentral.jwt_file") {
		t.Errorf("ringcentral_jwt = %+v, want a failure naming EVSYNC_RC_JWT or ringcentral.jwt_file", jwt)
	}
	for _, name := range checkNames[4 : len(checkNames)-1] {
		if c := checks[name]; c.Status != checkSkip || c.Detail != "the RingCentral JWT grant failed" {
			t.Errorf("%s = %+v, want skipped after the grant", name, c)
		}
	}
	if checks["database"].Status != checkOK || checks["schema"].Status != checkOK {
		t.Errorf("database/schema = %+v / %+v, want ok: they do not need the API", checks["database"], checks["schema"])
	}
	if !strings.Contains(stderr, "syncer: 1 of 12 checks failed") || strings.Contains(stderr, "not-the-right-jwt") {
		t.Errorf("stderr = %q", stderr)
	}
}

// With a tenants list, a refused JWT names the tenant's variable and key, as a sync's error
// does.
func TestCheckBadJWTOfATenant(t *testing.T) {
	t.Parallel()
	fake, env := checkSetup(t, engagefake.Options{}, dbtest.NewURL(t))
	env["EVSYNC_TENANT_ACME_RC_JWT"] = "eyJhbGciOi.not-the-right-jwt.sig"
	env["EVSYNC_TENANT_ACME_RC_CLIENT_SECRET"] = env[config.EnvRCClientSecret]
	delete(env, config.EnvRCJWT)
	delete(env, config.EnvRCClientSecret)
	delete(env, config.EnvRCClientID)
	yaml := "engage:\n  requests_per_minute: 6000\nringcentral:\n  client_id: " + fake.Options().ClientID + "\ntenants:\n  - name: acme\n"
	code, rep, _ := runCheck(t, fake, env, yaml, "--tenant", "acme")
	if code != exitFailed || len(rep.Tenants) != 1 || rep.Tenants[0].Tenant != "acme" || rep.Tenants[0].Schema != "engage_acme" {
		t.Fatalf("exit %d, report %+v", code, rep)
	}
	jwt := byName(t, rep.Tenants[0], checkNames[:len(checkNames)-1])["ringcentral_jwt"]
	if want := "EVSYNC_TENANT_ACME_RC_JWT or tenant acme's ringcentral.jwt_file"; jwt.Status != checkFail || !strings.Contains(jwt.Detail, want) {
		t.Errorf("ringcentral_jwt = %+v, want a failure naming %s", jwt, want)
	}
}

// A role that may not create the missing schema fails the schema check with what to grant;
// the same role owning its schema passes.
func TestCheckRoleMayNotCreateSchema(t *testing.T) {
	t.Parallel()
	u := dbtest.NewURL(t)
	tests := []struct {
		name       string
		schemas    []string // the role owns these
		wantStatus string
		want       []string
	}{
		{"missing schema", nil, checkFail, []string{"schema engage does not exist and role ", " may not create it: create it for the role (CREATE SCHEMA \"engage\" AUTHORIZATION ", "GRANT CREATE ON DATABASE "}},
		{"owned schema", []string{"engage"}, checkOK, []string{"schema engage exists; role ", " may use it and create in it"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// Not parallel: both roles change the privileges of the one database.
			roleURL := dbtest.NewRole(t, u, tt.schemas...)
			fake, env := checkSetup(t, engagefake.Options{}, roleURL)
			code, rep, _ := runCheck(t, fake, env, "")
			schema := byName(t, rep.Tenants[0], checkNames)["schema"]
			wantCode := map[string]int{checkOK: exitOK, checkFail: exitFailed}[tt.wantStatus]
			if code != wantCode || schema.Status != tt.wantStatus {
				t.Errorf("exit %d, schema %+v; want exit %d, %s", code, schema, wantCode, tt.wantStatus)
			}
			for _, w := range tt.want {
				if !strings.Contains(schema.Detail, w) {
					t.Errorf("schema detail %q lacks %q", schema.Detail, w)
				}
			}
		})
	}
}

// An entitlement the user or the account lacks fails its check with what to ask for; the
// other checks pass, and entities that are not selected are not requested.
func TestCheckEntitlements(t *testing.T) {
	t.Parallel()
	dbURL := dbtest.NewMigratedURL(t)
	tests := []struct {
		name       string
		opts       engagefake.Options
		yaml       string
		failed     string // the one failing check, "" for none
		want       string // in its detail
		skipped    []string
		unrequired []string // endpoints never requested
		mutate     func(*engagefake.Tenant) error
		requested  []string // endpoints requested once
	}{
		{name: "no WEM access", opts: engagefake.Options{NoWEMAccess: []string{"20001"}}, failed: "reporting",
			want: "403: You do not have permission to access this resource (WEM Access is not enabled for sub-account 20001): not entitled: ask RingCentral for WEM Access on sub-account 20001"},
		{name: "no audit log access", opts: engagefake.Options{NoAuditLogAccess: true}, failed: "audit_log",
			want: "403: Forbidden (the user lacks the Audit log access permission): the user needs the Audit log access permission (RingCX admin: Users > Administrators)"},
		{name: "no MANAGE_USERS", opts: engagefake.Options{NoManageUsers: true}, failed: "users",
			want: "403: Forbidden (listing users needs the MANAGE_USERS or SUPER_USER permission): the user needs the MANAGE_USERS or SUPER_USER permission"},
		{name: "users not selected", opts: engagefake.Options{NoManageUsers: true}, yaml: "sync:\n  entities: [agents]\n",
			skipped: []string{"users", "queue_groups", "dial_groups"}, unrequired: []string{engagefake.EndpointUsers, engagefake.EndpointGateGroups, engagefake.EndpointDialGroups}},
		{name: "listing without rcAccountId", mutate: func(tn *engagefake.Tenant) error {
			return tn.UpdateMainAccount("10001", "rcAccountId", engagefake.Omit)
		}, requested: []string{engagefake.EndpointRCAccount, engagefake.EndpointQueueStats}},
		{name: "rcAccountId from the listing", unrequired: []string{engagefake.EndpointRCAccount}, requested: []string{engagefake.EndpointQueueStats}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			fake, env := checkSetup(t, tt.opts, dbURL)
			if tt.mutate != nil {
				if err := fake.Mutate(tt.mutate); err != nil {
					t.Fatal(err)
				}
			}
			code, rep, stderr := runCheck(t, fake, env, "engage:\n  requests_per_minute: 6000\n"+tt.yaml)
			wantCode := exitOK
			if tt.failed != "" {
				wantCode = exitFailed
			}
			if code != wantCode || rep.OK != (tt.failed == "") {
				t.Errorf("exit %d, ok %v; want %d", code, rep.OK, wantCode)
			}
			checks := byName(t, rep.Tenants[0], checkNames)
			for _, c := range rep.Tenants[0].Checks {
				want := checkOK
				switch {
				case c.Name == tt.failed:
					want = checkFail
				case slices.Contains(tt.skipped, c.Name):
					want = checkSkip
				}
				if c.Status != want {
					t.Errorf("%s = %s %q, want %s", c.Name, c.Status, c.Detail, want)
				}
			}
			if tt.failed != "" {
				if got := checks[tt.failed].Detail; got != tt.want {
					t.Errorf("%s detail = %q, want %q", tt.failed, got, tt.want)
				}
				if !strings.Contains(stderr, "syncer: 1 of 13 checks failed") {
					t.Errorf("stderr = %q", stderr)
				}
			}
			for _, e := range tt.requested {
				if n := fake.Stats().Requests[e]; n != 1 {
					t.Errorf("%d requests to %s, want 1", n, e)
				}
			}
			for _, e := range tt.unrequired {
				if n := fake.Stats().Requests[e]; n != 0 {
					t.Errorf("%d requests to %s, want none", n, e)
				}
			}
		})
	}
}

// An unreachable database fails its check naming database.url, and skips the schema check;
// the API checks still run.
func TestCheckDatabaseUnreachable(t *testing.T) {
	t.Parallel()
	fake, env := checkSetup(t, engagefake.Options{}, "postgres://postgres@127.0.0.1:1/none?sslmode=disable&connect_timeout=1")
	code, rep, _ := runCheck(t, fake, env, "")
	checks := byName(t, rep.Tenants[0], checkNames)
	if code != exitFailed || checks["database"].Status != checkFail || strings.Count(checks["database"].Detail, "check database.url (EVSYNC_DATABASE_URL)") != 1 {
		t.Errorf("exit %d, database %+v", code, checks["database"])
	}
	if checks["schema"].Status != checkSkip || checks["reporting"].Status != checkOK {
		t.Errorf("schema %+v, reporting %+v: want skipped and ok", checks["schema"], checks["reporting"])
	}
}

// fake-engage's entitlement flags take the entitlements away, and check names each: run
// against the standalone fake as a user would, check fails the users, audit and reporting
// checks with what to ask for.
func TestCheckAgainstFakeEngageWithoutEntitlements(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	pr, pw := io.Pipe()
	done := make(chan error, 1)
	go func() {
		var stderr strings.Builder
		done <- run(ctx, []string{"fake-engage", "--listen", "127.0.0.1:0", "--sub-accounts", "2", "--no-manage-users",
			"--no-audit-log-access", "--no-wem-access", "20001"}, fixture.Env(nil), pw, &stderr)
		pw.Close()
	}()
	env := map[string]string{config.EnvDatabaseURL: dbtest.NewURL(t)}
	sc := bufio.NewScanner(pr)
	for sc.Scan() {
		if k, v, ok := strings.Cut(strings.TrimPrefix(strings.TrimSpace(sc.Text()), "export "), "="); ok && strings.HasPrefix(k, "EVSYNC_") {
			env[k] = v
		}
		if _, ok := env[config.EnvRCJWT]; ok {
			break
		}
	}
	go func() { _, _ = io.Copy(io.Discard, pr) }()
	if _, ok := env[config.EnvRCJWT]; !ok {
		t.Fatalf("fake-engage ended without printing its environment: %v", <-done)
	}
	code, stdout, stderr := runCLI(t, env, "--config", fixture.WriteFile(t, "c.yaml", "engage:\n  requests_per_minute: 6000\n"), "check", "--output", "json")
	var rep checkReport
	if err := json.Unmarshal([]byte(stdout), &rep); err != nil || code != exitFailed {
		t.Fatalf("exit %d, %v\nstdout: %s\nstderr: %s", code, err, stdout, stderr)
	}
	checks := byName(t, rep.Tenants[0], checkNames)
	for name, want := range map[string]string{
		"users":     "the user needs the MANAGE_USERS or SUPER_USER permission",
		"audit_log": "the user needs the Audit log access permission",
		"reporting": "not entitled: ask RingCentral for WEM Access on sub-account 20001",
	} {
		if c := checks[name]; c.Status != checkFail || !strings.Contains(c.Detail, want) {
			t.Errorf("%s = %+v, want a failure saying %q", name, c, want)
		}
	}
	if rep.Summary != (checkSummary{OK: len(checkNames) - 3, Failed: 3}) {
		t.Errorf("summary = %+v", rep.Summary)
	}
	cancel()
	if err := <-done; err != nil {
		t.Errorf("fake-engage: %v", err)
	}
}

// A config error is exit 2 with one line naming the key or flag, and no check runs (nothing is
// printed on stdout, no request reaches the API).
func TestCheckConfigErrorsExit2(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		edit func(env map[string]string)
		args []string
		want string
	}{
		{"no JWT", func(env map[string]string) { delete(env, config.EnvRCJWT) }, nil, "config: ringcentral JWT: missing; set EVSYNC_RC_JWT or ringcentral.jwt_file"},
		{"unknown tenant", nil, []string{"--tenant", "acme"}, `--tenant: unknown tenant "acme"`},
		{"bad output", nil, []string{"--output", "yaml"}, "--output"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			fake, env := checkSetup(t, engagefake.Options{}, "postgres://postgres@127.0.0.1:1/none?sslmode=disable&connect_timeout=1")
			if tt.edit != nil {
				tt.edit(env)
			}
			code, stdout, stderr := runCLI(t, env, append([]string{"check"}, tt.args...)...)
			if code != exitUsage || stdout != "" || !strings.Contains(stderr, tt.want) || strings.Count(stderr, "\n") != 1 {
				t.Errorf("exit %d, stdout %q, stderr %q; want 2 and one line with %q", code, stdout, stderr, tt.want)
			}
			if n := len(fake.Stats().Requests); n != 0 {
				t.Errorf("%d endpoints requested, want none", n)
			}
		})
	}
}

// An exchange that Engage refuses fails its check with what to look at, skips every API check
// after it, and the RingCentral token the grant obtained is still revoked.
func TestCheckExchangeRefused(t *testing.T) {
	t.Parallel()
	fake, env := checkSetup(t, engagefake.Options{}, dbtest.NewURL(t))
	fake.SetFault(engagefake.EndpointExchange, engagefake.Fault{Status: 403})
	code, rep, _ := runCheck(t, fake, env, "")
	checks := byName(t, rep.Tenants[0], checkNames)
	if ex := checks["engage_exchange"]; code != exitFailed || ex.Status != checkFail || !strings.Contains(ex.Detail, "403: Forbidden") ||
		!strings.Contains(ex.Detail, "needs a linked RingCX account") {
		t.Errorf("exit %d, engage_exchange %+v", code, ex)
	}
	for _, name := range checkNames[5 : len(checkNames)-1] {
		if c := checks[name]; c.Status != checkSkip || c.Detail != "the Engage exchange failed" {
			t.Errorf("%s = %+v, want skipped after the exchange", name, c)
		}
	}
	if c := checks["revoke"]; c.Status != checkOK || fake.Stats().Revokes != 1 {
		t.Errorf("revoke = %+v, %d revokes; want ok and 1", c, fake.Stats().Revokes)
	}
}

// A refused grant or exchange gets the same hint in check's detail and in a sync's recorded
// error (sync_runs.error), both from tenant.Explain. The OAuth code names the credential at
// fault whatever the status: a 401 invalid_grant is the JWT (check blamed the client id and
// secret, testing the status first), unauthorized_client the app's JWT flow (which check never
// said); a status without a known code falls back on what it means. With a tenants list both
// name the tenant's keys the same way.
func TestAuthFailureHintSameInCheckAndSync(t *testing.T) {
	t.Parallel()
	rcError := func(code string) []byte {
		return []byte(`{"error":"` + code + `","error_description":"refused","errors":[{"errorCode":"OAU-999","message":"refused"}]}`)
	}
	jwt := "RingCentral refused the JWT: check the JWT (" + config.EnvRCJWT + " or ringcentral.jwt_file)"
	client := "RingCentral refused the app's credentials: check ringcentral.client_id (" + config.EnvRCClientID +
		") and the client secret (" + config.EnvRCClientSecret + " or ringcentral.client_secret_file)"
	grant := "RingCentral refused the JWT grant to this app: check that the app of ringcentral.client_id (" + config.EnvRCClientID +
		") has the JWT auth flow"
	tests := []struct {
		name     string
		endpoint string
		status   int
		body     []byte
		multi    bool
		check    string // check's detail of the failed check begins with it
		want     string // in check's detail and in the run's error
	}{
		{"400 invalid_grant", engagefake.EndpointRCToken, 400, rcError("invalid_grant"), false, "400 invalid_grant: refused", jwt},
		{"401 invalid_grant", engagefake.EndpointRCToken, 401, rcError("invalid_grant"), false, "401 invalid_grant: refused", jwt},
		{"401 invalid_client", engagefake.EndpointRCToken, 401, rcError("invalid_client"), false, "401 invalid_client", client},
		{"401 unauthorized_client", engagefake.EndpointRCToken, 401, rcError("unauthorized_client"), false, "401 unauthorized_client", grant},
		{"400 unauthorized_client", engagefake.EndpointRCToken, 400, rcError("unauthorized_client"), false, "400 unauthorized_client", grant},
		{"401 without a code", engagefake.EndpointRCToken, 401, []byte(`{}`), false, "401", client},
		{"403 without a code", engagefake.EndpointRCToken, 403, []byte(`{}`), false, "403", grant},
		{"404 at the token endpoint", engagefake.EndpointRCToken, 404, []byte(`{}`), false, "404",
			"RingCentral has no OAuth endpoint there: check ringcentral.server_url (" + config.EnvRCServerURL + ")"},
		{"exchange refused", engagefake.EndpointExchange, 403, nil, false, "403: Forbidden (injected fault)",
			"Engage refused the RingCentral token: check that the user of the JWT (" + config.EnvRCJWT + " or ringcentral.jwt_file) has RingCX"},
		{"no exchange there", engagefake.EndpointExchange, 404, nil, false, "404: Not Found (injected fault)",
			"Engage has no token exchange there: check engage.server_url (" + config.EnvEngageURL + ")"},
		{"401 invalid_grant of a tenant", engagefake.EndpointRCToken, 401, rcError("invalid_grant"), true, "401 invalid_grant",
			"RingCentral refused the JWT: check the JWT (EVSYNC_TENANT_ACME_RC_JWT or tenant acme's ringcentral.jwt_file)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			sdb := storetest.New(t)
			fake, env := checkSetup(t, engagefake.Options{}, sdb.URL())
			fake.SetFault(tt.endpoint, engagefake.Fault{Status: tt.status, Body: tt.body})
			yaml := fastYAML + "database:\n  schema: " + sdb.Schema + "\n"
			if tt.multi {
				env[config.TenantEnv("acme", "RC_JWT")] = env[config.EnvRCJWT]
				env[config.TenantEnv("acme", "RC_CLIENT_SECRET")] = env[config.EnvRCClientSecret]
				yaml = fastYAML + "ringcentral:\n  client_id: " + env[config.EnvRCClientID] + "\ntenants:\n  - name: acme\n    schema: " + sdb.Schema + "\n"
				delete(env, config.EnvRCJWT)
				delete(env, config.EnvRCClientSecret)
				delete(env, config.EnvRCClientID)
			}

			name := "ringcentral_jwt"
			if tt.endpoint == engagefake.EndpointExchange {
				name = "engage_exchange"
			}
			code, rep, _ := runCheck(t, fake, env, yaml)
			if code != exitFailed || len(rep.Tenants) != 1 {
				t.Fatalf("check: exit %d, report %+v", code, rep)
			}
			var got checkResult
			for _, c := range rep.Tenants[0].Checks {
				if c.Name == name {
					got = c
				}
			}
			if got.Status != checkFail || !strings.HasPrefix(got.Detail, tt.check+": ") || !strings.Contains(got.Detail, tt.want) {
				t.Errorf("check %s = %+v\nwant a failure beginning %q, saying %q", name, got, tt.check, tt.want)
			}

			cfg := fixture.WriteFile(t, "s.yaml", yaml)
			if code, stdout, stderr := runCLI(t, env, "--config", cfg, "sync"); code != exitFailed {
				t.Fatalf("sync: exit %d, want 1\nstdout: %s\nstderr: %s", code, stdout, stderr)
			}
			var runErr string
			if err := sdb.Pool.QueryRow(t.Context(), "SELECT error FROM "+sdb.Schema+".sync_runs").Scan(&runErr); err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(runErr, "; "+tt.want) {
				t.Errorf("sync_runs.error = %q\nwant the hint %q", runErr, tt.want)
			}
		})
	}
}
