package engageclient

import (
	"errors"
	"io"
	"net/http"
	"strings"
	gosync "sync"
	"testing"
	"time"

	"github.com/evsync/evsync/engageclient/engagefake"
)

// Tests of what issue 8 found against references nobody on the team wrote.

// recorder is an http.RoundTripper that records every request and can rewrite responses.
type recorder struct {
	next http.RoundTripper

	mu      gosync.Mutex
	reqs    []recorded
	rewrite func(r *http.Request, resp *http.Response) *http.Response // optional
}

type recorded struct {
	method, escapedPath, accept string
	start, end                  time.Time
	status                      int
}

func (rt *recorder) RoundTrip(r *http.Request) (*http.Response, error) {
	start := time.Now()
	resp, err := rt.next.RoundTrip(r)
	if err == nil && rt.rewrite != nil {
		resp = rt.rewrite(r, resp)
	}
	rec := recorded{method: r.Method, escapedPath: r.URL.EscapedPath(), accept: r.Header.Get("Accept"), start: start, end: time.Now()}
	if resp != nil {
		rec.status = resp.StatusCode
	}
	rt.mu.Lock()
	rt.reqs = append(rt.reqs, rec)
	rt.mu.Unlock()
	return resp, err
}

func (rt *recorder) all() []recorded {
	rt.mu.Lock()
	defer rt.mu.Unlock()
	return append([]recorded(nil), rt.reqs...)
}

// newRecordedEnv is newEnv with a recorder around the client's transport.
func newRecordedEnv(t *testing.T, opts engagefake.Options, mod func(*Config)) (*env, *recorder) {
	t.Helper()
	rec := &recorder{next: http.DefaultTransport}
	e := newEnv(t, opts, func(c *Config) {
		c.HTTPClient = &http.Client{Transport: rec}
		if mod != nil {
			mod(c)
		}
	})
	return e, rec
}

// A 429's Retry-After holds back the requests that were already waiting on the limiter too: no
// admin request starts inside the announced window.
func TestRetryAfterHoldsQueuedRequests(t *testing.T) {
	t.Parallel()
	e, rec := newRecordedEnv(t, engagefake.Options{Seed: 1, Tenant: smallTenant()}, func(c *Config) {
		c.RequestsPerMinute = 600 // one request per 100 ms: several wait on the limiter at any time
		c.Concurrency = 4
	})
	ctx := t.Context()
	if _, err := e.c.Login(ctx); err != nil {
		t.Fatal(err)
	}
	e.fake.SetFault(engagefake.EndpointAgents, engagefake.Fault{Status: http.StatusTooManyRequests, RetryAfter: "1", Times: 1})
	groups := e.fake.AgentGroupIDs(e.fake.SubAccountIDs()[0])
	var wg gosync.WaitGroup
	for i := range 8 {
		wg.Go(func() {
			_, _, err := e.c.ListAgents(ctx, e.fake.SubAccountIDs()[0], int64(groups[i%len(groups)]))
			if err != nil {
				t.Error(e.err(err))
			}
		})
	}
	wg.Wait()
	var announced time.Time
	for _, r := range rec.all() {
		if r.status == http.StatusTooManyRequests {
			announced = r.end
		}
	}
	if announced.IsZero() {
		t.Fatal("no 429 was served")
	}
	window := announced.Add(time.Second)
	for _, r := range rec.all() {
		if strings.Contains(r.escapedPath, "/agents") && r.start.After(announced) && r.start.Before(window) {
			t.Errorf("a request started %v after the 429 announced a 1s pause", r.start.Sub(announced).Round(time.Millisecond))
		}
	}
}

