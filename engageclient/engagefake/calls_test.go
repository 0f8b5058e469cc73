package engagefake_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"regexp"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/evsync/evsync/engageclient/engagefake"
	"github.com/evsync/evsync/internal/testing/apispec"
)

// Tests of the generated call history and of the four reporting endpoints that serve it.

// eastern is the zone of the UIIs' first 14 digits.
var eastern = func() *time.Location {
	loc, err := time.LoadLocation("US/Eastern")
	if err != nil {
		panic(err)
	}
	return loc
}()

// reportingPath is the path of a reporting endpoint ("interaction-metadata", "agg-agent-stats", ...).
func reportingPath(rc, sub, name string) string {
	return "/voice/api/cx/integration/v1/accounts/" + rc + "/sub-accounts/" + sub + "/" + name
}

// metadataBody is an interaction-metadata body for the window [from, from+secs) in loc.
func metadataBody(from time.Time, secs int, loc *time.Location) string {
	return fmt.Sprintf(`{"segmentEndTime":%q,"timeInterval":%d,"timeZone":%q}`, from.In(loc).Format("2006-01-02 15:04:05"), secs, loc.String())
}

// statsBody is an aggregate stats body for [from, to) in loc.
func statsBody(from, to time.Time, secs int, loc *time.Location) string {
	const l = "2006-01-02 15:04:05"
	return fmt.Sprintf(`{"startDate":%q,"endDate":%q,"timeInterval":%d,"timeZone":%q}`, from.In(loc).Format(l), to.In(loc).Format(l), secs, loc.String())
}

// reportingSetup starts a fake with opts (its clock the test clock), logs in and returns the
// first sub-account and its rcAccountId.
func reportingSetup(t *testing.T, opts engagefake.Options) (s *engagefake.Server, base, tok, sub, rc string) {
	t.Helper()
	s, base = start(t, opts)
	tok, _ = login(t, base)
	sub, rc = rcAccountID(t, base, tok)
	return s, base, tok, sub, rc
}

// The same seed and clock serve the same bytes; another seed other ones.
func TestCallHistoryDeterministic(t *testing.T) {
	t.Parallel()
	clock := newClock()
	from := clock.Now().Truncate(time.Hour).Add(-6 * time.Hour)
	bodies := func(seed int64) []string {
		_, base, tok, sub, rc := reportingSetup(t, engagefake.Options{Seed: seed, Now: clock.Now, ReportingUnlimited: true})
		var out []string
		for _, name := range []string{"interaction-metadata", "agg-queue-stats", "agg-agent-stats", "agg-agent-extended-stats"} {
			body := statsBody(from, from.Add(3*time.Hour), 3600, time.UTC)
			if name == "interaction-metadata" {
				body = metadataBody(from, 10800, time.UTC)
			}
			r := sendJSON(t, http.MethodPost, base+reportingPath(rc, sub, name), tok, body)
			if r.status != http.StatusOK || len(r.body) < 100 {
				t.Fatalf("%s: %d %s", name, r.status, truncate(r.body))
			}
			out = append(out, string(r.body))
		}
		return out
	}
	a, b, c := bodies(41), bodies(41), bodies(42)
	for i := range a {
		if a[i] != b[i] {
			t.Errorf("answer %d differs between two servers of one seed", i)
		}
		if a[i] == c[i] {
			t.Errorf("answer %d is the same for another seed", i)
		}
	}
}

// interaction-metadata serves the segments whose segmentEndTimeMs is in [segmentEndTime,
// segmentEndTime + timeInterval) read in timeZone, in end order, as Segments lists them; two
// adjacent windows hold the segments of their union exactly once; a segment's participant is
// an agent of the sub-account with the listing's rcUserId and agent group.
func TestInteractionMetadataWindow(t *testing.T) {
	t.Parallel()
	clock := newClock()
	s, base, tok, sub, rc := reportingSetup(t, engagefake.Options{Seed: 43, Now: clock.Now, ReportingUnlimited: true, CallsPerHour: 40})
	eastern, err := time.LoadLocation("US/Eastern")
	if err != nil {
		t.Fatal(err)
	}
	from := time.Date(2026, 1, 1, 10, 30, 0, 0, eastern) // 15:30 UTC
	fetch := func(from time.Time, secs int) []map[string]any {
		t.Helper()
		r := sendJSON(t, http.MethodPost, base+reportingPath(rc, sub, "interaction-metadata"), tok, metadataBody(from, secs, eastern))
		if r.status != http.StatusOK {
			t.Fatalf("interaction-metadata: %d %s", r.status, r.body)
		}
		return decode[[]map[string]any](t, r)
	}
	whole := fetch(from, 7200)
	first, second := fetch(from, 3600), fetch(from.Add(time.Hour), 3600)
	if len(whole) < 60 || len(whole) != len(first)+len(second) {
		t.Fatalf("%d segments in 2 h, %d + %d in its halves", len(whole), len(first), len(second))
	}
	want := s.Segments(sub, from, from.Add(2*time.Hour))
	if len(want) != len(whole) {
		t.Fatalf("Segments lists %d, the endpoint served %d", len(want), len(whole))
	}
	agents := map[string]map[string]any{}
	for _, g := range s.AgentGroupIDs(sub) {
		for _, a := range decode[[]map[string]any](t, get(t, base+agentsPath(sub, g), tok)) {
			agents[strconv.Itoa(int(a["agentId"].(float64)))] = a
		}
	}
	prev := ""
	for i, seg := range whole {
		end, _ := seg["segmentEndTimeMs"].(string)
		at, err := time.Parse(time.RFC3339, end)
		if err != nil || at.Before(from) || !at.Before(from.Add(2*time.Hour)) || end < prev {
			t.Fatalf("segment %d ends %q (previous %q), outside [%s, +2h) or out of order", i, end, prev, from.UTC())
		}
		prev = end
		if seg["segmentId"] != want[i].SegmentID || !want[i].SegmentEnd.Equal(at) {
			t.Fatalf("segment %d is %v, Segments says %s", i, seg["segmentId"], want[i].SegmentID)
		}
		var raw map[string]any
		if err := json.Unmarshal(want[i].JSON, &raw); err != nil || raw["segmentId"] != seg["segmentId"] {
			t.Fatalf("Segment.JSON of %d is not what was served: %s", i, want[i].JSON)
		}
		if seg["subAccountId"] != sub || !strings.HasPrefix(seg["segmentId"].(string), "p-v-") && seg["channelClass"] == "VOICE" {
			t.Errorf("segment %d: subAccountId %v, segmentId %v", i, seg["subAccountId"], seg["segmentId"])
		}
		uii, _ := seg["interactionId"].(string)
		started, _ := time.Parse(time.RFC3339, seg["dialogStartTimeMs"].(string))
		if len(uii) != 30 || uii[:14] != started.In(eastern).Format("20060102150405") {
			t.Errorf("segment %d: interactionId %q does not begin with its start %s", i, uii, started)
		}
		if seg["segmentType"] != "AGENT" {
			continue
		}
		a := agents[seg["segmentParticipantId"].(string)]
		if a == nil {
			t.Fatalf("segment %d: participant %v is no agent of %s", i, seg["segmentParticipantId"], sub)
		}
		var rcUser any
		if v, ok := a["rcUserId"].(float64); ok {
			rcUser = strconv.FormatInt(int64(v), 10)
		}
		if seg["segmentParticipantRcExtensionId"] != rcUser || seg["segmentAgentGroupId"] != strconv.Itoa(int(a["agentGroupId"].(float64))) {
			t.Errorf("segment %d: rcExtensionId %v group %v, the listing says rcUserId %v group %v", i,
				seg["segmentParticipantRcExtensionId"], seg["segmentAgentGroupId"], a["rcUserId"], a["agentGroupId"])
		}
	}
}

