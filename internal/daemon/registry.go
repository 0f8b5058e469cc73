package daemon

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"
)

// registryTable is the table of the control schema in which every live replica lists its
// tenants and their schedules, so that the leader enqueues a tenant that any live replica
// has, and a replica that lacks a tenant leaves its jobs to one that has it.
const registryTable = "evsync_replica_tenants"

// heartbeatDefault is schedulerConfig.Heartbeat's default.
const heartbeatDefault = 10 * time.Second

// createRegistry creates the registry table in schema if it is missing, and adds the columns
// that came after it (streams_spec) if they are missing. It looks in the catalog first, as
// schemaCreate does: PostgreSQL checks CREATE TABLE IF NOT EXISTS against the schema's CREATE
// privilege, and ALTER TABLE ... ADD COLUMN IF NOT EXISTS against the table's ownership, even
// when there is nothing to do, which would refuse a replica's role that only reads and writes
// a registry table another role created. The caller holds the migration lock
// (migrateLockKey) on conn, so no other replica creates them in between.
func createRegistry(ctx context.Context, conn *pgxpool.Conn, schema string) error {
	table := pgx.Identifier{schema, registryTable}.Sanitize()
	var tableExists, columnExists bool
	if err := conn.QueryRow(ctx, `
SELECT c.oid IS NOT NULL, EXISTS (
	SELECT 1 FROM pg_catalog.pg_attribute a
	WHERE a.attrelid = c.oid AND a.attname = 'streams_spec' AND NOT a.attisdropped)
FROM (SELECT (SELECT r.oid FROM pg_catalog.pg_class r
	JOIN pg_catalog.pg_namespace n ON n.oid = r.relnamespace
	WHERE n.nspname = $1 AND r.relname = $2) AS oid) c`, schema, registryTable).Scan(&tableExists, &columnExists); err != nil {
		return fmt.Errorf("looking up %s.%s: %w", schema, registryTable, err)
	}
	if !tableExists {
		_, err := conn.Exec(ctx, `CREATE TABLE `+table+` (
	replica text NOT NULL,
	tenant text NOT NULL,
	spec text NOT NULL,
	seen_at timestamptz NOT NULL DEFAULT now(),
	streams_spec text,
	PRIMARY KEY (replica, tenant)
)`)
		if err != nil {
			return fmt.Errorf("creating %s.%s: %w", schema, registryTable, err)
		}
		return nil
	}
	// streams_spec came with the streams: the schedule of the tenant's stream runs on that
	// replica, NULL when it has none (the rows of a replica older than it too).
	if !columnExists {
		if _, err := conn.Exec(ctx, `ALTER TABLE `+table+` ADD COLUMN streams_spec text`); err != nil {
			return fmt.Errorf("adding streams_spec to %s.%s: %w", schema, registryTable, err)
		}
	}
	return nil
}

// registry is this replica's side of the registry table.
type registry struct {
	pool     *pgxpool.Pool
	table    string // sanitized schema.table
	replica  string // River's client id
	interval time.Duration
	tenants  []Tenant // this replica's
	parse    func(spec string) (river.PeriodicSchedule, error)
	periodic *river.PeriodicJobBundle
	logger   *slog.Logger

	mu      sync.Mutex
	foreign map[string]string // tenant -> the spec it is scheduled with here, for tenants this replica lacks
	warned  map[string]bool   // tenants whose jobs this replica left to others, warned of once
	// foreignStreams and warnedStreams are foreign and warned for the stream runs of the
	// tenants whose streams this replica lacks (nil until needed).
	foreignStreams map[string]string
	warnedStreams  map[string]bool
}

// maps returns the foreign and warned maps of kind k (r.mu held).
func (r *registry) maps(k jobKind) (foreign map[string]string, warned map[string]bool) {
	if !k.streams {
		if r.foreign == nil {
			r.foreign, r.warned = map[string]string{}, map[string]bool{}
		}
		return r.foreign, r.warned
	}
	if r.foreignStreams == nil {
		r.foreignStreams, r.warnedStreams = map[string]string{}, map[string]bool{}
	}
	return r.foreignStreams, r.warnedStreams
}

// live is the SQL condition of a row of a replica heard from within 3 heartbeats ($1).
const live = "seen_at > now() - $1::interval"

// beat lists this replica's tenants (seen now) with their schedules, forgets replicas gone
// for long, and schedules here the tenants that other live replicas have and this one lacks
// (removing those no live replica has any more), and likewise the stream runs of the tenants
// whose streams other live replicas have and this one lacks. Errors are logged: the next beat
// tries again.
func (r *registry) beat(ctx context.Context) {
	names := make([]string, len(r.tenants))
	specs := make([]string, len(r.tenants))
	streamSpecs := make([]*string, len(r.tenants))
	var withStreams []string
	for i, t := range r.tenants {
		names[i], specs[i] = t.Name, t.Spec
		if t.RunStreams != nil {
			streamSpecs[i] = &t.StreamsSpec
			withStreams = append(withStreams, t.Name)
		}
	}
	if _, err := r.pool.Exec(ctx, `
INSERT INTO `+r.table+` (replica, tenant, spec, streams_spec, seen_at)
SELECT $1, t, s, ss, now() FROM unnest($2::text[], $3::text[], $4::text[]) AS u(t, s, ss)
ON CONFLICT (replica, tenant) DO UPDATE SET spec = excluded.spec, streams_spec = excluded.streams_spec, seen_at = excluded.seen_at`,
		r.replica, names, specs, streamSpecs); err != nil {
		r.logger.Warn("registering this replica's tenants", "replica", r.replica, "err", err.Error())
		return
	}
	if _, err := r.pool.Exec(ctx, `DELETE FROM `+r.table+` WHERE seen_at < now() - $1::interval`, 100*r.interval); err != nil {
		r.logger.Warn("forgetting the replicas gone", "replica", r.replica, "err", err.Error())
	}
	r.scheduleOthers(ctx, runsKind, `
SELECT tenant, replica, spec FROM `+r.table+`
WHERE `+live+` AND replica <> $2 AND tenant <> ALL($3::text[])
ORDER BY tenant, replica`, names)
	r.scheduleOthers(ctx, streamsKind, `
SELECT tenant, replica, streams_spec FROM `+r.table+`
WHERE `+live+` AND replica <> $2 AND streams_spec IS NOT NULL AND tenant <> ALL($3::text[])
ORDER BY tenant, replica`, withStreams)
}

