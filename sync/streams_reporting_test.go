package sync_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	gosync "sync"
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

// reportingRequest is one request to an integration reporting endpoint, as sent.
type reportingRequest struct {
	endpoint, sub string // the path's last segment and sub-account
	body          map[string]any
	at            time.Time
}

// reportingLog records the reporting requests a client sends.
type reportingLog struct {
	next http.RoundTripper
	mu   gosync.Mutex
	reqs []reportingRequest
}

func (l *reportingLog) RoundTrip(r *http.Request) (*http.Response, error) {
	if strings.Contains(r.URL.Path, "/cx/integration/v1/") && r.Body != nil {
		body, err := io.ReadAll(r.Body)
		if err != nil {
			return nil, err
		}
		r.Body = io.NopCloser(bytes.NewReader(body))
		parts := strings.Split(r.URL.Path, "/")
		q := reportingRequest{endpoint: parts[len(parts)-1], sub: parts[len(parts)-2], at: time.Now()}
		_ = json.Unmarshal(body, &q.body)
		l.mu.Lock()
		l.reqs = append(l.reqs, q)
		l.mu.Unlock()
	}
	return l.next.RoundTrip(r)
}

func (l *reportingLog) all() []reportingRequest {
	l.mu.Lock()
	defer l.mu.Unlock()
	return slices.Clone(l.reqs)
}

// Scaled-down reporting limits: 3 per 300 ms and 9 per 1.5 s in the fake keep the documented
// shape (the second binds) at 200 times the pace. The client's are 100 ms longer: at this
// scale a request's way to the server varies (the race detector, a busy machine) by more than
// the bucket's own margin, which is 2% of the documented minutes.
var (
	fakeLimits   = []engagefake.Limit{{Count: 3, Per: 300 * time.Millisecond}, {Count: 9, Per: 1500 * time.Millisecond}}
	clientLimits = []engageclient.Limit{{Count: 3, Per: 400 * time.Millisecond}, {Count: 9, Per: 1600 * time.Millisecond}}
)

// reportingEnv is a fake with a call history on a clock, a database, and the reporting
// requests its clients send.
type reportingEnv struct {
	*env
	clock *clock
	log   *reportingLog
}

func newReportingEnv(t *testing.T, at time.Time, opts engagefake.Options) *reportingEnv {
	t.Helper()
	c := &clock{t: at}
	opts.Now = c.Now
	if opts.Tenant == (engagefake.TenantSpec{}) {
		opts.Tenant = engagefake.TenantSpec{MainAccounts: 1, SubAccountsPerMain: 2, AgentGroupsPerSubAccount: 2, AgentsPerGroup: 3,
			Users: 2, QueueGroupsPerSubAccount: 1, QueuesPerGroup: 2, AgentsPerQueue: 3}
	}
	if opts.ReportingLimits == nil && !opts.ReportingUnlimited {
		opts.ReportingLimits = fakeLimits
	}
	opts.AuditPerHour = -1
	e := newEnvOn(t, fixture.Fake(t, opts), storetest.New(t))
	return &reportingEnv{env: e, clock: c, log: &reportingLog{next: http.DefaultTransport}}
}

// reportingStreams are the four reporting streams.
var reportingStreams = []entity.Name{entity.InteractionSegments, entity.QueueStats, entity.AgentStats, entity.AgentQueueStats}

func (e *reportingEnv) cfg(start time.Time) syncrun.StreamsConfig {
	return syncrun.StreamsConfig{Streams: reportingStreams, Start: start, SettleAfter: 24 * time.Hour, Now: e.clock.Now}
}

func (e *reportingEnv) run(ctx context.Context, cfg syncrun.StreamsConfig) *syncrun.StreamResult {
	e.t.Helper()
	c := e.client(func(c *engageclient.Config) {
		c.HTTPClient = &http.Client{Transport: e.log}
		c.ReportingLimits = clientLimits
	})
	r, err := syncrun.NewStreamRunner(c, e.store, cfg, e.watch.Logs.Logger())
	if err != nil {
		e.t.Fatal(err)
	}
	res, err := r.Run(ctx)
	if err = e.watch.Err(err); err != nil {
		e.t.Fatalf("stream run: %v", err)
	}
	if res.Status != db.RunSucceeded {
		e.t.Fatalf("stream run %s: %s", res.Status, res.Error)
	}
	return res
}

