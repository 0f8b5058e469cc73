package engageclient

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	gosync "sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/evsync/evsync/engageclient/engagefake"
)

// Tests of the integration reporting calls: the exact request bodies, the per-sub-account
// sliding-log bucket, and the streaming decode of the bare arrays they answer.

// testLimits are the documented limits (3 per 60 s, 9 per 15 min) scaled down.
var testLimits = []Limit{{Count: 3, Per: 60 * time.Millisecond}, {Count: 9, Per: 300 * time.Millisecond}}

// reportingServer serves auth and the admin API from a fake and the integration reporting
// endpoints with answer, recording each reporting request.
type reportingServer struct {
	mu   gosync.Mutex
	reqs []reportingReq
}

type reportingReq struct {
	at       time.Time
	sub      string
	endpoint string
	body     string
}

// reportingAnswer answers one reporting request of sub-account sub (n counts that
// sub-account's requests, from 1).
type reportingAnswer func(w http.ResponseWriter, r *http.Request, sub string, n int)

func newReportingServer(t *testing.T, answer reportingAnswer, mod func(*Config)) (*reportingServer, *Client) {
	t.Helper()
	fake := engagefake.New(engagefake.Options{Seed: 1, Tenant: smallTenant()})
	s := &reportingServer{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rest, ok := strings.CutPrefix(r.URL.Path, "/voice/api/cx/integration/v1/accounts/")
		if !ok {
			fake.ServeHTTP(w, r)
			return
		}
		at := time.Now()
		parts := strings.Split(rest, "/") // {rc}/sub-accounts/{sub}/{endpoint}
		body, _ := io.ReadAll(r.Body)
		s.mu.Lock()
		s.reqs = append(s.reqs, reportingReq{at: at, sub: parts[2], endpoint: parts[3], body: string(body)})
		n := 0
		for _, q := range s.reqs {
			if q.sub == parts[2] {
				n++
			}
		}
		s.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		answer(w, r, parts[2], n)
	}))
	t.Cleanup(srv.Close)
	cfg := Config{RCServerURL: srv.URL, EngageServerURL: srv.URL, ClientID: engagefake.ClientIDDefault,
		ClientSecret: engagefake.ClientSecretDefault, JWT: engagefake.JWTDefault, RequestsPerMinute: 60000,
		BackoffBase: time.Millisecond, BackoffCap: 5 * time.Millisecond, MaxAttempts: 3, ReportingLimits: testLimits}
	if mod != nil {
		mod(&cfg)
	}
	c, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	// Log in now, so that the token's grant and exchange take no time of the tests' pacing.
	if _, err := c.Login(t.Context()); err != nil {
		t.Fatal(err)
	}
	return s, c
}

func (s *reportingServer) requests() []reportingReq {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]reportingReq(nil), s.reqs...)
}

// sendTimes are the times the server received sub-account sub's requests, in order.
func (s *reportingServer) sendTimes(sub string) []time.Time {
	var out []time.Time
	for _, q := range s.requests() {
		if q.sub == sub {
			out = append(out, q.at)
		}
	}
	slices.SortFunc(out, time.Time.Compare) // the handlers append in the order they take the lock
	return out
}

func answerJSON(body string) reportingAnswer {
	return func(w http.ResponseWriter, _ *http.Request, _ string, _ int) { fmt.Fprint(w, body) }
}

// readAll ranges over it (a Read call's results), failing the test on an error:
// readAll(c.ReadAgentStats(…))(t).
func readAll[T any](it *Items[T], err error) func(t *testing.T) []*T {
	return func(t *testing.T) []*T {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		var out []*T
		for v, err := range it.All() {
			if err != nil {
				t.Fatal(err)
			}
			out = append(out, v)
		}
		return out
	}
}