// Any 401 from the admin API gets one renewal and one replay, with or without a body (the spec
// documents 401 with no content); a second 401 is returned, never looped on.
func TestUnauthorizedWithoutBodyRenewedOnce(t *testing.T) {
	t.Parallel()
	for _, always := range []bool{false, true} {
		name := map[bool]string{false: "once", true: "always"}[always]
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			e, rec := newRecordedEnv(t, engagefake.Options{Seed: 1, Tenant: smallTenant()}, nil)
			var mu gosync.Mutex
			served := 0
			rec.rewrite = func(r *http.Request, resp *http.Response) *http.Response {
				if !strings.HasSuffix(r.URL.Path, "/admin/accounts") {
					return resp
				}
				mu.Lock()
				defer mu.Unlock()
				if served > 0 && !always {
					return resp
				}
				served++
				resp.Body.Close()
				return &http.Response{StatusCode: http.StatusUnauthorized, Status: "401 Unauthorized",
					Header: http.Header{}, Body: io.NopCloser(strings.NewReader("")), Request: r}
			}
			_, _, err := e.c.ListAccounts(t.Context())
			e.err(err)
			admin := 0
			for _, r := range rec.all() {
				if strings.HasSuffix(r.escapedPath, "/admin/accounts") {
					admin++
				}
			}
			if admin != 2 {
				t.Errorf("accounts requests = %d, want 2 (one replay, no loop)", admin)
			}
			if got := e.c.Stats().Refreshes; got != 1 {
				t.Errorf("refreshes = %d, want 1", got)
			}
			var ae *APIError
			switch {
			case always && (!errors.As(err, &ae) || ae.StatusCode != http.StatusUnauthorized):
				t.Errorf("err = %v, want the second 401", err)
			case !always && err != nil:
				t.Errorf("err = %v, want the replay to succeed", err)
			}
		})
	}
}

// Close revokes the session: the logout asks for the text/plain its documented 200 carries (an
// Accept of application/json gets 406), and a failed logout is logged as a warning.
func TestLogoutAcceptsTextPlain(t *testing.T) {
	t.Parallel()
	e, rec := newRecordedEnv(t, engagefake.Options{Seed: 1, Tenant: smallTenant()}, nil)
	if _, err := e.c.Login(t.Context()); err != nil {
		t.Fatal(err)
	}
	if err := e.c.Close(t.Context()); err != nil {
		t.Fatal(e.err(err))
	}
	var logout *recorded
	for _, r := range rec.all() {
		if strings.HasPrefix(r.escapedPath, "/api/auth/logout/") {
			logout = &r
		}
	}
	if logout == nil {
		t.Fatal("no logout request")
	}
	if !strings.Contains(logout.accept, "text/plain") {
		t.Errorf("logout Accept = %q, want text/plain", logout.accept)
	}
	if logout.status != http.StatusOK && logout.status != http.StatusNoContent {
		t.Errorf("logout status = %d, want 200 or 204", logout.status)
	}
	if strings.Contains(e.logs.String(), "logging the refresh token out failed") {
		t.Errorf("logout failed: %s", e.logs.String())
	}

	// A logout the server refuses is a warning, not a debug line.
	e2, _ := newRecordedEnv(t, engagefake.Options{Seed: 1, Tenant: smallTenant()}, nil)
	if _, err := e2.c.Login(t.Context()); err != nil {
		t.Fatal(err)
	}
	e2.fake.SetFault(engagefake.EndpointLogout, engagefake.Fault{Status: http.StatusNotAcceptable})
	if err := e2.c.Close(t.Context()); err != nil {
		t.Fatal(e2.err(err))
	}
	if logs := e2.logs.String(); !strings.Contains(logs, "level=WARN") || !strings.Contains(logs, "logging the refresh token out failed") {
		t.Errorf("a refused logout is not logged as a warning:\n%s", logs)
	}
}

// Ids in a URL path are escaped exactly once, and ids that would be dot segments (or empty) are
// rejected without a request.
func TestPathSegmentsEscapedOnce(t *testing.T) {
	t.Parallel()
	e, rec := newRecordedEnv(t, engagefake.Options{Seed: 1, Tenant: smallTenant()}, nil)
	ctx := t.Context()
	_, _, err := e.c.ListAgentGroups(ctx, "a b/c%d", nil)
	e.err(err)
	_, _, err = e.c.ListAgents(ctx, "x?y", 7)
	e.err(err)
	var paths []string
	for _, r := range rec.all() {
		if strings.HasPrefix(r.escapedPath, "/voice/") {
			paths = append(paths, r.escapedPath)
		}
	}
	want := []string{
		"/voice/api/v1/admin/accounts/a%20b%2Fc%25d/agentGroups",
		"/voice/api/v1/admin/accounts/x%3Fy/agentGroups/7/agents",
	}
	if strings.Join(paths, "\n") != strings.Join(want, "\n") {
		t.Errorf("paths requested:\n%s\nwant:\n%s", strings.Join(paths, "\n"), strings.Join(want, "\n"))
	}

	before := len(rec.all())
	for _, id := range []string{"", ".", ".."} {
		if _, _, err := e.c.ListAgentGroups(ctx, id, nil); err == nil || !strings.Contains(err.Error(), "invalid sub-account id") {
			t.Errorf("ListAgentGroups(%q) err = %v, want invalid sub-account id", id, err)
		}
		if _, _, err := e.c.ListAgents(ctx, id, 1); err == nil || !strings.Contains(err.Error(), "invalid sub-account id") {
			t.Errorf("ListAgents(%q) err = %v, want invalid sub-account id", id, err)
		}
	}
	if n := len(rec.all()) - before; n != 0 {
		t.Errorf("%d requests made for invalid ids", n)
	}
}