// Every rule of the four endpoints answers 400 with a details text naming the field; a wrong
// rcAccountId 404; a sub-account without WEM Access 403.
func TestReportingRules(t *testing.T) {
	t.Parallel()
	clock := newClock() // 2026-01-02 03:04:05 UTC
	s0 := engagefake.New(engagefake.Options{Seed: 44})
	denied := s0.SubAccountIDs()[1]
	_, base, tok, sub, rc := reportingSetup(t, engagefake.Options{Seed: 44, Now: clock.Now, ReportingUnlimited: true, NoWEMAccess: []string{denied}})
	md := reportingPath(rc, sub, "interaction-metadata")
	tests := []struct {
		name       string
		path       string
		body       string
		wantStatus int
		wantBody   string
	}{
		{"valid", md, `{"segmentEndTime":"2026-01-01 07:40:00","timeInterval":600,"timeZone":"US/Eastern"}`, 200, `[{"subAccountId":"` + sub + `"`},
		{"no segmentEndTime", md, `{"timeInterval":600,"timeZone":"UTC"}`, 400, "segmentEndTime is required"},
		{"no timeInterval", md, `{"segmentEndTime":"2026-01-01 07:40:00","timeZone":"UTC"}`, 400, "timeInterval is required"},
		{"no timeZone", md, `{"segmentEndTime":"2026-01-01 07:40:00","timeInterval":600}`, 400, "timeZone is required"},
		{"unknown timeZone", md, `{"segmentEndTime":"2026-01-01 07:40:00","timeInterval":600,"timeZone":"Mars/Olympus"}`, 400, "timeZone: unknown time zone"},
		{"ISO segmentEndTime", md, `{"segmentEndTime":"2026-01-01T07:40:00Z","timeInterval":600,"timeZone":"UTC"}`, 400, "segmentEndTime:"},
		{"interval over 3 h", md, `{"segmentEndTime":"2026-01-01 00:00:00","timeInterval":10801,"timeZone":"UTC"}`, 400, "timeInterval must be an integer from 1 to 10800"},
		{"interval 0", md, `{"segmentEndTime":"2026-01-01 00:00:00","timeInterval":0,"timeZone":"UTC"}`, 400, "timeInterval must be an integer from 1 to 10800"},
		{"interval 3 h", md, `{"segmentEndTime":"2026-01-01 00:00:00","timeInterval":10800,"timeZone":"UTC"}`, 200, `"segmentId"`},
		{"ends 4 min ago", md, `{"segmentEndTime":"2026-01-02 02:00:05","timeInterval":3600,"timeZone":"UTC"}`, 400, "at least 5 minutes before"},
		{"ends 5 min ago", md, `{"segmentEndTime":"2026-01-02 01:59:05","timeInterval":3600,"timeZone":"UTC"}`, 200, "["},
		{"not an object", md, `[]`, 400, "expected a JSON object"},
		{"wrong rcAccountId", reportingPath("10001", sub, "interaction-metadata"), `{}`, 404, "has no sub-account"},
		{"no WEM Access", reportingPath(rc, denied, "interaction-metadata"), `{}`, 403, "WEM Access is not enabled"},
	}
	for _, name := range []string{"agg-agent-stats", "agg-agent-extended-stats"} {
		p := reportingPath(rc, sub, name)
		tests = append(tests,
			struct {
				name       string
				path       string
				body       string
				wantStatus int
				wantBody   string
			}{name + " valid", p, `{"startDate":"2026-01-01 09:00:00","endDate":"2026-01-01 12:00:00","timeInterval":3600,"timeZone":"UTC","outputFormat":"XML"}`, 200, `[{"interval":60,"dateTimeFrom":"01-01-2026T09:00:00","agentId":`},
			struct {
				name       string
				path       string
				body       string
				wantStatus int
				wantBody   string
			}{name + " over 3 h", p, `{"startDate":"2026-01-01 09:00:00","endDate":"2026-01-01 12:00:01","timeInterval":3600,"timeZone":"UTC"}`, 400, "endDate must be within 3 hours"},
			struct {
				name       string
				path       string
				body       string
				wantStatus int
				wantBody   string
			}{name + " no WEM Access", reportingPath(rc, denied, name), `{}`, 403, "WEM Access is not enabled"},
		)
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r := sendJSON(t, http.MethodPost, base+tt.path, tok, tt.body)
			if r.status != tt.wantStatus || !strings.Contains(string(r.body), tt.wantBody) {
				t.Errorf("status %d body %s, want %d with %q", r.status, truncate(r.body), tt.wantStatus, tt.wantBody)
			}
		})
	}
}

