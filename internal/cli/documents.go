package cli

import (
	"errors"
	"path/filepath"
	"strings"
	"time"

	"github.com/evsync/evsync/db"
	"github.com/evsync/evsync/internal/entity"
	"github.com/evsync/evsync/internal/tenant"
	syncrun "github.com/evsync/evsync/sync"
)

// The documents of --output json (docs/output.md describes each key). Times are RFC 3339 UTC
// (jsonTime), durations seconds, and an unknown value null: a pointer left nil, never a key
// left out.

// jsonTime renders t as RFC 3339 in UTC; nil for a zero time.
func jsonTime(t time.Time) *string {
	if t.IsZero() {
		return nil
	}
	s := t.UTC().Format(time.RFC3339Nano)
	return &s
}

// jsonTimePtr is jsonTime of *t; nil for nil.
func jsonTimePtr(t *time.Time) *string {
	if t == nil {
		return nil
	}
	return jsonTime(*t)
}

// nonZero returns &v, or nil for 0 (an id that is not known).
func nonZero(v int64) *int64 {
	if v == 0 {
		return nil
	}
	return &v
}

// nonEmpty returns &s, or nil for "".
func nonEmpty(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

// syncDoc is the document of `sync --output json`.
type syncDoc struct {
	ExitCode int             `json:"exit_code"`
	Tenants  []syncTenantDoc `json:"tenants"`
}

// syncTenantDoc is one tenant's run in a syncDoc.
type syncTenantDoc struct {
	Tenant          string           `json:"tenant"`
	Schema          string           `json:"schema"`
	RunID           *int64           `json:"run_id"`
	Status          string           `json:"status"`
	ExitCode        int              `json:"exit_code"`
	DryRun          bool             `json:"dry_run"`
	Error           *string          `json:"error"`
	StartedAt       *string          `json:"started_at"`
	FinishedAt      *string          `json:"finished_at"`
	DurationSeconds *float64         `json:"duration_seconds"`
	API             apiDoc           `json:"api"`
	Entities        []countsDoc      `json:"entities"`
	FailedScopes    []scopeDoc       `json:"failed_scopes"`
	FieldChanges    []fieldChangeDoc `json:"field_changes"`
	// Streams is the stream run after the entities; nil when none was made.
	Streams *streamRunDoc `json:"streams"`
}

// apiDoc is a run's API counters.
type apiDoc struct {
	Requests       int64 `json:"requests"`
	Retries        int64 `json:"retries"`
	RateLimited    int64 `json:"rate_limited"`
	TokenRefreshes int64 `json:"token_refreshes"`
}

// countsDoc is one entity's row counts of a run.
type countsDoc struct {
	Entity    entity.Name `json:"entity"`
	Fetched   int64       `json:"fetched"`
	Inserted  int64       `json:"inserted"`
	Updated   int64       `json:"updated"`
	Unchanged int64       `json:"unchanged"`
	Deleted   int64       `json:"deleted"`
	Restored  int64       `json:"restored"`
}

// scopeDoc is a scope that did not succeed.
type scopeDoc struct {
	Entity entity.Name `json:"entity"`
	Scope  string      `json:"scope"`
	Status string      `json:"status"`
	Error  string      `json:"error"`
}

// fieldChangeDoc is one API field change.
type fieldChangeDoc struct {
	Entity  entity.Name `json:"entity"`
	Path    string      `json:"path"`
	Change  string      `json:"change"`
	OldType *string     `json:"old_type"`
	NewType *string     `json:"new_type"`
	Feeds   []string    `json:"feeds"`
}

// fieldChangeDocs renders changes, each with the typed columns its path feeds.
func fieldChangeDocs(changes []db.FieldChange) []fieldChangeDoc {
	out := make([]fieldChangeDoc, 0, len(changes))
	for _, c := range changes {
		feeds := entity.Of(c.Entity).ColumnsFed(c.Path)
		if feeds == nil {
			feeds = []string{}
		}
		out = append(out, fieldChangeDoc{Entity: c.Entity, Path: c.Path, Change: string(c.Change),
			OldType: nonEmpty(c.OldType), NewType: nonEmpty(c.NewType), Feeds: feeds})
	}
	return out
}

// statusSkipped is the status of a tenant whose run found its lock taken (exit 4).
const statusSkipped = "skipped"

// syncDocOf is the document of the results of a sync that exits with code, each tenant's
// exiting with its codes (tenantsExit).
func syncDocOf(results []tenant.Result, codes []int, code int) syncDoc {
	d := syncDoc{ExitCode: code, Tenants: make([]syncTenantDoc, 0, len(results))}
	for i, r := range results {
		d.Tenants = append(d.Tenants, syncTenantDocOf(r, codes[i]))
	}
	return d
}

// syncTenantDocOf is one tenant's result, which exits with code, as a document.
func syncTenantDocOf(r tenant.Result, code int) syncTenantDoc {
	d := syncTenantDoc{Tenant: r.Tenant.Name, Schema: r.Tenant.Schema, ExitCode: code,
		Entities: []countsDoc{}, FailedScopes: []scopeDoc{}, FieldChanges: []fieldChangeDoc{},
		Streams: streamRunDocOf(r.StreamsRan, r.Streams, r.StreamsErr)}
	res := r.Res
	switch {
	case res == nil && r.Err == nil && d.Streams != nil: // streams only
		d.Status = d.Streams.Status
	case errors.Is(r.Err, syncrun.ErrLocked):
		d.Status = statusSkipped
	case res == nil:
		d.Status = string(db.RunFailed)
	default:
		d.Status = string(res.Status)
	}
	if r.Err != nil && !errors.Is(r.Err, syncrun.ErrLocked) {
		d.Error = nonEmpty(r.Err.Error())
	}
	if res == nil {
		return d
	}
	if res.Error != "" {
		d.Error = nonEmpty(res.Error)
	}
	d.RunID, d.DryRun = nonZero(res.RunID), res.DryRun
	d.StartedAt, d.FinishedAt = jsonTime(res.Started), jsonTime(res.Finished)
	if !res.Started.IsZero() && !res.Finished.IsZero() {
		secs := res.Finished.Sub(res.Started).Seconds()
		d.DurationSeconds = &secs
	}
	d.API = apiDoc{Requests: res.API.Requests, Retries: res.API.Retries, RateLimited: res.API.RateLimited, TokenRefreshes: res.API.Refreshes}
	totals := res.Totals()
	for _, e := range entity.Names() {
		if t, ok := totals[e]; ok {
			d.Entities = append(d.Entities, countsDoc{Entity: e, Fetched: t.Fetched, Inserted: t.Inserted, Updated: t.Updated,
				Unchanged: t.Unchanged, Deleted: t.Deleted, Restored: t.Restored})
		}
	}
	for _, s := range res.Scopes {
		if s.Status != db.ScopeSucceeded {
			d.FailedScopes = append(d.FailedScopes, scopeDoc{Entity: s.Entity, Scope: s.Scope, Status: string(s.Status), Error: s.Error})
		}
	}
	d.FieldChanges = fieldChangeDocs(res.FieldChanges)
	return d
}

// statusDoc is the document of `status --output json`.
type statusDoc struct {
	Tenants []statusTenantDoc `json:"tenants"`
}

// statusTenantDoc is one tenant's status.
type statusTenantDoc struct {
	Tenant    string       `json:"tenant"`
	Schema    string       `json:"schema"`
	Entities  []entityDoc  `json:"entities"`
	Streams   []streamDoc  `json:"streams"`
	Runs      []runDoc     `json:"runs"`
	APIFields apiFieldsDoc `json:"api_fields"`
}

// streamDoc is the freshness of one (stream, sub-account), as stream_freshness has it.
type streamDoc struct {
	Stream         entity.Name `json:"stream"`
	SubAccountID   string      `json:"sub_account_id"`
	HighWaterMark  *string     `json:"high_water_mark"`
	LagSeconds     *float64    `json:"lag_seconds"`
	WindowsPending int64       `json:"windows_pending"`
	WindowsFailed  int64       `json:"windows_failed"`
	NotEntitled    bool        `json:"not_entitled"`
	Live           bool        `json:"live"`
	Rows           int64       `json:"rows"`
	LastReadAt     *string     `json:"last_read_at"`
}

// streamDocsOf is the streams' freshness as documents.
func streamDocsOf(ss []db.StreamStatus) []streamDoc {
	out := make([]streamDoc, 0, len(ss))
	for _, s := range ss {
		d := streamDoc{Stream: s.Stream, SubAccountID: s.SubAccountID, HighWaterMark: jsonTimePtr(s.HighWater),
			WindowsPending: s.WindowsPending, WindowsFailed: s.WindowsFailed, NotEntitled: s.NotEntitled, Live: s.Live, Rows: s.Rows,
			LastReadAt: jsonTimePtr(s.LastReadAt)}
		if s.HighWater != nil {
			lag := s.Lag.Seconds()
			d.LagSeconds = &lag
		}
		out = append(out, d)
	}
	return out
}

// entityDoc is one entity's counts and freshness.
type entityDoc struct {
	Entity           entity.Name `json:"entity"`
	Live             int64       `json:"live"`
	Deleted          int64       `json:"deleted"`
	LastSuccessRunID *int64      `json:"last_success_run_id"`
	LastSuccessAt    *string     `json:"last_success_at"`
	AgeSeconds       *float64    `json:"age_seconds"`
}

// runDoc is one row of sync_runs.
type runDoc struct {
	RunID           int64   `json:"run_id"`
	Trigger         string  `json:"trigger"`
	Status          string  `json:"status"`
	StartedAt       *string `json:"started_at"`
	FinishedAt      *string `json:"finished_at"`
	DurationSeconds float64 `json:"duration_seconds"`
	APIRequests     int64   `json:"api_requests"`
	TokenRefreshes  int64   `json:"token_refreshes"`
	Retries         int64   `json:"retries"`
	RateLimited     int64   `json:"rate_limited"`
	Fetched         int64   `json:"fetched"`
	Inserted        int64   `json:"inserted"`
	Updated         int64   `json:"updated"`
	Unchanged       int64   `json:"unchanged"`
	Deleted         int64   `json:"deleted"`
	Restored        int64   `json:"restored"`
	Error           *string `json:"error"`
}

// apiFieldsDoc is the summary of the API fields recorded.
type apiFieldsDoc struct {
	Paths           int64            `json:"paths"`
	Entities        int64            `json:"entities"`
	LatestRunID     *int64           `json:"latest_run_id"`
	Changes         []fieldChangeDoc `json:"changes"`
	LastChangeRunID *int64           `json:"last_change_run_id"`
	LastChangeAt    *string          `json:"last_change_at"`
}

// statusTenantDocOf is a tenant's status as a document.
func statusTenantDocOf(name, schema string, st *db.Status, ss []db.StreamStatus, fs *db.FieldStatus) statusTenantDoc {
	d := statusTenantDoc{Tenant: name, Schema: schema, Entities: []entityDoc{}, Streams: streamDocsOf(ss), Runs: []runDoc{},
		APIFields: apiFieldsDoc{Paths: fs.Paths, Entities: fs.Entities, LatestRunID: nonZero(fs.RunID),
			Changes: fieldChangeDocs(fs.Changes), LastChangeRunID: nonZero(fs.LastChangeRunID), LastChangeAt: jsonTimePtr(fs.LastChangeAt)}}
	for _, e := range st.Entities {
		ed := entityDoc{Entity: e.Entity, Live: e.Live, Deleted: e.Deleted}
		if e.LastSuccessRunID != 0 && e.LastSuccessAt != nil {
			age := e.Age.Seconds()
			ed.LastSuccessRunID, ed.LastSuccessAt, ed.AgeSeconds = nonZero(e.LastSuccessRunID), jsonTimePtr(e.LastSuccessAt), &age
		}
		d.Entities = append(d.Entities, ed)
	}
	for _, r := range st.Runs {
		d.Runs = append(d.Runs, runDoc{RunID: r.RunID, Trigger: string(r.Trigger), Status: string(r.Status),
			StartedAt: jsonTime(r.StartedAt), FinishedAt: jsonTimePtr(r.FinishedAt), DurationSeconds: r.Duration.Seconds(),
			APIRequests: r.APIRequests, TokenRefreshes: r.TokenRefreshes, Retries: r.Retries, RateLimited: r.RateLimited,
			Fetched: r.Fetched, Inserted: r.Inserted, Updated: r.Updated, Unchanged: r.Unchanged, Deleted: r.Deleted,
			Restored: r.Restored, Error: nonEmpty(r.Error)})
	}
	return d
}

// migrateStatusDoc is the document of `migrate status --output json`.
type migrateStatusDoc struct {
	Tenants []migrateTenantDoc `json:"tenants"`
}

// migrateTenantDoc is the migrations of one tenant's schema.
type migrateTenantDoc struct {
	Tenant       string         `json:"tenant"`
	Schema       string         `json:"schema"`
	SchemaExists bool           `json:"schema_exists"`
	Pending      int            `json:"pending"`
	Migrations   []migrationDoc `json:"migrations"`
}

// migrationDoc is one migration.
type migrationDoc struct {
	Version   int64   `json:"version"`
	Name      string  `json:"name"`
	File      string  `json:"file"`
	Applied   bool    `json:"applied"`
	AppliedAt *string `json:"applied_at"`
}

// migrateTenantDocOf is the migrations of tenant name's schema as a document.
func migrateTenantDocOf(name string, ms *db.Migrations) migrateTenantDoc {
	d := migrateTenantDoc{Tenant: name, Schema: ms.Schema, SchemaExists: ms.Exists, Migrations: []migrationDoc{}}
	for _, m := range ms.Migrations {
		if !m.Applied {
			d.Pending++
		}
		d.Migrations = append(d.Migrations, migrationDoc{Version: m.Version, Name: migrationName(m.Path), File: m.Path,
			Applied: m.Applied, AppliedAt: jsonTimePtr(m.AppliedAt)})
	}
	return d
}

// migrationName is a migration's name from its file: "create_tables" of
// "00001_create_tables.sql".
func migrationName(file string) string {
	name := strings.TrimSuffix(file, filepath.Ext(file))
	if _, rest, ok := strings.Cut(name, "_"); ok {
		return rest
	}
	return name
}
