package engageclient

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	gosync "sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/evsync/evsync/engageclient/engagefake"
	"github.com/evsync/evsync/internal/testing/fixture"
)

// Tests of the audit log search and the aggregate statistics: the exact request each sends,
// the decoding of the documented answers, and the fake's verdicts (validation, entitlement).

// bodyServer answers the audit search and the reporting endpoints with answer, recording each
// request's method, path, content type and body; auth is a fake's.
type bodyServer struct {
	mu   gosync.Mutex
	reqs []string // "METHOD path content-type body"
}

func newBodyServer(t *testing.T, answer string) (*bodyServer, *Client) {
	t.Helper()
	fake := engagefake.New(engagefake.Options{Seed: 1, Tenant: smallTenant()})
	b := &bodyServer{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !strings.HasPrefix(r.URL.Path, "/voice/api/") {
			fake.ServeHTTP(w, r)
			return
		}
		body, _ := io.ReadAll(r.Body)
		b.mu.Lock()
		b.reqs = append(b.reqs, fmt.Sprintf("%s %s %s %s", r.Method, r.URL.EscapedPath(), r.Header.Get("Content-Type"), body))
		b.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprint(w, answer)
	}))
	t.Cleanup(srv.Close)
	c, err := New(Config{RCServerURL: srv.URL, EngageServerURL: srv.URL, ClientID: engagefake.ClientIDDefault,
		ClientSecret: engagefake.ClientSecretDefault, JWT: engagefake.JWTDefault, RequestsPerMinute: 60000,
		BackoffBase: time.Millisecond, BackoffCap: 5 * time.Millisecond, MaxAttempts: 2})
	if err != nil {
		t.Fatal(err)
	}
	return b, c
}

func (b *bodyServer) requests() []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]string(nil), b.reqs...)
}

