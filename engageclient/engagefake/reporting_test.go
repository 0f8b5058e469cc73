package engagefake_test

import (
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/evsync/evsync/engageclient/engagefake"
)

const auditPath = "/voice/api/v1/admin/auditLogs/search"

// sendJSON sends an authenticated request with a JSON body.
func sendJSON(t testing.TB, method, u, token, body string) response {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), method, u, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+token)
	return do(t, req)
}

// rcAccountID is the rcAccountId the accounts listing gives the first sub-account's main
// account.
func rcAccountID(t testing.TB, base, token string) (sub, rc string) {
	t.Helper()
	accs := decode[[]map[string]any](t, get(t, base+accountsPath, token))
	main, _ := accs[0]["mainAccount"].(map[string]any)
	rc, _ = main["rcAccountId"].(string)
	if rc == "" {
		t.Fatalf("the accounts listing has no mainAccount.rcAccountId: %v", accs[0])
	}
	return accs[0]["accountId"].(string), rc
}

// The audit log search validates its body as the facts describe (accountId required, dates
// with an explicit offset, "Z" refused) and answers the window's entries: none in these
// windows, which are after the clock or before the history (audit_test.go has the rest).
func TestAuditSearch(t *testing.T) {
	t.Parallel()
	clock := newClock() // 2026-01-02 03:04:05 UTC: the history starts 2025-12-30 03:00
	s, base := start(t, engagefake.Options{Seed: 3, Now: clock.Now})
	tok, _ := login(t, base)
	sub := s.SubAccountIDs()[0]
	tests := []struct {
		name       string
		method     string
		body       string
		wantStatus int
		wantBody   string // in the answer
	}{
		{"valid", http.MethodPut, `{"accountId":"` + sub + `","startDateTime":"2026-12-01T03:00:00.000+00:00","endDateTime":"2026-12-01T04:00:00.000+00:00","ascOrDesc":"ASCENDING"}`, 200, "[]"},
		{"offset without colon", http.MethodPut, `{"accountId":` + sub + `,"startDateTime":"2025-11-20T00:00:00.000-0800","endDateTime":"2025-11-20T01:00:00.000-0800"}`, 200, "[]"},
		{"unix millis", http.MethodPut, `{"accountId":"` + sub + `","startDateTimeAsUnix":1764547200000,"endDateTimeAsUnix":1764550800000}`, 200, "[]"},
		{"Z refused", http.MethodPut, `{"accountId":"` + sub + `","startDateTime":"2026-12-01T03:00:00.000Z","endDateTime":"2026-12-01T04:00:00.000+00:00"}`, 400, "startDateTime: the Z suffix is not supported"},
		{"no accountId", http.MethodPut, `{"startDateTime":"2026-12-01T03:00:00.000+00:00","endDateTime":"2026-12-01T04:00:00.000+00:00"}`, 400, "accountId is required"},
		{"no end", http.MethodPut, `{"accountId":"` + sub + `","startDateTime":"2026-12-01T03:00:00.000+00:00"}`, 400, "endDateTime (or endDateTimeAsUnix) is required"},
		{"no offset", http.MethodPut, `{"accountId":"` + sub + `","startDateTime":"2026-12-01T03:00:00","endDateTime":"2026-12-01T04:00:00.000+00:00"}`, 400, "explicit UTC offset"},
		{"bad order", http.MethodPut, `{"accountId":"` + sub + `","startDateTime":"2026-12-01T03:00:00.000+00:00","endDateTime":"2026-12-01T04:00:00.000+00:00","ascOrDesc":"UP"}`, 400, "ascOrDesc"},
		{"bad action", http.MethodPut, `{"accountId":"` + sub + `","startDateTime":"2026-12-01T03:00:00.000+00:00","endDateTime":"2026-12-01T04:00:00.000+00:00","auditActions":["READ"]}`, 400, "auditActions"},
		{"not an object", http.MethodPut, `[]`, 400, "expected a JSON object"},
		{"unknown account", http.MethodPut, `{"accountId":"99999","startDateTime":"2026-12-01T03:00:00.000+00:00","endDateTime":"2026-12-01T04:00:00.000+00:00"}`, 404, "account 99999 not found"},
		{"POST", http.MethodPost, `{}`, 405, "use PUT"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { //nolint:paralleltest // the counts below need every request sent
			r := sendJSON(t, tt.method, base+auditPath, tok, tt.body)
			if r.status != tt.wantStatus || !strings.Contains(string(r.body), tt.wantBody) {
				t.Errorf("status %d body %s, want %d with %q", r.status, r.body, tt.wantStatus, tt.wantBody)
			}
		})
	}
	if got := s.Stats().Requests[engagefake.EndpointAuditSearch]; got != int64(len(tests)) {
		t.Errorf("Requests[%s] = %d, want %d", engagefake.EndpointAuditSearch, got, len(tests))
	}
}