// The documented limits, per sub-account and shared by the four endpoints: the 4th request in
// 60 s gets 429 with a Retry-After saying when the oldest leaves its minute, another
// sub-account is unaffected, a refused request does not count, and the 10th in 15 minutes is
// refused until the first leaves them.
func TestReportingLimits(t *testing.T) {
	t.Parallel()
	clock := newClock()
	s, base, tok, sub, rc := reportingSetup(t, engagefake.Options{Seed: 45, Now: clock.Now, ReportingClock: clock.Now})
	other := s.SubAccountIDs()[1]
	from := clock.Now().Truncate(time.Hour).Add(-2 * time.Hour)
	send := func(sub, name string) response {
		body := statsBody(from, from.Add(time.Hour), 3600, time.UTC)
		if name == "interaction-metadata" {
			body = metadataBody(from, 3600, time.UTC)
		}
		return sendJSON(t, http.MethodPost, base+reportingPath(rc, sub, name), tok, body)
	}
	names := []string{"interaction-metadata", "agg-queue-stats", "agg-agent-stats", "agg-agent-extended-stats"}
	for i, name := range names[:3] {
		if r := send(sub, name); r.status != http.StatusOK {
			t.Fatalf("request %d (%s): %d %s", i+1, name, r.status, r.body)
		}
		clock.Advance(10 * time.Second)
	}
	r := send(sub, names[3])
	if r.status != http.StatusTooManyRequests || r.header.Get("Retry-After") != "30" {
		t.Fatalf("4th request in 60 s: %d Retry-After %q, want 429 with 30", r.status, r.header.Get("Retry-After"))
	}
	if r := send(other, names[0]); r.status != http.StatusOK {
		t.Fatalf("another sub-account: %d", r.status)
	}
	clock.Advance(29 * time.Second)
	if r := send(sub, names[3]); r.status != http.StatusTooManyRequests || r.header.Get("Retry-After") != "1" {
		t.Fatalf("1 s early: %d Retry-After %q, want 429 with 1", r.status, r.header.Get("Retry-After"))
	}
	clock.Advance(time.Second)
	if r := send(sub, names[3]); r.status != http.StatusOK {
		t.Fatalf("once the oldest left its minute: %d %s", r.status, r.body)
	}
	// Six more, 20 s apart (3 per minute): 9 in 15 minutes, then the 10th waits for the first.
	for i := range 5 {
		clock.Advance(20 * time.Second)
		if r := send(sub, names[i%4]); r.status != http.StatusOK {
			t.Fatalf("request %d: %d %s", 5+i, r.status, r.body)
		}
	}
	clock.Advance(40 * time.Second) // the 10th, at 3:20 after the first
	r = send(sub, names[0])
	if want := strconv.Itoa(15*60 - 200); r.status != http.StatusTooManyRequests || r.header.Get("Retry-After") != want {
		t.Fatalf("10th in 15 minutes: %d Retry-After %q, want 429 with %s", r.status, r.header.Get("Retry-After"), want)
	}
	st := s.Stats()
	if st.ReportingRequests[sub] != 9 || st.ReportingRateLimited[sub] != 3 || st.ReportingRequests[other] != 1 || st.RateLimited != 3 {
		t.Errorf("stats: requests %v, rate limited %v (all %d), want 9 and 3 for %s, 1 request for %s",
			st.ReportingRequests, st.ReportingRateLimited, st.RateLimited, sub, other)
	}
}

// Scaled-down limits work too (their Retry-After is at least 1 s), and ReportingUnlimited
// turns them off.
func TestReportingLimitsScaled(t *testing.T) {
	t.Parallel()
	clock := newClock()
	from := clock.Now().Truncate(time.Hour).Add(-2 * time.Hour)
	for _, unlimited := range []bool{false, true} {
		_, base, tok, sub, rc := reportingSetup(t, engagefake.Options{Seed: 46, Now: clock.Now, ReportingClock: clock.Now, ReportingUnlimited: unlimited,
			ReportingLimits: []engagefake.Limit{{Count: 3, Per: 60 * time.Millisecond}}})
		var statuses []int
		for range 5 {
			r := sendJSON(t, http.MethodPost, base+reportingPath(rc, sub, "agg-queue-stats"), tok, statsBody(from, from.Add(time.Hour), 3600, time.UTC))
			statuses = append(statuses, r.status)
			if r.status == http.StatusTooManyRequests && r.header.Get("Retry-After") != "1" {
				t.Errorf("Retry-After %q, want 1", r.header.Get("Retry-After"))
			}
			clock.Advance(10 * time.Millisecond)
		}
		want := []int{200, 200, 200, 429, 429}
		if unlimited {
			want = []int{200, 200, 200, 200, 200}
		}
		if !slices.Equal(statuses, want) {
			t.Errorf("unlimited %v: statuses %v, want %v", unlimited, statuses, want)
		}
		clock.Advance(60 * time.Millisecond)
		if r := sendJSON(t, http.MethodPost, base+reportingPath(rc, sub, "agg-queue-stats"), tok, statsBody(from, from.Add(time.Hour), 3600, time.UTC)); r.status != http.StatusOK {
			t.Errorf("after the interval: %d", r.status)
		}
	}
}