// The audit search is a PUT with a JSON body whose dates carry an explicit offset, never "Z"
// (the API refuses it), and the documented entry decodes.
func TestSearchAuditLogsRequestAndDecoding(t *testing.T) {
	t.Parallel()
	const entry = `[{"id":"00000000-0000-0000-0000-000000000000","authUser":{"sourceId":"0.0.0.0","userName":"admin.user@example.com","userId":"00000"},
 "createTime":1111111111111,"auditLogResultList":[{"attributeName":"gatePriority","originalValue":"0","newValue":"1",
 "classType":"com.connectfirst.api.model.intelliqueue_globalcatalog.acd.Gate"}],
 "auditedClass":"com.connectfirst.api.model.intelliqueue_globalcatalog.acd.Gate","auditedEntityId":"000000",
 "actionType":"UPDATE","affectedEntityJson":null,"accountId":"00000000","createTimeAsDateTime":"2026-01-13T00:00:00.000+0000"}]`
	b, c := newBodyServer(t, entry)
	pst := time.FixedZone("PST", -8*3600)
	tests := []struct {
		name string
		s    AuditLogSearch
		want string
	}{
		{"UTC", AuditLogSearch{AccountID: "20001", Start: time.Date(2026, 12, 1, 3, 0, 0, 0, time.UTC), End: time.Date(2026, 12, 1, 4, 0, 0, 0, time.UTC)},
			`PUT /voice/api/v1/admin/auditLogs/search application/json {"accountId":"20001","startDateTime":"2026-12-01T03:00:00.000+00:00","endDateTime":"2026-12-01T04:00:00.000+00:00","ascOrDesc":"ASCENDING"}`},
		{"offset and actions", AuditLogSearch{AccountID: "20001", Start: time.Date(2025, 11, 20, 0, 0, 0, 0, pst), End: time.Date(2025, 12, 3, 23, 59, 0, 228e6, pst),
			Actions: []string{"UPDATE", "DELETE"}, Order: AuditDescending},
			`PUT /voice/api/v1/admin/auditLogs/search application/json {"accountId":"20001","startDateTime":"2025-11-20T00:00:00.000-08:00","endDateTime":"2025-12-03T23:59:00.228-08:00","auditActions":["UPDATE","DELETE"],"ascOrDesc":"DESCENDING"}`},
	}
	for _, tt := range tests {
		got, _, err := c.SearchAuditLogs(t.Context(), &tt.s)
		if err != nil {
			t.Fatalf("%s: %v", tt.name, err)
		}
		if reqs := b.requests(); reqs[len(reqs)-1] != tt.want {
			t.Errorf("%s: request\n%s\nwant\n%s", tt.name, reqs[len(reqs)-1], tt.want)
		}
		if len(got) != 1 {
			t.Fatalf("%s: %d entries, want 1", tt.name, len(got))
		}
		e := got[0]
		created := time.UnixMilli(1111111111111).UTC()
		want := AuditLog{ID: "00000000-0000-0000-0000-000000000000", AccountID: ptr("00000000"), ActionType: ptr("UPDATE"),
			AuditedClass: ptr("com.connectfirst.api.model.intelliqueue_globalcatalog.acd.Gate"), AuditedEntityID: ptr("000000"),
			CreateTime: &created, AuthUser: &AuditUser{UserID: ptr("00000"), UserName: ptr("admin.user@example.com"), SourceID: ptr("0.0.0.0")},
			Changes: []AuditLogChange{{AttributeName: "gatePriority", OriginalValue: json.RawMessage(`"0"`), NewValue: json.RawMessage(`"1"`),
				ClassType: ptr("com.connectfirst.api.model.intelliqueue_globalcatalog.acd.Gate")}}}
		e.Raw = nil
		if diff := cmp.Diff(want, *e); diff != "" {
			t.Errorf("%s: entry (-want +got):\n%s", tt.name, diff)
		}
	}
	// A window the API would refuse is not sent.
	n := len(b.requests())
	for _, s := range []AuditLogSearch{
		{AccountID: "", Start: time.Now().Add(-time.Hour), End: time.Now()},
		{AccountID: "20001", Start: time.Now(), End: time.Now().Add(-time.Hour)},
		{AccountID: "20001", Start: time.Now().Add(-time.Hour), End: time.Now(), Order: "UP"},
	} {
		if _, _, err := c.SearchAuditLogs(t.Context(), &s); err == nil {
			t.Errorf("SearchAuditLogs(%+v) = nil error, want one", s)
		}
	}
	if got := len(b.requests()); got != n {
		t.Errorf("%d requests sent for refused searches, want none", got-n)
	}
}

