package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/spf13/cobra"

	"github.com/evsync/evsync/db"
	"github.com/evsync/evsync/engageclient"
	"github.com/evsync/evsync/internal/config"
	"github.com/evsync/evsync/internal/entity"
	"github.com/evsync/evsync/internal/oneline"
	"github.com/evsync/evsync/internal/tenant"
	syncrun "github.com/evsync/evsync/sync"
)

// Statuses of one check.
const (
	checkOK   = "ok"
	checkFail = "fail"
	checkSkip = "skip"
)

// checkResult is one check's outcome: what it asked and the answer it got.
type checkResult struct {
	Name    string  `json:"name"`
	Status  string  `json:"status"`
	Detail  string  `json:"detail"`
	Seconds float64 `json:"seconds"`
}

// tenantCheck is every check of one tenant.
type tenantCheck struct {
	Tenant string        `json:"tenant"`
	Schema string        `json:"schema"`
	OK     bool          `json:"ok"`
	Checks []checkResult `json:"checks"`
}

// checkSummary counts the checks of every tenant by status.
type checkSummary struct {
	OK      int `json:"ok"`
	Failed  int `json:"failed"`
	Skipped int `json:"skipped"`
}

// checkReport is the whole answer of syncer check (its --output json document).
type checkReport struct {
	OK      bool          `json:"ok"`
	Tenants []tenantCheck `json:"tenants"`
	Summary checkSummary  `json:"summary"`
}

func newCheckCmd(a *app) *cobra.Command {
	var names stringList
	cmd := &cobra.Command{
		Use:   "check [--tenant NAME]... [--output text|json]",
		Short: "check the config, database and API access a sync needs (run it before the first sync)",
		Long: "check runs before a first sync: the configuration, the database (its version and whether the\n" +
			"role may create or use the schema), the RingCentral JWT grant, the Engage exchange, and one cheap\n" +
			"request per endpoint family the selected entities and streams read, each with the answer it got\n" +
			"and, for a failure, what to do. It writes nothing and revokes its tokens. Exit 0 when every check\n" +
			"passes, 1 when one fails, 2 for a config error.",
		Args: noArgs,
	}
	format := addFormatFlag(cmd, formatJSON)
	cmd.Flags().Var(&names, "tenant", "check tenant `NAME` only (repeatable); default every tenant")
	cmd.RunE = a.withConfig(func(cmd *cobra.Command, _ []string) error {
		return cmdCheck(cmd.Context(), a, names, format)
	})
	return cmd
}

// cmdCheck checks the tenants names selects and prints the report.
func cmdCheck(ctx context.Context, a *app, names []string, format *formatFlag) error {
	tenants, err := a.selectTenants(names)
	if err != nil {
		return err
	}
	if err := a.cfg.RequireCredentials(); err != nil {
		return &exitError{code: exitUsage, err: err}
	}
	a.setupLogger()
	ctx, cancel := context.WithTimeoutCause(ctx, a.cfg.Sync.Timeout, fmt.Errorf("check exceeded sync.timeout (%s)", a.cfg.Sync.Timeout))
	defer cancel()
	clients := make([]*engageclient.Client, len(tenants))
	for i, t := range tenants {
		ccfg := a.runs().ClientConfig(t)
		// A check answers quickly: one retry at most, within 30 s. Its table says what the
		// client's info lines would (grant, exchange): only its warnings are logged.
		ccfg.MaxAttempts, ccfg.MaxRetryDuration = 2, 30*time.Second
		ccfg.Logger = slog.New(minLevel{Handler: ccfg.Logger.Handler(), min: slog.LevelWarn})
		c, err := engageclient.New(ccfg)
		if err != nil {
			return &exitError{code: exitUsage, err: fmt.Errorf("tenant %s: %w", t.Name, err)}
		}
		clients[i] = c
	}
	pool, poolErr := a.openPool(ctx, 1)
	if poolErr == nil {
		defer pool.Close()
	}
	rep := checkReport{OK: true}
	for i, t := range tenants {
		tc := a.checkTenant(ctx, pool, poolErr, clients[i], t)
		rep.OK = rep.OK && tc.OK
		for _, c := range tc.Checks {
			switch c.Status {
			case checkOK:
				rep.Summary.OK++
			case checkFail:
				rep.Summary.Failed++
			default:
				rep.Summary.Skipped++
			}
		}
		rep.Tenants = append(rep.Tenants, tc)
	}
	if format.is(formatJSON) {
		err = writeJSON(a.stdout, "the checks", rep)
	} else {
		err = printChecks(a.stdout, rep, a.cfg.MultiTenant())
	}
	if err != nil {
		return err
	}
	if !rep.OK {
		return &exitError{code: exitFailed, err: fmt.Errorf("%d of %d checks failed", rep.Summary.Failed,
			rep.Summary.OK+rep.Summary.Failed+rep.Summary.Skipped)}
	}
	return nil
}