// Settling across Now: a late segment appears only CallLateDelay after its end, a changing
// one has no agentDisposition and no recording until end + CallChangeDelay, a vanishing one is
// served until then and not after.
func TestCallSettling(t *testing.T) {
	t.Parallel()
	clock := newClock()
	s := engagefake.New(engagefake.Options{Seed: 47, Now: clock.Now, CallsPerHour: 200,
		CallLateFraction: 0.1, CallChangeFraction: 0.1, CallVanishFraction: 0.1})
	sub := s.SubAccountIDs()[0]
	from := clock.Now().Truncate(time.Hour).Add(-24 * time.Hour)
	to := from.Add(time.Hour)
	early, settled := to.Add(20*time.Minute), to.Add(26*time.Hour)
	first := map[string]engagefake.Segment{}
	for _, sg := range s.SegmentsAt(sub, from, to, early) {
		first[sg.SegmentID] = sg
	}
	final := map[string]engagefake.Segment{}
	for _, sg := range s.SegmentsAt(sub, from, to, settled) {
		final[sg.SegmentID] = sg
	}
	var late, changed, vanished int
	for id, sg := range final {
		if sg.Vanishes {
			t.Errorf("vanishing segment %s still served a day later", id)
		}
		f, ok := first[id]
		switch {
		case sg.Late:
			late++
			if ok {
				t.Errorf("late segment %s served 20 min after the window", id)
			}
		case !ok:
			t.Errorf("segment %s (not late) missing 20 min after the window", id)
		case sg.Changes:
			changed++
			if f.AgentDisposition != "" || f.HasRecording || strings.Contains(string(f.JSON), "REC_START") || sg.AgentDisposition == "" {
				t.Errorf("changing segment %s: first %q/%v, then %q", id, f.AgentDisposition, f.HasRecording, sg.AgentDisposition)
			}
		case string(f.JSON) != string(sg.JSON):
			t.Errorf("segment %s changed without being a changing one", id)
		}
	}
	for id, f := range first {
		if _, ok := final[id]; !ok {
			if !f.Vanishes {
				t.Errorf("segment %s vanished without being a vanishing one", id)
			}
			vanished++
		}
	}
	if late == 0 || changed == 0 || vanished == 0 {
		t.Errorf("late %d, changed %d, vanished %d: want some of each", late, changed, vanished)
	}
	// Segments is SegmentsAt at Now.
	clock.Advance(-clock.Now().Sub(early))
	if got := s.Segments(sub, from, to); len(got) != len(first) {
		t.Errorf("Segments at %s: %d, SegmentsAt: %d", early, len(got), len(first))
	}
}

// countingWriter is an http.ResponseWriter that keeps only counts.
type countingWriter struct {
	header   http.Header
	status   int
	bytes    int
	segments int
	tail     []byte
}

func (w *countingWriter) Header() http.Header { return w.header }
func (w *countingWriter) WriteHeader(s int)   { w.status = s }
func (w *countingWriter) Write(b []byte) (int, error) {
	w.bytes += len(b)
	w.segments += bytes.Count(b, []byte(`"segmentId"`))
	w.tail = append(w.tail[:0], b[max(0, len(b)-2):]...)
	return len(b), nil
}

// A busy sub-account's 3-hour window holds 50,000 segments and more; the answer is streamed:
// serving it allocates far less than its size.
func TestBusyWindowStreams(t *testing.T) { //nolint:paralleltest // measures the allocations of one request
	clock := newClock()
	s0 := engagefake.New(engagefake.Options{Seed: 48})
	busy := s0.SubAccountIDs()[0]
	s, _, tok, _, rc := reportingSetup(t, engagefake.Options{Seed: 48, Now: clock.Now, ReportingUnlimited: true,
		CallsPerHourBy: map[string]int{busy: 12000}})
	from := clock.Now().Truncate(time.Hour).Add(-4 * time.Hour)
	req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, reportingPath(rc, busy, "interaction-metadata"),
		strings.NewReader(metadataBody(from, 10800, time.UTC)))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+tok)
	w := &countingWriter{header: http.Header{}}
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	started := time.Now()
	s.ServeHTTP(w, req)
	took := time.Since(started)
	runtime.ReadMemStats(&after)
	if w.status != http.StatusOK || w.segments < 50000 || string(w.tail) != "}]" {
		t.Fatalf("status %d, %d segments, ends %q: want 200 with 50,000 or more", w.status, w.segments, w.tail)
	}
	alloc := after.TotalAlloc - before.TotalAlloc
	t.Logf("%d segments, %d MB served in %s, %d MB allocated", w.segments, w.bytes>>20, took, alloc>>20)
	if alloc > uint64(w.bytes)/2 {
		t.Errorf("serving %d bytes allocated %d: the answer is not streamed", w.bytes, alloc)
	}
}

