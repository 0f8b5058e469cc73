package db_test

import (
	"context"
	"errors"
	"iter"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/evsync/evsync/db"
	"github.com/evsync/evsync/internal/entity"
	"github.com/evsync/evsync/internal/testing/dbtest"
)

// streamFixture is a migrated schema, its store and a stream run.
type streamFixture struct {
	pool   *pgxpool.Pool
	schema string
	s      *db.Store
	lock   *db.StreamLock
}

// newStreamFixture migrates a schema and begins a stream run on it, finished at cleanup.
func newStreamFixture(t *testing.T) *streamFixture {
	t.Helper()
	pool, schema := dbtest.New(t)
	// A short lock timeout: a terminated session is noticed within a second or two.
	s := dbtest.Store(t, pool, schema, db.WithLockTimeout(3*time.Second))
	lock, abandoned, err := s.StreamRunBegin(t.Context(), db.TriggerStreams)
	if err != nil || len(abandoned) != 0 {
		t.Fatalf("StreamRunBegin = %v, %v", abandoned, err)
	}
	t.Cleanup(func() { _ = lock.Finish(context.Background(), &db.RunFinishParams{Status: db.RunSucceeded}) })
	return &streamFixture{pool: pool, schema: schema, s: s, lock: lock}
}

// hour is the window of day d (of 2026-12) starting at hour h.
func hour(d, h int) db.Span {
	start := time.Date(2026, time.December, d, h, 0, 0, 0, time.UTC)
	return db.Span{Start: start, End: start.Add(time.Hour)}
}

// auditRow is an audit log entry; raw is its API item.
func auditRow(id, raw string) db.StreamRow {
	created := time.Date(2026, time.December, 1, 3, 4, 5, 0, time.UTC)
	return db.StreamRow{Key: []any{id},
		Vals: []any{"UPDATE", "Gate", "12", "Sales", created, "u1", "admin", "10.0.0.1",
			[]byte(`[{"attribute":"gateName","old":"a","new":"b"}]`)},
		Raw: []byte(raw)}
}

