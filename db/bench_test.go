package db_test

import (
	"context"
	"fmt"
	"os"
	"runtime"
	"runtime/metrics"
	"strconv"
	gosync "sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/evsync/evsync/db"
	"github.com/evsync/evsync/internal/entity"
	"github.com/evsync/evsync/internal/testing/dbtest"
)

// Benchmark tenant: benchSubs sub-accounts × benchGroups groups, benchAgents agents in all.
const (
	benchAgents = 100_000
	benchSubs   = 50
	benchGroups = 4
	benchPage   = 500
)

// benchTenant generates agent pages on the fly, so the benchmark's own memory stays at a page.
type benchTenant struct {
	version func(agent int) int // content version of an agent; bumping it changes the row
	// optional is how many optional keys an agent may carry (agent n carries "opt<i>" for each
	// bit i set in n): 2^optional object shapes, for the drift benchmark. 0: one shape.
	optional int
}

func (bt *benchTenant) subID(s int) string { return strconv.Itoa(100000 + s) }

// pages calls fn with every page of agents, in listing order.
func (bt *benchTenant) pages(fn func(page []db.Row) error) error {
	perSub := benchAgents / benchSubs
	page := make([]db.Row, 0, benchPage)
	created := time.Date(2020, 5, 18, 19, 22, 12, 0, time.UTC)
	agentType, active := "AGENT", true
	for s := range benchSubs {
		sub := bt.subID(s)
		for i := range perSub {
			n := s*perSub + i
			id := int64(1_000_000 + n)
			v := bt.version(n)
			first, last := "First"+strconv.Itoa(n), "Last"+strconv.Itoa(v)
			user, email := fmt.Sprintf("agent%d@example.com", n), fmt.Sprintf("agent%d.v%d@example.com", n, v)
			rc := int64(8_000_000 + n)
			raw := fmt.Appendf(nil, `{"agentId":%d,"agentGroupId":%d,"firstName":%q,"lastName":%q,"username":%q,"email":%q,`+
				`"agentType":"AGENT","isActive":true,"rcUserId":%d,"createdOn":"2020-05-18T19:22:12.000+0000",`+
				`"password":"pw-%d","sipPassword":"sip-%d","phoneLoginPin":"%d","allowManualPass":true,`+
				`"defaultAutoAnswerOn":false,"manualOutboundDefaultCallerId":"+15555550100","maxChats":5,`+
				`"initLoginBaseState":"ON-BREAK","phoneLoginDialingType":"MANUAL","enableSoftphone":true,`+
				`"agentRank":%d,"location":"Building %d, Floor %d","team":"Team %d","externalAgentId":"ext-%d",`+
				`"gatesControlAgentVisibility":false,"enableTranscription":true,"altDefaultLoginDest":null,`+
				`"allowLeadInserts":false,"allowCallControl":true,"allowChat":true,"allowEmail":true,`+
				`"allowInbound":true,"allowOutbound":true,"allowOffHook":false,"allowAutoAnswer":true,`+
				`"allowHistoricalDialing":false,"allowFromIpAddresses":null,"directAgentExtension":"%d",`+
				`"ghostRnaAction":"AVAILABLE","supervisorRank":0,"crmPwd":"crm-%d","notes":"generated agent for the publish benchmark, version %d",`+
				`"skills":[{"skillId":1,"name":"support","level":3},{"skillId":2,"name":"sales","level":1}]}`,
				id, s*benchGroups+i%benchGroups, first, last, user, email, rc, n, n, n%10000,
				n%7, n%13, n%5, n%50, n, 2000+n%8000, n, v)
			if bt.optional > 0 {
				raw = raw[:len(raw)-1]
				for i := range bt.optional {
					if n&(1<<i) != 0 {
						raw = fmt.Appendf(raw, `,"opt%d":%d`, i, n%3)
					}
				}
				raw = append(raw, '}')
			}
			// As sync builds it: the agents columns in their description's order.
			page = append(page, db.Row{S: sub, N: [2]int64{id}, Raw: raw,
				Vals: []any{int64(s*benchGroups + i%benchGroups), &user, &first, &last, &email, &agentType, &active, &rc, &created, nil}})
			if len(page) == benchPage {
				if err := fn(page); err != nil {
					return err
				}
				page = page[:0]
			}
		}
	}
	if len(page) > 0 {
		return fn(page)
	}
	return nil
}