// The stats add up: per queue and interval, the agent×queue rows' answIxnCnt, talkingIxnDur
// and wrapUpDur sum to the queue row's; per agent and interval, the agent×queue rows'
// talkingIxnDur to directInIxnDur + directOutIxnDur, and totWorkDur is at least that; the agent
// segments that start in the window are as many as the agents' direct interactions.
func TestStatsConsistency(t *testing.T) {
	t.Parallel()
	clock := newClock()
	s := engagefake.New(engagefake.Options{Seed: 49, Now: clock.Now, CallsPerHour: 60, CallVanishFraction: -1,
		DateTimeFromOrder: engagefake.DateTimeFromDMY})
	sub := s.SubAccountIDs()[0]
	from := time.Date(2026, 1, 1, 9, 0, 0, 0, time.UTC)
	to := from.Add(3 * time.Hour)
	rows := func(endpoint string) []map[string]int64 {
		var out []map[string]int64
		for _, raw := range s.StatsRows(endpoint, sub, from, to, time.Hour) {
			var m map[string]any
			if err := json.Unmarshal(raw, &m); err != nil {
				t.Fatal(err)
			}
			row := map[string]int64{}
			for k, v := range m {
				switch v := v.(type) {
				case float64:
					row[k] = int64(v)
				case string:
					if k == "dateTimeFrom" {
						at, err := time.Parse("02-01-2006T15:04:05", v)
						if err != nil || at.Before(from) || !at.Before(to) || at.Minute() != 0 {
							t.Fatalf("dateTimeFrom %q is not an hour of the window read day first", v)
						}
						row[k] = int64(at.Hour())
					}
				}
			}
			if row["interval"] != 60 {
				t.Fatalf("interval %d, want 60", row["interval"])
			}
			out = append(out, row)
		}
		if len(out) == 0 {
			t.Fatalf("%s: no rows", endpoint)
		}
		return out
	}
	queues, agents, pairs := rows(engagefake.EndpointQueueStats), rows(engagefake.EndpointAgentStats), rows(engagefake.EndpointAgentQueueStats)
	type qk struct{ hour, queue int64 }
	type ak struct{ hour, agent int64 }
	sumQ, sumA := map[qk][3]int64{}, map[ak]int64{}
	for _, p := range pairs {
		k := qk{p["dateTimeFrom"], p["queue"]}
		v := sumQ[k]
		sumQ[k] = [3]int64{v[0] + p["answIxnCnt"], v[1] + p["talkingIxnDur"], v[2] + p["wrapUpDur"]}
		sumA[ak{p["dateTimeFrom"], p["agentId"]}] += p["talkingIxnDur"]
	}
	answered := int64(0)
	for _, q := range queues {
		k := qk{q["dateTimeFrom"], q["queue"]}
		if got, want := sumQ[k], [3]int64{q["answIxnCnt"], q["talkingIxnDur"], q["wrapUpDur"]}; got != want {
			t.Errorf("queue %d at %d h: agent×queue sums %v, queue row %v", k.queue, k.hour, got, want)
		}
		if q["offdDirectIxnCnt"] < q["answIxnCnt"]+q["abandIxnCnt"] || q["ansServicelevelCnt"] > q["answIxnCnt"] {
			t.Errorf("queue row %v: counts do not add up", q)
		}
		answered += q["answIxnCnt"]
		delete(sumQ, k)
	}
	if len(sumQ) != 0 || answered == 0 {
		t.Errorf("agent×queue rows without a queue row: %v (answered %d)", slices.Collect(maps.Keys(sumQ)), answered)
	}
	direct := int64(0)
	for _, a := range agents {
		talk := a["directInIxnDur"] + a["directOutIxnDur"]
		if got := sumA[ak{a["dateTimeFrom"], a["agentId"]}]; got != talk || a["totWorkDur"] < talk || a["availDur"] != a["totWorkDur"] {
			t.Errorf("agent row %v: agent×queue talk %d", a, got)
		}
		direct += a["directInIxnCnt"] + a["directOutIxnCnt"]
	}
	segs := 0
	for _, sg := range s.SegmentsAt(sub, from, to.Add(time.Hour), to.Add(48*time.Hour)) {
		var m struct {
			Start string `json:"segmentStartTimeMs"`
		}
		_ = json.Unmarshal(sg.JSON, &m)
		at, _ := time.Parse(time.RFC3339, m.Start)
		if sg.SegmentType == "AGENT" && !at.Before(from) && at.Before(to) {
			segs++
		}
	}
	if int64(segs) != direct {
		t.Errorf("%d agent segments start in the window, the agent rows count %d interactions", segs, direct)
	}
	checkAnswered(t, s, sub, from, to, queues)
}

// checkAnswered checks that per queue and interval (hour), answIxnCnt is the number of
// dialogs of the queue whose first AGENT segment starts in the interval and was answered: its
// systemDisposition is "ANSWER" (or null, a digital interaction). It reads the served
// segments, so an answered call counted as unanswered (or the reverse) fails it.
func checkAnswered(t *testing.T, s *engagefake.Server, sub string, from, to time.Time, queues []map[string]int64) {
	t.Helper()
	type seg struct {
		Start string  `json:"segmentStartTimeMs"`
		Disp  *string `json:"systemDisposition"`
		Orig  string  `json:"dialogOrigination"`
	}
	type firstSeg struct {
		at     time.Time
		queue  int
		answer bool
	}
	firsts := map[string]firstSeg{}
	outbound := map[bool]int{}
	for _, sg := range s.SegmentsAt(sub, from, to.Add(time.Hour), to.Add(48*time.Hour)) {
		var m seg
		if err := json.Unmarshal(sg.JSON, &m); err != nil {
			t.Fatal(err)
		}
		at, err := time.Parse(time.RFC3339, m.Start)
		if sg.SegmentType != "AGENT" || err != nil {
			continue
		}
		if f, ok := firsts[sg.DialogID]; ok && !at.Before(f.at) {
			continue
		}
		answer := m.Disp == nil || *m.Disp == "ANSWER"
		if m.Disp != nil && !slices.Contains([]string{"ANSWER", "NO_ANSWER", "BUSY", "MACHINE"}, *m.Disp) {
			t.Fatalf("segment %s: systemDisposition %q", sg.SegmentID, *m.Disp)
		}
		firsts[sg.DialogID] = firstSeg{at, sg.QueueID, answer}
		if m.Orig == "OUTBOUND" {
			outbound[answer]++
		}
	}
	want := map[[2]int64]int64{}
	for _, f := range firsts {
		if f.answer && !f.at.Before(from) && f.at.Before(to) && f.queue != 0 {
			want[[2]int64{int64(f.at.Hour()), int64(f.queue)}]++
		}
	}
	if outbound[true] == 0 || outbound[false] == 0 {
		t.Fatalf("outbound first segments answered/unanswered %v: the window does not test both", outbound)
	}
	for _, q := range queues {
		k := [2]int64{q["dateTimeFrom"], q["queue"]}
		if q["answIxnCnt"] != want[k] || q["completedContacts"] != want[k] {
			t.Errorf("queue %d at %d h: answIxnCnt %d, completedContacts %d; %d dialogs answered", k[1], k[0],
				q["answIxnCnt"], q["completedContacts"], want[k])
		}
		delete(want, k)
	}
	for k, n := range want {
		if n > 0 {
			t.Errorf("queue %d at %d h: %d dialogs answered but no queue row", k[1], k[0], n)
		}
	}
}