// A listing with one item that cannot be decoded returns the others and an *ItemsError naming
// the endpoint and the item's index, once (no repeated prefixes).
func TestListingItemErrors(t *testing.T) {
	t.Parallel()
	e := newEnv(t, engagefake.Options{Seed: 1, Tenant: smallTenant()}, nil)
	ids := e.fake.UserIDs()
	if err := e.fake.Mutate(func(tn *engagefake.Tenant) error { return tn.UpdateUser(ids[2], "userId", engagefake.Omit) }); err != nil {
		t.Fatal(err)
	}
	users, _, err := e.c.ListUsers(t.Context(), &UserListOptions{Flatten: true})
	e.err(err)
	var ie *ItemsError
	if !errors.As(err, &ie) || len(ie.Items) != 1 || ie.Items[0].Index != 2 {
		t.Fatalf("err = %v, want an *ItemsError for item 2", err)
	}
	if len(users) != len(ids)-1 {
		t.Errorf("got %d users, want the %d others", len(users), len(ids)-1)
	}
	want := "listing users: decoding GET /voice/api/v1/admin/users response: item 2: userId is missing"
	if err.Error() != want {
		t.Errorf("err = %q\nwant  %q", err, want)
	}

	// Paged agent groups: the bad item keeps its place on the page (the listing still ends on
	// the short page), and the good ones come back.
	sub := e.fake.SubAccountIDs()[0]
	gids := e.fake.AgentGroupIDs(sub)
	if err := e.fake.Mutate(func(tn *engagefake.Tenant) error { return tn.UpdateAgentGroup(gids[1], "agentGroupId", "not a number") }); err != nil {
		t.Fatal(err)
	}
	groups, resp, err := e.c.ListAgentGroups(t.Context(), sub, &ListOptions{MaxRows: 2})
	e.err(err)
	if !errors.As(err, &ie) || len(groups) != len(gids)-1 || resp.Pages != 2 {
		t.Errorf("groups = %d, pages = %d, err = %v; want %d groups in 2 pages and an *ItemsError", len(groups), resp.Pages, err, len(gids)-1)
	}
	if !strings.Contains(err.Error(), "(page 0): decoding GET /voice/api/v1/admin/accounts/"+sub+"/agentGroups response: item 1: ") {
		t.Errorf("err = %q", err)
	}
}

// A date the spec allows but no database holds, or a value that is no date, does not fail its
// object: the object decodes and the date is invalid (stored as NULL), or valid for the sink to
// judge.
func TestOddDatesDoNotFailTheListing(t *testing.T) {
	t.Parallel()
	e := newEnv(t, engagefake.Options{Seed: 1, Tenant: smallTenant()}, nil)
	sub := e.fake.SubAccountIDs()[0]
	gid := e.fake.AgentGroupIDs(sub)[0]
	aids := e.fake.AgentIDs(gid)
	if err := e.fake.Mutate(func(tn *engagefake.Tenant) error {
		return tn.UpdateAgent(aids[0], "createdOn", map[string]any{"millis": int64(-1) << 53})
	}); err != nil {
		t.Fatal(err)
	}
	if err := e.fake.Mutate(func(tn *engagefake.Tenant) error { return tn.UpdateAgent(aids[1], "lastLoginDate", "last Tuesday") }); err != nil {
		t.Fatal(err)
	}
	agents, _, err := e.c.ListAgents(t.Context(), sub, int64(gid))
	if err != nil {
		t.Fatal(e.err(err))
	}
	if len(agents) != len(aids) {
		t.Fatalf("got %d agents, want %d", len(agents), len(aids))
	}
	if !agents[0].CreatedOn.Valid || agents[0].CreatedOn.Year() > -280000 {
		t.Errorf("createdOn = %v, want valid, about 285,000 BC", agents[0].CreatedOn)
	}
	if agents[1].LastLoginDate.Valid {
		t.Errorf("lastLoginDate = %v, want invalid", agents[1].LastLoginDate)
	}
}