// minLevel is a slog handler that drops records below min.
type minLevel struct {
	slog.Handler
	min slog.Level
}

// Enabled reports whether level reaches min and the wrapped handler takes it.
func (h minLevel) Enabled(ctx context.Context, level slog.Level) bool {
	return level >= h.min && h.Handler.Enabled(ctx, level)
}

// WithAttrs keeps the level filter on the derived handler.
func (h minLevel) WithAttrs(attrs []slog.Attr) slog.Handler {
	return minLevel{Handler: h.Handler.WithAttrs(attrs), min: h.min}
}

// WithGroup keeps the level filter on the derived handler.
func (h minLevel) WithGroup(name string) slog.Handler {
	return minLevel{Handler: h.Handler.WithGroup(name), min: h.min}
}

// printChecks prints a table of each tenant's checks and the summary.
func printChecks(w io.Writer, rep checkReport, multi bool) error {
	o := &output{w: w}
	for i, tc := range rep.Tenants {
		if multi || len(rep.Tenants) > 1 {
			if i > 0 {
				o.println()
			}
			o.printf("tenant %s (schema %s):\n", tc.Tenant, tc.Schema)
		}
		tw := o.table(0)
		tw.printf("check\tstatus\tdetail\n")
		for _, c := range tc.Checks {
			tw.printf("%s\t%s\t%s\n", c.Name, c.Status, oneline.Of(c.Detail, 0))
		}
		tw.flush()
	}
	o.printf("\n%d ok, %d failed, %d skipped", rep.Summary.OK, rep.Summary.Failed, rep.Summary.Skipped)
	if rep.OK {
		o.printf(": ready to sync\n")
	} else {
		o.printf(": fix the failures above, then run syncer check again\n")
	}
	return o.done("the checks")
}

// checks collects one tenant's results, timing each.
type checks struct{ out []checkResult }

// run runs probe as the check name: its detail, and whether it passed.
func (c *checks) run(name string, probe func() (string, bool)) bool {
	start := time.Now()
	detail, ok := probe()
	status := checkOK
	if !ok {
		status = checkFail
	}
	c.out = append(c.out, checkResult{Name: name, Status: status, Detail: detail, Seconds: time.Since(start).Seconds()})
	return ok
}

// skip records name as skipped, for reason.
func (c *checks) skip(name, reason string) {
	c.out = append(c.out, checkResult{Name: name, Status: checkSkip, Detail: reason})
}

// checkTenant runs t's checks: the database (pool, or poolErr when it could not be opened),
// then the API with client, whose session it closes (revoking the tokens) before returning.
func (a *app) checkTenant(ctx context.Context, pool *pgxpool.Pool, poolErr error, client *engageclient.Client, t config.Tenant) tenantCheck {
	var cs checks
	cs.run("config", func() (string, bool) {
		return fmt.Sprintf("valid; entities: %s", entityList(t.Sync.Entities)), true
	})
	a.checkDatabase(ctx, &cs, pool, poolErr, t.Schema)
	a.checkAPI(ctx, &cs, client, t)
	tc := tenantCheck{Tenant: t.Name, Schema: t.Schema, OK: true, Checks: cs.out}
	for _, c := range cs.out {
		if c.Status == checkFail {
			tc.OK = false
		}
	}
	return tc
}

// entityList names the entities of a selection, with the ones they imply.
func entityList(sel []entity.Name) string {
	var names []string
	for _, e := range entity.Expand(sel) {
		names = append(names, string(e))
	}
	return strings.Join(names, ",")
}

