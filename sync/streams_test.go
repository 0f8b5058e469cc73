package sync_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"slices"
	"strings"
	gosync "sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/evsync/evsync/db"
	"github.com/evsync/evsync/engageclient"
	"github.com/evsync/evsync/engageclient/engagefake"
	"github.com/evsync/evsync/internal/entity"
	"github.com/evsync/evsync/internal/testing/fixture"
	"github.com/evsync/evsync/internal/testing/fixture/storetest"
	syncrun "github.com/evsync/evsync/sync"
)

// clock is a settable clock shared by the fake and the engine.
type clock struct {
	mu gosync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// auditSearches counts the audit searches a client sends, per (sub-account, start).
type auditSearches struct {
	next http.RoundTripper
	mu   gosync.Mutex
	n    map[string]int
	all  atomic.Int64
}

func (a *auditSearches) RoundTrip(r *http.Request) (*http.Response, error) {
	if strings.HasSuffix(r.URL.Path, "/auditLogs/search") && r.Body != nil {
		body, err := io.ReadAll(r.Body)
		if err != nil {
			return nil, err
		}
		r.Body = io.NopCloser(bytes.NewReader(body))
		var q struct{ AccountID, StartDateTime string }
		_ = json.Unmarshal(body, &q)
		a.mu.Lock()
		a.n[q.AccountID+" "+q.StartDateTime]++
		a.mu.Unlock()
		a.all.Add(1)
	}
	return a.next.RoundTrip(r)
}

// counts returns a copy of the searches per (sub-account, start).
func (a *auditSearches) counts() map[string]int {
	a.mu.Lock()
	defer a.mu.Unlock()
	out := make(map[string]int, len(a.n))
	for k, v := range a.n {
		out[k] = v
	}
	return out
}

// streamEnv is a fake with an audit history on a fixed clock, a database, and the searches
// its clients send.
type streamEnv struct {
	*env
	clock    *clock
	searches *auditSearches
}

// now0 is the streams tests' start: the fake's history ends here.
var now0 = time.Date(2026, 12, 5, 10, 30, 0, 0, time.UTC)

func newStreamEnv(t *testing.T, opts engagefake.Options) *streamEnv {
	t.Helper()
	c := &clock{t: now0}
	opts.Now = c.Now
	if opts.Tenant == (engagefake.TenantSpec{}) {
		opts.Tenant = engagefake.TenantSpec{MainAccounts: 1, SubAccountsPerMain: 2, AgentGroupsPerSubAccount: 2, AgentsPerGroup: 3, Users: 4}
	}
	opts.AuditPerHour = max(opts.AuditPerHour, 4)
	e := newEnvOn(t, fixture.Fake(t, opts), storetest.New(t))
	return &streamEnv{env: e, clock: c, searches: &auditSearches{next: http.DefaultTransport, n: map[string]int{}}}
}

// streamCfg is a stream run's configuration on the env's clock: the audit log from 12 hours
// back.
func (e *streamEnv) streamCfg() syncrun.StreamsConfig {
	return syncrun.StreamsConfig{Streams: []entity.Name{entity.AuditLog}, Start: now0.Add(-12 * time.Hour),
		SettleAfter: 24 * time.Hour, Now: e.clock.Now, RequestsPerMinute: 60000}
}

// run runs one stream run with cfg.
func (e *streamEnv) run(ctx context.Context, cfg syncrun.StreamsConfig) (*syncrun.StreamResult, error) {
	e.t.Helper()
	c := e.client(func(c *engageclient.Config) { c.HTTPClient = &http.Client{Transport: e.searches} })
	r, err := syncrun.NewStreamRunner(c, e.store, cfg, e.watch.Logs.Logger())
	if err != nil {
		e.t.Fatal(err)
	}
	res, err := r.Run(ctx)
	return res, e.watch.Err(err)
}

// stored returns the audit ids stored per sub-account.
func (e *streamEnv) stored() map[string][]string {
	e.t.Helper()
	rows, err := e.pool.Query(e.t.Context(), "SELECT sub_account_id, audit_id FROM "+e.db.Schema+".audit_log ORDER BY 1, 2")
	if err != nil {
		e.t.Fatal(err)
	}
	defer rows.Close()
	out := map[string][]string{}
	for rows.Next() {
		var sub, id string
		if err := rows.Scan(&sub, &id); err != nil {
			e.t.Fatal(err)
		}
		out[sub] = append(out[sub], id)
	}
	return out
}

// visible returns the ids of the generated entries of [start, end) visible at at, per
// sub-account, sorted.
func (e *streamEnv) visible(start, end, at time.Time) map[string][]string {
	out := map[string][]string{}
	for _, sub := range e.fake.SubAccountIDs() {
		for _, a := range e.fake.AuditLog(sub, start, end) {
			if a.VisibleBy(at) {
				out[sub] = append(out[sub], a.ID)
			}
		}
		slices.Sort(out[sub])
	}
	return out
}

func (e *streamEnv) mustRun(ctx context.Context, cfg syncrun.StreamsConfig) *syncrun.StreamResult {
	t := e.t
	t.Helper()
	res, err := e.run(ctx, cfg)
	if err != nil {
		t.Fatalf("stream run: %v", err)
	}
	if res.Status != db.RunSucceeded {
		t.Fatalf("stream run %s: %s", res.Status, res.Error)
	}
	return res
}

// TestAuditWindowsAlignedContiguousOnce: the first run records every window from the one
// holding the start to the last due, aligned and contiguous, requests each exactly once, and
// stores every entry visible then, once; a second run at the same time requests none.
func TestAuditWindowsAlignedContiguousOnce(t *testing.T) {
	t.Parallel()
	e := newStreamEnv(t, engagefake.Options{})
	cfg := e.streamCfg()
	res := e.mustRun(t.Context(), cfg)
	from, to := time.Date(2026, 12, 4, 22, 0, 0, 0, time.UTC), time.Date(2026, 12, 5, 10, 0, 0, 0, time.UTC) // 10:30 - 20m = 10:10 → 10:00
	subs := e.fake.SubAccountIDs()
	if read, failed, left := res.Windows(); read != 12*len(subs) || failed != 0 || left != 0 {
		t.Fatalf("windows read/failed/left = %d/%d/%d, want %d/0/0", read, failed, left, 12*len(subs))
	}
	for _, sub := range subs {
		ws, err := e.store.WindowsIn(t.Context(), entity.AuditLog, sub, from.Add(-24*time.Hour), to.Add(24*time.Hour))
		if err != nil {
			t.Fatal(err)
		}
		if len(ws) != 12 {
			t.Fatalf("sub-account %s: %d windows, want 12", sub, len(ws))
		}
		for i, w := range ws {
			want := from.Add(time.Duration(i) * time.Hour)
			if !w.Start.Equal(want) || !w.End.Equal(want.Add(time.Hour)) || w.Status != db.WindowSucceeded || w.FirstReadAt == nil || w.SettledAt != nil {
				t.Errorf("sub-account %s window %d: %+v, want [%s, +1h) read once, not settled", sub, i, w, want)
			}
		}
	}
	counts := e.searches.counts()
	if len(counts) != 12*len(subs) {
		t.Errorf("%d distinct windows searched, want %d", len(counts), 12*len(subs))
	}
	for k, n := range counts {
		if n != 1 {
			t.Errorf("window %s searched %d times, want once", k, n)
		}
	}
	want := e.visible(from, to, now0)
	if got := e.stored(); !equalIDs(got, want) {
		t.Errorf("stored entries differ from those visible in the fake:\n got %v\nwant %v", got, want)
	}
	before := e.searches.all.Load()
	e.mustRun(t.Context(), cfg)
	if n := e.searches.all.Load() - before; n != 0 {
		t.Errorf("a second run at the same time sent %d searches, want 0", n)
	}
	// An hour later, one more window per sub-account is due.
	e.clock.Add(time.Hour)
	res = e.mustRun(t.Context(), cfg)
	if read, _, _ := res.Windows(); read != len(subs) {
		t.Errorf("an hour later: %d windows read, want %d", read, len(subs))
	}
}

func equalIDs(a, b map[string][]string) bool {
	for k := range b {
		if len(b[k]) == 0 {
			delete(b, k)
		}
	}
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if !slices.Equal(v, b[k]) {
			return false
		}
	}
	return true
}

