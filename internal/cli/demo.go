package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	neturl "net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgtype"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/spf13/cobra"

	"github.com/evsync/evsync/db"
	"github.com/evsync/evsync/engageclient"
	"github.com/evsync/evsync/engageclient/engagefake"
	"github.com/evsync/evsync/internal/config"
	"github.com/evsync/evsync/internal/entity"
	"github.com/evsync/evsync/internal/oneline"
	"github.com/evsync/evsync/internal/tenant"
)

// sizeFlag is one size flag of the generated tenant: its name, the TenantSpec field, usage.
type sizeFlag struct {
	name  string
	v     *int
	usage string
}

// sizeFlags are the size flags of spec.
func sizeFlags(spec *engagefake.TenantSpec) []sizeFlag {
	return []sizeFlag{
		{"main-accounts", &spec.MainAccounts, "main accounts"},
		{"sub-accounts", &spec.SubAccountsPerMain, "sub-accounts per main account"},
		{"agent-groups", &spec.AgentGroupsPerSubAccount, "agent groups per sub-account"},
		{"agents", &spec.AgentsPerGroup, "agents per agent group"},
		{"users", &spec.Users, "admin users"},
		{"queue-groups", &spec.QueueGroupsPerSubAccount, "queue groups per sub-account"},
		{"queues", &spec.QueuesPerGroup, "queues per queue group"},
		{"skills", &spec.SkillsPerQueueGroup, "skills per queue group"},
		{"queue-agents", &spec.AgentsPerQueue, "agents assigned to each queue (at most the sub-account's agents)"},
		{"dial-groups", &spec.DialGroupsPerSubAccount, "dial groups per sub-account"},
		{"campaigns", &spec.CampaignsPerDialGroup, "campaigns per dial group"},
		{"dial-group-agents", &spec.AgentsPerDialGroup, "agents assigned to each dial group (at most the sub-account's agents)"},
	}
}

// demoTenant is the size of the tenant demo and fake-engage generate by default.
var demoTenant = engagefake.TenantSpec{MainAccounts: 1, SubAccountsPerMain: 3, AgentGroupsPerSubAccount: 4, AgentsPerGroup: 25, Users: 20,
	QueueGroupsPerSubAccount: 2, QueuesPerGroup: 3, SkillsPerQueueGroup: 3, AgentsPerQueue: 10,
	DialGroupsPerSubAccount: 2, CampaignsPerDialGroup: 2, AgentsPerDialGroup: 10}

// tenantFlags registers the generated tenant's seed and size flags, defaulting to def.
func tenantFlags(fs interface {
	Int64Var(*int64, string, int64, string)
	IntVar(*int, string, int, string)
}, seed *int64, spec *engagefake.TenantSpec, def engagefake.TenantSpec) {
	fs.Int64Var(seed, "seed", 1, "seed `N` of the generated tenant (same seed and sizes, same data)")
	defs := sizeFlags(&def)
	for i, f := range sizeFlags(spec) {
		fs.IntVar(f.v, f.name, *defs[i].v, f.usage)
	}
}

// validateTenant checks the size flags: none negative (a zero size generates none), at least
// one main account.
func validateTenant(spec engagefake.TenantSpec) error {
	for _, f := range sizeFlags(&spec) {
		if *f.v < 0 {
			return usageErr("--%s: must be zero or more, got %d", f.name, *f.v)
		}
	}
	if spec.MainAccounts == 0 {
		return usageErr("--main-accounts: must be at least 1")
	}
	return nil
}

func newDemoCmd(a *app) *cobra.Command {
	var seed int64
	var spec engagefake.TenantSpec
	cmd := &cobra.Command{
		Use:   "demo [--seed N] [tenant sizes: --main-accounts N --sub-accounts N --agents N --queues N ...]",
		Short: "start a fake Engage Voice API with a generated tenant and sync it",
		Args:  noArgs,
		RunE: a.withConfig(func(cmd *cobra.Command, _ []string) error {
			return cmdDemo(cmd.Context(), a, seed, spec)
		}),
	}
	tenantFlags(cmd.Flags(), &seed, &spec, demoTenant)
	return cmd
}