// query returns the rows of q as strings, one line per row.
func (e *reportingEnv) query(q string, args ...any) []string {
	e.t.Helper()
	rows, err := e.pool.Query(e.t.Context(), strings.ReplaceAll(q, "{{schema}}", e.db.Schema), args...)
	if err != nil {
		e.t.Fatalf("%s: %v", q, err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		vals, err := rows.Values()
		if err != nil {
			e.t.Fatal(err)
		}
		var parts []string
		for _, v := range vals {
			switch x := v.(type) {
			case nil:
				parts = append(parts, "NULL")
			case time.Time:
				parts = append(parts, x.UTC().Format(time.RFC3339))
			default:
				parts = append(parts, fmt.Sprint(x))
			}
		}
		out = append(out, strings.Join(parts, "|"))
	}
	if err := rows.Err(); err != nil {
		e.t.Fatal(err)
	}
	return out
}

// servedSegments returns what the fake serves for each window of the ledger of
// interaction_segments at at, as "sub|segment_id|window_start" lines, sorted.
func (e *reportingEnv) servedSegments(at time.Time) []string {
	e.t.Helper()
	var out []string
	for _, line := range e.query(`SELECT sub_account_id, window_start, window_end FROM {{schema}}.stream_windows
WHERE stream = 'interaction_segments' ORDER BY 1, 2`) {
		f := strings.Split(line, "|")
		start, _ := time.Parse(time.RFC3339, f[1])
		end, _ := time.Parse(time.RFC3339, f[2])
		for _, s := range e.fake.SegmentsAt(f[0], start, end, at) {
			out = append(out, f[0]+"|"+s.SegmentID+"|"+f[1])
		}
	}
	slices.Sort(out)
	return out
}

// TestReportingWindowsLandOnce: a run of the four reporting streams over half a day of two
// sub-accounts records aligned, contiguous windows, requests each once per stream, never
// exceeds either limit (the fake refuses none), reads the two sub-accounts side by side, and
// stores every item served once with its key and columns.
func TestReportingWindowsLandOnce(t *testing.T) {
	t.Parallel()
	e := newReportingEnv(t, now0, engagefake.Options{})
	ctx := t.Context()
	res := e.run(ctx, e.cfg(now0.Add(-12*time.Hour)))

	// Windows: 3 h, aligned on the UTC grid, contiguous, from the one holding the start to the
	// last closed for 20 minutes (10:30 - 20m: the window ending 09:00).
	wantStarts := []string{"2026-12-04T21:00:00Z", "2026-12-05T00:00:00Z", "2026-12-05T03:00:00Z", "2026-12-05T06:00:00Z"}
	for _, sub := range e.fake.SubAccountIDs() {
		for _, st := range reportingStreams {
			got := e.query(`SELECT window_start, window_end, status FROM {{schema}}.stream_windows
WHERE stream = $1 AND sub_account_id = $2 ORDER BY 1`, st, sub)
			var want []string
			for _, s := range wantStarts {
				start, _ := time.Parse(time.RFC3339, s)
				want = append(want, s+"|"+start.Add(3*time.Hour).Format(time.RFC3339)+"|succeeded")
			}
			if !slices.Equal(got, want) {
				t.Errorf("%s/%s windows:\n got %q\nwant %q", st, sub, got, want)
			}
		}
	}

	// Requests: one per (endpoint, sub-account, window), the bodies as docs/streams.md writes them.
	seen := map[string]int{}
	for _, q := range e.log.all() {
		key := q.endpoint + " " + q.sub + " " + fmt.Sprint(q.body["segmentEndTime"], q.body["startDate"])
		seen[key]++
		switch q.endpoint {
		case "interaction-metadata":
			if q.body["timeInterval"] != float64(10800) || q.body["timeZone"] != "UTC" || len(q.body) != 3 {
				t.Errorf("interaction-metadata body %v: want segmentEndTime, timeInterval 10800, timeZone UTC", q.body)
			}
		default:
			if q.body["timeInterval"] != float64(3600) || q.body["timeZone"] != "UTC" || len(q.body) != 4 {
				t.Errorf("%s body %v: want startDate, endDate, timeInterval 3600, timeZone UTC", q.endpoint, q.body)
			}
		}
	}
	if len(seen) != 2*4*4 {
		t.Errorf("%d distinct requests, want 32 (2 sub-accounts × 4 streams × 4 windows): %v", len(seen), seen)
	}
	for k, n := range seen {
		if n != 1 {
			t.Errorf("request %s sent %d times, want once", k, n)
		}
	}
	if st := e.fake.Stats(); sum(st.ReportingRateLimited) != 0 || sum(st.ReportingRequests) != 32 {
		t.Errorf("fake: %d requests, %d refused with 429; want 32 and 0", sum(st.ReportingRequests), sum(st.ReportingRateLimited))
	}
	// Side by side: each sub-account's requests begin before the other's end.
	first, last := map[string]time.Time{}, map[string]time.Time{}
	for _, q := range e.log.all() {
		if first[q.sub].IsZero() {
			first[q.sub] = q.at
		}
		last[q.sub] = q.at
	}
	subs := e.fake.SubAccountIDs()
	if !first[subs[0]].Before(last[subs[1]]) || !first[subs[1]].Before(last[subs[0]]) {
		t.Errorf("sub-accounts read one after the other: %s %v–%v, %s %v–%v", subs[0], first[subs[0]], last[subs[0]],
			subs[1], first[subs[1]], last[subs[1]])
	}

	// Segments: every one served lands once, in the window that read it, with its columns.
	got := e.query(`SELECT sub_account_id, segment_id, window_start FROM {{schema}}.interaction_segments ORDER BY 1, 2, 3`)
	slices.Sort(got)
	if want := e.servedSegments(now0); !slices.Equal(got, want) || len(want) == 0 {
		t.Errorf("segments stored (%d) differ from those served (%d)", len(got), len(want))
	}
	for _, sub := range subs {
		for _, s := range e.fake.SegmentsAt(sub, now0.Add(-15*time.Hour), now0, now0) {
			var item map[string]any
			if err := json.Unmarshal(s.JSON, &item); err != nil {
				t.Fatal(err)
			}
			rows := e.query(`SELECT dialog_id, uii, participant_id, coalesce(agent_group_id::text, ''), coalesce(agent_disposition, ''),
       has_recording, segment_end_at, segment_duration_ms, ani FROM {{schema}}.interaction_segments WHERE sub_account_id = $1 AND segment_id = $2`, sub, s.SegmentID)
			if len(rows) == 0 {
				continue // a window before the start
			}
			end, _ := time.Parse(time.RFC3339Nano, item["segmentEndTimeMs"].(string))
			want := fmt.Sprintf("%s|%s|%s|%s|%s|%v|%s|%v|%s", item["dialogId"], item["interactionId"], str(item["segmentParticipantId"]),
				str(item["segmentAgentGroupId"]), str(item["agentDisposition"]), item["hasRecording"], end.UTC().Format(time.RFC3339),
				item["segmentDurationMs"], str(item["channelEndpointAddress"]))
			want = strings.ReplaceAll(want, "|<nil>|", "|NULL|")
			if rows[0] != want && strings.ReplaceAll(rows[0], "NULL", "") != strings.ReplaceAll(want, "NULL", "") {
				t.Errorf("segment %s: stored %q, served %q", s.SegmentID, rows[0], want)
			}
		}
	}

	// Statistics: per window, the rows served, keyed by their interval, with their metrics.
	for _, sub := range subs {
		for _, sp := range []struct {
			stream   entity.Name
			endpoint string
			metric   string // a metric's field and column
		}{
			{entity.QueueStats, engagefake.EndpointQueueStats, "answIxnCnt"},
			{entity.AgentStats, engagefake.EndpointAgentStats, "totWorkDur"},
			{entity.AgentQueueStats, engagefake.EndpointAgentQueueStats, "talkingIxnDur"},
		} {
			var served, sumServed int64
			for _, s := range wantStarts {
				start, _ := time.Parse(time.RFC3339, s)
				for _, row := range e.fake.StatsRows(sp.endpoint, sub, start, start.Add(3*time.Hour), time.Hour) {
					var m map[string]any
					_ = json.Unmarshal(row, &m)
					served++
					n, _ := m[sp.metric].(float64)
					sumServed += int64(n)
				}
			}
			col := entity.SnakeCase(sp.metric)
			got := e.query(`SELECT count(*), coalesce(sum(`+col+`), 0)::bigint, count(*) FILTER (WHERE interval_seconds <> 3600
  OR extract(epoch FROM interval_start)::bigint % 3600 <> 0 OR interval_start < window_start OR interval_start >= window_start + interval '3 hours')
FROM {{schema}}.`+string(sp.stream)+` WHERE sub_account_id = $1`, sub)
			if want := fmt.Sprintf("%d|%d|0", served, sumServed); got[0] != want || served == 0 {
				t.Errorf("%s/%s: stored count|sum(%s)|misplaced = %s, served %s", sp.stream, sub, col, got[0], want)
			}
		}
	}
	for _, sc := range res.Scopes {
		if sc.Status != db.ScopeSucceeded || sc.Read != 4 {
			t.Errorf("scope %s/%s: %s, %d windows read; want succeeded, 4", sc.Stream, sc.SubAccountID, sc.Status, sc.Read)
		}
	}
	// A second run at the same time requests nothing.
	n := len(e.log.all())
	e.run(ctx, e.cfg(now0.Add(-12*time.Hour)))
	if d := len(e.log.all()) - n; d != 0 {
		t.Errorf("a second run sent %d reporting requests, want 0", d)
	}
}

func sum(m map[string]int64) int64 {
	var n int64
	for _, v := range m {
		n += v
	}
	return n
}

// str is a JSON string value, "NULL" for null or absent.
func str(v any) string {
	if v == nil {
		return "NULL"
	}
	return fmt.Sprint(v)
}

// segmentXmins returns every segment's xmin: a row version written changes it.
func (e *reportingEnv) segmentXmins() map[string]string {
	out := map[string]string{}
	for _, line := range e.query(`SELECT segment_id, xmin::text FROM {{schema}}.interaction_segments`) {
		id, x, _ := strings.Cut(line, "|")
		out[id] = x
	}
	return out
}

// TestReportingSettleRead: a day later the settle read applies the changes (a disposition
// set, a recording that appeared), adds the late segments, and marks the vanished ones
// missing_since without deleting them; a settle read that finds nothing new writes no row
// version, and the stats rows are replaced by the settle read's.
func TestReportingSettleRead(t *testing.T) {
	t.Parallel()
	opts := engagefake.Options{CallsPerHour: 40, CallChangeFraction: 0.2, CallVanishFraction: 0.1, CallLateFraction: 0.1}
	e := newReportingEnv(t, now0, opts)
	ctx := t.Context()
	cfg := e.cfg(now0.Add(-6 * time.Hour))
	cfg.Streams = []entity.Name{entity.InteractionSegments, entity.QueueStats}
	e.run(ctx, cfg)
	first := e.servedSegments(now0)
	before := e.segmentXmins()

	e.clock.Add(25 * time.Hour)
	at := e.clock.Now()
	res := e.run(ctx, cfg)
	settled := e.servedSegments(at)
	var changes, late, vanished int
	for _, sub := range e.fake.SubAccountIDs() {
		for _, line := range e.query(`SELECT window_start, window_end FROM {{schema}}.stream_windows
WHERE stream = 'interaction_segments' AND sub_account_id = $1 AND window_start < $2`, sub, now0.Add(-3*time.Hour)) {
			f := strings.Split(line, "|")
			start, _ := time.Parse(time.RFC3339, f[0])
			end, _ := time.Parse(time.RFC3339, f[1])
			for _, s := range e.fake.SegmentsAt(sub, start, end, now0) {
				row := e.query(`SELECT coalesce(agent_disposition, ''), has_recording, missing_since IS NOT NULL
FROM {{schema}}.interaction_segments WHERE sub_account_id = $1 AND segment_id = $2`, sub, s.SegmentID)
				final := e.fake.SegmentsAt(sub, start, end, at)
				i := slices.IndexFunc(final, func(f engagefake.Segment) bool { return f.SegmentID == s.SegmentID })
				switch {
				case s.Vanishes:
					vanished++
					if row[0] != fmt.Sprintf("%s|%v|true", s.AgentDisposition, s.HasRecording) {
						t.Errorf("vanished segment %s: %q, want its first values and missing_since set", s.SegmentID, row[0])
					}
				case s.Changes && i >= 0:
					changes++
					if want := fmt.Sprintf("%s|%v|false", final[i].AgentDisposition, final[i].HasRecording); row[0] != want {
						t.Errorf("changed segment %s: %q, want the settled %q", s.SegmentID, row[0], want)
					}
				}
			}
			for _, s := range e.fake.SegmentsAt(sub, start, end, at) {
				if s.Late && !s.VisibleAt.Before(now0) {
					late++
					if row := e.query(`SELECT 1 FROM {{schema}}.interaction_segments WHERE sub_account_id = $1 AND segment_id = $2`, sub, s.SegmentID); len(row) != 1 {
						t.Errorf("late segment %s not stored by the settle read", s.SegmentID)
					}
				}
			}
		}
	}
	if changes == 0 || late == 0 || vanished == 0 {
		t.Fatalf("the history had %d changed, %d late and %d vanished segments in the settled windows; want some of each", changes, late, vanished)
	}
	if len(settled) <= len(first)-vanished {
		t.Errorf("settle read: %d segments served, %d first; late ones expected", len(settled), len(first))
	}
	var missing int64
	for _, sc := range res.Scopes {
		if sc.Stream == entity.InteractionSegments {
			missing += sc.Counts.Missing
		}
	}
	if missing != int64(vanished) {
		t.Errorf("scopes count %d missing, want %d", missing, vanished)
	}

	// Nothing changes upstream now: a refetch of the settled windows writes no row version.
	after := e.segmentXmins()
	unchanged := 0
	for id, x := range before {
		if after[id] == x {
			unchanged++
		}
	}
	if unchanged == 0 {
		t.Error("the settle read rewrote every segment; the unchanged ones must keep their row version")
	}
	statsBefore := e.query(`SELECT queue_id, interval_start, xmin::text FROM {{schema}}.queue_stats ORDER BY 1, 2`)
	cfg.Backfill = &syncrun.Backfill{Since: now0.Add(-6 * time.Hour), Until: now0.Add(-3 * time.Hour), Refetch: true}
	e.run(ctx, cfg)
	if again := e.segmentXmins(); !mapsEqual(after, again) {
		t.Error("a settle read that found nothing new wrote row versions")
	}
	if got := e.query(`SELECT queue_id, interval_start, xmin::text FROM {{schema}}.queue_stats ORDER BY 1, 2`); !slices.Equal(got, statsBefore) {
		t.Error("a stats settle read that found nothing new rewrote rows")
	}
}

// TestReportingDateTimeFromOrders: the stats' interval starts are the same whether the API
// writes dateTimeFrom month first or day first (the reading inside the window wins), and in a
// request zone other than UTC.
func TestReportingDateTimeFromOrders(t *testing.T) {
	t.Parallel()
	ny, err := time.LoadLocation("America/New_York")
	if err != nil {
		t.Fatal(err)
	}
	var results [][]string
	for _, order := range []string{engagefake.DateTimeFromMDY, engagefake.DateTimeFromDMY} {
		e := newReportingEnv(t, now0, engagefake.Options{DateTimeFromOrder: order})
		cfg := e.cfg(now0.Add(-9 * time.Hour))
		cfg.Streams = []entity.Name{entity.AgentStats}
		cfg.Location = ny
		e.run(t.Context(), cfg)
		got := e.query(`SELECT sub_account_id, agent_id, interval_start, window_start FROM {{schema}}.agent_stats ORDER BY 1, 2, 3`)
		if len(got) == 0 {
			t.Fatalf("%s: no agent stats stored", order)
		}
		for _, q := range e.log.all() {
			if q.body["timeZone"] != "America/New_York" || !strings.HasPrefix(fmt.Sprint(q.body["startDate"]), "2026-12-04 ") && !strings.HasPrefix(fmt.Sprint(q.body["startDate"]), "2026-12-05 ") {
				t.Errorf("request body %v: want New York wall-clock dates", q.body)
			}
		}
		if bad := e.query(`SELECT count(*) FROM {{schema}}.agent_stats WHERE interval_start < window_start
   OR interval_start >= window_start + interval '3 hours' OR extract(epoch FROM interval_start)::bigint % 3600 <> 0`); bad[0] != "0" {
			t.Errorf("%s: %s rows whose interval does not start on an hour of their window", order, bad[0])
		}
		results = append(results, got)
	}
	if !slices.Equal(results[0], results[1]) {
		t.Errorf("interval starts differ by dateTimeFrom's order:\nMDY %q\nDMY %q", results[0], results[1])
	}
}

// TestReportingDaylightSavingSplit: in a zone with daylight saving, the window that straddles
// the change (US spring forward, 2026-03-08 07:00 UTC) is read as two requests, one per UTC
// offset, and its segments land once.
func TestReportingDaylightSavingSplit(t *testing.T) {
	t.Parallel()
	ny, err := time.LoadLocation("America/New_York")
	if err != nil {
		t.Fatal(err)
	}
	at := time.Date(2026, 3, 8, 12, 0, 0, 0, time.UTC)
	e := newReportingEnv(t, at, engagefake.Options{CallDays: 1})
	cfg := e.cfg(time.Date(2026, 3, 8, 3, 0, 0, 0, time.UTC))
	cfg.Streams = []entity.Name{entity.InteractionSegments}
	cfg.Location = ny
	e.run(t.Context(), cfg)
	sub := e.fake.SubAccountIDs()[0]
	var got []string
	for _, q := range e.log.all() {
		if q.sub == sub {
			got = append(got, fmt.Sprintf("%v+%v", q.body["segmentEndTime"], q.body["timeInterval"]))
		}
	}
	// 03:00-06:00 UTC is 22:00-01:00 EST; 06:00-09:00 UTC is 01:00-02:00 EST, then 03:00-05:00 EDT.
	want := []string{"2026-03-07 22:00:00+10800", "2026-03-08 01:00:00+3600", "2026-03-08 03:00:00+7200"}
	if !slices.Equal(got, want) {
		t.Errorf("requests %q, want %q", got, want)
	}
	stored := e.query(`SELECT sub_account_id, segment_id, window_start FROM {{schema}}.interaction_segments ORDER BY 1, 2, 3`)
	slices.Sort(stored)
	if served := e.servedSegments(at); !slices.Equal(stored, served) || len(served) == 0 {
		t.Errorf("%d segments stored, %d served", len(stored), len(served))
	}
}

// TestReportingNotEntitled: a sub-account without WEM Access answers 403: its reporting
// streams are recorded not_entitled after one request (the others are not sent), the run
// succeeds, and the other sub-account is read whole.
func TestReportingNotEntitled(t *testing.T) {
	t.Parallel()
	e := newReportingEnv(t, now0, engagefake.Options{NoWEMAccess: []string{"20001"}})
	subs := e.fake.SubAccountIDs()
	if subs[0] != "20001" {
		t.Fatalf("sub-accounts %v: the test refuses 20001", subs)
	}
	res := e.run(t.Context(), e.cfg(now0.Add(-6*time.Hour)))
	var refused []reportingRequest
	for _, q := range e.log.all() {
		if q.sub == subs[0] {
			refused = append(refused, q)
		}
	}
	if len(refused) != 1 {
		t.Errorf("%d requests for the sub-account without WEM Access, want 1", len(refused))
	}
	for _, sc := range res.Scopes {
		want := db.ScopeSucceeded
		if sc.SubAccountID == subs[0] {
			want = db.ScopeNotEntitled
		}
		if sc.Status != want {
			t.Errorf("scope %s/%s: %s, want %s", sc.Stream, sc.SubAccountID, sc.Status, want)
		}
	}
	st, err := e.store.StreamStatusGet(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, s := range st {
		if s.SubAccountID == subs[0] && s.NotEntitled {
			n++
		}
	}
	if n != 4 {
		t.Errorf("%d reporting streams of %s are not_entitled in stream_freshness, want 4", n, subs[0])
	}
	if !strings.Contains(e.watch.Logs.String(), "WEM Access") {
		t.Error("no log line names WEM Access")
	}
}

// TestReportingRedact: streams.redact stores ani, dnis and agent_notes as NULL and removes
// them from raw: no value of theirs is anywhere in the database.
func TestReportingRedact(t *testing.T) {
	t.Parallel()
	e := newReportingEnv(t, now0, engagefake.Options{})
	cfg := e.cfg(now0.Add(-6 * time.Hour))
	cfg.Streams = []entity.Name{entity.InteractionSegments}
	cfg.Redact = []string{"ani", "dnis", "agent_notes"}
	e.run(t.Context(), cfg)
	var values []string
	for _, sub := range e.fake.SubAccountIDs() {
		for _, s := range e.fake.Segments(sub, now0.Add(-9*time.Hour), now0) {
			var item map[string]any
			_ = json.Unmarshal(s.JSON, &item)
			for _, f := range []string{"channelEndpointAddress", "contactEndpointAddress", "channelId", "agentNotes"} {
				if v, ok := item[f].(string); ok && len(v) >= 6 {
					values = append(values, v)
				}
			}
		}
	}
	if len(values) == 0 {
		t.Fatal("the fake served no ani, dnis or notes")
	}
	if got := e.query(`SELECT count(*) FROM {{schema}}.interaction_segments WHERE ani IS NOT NULL OR dnis IS NOT NULL OR channel_id IS NOT NULL OR agent_notes IS NOT NULL`); got[0] != "0" {
		t.Errorf("%s rows keep a redacted column", got[0])
	}
	dump := e.db.Dump(t)
	for _, v := range values {
		if strings.Contains(dump, v) {
			t.Fatalf("the database holds the redacted value %q", v)
		}
	}
}

// TestReportingDaylightSavingFallBack: on the day the clocks go back (US, 2026-11-01 06:00
// UTC), a window's bound in the repeated hour is written in a zone of its fixed offset
// (Etc/GMT+4, Etc/GMT+5), since "01:00" New York would name the first of the two; every
// segment served lands once, and the statistics' windows succeed.
func TestReportingDaylightSavingFallBack(t *testing.T) {
	t.Parallel()
	ny, err := time.LoadLocation("America/New_York")
	if err != nil {
		t.Fatal(err)
	}
	at := time.Date(2026, 11, 1, 12, 0, 0, 0, time.UTC)
	e := newReportingEnv(t, at, engagefake.Options{CallDays: 1, CallsPerHour: 30})
	cfg := e.cfg(time.Date(2026, 11, 1, 3, 0, 0, 0, time.UTC))
	cfg.Streams = []entity.Name{entity.InteractionSegments, entity.AgentStats}
	cfg.Location = ny
	cfg.Backfill = &syncrun.Backfill{Since: time.Date(2026, 11, 1, 3, 0, 0, 0, time.UTC), Until: time.Date(2026, 11, 1, 9, 0, 0, 0, time.UTC)}
	e.run(t.Context(), cfg)
	sub := e.fake.SubAccountIDs()[0]
	var got []string
	for _, q := range e.log.all() {
		if q.sub == sub {
			got = append(got, fmt.Sprintf("%s %v %v %v", q.endpoint, q.body["timeZone"], q.body["segmentEndTime"], q.body["startDate"]))
		}
	}
	slices.Sort(got)
	want := []string{
		"agg-agent-stats Etc/GMT+4 <nil> 2026-10-31 23:00:00",
		"agg-agent-stats Etc/GMT+5 <nil> 2026-11-01 01:00:00",
		"interaction-metadata Etc/GMT+4 2026-10-31 23:00:00 <nil>",
		"interaction-metadata Etc/GMT+5 2026-11-01 01:00:00 <nil>",
	}
	if !slices.Equal(got, want) {
		t.Errorf("requests\n got %q\nwant %q", got, want)
	}
	stored := e.query(`SELECT sub_account_id, segment_id, window_start FROM {{schema}}.interaction_segments ORDER BY 1, 2, 3`)
	slices.Sort(stored)
	if served := e.servedSegments(at); !slices.Equal(stored, served) || len(served) == 0 {
		t.Errorf("%d segments stored, %d served", len(stored), len(served))
	}
	if n := e.query(`SELECT count(*) FROM {{schema}}.agent_stats WHERE interval_start < window_start OR interval_start >= window_start + interval '3 hours'`); n[0] != "0" {
		t.Errorf("%s agent stats rows outside their window", n[0])
	}
}