// Each endpoint gets its path and exactly its body: interaction-metadata the window's start
// written in its zone (UTC without one), whole seconds and the zone's name; the statistics
// their StatsWindow body as before.
func TestReportingRequestBodies(t *testing.T) {
	t.Parallel()
	s, c := newReportingServer(t, answerJSON(`[]`), nil)
	eastern, err := time.LoadLocation("US/Eastern")
	if err != nil {
		t.Fatal(err)
	}
	start := time.Date(2022, 10, 20, 11, 40, 0, 0, time.UTC) // 07:40 in New York
	stats := &StatsWindow{Start: start, End: start.Add(3 * time.Hour), Interval: 30 * time.Minute, Location: eastern}
	const statsBody = `{"startDate":"2022-10-20 07:40:00","endDate":"2022-10-20 10:40:00","timeInterval":1800,"timeZone":"US/Eastern"}`
	ctx := t.Context()
	readAll(c.ReadInteractionSegments(ctx, "980634004", "20001", &SegmentsWindow{Start: start, Interval: 10 * time.Minute, Location: eastern}))(t)
	readAll(c.ReadInteractionSegments(ctx, "980634004", "20001", &SegmentsWindow{Start: start, Interval: 3 * time.Hour}))(t)
	readAll(c.ReadQueueStats(ctx, "980634004", "20001", stats))(t)
	readAll(c.ReadAgentStats(ctx, "980634004", "20001", stats))(t)
	readAll(c.ReadAgentQueueStats(ctx, "980634004", "20001", stats))(t)
	var got []string
	for _, q := range s.requests() {
		got = append(got, q.endpoint+" "+q.body)
	}
	want := []string{
		`interaction-metadata {"segmentEndTime":"2022-10-20 07:40:00","timeInterval":600,"timeZone":"US/Eastern"}`,
		`interaction-metadata {"segmentEndTime":"2022-10-20 11:40:00","timeInterval":10800,"timeZone":"UTC"}`,
		"agg-queue-stats " + statsBody,
		"agg-agent-stats " + statsBody,
		"agg-agent-extended-stats " + statsBody,
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("requests (-want +got):\n%s", diff)
	}
	// Windows and ids the API would refuse are not sent.
	for _, w := range []SegmentsWindow{
		{Interval: time.Hour},
		{Start: start, Interval: 0},
		{Start: start, Interval: 3*time.Hour + time.Second},
		{Start: start, Interval: 1500 * time.Millisecond},
	} {
		if _, err := c.ReadInteractionSegments(ctx, "980634004", "20001", &w); err == nil {
			t.Errorf("ReadInteractionSegments(%+v) = nil error, want one", w)
		}
	}
	if _, err := c.ReadInteractionSegments(ctx, "980634004", "20001", nil); err == nil {
		t.Error("ReadInteractionSegments without a window = nil error, want one")
	}
	if _, err := c.ReadAgentStats(ctx, "", "20001", stats); err == nil {
		t.Error("ReadAgentStats without an rcAccountId = nil error, want one")
	}
	if _, err := c.ReadAgentQueueStats(ctx, "980634004", "..", stats); err == nil {
		t.Error(`ReadAgentQueueStats of sub-account ".." = nil error, want one`)
	}
	if n := len(s.requests()); n != len(want) {
		t.Errorf("%d requests, want %d", n, len(want))
	}
	if st := c.Stats(); st.ReportingRequests != int64(len(want)) || st.Requests < st.ReportingRequests {
		t.Errorf("stats: %d reporting requests of %d, want %d of at least as many", st.ReportingRequests, st.Requests, len(want))
	}
}

// checkLimits fails unless times (ascending) keep every limit: no interval of length Per holds
// more than Count of them, give or take slack.
func checkLimits(t *testing.T, what string, times []time.Time, limits []Limit, slack time.Duration) {
	t.Helper()
	for _, l := range limits {
		for i := 0; i+l.Count < len(times); i++ {
			if d := times[i+l.Count].Sub(times[i]); d < l.Per-slack {
				t.Errorf("%s: requests %d and %d arrived %s apart: %d requests within %s, limit %d per %s",
					what, i, i+l.Count, d, l.Count+1, l.Per, l.Count, l.Per)
			}
		}
	}
}

// sendRecorder is a transport that records when each integration reporting request of a
// sub-account starts its round trip: the client's send time.
type sendRecorder struct {
	mu gosync.Mutex
	at map[string][]time.Time
}

func (sr *sendRecorder) RoundTrip(r *http.Request) (*http.Response, error) {
	if rest, ok := strings.CutPrefix(r.URL.Path, "/voice/api/cx/integration/v1/accounts/"); ok {
		sub := strings.Split(rest, "/")[2]
		sr.mu.Lock()
		sr.at[sub] = append(sr.at[sub], time.Now())
		sr.mu.Unlock()
	}
	return http.DefaultTransport.RoundTrip(r)
}

func (sr *sendRecorder) times(sub string) []time.Time {
	sr.mu.Lock()
	defer sr.mu.Unlock()
	return slices.SortedFunc(slices.Values(sr.at[sub]), time.Time.Compare)
}