// The spec's example items are test cases: a generated item of each endpoint has exactly the
// example item's keys, each with the example's JSON type.
func TestReportingMatchesSpecExamples(t *testing.T) {
	t.Parallel()
	clock := newClock()
	s := engagefake.New(engagefake.Options{Seed: 50, Now: clock.Now, CallsPerHour: 60})
	sub := s.SubAccountIDs()[0]
	from := time.Date(2026, 1, 1, 9, 0, 0, 0, time.UTC)
	to := from.Add(3 * time.Hour)
	var voice, digital json.RawMessage
	for _, sg := range s.Segments(sub, from, to) {
		js := string(sg.JSON)
		switch {
		case strings.Contains(js, `"channelClass":"VOICE"`) && sg.SegmentType == "AGENT" && sg.HasRecording &&
			!strings.Contains(js, `"agentNotes":null`) && !strings.Contains(js, `"segmentParticipantRcExtensionId":null`):
			voice = sg.JSON
		case strings.Contains(js, `"channelClass":"DIGITAL"`) && sg.SegmentType == "AGENT" &&
			!strings.Contains(js, `"agentNotes":null`) && !strings.Contains(js, `"segmentParticipantRcExtensionId":null`):
			digital = sg.JSON
		}
	}
	first := func(endpoint string) json.RawMessage {
		rows := s.StatsRows(endpoint, sub, from, to, time.Hour)
		if len(rows) == 0 {
			return nil
		}
		return rows[0]
	}
	tests := []struct {
		operation string
		example   int // the item of the example array
		item      json.RawMessage
	}{
		{"getInteractionMetadata", 0, voice},
		{"getInteractionMetadata", 1, digital},
		{"buildAggQueueStats", 0, first(engagefake.EndpointQueueStats)},
		{"buildAggAgentStats", 0, first(engagefake.EndpointAgentStats)},
		{"buildExtendedAggAgentStats", 0, first(engagefake.EndpointAgentQueueStats)},
	}
	for _, tt := range tests {
		t.Run(tt.operation+strconv.Itoa(tt.example), func(t *testing.T) {
			t.Parallel()
			items := specExample(t, tt.operation)
			if len(items) <= tt.example {
				t.Fatalf("the example of %s has %d items", tt.operation, len(items))
			}
			if tt.item == nil {
				t.Fatal("no generated item of the kind")
			}
			var got map[string]any
			if err := json.Unmarshal(tt.item, &got); err != nil {
				t.Fatal(err)
			}
			want := items[tt.example]
			if !slices.Equal(slices.Sorted(maps.Keys(got)), slices.Sorted(maps.Keys(want))) {
				t.Fatalf("keys %v, the example has %v", slices.Sorted(maps.Keys(got)), slices.Sorted(maps.Keys(want)))
			}
			for k, v := range want {
				if fmt.Sprintf("%T", v) != fmt.Sprintf("%T", got[k]) {
					t.Errorf("%s: %T (%v), the example has %T (%v)", k, got[k], got[k], v, v)
				}
			}
			digital := tt.operation == "getInteractionMetadata" && tt.example > 0
			for k, form := range valueForms(tt.operation, digital) {
				for _, it := range []struct {
					who  string
					item map[string]any
				}{{"the example", want}, {"the fake", got}} {
					if v, _ := it.item[k].(string); !form.MatchString(v) {
						t.Errorf("%s: %s has %q, not of the form %s", k, it.who, v, form)
					}
				}
			}
			if events, ok := got["segmentEvents"].([]any); ok {
				for _, e := range events {
					for _, k := range []string{"eventTimeMs", "clientEventTimeMs"} {
						if v, _ := e.(map[string]any)[k].(string); !isoForm.MatchString(v) {
							t.Errorf("segmentEvents %s %q, not of the form %s", k, v, isoForm)
						}
					}
				}
			}
		})
	}
}

// isoForm is the form of the segments' dates in the spec's examples.
var isoForm = regexp.MustCompile(`^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$`)

// valueForms are the forms of the string values of an operation's example item (a digital
// interaction's for interaction-metadata when digital), by key: each must match both the
// spec's example and the fake's item.
func valueForms(operation string, digital bool) map[string]*regexp.Regexp {
	re := regexp.MustCompile
	digits := re(`^[0-9]+$`)
	dateTimeFrom := re(`^[0-9]{2}-[0-9]{2}-[0-9]{4}T[0-9]{2}:[0-9]{2}:[0-9]{2}$`) // MM-DD-YYYYTHH:MM:SS
	switch operation {
	case "getInteractionMetadata":
		forms := map[string]*regexp.Regexp{
			"subAccountId": digits, "interactionId": re(`^[0-9]{30}$`), "segmentParticipantId": digits,
			"segmentParticipantRcExtensionId": digits, "segmentAgentGroupId": digits,
			"dialogStartTimeMs": isoForm, "dialogEndTimeMs": isoForm, "segmentStartTimeMs": isoForm, "segmentEndTimeMs": isoForm,
		}
		if digital {
			forms["dialogId"] = re(`^d-[0-9a-f]{24}-[0-9]{13}$`)
			forms["segmentId"] = re(`^d-[0-9a-f]{24}-([0-9]{13}-[0-9a-f]{13}|[0-9a-f]{24})$`) // the examples show both
			forms["channelId"] = re(`^[0-9a-f]{24}$`)
			forms["channelEndpointAddress"], forms["contactEndpointAddress"] = re(`^\+[0-9]+$`), re(`^\+[0-9]+$`)
		} else {
			forms["dialogId"] = re(`^s-v-[0-9a-f]{32}-[0-9]{13}$`)
			forms["segmentId"] = re(`^p-v-[0-9a-f]{32}-[0-9]{13}-[0-9a-f]{13}$`)
			forms["channelId"], forms["channelEndpointAddress"], forms["contactEndpointAddress"] = digits, digits, digits
		}
		return forms
	case "buildAggAgentStats":
		return map[string]*regexp.Regexp{"dateTimeFrom": dateTimeFrom, "agentName": re(`^[^,]+, [^,]+$`)} // "kaduk, alena"
	case "buildExtendedAggAgentStats":
		return map[string]*regexp.Regexp{"dateTimeFrom": dateTimeFrom, "agentName": re(`^[^,]+ [^,]+$`)} // "Neringa Norkute"
	}
	return map[string]*regexp.Regexp{"dateTimeFrom": dateTimeFrom}
}