// parents stages the accounts, sub-accounts and groups the agents belong to.
func (bt *benchTenant) parents(ctx context.Context, st *db.Stage) error {
	name := "Main"
	if err := st.AccountsAdd(ctx, "test", []db.AccountRow{{MainAccountID: "1", Name: &name, Raw: []byte(`{"mainAccountId":"1"}`)}}); err != nil {
		return err
	}
	st.ScopeComplete(entity.Accounts, entity.ScopeAll)
	var subs []db.SubAccountRow
	for s := range benchSubs {
		subs = append(subs, db.SubAccountRow{SubAccountID: bt.subID(s), MainAccountID: "1", Raw: []byte(`{}`)})
		var groups []db.AgentGroupRow
		for g := range benchGroups {
			groups = append(groups, db.AgentGroupRow{SubAccountID: bt.subID(s), AgentGroupID: int64(s*benchGroups + g), Raw: []byte(`{}`)})
		}
		if err := st.AgentGroupsAdd(ctx, "test", groups); err != nil {
			return err
		}
		st.ScopeComplete(entity.AgentGroups, bt.subID(s))
		st.ScopeComplete(entity.Agents, bt.subID(s))
	}
	st.ScopeComplete(entity.SubAccounts, entity.ScopeAll)
	return st.SubAccountsAdd(ctx, "test", subs)
}

// heapPeak samples the live Go heap until stop is called and returns the peak in bytes.
func heapPeak() (stop func() uint64) {
	sample := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
	var peak atomic.Uint64
	done := make(chan struct{})
	var wg gosync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		t := time.NewTicker(2 * time.Millisecond)
		defer t.Stop()
		for {
			metrics.Read(sample)
			if v := sample[0].Value.Uint64(); v > peak.Load() {
				peak.Store(v)
			}
			select {
			case <-done:
				return
			case <-t.C:
			}
		}
	}()
	return func() uint64 { close(done); wg.Wait(); return peak.Load() }
}

// benchPublish stages every agent page and publishes; it returns the peak Go heap during staging.
func benchPublish(ctx context.Context, b *testing.B, s *db.Store, bt *benchTenant) (uint64, *db.PublishResult) {
	return benchPublishTracked(ctx, b, s, bt, true)
}

// benchPublishTracked is benchPublish with the recording of API paths (schema drift) on or off.
func benchPublishTracked(ctx context.Context, b *testing.B, s *db.Store, bt *benchTenant, track bool) (uint64, *db.PublishResult) {
	begin := time.Now()
	runID, err := s.RunCreate(ctx, "manual")
	if err != nil {
		b.Fatal(err)
	}
	st, err := s.StageBegin(ctx, runID)
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	db.SetFieldTracking(st, track)
	if err := bt.parents(ctx, st); err != nil {
		b.Fatal(err)
	}
	runtime.GC()
	stop := heapPeak()
	err = bt.pages(func(p []db.Row) error { return st.Add(ctx, entity.Agents, "bench", p) })
	peak := stop()
	if err != nil {
		b.Fatal(err)
	}
	staged := time.Now()
	if os.Getenv("TEST_TRACE") != "" {
		last := time.Now()
		db.SetStageHook(st, func(_ context.Context, step string) error {
			fmt.Fprintf(os.Stderr, "  %-20s %v\n", step, time.Since(last))
			last = time.Now()
			return nil
		})
	}
	res, err := publishStage(ctx, st, policy{}, false)
	if err != nil {
		b.Fatal(err)
	}
	if os.Getenv("TEST_TRACE") != "" {
		fmt.Fprintf(os.Stderr, "staging %v publish %v\n", staged.Sub(begin), time.Since(staged))
	}
	return peak, res
}