// Many goroutines' requests of two sub-accounts at once: each sub-account's requests keep both
// limits in every window, as the client sent them and as the server received them, and the two
// buckets run side by side (both finish in about the time one alone takes), while the admin
// limiter (1 request a second here) and the admin concurrency bound (1) would allow only a few.
func TestReportingBucketKeepsEveryLimit(t *testing.T) {
	t.Parallel()
	limits := []Limit{{Count: 3, Per: 100 * time.Millisecond}, {Count: 9, Per: 500 * time.Millisecond}}
	sent := &sendRecorder{at: map[string][]time.Time{}}
	s, c := newReportingServer(t, answerJSON(`[]`), func(c *Config) {
		c.RequestsPerMinute, c.Concurrency, c.ReportingLimits = 60, 1, limits
		c.HTTPClient = &http.Client{Transport: sent}
	})
	const perSub = 12
	subs := []string{"20001", "20002"}
	start := time.Now()
	var wg gosync.WaitGroup
	for _, sub := range subs {
		for range perSub {
			wg.Go(func() {
				it, err := c.ReadQueueStats(t.Context(), "980634004", sub, &StatsWindow{Start: start.Add(-time.Hour), End: start, Interval: time.Hour})
				if err != nil {
					t.Error(err)
					return
				}
				_ = it.Close()
			})
		}
	}
	wg.Wait()
	elapsed := time.Since(start)
	for _, sub := range subs {
		// The client's send times keep the limits but for the moment between taking a slot and
		// starting the round trip; the server's receive times also vary with the loopback's
		// latency, a few milliseconds on a busy machine. A bucket that let a burst through
		// would put 4 requests within a few milliseconds.
		checkLimits(t, "sent by sub-account "+sub, sent.times(sub), limits, 3*time.Millisecond)
		times := s.sendTimes(sub)
		if len(times) != perSub {
			t.Fatalf("sub-account %s: %d requests, want %d", sub, len(times), perSub)
		}
		checkLimits(t, "received of sub-account "+sub, times, limits, 20*time.Millisecond)
	}
	// Alone, 12 requests take 500 ms (the 10th waits for the first to leave the 9-per-500-ms
	// window); one sub-account after the other would take twice that.
	if elapsed < 500*time.Millisecond || elapsed > 800*time.Millisecond {
		t.Errorf("both sub-accounts' %d requests took %s, want about 500 ms (side by side)", perSub, elapsed)
	}
	if st := c.Stats(); st.ReportingRequests != 2*perSub {
		t.Errorf("ReportingRequests = %d, want %d", st.ReportingRequests, 2*perSub)
	}
}