// The spec's examples' UIIs begin with their dialog's start in US/Eastern (the dialog id's
// milliseconds, within 3 seconds: the digital examples' are 0.3 s and 1.1 s after it): the
// rule the fake's UIIs follow. The ENGAGE_MESSAGING example (item 1) is left out: its dialog
// id's milliseconds are four months before its dialogStartTimeMs, and its UII is the latter
// in UTC; the three others agree on US/Eastern.
func TestSpecExampleUIIsAreEastern(t *testing.T) {
	t.Parallel()
	items := specExample(t, "getInteractionMetadata")
	if len(items) != 4 {
		t.Fatalf("the example has %d items, want 4 (the test names item 1)", len(items))
	}
	for i, item := range items {
		if i == 1 {
			continue
		}
		id, _ := item["dialogId"].(string)
		uii, _ := item["interactionId"].(string)
		ms, err := strconv.ParseInt(id[strings.LastIndex(id, "-")+1:], 10, 64)
		if err != nil || len(uii) != 30 {
			t.Fatalf("example %d: dialogId %q interactionId %q", i, id, uii)
		}
		at, err := time.ParseInLocation("20060102150405", uii[:14], eastern)
		start := time.UnixMilli(ms)
		if d := at.Sub(start); err != nil || d < -time.Second || d > 3*time.Second {
			t.Errorf("example %d: UII %s (%v in US/Eastern), the dialog started %s", i, uii, at.UTC(), start.UTC())
		}
	}
}

// The spec's and reports.md's request examples, sent as written to a fake whose clock is
// after their dates, get 200.
func TestReportingRequestExamples(t *testing.T) {
	t.Parallel()
	clock := newClock()
	clock.Advance(90 * 24 * time.Hour) // 2026-04-02, after 2026-03-02 12:00 US/Eastern
	_, base, tok, sub, rc := reportingSetup(t, engagefake.Options{Seed: 56, Now: clock.Now, ReportingUnlimited: true})
	for _, tt := range []struct{ name, endpoint, body string }{
		{"spec InteractionMetadataRequest", "interaction-metadata", `{"segmentEndTime":"2021-02-28 08:27:15","timeInterval":1800,"timeZone":"US/Eastern"}`},
		{"reports.md", "interaction-metadata", `{"segmentEndTime":"2022-10-20 07:40:00","timeInterval":600,"timeZone":"US/Eastern"}`},
		{"spec AggregatedIntegrationParams", "agg-queue-stats", `{"startDate":"2026-03-02 09:00:00","endDate":"2026-03-02 12:00:00","timeInterval":1800,"timeZone":"US/Eastern","outputFormat":"CSV"}`},
		{"spec AggregatedIntegrationParams", "agg-agent-stats", `{"startDate":"2026-03-02 09:00:00","endDate":"2026-03-02 12:00:00","timeInterval":1800,"timeZone":"US/Eastern","outputFormat":"CSV"}`},
		{"spec AggregatedIntegrationParams", "agg-agent-extended-stats", `{"startDate":"2026-03-02 09:00:00","endDate":"2026-03-02 12:00:00","timeInterval":1800,"timeZone":"US/Eastern","outputFormat":"CSV"}`},
	} {
		r := sendJSON(t, http.MethodPost, base+reportingPath(rc, sub, tt.endpoint), tok, tt.body)
		if r.status != http.StatusOK || !json.Valid(r.body) || r.body[0] != '[' {
			t.Errorf("%s to %s: %d %s, want 200 with a JSON array", tt.name, tt.endpoint, r.status, truncate(r.body))
		}
	}
}

// Faults can target the reporting endpoints by name, on the command line too.
func TestReportingFaults(t *testing.T) {
	t.Parallel()
	clock := newClock()
	s, base, tok, sub, rc := reportingSetup(t, engagefake.Options{Seed: 51, Now: clock.Now})
	from := clock.Now().Truncate(time.Hour).Add(-2 * time.Hour)
	for _, tt := range []struct{ endpoint, name, body string }{
		{engagefake.EndpointInteractionMetadata, "interaction-metadata", metadataBody(from, 3600, time.UTC)},
		{engagefake.EndpointAgentStats, "agg-agent-stats", statsBody(from, from.Add(time.Hour), 3600, time.UTC)},
		{engagefake.EndpointAgentQueueStats, "agg-agent-extended-stats", statsBody(from, from.Add(time.Hour), 3600, time.UTC)},
	} {
		endpoint, f, err := engagefake.ParseFault(tt.endpoint + ":status=503,times=1")
		if err != nil {
			t.Fatal(err)
		}
		s.SetFault(endpoint, f)
		if r := sendJSON(t, http.MethodPost, base+reportingPath(rc, sub, tt.name), tok, tt.body); r.status != http.StatusServiceUnavailable {
			t.Errorf("%s with a fault: %d", tt.name, r.status)
		}
		if got := s.Stats().Requests[tt.endpoint]; got != 1 {
			t.Errorf("Requests[%s] = %d, want 1", tt.endpoint, got)
		}
	}
}