// The entitlement switches: a user without "Audit log access" gets 403 from the audit search,
// one without MANAGE_USERS or SUPER_USER from the users listing, and a sub-account without WEM
// Access from its reporting endpoints (another sub-account's still answer).
func TestEntitlementSwitches(t *testing.T) {
	t.Parallel()
	clock := newClock()
	s0 := engagefake.New(engagefake.Options{Seed: 4})
	denied := s0.SubAccountIDs()[0]
	s, base := start(t, engagefake.Options{Seed: 4, Now: clock.Now, NoAuditLogAccess: true, NoManageUsers: true, NoWEMAccess: []string{denied}})
	tok, _ := login(t, base)
	if r := get(t, base+usersPath+"?flatten=true", tok); r.status != http.StatusForbidden || !strings.Contains(string(r.body), "MANAGE_USERS") {
		t.Errorf("users: %d %s, want 403", r.status, r.body)
	}
	body := `{"accountId":"` + denied + `","startDateTime":"2025-12-01T03:00:00.000+00:00","endDateTime":"2025-12-01T04:00:00.000+00:00"}`
	if r := sendJSON(t, http.MethodPut, base+auditPath, tok, body); r.status != http.StatusForbidden || !strings.Contains(string(r.body), "Audit log access") {
		t.Errorf("audit search: %d %s, want 403", r.status, r.body)
	}
	_, rc := rcAccountID(t, base, tok)
	stats := `{"startDate":"2026-01-01 00:00:00","endDate":"2026-01-01 03:00:00","timeInterval":3600,"timeZone":"UTC"}`
	for _, sub := range s.SubAccountIDs() {
		want := http.StatusOK
		if sub == denied {
			want = http.StatusForbidden
		}
		r := sendJSON(t, http.MethodPost, base+statsPath(rc, sub), tok, stats)
		if r.status != want || (want == http.StatusForbidden && !strings.Contains(string(r.body), "WEM Access")) {
			t.Errorf("agg-queue-stats of %s: %d %s, want %d", sub, r.status, r.body, want)
		}
	}
}

func statsPath(rc, sub string) string {
	return "/voice/api/cx/integration/v1/accounts/" + rc + "/sub-accounts/" + sub + "/agg-queue-stats"
}