// publish publishes rows as a read of window sp of sub-account sub.
func (f *streamFixture) publish(t *testing.T, sub string, sp db.Span, settle bool, rows ...db.StreamRow) db.WindowCounts {
	t.Helper()
	c, err := f.s.WindowPublish(t.Context(), &db.WindowPublishParams{RunID: f.lock.RunID, Stream: entity.StreamOf(entity.AuditLog),
		SubAccountID: sub, Span: sp, Settle: settle, Rows: db.RowsOf(rows), Lock: f.lock})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// versions returns each row's key and xmin (the transaction that wrote its version) of table.
func (f *streamFixture) versions(t *testing.T, table, key string) map[string]string {
	t.Helper()
	rows, err := f.pool.Query(t.Context(), "SELECT "+key+"::text, xmin::text FROM "+f.schema+"."+table)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for rows.Next() {
		var k, x string
		if err := rows.Scan(&k, &x); err != nil {
			t.Fatal(err)
		}
		out[k] = x
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// window reads one window of the ledger.
func (f *streamFixture) window(t *testing.T, stream entity.Name, sub string, sp db.Span) db.Window {
	t.Helper()
	ws, err := f.s.WindowsIn(t.Context(), stream, sub, sp.Start, sp.End)
	if err != nil || len(ws) != 1 {
		t.Fatalf("WindowsIn = %+v, %v; want one window", ws, err)
	}
	return ws[0]
}

// scope reads the run's scope of (stream, sub).
func (f *streamFixture) scope(t *testing.T, stream entity.Name, sub string) (status, errText string, counts [5]int64) {
	t.Helper()
	var e *string
	if err := f.pool.QueryRow(t.Context(), `SELECT status, error, fetched, inserted, updated, unchanged, deleted
FROM `+f.schema+`.sync_run_scopes WHERE run_id = $1 AND entity = $2 AND scope = $3`, f.lock.RunID, stream, sub).
		Scan(&status, &e, &counts[0], &counts[1], &counts[2], &counts[3], &counts[4]); err != nil {
		t.Fatal(err)
	}
	if e != nil {
		errText = *e
	}
	return status, errText, counts
}

func TestWindowsRecord(t *testing.T) {
	t.Parallel()
	f := newStreamFixture(t)
	ctx := t.Context()
	if _, ok, err := f.s.WindowsLastEnd(ctx, entity.AuditLog, "s1"); ok || err != nil {
		t.Fatalf("WindowsLastEnd of no window = %v, %v", ok, err)
	}
	n, err := f.s.WindowsRecord(ctx, entity.AuditLog, "s1", []db.Span{hour(1, 0), hour(1, 1), hour(1, 2)}, false)
	if err != nil || n != 3 {
		t.Fatalf("WindowsRecord = %d, %v; want 3", n, err)
	}
	// Recording again adds only the new windows and leaves the others as they are.
	f.publish(t, "s1", hour(1, 0), false, auditRow("a", `{"id":"a"}`))
	if n, err = f.s.WindowsRecord(ctx, entity.AuditLog, "s1", []db.Span{hour(1, 0), hour(1, 2), hour(1, 3)}, true); err != nil || n != 1 {
		t.Fatalf("WindowsRecord again = %d, %v; want 1", n, err)
	}
	if w := f.window(t, entity.AuditLog, "s1", hour(1, 0)); w.Status != db.WindowSucceeded || w.Attempts != 1 {
		t.Errorf("a published window recorded again: %+v", w)
	}
	end, ok, err := f.s.WindowsLastEnd(ctx, entity.AuditLog, "s1")
	if !ok || err != nil || !end.Equal(hour(1, 3).End) {
		t.Errorf("WindowsLastEnd = %s, %v, %v; want %s", end, ok, err, hour(1, 3).End)
	}
	open, err := f.s.WindowsOpen(ctx, entity.AuditLog, "s1")
	if err != nil {
		t.Fatal(err)
	}
	var starts []int
	for _, w := range open {
		starts = append(starts, w.Start.Hour())
	}
	// The published window is open until settled: all four, oldest first.
	if diff := cmp.Diff([]int{0, 1, 2, 3}, starts); diff != "" {
		t.Errorf("WindowsOpen (-want +got):\n%s", diff)
	}
	// A window keeps the origin of its first record: only the one the backfill added is its.
	if len(open) == 4 && (open[0].Backfill || open[2].Backfill || !open[3].Backfill) {
		t.Errorf("the windows' backfill: %v %v %v %v; want false false false true",
			open[0].Backfill, open[1].Backfill, open[2].Backfill, open[3].Backfill)
	}
	f.publish(t, "s1", hour(1, 1), true)
	if open, err = f.s.WindowsOpen(ctx, entity.AuditLog, "s1"); err != nil || len(open) != 3 {
		t.Errorf("WindowsOpen after a settle read = %d windows, %v; want 3", len(open), err)
	}
	if ws, err := f.s.WindowsIn(ctx, entity.AuditLog, "s1", hour(1, 1).Start, hour(1, 3).Start); err != nil || len(ws) != 2 ||
		!ws[0].Start.Equal(hour(1, 1).Start) || ws[1].Status != db.WindowPending {
		t.Errorf("WindowsIn = %+v, %v", ws, err)
	}
	if ws, err := f.s.WindowsOpen(ctx, entity.AuditLog, "s2"); err != nil || len(ws) != 0 {
		t.Errorf("another sub-account's windows: %+v, %v", ws, err)
	}
	for _, bad := range []struct {
		stream entity.Name
		sub    string
		spans  []db.Span
		want   string
	}{
		{entity.AuditLog, "s1", []db.Span{{Start: hour(1, 5).End, End: hour(1, 5).Start}}, "span 0 ends"},
		{"bogus", "s1", []db.Span{hour(1, 5)}, "unknown stream"},
		{entity.AuditLog, "", []db.Span{hour(1, 5)}, "empty sub-account"},
	} {
		if _, err := f.s.WindowsRecord(ctx, bad.stream, bad.sub, bad.spans, false); err == nil || !strings.Contains(err.Error(), bad.want) {
			t.Errorf("WindowsRecord(%s, %q) = %v, want an error with %q", bad.stream, bad.sub, err, bad.want)
		}
	}
}

// An appended window read again writes no row version; a settle read adds the late entries
// only; a key read twice counts once; secrets never reach the table.
func TestWindowPublishAppend(t *testing.T) {
	t.Parallel()
	f := newStreamFixture(t)
	ctx := t.Context()
	sp := hour(1, 3)
	secret := db.StreamRow{Key: []any{"c"}, Vals: make([]any, 9),
		Raw: []byte(`{"id":"c","authUser":{"userName":"x","password":"hunter2"},"apiKey":"hunter3"}`)}
	secret.Vals[8] = []byte(`{"attribute":"password","token":"hunter4"}`)
	first := []db.StreamRow{auditRow("a", `{"id":"a","v":1}`), auditRow("b", `{"id":"b"}`), secret,
		auditRow("a", `{"id":"a","v":2}`)} // "a" twice, across the boundary: the last copy counts
	c := f.publish(t, "s1", sp, false, first...)
	if want := (db.WindowCounts{Fetched: 3, Inserted: 3}); c != want {
		t.Errorf("first read: %+v, want %+v", c, want)
	}
	var raw string
	if err := f.pool.QueryRow(ctx, "SELECT raw::text FROM "+f.schema+".audit_log WHERE audit_id = 'a'").Scan(&raw); err != nil || !strings.Contains(raw, `"v": 2`) {
		t.Errorf("a key read twice stored %s, %v; want its last copy", raw, err)
	}
	var dump string
	if err := f.pool.QueryRow(ctx, "SELECT string_agg(t::text, ' ') FROM "+f.schema+".audit_log t").Scan(&dump); err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{"hunter2", "hunter3", "hunter4"} {
		if strings.Contains(dump, s) {
			t.Errorf("a secret (%s) was stored: %s", s, dump)
		}
	}
	before := f.versions(t, "audit_log", "audit_id")
	// The same read again, and a settle read with a late entry.
	if c = f.publish(t, "s1", sp, false, first...); c != (db.WindowCounts{Fetched: 3, Unchanged: 3}) {
		t.Errorf("the same read again: %+v", c)
	}
	if diff := cmp.Diff(before, f.versions(t, "audit_log", "audit_id")); diff != "" {
		t.Errorf("a read that found nothing new wrote row versions (-before +after):\n%s", diff)
	}
	late := append(first[1:], auditRow("d", `{"id":"d"}`))
	if c = f.publish(t, "s1", sp, true, late...); c != (db.WindowCounts{Fetched: 4, Inserted: 1, Unchanged: 3}) {
		t.Errorf("the settle read: %+v", c)
	}
	after := f.versions(t, "audit_log", "audit_id")
	if _, ok := after["d"]; !ok || len(after) != 4 {
		t.Errorf("the late entry did not land: %v", after)
	}
	delete(after, "d")
	if diff := cmp.Diff(before, after); diff != "" {
		t.Errorf("the settle read rewrote stored rows (-before +after):\n%s", diff)
	}
	w := f.window(t, entity.AuditLog, "s1", sp)
	if w.Status != db.WindowSucceeded || w.FirstReadAt == nil || w.SettledAt == nil || w.Attempts != 3 || w.Rows != 4 ||
		w.LastRunID != f.lock.RunID || !w.End.Equal(sp.End) || w.Error != "" {
		t.Errorf("the window after three reads: %+v", w)
	}
	if status, _, counts := f.scope(t, entity.AuditLog, "s1"); status != string(db.ScopeSucceeded) || counts != [5]int64{10, 4, 0, 6, 0} {
		t.Errorf("the run's scope: %s %v", status, counts)
	}
	var attr string
	if err := f.pool.QueryRow(ctx, "SELECT changes->0->>'attribute' FROM "+f.schema+".audit_log WHERE audit_id = 'a'").Scan(&attr); err != nil || attr != "gateName" {
		t.Errorf("changes stored as jsonb: %q, %v", attr, err)
	}
	var ws time.Time
	if err := f.pool.QueryRow(ctx, "SELECT window_start FROM "+f.schema+".audit_log WHERE audit_id = 'd'").Scan(&ws); err != nil || !ws.Equal(sp.Start) {
		t.Errorf("window_start = %s, %v; want %s", ws, err, sp.Start)
	}
}

// A read that fails records the attempt; a publish after it succeeds; the scope stays failed.
func TestWindowFailThenPublish(t *testing.T) {
	t.Parallel()
	f := newStreamFixture(t)
	ctx := t.Context()
	sp := hour(2, 0)
	fail := func(status db.WindowStatus, text string) {
		t.Helper()
		if err := f.s.WindowFail(ctx, &db.WindowFailParams{RunID: f.lock.RunID, Stream: entity.AuditLog, SubAccountID: "s1",
			Span: sp, Status: status, Error: text, Lock: f.lock}); err != nil {
			t.Fatal(err)
		}
	}
	fail(db.WindowNotEntitled, "HTTP 403:\nforbidden")
	w := f.window(t, entity.AuditLog, "s1", sp)
	if w.Status != db.WindowNotEntitled || w.Attempts != 1 || w.Error != "HTTP 403: forbidden" || w.FirstReadAt != nil || w.AttemptedAt == nil {
		t.Errorf("the refused window: %+v", w)
	}
	if status, text, _ := f.scope(t, entity.AuditLog, "s1"); status != string(db.ScopeNotEntitled) || text != "HTTP 403: forbidden" {
		t.Errorf("the refused scope: %s %q", status, text)
	}
	fail(db.WindowFailed, "HTTP 503")
	fail(db.WindowNotEntitled, "HTTP 403") // never overrides failed
	if status, text, _ := f.scope(t, entity.AuditLog, "s1"); status != string(db.ScopeFailed) || text != "HTTP 503" {
		t.Errorf("the failed scope: %s %q", status, text)
	}
	f.publish(t, "s1", sp, false, auditRow("a", `{"id":"a"}`))
	w = f.window(t, entity.AuditLog, "s1", sp)
	if w.Status != db.WindowSucceeded || w.Attempts != 4 || w.Error != "" || w.FirstReadAt == nil || w.SettledAt != nil {
		t.Errorf("the window published after failures: %+v", w)
	}
	if status, text, counts := f.scope(t, entity.AuditLog, "s1"); status != string(db.ScopeFailed) || text != "HTTP 503" || counts[1] != 1 {
		t.Errorf("the scope after a publish: %s %q %v", status, text, counts)
	}
	if err := f.s.WindowFail(ctx, &db.WindowFailParams{RunID: f.lock.RunID, Stream: entity.AuditLog, SubAccountID: "s1",
		Span: sp, Status: db.WindowSucceeded, Lock: f.lock}); err == nil {
		t.Error("WindowFail took status succeeded")
	}
	if err := f.s.WindowFail(ctx, &db.WindowFailParams{RunID: f.lock.RunID, Stream: entity.AuditLog, SubAccountID: "s1",
		Span: sp, Status: db.WindowFailed, Error: "x"}); err == nil || !strings.Contains(err.Error(), "no lock") {
		t.Errorf("WindowFail without a lock = %v", err)
	}
	// Once read and settled, a failed read (a refetch) is recorded but leaves it succeeded:
	// the due rules never read a settled window again.
	f.publish(t, "s1", sp, true, auditRow("a", `{"id":"a"}`))
	fail(db.WindowFailed, "HTTP 500")
	w = f.window(t, entity.AuditLog, "s1", sp)
	if w.Status != db.WindowSucceeded || w.Attempts != 6 || w.Error != "HTTP 500" || w.SettledAt == nil || w.FirstReadAt == nil {
		t.Errorf("a settled window after a failed refetch: %+v", w)
	}
}

// A read whose items fail mid-way writes nothing: neither rows nor the ledger nor the scope.
func TestWindowPublishIsOneTransaction(t *testing.T) {
	t.Parallel()
	f := newStreamFixture(t)
	ctx := t.Context()
	sp := hour(3, 0)
	if _, err := f.s.WindowsRecord(ctx, entity.AuditLog, "s1", []db.Span{sp}, false); err != nil {
		t.Fatal(err)
	}
	boom := errors.New("connection reset")
	var rows iter.Seq2[db.StreamRow, error] = func(yield func(db.StreamRow, error) bool) {
		for i, id := range []string{"a", "b", "c"} {
			if i == 2 {
				yield(db.StreamRow{}, boom)
				return
			}
			if !yield(auditRow(id, `{"id":"`+id+`"}`), nil) {
				return
			}
		}
	}
	_, err := f.s.WindowPublish(ctx, &db.WindowPublishParams{RunID: f.lock.RunID, Stream: entity.StreamOf(entity.AuditLog),
		SubAccountID: "s1", Span: sp, Rows: rows, Lock: f.lock})
	if !errors.Is(err, boom) || !strings.Contains(err.Error(), "item 2") {
		t.Fatalf("WindowPublish = %v, want the items' error naming item 2", err)
	}
	var n int
	if err := f.pool.QueryRow(ctx, "SELECT (SELECT count(*) FROM "+f.schema+".audit_log) + (SELECT count(*) FROM "+
		f.schema+".sync_run_scopes)").Scan(&n); err != nil || n != 0 {
		t.Errorf("a failed publish left %d rows, %v", n, err)
	}
	if w := f.window(t, entity.AuditLog, "s1", sp); w.Status != db.WindowPending || w.Attempts != 0 || w.FirstReadAt != nil {
		t.Errorf("a failed publish changed the window: %+v", w)
	}
	// A bad item is named too, and leaves nothing either.
	bad := auditRow("x", `{"id":"x"}`)
	bad.Vals[4] = "not a time"
	_, err = f.s.WindowPublish(ctx, &db.WindowPublishParams{RunID: f.lock.RunID, Stream: entity.StreamOf(entity.AuditLog),
		SubAccountID: "s1", Span: sp, Rows: db.RowsOf([]db.StreamRow{auditRow("a", `{}`), bad}), Lock: f.lock})
	if err == nil || !strings.Contains(err.Error(), "item 1: column created_at") {
		t.Errorf("a bad item: %v, want an error naming item 1's created_at", err)
	}
	if w := f.window(t, entity.AuditLog, "s1", sp); w.Attempts != 0 {
		t.Errorf("a bad item changed the window: %+v", w)
	}
}

// At most one stream run holds a sub-account's windows; Finish releases them.
func TestStreamLockSubAccounts(t *testing.T) {
	t.Parallel()
	f := newStreamFixture(t)
	ctx := t.Context()
	other, _, err := f.s.StreamRunBegin(ctx, db.TriggerBackfill)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = other.Finish(context.Background(), &db.RunFinishParams{Status: db.RunSucceeded}) }()
	try := func(l *db.StreamLock, sub string, want bool) {
		t.Helper()
		if ok, err := l.TrySubAccount(ctx, sub); err != nil || ok != want {
			t.Fatalf("run %d TrySubAccount(%s) = %v, %v; want %v", l.RunID, sub, ok, err, want)
		}
	}
	try(f.lock, "s1", true)
	try(f.lock, "s1", true) // held already
	try(other, "s1", false)
	try(other, "s2", true)
	if err := f.lock.ReleaseSubAccount(ctx, "s1"); err != nil {
		t.Fatal(err)
	}
	try(other, "s1", true)
	try(f.lock, "s2", false)
	if err := other.Finish(ctx, &db.RunFinishParams{Status: db.RunSucceeded}); err != nil {
		t.Fatal(err)
	}
	try(f.lock, "s2", true)
	if f.lock.Err() != nil {
		t.Errorf("a live lock reports %v", f.lock.Err())
	}
	if _, _, err := f.s.StreamRunBegin(ctx, db.TriggerManual); err == nil {
		t.Error("StreamRunBegin took an entity run's trigger")
	}
}

// The entity runs' RunCloseAbandoned spares a live stream run; a dead one (its session
// terminated) is closed by the next StreamRunBegin.
func TestStreamRunAbandoned(t *testing.T) {
	t.Parallel()
	f := newStreamFixture(t)
	ctx := t.Context()
	entityRun, err := f.s.RunCreate(ctx, db.TriggerManual)
	if err != nil {
		t.Fatal(err)
	}
	closed, err := f.s.RunCloseAbandoned(ctx, nil)
	if err != nil || !cmp.Equal(closed, []int64{entityRun}) {
		t.Fatalf("RunCloseAbandoned = %v, %v; want only the entity run %d", closed, err, entityRun)
	}
	// die begins a stream run and ends its session; frozen: its heartbeat stopped first, so
	// that the run never learns of it. The run cannot publish: the publish sees its key free.
	die := func(frozen bool) *db.StreamLock {
		t.Helper()
		l, _, err := f.s.StreamRunBegin(ctx, db.TriggerStreams)
		if err != nil {
			t.Fatal(err)
		}
		if frozen {
			db.FreezeStreamLock(l)
		}
		if _, err := f.pool.Exec(ctx, `SELECT pg_terminate_backend($1, 5000)`, int64(db.StreamLockPID(l))); err != nil {
			t.Fatal(err)
		}
		if !frozen {
			select {
			case <-l.Lost():
				if !errors.Is(l.Err(), db.ErrLockLost) {
					t.Errorf("Err = %v, want ErrLockLost", l.Err())
				}
			case <-time.After(30 * time.Second):
				t.Error("the dead run's lock never noticed its session ended")
			}
		}
		_, err = f.s.WindowPublish(ctx, &db.WindowPublishParams{RunID: l.RunID, Stream: entity.StreamOf(entity.AuditLog),
			SubAccountID: "s1", Span: hour(4, 0), Rows: db.RowsOf([]db.StreamRow{auditRow("a", `{}`)}), Lock: l})
		if !errors.Is(err, db.ErrLockLost) {
			t.Errorf("a dead run's publish = %v, want ErrLockLost", err)
		}
		err = f.s.WindowFail(ctx, &db.WindowFailParams{RunID: l.RunID, Stream: entity.AuditLog, SubAccountID: "s1",
			Span: hour(4, 0), Status: db.WindowFailed, Error: "late", Lock: l})
		if !errors.Is(err, db.ErrLockLost) {
			t.Errorf("a dead run's failure = %v, want ErrLockLost", err)
		}
		if frozen && l.Err() != nil {
			t.Errorf("a frozen run learned of its loss (%v): the publish did not check the key itself", l.Err())
		}
		return l
	}
	for _, frozen := range []bool{false, true} {
		dead := die(frozen)
		// The next stream run closes it. (A lock holds one of the pool's 4 connections until
		// Finish.)
		l, abandoned, err := f.s.StreamRunBegin(ctx, db.TriggerStreams)
		if err != nil {
			t.Fatal(err)
		}
		if !cmp.Equal(abandoned, []int64{dead.RunID}) {
			t.Errorf("StreamRunBegin closed %v; want the dead run %d", abandoned, dead.RunID)
		}
		if err := l.Finish(ctx, &db.RunFinishParams{Status: db.RunSucceeded}); err != nil {
			t.Fatal(err)
		}
		if err := dead.Finish(ctx, &db.RunFinishParams{Status: db.RunCanceled}); err != nil {
			t.Fatal(err)
		}
		var status, text string
		if err := f.pool.QueryRow(ctx, "SELECT status, error FROM "+f.schema+".sync_runs WHERE run_id = $1", dead.RunID).Scan(&status, &text); err != nil ||
			status != string(db.RunFailed) || text != db.AbandonedError {
			t.Errorf("the dead run: %s %q, %v", status, text, err)
		}
	}
	var n int
	if err := f.pool.QueryRow(ctx, "SELECT count(*) FROM "+f.schema+".stream_windows").Scan(&n); err != nil || n != 0 {
		t.Errorf("the dead runs' publishes left %d windows, %v", n, err)
	}
	// The live run of the fixture is still running.
	var status string
	if err := f.pool.QueryRow(ctx, "SELECT status FROM "+f.schema+".sync_runs WHERE run_id = $1", f.lock.RunID).Scan(&status); err != nil || status != string(db.RunRunning) {
		t.Errorf("the live run: %s, %v", status, err)
	}
}

func TestStreamFreshness(t *testing.T) {
	t.Parallel()
	f := newStreamFixture(t)
	ctx := t.Context()
	spans := []db.Span{hour(5, 0), hour(5, 1), hour(5, 2), hour(5, 3), hour(5, 4)}
	for _, sub := range []string{"s1", "s2"} {
		if _, err := f.s.WindowsRecord(ctx, entity.AuditLog, sub, spans, false); err != nil {
			t.Fatal(err)
		}
	}
	f.publish(t, "s1", spans[0], false, auditRow("a", `{}`), auditRow("b", `{}`))
	f.publish(t, "s1", spans[1], true, auditRow("c", `{}`))
	f.publish(t, "s1", spans[3], false)
	fail := func(sub string, sp db.Span, st db.WindowStatus) {
		t.Helper()
		if err := f.s.WindowFail(ctx, &db.WindowFailParams{RunID: f.lock.RunID, Stream: entity.AuditLog, SubAccountID: sub,
			Span: sp, Status: st, Error: "x", Lock: f.lock}); err != nil {
			t.Fatal(err)
		}
	}
	fail("s1", spans[2], db.WindowFailed)
	fail("s2", spans[0], db.WindowNotEntitled)
	got, err := f.s.StreamStatusGet(ctx)
	if err != nil || len(got) != 2 {
		t.Fatalf("StreamStatusGet = %+v, %v", got, err)
	}
	s1, s2 := got[0], got[1]
	if s1.SubAccountID != "s1" || s1.HighWater == nil || !s1.HighWater.Equal(spans[2].Start) || s1.WindowsPending != 1 ||
		s1.WindowsFailed != 1 || s1.NotEntitled || s1.Rows != 3 || s1.LastReadAt == nil {
		t.Errorf("s1: %+v", s1)
	}
	if lag := time.Since(spans[2].Start); s1.Lag < lag-time.Minute || s1.Lag > lag+time.Minute {
		t.Errorf("s1 lag %s, want about %s", s1.Lag, lag)
	}
	// A sub-account never read has a mark all the same, its first window's start: its lag grows.
	if s2.SubAccountID != "s2" || s2.HighWater == nil || !s2.HighWater.Equal(spans[0].Start) || s2.Lag < time.Since(spans[0].Start)-time.Minute ||
		s2.WindowsPending != 4 || !s2.NotEntitled || s2.LastReadAt != nil || !s2.Live {
		t.Errorf("s2: %+v", s2)
	}
	// Once every window is read, the mark is the last one's end; a later success clears
	// not_entitled.
	f.publish(t, "s1", spans[2], false)
	f.publish(t, "s1", spans[4], false)
	f.publish(t, "s2", spans[1], false)
	if got, err = f.s.StreamStatusGet(ctx); err != nil {
		t.Fatal(err)
	}
	if s1 := got[0]; s1.HighWater == nil || !s1.HighWater.Equal(spans[4].End) || s1.WindowsPending != 0 || s1.WindowsFailed != 0 {
		t.Errorf("s1 all read: %+v", s1)
	}
	// s2's first window was never read: its mark stays at its start.
	if s2 := got[1]; s2.NotEntitled || s2.HighWater == nil || !s2.HighWater.Equal(spans[0].Start) {
		t.Errorf("s2 after a success: %+v", s2)
	}
}

// A backfill's windows do not drag the mark back once the stream has windows of its own; a
// sub-account deleted in sub_accounts is not live, one it does not hold is.
func TestStreamFreshnessBackfillAndLive(t *testing.T) {
	t.Parallel()
	f := newStreamFixture(t)
	ctx := t.Context()
	mark := func(sub string) db.StreamStatus {
		t.Helper()
		got, err := f.s.StreamStatusGet(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, st := range got {
			if st.SubAccountID == sub {
				if st.HighWater == nil {
					t.Fatalf("%s: no mark: %+v", sub, st)
				}
				return st
			}
		}
		t.Fatalf("no row of %s in %+v", sub, got)
		return db.StreamStatus{}
	}
	// Only backfill windows: they count, the oldest unread one holds the mark.
	if _, err := f.s.WindowsRecord(ctx, entity.AuditLog, "s1", []db.Span{hour(2, 0), hour(2, 1), hour(2, 2)}, true); err != nil {
		t.Fatal(err)
	}
	f.publish(t, "s1", hour(2, 2), false)
	if st := mark("s1"); !st.HighWater.Equal(hour(2, 0).Start) || !st.Live {
		t.Errorf("backfill only: %+v; want the mark at %s", st, hour(2, 0).Start)
	}
	// Windows of the stream's own after them: the backfill's unread ones no longer count.
	if _, err := f.s.WindowsRecord(ctx, entity.AuditLog, "s1", []db.Span{hour(3, 0), hour(3, 1)}, false); err != nil {
		t.Fatal(err)
	}
	f.publish(t, "s1", hour(3, 0), false)
	if st := mark("s1"); !st.HighWater.Equal(hour(3, 1).Start) {
		t.Errorf("with windows of its own: mark %s, want %s", st.HighWater, hour(3, 1).Start)
	}
	// A later backfill window (a gap filled after the first own window) counts.
	if _, err := f.s.WindowsRecord(ctx, entity.AuditLog, "s1", []db.Span{hour(3, 2)}, true); err != nil {
		t.Fatal(err)
	}
	f.publish(t, "s1", hour(3, 1), false)
	if st := mark("s1"); !st.HighWater.Equal(hour(3, 2).Start) {
		t.Errorf("a backfill window after the first own one: mark %s, want %s", st.HighWater, hour(3, 2).Start)
	}
	f.publish(t, "s1", hour(3, 2), false)
	if st := mark("s1"); !st.HighWater.Equal(hour(3, 2).End) {
		t.Errorf("all read: mark %s, want %s", st.HighWater, hour(3, 2).End)
	}
	// Deleted in sub_accounts: not live.
	if _, err := f.pool.Exec(ctx, `INSERT INTO `+f.schema+`.accounts (main_account_id, raw, row_hash, first_seen_at, last_changed_at)
VALUES ('m1', '{}', '\x00', now(), now());
INSERT INTO `+f.schema+`.sub_accounts (sub_account_id, main_account_id, raw, row_hash, first_seen_at, last_changed_at, deleted_at)
VALUES ('s1', 'm1', '{}', '\x00', now(), now(), now())`); err != nil {
		t.Fatal(err)
	}
	if st := mark("s1"); st.Live {
		t.Errorf("a deleted sub-account: %+v; want not live", st)
	}
	if _, err := f.pool.Exec(ctx, `UPDATE `+f.schema+`.sub_accounts SET deleted_at = NULL`); err != nil {
		t.Fatal(err)
	}
	if st := mark("s1"); !st.Live {
		t.Errorf("a live sub-account: %+v; want live", st)
	}
}

// Finish records the run's end with the sums of its scopes, and releases its keys.
func TestStreamRunFinish(t *testing.T) {
	t.Parallel()
	f := newStreamFixture(t)
	ctx := t.Context()
	if ok, err := f.lock.TrySubAccount(ctx, "s1"); !ok || err != nil {
		t.Fatal(ok, err)
	}
	f.publish(t, "s1", hour(6, 0), false, auditRow("a", `{}`), auditRow("b", `{}`))
	f.publish(t, "s1", hour(6, 0), false, auditRow("a", `{}`), auditRow("c", `{}`))
	f.publish(t, "s2", hour(6, 0), false, auditRow("a", `{}`))
	done, cancel := context.WithCancel(ctx)
	cancel() // Finish works once the run's context is done
	if err := f.lock.Finish(done, &db.RunFinishParams{Status: db.RunPartial, Error: "one\nwindow failed", APIRequests: 7}); err != nil {
		t.Fatal(err)
	}
	st, err := f.s.StatusGet(ctx, 1)
	if err != nil {
		t.Fatal(err)
	}
	r := st.Runs[0]
	if r.RunID != f.lock.RunID || r.Status != db.RunPartial || r.Error != "one window failed" || r.APIRequests != 7 ||
		r.Fetched != 5 || r.Inserted != 4 || r.Unchanged != 1 || r.Updated != 0 || r.Trigger != db.TriggerStreams || r.FinishedAt == nil {
		t.Errorf("the finished run: %+v", r)
	}
	other, _, err := f.s.StreamRunBegin(ctx, db.TriggerStreams)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = other.Finish(context.Background(), &db.RunFinishParams{Status: db.RunSucceeded}) }()
	if ok, err := other.TrySubAccount(ctx, "s1"); !ok || err != nil {
		t.Errorf("a sub-account of a finished run: %v, %v; want it free", ok, err)
	}
}

// PublishUpsert and PublishReplace, on streams and tables made up for the test.
func TestWindowPublishUpsertAndReplace(t *testing.T) {
	t.Parallel()
	f := newStreamFixture(t)
	ctx := t.Context()
	sub := entity.Column{Name: "sub_account_id", Kind: entity.Text}
	segs := &entity.Stream{Name: "test_segments", Publish: entity.PublishUpsert,
		Key:     []entity.Column{sub, {Name: "segment_id", Kind: entity.Int}},
		Columns: []entity.Column{{Name: "note", Kind: entity.Text}, {Name: "extra", Kind: entity.JSON}}}
	stats := &entity.Stream{Name: "test_stats", Publish: entity.PublishReplace,
		Key:     []entity.Column{sub, {Name: "queue_id", Kind: entity.Text}, {Name: "interval_start", Kind: entity.Time}},
		Columns: []entity.Column{{Name: "calls", Kind: entity.Int}}}
	// The ledger's checks list the registry's streams: these are not among them.
	if _, err := f.pool.Exec(ctx, "SET search_path = "+f.schema+"; "+db.StreamTableSQL(segs)+db.StreamTableSQL(stats)+
		`ALTER TABLE sync_run_scopes DROP CONSTRAINT sync_run_scopes_entity_check;
ALTER TABLE stream_windows DROP CONSTRAINT stream_windows_stream_check; RESET search_path`); err != nil {
		t.Fatal(err)
	}
	publish := func(st *entity.Stream, sp db.Span, settle bool, rows ...db.StreamRow) db.WindowCounts {
		t.Helper()
		c, err := f.s.WindowPublish(ctx, &db.WindowPublishParams{RunID: f.lock.RunID, Stream: st, SubAccountID: "s1",
			Span: sp, Settle: settle, Rows: db.RowsOf(rows), Lock: f.lock})
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	seg := func(id int64, note string) db.StreamRow {
		return db.StreamRow{Key: []any{id}, Vals: []any{note, []byte(`{"n":1}`)}, Raw: []byte(`{"id":1}`)}
	}
	sp := hour(7, 0)
	if c := publish(segs, sp, false, seg(1, "a"), seg(2, "b"), seg(3, "c")); c != (db.WindowCounts{Fetched: 3, Inserted: 3}) {
		t.Errorf("segments, first read: %+v", c)
	}
	before := f.versions(t, "test_segments", "segment_id")
	if c := publish(segs, sp, true, seg(1, "a2"), seg(2, "b")); c != (db.WindowCounts{Fetched: 2, Updated: 1, Unchanged: 1, Missing: 1}) {
		t.Errorf("segments, settle read: %+v", c)
	}
	after := f.versions(t, "test_segments", "segment_id")
	if before["2"] != after["2"] || before["1"] == after["1"] {
		t.Errorf("row versions: before %v, after %v; want only segment 1 rewritten besides 3's mark", before, after)
	}
	missing := func() map[int64]bool {
		rows, err := f.pool.Query(ctx, "SELECT segment_id, missing_since IS NOT NULL FROM "+f.schema+".test_segments")
		if err != nil {
			t.Fatal(err)
		}
		out := map[int64]bool{}
		for rows.Next() {
			var id int64
			var m bool
			if err := rows.Scan(&id, &m); err != nil {
				t.Fatal(err)
			}
			out[id] = m
		}
		return out
	}
	if diff := cmp.Diff(map[int64]bool{1: false, 2: false, 3: true}, missing()); diff != "" {
		t.Errorf("missing_since after the settle read (-want +got):\n%s", diff)
	}
	if c := publish(segs, sp, true, seg(1, "a2"), seg(2, "b"), seg(3, "c")); c != (db.WindowCounts{Fetched: 3, Updated: 1, Unchanged: 2}) {
		t.Errorf("segments, the missing one back: %+v", c)
	}
	if diff := cmp.Diff(map[int64]bool{1: false, 2: false, 3: false}, missing()); diff != "" {
		t.Errorf("missing_since after the row came back (-want +got):\n%s", diff)
	}

	// A window never attempted is copied straight into the table. A key read twice keeps its
	// last copy and counts once. A key another window stored fails it; its retry (attempted
	// before) takes the staging path and moves the row.
	if c := publish(segs, hour(7, 3), false, seg(20, "first"), seg(21, "x"), seg(20, "last")); c != (db.WindowCounts{Fetched: 2, Inserted: 2}) {
		t.Errorf("segments, a key twice in a fresh window: %+v", c)
	}
	var note string
	if err := f.pool.QueryRow(ctx, "SELECT note FROM "+f.schema+".test_segments WHERE segment_id = 20").Scan(&note); err != nil || note != "last" {
		t.Errorf("a key read twice kept %q, %v; want its last copy", note, err)
	}
	moved := hour(7, 4)
	if _, err := f.s.WindowPublish(ctx, &db.WindowPublishParams{RunID: f.lock.RunID, Stream: segs, SubAccountID: "s1",
		Span: moved, Rows: db.RowsOf([]db.StreamRow{seg(1, "moved"), seg(30, "y")}), Lock: f.lock}); !errors.Is(err, db.ErrStoredElsewhere) {
		t.Errorf("a fresh window holding a key another window stored: %v, want ErrStoredElsewhere", err)
	}
	c, err := f.s.WindowPublish(ctx, &db.WindowPublishParams{RunID: f.lock.RunID, Stream: segs, SubAccountID: "s1",
		Span: moved, Rows: db.RowsOf([]db.StreamRow{seg(1, "moved"), seg(30, "y")}), Lock: f.lock, Staged: true})
	if err != nil || c != (db.WindowCounts{Fetched: 2, Inserted: 1, Updated: 1}) {
		t.Errorf("segments, the staged publish of a window whose key another window stored: %+v, %v", c, err)
	}
	// A key read twice in a window read before: the last copy wins even when it is the stored
	// one (nothing is written then), and it counts once.
	before = f.versions(t, "test_segments", "segment_id")
	if c := publish(segs, moved, false, seg(30, "z"), seg(1, "moved"), seg(30, "y")); c != (db.WindowCounts{Fetched: 2, Unchanged: 2}) {
		t.Errorf("segments, a changed copy then the stored one: %+v", c)
	}
	if after := f.versions(t, "test_segments", "segment_id"); after["30"] != before["30"] {
		t.Error("a key whose last copy is the stored one was rewritten")
	}
	// Items on a window's bounds (the stream's window column) go through the staging table,
	// and move a row another window stored.
	bounded := &entity.Stream{Name: "test_bounded", Publish: entity.PublishUpsert, WindowColumn: "ended",
		Key:     []entity.Column{sub, {Name: "segment_id", Kind: entity.Int}},
		Columns: []entity.Column{{Name: "ended", Kind: entity.Time}}}
	if _, err := f.pool.Exec(ctx, "SET search_path = "+f.schema+"; "+db.StreamTableSQL(bounded)+"RESET search_path"); err != nil {
		t.Fatal(err)
	}
	end := func(id int64, at time.Time) db.StreamRow {
		return db.StreamRow{Key: []any{id}, Vals: []any{at}, Raw: []byte(`{"id":` + strconv.FormatInt(id, 10) + `}`)}
	}
	w1, w2 := hour(8, 0), hour(8, 1)
	if c := publish(bounded, w1, false, end(1, w1.Start.Add(time.Minute)), end(2, w1.End)); c != (db.WindowCounts{Fetched: 2, Inserted: 2}) {
		t.Errorf("bounded, first window: %+v", c)
	}
	changed := end(2, w2.Start)
	changed.Raw = []byte(`{"id":2,"settled":true}`)
	if c := publish(bounded, w2, false, changed, end(3, w2.Start.Add(time.Minute))); c != (db.WindowCounts{Fetched: 2, Inserted: 1, Updated: 1}) {
		t.Errorf("bounded, the next window, its first item on the bound: %+v", c)
	}

	at := sp.Start
	stat := func(q string, calls int64) db.StreamRow {
		return db.StreamRow{Key: []any{q, at}, Vals: []any{calls}, Raw: []byte(`{"q":"` + q + `"}`)}
	}
	if c := publish(stats, sp, false, stat("q1", 1), stat("q2", 2)); c != (db.WindowCounts{Fetched: 2, Inserted: 2}) {
		t.Errorf("stats, first read: %+v", c)
	}
	publish(stats, hour(7, 1), false, stat("q9", 9)) // another window: untouched
	if c := publish(stats, sp, true, stat("q1", 5), stat("q3", 3)); c != (db.WindowCounts{Fetched: 2, Inserted: 1, Updated: 1, Missing: 1}) {
		t.Errorf("stats, settle read: %+v", c)
	}
	rows, err := f.pool.Query(ctx, "SELECT queue_id || '=' || calls FROM "+f.schema+".test_stats ORDER BY queue_id")
	if err != nil {
		t.Fatal(err)
	}
	got, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil || !cmp.Equal(got, []string{"q1=5", "q3=3", "q9=9"}) {
		t.Errorf("stats after the settle read: %v, %v", got, err)
	}
}

// Only the run's own ledger rows reference sync_runs: the streams' tables and their ledger
// carry last_run_id without a foreign key, as the entity tables do, so that deleting a run
// (Discard) does not scan them.
func TestStreamTablesHaveNoRunForeignKey(t *testing.T) {
	t.Parallel()
	pool, schema := dbtest.New(t)
	var refs []string
	rows, err := pool.Query(t.Context(), `SELECT conrelid::regclass::text FROM pg_constraint
WHERE contype = 'f' AND confrelid = ($1 || '.sync_runs')::regclass ORDER BY 1`, schema)
	if err != nil {
		t.Fatal(err)
	}
	if refs, err = pgx.CollectRows(rows, pgx.RowTo[string]); err != nil {
		t.Fatal(err)
	}
	for _, r := range refs {
		if strings.HasSuffix(r, "audit_log") || strings.HasSuffix(r, "stream_windows") {
			t.Errorf("%s references sync_runs (all: %v)", r, refs)
		}
	}
	if strings.Contains(db.StreamTableSQL(entity.StreamOf(entity.AuditLog)), "REFERENCES") {
		t.Errorf("StreamTableSQL renders a reference:\n%s", db.StreamTableSQL(entity.StreamOf(entity.AuditLog)))
	}
}

// A stream run holds the schema's streams key shared: MigrateDown, which stream runs do not
// otherwise exclude (they take no run lock), is refused while one runs; and a stream run is
// refused while MigrateDown holds it. Either way nothing changes.
func TestStreamRunsAndMigrateDownExclude(t *testing.T) {
	t.Parallel()
	f := newStreamFixture(t)
	ctx := t.Context()
	other, _, err := f.s.StreamRunBegin(ctx, db.TriggerBackfill) // shared: two runs at once
	if err != nil {
		t.Fatal(err)
	}
	if err := other.Finish(ctx, &db.RunFinishParams{Status: db.RunSucceeded}); err != nil {
		t.Fatal(err)
	}
	if _, err := db.MigrateDown(ctx, f.pool, f.schema, true); !errors.Is(err, db.ErrLocked) {
		t.Fatalf("MigrateDown during a stream run = %v, want ErrLocked", err)
	}
	var exists bool
	if err := f.pool.QueryRow(ctx, `SELECT to_regclass($1 || '.stream_windows') IS NOT NULL`, f.schema).Scan(&exists); err != nil || !exists {
		t.Fatalf("the ledger after a refused MigrateDown: %v, %v", exists, err)
	}
	if err := f.lock.Finish(ctx, &db.RunFinishParams{Status: db.RunSucceeded}); err != nil {
		t.Fatal(err)
	}
	// As MigrateDown holds it: exclusively, on a session of its own.
	conn, err := f.pool.Acquire(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Release()
	if _, err := conn.Exec(ctx, `SELECT pg_advisory_lock($1)`, db.StreamsKey(f.s)); err != nil {
		t.Fatal(err)
	}
	if _, _, err := f.s.StreamRunBegin(ctx, db.TriggerStreams); !errors.Is(err, db.ErrLocked) || !strings.Contains(err.Error(), "migrat") {
		t.Errorf("StreamRunBegin during MigrateDown = %v, want ErrLocked naming the migration", err)
	}
	var running int
	if err := f.pool.QueryRow(ctx, "SELECT count(*) FROM "+f.schema+".sync_runs WHERE status = 'running'").Scan(&running); err != nil || running != 0 {
		t.Errorf("a refused stream run left %d runs running, %v", running, err)
	}
	if _, err := conn.Exec(ctx, `SELECT pg_advisory_unlock($1)`, db.StreamsKey(f.s)); err != nil {
		t.Fatal(err)
	}
	if plan, err := db.MigrateDown(ctx, f.pool, f.schema, true); err != nil || plan.Version != 8 {
		t.Fatalf("MigrateDown once the stream runs finished = %+v, %v", plan, err)
	}
}

// A run's key that another session holds (two runs' keys colliding) fails the run's begin
// clearly, instead of waiting for the other run, and leaves no run recorded.
func TestStreamRunBeginKeyCollision(t *testing.T) {
	t.Parallel()
	f := newStreamFixture(t)
	ctx := t.Context()
	conn, err := f.pool.Acquire(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Release()
	// The next few runs' keys (a failed insert still uses up its id).
	for id := f.lock.RunID + 1; id <= f.lock.RunID+3; id++ {
		class, obj := db.StreamRunKey(f.s, id)
		if _, err := conn.Exec(ctx, `SELECT pg_advisory_lock($1, $2)`, class, obj); err != nil {
			t.Fatal(err)
		}
	}
	defer func() { _, _ = conn.Exec(context.Background(), `SELECT pg_advisory_unlock_all()`) }()
	done := make(chan error, 1)
	go func() {
		_, _, err := f.s.StreamRunBegin(ctx, db.TriggerStreams)
		done <- err
	}()
	select {
	case err := <-done:
		if err == nil || errors.Is(err, db.ErrLocked) || !strings.Contains(err.Error(), "collision") {
			t.Errorf("StreamRunBegin with its key held = %v, want a collision error", err)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("StreamRunBegin waited for a key another session holds")
	}
	var n int
	if err := f.pool.QueryRow(ctx, "SELECT count(*) FROM "+f.schema+".sync_runs").Scan(&n); err != nil || n != 1 {
		t.Errorf("sync_runs holds %d runs after the collision, %v; want the fixture's only", n, err)
	}
}
