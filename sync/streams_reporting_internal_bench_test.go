package sync

import (
	"crypto/sha256"
	"iter"
	"slices"
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
)

// segmentsBenchPerHour is the busy sub-account's dialogs an hour: about 50,000 segments in a
// 3-hour window.
const segmentsBenchPerHour = 9300

// BenchmarkSegmentsWindow50k measures one 3-hour window of a busy sub-account (about 50,000
// segments): its decode, and its first read's and its no-op settle read's publish against a
// plain COPY of the same rows into an empty table of the same shape (its indexes included), in
// the same run. It reports copy_ms, publish_ms and settle_ms (each the best of 3),
// publish_vs_copy = copy/publish (target 0.7), settle_speedup = copy/settle (target 2), and
// settle_row_versions, the rows whose xmin a settle read that found nothing new changed
// (must be 0). Run it with
//
//	go test -run '^$' -bench BenchmarkSegmentsWindow50k -benchtime 1x ./sync/
func BenchmarkSegmentsWindow50k(b *testing.B) {
	const reps = 3
	now := time.Date(2026, 12, 5, 10, 30, 0, 0, time.UTC)
	span := db.Span{Start: time.Date(2026, 12, 5, 6, 0, 0, 0, time.UTC), End: time.Date(2026, 12, 5, 9, 0, 0, 0, time.UTC)}
	const busy = "20001"
	st := entity.StreamOf(entity.InteractionSegments)
	for b.Loop() {
		fake := fixture.Fake(b, engagefake.Options{Seed: 50, Now: func() time.Time { return now },
			Tenant: engagefake.TenantSpec{MainAccounts: 1, SubAccountsPerMain: 2, AgentGroupsPerSubAccount: 4, AgentsPerGroup: 25,
				Users: 2, QueueGroupsPerSubAccount: 2, QueuesPerGroup: 5, AgentsPerQueue: 20, DialGroupsPerSubAccount: -1},
			AuditPerHour: -1, CallDays: 1, CallsPerHour: 4, CallsPerHourBy: map[string]int{busy: segmentsBenchPerHour},
			ReportingUnlimited: true})
		if subs := fake.SubAccountIDs(); !slices.Contains(subs, busy) {
			b.Fatalf("sub-accounts %v: the benchmark's busy one is %s", subs, busy)
		}
		ctx := b.Context()
		client := engagetest.Client(b, fake, func(c *engageclient.Config) {
			c.ReportingLimits = []engageclient.Limit{{Count: 1000, Per: time.Second}}
		})
		rc, err := client.RCAccountID(ctx)
		if err != nil {
			b.Fatal(err)
		}

		// a. The read, decoded and mapped to rows as the engine maps them.
		start := time.Now()
		items, err := client.ReadInteractionSegments(ctx, rc, busy, &engageclient.SegmentsWindow{
			Start: span.Start, Interval: span.End.Sub(span.Start), Location: time.UTC})
		if err != nil {
			b.Fatal(err)
		}
		redact := newRedaction(nil, nil)
		var rows []db.StreamRow
		for item, err := range items.All() {
			if err != nil {
				b.Fatal(err)
			}
			r, err := segmentRow(item, redact)
			if err != nil {
				b.Fatal(err)
			}
			rows = append(rows, r)
		}
		decode := time.Since(start)
		if len(rows) < 40000 {
			b.Fatalf("%d segments in the window, want about 50,000", len(rows))
		}

		d := storetest.New(b)
		store := d.Store
		lock, _, err := store.StreamRunBegin(ctx, db.TriggerBackfill)
		if err != nil {
			b.Fatal(err)
		}
		table := pgx.Identifier{d.Schema, string(st.Name)}.Sanitize()
		exec := func(sql string, args ...any) {
			b.Helper()
			if _, err := d.Pool.Exec(ctx, sql, args...); err != nil {
				b.Fatalf("%s: %v", sql, err)
			}
		}

		// b. The baseline: a COPY of the same values into an empty table of the same shape, in
		// one transaction.
		base := pgx.Identifier{d.Schema, "base"}
		exec("CREATE TABLE " + base.Sanitize() + " (LIKE " + table + " INCLUDING ALL)")
		cols := []string{}
		for _, c := range slices.Concat(st.Key, st.Columns) {
			cols = append(cols, c.Name)
		}
		cols = append(cols, "window_start", "raw", "row_hash", "first_seen_at", "last_changed_at", "last_run_id")
		data := make([][]any, len(rows))
		at := time.Now()
		for i, r := range rows {
			sum := sha256.Sum256(r.Raw)
			data[i] = slices.Concat([]any{busy}, r.Key, r.Vals, []any{span.Start, []byte(r.Raw), sum[:], at, at, lock.RunID})
		}
		copyTook := bestOf(b, reps, func() {
			exec("TRUNCATE " + base.Sanitize())
		}, func() {
			tx, err := d.Pool.Begin(ctx)
			if err != nil {
				b.Fatal(err)
			}
			defer func() { _ = tx.Rollback(ctx) }()
			if _, err := tx.CopyFrom(ctx, base, cols, pgx.CopyFromRows(data)); err != nil {
				b.Fatal(err)
			}
			if err := tx.Commit(ctx); err != nil {
				b.Fatal(err)
			}
		})

		publish := func(settle bool) db.WindowCounts {
			b.Helper()
			c, err := store.WindowPublish(ctx, &db.WindowPublishParams{RunID: lock.RunID, Stream: st, SubAccountID: busy,
				Span: span, Settle: settle, Rows: seqOf(rows), Lock: lock, At: now})
			if err != nil {
				b.Fatal(err)
			}
			return c
		}

		// c. The first read into the empty table.
		publishTook := bestOf(b, reps, func() {
			exec("TRUNCATE " + table)
			exec("DELETE FROM "+pgx.Identifier{d.Schema, "stream_windows"}.Sanitize()+" WHERE stream = $1", st.Name)
		}, func() {
			if c := publish(false); c.Inserted != int64(len(rows)) {
				b.Fatalf("first read: %+v, want %d inserted", c, len(rows))
			}
		})

		// d. The settle read that finds nothing new: no row version. The table has not been
		// analyzed: the settle read must not depend on its statistics.
		xmins := func() map[string]string {
			out := map[string]string{}
			rs, err := d.Pool.Query(ctx, "SELECT segment_id, xmin::text FROM "+table)
			if err != nil {
				b.Fatal(err)
			}
			for rs.Next() {
				var id, x string
				if err := rs.Scan(&id, &x); err != nil {
					b.Fatal(err)
				}
				out[id] = x
			}
			if err := rs.Err(); err != nil {
				b.Fatal(err)
			}
			return out
		}
		before := xmins()
		settleTook := bestOf(b, reps, func() {}, func() {
			if c := publish(true); c.Inserted+c.Updated+c.Missing != 0 {
				b.Fatalf("no-op settle read: %+v, want nothing inserted, updated or missing", c)
			}
		})
		after := xmins()
		changed := 0
		for id, x := range before {
			if after[id] != x {
				changed++
			}
		}
		if len(after) != len(before) {
			b.Errorf("%d rows before the settle reads, %d after", len(before), len(after))
		}
		if changed != 0 {
			b.Errorf("the no-op settle reads wrote %d row versions, want 0", changed)
		}
		if err := lock.Finish(ctx, &db.RunFinishParams{RunID: lock.RunID, Status: db.RunSucceeded}); err != nil {
			b.Fatal(err)
		}
		ms := func(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
		b.Logf("%d segments: decode %s, copy %s, publish %s, settle %s", len(rows), decode, copyTook, publishTook, settleTook)
		b.ReportMetric(ms(decode), "decode_ms")
		b.ReportMetric(ms(copyTook), "copy_ms")
		b.ReportMetric(ms(publishTook), "publish_ms")
		b.ReportMetric(ms(settleTook), "settle_ms")
		b.ReportMetric(float64(copyTook)/float64(publishTook), "publish_vs_copy")
		b.ReportMetric(float64(copyTook)/float64(settleTook), "settle_speedup")
		b.ReportMetric(float64(changed), "settle_row_versions")
		b.ReportMetric(float64(len(rows)), "segments")
	}
}

// bestOf runs reset then f n times and returns the shortest time f took.
func bestOf(b *testing.B, n int, reset, f func()) time.Duration {
	b.Helper()
	best := time.Duration(1<<63 - 1)
	for range n {
		reset()
		start := time.Now()
		f()
		best = min(best, time.Since(start))
	}
	return best
}

// seqOf yields rows as a read yields them.
func seqOf(rows []db.StreamRow) iter.Seq2[db.StreamRow, error] {
	return func(yield func(db.StreamRow, error) bool) {
		for _, r := range rows {
			if !yield(r, nil) {
				return
			}
		}
	}
}