// xmins returns every audit_log row's xmin by id: a row version written changes it.
func (e *streamEnv) xmins() map[string]string {
	e.t.Helper()
	rows, err := e.pool.Query(e.t.Context(), "SELECT audit_id, xmin::text FROM "+e.db.Schema+".audit_log")
	if err != nil {
		e.t.Fatal(err)
	}
	defer rows.Close()
	out := map[string]string{}
	for rows.Next() {
		var id, x string
		if err := rows.Scan(&id, &x); err != nil {
			e.t.Fatal(err)
		}
		out[id] = x
	}
	return out
}

// TestAuditSettleReadAddsLateOnly: a day later every window is read again (settled); the late
// entries the first read could not see land then, and no row already stored gets a new
// version (its xmin stays). A settle read that finds nothing new writes nothing.
func TestAuditSettleReadAddsLateOnly(t *testing.T) {
	t.Parallel()
	e := newStreamEnv(t, engagefake.Options{AuditLateFraction: 0.3})
	cfg := e.streamCfg()
	e.mustRun(t.Context(), cfg)
	first := e.xmins()
	from, to := time.Date(2026, 12, 4, 22, 0, 0, 0, time.UTC), time.Date(2026, 12, 5, 10, 0, 0, 0, time.UTC)
	late := 0
	for _, sub := range e.fake.SubAccountIDs() {
		for _, a := range e.fake.AuditLog(sub, from, to) {
			if !a.VisibleBy(now0) {
				late++
			}
		}
	}
	if late == 0 {
		t.Fatal("the fake generated no late entry in the range: the test proves nothing")
	}
	e.clock.Add(25 * time.Hour)
	res := e.mustRun(t.Context(), cfg)
	var inserted, unchanged int64
	for _, s := range res.Scopes {
		inserted += s.Counts.Inserted
		unchanged += s.Counts.Unchanged
	}
	if inserted < int64(late) {
		t.Errorf("the settle run inserted %d rows, want at least the %d late ones", inserted, late)
	}
	second := e.xmins()
	for id, x := range first {
		if second[id] != x {
			t.Errorf("row %s was rewritten by the settle read (xmin %s -> %s)", id, x, second[id])
		}
	}
	if got, want := e.stored(), e.visible(from, to, e.clock.Now()); !containsAll(got, want) {
		t.Errorf("after the settle read, stored %v lacks entries of %v", got, want)
	}
	// Every window of the first day is settled now; refetch them: nothing new, nothing written.
	ws, err := e.store.WindowsIn(t.Context(), entity.AuditLog, e.fake.SubAccountIDs()[0], from, to)
	if err != nil {
		t.Fatal(err)
	}
	for _, w := range ws {
		if w.SettledAt == nil {
			t.Errorf("window %s not settled after a read past its settle time", w.Start)
		}
	}
	before := e.xmins()
	bf := e.streamCfg()
	bf.Backfill = &syncrun.Backfill{Since: from, Until: to, Refetch: true}
	e.mustRun(t.Context(), bf)
	if after := e.xmins(); !mapsEqual(before, after) {
		t.Error("a settle read that found nothing new wrote row versions")
	}
}