// checkDatabase checks that the database answers, and that its role may create schema (when
// missing) or use and create in it (when present), and create temporary tables.
func (a *app) checkDatabase(ctx context.Context, cs *checks, pool *pgxpool.Pool, poolErr error, schema string) {
	var probe *db.ServerProbe
	ok := cs.run("database", func() (string, bool) {
		if poolErr != nil {
			// tenant.OpenPool's error already names database.url and its variable.
			return oneline.Of(poolErr.Error(), 0), false
		}
		var err error
		if probe, err = db.ProbeServer(ctx, pool, schema); err != nil {
			return oneline.Of(err.Error(), 300), false
		}
		return fmt.Sprintf("PostgreSQL %s, database %s as role %s", probe.ShortVersion(), probe.Database, probe.Role), true
	})
	if !ok {
		cs.skip("schema", "the database did not answer")
		return
	}
	cs.run("schema", func() (string, bool) { return schemaVerdict(probe, schema) })
}

// schemaVerdict says whether the probed role may run evsync in schema, and if not, what to
// grant.
func schemaVerdict(p *db.ServerProbe, schema string) (string, bool) {
	role, dbName, sch := pgx.Identifier{p.Role}.Sanitize(), pgx.Identifier{p.Database}.Sanitize(), pgx.Identifier{schema}.Sanitize()
	var problems []string
	detail := ""
	switch {
	case p.SchemaExists && p.SchemaUsage && p.SchemaCreate:
		detail = fmt.Sprintf("schema %s exists; role %s may use it and create in it", schema, p.Role)
	case p.SchemaExists:
		problems = append(problems, fmt.Sprintf("role %s lacks USAGE or CREATE on schema %s: GRANT USAGE, CREATE ON SCHEMA %s TO %s (or make the role its owner)",
			p.Role, schema, sch, role))
	case p.DatabaseCreate:
		detail = fmt.Sprintf("schema %s does not exist; role %s may create it (CREATE on database %s)", schema, p.Role, p.Database)
	default:
		problems = append(problems, fmt.Sprintf("schema %s does not exist and role %s may not create it: create it for the role (CREATE SCHEMA %s AUTHORIZATION %s) or GRANT CREATE ON DATABASE %s TO %s",
			schema, p.Role, sch, role, dbName, role))
	}
	if !p.DatabaseTemp {
		problems = append(problems, fmt.Sprintf("role %s may not create the temporary staging tables: GRANT TEMPORARY ON DATABASE %s TO %s", p.Role, dbName, role))
	}
	if len(problems) > 0 {
		return strings.Join(problems, "; "), false
	}
	return detail, true
}

// checkAPI checks the auth chain and one request per endpoint family t needs, then closes the
// client's session, revoking its tokens.
func (a *app) checkAPI(ctx context.Context, cs *checks, client *engageclient.Client, t config.Tenant) {
	apiChecks := []string{"accounts", "users", "agent_groups", "queue_groups", "dial_groups", "audit_log", "reporting"}
	var details *engageclient.AccessTokenUserDetails
	var loginErr error
	granted := cs.run("ringcentral_jwt", func() (string, bool) {
		details, loginErr = client.Login(ctx)
		if client.Stats().Grants == 0 {
			if loginErr == nil {
				return "no token granted", false
			}
			return a.authVerdict(t, loginErr), false
		}
		return "200, RingCentral access token granted", true
	})
	defer func() {
		if client.Stats().Grants == 0 {
			return
		}
		cs.run("revoke", func() (string, bool) {
			cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 15*time.Second)
			defer cancel()
			if err := client.Close(cctx); err != nil {
				return oneline.Of(err.Error(), 300) + ": the token expires by itself within its lifetime", false
			}
			return "RingCentral token revoked, Engage refresh token logged out", true
		})
	}()
	if !granted {
		cs.skip("engage_exchange", "the RingCentral JWT grant failed")
		skipAll(cs, apiChecks, "the RingCentral JWT grant failed")
		return
	}
	if !cs.run("engage_exchange", func() (string, bool) {
		if loginErr != nil {
			return a.authVerdict(t, loginErr), false
		}
		return fmt.Sprintf("200, Engage token for main account %s", details.MainAccountID), true
	}) {
		skipAll(cs, apiChecks, "the Engage exchange failed")
		return
	}
	a.checkListings(ctx, cs, client, t)
}