// agg-queue-stats validates its path and body as the facts describe: the RingCentral account
// id of the sub-account's main account, every required field, "YYYY-MM-DD HH:mm:ss" dates at
// most 3 hours (10800 s) apart in a known time zone, ending at least 5 minutes before now.
func TestQueueStats(t *testing.T) {
	t.Parallel()
	clock := newClock() // 2026-01-02 03:04:05 UTC
	s, base := start(t, engagefake.Options{Seed: 5, Now: clock.Now, ReportingUnlimited: true})
	tok, _ := login(t, base)
	sub, rc := rcAccountID(t, base, tok)
	ok := statsPath(rc, sub)
	tests := []struct {
		name       string
		path       string
		body       string
		wantStatus int
		wantBody   string
	}{
		{"valid", ok, `{"startDate":"2026-01-01 21:00:00","endDate":"2026-01-02 00:00:00","timeInterval":3600,"timeZone":"UTC"}`, 200, `[{"dateTimeFrom":"01-01-2026T21:00:00","interval":60,"queue":`},
		{"in a zone", ok, `{"startDate":"2026-01-01 09:00:00","endDate":"2026-01-01 12:00:00","timeInterval":1800,"timeZone":"US/Eastern","outputFormat":"CSV"}`, 200, `[{"dateTimeFrom":"01-01-2026T09:00:00","interval":30,"queue":`},
		{"bad outputFormat", ok, `{"startDate":"2026-01-01 09:00:00","endDate":"2026-01-01 12:00:00","timeInterval":1800,"timeZone":"US/Eastern","outputFormat":"JSON"}`, 400, "outputFormat must be CSV or XML"},
		{"no startDate", ok, `{"endDate":"2026-01-01 03:00:00","timeInterval":3600,"timeZone":"UTC"}`, 400, "startDate is required"},
		{"no endDate", ok, `{"startDate":"2026-01-01 00:00:00","timeInterval":3600,"timeZone":"UTC"}`, 400, "endDate is required"},
		{"over 3 hours", ok, `{"startDate":"2026-01-01 20:59:59","endDate":"2026-01-02 00:00:00","timeInterval":3600,"timeZone":"UTC"}`, 400, "within 3 hours (10800 seconds)"},
		{"ends too late", ok, `{"startDate":"2026-01-02 00:00:00","endDate":"2026-01-02 03:00:00","timeInterval":3600,"timeZone":"UTC"}`, 400, "at least 5 minutes before"},
		{"end before start", ok, `{"startDate":"2026-01-01 03:00:00","endDate":"2026-01-01 02:00:00","timeInterval":3600,"timeZone":"UTC"}`, 400, "endDate must be after startDate"},
		{"ISO date", ok, `{"startDate":"2026-01-01T00:00:00Z","endDate":"2026-01-01 03:00:00","timeInterval":3600,"timeZone":"UTC"}`, 400, "startDate:"},
		{"no timeZone", ok, `{"startDate":"2026-01-01 00:00:00","endDate":"2026-01-01 03:00:00","timeInterval":3600}`, 400, "timeZone is required"},
		{"unknown zone", ok, `{"startDate":"2026-01-01 00:00:00","endDate":"2026-01-01 03:00:00","timeInterval":3600,"timeZone":"Mars/Olympus"}`, 400, "unknown time zone"},
		{"no interval", ok, `{"startDate":"2026-01-01 00:00:00","endDate":"2026-01-01 03:00:00","timeZone":"UTC"}`, 400, "timeInterval is required"},
		{"zero interval", ok, `{"startDate":"2026-01-01 00:00:00","endDate":"2026-01-01 03:00:00","timeInterval":0,"timeZone":"UTC"}`, 400, "positive integer"},
		{"main account id for rcAccountId", statsPath("10001", sub), `{"startDate":"2026-01-01 00:00:00","endDate":"2026-01-01 03:00:00","timeInterval":3600,"timeZone":"UTC"}`, 404, "has no sub-account"},
		{"unknown sub-account", statsPath(rc, "99999"), `{}`, 404, "sub-account 99999 not found"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { //nolint:paralleltest // the counts below need every request sent
			r := sendJSON(t, http.MethodPost, base+tt.path, tok, tt.body)
			if r.status != tt.wantStatus || !strings.Contains(string(r.body), tt.wantBody) {
				t.Errorf("status %d body %s, want %d with %q", r.status, r.body, tt.wantStatus, tt.wantBody)
			}
		})
	}
	if r := sendJSON(t, http.MethodGet, base+ok, tok, ""); r.status != http.StatusMethodNotAllowed {
		t.Errorf("GET: %d, want 405", r.status)
	}
	if got := s.Stats().Requests[engagefake.EndpointQueueStats]; got != int64(len(tests)+1) {
		t.Errorf("Requests[%s] = %d, want %d", engagefake.EndpointQueueStats, got, len(tests)+1)
	}
}