// demoReportingLimits are the demo fake's reporting limits, and its client's: loose, so that
// the demo reads its calls and statistics in seconds.
var demoReportingLimits = []engagefake.Limit{{Count: 1000, Per: time.Second}}

// demoDatabase is the database demo syncs into when the configuration names none: a database
// of its own on the default server, so that the demo never writes into the server's
// maintenance database.
type demoDatabase struct {
	server string // URL of a database on the server to connect to for CREATE DATABASE
	name   string
}

// demoDatabaseDefault is demo's own database: evsync_demo on the default server.
var demoDatabaseDefault = demoDatabase{server: config.Default().Database.URL, name: "evsync_demo"}

// cmdDemo serves a fake API with a tenant of size spec generated from seed, syncs it and
// shows what the example queries answer.
func cmdDemo(ctx context.Context, a *app, seed int64, spec engagefake.TenantSpec) error {
	return runDemo(ctx, a, seed, spec, demoDatabaseDefault)
}

// runDemo is cmdDemo syncing into demoDB unless the configuration names a database
// (namesDatabase).
func runDemo(ctx context.Context, a *app, seed int64, spec engagefake.TenantSpec, demoDB demoDatabase) error {
	if err := validateTenant(spec); err != nil {
		return err
	}
	a.setupLogger()
	if !namesDatabase(&a.cfg) {
		u, err := demoDB.ensure(ctx)
		if err != nil {
			return err
		}
		a.cfg.Database.URL = u
	}

	fake := engagefake.New(engagefake.Options{Seed: seed, Tenant: spec, ReportingLimits: demoReportingLimits})
	url := fake.Start()
	defer fake.Close()
	c := fake.Counts()
	o := &output{w: a.stdout}
	o.printf("demo: fake Engage Voice API on %s with a generated tenant: %s\n", url, tenantSummary(c))
	o.printf("demo: syncing into %s (schema %s)\n\n", config.RedactURL(a.cfg.Database.URL), a.cfg.Database.Schema)
	if err := o.done("the demo's header"); err != nil {
		return err
	}

	pool, store, err := a.openStore(ctx, true)
	if err != nil {
		return err
	}
	defer pool.Close()

	opts := fake.Options()
	t := a.cfg.TopLevelTenant()
	runs := a.runs()
	ccfg := runs.ClientConfig(t)
	ccfg.RCServerURL, ccfg.EngageServerURL = url, url
	ccfg.ClientID, ccfg.ClientSecret, ccfg.JWT = opts.ClientID, opts.ClientSecret, opts.JWT
	ccfg.RequestsPerMinute = 6000 // the fake has no rate limit; the real API gets engage.requests_per_minute
	// The fake's reporting bucket is loose, so the demo reads the few days of calls in seconds
	// (the real API's are 3 per 60 s and 9 per 15 min, about one request every 100 s:
	// streams.reporting_limits).
	ccfg.ReportingLimits = []engageclient.Limit{{Count: demoReportingLimits[0].Count, Per: demoReportingLimits[0].Per}}
	if slices.Equal(t.Streams.Enabled, config.Default().Streams.Enabled) {
		t.Streams.Enabled = entity.StreamNames() // the fake serves them all: the demo shows them
	}
	res, err := runs.Sync(ctx, store, ccfg, t, tenant.Options{Trigger: db.TriggerDemo})
	if res != nil {
		a.reportSummary(res)
	}
	if err := syncExit(res, err, a.cfg.Database.Schema); err != nil {
		return err // code only when the run logged its failure
	}
	// Then the streams' windows: the fake's history of the last few days.
	if so := (tenant.StreamOptions{Trigger: db.TriggerStreams}); len(tenant.StreamsOf(t, so)) > 0 {
		sres, err := runs.Streams(ctx, store, ccfg, t, so)
		if sres != nil {
			if perr := printStreamSummary(a.stdout, sres); perr != nil {
				a.logger.Warn("the stream run's summary was not shown", "err", perr.Error())
			}
		}
		results := []tenant.Result{{Tenant: t, Streams: sres, StreamsErr: err, StreamsRan: true}}
		if _, exit := tenantsExit(results); exit != nil {
			return unloggedExit(results, exit, false)
		}
	}
	if err := printExampleQueries(ctx, a.stdout, pool, a.cfg.Database.Schema); err != nil {
		return err
	}
	o.printf("demo: the data stays in schema %s; query it with\n  psql %s\n", a.cfg.Database.Schema, shellQuote(config.RedactURL(a.cfg.Database.URL)))
	return o.done("the demo's psql line")
}