// agg-queue-stats is a POST to the RingCentral account's sub-account path with startDate and
// endDate in the request's zone, timeInterval in seconds and the zone's name; the documented
// row decodes, and a window over 3 hours is refused unsent.
func TestListQueueStatsRequestAndDecoding(t *testing.T) {
	t.Parallel()
	const row = `[{"dateTimeFrom":"03-04-2024T01:00:00","interval":60,"queue":5686,"queueName":"Queue","offdDirectIxnCnt":3,"answIxnCnt":3,
 "abandIxnCnt":0,"completedContacts":122,"queuedAndAnswIxnDur":9,"queuedAnswLongestQueDur":1,"talkingIxnDur":90,
 "wrapUpDur":13,"waitDur":13,"segmentHoldTime":512000,"overflowInIxnCnt":0,"overflowOutIxnCnt":0}]`
	b, c := newBodyServer(t, row)
	eastern, err := time.LoadLocation("US/Eastern")
	if err != nil {
		t.Fatal(err)
	}
	start := time.Date(2026, 3, 2, 14, 0, 0, 0, time.UTC) // 09:00 in New York
	got, _, err := c.ListQueueStats(t.Context(), "980634004", "20001", &StatsWindow{Start: start, End: start.Add(3 * time.Hour), Interval: 30 * time.Minute, Location: eastern})
	if err != nil {
		t.Fatal(err)
	}
	want := `POST /voice/api/cx/integration/v1/accounts/980634004/sub-accounts/20001/agg-queue-stats application/json {"startDate":"2026-03-02 09:00:00","endDate":"2026-03-02 12:00:00","timeInterval":1800,"timeZone":"US/Eastern"}`
	if reqs := b.requests(); len(reqs) != 1 || reqs[0] != want {
		t.Errorf("requests %q, want [%q]", reqs, want)
	}
	if len(got) != 1 || got[0].QueueID != 5686 || got[0].DateTimeFrom != "03-04-2024T01:00:00" || *got[0].Interval != 60 || *got[0].QueueName != "Queue" ||
		!strings.Contains(string(got[0].Raw), `"answIxnCnt":3`) {
		t.Errorf("rows = %+v", got)
	}
	for _, w := range []StatsWindow{
		{Start: start, End: start.Add(3*time.Hour + time.Second), Interval: time.Hour},
		{Start: start, End: start, Interval: time.Hour},
		{Start: start, End: start.Add(time.Hour), Interval: 1500 * time.Millisecond},
	} {
		if _, _, err := c.ListQueueStats(t.Context(), "980634004", "20001", &w); err == nil {
			t.Errorf("ListQueueStats(%+v) = nil error, want one", w)
		}
	}
	if _, _, err := c.ListQueueStats(t.Context(), "", "20001", &StatsWindow{Start: start, End: start.Add(time.Hour), Interval: time.Hour}); err == nil {
		t.Error("ListQueueStats without an rcAccountId = nil error, want one")
	}
	if n := len(b.requests()); n != 1 {
		t.Errorf("%d requests, want only the first", n)
	}
}

// Against the fake: the audit search and agg-queue-stats succeed (no rows yet) with the
// rcAccountId the accounts listing gives; without the entitlements they fail with a 403
// *APIError, which the fake's switches produce.
func TestAuditAndStatsAgainstFake(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		opts       engagefake.Options
		wantAudit  int // 0 = success
		wantStats  int
		wantDetail string
	}{
		{name: "entitled"},
		{name: "no audit log access", opts: engagefake.Options{NoAuditLogAccess: true}, wantAudit: 403, wantDetail: "Audit log access"},
		{name: "no WEM access", opts: engagefake.Options{NoWEMAccess: []string{"20001"}}, wantStats: 403, wantDetail: "WEM Access"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			opts := tt.opts
			opts.Seed, opts.Tenant = 2, smallTenant()
			fake := fixture.Fake(t, opts)
			watch := fixture.NewWatch(t, fake)
			c, err := New(Config{RCServerURL: fake.URL(), EngageServerURL: fake.URL(), ClientID: engagefake.ClientIDDefault,
				ClientSecret: engagefake.ClientSecretDefault, JWT: engagefake.JWTDefault, RequestsPerMinute: 60000, MaxAttempts: 1,
				Logger: watch.Logs.Logger()})
			if err != nil {
				t.Fatal(err)
			}
			accs, _, err := c.ListAccounts(t.Context())
			if err != nil {
				t.Fatal(err)
			}
			sub := accs[0].AccountID
			if sub != "20001" || accs[0].MainAccount == nil || accs[0].MainAccount.RCAccountID == nil {
				t.Fatalf("first account %+v: want 20001 with mainAccount.rcAccountId", accs[0])
			}
			end := time.Now().UTC().Truncate(time.Hour).Add(-time.Hour)
			_, _, err = c.SearchAuditLogs(t.Context(), &AuditLogSearch{AccountID: sub, Start: end.Add(-time.Hour), End: end})
			checkStatus(t, "audit search", watch.Err(err), tt.wantAudit, tt.wantDetail)
			_, _, err = c.ListQueueStats(t.Context(), *accs[0].MainAccount.RCAccountID, sub,
				&StatsWindow{Start: end.Add(-3 * time.Hour), End: end, Interval: time.Hour})
			checkStatus(t, "queue stats", watch.Err(err), tt.wantStats, tt.wantDetail)
		})
	}
}