// skipAll records each of names as skipped for reason.
func skipAll(cs *checks, names []string, reason string) {
	for _, n := range names {
		cs.skip(n, reason)
	}
}

// checkListings makes one request per endpoint family: the accounts listing, the users
// listing, one sub-account's agent, queue and dial groups (for the entities t selects), the
// audit log search (the default stream) and one reporting endpoint.
func (a *app) checkListings(ctx context.Context, cs *checks, client *engageclient.Client, t config.Tenant) {
	sel := syncrun.Config{Entities: t.Sync.Entities}
	var sub *engageclient.Account
	accountsOK := cs.run("accounts", func() (string, bool) {
		accs, _, err := client.ListAccounts(ctx)
		if err != nil {
			return apiVerdict(err, "the user needs READ on the accounts"), false
		}
		mains := map[string]bool{}
		for _, acc := range accs {
			mains[acc.MainAccountID] = true
			if sub == nil || (archived(sub) && !archived(acc)) {
				sub = acc // the first sub-account that is not archived, else the first
			}
		}
		return fmt.Sprintf("200, %s of %s", plural(len(accs), "sub-account"), plural(len(mains), "main account")), true
	})
	if !sel.Selects(entity.Users) {
		cs.skip("users", "users is not among the selected entities")
	} else {
		cs.run("users", func() (string, bool) {
			users, _, err := client.ListUsers(ctx, &engageclient.UserListOptions{Flatten: true})
			if err != nil {
				return apiVerdict(err, "the user needs the MANAGE_USERS or SUPER_USER permission"), false
			}
			return fmt.Sprintf("200, %d users", len(users)), true
		})
	}
	reason := ""
	switch {
	case !accountsOK:
		reason = "the accounts listing failed"
	case sub == nil:
		reason = "the accounts listing has no sub-account"
	}
	checkGroups(ctx, cs, client, sel, sub, reason)
	if reason != "" {
		cs.skip("audit_log", reason)
		cs.skip("reporting", reason)
		return
	}
	checkWindows(ctx, cs, client, sub)
}

// plural is n and word, with an s unless n is 1.
func plural(n int, word string) string {
	if n == 1 {
		return "1 " + word
	}
	return fmt.Sprintf("%d %ss", n, word)
}

// archived reports whether a sub-account is archived.
func archived(a *engageclient.Account) bool { return a.ArchivedAccount != nil && *a.ArchivedAccount }

// checkGroups lists the agent, queue and dial groups of sub, each when a selected entity reads
// them; all are skipped for reason when it is set.
func checkGroups(ctx context.Context, cs *checks, client *engageclient.Client, sel syncrun.Config, sub *engageclient.Account, reason string) {
	groupChecks := []struct {
		name   string
		entity entity.Name
		list   func(id string) (int, error)
		what   string
	}{
		{"agent_groups", entity.AgentGroups, func(id string) (int, error) {
			gs, _, err := client.ListAgentGroups(ctx, id, nil)
			return len(gs), err
		}, "agent groups"},
		{"queue_groups", entity.QueueGroups, func(id string) (int, error) {
			gs, _, err := client.ListGateGroupsWithChildren(ctx, id)
			return len(gs), err
		}, "queue groups"},
		{"dial_groups", entity.DialGroups, func(id string) (int, error) {
			gs, _, err := client.ListDialGroupsWithChildren(ctx, id)
			return len(gs), err
		}, "dial groups"},
	}
	for _, g := range groupChecks {
		switch {
		case !sel.Selects(g.entity):
			cs.skip(g.name, fmt.Sprintf("no selected entity reads the %s", g.what))
		case reason != "":
			cs.skip(g.name, reason)
		default:
			cs.run(g.name, func() (string, bool) {
				n, err := g.list(sub.AccountID)
				if err != nil {
					return apiVerdict(err, "the user needs READ on sub-account "+sub.AccountID), false
				}
				return fmt.Sprintf("200, %d %s in sub-account %s", n, g.what, sub.AccountID), true
			})
		}
	}
}

