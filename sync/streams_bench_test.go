package sync_test

import (
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/evsync/evsync/db"
	"github.com/evsync/evsync/engageclient"
	"github.com/evsync/evsync/engageclient/engagefake"
	"github.com/evsync/evsync/internal/entity"
	"github.com/evsync/evsync/internal/testing/fixture"
	"github.com/evsync/evsync/internal/testing/fixture/engagetest"
	"github.com/evsync/evsync/internal/testing/fixture/storetest"
	syncrun "github.com/evsync/evsync/sync"
)

// The audit log backfill of issue #24: 90 days of 20 sub-accounts, one-hour windows (43,200
// requests), through the fake at the admin rate. The rate is scaled up from the API's 120 a
// minute (six hours of requests) to auditBenchRPM, the fake's limiter and the client's alike,
// so that the run is bound by the pacing, as a real one is, in minutes. The lower bound of its
// time is its requests ÷ the rate; speed is that bound ÷ the time taken (1 = the pacing is
// the only cost).
const (
	auditBenchDays = 90
	auditBenchSubs = 20
	auditBenchRPM  = 30000
)

// BenchmarkAuditBackfill90Days reports the backfill's speed against its lower bound, the 429s
// (the target is 0), and the publish cost per window against a COPY of the same rows into an
// empty table of the same shape, measured in the same run.
func BenchmarkAuditBackfill90Days(b *testing.B) {
	// A clock that runs from a fixed start: the fake's rate limiter refills by it.
	now, began := time.Date(2026, 12, 5, 10, 30, 0, 0, time.UTC), time.Now()
	clock := func() time.Time { return now.Add(time.Since(began)) }
	for b.Loop() {
		fake := fixture.Fake(b, engagefake.Options{Seed: 24, Now: clock,
			Tenant:    engagefake.TenantSpec{MainAccounts: 1, SubAccountsPerMain: auditBenchSubs, AgentGroupsPerSubAccount: 2, AgentsPerGroup: 10, Users: 20},
			AuditDays: auditBenchDays + 1, RateLimit: auditBenchRPM, RateLimitRetryAfter: true})
		d := storetest.New(b)
		// A pool as a process running one run has (tenant.PoolSize(1)): the run's session,
		// its publishes and the ledger's statements.
		pool, err := db.Open(b.Context(), d.URL(), db.WithMaxConns(7))
		if err != nil {
			b.Fatal(err)
		}
		store, err := db.NewStore(pool, d.Schema)
		if err != nil {
			b.Fatal(err)
		}
		client := engagetest.Client(b, fake, func(c *engageclient.Config) {
			c.RequestsPerMinute, c.Concurrency = auditBenchRPM, 4
		})
		r, err := syncrun.NewStreamRunner(client, store, syncrun.StreamsConfig{Streams: []entity.Name{entity.AuditLog},
			Now: clock, Concurrency: 4, RequestsPerMinute: auditBenchRPM,
			Backfill: &syncrun.Backfill{Since: clock().Add(-auditBenchDays * 24 * time.Hour)}}, nil)
		if err != nil {
			b.Fatal(err)
		}
		start := time.Now()
		res, err := r.Run(b.Context())
		took := time.Since(start)
		if err != nil {
			b.Fatal(err)
		}
		read, failed, left := res.Windows()
		if failed != 0 || left != 0 || read < auditBenchDays*24*auditBenchSubs {
			b.Fatalf("windows read/failed/left = %d/%d/%d", read, failed, left)
		}
		requests := float64(res.API.Requests)
		bound := time.Duration(requests / auditBenchRPM * float64(time.Minute))
		var publish time.Duration
		var rows int64
		for _, s := range res.Scopes {
			publish += s.Publish
			rows += s.Counts.Inserted
		}
		pool.Close()
		copyTook := copyAuditRows(b, d)
		b.ReportMetric(float64(bound)/float64(took), "speed/bound")
		b.ReportMetric(float64(fake.Stats().RateLimited), "429s")
		b.ReportMetric(float64(read), "windows")
		b.ReportMetric(float64(rows), "rows")
		b.ReportMetric(float64(publish.Microseconds())/float64(read), "publish_µs/window")
		b.ReportMetric(float64(copyTook.Microseconds())/float64(read), "copy_µs/window")
		b.ReportMetric(float64(copyTook)/float64(publish), "copy/publish")
	}
}

// copyAuditRows COPYs every stored audit_log row into a new empty table of the same columns
// and returns how long the COPY took: the baseline of the publish.
func copyAuditRows(b *testing.B, d *storetest.DB) time.Duration {
	b.Helper()
	ctx := b.Context()
	src := pgx.Identifier{d.Schema, "audit_log"}.Sanitize()
	rows, err := d.Pool.Query(ctx, "SELECT * FROM "+src)
	if err != nil {
		b.Fatal(err)
	}
	cols := make([]string, 0, 16)
	for _, f := range rows.FieldDescriptions() {
		cols = append(cols, f.Name)
	}
	var data [][]any
	for rows.Next() {
		v, err := rows.Values()
		if err != nil {
			b.Fatal(err)
		}
		data = append(data, v)
	}
	if err := rows.Err(); err != nil {
		b.Fatal(err)
	}
	dst := pgx.Identifier{d.Schema, "audit_log_copy"}
	if _, err := d.Pool.Exec(ctx, "CREATE TABLE "+dst.Sanitize()+" (LIKE "+src+")"); err != nil {
		b.Fatal(err)
	}
	start := time.Now()
	if _, err := d.Pool.CopyFrom(ctx, dst, cols, pgx.CopyFromRows(data)); err != nil {
		b.Fatal(err)
	}
	return time.Since(start)
}