// scheduleOthers schedules here the jobs of kind k of the tenants that query lists (tenant,
// replica, spec: those of other live replicas, but for the ones this replica has, mine), and
// removes those it scheduled that no live replica has any more.
func (r *registry) scheduleOthers(ctx context.Context, k jobKind, query string, mine []string) {
	if mine == nil {
		mine = []string{}
	}
	rows, err := r.pool.Query(ctx, query, 3*r.interval, r.replica, mine)
	if err != nil {
		r.logger.Warn("reading the other replicas' tenants", "replica", r.replica, "err", err.Error())
		return
	}
	type other struct {
		spec string
		on   []string
	}
	others := map[string]*other{}
	var tenant, replica, spec string
	_, err = pgx.ForEachRow(rows, []any{&tenant, &replica, &spec}, func() error {
		if o := others[tenant]; o != nil {
			o.on = append(o.on, replica)
		} else {
			others[tenant] = &other{spec: spec, on: []string{replica}} // the first replica's schedule
		}
		return nil
	})
	if err != nil {
		r.logger.Warn("reading the other replicas' tenants", "replica", r.replica, "err", err.Error())
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	foreign, warned := r.maps(k)
	for name, spec := range foreign {
		if o := others[name]; o == nil || o.spec != spec {
			r.periodic.RemoveByID(k.id(name))
			delete(foreign, name)
			delete(warned, name)
		}
	}
	for name, o := range others {
		if _, ok := foreign[name]; ok {
			continue
		}
		logger := r.logger.With("tenant", name, "replica", r.replica, "configured_on", strings.Join(o.on, ","))
		if r.parse == nil || o.spec == "" {
			logger.Warn(k.lacking + "; it is not scheduled from here")
			foreign[name] = o.spec
			continue
		}
		sched, err := r.parse(o.spec)
		if err != nil {
			logger.Warn(k.lacking+", and its schedule cannot be read here",
				"spec", o.spec, "err", err.Error())
			foreign[name] = o.spec
			continue
		}
		if _, err := r.periodic.AddSafely(river.NewPeriodicJob(sched, k.insert(name),
			&river.PeriodicJobOpts{ID: k.id(name)})); err != nil {
			logger.Warn("scheduling "+k.what+" of another replica", "err", err.Error())
			continue
		}
		logger.Warn(k.lacking+"; scheduled here from that replica's, run there",
			"spec", o.spec)
		foreign[name] = o.spec
	}
}

// leave removes this replica's rows (it stops), within 5 s.
func (r *registry) leave(ctx context.Context) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	if _, err := r.pool.Exec(ctx, `DELETE FROM `+r.table+` WHERE replica = $1`, r.replica); err != nil {
		r.logger.Warn("removing this replica's tenants from the registry", "replica", r.replica, "err", err.Error())
	}
}

// replicasWith lists the live replicas other than this one that have the jobs of kind k of
// tenant.
func (r *registry) replicasWith(ctx context.Context, tenant string, k jobKind) ([]string, error) {
	cond := ""
	if k.has != "" {
		cond = " AND " + k.has
	}
	rows, err := r.pool.Query(ctx, `SELECT replica FROM `+r.table+` WHERE `+live+` AND tenant = $2 AND replica <> $3`+cond+` ORDER BY replica`,
		3*r.interval, tenant, r.replica)
	if err != nil {
		return nil, fmt.Errorf("reading the replicas of tenant %q: %w", tenant, err)
	}
	on, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil, fmt.Errorf("reading the replicas of tenant %q: %w", tenant, err)
	}
	return on, nil
}

// leaveToOthers is what the worker does with a job of kind k of a tenant whose jobs of that
// kind this replica lacks: it snoozes the job (a replica that has them takes it; the first
// time, with a warning naming the tenant and this replica), or, when no live replica has
// them, cancels it with a warning.
func (r *registry) leaveToOthers(ctx context.Context, tenant string, k jobKind) error {
	on, err := r.replicasWith(ctx, tenant, k)
	if err != nil {
		r.logger.Warn("a job of "+k.what+" not in this replica's config; left for later", "tenant", tenant, "replica", r.replica, "err", err.Error())
		return river.JobSnooze(r.interval)
	}
	logger := r.logger.With("tenant", tenant, "replica", r.replica)
	if len(on) == 0 {
		logger.Warn(k.canceled)
		return river.JobCancel(fmt.Errorf(k.gone, tenant))
	}
	r.mu.Lock()
	_, warned := r.maps(k)
	first := !warned[tenant]
	warned[tenant] = true
	r.mu.Unlock()
	if first {
		logger.Warn(k.leftToOne, "configured_on", strings.Join(on, ","))
	}
	return river.JobSnooze(time.Second)
}

// periodicID is the River periodic job id of tenant's schedule.
func periodicID(tenant string) string { return "sync:" + tenant }

// streamsPeriodicID is the River periodic job id of tenant's streams schedule.
func streamsPeriodicID(tenant string) string { return "streams:" + tenant }