// namesDatabase reports whether c names the database demo syncs into: the file or
// EVSYNC_DATABASE_URL set database.url, even to its default. Otherwise demo uses its own.
func namesDatabase(c *config.Config) bool { return c.IsSet("database.url") }

// ensure creates the demo's database when the server lacks it and returns its URL: the
// server's URL naming the database instead.
func (d demoDatabase) ensure(ctx context.Context) (string, error) {
	u, err := neturl.Parse(d.server)
	if err != nil || u.Scheme == "" {
		return "", errors.New("parsing the demo's database url: invalid connection string") // it may hold a password
	}
	const instead = "point database.url or " + config.EnvDatabaseURL + " at a database to use instead"
	pool, err := db.Open(ctx, d.server, db.WithMaxConns(1))
	if err != nil { // its error names the server
		return "", fmt.Errorf("creating the demo's database %s (%s): %w", d.name, instead, err)
	}
	defer pool.Close()
	fail := func(err error) (string, error) {
		cc := pool.Config().ConnConfig
		return "", fmt.Errorf("creating the demo's database %s on %s:%d (%s): %w", d.name, cc.Host, cc.Port, instead, err)
	}
	var exists bool
	if err := pool.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)`, d.name).Scan(&exists); err != nil {
		return fail(err)
	}
	if !exists {
		_, err := pool.Exec(ctx, "CREATE DATABASE "+pgx.Identifier{d.name}.Sanitize())
		// Another demo may have created it meanwhile: duplicate_database (or the unique
		// violation a concurrent CREATE DATABASE meets) is as good.
		if pe := (*pgconn.PgError)(nil); err != nil && (!errors.As(err, &pe) || (pe.Code != "42P04" && pe.Code != "23505")) {
			return fail(err)
		}
	}
	u.Path = "/" + d.name
	u.RawPath = ""
	return u.String(), nil
}

// shellQuote quotes s for a POSIX shell.
func shellQuote(s string) string {
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// exampleQueries are shown after the demo run: the questions people answer with plain SQL.
// They name their tables unqualified: printExampleQueries runs them with search_path set to the
// demo's schema.
var exampleQueries = []struct{ title, sql string }{
	{"Live agents per sub-account", `SELECT main_account_name, sub_account_name, count(*) AS agents
  FROM agents_current GROUP BY 1, 2 ORDER BY 1, 2`},
	{"Agents by type and state", `SELECT agent_type, is_active, count(*) AS agents
  FROM agents WHERE deleted_at IS NULL GROUP BY 1, 2 ORDER BY 1, 2`},
	{"Agents per queue", `SELECT sub_account_name, queue_group_name, name AS queue, assigned_agents
  FROM queues_current ORDER BY 1, 2, 3`},
	{"Freshness per entity", `SELECT * FROM entity_freshness`},
	{"What the API sends, per entity (api_fields), and what changed in the last 30 days (api_field_changes)", `SELECT f.entity, count(*) AS paths,
       count(*) FILTER (WHERE 'null' = ANY (f.json_types)) AS sometimes_null,
       (SELECT count(*) FROM api_field_changes c JOIN sync_runs r USING (run_id)
         WHERE c.entity = f.entity AND r.started_at > now() - interval '30 days') AS changes_30d
  FROM api_fields f GROUP BY f.entity ORDER BY f.entity`},
	{"Admin changes in the audit log, per kind of object and action", `SELECT audited_class, action_type, count(*) AS changes, count(DISTINCT user_name) AS admins,
       min(created_at) AS first, max(created_at) AS last
  FROM audit_log GROUP BY 1, 2 ORDER BY 1, 2`},
	{"Agents disabled in the audit log, and by whom", `SELECT a.created_at, a.user_name AS changed_by, ag.username AS agent
  FROM audit_log a CROSS JOIN LATERAL jsonb_array_elements(a.changes) c
  LEFT JOIN agents ag ON ag.sub_account_id = a.sub_account_id AND ag.agent_id::text = a.audited_entity_id
 WHERE a.audited_class = 'Agent' AND c->>'attribute' = 'isActive' AND c->>'new_value' = 'false'
 ORDER BY a.created_at DESC LIMIT 5`},
	{"Calls and handle time per agent and day (interaction_segments_current)", `SELECT segment_start_at::date AS day, coalesce(username, participant_id) AS agent,
       count(DISTINCT dialog_id) AS calls, round(sum(segment_duration_ms) / 60000.0, 1) AS handle_min
  FROM interaction_segments_current
 WHERE segment_type = 'AGENT' AND channel_class = 'VOICE'
 GROUP BY 1, 2 ORDER BY 1 DESC, 3 DESC LIMIT 5`},
	{"Service level and abandons per queue and hour (queue_stats)", `SELECT interval_start, queue_name, offd_direct_ixn_cnt AS offered, answ_ixn_cnt AS answered,
       aband_ixn_cnt AS abandoned, round(100.0 * ans_servicelevel_cnt / nullif(offd_direct_ixn_cnt, 0), 1) AS service_level_pct
  FROM queue_stats ORDER BY interval_start DESC, queue_name LIMIT 5`},
	{"Agent occupancy per day (agent_stats)", `SELECT interval_start::date AS day, agent_name,
       round(100.0 * sum(tot_work_dur - pause_dur - wait_dur) / nullif(sum(tot_work_dur - pause_dur), 0), 1) AS occupancy_pct
  FROM agent_stats GROUP BY 1, 2 ORDER BY 1 DESC, 3 DESC LIMIT 5`},
	{"Calls by final disposition, and how many were transferred (interactions)", `SELECT coalesce(agent_disposition, '(none)') AS disposition, count(*) AS calls,
       count(*) FILTER (WHERE transfers > 0) AS transferred, count(*) FILTER (WHERE has_recording) AS recorded
  FROM interactions WHERE channel_class = 'VOICE' GROUP BY 1 ORDER BY 2 DESC`},
	{"Freshness per stream", `SELECT stream, sub_account_id, high_water_mark, lag, windows_pending, windows_failed
  FROM stream_freshness ORDER BY 1, 2`},
	{"Last runs", `SELECT run_id, trigger, status, started_at, finished_at - started_at AS took, api_requests
  FROM sync_runs ORDER BY run_id DESC LIMIT 3`},
}

// printExampleQueries prints each of exampleQueries and its result, run in one read-only
// transaction whose search_path is schema. The SET line it prints first makes the queries as
// shown runnable in psql.
func printExampleQueries(ctx context.Context, w io.Writer, pool *pgxpool.Pool, schema string) error {
	tx, err := pool.BeginTx(ctx, pgx.TxOptions{AccessMode: pgx.ReadOnly})
	if err != nil {
		return fmt.Errorf("running the example queries: %w", err)
	}
	defer func() { _ = tx.Rollback(ctx) }() // read-only: nothing to keep, and nothing to report
	path := pgx.Identifier{schema}.Sanitize()
	if _, err := tx.Exec(ctx, "SELECT set_config('search_path', $1, true)", path); err != nil {
		return fmt.Errorf("running the example queries: setting search_path: %w", err)
	}
	o := &output{w: w}
	o.printf("\nSET search_path TO %s;\n\n", path)
	for _, q := range exampleQueries {
		o.printf("-- %s\n%s;\n", q.title, q.sql)
		if err := printQuery(ctx, o, tx, q.sql); err != nil {
			return fmt.Errorf("running example query %q: %w", q.title, err)
		}
		o.println()
	}
	return o.done("the example queries")
}

// printQuery runs sql and prints its result as a table on o (which keeps a write error).
func printQuery(ctx context.Context, o *output, tx pgx.Tx, sql string) error {
	rows, err := tx.Query(ctx, sql)
	if err != nil {
		return err
	}
	defer rows.Close()
	tw := o.table(0)
	var head []string
	for _, fd := range rows.FieldDescriptions() {
		head = append(head, fd.Name)
	}
	tw.printf("%s\n", strings.Join(head, "\t"))
	for rows.Next() {
		vals, err := rows.Values()
		if err != nil {
			return err
		}
		cells := make([]string, len(vals))
		for i, v := range vals {
			cells[i] = formatCell(v)
			if t, ok := v.(time.Time); ok && rows.FieldDescriptions()[i].DataTypeOID == pgtype.DateOID {
				cells[i] = t.Format(time.DateOnly)
			}
		}
		tw.printf("%s\n", strings.Join(cells, "\t"))
	}
	if err := rows.Err(); err != nil {
		return err
	}
	tw.flush()
	return nil
}

// formatCell is a query result's value as a table cell, its control characters escaped.
func formatCell(v any) string {
	switch x := v.(type) {
	case nil:
		return "NULL"
	case time.Time:
		return x.UTC().Format("2006-01-02 15:04:05Z")
	case time.Duration:
		return x.Round(time.Millisecond).String()
	case pgtype.Interval:
		if !x.Valid {
			return "NULL"
		}
		d := time.Duration(x.Microseconds)*time.Microsecond + time.Duration(x.Days)*24*time.Hour
		return d.Round(time.Millisecond).String()
	case pgtype.Numeric:
		if !x.Valid {
			return "NULL"
		}
		if f, err := x.Float64Value(); err == nil && f.Valid {
			return strconv.FormatFloat(f.Float64, 'f', -1, 64)
		}
		return "NaN"
	case []byte:
		return oneline.Escape(string(x))
	default:
		return oneline.Escape(fmt.Sprint(x)) // text from the API: no control character reaches the terminal
	}
}

// fakeEngageFlags are the flags of fake-engage.
type fakeEngageFlags struct {
	listen string
	opts   engagefake.Options
	faults []string // each kept whole: a fault spec has commas of its own
	// The generated audit log; 0 means none (engagefake's -1), not engagefake's default.
	auditDays, auditPerHour int
	// The generated call history (0 means none, as above) and the reporting limits
	// ("3/60s,9/15m", or "none").
	callDays, callsPerHour int
	reportingLimits        string
}

func newFakeEngageCmd(a *app) *cobra.Command {
	var f fakeEngageFlags
	cmd := &cobra.Command{
		Use:   "fake-engage [--listen ADDR] [--seed N] [tenant sizes] [faults]",
		Short: "serve the fake Engage Voice + RingCentral API standalone",
		Args:  cobra.ArbitraryArgs, // ignored, as they always were
		// No configuration: the fake is what a configuration points at.
		RunE: func(cmd *cobra.Command, _ []string) error { return cmdFakeEngage(cmd.Context(), a, &f) },
	}
	fs := cmd.Flags()
	fs.StringVar(&f.listen, "listen", "127.0.0.1:8090", "`ADDR` to listen on (host:port)")
	tenantFlags(fs, &f.opts.Seed, &f.opts.Tenant, demoTenant)
	fs.DurationVar(&f.opts.TokenTTL, "token-ttl", 5*time.Minute, "Engage access token lifetime")
	fs.IntVar(&f.opts.RateLimit, "rate-limit", 0, "admin API requests per minute before 429s (0 = unlimited)")
	fs.BoolVar(&f.opts.RateLimitRetryAfter, "rate-limit-retry-after", true, "send Retry-After with the rate limiter's 429s")
	fs.DurationVar(&f.opts.Latency, "latency", 0, "latency added to every admin API response")
	fs.IntVar(&f.opts.Churn, "churn", 0, "at every login after the first (each sync), rename, add and move N agents, delete some, and change an API field, so that the next sync records history, soft deletes and api_field_changes (0 = never)")
	fs.BoolVar(&f.opts.NoManageUsers, "no-manage-users", false, "the user lacks MANAGE_USERS and SUPER_USER: the users listing answers 403")
	fs.BoolVar(&f.opts.NoAuditLogAccess, "no-audit-log-access", false, "the user lacks Audit log access: the audit log search answers 403")
	fs.Var((*stringList)(&f.opts.NoWEMAccess), "no-wem-access", "a sub-account without WEM Access, whose reporting endpoints answer 403 (repeatable)")
	fs.IntVar(&f.auditDays, "audit-days", engagefake.AuditDaysDefault, "generate `N` days of admin audit log before the start (it goes on while serving; 0 = no audit log)")
	fs.IntVar(&f.auditPerHour, "audit-per-hour", engagefake.AuditPerHourDefault, "`N` audit log entries per sub-account and hour, on average (0 = no audit log)")
	fs.IntVar(&f.callDays, "call-days", engagefake.CallDaysDefault, "generate `N` days of call history (interaction segments and stats) before the start (it goes on while serving; 0 = no calls)")
	fs.IntVar(&f.callsPerHour, "calls-per-hour", engagefake.CallsPerHourDefault, "`N` dialogs per sub-account and hour, on average (0 = no calls)")
	fs.StringVar(&f.reportingLimits, "reporting-limits", "3/60s,9/15m", "the per-sub-account `LIMITS` of the four reporting endpoints, COUNT/DURATION[,COUNT/DURATION...] (the documented ones by default), or none")
	fs.StringArrayVar(&f.faults, "fault", nil, "inject a fault, e.g. --fault agents:status=503,times=3 (repeat --fault for several): ENDPOINT:OPTION[,OPTION...] with options status=N, retry-after=V, latency=D, times=N, path=S, drop, malformed, no-body; endpoints "+strings.Join(engagefake.Endpoints, ", "))
	return cmd
}

// cmdFakeEngage serves the fake API as f says until ctx is done.
func cmdFakeEngage(ctx context.Context, a *app, f *fakeEngageFlags) error {
	for _, v := range []struct {
		name string
		n    int
		opt  *int
	}{{"audit-days", f.auditDays, &f.opts.AuditDays}, {"audit-per-hour", f.auditPerHour, &f.opts.AuditPerHour},
		{"call-days", f.callDays, &f.opts.CallDays}, {"calls-per-hour", f.callsPerHour, &f.opts.CallsPerHour}} {
		if v.n < 0 {
			return usageErr("--%s: must be zero or more, got %d", v.name, v.n)
		}
		*v.opt = v.n
		if v.n == 0 {
			*v.opt = -1 // none
		}
	}
	limits, unlimited, err := parseReportingLimits(f.reportingLimits)
	if err != nil {
		return err
	}
	f.opts.ReportingLimits, f.opts.ReportingUnlimited = limits, unlimited
	if err := validateFakeEngage(f.opts); err != nil {
		return err
	}
	fake := engagefake.New(f.opts)
	for _, spec := range f.faults {
		endpoint, fault, err := engagefake.ParseFault(spec)
		if err != nil {
			return usageErr("--fault: %v", err)
		}
		fake.SetFault(endpoint, fault)
	}
	ln, err := net.Listen("tcp", f.listen)
	if err != nil {
		return usageErr("--listen: %v", err)
	}
	srv := &http.Server{Handler: fake, ReadHeaderTimeout: 10 * time.Second}
	if err := printFakeEngage(a.stdout, "http://"+ln.Addr().String(), fake); err != nil {
		_ = ln.Close() // never served: its error says nothing more
		return err
	}
	return serveUntilDone(ctx, srv, ln)
}

// parseReportingLimits reads --reporting-limits: "none" (unlimited) or a comma-separated
// list of COUNT/DURATION limits, each as streams.reporting_limits reads it.
func parseReportingLimits(v string) ([]engagefake.Limit, bool, error) {
	if strings.TrimSpace(v) == "none" {
		return nil, true, nil
	}
	var out []engagefake.Limit
	for part := range strings.SplitSeq(v, ",") {
		l, err := config.ParseRateLimit(strings.TrimSpace(part))
		if err != nil {
			return nil, false, usageErr("--reporting-limits: %v (or none)", err)
		}
		if l.Count < 1 || l.Per <= 0 {
			return nil, false, usageErr("--reporting-limits: limit %q: the count must be at least 1 and the duration positive", part)
		}
		out = append(out, engagefake.Limit{Count: l.Count, Per: l.Per})
	}
	return out, false, nil
}

// validateFakeEngage checks the options the flags of fake-engage give.
func validateFakeEngage(opts engagefake.Options) error {
	if err := validateTenant(opts.Tenant); err != nil {
		return err
	}
	if opts.TokenTTL < time.Second {
		return usageErr("--token-ttl: must be at least 1s, got %s", opts.TokenTTL)
	}
	if opts.RateLimit < 0 {
		return usageErr("--rate-limit: must be zero or more, got %d", opts.RateLimit)
	}
	if opts.Churn < 0 {
		return usageErr("--churn: must be zero or more, got %d", opts.Churn)
	}
	return nil
}

// tenantSummary describes a generated tenant's size in one line.
func tenantSummary(c engagefake.Counts) string {
	return fmt.Sprintf("%d main account(s), %d sub-accounts, %d agent groups, %d agents, %d admin users; "+
		"%d queue groups, %d queues (%d assignments), %d skills, %d dial groups (%d assignments), %d campaigns",
		c.MainAccounts, c.SubAccounts, c.AgentGroups, c.Agents, c.Users,
		c.QueueGroups, c.Queues, c.QueueAssignments, c.Skills, c.DialGroups, c.DialGroupAssignments, c.Campaigns)
}

// printFakeEngage tells where the fake serves, its tenant, and the environment that points
// syncer at it.
func printFakeEngage(w io.Writer, base string, fake *engagefake.Server) error {
	opts := fake.Options()
	c := fake.Counts()
	o := &output{w: w}
	o.printf("fake Engage Voice + RingCentral API on %s\n", base)
	o.printf("tenant: %s\n", tenantSummary(c))
	if opts.AuditDays > 0 && opts.AuditPerHour > 0 {
		o.printf("audit log: %d day(s) before the start and on while serving, about %d entries per sub-account and hour\n", opts.AuditDays, opts.AuditPerHour)
	}
	if opts.CallDays > 0 && opts.CallsPerHour > 0 {
		o.printf("call history: %d day(s) before the start and on while serving, about %d dialogs per sub-account and hour\n", opts.CallDays, opts.CallsPerHour)
	}
	if opts.ReportingUnlimited {
		o.printf("reporting limits: none\n")
	} else {
		limits := make([]string, len(opts.ReportingLimits))
		for i, l := range opts.ReportingLimits {
			limits[i] = fmt.Sprintf("%d/%s", l.Count, l.Per)
		}
		o.printf("reporting limits: %s per sub-account\n", strings.Join(limits, ", "))
	}
	if opts.Churn > 0 {
		o.printf("churn: every login after the first (each sync) changes %d agents of each kind, some users, a group, a queue and an API field first\n", opts.Churn)
	}
	o.printf("point syncer at it with:\n")
	o.printf("  export EVSYNC_RC_SERVER_URL=%s\n  export EVSYNC_ENGAGE_SERVER_URL=%s\n", base, base)
	o.printf("  export EVSYNC_RC_CLIENT_ID=%s\n  export EVSYNC_RC_CLIENT_SECRET=%s\n  export EVSYNC_RC_JWT=%s\n",
		opts.ClientID, opts.ClientSecret, opts.JWT)
	return o.done("the fake's address and credentials")
}

// serveUntilDone serves srv on ln until ctx is done, then shuts it down within 5 s.
func serveUntilDone(ctx context.Context, srv *http.Server, ln net.Listener) error {
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return fmt.Errorf("serving: %w", err)
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("shutting down: %w", err)
	}
	return nil
}