// plainCopy COPYs the same agent rows into a new empty table shaped like agents (with its
// indexes) and returns how long the COPY took.
func plainCopy(ctx context.Context, b *testing.B, pool *pgxpool.Pool, schema string, bt *benchTenant) time.Duration {
	if _, err := pool.Exec(ctx, fmt.Sprintf(`DROP TABLE IF EXISTS plain_agents;
CREATE TABLE plain_agents (LIKE %s.agents INCLUDING DEFAULTS INCLUDING INDEXES)`, schema)); err != nil {
		b.Fatal(err)
	}
	checkpoint(ctx, b, pool)
	cols := []string{"sub_account_id", "agent_id", "agent_group_id", "username", "first_name", "last_name", "email",
		"agent_type", "is_active", "rc_user_id", "created_at", "last_login_at", "raw", "row_hash",
		"first_seen_at", "last_changed_at", "last_run_id"}
	now := time.Now()
	hash := make([]byte, 32)
	start := time.Now()
	conn, err := pool.Acquire(ctx)
	if err != nil {
		b.Fatal(err)
	}
	defer conn.Release()
	err = bt.pages(func(p []db.Row) error {
		rows := make([][]any, len(p))
		for i, r := range p {
			row := make([]any, 0, 17)
			row = append(append(append(row, r.S, r.N[0]), r.Vals...), r.Raw, hash, now, now, int64(1))
			rows[i] = row
		}
		_, err := conn.CopyFrom(ctx, pgx.Identifier{"plain_agents"}, cols, pgx.CopyFromRows(rows))
		return err
	})
	if err != nil {
		b.Fatal(err)
	}
	if os.Getenv("TEST_TRACE") != "" {
		fmt.Fprintf(os.Stderr, "plain copy %v\n", time.Since(start))
	}
	return time.Since(start)
}

// checkpoint starts each measured phase with the same WAL state (a checkpoint in the
// middle of one phase and not another would make the ratio noise).
func checkpoint(ctx context.Context, b *testing.B, pool *pgxpool.Pool) {
	if _, err := pool.Exec(ctx, "CHECKPOINT"); err != nil {
		b.Fatal(err)
	}
}

// truncateBench empties the tables the benchmarks write, so that each starts from nothing.
func truncateBench(ctx context.Context, b *testing.B, pool *pgxpool.Pool, schema string) {
	if _, err := pool.Exec(ctx, fmt.Sprintf(`TRUNCATE %[1]s.agents, %[1]s.agent_groups, %[1]s.sub_accounts, %[1]s.accounts,
 %[1]s.agents_history, %[1]s.agent_groups_history, %[1]s.sub_accounts_history, %[1]s.accounts_history,
 %[1]s.api_field_changes, %[1]s.api_fields, %[1]s.sync_run_scopes, %[1]s.sync_runs`, schema)); err != nil {
		b.Fatal(err)
	}
	if _, err := pool.Exec(ctx, fmt.Sprintf(`VACUUM ANALYZE %s.agents`, schema)); err != nil {
		b.Fatal(err)
	}
}

// BenchmarkFieldTracking measures the sink (staging and publishing 100,000 agents) with and
// without the recording of the API's paths (schema drift) in the same iteration, alternating
// which goes first. x_tracking is the ratio of the two times (the target is at most 1.05);
// the peak Go heap of each shows that what tracking keeps follows the distinct paths and
// object shapes, not the rows. few_shapes is one shape (the benchmark tenant's agents);
// 8192_shapes gives 2^13 shapes (13 optional keys), twice as many as Stage remembers, so
// about half the objects take the slow path (every path looked up).
func BenchmarkFieldTracking(b *testing.B) {
	ctx := context.Background()
	pool, schema := dbtest.New(b)
	s := dbtest.Store(b, pool, schema)
	for _, tc := range []struct {
		name     string
		optional int
		first    bool // a first load; otherwise a no-op reload (the per-row cost shows most)
	}{
		{"noop_reload/few_shapes", 0, false},
		{"noop_reload/8192_shapes", 13, false},
		{"first_load/few_shapes", 0, true},
	} {
		b.Run(tc.name, func(b *testing.B) {
			b.StopTimer()
			bt := &benchTenant{version: func(int) int { return 0 }, optional: tc.optional}
			truncateBench(ctx, b, pool, schema)
			if !tc.first {
				benchPublish(ctx, b, s, bt)
			}
			var dur [2]time.Duration // without, with
			var peak [2]uint64
			for i := range b.N {
				for j := range 2 {
					track := (i+j)%2 == 1
					k := 0
					if track {
						k = 1
					}
					if tc.first {
						truncateBench(ctx, b, pool, schema)
					}
					checkpoint(ctx, b, pool)
					b.StartTimer()
					start := time.Now()
					p, res := benchPublishTracked(ctx, b, s, bt, track)
					dur[k] += time.Since(start)
					b.StopTimer()
					peak[k] = max(peak[k], p)
					if res.Status != db.RunSucceeded {
						b.Fatalf("status %s: %s", res.Status, res.Error)
					}
					if track && len(res.Fields) == 0 {
						b.Fatal("tracking on, no entity observed")
					}
				}
			}
			b.ReportMetric(dur[1].Seconds()/dur[0].Seconds(), "x_tracking")
			b.ReportMetric(dur[0].Seconds()/float64(b.N), "s_untracked/op")
			b.ReportMetric(dur[1].Seconds()/float64(b.N), "s_tracked/op")
			b.ReportMetric(float64(peak[0])/(1<<20), "peak_heap_untracked_MiB")
			b.ReportMetric(float64(peak[1])/(1<<20), "peak_heap_tracked_MiB")
		})
	}
}

