package config

import (
	"errors"
	"fmt"
	"log/slog"
	"math"
	"net"
	"net/url"
	"slices"
	"strconv"
	"time"

	"github.com/evsync/evsync/db"
	"github.com/evsync/evsync/engageclient"
	"github.com/evsync/evsync/internal/entity"
	syncrun "github.com/evsync/evsync/sync"
)

// Validate checks every key of c and returns one error line per problem, each naming the key
// and what was expected. Credentials are not checked here (see RequireCredentials): demo and
// status need none.
func (c *Config) Validate() error {
	var errs []error
	top := map[string]bool{} // the top-level keys with a problem
	bad := func(key, format string, args ...any) {
		top[key] = true
		errs = append(errs, fmt.Errorf("config: "+key+": "+format, args...))
	}

	if err := checkDatabaseURL(c.Database.URL); err != nil {
		bad("database.url", "%v", err)
	}
	if err := db.CheckSchema(c.Database.Schema); err != nil {
		bad("database.schema", "%v", err)
	}
	if err := db.CheckSchema(c.Database.ControlSchema); err != nil {
		bad("database.control_schema", "%v", err)
	} else if !c.MultiTenant() && c.Database.ControlSchema == c.Database.Schema {
		bad("database.control_schema", "must differ from database.schema (%q): River's tables have a schema of their own", c.Database.Schema)
	}
	if err := db.CheckLockTimeout(c.Database.LockTimeout); err != nil {
		bad("database.lock_timeout", "%v", err)
	}
	validateTenantKeys(c.TopLevelTenant(), bad)
	if n := c.Sync.TenantConcurrency; n < 1 || n > TenantConcurrencyMax {
		bad("sync.tenant_concurrency", "must be an integer from 1 to %d, got %d", TenantConcurrencyMax, n)
	}
	if n := c.Schedule.MaxConcurrentRuns; n < 1 || n > 64 {
		bad("schedule.max_concurrent_runs", "must be an integer from 1 to 64, got %d", n)
	}
	c.validateProcess(bad)
	errs = append(errs, c.validateTenants(top)...)
	return errors.Join(errs...)
}

// validateTenants checks every entry of the tenants list: its name, its schema and its
// sections. A problem of a key the tenant took from the top level (top has its key) is the
// top level's, reported once there.
func (c *Config) validateTenants(top map[string]bool) []error {
	var errs []error
	names, schemas := map[string]int{}, map[string]int{}
	for i, t := range c.TenantList {
		prefix := fmt.Sprintf("tenants[%d].", i)
		bad := func(key, format string, args ...any) {
			if top[key] {
				return
			}
			errs = append(errs, fmt.Errorf("config: "+prefix+key+": "+format, args...))
		}
		switch j, dup := names[t.Name]; {
		case t.Name == "":
			bad("name", "missing; every tenant needs a name like acme ([a-z][a-z0-9_]{0,30})")
		case !tenantName.MatchString(t.Name):
			bad("name", "must be a lower-case name like acme: a letter, then up to 30 letters, digits or _, got %q", t.Name)
		case dup:
			bad("name", "%q is already the name of tenants[%d]", t.Name, j)
		default:
			names[t.Name] = i
		}
		if tenantName.MatchString(t.Name) || t.Schema != "" { // else the name's problem is the one
			switch j, dup := schemas[t.Schema]; {
			case db.CheckSchema(t.Schema) != nil:
				bad("schema", "%v", db.CheckSchema(t.Schema))
			case dup:
				bad("schema", "%q is already the schema of tenants[%d]: two tenants never share a schema", t.Schema, j)
			case t.Schema == c.Database.ControlSchema:
				bad("schema", "%q is database.control_schema, River's: a tenant's schema is its own", t.Schema)
			default:
				schemas[t.Schema] = i
			}
		}
		validateTenantKeys(t, bad)
	}
	return errs
}

// validateTenantKeys checks the keys of the sections a tenant may set: the top level's, or an
// entry's (whose bad names the entry).
func validateTenantKeys(t Tenant, bad problemFunc) {
	rc, e, sc := t.RingCentral, t.Engage, t.Sync
	if err := checkHTTPURL(rc.ServerURL); err != nil {
		bad("ringcentral.server_url", "%v", err)
	}
	if err := checkHTTPURL(e.ServerURL); err != nil {
		bad("engage.server_url", "%v", err)
	}
	if e.RefreshMargin <= 0 {
		bad("engage.refresh_margin", "must be a positive duration like \"60s\", got %q", e.RefreshMargin)
	}
	if e.RequestsPerMinute <= 0 {
		bad("engage.requests_per_minute", "must be a positive integer, got %d", e.RequestsPerMinute)
	}
	if n := e.Concurrency; n < 1 || n > engageclient.ConcurrencyMax {
		bad("engage.concurrency", "must be an integer from 1 to %d, got %d", engageclient.ConcurrencyMax, n)
	}
	if e.MaxRetryWait <= 0 {
		bad("engage.max_retry_wait", "must be a positive duration like \"2m\", got %q", e.MaxRetryWait)
	}
	if e.MaxListingRows <= 0 {
		bad("engage.max_listing_rows", "must be a positive integer, got %d", e.MaxListingRows)
	}
	if n := e.AssignedAgentsPageSize; n < 0 || n > syncrun.PageSizeMax {
		bad("engage.assigned_agents_page_size", "must be 0 (full lists) or a page size from 1 to %d, got %d", syncrun.PageSizeMax, n)
	}
	if len(sc.Entities) == 0 {
		bad("sync.entities", "must list at least one of %s", EntityNames(", "))
	}
	seen := map[entity.Name]bool{}
	for _, e := range sc.Entities {
		switch {
		case !slices.Contains(entity.Names(), e):
			bad("sync.entities", "unknown entity %q, expected some of %s", e, EntityNames(", "))
		case seen[e]:
			bad("sync.entities", "entity %q is listed twice", e)
		}
		seen[e] = true
	}
	if f := sc.MaxDeleteFraction; !(f > 0 && f <= 1) || math.IsNaN(f) {
		bad("sync.max_delete_fraction", "must be a number greater than 0 and at most 1, got %v", f)
	}
	if sc.Timeout <= 0 {
		bad("sync.timeout", "must be a positive duration like \"1h\", got %q", sc.Timeout)
	}
	validateSchedule(t.Schedule, bad)
	validateStreams(t, time.Now(), bad)
}