// LiveRCTokens counts the RingCentral tokens issued and not revoked.
func TestLiveRCTokens(t *testing.T) {
	t.Parallel()
	s, base := start(t, engagefake.Options{Seed: 6})
	tok := rcGrant(t, base)["access_token"].(string)
	if n := s.LiveRCTokens(); n != 1 {
		t.Fatalf("LiveRCTokens after a grant = %d, want 1", n)
	}
	postForm(t, base+"/restapi/oauth/revoke", map[string][]string{"token": {tok}}, engagefake.ClientIDDefault, engagefake.ClientSecretDefault)
	if n := s.LiveRCTokens(); n != 0 {
		t.Errorf("LiveRCTokens after the revoke = %d, want 0", n)
	}
}

// GET /restapi/v1.0/account/~ answers the RingCentral account of a live RingCentral token: the
// rcAccountId the accounts listing gives its main account (as generated, even when a test
// changes the listing); another token gets 401.
func TestRCAccount(t *testing.T) {
	t.Parallel()
	s, base := start(t, engagefake.Options{Seed: 7})
	rcTok := rcGrant(t, base)["access_token"].(string)
	engTok := exchange(t, base, rcTok)
	tok := decode[map[string]any](t, engTok)["accessToken"].(string)
	_, rc := rcAccountID(t, base, tok)
	if err := s.Mutate(func(tn *engagefake.Tenant) error {
		return tn.UpdateMainAccount("10001", "rcAccountId", engagefake.Omit)
	}); err != nil {
		t.Fatal(err)
	}
	r := get(t, base+"/restapi/v1.0/account/~", rcTok)
	if m := decode[map[string]any](t, r); r.status != http.StatusOK || m["id"] != mustFloat(t, rc) {
		t.Errorf("account/~ = %d %s, want id %s", r.status, r.body, rc)
	}
	if r := get(t, base+"/restapi/v1.0/account/~", tok); r.status != http.StatusUnauthorized {
		t.Errorf("account/~ with an Engage token = %d, want 401", r.status)
	}
	if got := s.Stats().Requests[engagefake.EndpointRCAccount]; got != 2 {
		t.Errorf("Requests[%s] = %d, want 2", engagefake.EndpointRCAccount, got)
	}
}

func mustFloat(t *testing.T, s string) float64 {
	t.Helper()
	f, err := strconv.ParseFloat(s, 64)
	if err != nil {
		t.Fatal(err)
	}
	return f
}

// The admin rate limiter neither refuses nor counts the integration reporting requests: they
// have their own limits. With a bucket of 2 on a stopped clock, five reporting requests pass
// after the accounts listing took one token, and the next listing still gets the other.
func TestReportingExemptFromAdminLimiter(t *testing.T) {
	t.Parallel()
	clock := newClock()
	_, base, tok, sub, rc := reportingSetup(t, engagefake.Options{Seed: 55, Now: clock.Now, RateLimit: 1, RateBurst: 2,
		ReportingUnlimited: true})
	from := clock.Now().Truncate(time.Hour).Add(-2 * time.Hour)
	for i := range 5 {
		r := sendJSON(t, http.MethodPost, base+reportingPath(rc, sub, "agg-queue-stats"), tok, statsBody(from, from.Add(time.Hour), 3600, time.UTC))
		if r.status != http.StatusOK || r.header.Get("X-Rate-Limit-Limit") != "" {
			t.Fatalf("reporting request %d: %d X-Rate-Limit-Limit %q, want 200 without it", i+1, r.status, r.header.Get("X-Rate-Limit-Limit"))
		}
	}
	if r := get(t, base+accountsPath, tok); r.status != http.StatusOK {
		t.Fatalf("listing after the reporting requests: %d, want 200 (a token left)", r.status)
	}
	if r := get(t, base+accountsPath, tok); r.status != http.StatusTooManyRequests {
		t.Fatalf("third listing: %d, want 429 (the bucket is empty)", r.status)
	}
}