// specExample returns the items of the spec's example answer of an operation: the response's
// own example, or (interaction-metadata) the example of its array schema.
func specExample(t *testing.T, operation string) []map[string]any {
	t.Helper()
	var body json.RawMessage
	if operation == "getInteractionMetadata" {
		raw, err := apispec.Raw(apispec.Admin)
		if err != nil {
			t.Fatal(err)
		}
		var doc struct {
			Components struct {
				Schemas map[string]struct {
					Example json.RawMessage `json:"example"`
				} `json:"schemas"`
			} `json:"components"`
		}
		if err := json.Unmarshal(raw, &doc); err != nil {
			t.Fatal(err)
		}
		body = doc.Components.Schemas["WEMInteractionSegmentMetaData2Array"].Example
	} else {
		examples, err := apispec.ResponseExamples(apispec.Admin, operation)
		if err != nil {
			t.Fatal(err)
		}
		body = examples[0].Body
	}
	var items []map[string]any
	if err := json.Unmarshal(body, &items); err != nil {
		t.Fatalf("the example of %s: %v", operation, err)
	}
	return items
}

// BenchmarkInteractionMetadataBusy serves a busy sub-account's 3-hour window (12,000 dialogs
// an hour, more than 50,000 segments); segments/op is the answer's size.
func BenchmarkInteractionMetadataBusy(b *testing.B) {
	clock := newClock()
	busy := engagefake.New(engagefake.Options{Seed: 52}).SubAccountIDs()[0]
	s := engagefake.New(engagefake.Options{Seed: 52, Now: clock.Now, ReportingUnlimited: true, CallsPerHourBy: map[string]int{busy: 12000}})
	base := s.Start()
	b.Cleanup(s.Close)
	tok, _ := login(b, base)
	accs := decode[[]map[string]any](b, get(b, base+accountsPath, tok))
	rc, _ := accs[0]["mainAccount"].(map[string]any)["rcAccountId"].(string)
	body := metadataBody(clock.Now().Truncate(time.Hour).Add(-4*time.Hour), 10800, time.UTC)
	b.ReportAllocs()
	segments := 0
	for b.Loop() {
		req, err := http.NewRequestWithContext(b.Context(), http.MethodPost, reportingPath(rc, busy, "interaction-metadata"), strings.NewReader(body))
		if err != nil {
			b.Fatal(err)
		}
		req.Header.Set("Authorization", "Bearer "+tok)
		w := &countingWriter{header: http.Header{}}
		s.ServeHTTP(w, req)
		if w.status != http.StatusOK {
			b.Fatalf("status %d", w.status)
		}
		segments = w.segments
	}
	b.ReportMetric(float64(segments), "segments/op")
}

// The stats endpoints serve what StatsRows lists, intervals counted from startDate in the
// request's zone and dateTimeFrom written in it.
func TestStatsServeStatsRows(t *testing.T) {
	t.Parallel()
	clock := newClock()
	s, base, tok, sub, rc := reportingSetup(t, engagefake.Options{Seed: 53, Now: clock.Now, ReportingUnlimited: true})
	eastern, err := time.LoadLocation("US/Eastern")
	if err != nil {
		t.Fatal(err)
	}
	from := time.Date(2026, 1, 1, 8, 30, 0, 0, eastern)
	for _, tt := range []struct{ endpoint, name string }{
		{engagefake.EndpointQueueStats, "agg-queue-stats"},
		{engagefake.EndpointAgentStats, "agg-agent-stats"},
		{engagefake.EndpointAgentQueueStats, "agg-agent-extended-stats"},
	} {
		r := sendJSON(t, http.MethodPost, base+reportingPath(rc, sub, tt.name), tok, statsBody(from, from.Add(3*time.Hour), 1800, eastern))
		rows := s.StatsRows(tt.endpoint, sub, from, from.Add(3*time.Hour), 30*time.Minute)
		parts := make([]string, len(rows))
		for i, row := range rows {
			parts[i] = string(row)
		}
		want := "[" + strings.Join(parts, ",") + "]"
		if r.status != http.StatusOK || string(r.body) != want || len(rows) < 3 {
			t.Errorf("%s: %d, %d rows listed; served %s", tt.name, r.status, len(rows), truncate(r.body))
		}
		if !strings.Contains(want, `"dateTimeFrom":"01-01-2026T08:30:00","interval":30,`) &&
			!strings.Contains(want, `"interval":30,"dateTimeFrom":"01-01-2026T08:30:00"`) {
			t.Errorf("%s: no row at 08:30 Eastern of 30 minutes: %s", tt.name, truncate([]byte(want)))
		}
	}
}

// A sub-account without queues still has calls (its agents answer them; no queue rows), and
// one without agents none.
func TestCallsWithoutQueues(t *testing.T) {
	t.Parallel()
	clock := newClock()
	s := engagefake.New(engagefake.Options{Seed: 54, Now: clock.Now, Tenant: engagefake.TenantSpec{QueueGroupsPerSubAccount: -1}})
	sub := s.SubAccountIDs()[0]
	from := clock.Now().Truncate(time.Hour).Add(-6 * time.Hour)
	if n := len(s.Segments(sub, from, from.Add(3*time.Hour))); n < 20 {
		t.Errorf("%d segments in 3 h without queues, want about 60", n)
	}
	if rows := s.StatsRows(engagefake.EndpointQueueStats, sub, from, from.Add(3*time.Hour), time.Hour); rows != nil {
		t.Errorf("queue rows without queues: %s", rows[0])
	}
	if rows := s.StatsRows(engagefake.EndpointAgentStats, sub, from, from.Add(3*time.Hour), time.Hour); len(rows) == 0 {
		t.Error("no agent rows")
	}
	empty := engagefake.New(engagefake.Options{Seed: 54, Now: clock.Now, Tenant: engagefake.TenantSpec{AgentsPerGroup: -1}})
	if n := len(empty.Segments(sub, from, from.Add(3*time.Hour))); n != 0 {
		t.Errorf("%d segments without agents", n)
	}
}