// problemFunc reports one problem of the config key; Validate collects them.
type problemFunc func(key, format string, args ...any)

// validateProcess checks http.*, log.* and shutdown.*.
func (c *Config) validateProcess(bad problemFunc) {
	if l := c.HTTP.Listen; l != "" {
		if err := checkListen(l); err != nil {
			bad("http.listen", "must be empty (off) or host:port like \":9090\" or \"127.0.0.1:9090\", got %q", l)
		}
	}
	if c.HTTP.ReadyStaleness <= 0 {
		bad("http.ready_staleness", "must be a positive duration like \"26h\", got %q", c.HTTP.ReadyStaleness)
	}
	if _, err := ParseLevel(c.Log.Level); err != nil {
		bad("log.level", "must be one of debug, info, warn, error, got %q", c.Log.Level)
	}
	if !slices.Contains([]string{"auto", "text", "json"}, c.Log.Format) {
		bad("log.format", "must be one of auto, text, json, got %q", c.Log.Format)
	}
	if c.Shutdown.GracePeriod <= 0 {
		bad("shutdown.grace_period", "must be a positive duration like \"30s\", got %q", c.Shutdown.GracePeriod)
	}
}

// RequireCredentials reports the RingCentral credentials that are missing, one line per key,
// with where to set it: for the top level, or with a tenants list for each tenant. sync and run
// call it after Validate; demo, status and migrate don't.
func (c *Config) RequireCredentials() error {
	if !c.MultiTenant() {
		var errs []error
		if c.RingCentral.ClientID == "" {
			errs = append(errs, errors.New("config: ringcentral.client_id: missing; set EVSYNC_RC_CLIENT_ID or ringcentral.client_id"))
		}
		if c.RingCentral.ClientSecret == "" {
			errs = append(errs, errors.New("config: ringcentral client secret: missing; set EVSYNC_RC_CLIENT_SECRET or ringcentral.client_secret_file"))
		}
		if c.RingCentral.JWT == "" {
			errs = append(errs, errors.New("config: ringcentral JWT: missing; set EVSYNC_RC_JWT or ringcentral.jwt_file"))
		}
		return errors.Join(errs...)
	}
	var errs []error
	for i, t := range c.TenantList {
		p := fmt.Sprintf("tenants[%d]", i)
		if t.RingCentral.ClientID == "" {
			errs = append(errs, fmt.Errorf("config: %s.ringcentral.client_id: missing; set %s.ringcentral.client_id or the top-level ringcentral.client_id", p, p))
		}
		if t.RingCentral.ClientSecret == "" {
			errs = append(errs, fmt.Errorf("config: %s.ringcentral.client_secret_file: missing client secret; set %s or %s.ringcentral.client_secret_file (or the top-level ringcentral.client_secret_file)", p, TenantEnv(t.Name, "RC_CLIENT_SECRET"), p))
		}
		if t.RingCentral.JWT == "" {
			errs = append(errs, fmt.Errorf("config: %s.ringcentral.jwt_file: missing JWT; set %s or %s.ringcentral.jwt_file", p, TenantEnv(t.Name, "RC_JWT"), p))
		}
	}
	return errors.Join(errs...)
}

// checkDatabaseURL accepts postgres:// and postgresql:// URLs. Its errors never repeat the
// URL, which may carry a password.
func checkDatabaseURL(s string) error {
	if s == "" {
		return errors.New("must be a postgres:// URL, got \"\"")
	}
	u, err := url.Parse(s)
	if err != nil {
		return errors.New("must be a postgres:// or postgresql:// URL, and this one does not parse")
	}
	if u.Scheme != "postgres" && u.Scheme != "postgresql" {
		return fmt.Errorf("must be a postgres:// or postgresql:// URL, got scheme %q", u.Scheme)
	}
	return nil
}

// checkHTTPURL accepts absolute http(s) URLs with a host.
func checkHTTPURL(s string) error {
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("must be an absolute http:// or https:// URL, got %q", RedactURL(s))
	}
	if u.User != nil {
		return fmt.Errorf("must not carry credentials, got %q", RedactURL(s))
	}
	return nil
}

func checkListen(s string) error {
	_, port, err := net.SplitHostPort(s)
	if err != nil {
		return err
	}
	if p, err := strconv.Atoi(port); err != nil || p < 0 || p > 65535 {
		return fmt.Errorf("bad port %q", port)
	}
	return nil
}

// ParseLevel reads log.level: debug, info, warn or error.
func ParseLevel(s string) (slog.Level, error) {
	switch s {
	case "debug":
		return slog.LevelDebug, nil
	case "info":
		return slog.LevelInfo, nil
	case "warn":
		return slog.LevelWarn, nil
	case "error":
		return slog.LevelError, nil
	}
	return 0, fmt.Errorf("unknown log level %q", s)
}