func containsAll(got, want map[string][]string) bool {
	for k, ids := range want {
		for _, id := range ids {
			if !slices.Contains(got[k], id) {
				return false
			}
		}
	}
	return true
}

func mapsEqual(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

// TestAuditSecretChangeNowhere: the password change keeps its attribute and loses both values:
// neither value is anywhere in the database (pg_dump), nor in the logs.
func TestAuditSecretChangeNowhere(t *testing.T) {
	t.Parallel()
	e := newStreamEnv(t, engagefake.Options{AuditDays: 1})
	cfg := e.streamCfg()
	cfg.Start = now0.Add(-30 * time.Hour)
	e.mustRun(t.Context(), cfg)
	var pw int
	for _, sub := range e.fake.SubAccountIDs() {
		for _, a := range e.fake.AuditLog(sub, now0.Add(-30*time.Hour), now0) {
			if a.PasswordChange && a.VisibleBy(now0) {
				pw++
			}
		}
	}
	if pw == 0 {
		t.Fatal("no password change in the range read: the test proves nothing")
	}
	var n int
	if err := e.pool.QueryRow(t.Context(), `SELECT count(*) FROM `+e.db.Schema+`.audit_log, jsonb_array_elements(changes) c
		WHERE c->>'attribute' = 'password' AND NOT c ? 'original_value' AND NOT c ? 'new_value'`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	if n != pw {
		t.Errorf("%d password changes stored without values, want %d", n, pw)
	}
	dump := e.db.Dump(t)
	for _, s := range e.fake.SecretValues() {
		if s != "" && strings.Contains(dump, s) {
			t.Errorf("a secret of the fake is in the database dump: %.6s…", s)
		}
	}
}

// TestAuditNotEntitled: without "Audit log access" the search answers 403: the sub-accounts
// are not_entitled, the run succeeds, and within a day no search is sent again.
func TestAuditNotEntitled(t *testing.T) {
	t.Parallel()
	e := newStreamEnv(t, engagefake.Options{NoAuditLogAccess: true})
	cfg := e.streamCfg()
	res := e.mustRun(t.Context(), cfg)
	if len(res.Scopes) != len(e.fake.SubAccountIDs()) {
		t.Fatalf("scopes = %+v, want one per sub-account", res.Scopes)
	}
	for _, s := range res.Scopes {
		if s.Status != db.ScopeNotEntitled {
			t.Errorf("scope %s/%s is %s, want not_entitled", s.Stream, s.SubAccountID, s.Status)
		}
	}
	if !strings.Contains(e.watch.Logs.String(), "Audit log access") {
		t.Error("the log does not say what to ask for (Audit log access)")
	}
	st, err := e.store.StreamStatusGet(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range st {
		if !s.NotEntitled {
			t.Errorf("status of %s/%s: not entitled not shown", s.Stream, s.SubAccountID)
		}
	}
	before := e.searches.all.Load()
	e.clock.Add(2 * time.Hour)
	e.mustRun(t.Context(), cfg)
	if n := e.searches.all.Load() - before; n != 0 {
		t.Errorf("within a day of the 403, %d searches were sent, want 0", n)
	}
}

// TestAuditFailedWindowRetriedLater: a window whose search fails (500) is recorded failed, the
// run is partial, later windows are read; the next run after the backoff reads it.
func TestAuditFailedWindowRetriedLater(t *testing.T) {
	t.Parallel()
	e := newStreamEnv(t, engagefake.Options{Tenant: engagefake.TenantSpec{MainAccounts: 1, SubAccountsPerMain: 1, Users: 2,
		AgentGroupsPerSubAccount: 1, AgentsPerGroup: 1}})
	e.fake.SetFault(engagefake.EndpointAuditSearch, engagefake.Fault{Status: http.StatusInternalServerError, Times: 3})
	cfg := e.streamCfg()
	res, err := e.run(t.Context(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	if res.Status != db.RunPartial {
		t.Fatalf("status %s, want partial", res.Status)
	}
	read, failed, _ := res.Windows()
	if failed != 1 || read != 11 {
		t.Fatalf("read/failed = %d/%d, want 11/1", read, failed)
	}
	e.clock.Add(10 * time.Minute)
	res = e.mustRun(t.Context(), cfg)
	if read, failed, _ := res.Windows(); read != 1 || failed != 0 {
		t.Errorf("after the backoff: read/failed = %d/%d, want 1/0", read, failed)
	}
}

// TestStreamsTwoProcessesNeverReadOneSubAccount: two runs at once read each sub-account's
// windows once between them: the second finds the sub-accounts the first holds locked.
func TestStreamsTwoProcessesNeverReadOneSubAccount(t *testing.T) {
	t.Parallel()
	e := newStreamEnv(t, engagefake.Options{Latency: 20 * time.Millisecond})
	cfg := e.streamCfg()
	var wg gosync.WaitGroup
	results := make([]*syncrun.StreamResult, 2)
	errs := make([]error, 2)
	for i := range 2 {
		wg.Go(func() { results[i], errs[i] = e.run(t.Context(), cfg) })
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil && !errors.Is(err, syncrun.ErrLocked) {
			t.Fatalf("run %d: %v", i, err)
		}
	}
	for k, n := range e.searches.counts() {
		if n != 1 {
			t.Errorf("window %s searched %d times across two processes, want once", k, n)
		}
	}
	read := 0
	for _, r := range results {
		if r != nil {
			n, _, _ := r.Windows()
			read += n
		}
	}
	if want := 12 * len(e.fake.SubAccountIDs()); read != want {
		t.Errorf("the two runs read %d windows, want %d", read, want)
	}
}

// TestStreamsDeadlineLeavesWindowsDue: a run whose deadline cannot fit every window starts no
// window it cannot finish; those left stay pending (not failed), and the next run reads them.
func TestStreamsDeadlineLeavesWindowsDue(t *testing.T) {
	t.Parallel()
	e := newStreamEnv(t, engagefake.Options{Latency: 150 * time.Millisecond,
		Tenant: engagefake.TenantSpec{MainAccounts: 1, SubAccountsPerMain: 1, Users: 2, AgentGroupsPerSubAccount: 1, AgentsPerGroup: 1}})
	cfg := e.streamCfg()
	ctx, cancel := context.WithTimeout(t.Context(), 2500*time.Millisecond)
	defer cancel()
	res := e.mustRun(ctx, cfg)
	read, failed, left := res.Windows()
	if left == 0 || failed != 0 || read+left != 12 {
		t.Fatalf("read/failed/left = %d/%d/%d: want some left due, none failed, 12 in all", read, failed, left)
	}
	st, err := e.store.StreamStatusGet(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if len(st) != 1 || st[0].WindowsPending != int64(left) || st[0].WindowsFailed != 0 {
		t.Errorf("status %+v, want %d pending, 0 failed", st, left)
	}
	res = e.mustRun(t.Context(), cfg)
	if n, _, _ := res.Windows(); n != left {
		t.Errorf("the next run read %d windows, want the %d left", n, left)
	}
}

// TestBackfillTwiceNoSecondRequest: a backfill reads its range newest first; a second one
// sends no search; --refetch reads every window again.
func TestBackfillTwiceNoSecondRequest(t *testing.T) {
	t.Parallel()
	e := newStreamEnv(t, engagefake.Options{AuditDays: 3})
	cfg := e.streamCfg()
	cfg.Backfill = &syncrun.Backfill{Since: now0.Add(-48 * time.Hour)}
	res := e.mustRun(t.Context(), cfg)
	subs := len(e.fake.SubAccountIDs())
	first, _, _ := res.Windows()
	if first < 47*subs {
		t.Fatalf("backfill read %d windows, want about 48 per sub-account", first)
	}
	before := e.searches.all.Load()
	e.mustRun(t.Context(), cfg)
	if n := e.searches.all.Load() - before; n != 0 {
		t.Errorf("a second backfill sent %d searches, want 0", n)
	}
	cfg.Backfill.Refetch = true
	res = e.mustRun(t.Context(), cfg)
	if n, _, _ := res.Windows(); n != first {
		t.Errorf("--refetch read %d windows, want %d", n, first)
	}
}

// A stream run reports its progress in windows, and its last report says Done with every
// window counted.
func TestStreamsProgress(t *testing.T) {
	t.Parallel()
	e := newStreamEnv(t, engagefake.Options{})
	cfg := e.streamCfg()
	var mu gosync.Mutex
	var got []syncrun.Progress
	cfg.ProgressInterval = time.Millisecond
	cfg.ProgressFunc = func(p syncrun.Progress) {
		mu.Lock()
		got = append(got, p)
		mu.Unlock()
	}
	res := e.mustRun(t.Context(), cfg)
	mu.Lock()
	defer mu.Unlock()
	if len(got) == 0 {
		t.Fatal("no progress reported")
	}
	last := got[len(got)-1]
	read, _, _ := res.Windows()
	if !last.Done || last.Phase != "windows" || last.ScopesDone != int64(read) || last.ScopesTotal != int64(read) || last.RunID != res.RunID {
		t.Errorf("last progress %+v, want Done with %d of %d windows of run %d", last, read, read, res.RunID)
	}
	for _, p := range got[:len(got)-1] {
		if p.Done {
			t.Errorf("a report before the last says Done: %+v", p)
		}
	}
}
