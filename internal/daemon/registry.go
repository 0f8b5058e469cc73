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

// createRegistry creates the registry table in schema if it is missing.
func createRegistry(ctx context.Context, conn *pgxpool.Conn, schema string) error {
	_, err := conn.Exec(ctx, `CREATE TABLE IF NOT EXISTS `+pgx.Identifier{schema, registryTable}.Sanitize()+` (
	replica text NOT NULL,
	tenant text NOT NULL,
	spec text NOT NULL,
	seen_at timestamptz NOT NULL DEFAULT now(),
	PRIMARY KEY (replica, tenant)
)`)
	if err != nil {
		return fmt.Errorf("creating %s.%s: %w", schema, registryTable, err)
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
}

// live is the SQL condition of a row of a replica heard from within 3 heartbeats ($1).
const live = "seen_at > now() - $1::interval"

// beat lists this replica's tenants (seen now), forgets replicas gone for long, and schedules
// here the tenants that other live replicas have and this one lacks (removing those no live
// replica has any more). Errors are logged: the next beat tries again.
func (r *registry) beat(ctx context.Context) {
	names := make([]string, len(r.tenants))
	specs := make([]string, len(r.tenants))
	for i, t := range r.tenants {
		names[i], specs[i] = t.Name, t.Spec
	}
	if _, err := r.pool.Exec(ctx, `
INSERT INTO `+r.table+` (replica, tenant, spec, seen_at)
SELECT $1, t, s, now() FROM unnest($2::text[], $3::text[]) AS u(t, s)
ON CONFLICT (replica, tenant) DO UPDATE SET spec = excluded.spec, seen_at = excluded.seen_at`, r.replica, names, specs); err != nil {
		r.logger.Warn("registering this replica's tenants", "replica", r.replica, "err", err.Error())
		return
	}
	if _, err := r.pool.Exec(ctx, `DELETE FROM `+r.table+` WHERE seen_at < now() - $1::interval`, 100*r.interval); err != nil {
		r.logger.Warn("forgetting the replicas gone", "replica", r.replica, "err", err.Error())
	}
	rows, err := r.pool.Query(ctx, `
SELECT tenant, replica, spec FROM `+r.table+`
WHERE `+live+` AND replica <> $2 AND tenant <> ALL($3::text[])
ORDER BY tenant, replica`, 3*r.interval, r.replica, names)
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
	for name, spec := range r.foreign {
		if o := others[name]; o == nil || o.spec != spec {
			r.periodic.RemoveByID(periodicID(name))
			delete(r.foreign, name)
			delete(r.warned, name)
		}
	}
	for name, o := range others {
		if _, ok := r.foreign[name]; ok {
			continue
		}
		logger := r.logger.With("tenant", name, "replica", r.replica, "configured_on", strings.Join(o.on, ","))
		if r.parse == nil || o.spec == "" {
			logger.Warn("a tenant of another replica is not in this replica's config; it is not scheduled from here")
			r.foreign[name] = o.spec
			continue
		}
		sched, err := r.parse(o.spec)
		if err != nil {
			logger.Warn("a tenant of another replica is not in this replica's config, and its schedule cannot be read here",
				"spec", o.spec, "err", err.Error())
			r.foreign[name] = o.spec
			continue
		}
		if _, err := r.periodic.AddSafely(river.NewPeriodicJob(sched, insertFor(Tenant{Name: name}),
			&river.PeriodicJobOpts{ID: periodicID(name)})); err != nil {
			logger.Warn("scheduling a tenant of another replica", "err", err.Error())
			continue
		}
		logger.Warn("a tenant of another replica is not in this replica's config; scheduled here from that replica's, run there",
			"spec", o.spec)
		r.foreign[name] = o.spec
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

// replicasWith lists the live replicas other than this one that have tenant.
func (r *registry) replicasWith(ctx context.Context, tenant string) ([]string, error) {
	rows, err := r.pool.Query(ctx, `SELECT replica FROM `+r.table+` WHERE `+live+` AND tenant = $2 AND replica <> $3 ORDER BY replica`,
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

// leaveToOthers is what the worker does with a job of a tenant this replica lacks: it snoozes
// the job (a replica that has the tenant takes it; the first time, with a warning naming the
// tenant and this replica), or, when no live replica has the tenant, cancels it with a
// warning.
func (r *registry) leaveToOthers(ctx context.Context, tenant string) error {
	on, err := r.replicasWith(ctx, tenant)
	if err != nil {
		r.logger.Warn("a job of a tenant not in this replica's config; left for later", "tenant", tenant, "replica", r.replica, "err", err.Error())
		return river.JobSnooze(r.interval)
	}
	logger := r.logger.With("tenant", tenant, "replica", r.replica)
	if len(on) == 0 {
		logger.Warn("run canceled: the tenant is in no live replica's config")
		return river.JobCancel(fmt.Errorf("tenant %q is in no live replica's config", tenant))
	}
	r.mu.Lock()
	first := !r.warned[tenant]
	r.warned[tenant] = true
	r.mu.Unlock()
	if first {
		logger.Warn("a run of a tenant not in this replica's config: left to the replicas that have it",
			"configured_on", strings.Join(on, ","))
	}
	return river.JobSnooze(time.Second)
}

// periodicID is the River periodic job id of tenant's schedule.
func periodicID(tenant string) string { return "sync:" + tenant }