// checkStatus fails unless err is nil (want 0) or an *APIError with status want whose text
// has detail.
func checkStatus(t *testing.T, what string, err error, want int, detail string) {
	t.Helper()
	var ae *APIError
	switch {
	case want == 0 && err != nil:
		t.Errorf("%s: %v", what, err)
	case want == 0:
	case !errors.As(err, &ae) || ae.StatusCode != want || !strings.Contains(err.Error(), detail):
		t.Errorf("%s: err = %v, want a %d *APIError naming %q", what, err, want, detail)
	}
}

// RCAccountID reads the RingCentral account id with the session's RingCentral token (no
// second grant), the id the accounts listing gives the main account.
func TestRCAccountIDAgainstFake(t *testing.T) {
	t.Parallel()
	fake := fixture.Fake(t, engagefake.Options{Seed: 8, Tenant: smallTenant()})
	watch := fixture.NewWatch(t, fake)
	c, err := New(Config{RCServerURL: fake.URL(), EngageServerURL: fake.URL(), ClientID: engagefake.ClientIDDefault,
		ClientSecret: engagefake.ClientSecretDefault, JWT: engagefake.JWTDefault, RequestsPerMinute: 60000, MaxAttempts: 1,
		Logger: watch.Logs.Logger()})
	if err != nil {
		t.Fatal(err)
	}
	accs, _, err := c.ListAccounts(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	id, err := c.RCAccountID(t.Context())
	if err != nil || id != *accs[0].MainAccount.RCAccountID {
		t.Errorf("RCAccountID = %q, %v; want %q", id, watch.Err(err), *accs[0].MainAccount.RCAccountID)
	}
	if st := fake.Stats(); st.Grants != 1 || st.Requests[engagefake.EndpointRCAccount] != 1 {
		t.Errorf("grants %d, account requests %d; want 1 and 1", st.Grants, st.Requests[engagefake.EndpointRCAccount])
	}
	// Without a session it logs in (a grant) first.
	if err := c.Close(t.Context()); err != nil {
		t.Fatal(err)
	}
	if id2, err := c.RCAccountID(t.Context()); err != nil || id2 != id {
		t.Errorf("RCAccountID after Close = %q, %v; want %q", id2, watch.Err(err), id)
	}
	if st := fake.Stats(); st.Grants != 2 {
		t.Errorf("grants %d, want 2", st.Grants)
	}
}

// An audit entry whose auditedEntityId is an object (the spec's type; the sample sends a
// string) still decodes, without it, and a change's values are kept as sent, objects too; an
// entry without an id fails alone.
func TestAuditLogTolerance(t *testing.T) {
	t.Parallel()
	body := []byte(`[{"id":"a","auditedEntityId":{"id":7},"auditedEntityDescription":["x"],"createTime":null,"auditLogResultList":[{"attributeName":"x","originalValue":{"a":1},"newValue":null}]},{"actionType":"UPDATE"},{"id":"b","auditedEntityId":123}]`)
	items, _, err := decodeList[AuditLog](body)
	var ie *ItemsError
	if !errors.As(err, &ie) || len(ie.Items) != 1 || ie.Items[0].Index != 1 || !strings.Contains(ie.Items[0].Err.Error(), "id is missing") {
		t.Errorf("err = %v, want item 1 without an id", err)
	}
	if len(items) != 2 || items[0].ID != "a" || items[0].AuditedEntityID != nil || items[0].CreateTime != nil ||
		items[1].ID != "b" || items[1].AuditedEntityID == nil || *items[1].AuditedEntityID != "123" ||
		len(items[0].Changes) != 1 || string(items[0].Changes[0].OriginalValue) != `{"a":1}` || items[0].Changes[0].NewValue != nil {
		t.Errorf("items = %+v", items)
	}
}