// One sub-account's full bucket does not delay another's requests: while 20001 waits for its
// bucket, two other sub-accounts' requests go at once, and 20001's goes when its bucket allows.
func TestReportingBucketsAreIndependent(t *testing.T) {
	t.Parallel()
	s, c := newReportingServer(t, answerJSON(`[]`), func(c *Config) {
		c.ReportingLimits = []Limit{{Count: 1, Per: 500 * time.Millisecond}}
	})
	seeded := time.Now()
	c.ReportingSeed("20001", []time.Time{seeded})
	if d := c.ReportingWait("20001"); d < 450*time.Millisecond {
		t.Fatalf("ReportingWait(20001) = %s after a send, want about 500ms", d)
	}
	done := make(chan error, 1)
	go func() {
		it, err := c.ReadAgentStats(t.Context(), "980634004", "20001", &StatsWindow{Start: time.Now().Add(-time.Hour), End: time.Now(), Interval: time.Hour})
		if err == nil {
			err = it.Close()
		}
		done <- err
	}()
	start := time.Now()
	for _, sub := range []string{"20002", "20003"} {
		if got := readAll(c.ReadAgentStats(t.Context(), "980634004", sub, &StatsWindow{Start: start.Add(-time.Hour), End: start, Interval: time.Hour}))(t); len(got) != 0 {
			t.Errorf("%d rows, want none", len(got))
		}
	}
	if d := time.Since(start); d > 200*time.Millisecond {
		t.Errorf("two other sub-accounts' requests took %s while 20001 waited, want no wait", d)
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if got := s.sendTimes("20001"); len(got) != 1 || got[0].Sub(seeded) < 500*time.Millisecond {
		t.Errorf("20001's request sent at %v, want one 500ms after the seeded send at %v", got, seeded)
	}
}

// A 429 with a Retry-After pauses its sub-account's bucket only: the request waits it out and
// succeeds, another sub-account's request goes at once meanwhile, and the admin pause is not
// touched (an admin listing goes at once, Stats.Wait stays zero). A Retry-After beyond
// MaxRetryWait fails the request, and the next of its sub-account unsent, with a
// *RateLimitError.
func TestReporting429PausesOnlyItsBucket(t *testing.T) {
	t.Parallel()
	retrying := &signalHandler{msg: "engage: retrying request", ch: make(chan struct{})}
	s, c := newReportingServer(t, func(w http.ResponseWriter, _ *http.Request, sub string, n int) {
		switch {
		case sub == "20001" && n == 1:
			w.Header().Set("Retry-After", "0.5")
			w.WriteHeader(http.StatusTooManyRequests)
			fmt.Fprint(w, `{"generalMessage":"Rate limit exceeded"}`)
		case sub == "20003":
			w.Header().Set("Retry-After", "3600")
			w.WriteHeader(http.StatusTooManyRequests)
		default:
			fmt.Fprint(w, `[]`)
		}
	}, func(c *Config) { c.MaxRetryWait, c.Logger = time.Minute, slog.New(retrying) })
	win := &StatsWindow{Start: time.Now().Add(-time.Hour), End: time.Now(), Interval: time.Hour}
	done := make(chan error, 1)
	start := time.Now()
	go func() {
		it, err := c.ReadQueueStats(t.Context(), "980634004", "20001", win)
		if err == nil {
			err = it.Close()
		}
		done <- err
	}()
	<-retrying.ch // the 429 is in: the retry is about to wait
	if d := c.ReportingWait("20001"); d < 300*time.Millisecond || d > 500*time.Millisecond {
		t.Errorf("ReportingWait(20001) = %s after a 429 asking 0.5s, want about 0.5s", d)
	}
	other := time.Now()
	readAll(c.ReadQueueStats(t.Context(), "980634004", "20002", win))(t)
	if _, _, err := c.ListAccounts(t.Context()); err != nil {
		t.Fatal(err)
	}
	if d := time.Since(other); d > 200*time.Millisecond {
		t.Errorf("another sub-account's request and an admin listing took %s during the pause, want no wait", d)
	}
	if w := c.Stats().Wait; w != (Wait{}) || c.paused() > 0 {
		t.Errorf("admin pause %+v after a reporting 429, want none", w)
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if d := time.Since(start); d < 450*time.Millisecond {
		t.Errorf("the 429's request succeeded after %s, want after its 0.5s Retry-After", d)
	}
	if n := len(s.sendTimes("20001")); n != 2 {
		t.Errorf("20001: %d requests, want 2 (the 429 and its retry)", n)
	}

	// A pause longer than MaxRetryWait: no retry, and the next request is not sent.
	_, err := c.ReadQueueStats(t.Context(), "980634004", "20003", win)
	var rl *RateLimitError
	if !errors.As(err, &rl) || rl.RetryAfter != time.Hour || rl.Unsent {
		t.Fatalf("err = %v, want the 429's *RateLimitError asking an hour", err)
	}
	if d := c.ReportingWait("20003"); d < 59*time.Minute {
		t.Errorf("ReportingWait(20003) = %s, want about an hour", d)
	}
	_, err = c.ReadQueueStats(t.Context(), "980634004", "20003", win)
	if !errors.As(err, &rl) || !rl.Unsent {
		t.Errorf("err = %v, want an unsent *RateLimitError", err)
	}
	if n := len(s.sendTimes("20003")); n != 1 {
		t.Errorf("20003: %d requests, want 1", n)
	}
	if w := c.Stats().Wait; w != (Wait{}) || c.paused() > 0 {
		t.Errorf("admin pause %+v after a reporting 429, want none", w)
	}
}

// signalHandler closes ch when a record with message msg is logged.
type signalHandler struct {
	msg  string
	ch   chan struct{}
	once gosync.Once
}

func (h *signalHandler) Enabled(context.Context, slog.Level) bool { return true }
func (h *signalHandler) WithAttrs([]slog.Attr) slog.Handler       { return h }
func (h *signalHandler) WithGroup(string) slog.Handler            { return h }
func (h *signalHandler) Handle(_ context.Context, r slog.Record) error {
	if r.Message == h.msg {
		h.once.Do(func() { close(h.ch) })
	}
	return nil
}

// ReportingWait and ReportingSpan simulate the sliding log at the documented limits: with
// sends 50, 40 and 30 s ago, the next may go in 10 s, the three after it 60 s after each of
// those, and the 10th send of the 15 minutes waits for the first to leave them; each limit's
// period with the bucket's margin (2%: 61.2 s and 918 s).
func TestReportingWaitAndSpan(t *testing.T) {
	t.Parallel()
	c, err := New(Config{ClientID: "id", ClientSecret: "secret", JWT: "jwt"})
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	c.ReportingSeed("20001", []time.Time{now.Add(-30 * time.Second), now.Add(-50 * time.Second), now.Add(-40 * time.Second),
		now.Add(-16 * time.Minute)}) // the last is too old to count
	near := func(what string, got, want time.Duration) {
		t.Helper()
		if d := got - want; d < -time.Second || d > time.Second {
			t.Errorf("%s = %s, want %s", what, got, want)
		}
	}
	near("ReportingWait", c.ReportingWait("20001"), 11200*time.Millisecond)
	for n, want := range map[int]time.Duration{
		0: 0,
		1: 11200 * time.Millisecond,
		2: 21200 * time.Millisecond,
		3: 31200 * time.Millisecond,
		4: 72400 * time.Millisecond, // 61.2 s after the first of the three before it
		6: 92400 * time.Millisecond, // six new sends and three seeded: the 15 minutes' nine
		7: 868 * time.Second,
	} {
		near(fmt.Sprintf("ReportingSpan(%d)", n), c.ReportingSpan("20001", n), want)
	}
	if d := c.ReportingWait("20002"); d != 0 {
		t.Errorf("ReportingWait of a sub-account never sent to = %s, want 0", d)
	}
	near("ReportingSpan(4) of a fresh bucket", c.ReportingSpan("20002", 4), 61200*time.Millisecond)
	c.ReportingSeed("20003", []time.Time{now.Add(-20 * time.Minute), now.Add(-19 * time.Minute), now.Add(-18 * time.Minute)})
	if d := c.ReportingWait("20003"); d != 0 {
		t.Errorf("ReportingWait after old sends only = %s, want 0", d)
	}
}

// A request whose bucket wait cannot end before the context's deadline fails at once, unsent,
// with context.DeadlineExceeded, instead of sleeping into the deadline.
func TestReportingWaitBeyondDeadlineFailsAtOnce(t *testing.T) {
	t.Parallel()
	s, c := newReportingServer(t, answerJSON(`[]`), func(c *Config) { c.ReportingLimits = []Limit{{Count: 1, Per: time.Hour}} })
	c.ReportingSeed("20001", []time.Time{time.Now()})
	ctx, cancel := context.WithTimeout(t.Context(), 500*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := c.ReadInteractionSegments(ctx, "980634004", "20001", &SegmentsWindow{Start: start.Add(-time.Hour), Interval: time.Hour})
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("err = %v, want context.DeadlineExceeded", err)
	}
	if d := time.Since(start); d > 100*time.Millisecond {
		t.Errorf("failed after %s, want at once", d)
	}
	if n := len(s.requests()); n != 0 {
		t.Errorf("%d requests sent, want none", n)
	}
}

// A 401 is replayed once with a renewed token, and the replay takes a slot of the bucket like
// any request.
func TestReportingReplayTakesASlot(t *testing.T) {
	t.Parallel()
	s, c := newReportingServer(t, func(w http.ResponseWriter, _ *http.Request, _ string, n int) {
		if n == 1 {
			w.WriteHeader(http.StatusUnauthorized)
			fmt.Fprint(w, "Jwt is expired")
			return
		}
		fmt.Fprint(w, `[]`)
	}, func(c *Config) { c.ReportingLimits = []Limit{{Count: 2, Per: time.Hour}} })
	readAll(c.ReadQueueStats(t.Context(), "980634004", "20001", &StatsWindow{Start: time.Now().Add(-time.Hour), End: time.Now(), Interval: time.Hour}))(t)
	if n := len(s.requests()); n != 2 {
		t.Errorf("%d requests, want the 401 and its replay", n)
	}
	if d := c.ReportingWait("20001"); d < 59*time.Minute {
		t.Errorf("ReportingWait = %s, want about an hour (both slots taken)", d)
	}
	if st := c.Stats(); st.ReportingRequests != 2 {
		t.Errorf("ReportingRequests = %d, want 2", st.ReportingRequests)
	}
}

// A response being read holds no admin concurrency slot: with Concurrency 1, an admin listing
// goes while a reporting body is open.
func TestReportingHoldsNoAdminSlot(t *testing.T) {
	t.Parallel()
	_, c := newReportingServer(t, answerJSON(`[{"queue":1}]`), func(c *Config) { c.Concurrency = 1 })
	it, err := c.ReadQueueStats(t.Context(), "980634004", "20001", &StatsWindow{Start: time.Now().Add(-time.Hour), End: time.Now(), Interval: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	defer it.Close()
	ctx, cancel := context.WithTimeout(t.Context(), time.Second)
	defer cancel()
	if _, _, err := c.ListAccounts(ctx); err != nil {
		t.Errorf("admin listing while a reporting body is open: %v", err)
	}
}

// countingTransport counts the bytes the client has read of each response body and whether it
// was closed.
type countingTransport struct {
	read   atomic.Int64
	closed atomic.Bool
}

func (ct *countingTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	resp, err := http.DefaultTransport.RoundTrip(r)
	if err == nil && strings.Contains(r.URL.Path, "/cx/integration/") {
		resp.Body = &countingBody{ReadCloser: resp.Body, ct: ct}
	}
	return resp, err
}

type countingBody struct {
	io.ReadCloser
	ct *countingTransport
}

func (b *countingBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	b.ct.read.Add(int64(n))
	return n, err
}

func (b *countingBody) Close() error {
	b.ct.closed.Store(true)
	return b.ReadCloser.Close()
}

// segmentItem is generated segment i, about 400 bytes.
func segmentItem(i int) string {
	return fmt.Sprintf(`{"subAccountId":"20001","dialogId":"s-v-%032d","interactionId":"2024072219281720350200%08d","channelType":"VOICE",`+
		`"channelClass":"VOICE","channelEndpointAddress":"7312066731","contactEndpointAddress":"2013770791","dialogOrigination":"INBOUND",`+
		`"dialogStartTimeMs":"2024-07-22T11:24:40.000Z","dialogDurationMs":7000,"segmentId":"p-v-%d","segmentType":"AGENT",`+
		`"segmentParticipantId":"449438","hasRecording":true,"hasTranscript":false}`, i, i, i)
}

// A 50,000-item answer is decoded as it arrives: when the first item is yielded the client has
// read a few kilobytes of the ~20 MB body, and at every item no more than a buffer beyond it.
func TestReportingStreamsLargeArray(t *testing.T) {
	t.Parallel()
	const n = 50_000
	ct := &countingTransport{}
	_, c := newReportingServer(t, func(w http.ResponseWriter, _ *http.Request, _ string, _ int) {
		fmt.Fprint(w, "[")
		for i := range n {
			if i > 0 {
				fmt.Fprint(w, ",\n")
			}
			fmt.Fprint(w, segmentItem(i))
		}
		fmt.Fprint(w, "]")
	}, func(c *Config) { c.HTTPClient = &http.Client{Transport: ct} })
	it, err := c.ReadInteractionSegments(t.Context(), "980634004", "20001", &SegmentsWindow{Start: time.Now().Add(-time.Hour), Interval: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	const ahead = 64 << 10 // the decoder's buffer and the transport's, generously
	var offset int64 = 1   // the bytes of the items yielded so far, with their separators
	i := 0
	for seg, err := range it.All() {
		if err != nil {
			t.Fatalf("item %d: %v", i, err)
		}
		if want := fmt.Sprintf("p-v-%d", i); seg.SegmentID != want {
			t.Fatalf("item %d: segmentId %q, want %q", i, seg.SegmentID, want)
		}
		offset += int64(len(segmentItem(i)) + 2)
		if read := ct.read.Load(); read > offset+ahead {
			t.Fatalf("at item %d the client had read %d bytes, the item ends at %d: the body is read ahead, not streamed", i, read, offset)
		}
		i++
	}
	if i != n {
		t.Errorf("%d items, want %d", i, n)
	}
	if !ct.closed.Load() {
		t.Error("body not closed after the range")
	}
}

// A break ends the range and closes the body; Close after it and twice is harmless, and a
// second range yields an error.
func TestReportingBreakClosesBody(t *testing.T) {
	t.Parallel()
	ct := &countingTransport{}
	_, c := newReportingServer(t, answerJSON(`[{"agentId":1},{"agentId":2},{"agentId":3}]`), func(c *Config) { c.HTTPClient = &http.Client{Transport: ct} })
	it, err := c.ReadAgentStats(t.Context(), "980634004", "20001", &StatsWindow{Start: time.Now().Add(-time.Hour), End: time.Now(), Interval: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	for a, err := range it.All() {
		if err != nil || a.AgentID != 1 {
			t.Fatalf("first item %+v, %v; want agent 1", a, err)
		}
		break
	}
	if !ct.closed.Load() {
		t.Error("body not closed after a break")
	}
	if err := it.Close(); err != nil {
		t.Errorf("Close after the range: %v", err)
	}
	if err := it.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
	for _, err := range it.All() {
		if err == nil {
			t.Error("a second range yielded an item, want an error")
		}
	}
}

// An item that cannot be decoded mid-stream ends the range with a *DecodeError naming its
// index and field; so does an array cut short or a body that is not an array.
func TestReportingMalformedItems(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, body string
		good       int    // items yielded before the error
		index      int    // the bad item's index, -1 for an error of the array
		want       string // in the error's text
	}{
		{"bad value", `[{"agentId":1,"queue":2},null,{"agentId":3,"queue":4},{"agentId":5,"queue":"six"}]`, 2, 3, "item 3: queue:"},
		{"missing key", `[{"agentId":1,"queue":2},{"agentId":3}]`, 1, 1, "item 1: queue is missing"},
		{"not an object", `[{"agentId":1,"queue":2},[1]]`, 1, 1, "item 1: expected a JSON object"},
		{"truncated", `[{"agentId":1,"queue":2},{"agentId":3,"qu`, 1, -1, "item 1: unexpected EOF"},
		{"unclosed", `[{"agentId":1,"queue":2}`, 1, -1, "end of the array"},
		{"an object", `{"generalMessage":"no"}`, 0, -1, "expected a JSON array, got an object"},
		{"invalid", `[{"agentId":1,"queue":2},}`, 1, -1, "item 1: invalid character"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, c := newReportingServer(t, answerJSON(tt.body), nil)
			it, err := c.ReadAgentQueueStats(t.Context(), "980634004", "20001", &StatsWindow{Start: time.Now().Add(-time.Hour), End: time.Now(), Interval: time.Hour})
			if err != nil {
				t.Fatal(err)
			}
			good, errs := 0, 0
			var last error
			for v, err := range it.All() {
				switch {
				case err != nil:
					errs++
					last = err
				case errs > 0:
					t.Errorf("an item after the error: %+v", v)
				default:
					good++
				}
			}
			var de *DecodeError
			if good != tt.good || errs != 1 || !errors.As(last, &de) || !strings.Contains(last.Error(), tt.want) ||
				!strings.Contains(de.Endpoint, "/agg-agent-extended-stats") {
				t.Fatalf("%d items then %d errors, last %v; want %d items and one *DecodeError with %q", good, errs, last, tt.good, tt.want)
			}
			var ie *ItemsError
			if got := errors.As(last, &ie); got != (tt.index >= 0) || got && (len(ie.Items) != 1 || ie.Items[0].Index != tt.index) {
				t.Errorf("*ItemsError %v, want one naming item %d", ie, tt.index)
			}
		})
	}
}

// ListQueueStats collects past an item that cannot be decoded: the others come with an
// *ItemsError naming it.
func TestListQueueStatsKeepsGoodRows(t *testing.T) {
	t.Parallel()
	_, c := newReportingServer(t, answerJSON(`[{"queue":1},{"queueName":"x"},{"queue":"3"}]`), nil)
	got, resp, err := c.ListQueueStats(t.Context(), "980634004", "20001", &StatsWindow{Start: time.Now().Add(-time.Hour), End: time.Now(), Interval: time.Hour})
	var ie *ItemsError
	if !errors.As(err, &ie) || len(ie.Items) != 1 || ie.Items[0].Index != 1 {
		t.Errorf("err = %v, want an *ItemsError naming item 1", err)
	}
	if len(got) != 2 || got[0].QueueID != 1 || got[1].QueueID != 3 || resp == nil || resp.StatusCode != 200 {
		t.Errorf("rows %+v, response %v; want queues 1 and 3", got, resp)
	}
}

// The spec's response examples decode to their fields.
func TestReportingSpecExamples(t *testing.T) {
	t.Parallel()
	const segment = `[{"subAccountId":"99999999","dialogId":"s-v-93bd0e6f0f0a479ea8025fe8f8ec3e1d-1721690897808",
 "interactionId":"202407221928172035020000000572","channelType":"VOICE","channelClass":"VOICE",
 "channelEndpointAddress":"7312066731","contactEndpointAddress":"2013770791","dialogOrigination":"INBOUND",
 "dialogStartTimeMs":"2024-07-22T11:24:40.000Z","dialogDurationMs":7000,
 "segmentId":"p-v-93bd0e6f0f0a479ea8025fe8f8ec3e1d-1721690897808-190dcc63d90ab","segmentType":"AGENT",
 "segmentParticipantId":"449438","segmentParticipantRcExtensionId":"985901004","segmentAgentGroupId":"76873",
 "systemDisposition":"ANSWER","agentDisposition":"Success","agentNotes":"requeue to others",
 "hasRecording":true,"hasTranscript":true,"segmentEvents":[{"eventTimeMs":"2024-07-22T11:24:40.000Z","eventType":"REC_START"}]},
 {"segmentId":7,"dialogStartTimeMs":1721647480000,"dialogEndTimeMs":null,"segmentDurationMs":"250","hasRecording":null,"segmentParticipantId":449438}]`
	const agent = `[{"interval":60,"dateTimeFrom":"03-04-2024T08:00:00","agentId":33,"agentName":"test number, aws91-l22-engage","availDur":3376,
 "totWorkDur":3376,"pauseDur":900,"waitDur":2476,"adminDur":0,"directOutIxnCnt":0,"directInIxnCnt":0,"directInIxnDur":0}]`
	const agentQueue = `[{"interval":60,"dateTimeFrom":"03-04-2024T05:00:00","agentId":1,"agentName":"aws93-l13-las01 test number","queue":5682,
 "queueName":"Queue","talkingIxnDur":56,"wrapUpDur":0,"answIxnCnt":1,"transferOutIxnCnt":4}]`
	const queue = `[{"dateTimeFrom":"03-04-2024T01:00:00","interval":60,"queue":5686,"queueName":"Queue","offdDirectIxnCnt":3,"answIxnCnt":3}]`
	_, c := newReportingServer(t, func(w http.ResponseWriter, r *http.Request, _ string, _ int) {
		switch {
		case strings.HasSuffix(r.URL.Path, "/interaction-metadata"):
			fmt.Fprint(w, segment)
		case strings.HasSuffix(r.URL.Path, "/agg-agent-stats"):
			fmt.Fprint(w, agent)
		case strings.HasSuffix(r.URL.Path, "/agg-agent-extended-stats"):
			fmt.Fprint(w, agentQueue)
		default:
			fmt.Fprint(w, queue)
		}
	}, func(c *Config) { c.ReportingLimits = []Limit{{Count: 10, Per: time.Millisecond}} })
	ctx := t.Context()
	win := &StatsWindow{Start: time.Now().Add(-time.Hour), End: time.Now(), Interval: time.Hour}

	segs := readAll(c.ReadInteractionSegments(ctx, "980634004", "20001", &SegmentsWindow{Start: time.Now().Add(-time.Hour), Interval: time.Hour}))(t)
	if len(segs) != 2 {
		t.Fatalf("%d segments, want 2", len(segs))
	}
	start := time.Date(2024, 7, 22, 11, 24, 40, 0, time.UTC)
	wantSeg := InteractionSegment{
		SegmentID: "p-v-93bd0e6f0f0a479ea8025fe8f8ec3e1d-1721690897808-190dcc63d90ab", SubAccountID: ptr("99999999"),
		DialogID: ptr("s-v-93bd0e6f0f0a479ea8025fe8f8ec3e1d-1721690897808"), InteractionID: ptr("202407221928172035020000000572"),
		ChannelType: ptr("VOICE"), ChannelClass: ptr("VOICE"), ChannelEndpointAddress: ptr("7312066731"),
		ContactEndpointAddress: ptr("2013770791"), DialogOrigination: ptr("INBOUND"), DialogStart: &start, DialogDurationMs: ptr[int64](7000),
		SegmentType: ptr("AGENT"), SegmentParticipantID: ptr("449438"), SegmentParticipantRCExtensionID: ptr("985901004"),
		SegmentAgentGroupID: ptr("76873"), SystemDisposition: ptr("ANSWER"), AgentDisposition: ptr("Success"),
		AgentNotes: ptr("requeue to others"), HasRecording: ptr(true), HasTranscript: ptr(true),
	}
	if !json.Valid(segs[0].Raw) || !strings.Contains(string(segs[0].Raw), `"eventType":"REC_START"`) {
		t.Errorf("Raw %s, want the object with its segmentEvents", segs[0].Raw)
	}
	segs[0].Raw = nil
	if diff := cmp.Diff(wantSeg, *segs[0]); diff != "" {
		t.Errorf("segment (-want +got):\n%s", diff)
	}
	// [I] tolerance: numbers for strings, epoch milliseconds for dates, strings for numbers.
	wantTolerant := InteractionSegment{SegmentID: "7", DialogStart: &start, SegmentDurationMs: ptr[int64](250), SegmentParticipantID: ptr("449438")}
	segs[1].Raw = nil
	if diff := cmp.Diff(wantTolerant, *segs[1]); diff != "" {
		t.Errorf("tolerant segment (-want +got):\n%s", diff)
	}

	agents := readAll(c.ReadAgentStats(ctx, "980634004", "20001", win))(t)
	if len(agents) != 1 {
		t.Fatalf("%d agent rows, want 1", len(agents))
	}
	if a := agents[0]; a.DateTimeFrom != "03-04-2024T08:00:00" || *a.Interval != 60 || a.AgentID != 33 ||
		*a.AgentName != "test number, aws91-l22-engage" || !strings.Contains(string(a.Raw), `"availDur":3376`) {
		t.Errorf("agent row %+v", a)
	}
	aq := readAll(c.ReadAgentQueueStats(ctx, "980634004", "20001", win))(t)
	if len(aq) != 1 {
		t.Fatalf("%d agent queue rows, want 1", len(aq))
	}
	if a := aq[0]; a.DateTimeFrom != "03-04-2024T05:00:00" || *a.Interval != 60 || a.AgentID != 1 || a.QueueID != 5682 ||
		*a.AgentName != "aws93-l13-las01 test number" || *a.QueueName != "Queue" || !strings.Contains(string(a.Raw), `"transferOutIxnCnt":4`) {
		t.Errorf("agent queue row %+v", a)
	}
	qs := readAll(c.ReadQueueStats(ctx, "980634004", "20001", win))(t)
	if len(qs) != 1 || qs[0].QueueID != 5686 || *qs[0].QueueName != "Queue" || qs[0].DateTimeFrom != "03-04-2024T01:00:00" {
		t.Errorf("queue rows %+v", qs)
	}
}

// Retries apply until a successful response arrives (here after a 503); a connection that
// drops while the body is read ends the range with a *TransportError, not a *DecodeError.
func TestReportingRetryThenDroppedBody(t *testing.T) {
	t.Parallel()
	s, c := newReportingServer(t, func(w http.ResponseWriter, _ *http.Request, sub string, n int) {
		switch {
		case n == 1:
			w.WriteHeader(http.StatusServiceUnavailable)
		case sub == "20002":
			w.Header().Set("Content-Length", "1000")
			fmt.Fprint(w, `[{"agentId":1},{"agentId":2},{"age`)
		default:
			fmt.Fprint(w, `[{"agentId":1}]`)
		}
	}, nil)
	win := &StatsWindow{Start: time.Now().Add(-time.Hour), End: time.Now(), Interval: time.Hour}
	if got := readAll(c.ReadAgentStats(t.Context(), "980634004", "20001", win))(t); len(got) != 1 || got[0].AgentID != 1 {
		t.Errorf("rows %+v, want agent 1", got)
	}
	if n := len(s.sendTimes("20001")); n != 2 {
		t.Errorf("%d requests, want the 503 and its retry", n)
	}
	it, err := c.ReadAgentStats(t.Context(), "980634004", "20002", win)
	if err != nil {
		t.Fatal(err)
	}
	good := 0
	var last error
	for _, err := range it.All() {
		if err != nil {
			last = err
			continue
		}
		good++
	}
	var te *TransportError
	if good != 2 || !errors.As(last, &te) || te.Step != StepAPI {
		t.Errorf("%d items, then %v (%T); want 2 and a *TransportError", good, last, last)
	}
}

// BenchmarkDecodeSegments decodes a 50,000-item interaction-metadata answer through Items, as
// a stream read does (no HTTP).
func BenchmarkDecodeSegments(b *testing.B) {
	var body bytes.Buffer
	body.WriteString("[")
	for i := range 50_000 {
		if i > 0 {
			body.WriteString(",")
		}
		body.WriteString(segmentItem(i))
	}
	body.WriteString("]")
	c, err := New(Config{ClientID: "id", ClientSecret: "secret", JWT: "jwt"})
	if err != nil {
		b.Fatal(err)
	}
	r, err := c.reportingRequest("1", "2", endpointSegments, []byte(`{}`))
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(body.Len()))
	b.ReportAllocs()
	for b.Loop() {
		resp := &Response{Response: &http.Response{Body: io.NopCloser(bytes.NewReader(body.Bytes()))}, Pages: 1}
		n := 0
		for _, err := range newItems[InteractionSegment](b.Context(), c.wire, r, resp).All() {
			if err != nil {
				b.Fatal(err)
			}
			n++
		}
		if n != 50_000 {
			b.Fatalf("%d items", n)
		}
	}
}