// checkWindows reads the last whole hour that ended at least the reporting API's delay ago
// from sub's audit log (the default stream) and from one reporting endpoint.
func checkWindows(ctx context.Context, cs *checks, client *engageclient.Client, sub *engageclient.Account) {
	end := time.Now().UTC().Add(-engageclient.ReportingMinDelay).Truncate(time.Hour)
	start := end.Add(-time.Hour)
	window := fmt.Sprintf("%s to %s", start.Format(time.RFC3339), end.Format(time.RFC3339))
	cs.run("audit_log", func() (string, bool) {
		entries, _, err := client.SearchAuditLogs(ctx, &engageclient.AuditLogSearch{AccountID: sub.AccountID, Start: start, End: end})
		if err != nil {
			return apiVerdict(err, "the user needs the Audit log access permission (RingCX admin: Users > Administrators)"), false
		}
		return fmt.Sprintf("200, %d audit log entries of sub-account %s from %s", len(entries), sub.AccountID, window), true
	})
	cs.run("reporting", func() (string, bool) {
		rcAccountID := ""
		if m := sub.MainAccount; m != nil && m.RCAccountID != nil {
			rcAccountID = *m.RCAccountID
		}
		if rcAccountID == "" { // the listing lacks it: RingCentral says it
			id, err := client.RCAccountID(ctx)
			if err != nil {
				return "the RingCentral account id, which the reporting endpoints need: " + oneline.Of(err.Error(), 300), false
			}
			rcAccountID = id
		}
		rows, _, err := client.ListQueueStats(ctx, rcAccountID, sub.AccountID,
			&engageclient.StatsWindow{Start: start, End: end, Interval: time.Hour})
		if err != nil {
			return apiVerdict(err, "not entitled: ask RingCentral for WEM Access on sub-account "+sub.AccountID), false
		}
		return fmt.Sprintf("200, %d queue stats rows (agg-queue-stats) of sub-account %s from %s", len(rows), sub.AccountID, window), true
	})
}

// apiVerdict is the detail of a failed API check: the status and message the API answered,
// then what to do (forbidden, for a 403).
func apiVerdict(err error, forbidden string) string {
	var ae *engageclient.APIError
	if !errors.As(err, &ae) {
		return oneline.Of(err.Error(), 300)
	}
	detail := apiAnswer(ae)
	switch ae.StatusCode {
	case http.StatusForbidden:
		return detail + ": " + forbidden
	case http.StatusUnauthorized:
		return detail + ": the Engage token was refused"
	case http.StatusTooManyRequests:
		return detail + rateLimited
	}
	return detail
}

// rateLimited is what to do after a 429.
const rateLimited = ": rate limited; run check again in a minute"

// apiAnswer is the status and message of an Engage error answer.
func apiAnswer(ae *engageclient.APIError) string {
	msg := ae.GeneralMessage
	if ae.Details != "" && ae.Details != msg {
		msg = strings.TrimPrefix(msg+" ("+ae.Details+")", " ")
	}
	if msg == "" {
		msg = http.StatusText(ae.StatusCode)
	}
	return fmt.Sprintf("%d: %s", ae.StatusCode, oneline.Of(msg, 200))
}

// authVerdict is the detail of a failed RingCentral JWT grant or Engage exchange of tenant t:
// what the server answered (the status and OAuth code of a RingCentral answer, the status and
// message of an Engage one, else the error), then what to check, as a sync's error says it
// (tenant.Explain).
func (a *app) authVerdict(t config.Tenant, err error) string {
	var (
		au     *engageclient.AuthError
		ae     *engageclient.APIError
		detail string
		status int
	)
	switch {
	case errors.As(err, &au):
		detail, status = strings.TrimSuffix(fmt.Sprintf("%d %s", au.StatusCode, au.Code), " "), au.StatusCode
		if au.Description != "" {
			detail += ": " + oneline.Of(au.Description, 200)
		}
	case errors.As(err, &ae):
		detail, status = apiAnswer(ae), ae.StatusCode
	default:
		detail = oneline.Of(err.Error(), 300)
	}
	if status == http.StatusTooManyRequests {
		detail += rateLimited
	}
	if h := tenant.Explain(t, a.cfg.MultiTenant(), err); h != "" {
		detail += ": " + h
	}
	return detail
}