// BenchmarkPublish publishes 100,000 agents (raw JSON about 1 KB each): a first load, a no-op
// reload and a reload with 1 % of the agents changed. Each reports rows/s and the ratio to a
// plain CopyFrom of the same rows into an empty table measured in the same iteration, the peak
// Go heap while staging, and the entity row versions the publish wrote.
func BenchmarkPublish(b *testing.B) {
	ctx := context.Background()
	pool, schema := dbtest.New(b)
	s := dbtest.Store(b, pool, schema)
	truncate := func() { truncateBench(ctx, b, pool, schema) }
	base := &benchTenant{version: func(int) int { return 0 }}
	report := func(b *testing.B, copyDur, pubDur time.Duration, peak uint64, versions int64) {
		n := float64(b.N) * benchAgents
		b.ReportMetric(n/pubDur.Seconds(), "rows/s")
		b.ReportMetric(n/copyDur.Seconds(), "copy_rows/s")
		b.ReportMetric(copyDur.Seconds()/pubDur.Seconds(), "x_copy")
		b.ReportMetric(float64(peak)/(1<<20), "peak_heap_MiB")
		b.ReportMetric(float64(versions)/float64(b.N), "row_versions/op")
	}
	xmax := func() int64 {
		var n int64
		if err := pool.QueryRow(ctx, `SELECT pg_current_xact_id()::text::bigint`).Scan(&n); err != nil {
			b.Fatal(err)
		}
		return n
	}
	written := func(since int64) int64 {
		var n int64
		if err := pool.QueryRow(ctx, fmt.Sprintf(`SELECT count(*) FROM %s.agents WHERE xmin::text::bigint > $1`, schema), since).Scan(&n); err != nil {
			b.Fatal(err)
		}
		return n
	}

	b.Run("first_load", func(b *testing.B) {
		var copyDur, pubDur time.Duration
		var peak uint64
		var versions int64
		for range b.N {
			b.StopTimer()
			truncate()
			copyDur += plainCopy(ctx, b, pool, schema, base)
			x := xmax()
			checkpoint(ctx, b, pool)
			b.StartTimer()
			start := time.Now()
			p, res := benchPublish(ctx, b, s, base)
			pubDur += time.Since(start)
			b.StopTimer()
			peak = max(peak, p)
			versions += written(x)
			if res.Status != db.RunSucceeded {
				b.Fatalf("status %s: %s", res.Status, res.Error)
			}
		}
		report(b, copyDur, pubDur, peak, versions)
	})
	b.Run("noop_reload", func(b *testing.B) {
		b.StopTimer()
		truncate()
		benchPublish(ctx, b, s, base)
		var copyDur, pubDur time.Duration
		var peak uint64
		var versions int64
		for range b.N {
			copyDur += plainCopy(ctx, b, pool, schema, base)
			x := xmax()
			checkpoint(ctx, b, pool)
			b.StartTimer()
			start := time.Now()
			p, _ := benchPublish(ctx, b, s, base)
			pubDur += time.Since(start)
			b.StopTimer()
			peak = max(peak, p)
			versions += written(x)
		}
		report(b, copyDur, pubDur, peak, versions)
	})
	b.Run("changed_1pct", func(b *testing.B) {
		b.StopTimer()
		truncate()
		benchPublish(ctx, b, s, base)
		var copyDur, pubDur time.Duration
		var peak uint64
		var versions int64
		for i := range b.N {
			copyDur += plainCopy(ctx, b, pool, schema, base)
			round := i + 1
			bt := &benchTenant{version: func(n int) int {
				if n%100 == 0 {
					return round
				}
				return 0
			}}
			x := xmax()
			checkpoint(ctx, b, pool)
			b.StartTimer()
			start := time.Now()
			p, _ := benchPublish(ctx, b, s, bt)
			pubDur += time.Since(start)
			b.StopTimer()
			peak = max(peak, p)
			versions += written(x)
		}
		report(b, copyDur, pubDur, peak, versions)
	})
}
