package engageclient

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	gosync "sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/evsync/evsync/engageclient/engagefake"
	"github.com/evsync/evsync/internal/testing/fixture"
)

// env is one test's fake server and client, with a log capture and the errors seen, both
// checked for the fake's secrets when the test ends (fixture.Watch).
type env struct {
	t     *testing.T
	fake  *engagefake.Server
	c     *Client
	logs  *fixture.Logs
	watch *fixture.Watch
}

// newEnv starts a fake with opts and a client on it, configured for fast tests; mod adjusts the
// client config.
func newEnv(t *testing.T, opts engagefake.Options, mod func(*Config)) *env {
	t.Helper()
	fake := fixture.Fake(t, opts)
	w := fixture.NewWatch(t, fake)
	e := &env{t: t, fake: fake, logs: w.Logs, watch: w}
	cfg := Config{
		RCServerURL:       fake.URL(),
		EngageServerURL:   fake.URL(),
		ClientID:          engagefake.ClientIDDefault,
		ClientSecret:      engagefake.ClientSecretDefault,
		JWT:               engagefake.JWTDefault,
		RequestsPerMinute: 6000,
		Concurrency:       4,
		BackoffBase:       10 * time.Millisecond,
		BackoffCap:        100 * time.Millisecond,
		MaxRetryDuration:  20 * time.Second,
		RequestTimeout:    5 * time.Second,
		Logger:            w.Logs.Logger(),
	}
	if opts.ClientSecret != "" {
		cfg.ClientSecret = opts.ClientSecret
	}
	if opts.JWT != "" {
		cfg.JWT = opts.JWT
	}
	if mod != nil {
		mod(&cfg)
	}
	c, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	e.c = c
	return e
}

// err records err for the secret check and returns it.
func (e *env) err(err error) error { return e.watch.Err(err) }

func smallTenant() engagefake.TenantSpec {
	return engagefake.TenantSpec{MainAccounts: 1, SubAccountsPerMain: 2, AgentGroupsPerSubAccount: 3, AgentsPerGroup: 4, Users: 8}
}

// listAll walks the whole tenant the way sync does and returns the counts.
func listAll(ctx context.Context, e *env, parallel bool) (engagefake.Counts, error) {
	var got engagefake.Counts
	accounts, _, err := e.c.ListAccounts(ctx)
	if err != nil {
		return got, e.err(err)
	}
	got.SubAccounts = len(accounts)
	mains := map[string]bool{}
	for _, a := range accounts {
		mains[a.MainAccountID] = true
	}
	got.MainAccounts = len(mains)
	users, _, err := e.c.ListUsers(ctx, &UserListOptions{Flatten: true})
	if err != nil {
		return got, e.err(err)
	}
	got.Users = len(users)
	var (
		mu   gosync.Mutex
		wg   gosync.WaitGroup
		errs []error
	)
	for _, a := range accounts {
		groups, _, err := e.c.ListAgentGroups(ctx, a.AccountID, nil)
		if err != nil {
			return got, e.err(err)
		}
		got.AgentGroups += len(groups)
		for _, g := range groups {
			run := func() {
				agents, _, err := e.c.ListAgents(ctx, a.AccountID, g.AgentGroupID)
				mu.Lock()
				defer mu.Unlock()
				if err != nil {
					errs = append(errs, e.err(err))
					return
				}
				got.Agents += len(agents)
			}
			if parallel {
				wg.Go(run)
			} else {
				run()
			}
		}
	}
	wg.Wait()
	if err := listConfig(ctx, e, accounts, &got); err != nil {
		errs = append(errs, err)
	}
	return got, errors.Join(errs...)
}

// listConfig lists every sub-account's configuration and adds it to got.
func listConfig(ctx context.Context, e *env, accounts []*Account, got *engagefake.Counts) error {
	for _, a := range accounts {
		groups, _, err := e.c.ListGateGroupsWithChildren(ctx, a.AccountID)
		if err != nil {
			return e.err(err)
		}
		got.QueueGroups += len(groups)
		for _, g := range groups {
			got.Queues += len(g.Gates)
			skills, _, err := e.c.ListGateGroupSkills(ctx, a.AccountID, g.GateGroupID)
			if err != nil {
				return e.err(err)
			}
			got.Skills += len(skills)
			for _, q := range g.Gates {
				agents, _, err := e.c.ListGateAssignedAgents(ctx, a.AccountID, g.GateGroupID, q.GateID, nil)
				if err != nil {
					return e.err(err)
				}
				got.QueueAssignments += len(agents)
			}
		}
		dialGroups, _, err := e.c.ListDialGroupsWithChildren(ctx, a.AccountID)
		if err != nil {
			return e.err(err)
		}
		got.DialGroups += len(dialGroups)
		for _, d := range dialGroups {
			got.Campaigns += len(d.Campaigns)
			agents, _, err := e.c.ListDialGroupAssignedAgents(ctx, a.AccountID, d.DialGroupID, nil)
			if err != nil {
				return e.err(err)
			}
			got.DialGroupAssignments += len(agents)
		}
	}
	return nil
}

func TestChain(t *testing.T) {
	t.Parallel()
	e := newEnv(t, engagefake.Options{Seed: 7, Tenant: smallTenant()}, nil)
	ctx := t.Context()

	d, err := e.c.Login(ctx)
	if err != nil {
		t.Fatal(e.err(err))
	}
	if d.MainAccountID == "" || d.AdminID == nil || d.TokenType == nil || *d.TokenType != "Bearer" {
		t.Errorf("login details incomplete: %+v", d)
	}
	if bytes.Contains(d.Raw, []byte("accessToken")) || bytes.Contains(d.Raw, []byte("refreshToken")) {
		t.Errorf("login Raw keeps token fields: %s", d.Raw)
	}
	// A second Login reuses the session.
	if d2, err := e.c.Login(ctx); err != nil || d2 != d {
		t.Fatalf("second Login = %p, %v; want the same details", d2, err)
	}

	got, err := listAll(ctx, e, true)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(e.fake.Counts(), got); diff != "" {
		t.Errorf("listed counts (-want +got):\n%s", diff)
	}

	accounts, resp, err := e.c.ListAccounts(ctx)
	if err != nil {
		t.Fatal(e.err(err))
	}
	if resp == nil || resp.StatusCode != http.StatusOK || resp.Pages != 1 {
		t.Errorf("response = %+v", resp)
	}
	for _, a := range accounts {
		if a.MainAccountID != d.MainAccountID || a.AccountName == nil || !a.StartDate.Valid || len(a.Raw) == 0 {
			t.Errorf("account %s decoded incompletely: main %q, raw %d bytes", a.AccountID, a.MainAccountID, len(a.Raw))
		}
	}

	// Nested users: the same users and the same parents as the flat listing.
	flat, _, err := e.c.ListUsers(ctx, &UserListOptions{Flatten: true})
	if err != nil {
		t.Fatal(e.err(err))
	}
	nested, _, err := e.c.ListUsers(ctx, nil)
	if err != nil {
		t.Fatal(e.err(err))
	}
	parents := func(us []*User) map[int64]int64 {
		m := map[int64]int64{}
		for _, u := range us {
			if p := u.ParentUserID(); p != nil {
				m[u.UserID] = *p
			} else {
				m[u.UserID] = 0
			}
		}
		return m
	}
	if len(nested) >= len(flat) {
		t.Errorf("nested listing has %d top-level users, flat %d: not nested", len(nested), len(flat))
	}
	if diff := cmp.Diff(parents(flat), parents(FlattenUsers(nested))); diff != "" {
		t.Errorf("parents flat vs nested (-flat +nested):\n%s", diff)
	}
	active, _, err := e.c.ListUsers(ctx, &UserListOptions{Flatten: true, ActiveOnly: true})
	if err != nil {
		t.Fatal(e.err(err))
	}
	for _, u := range active {
		if u.Enabled != nil && !*u.Enabled {
			t.Errorf("activeOnly listing has disabled user %d", u.UserID)
		}
	}

	st := e.c.Stats()
	if st.Grants != 1 || st.Exchanges != 1 || st.Refreshes != 0 || st.Retries != 0 || st.RateLimited != 0 {
		t.Errorf("client stats = %+v", st)
	}
	fs := e.fake.Stats()
	var apiRequests int64
	for _, name := range engagefake.Endpoints {
		if !strings.Contains(name, ".") { // the auth endpoints are rc.* and engage.*
			apiRequests += fs.Requests[name]
		}
	}
	if st.Requests != apiRequests {
		t.Errorf("client counted %d requests, fake received %d", st.Requests, apiRequests)
	}

	if err := e.c.Close(ctx); err != nil {
		t.Fatal(e.err(err))
	}
	if fs := e.fake.Stats(); fs.Revokes != 1 || fs.Requests["engage.logout"] != 1 {
		t.Errorf("fake revokes = %d, logouts = %d, want 1 and 1", fs.Revokes, fs.Requests["engage.logout"])
	}
	// The client serves the next run: a new session, closed again.
	if _, _, err := e.c.ListAccounts(ctx); err != nil {
		t.Fatalf("ListAccounts after Close = %v", e.err(err))
	}
	if st := e.c.Stats(); st.Grants != 2 || st.Exchanges != 2 {
		t.Errorf("after Close and a new call: stats = %+v, want a second grant and exchange", st)
	}
	if err := e.c.Close(ctx); err != nil {
		t.Fatal(e.err(err))
	}
	if err := e.c.Close(ctx); err != nil {
		t.Errorf("Close without a session = %v", err)
	}
	if fs := e.fake.Stats(); fs.Revokes != 2 {
		t.Errorf("fake revokes = %d, want 2", fs.Revokes)
	}
}

func TestLazyLoginAndPaging(t *testing.T) {
	t.Parallel()
	spec := smallTenant()
	spec.AgentGroupsPerSubAccount = 5
	e := newEnv(t, engagefake.Options{Seed: 3, Tenant: spec}, nil)
	ctx := t.Context()
	sub := e.fake.SubAccountIDs()[0]
	all, _, err := e.c.ListAgentGroups(ctx, sub, nil) // logs in by itself
	if err != nil {
		t.Fatal(e.err(err))
	}
	ids := func(gs []*AgentGroup) []int64 {
		var out []int64
		for _, g := range gs {
			out = append(out, g.AgentGroupID)
		}
		return out
	}
	tests := []struct {
		opts      ListOptions
		wantPages int
		wantFrom  int
	}{
		{ListOptions{MaxRows: 2}, 3, 0},
		{ListOptions{MaxRows: 5}, 2, 0},
		{ListOptions{MaxRows: 50}, 1, 0},
		{ListOptions{Page: 1, MaxRows: 2}, 2, 2},
	}
	for _, tt := range tests {
		before := e.fake.Stats().Requests["agentGroups"]
		got, resp, err := e.c.ListAgentGroups(ctx, sub, &tt.opts)
		if err != nil {
			t.Fatal(e.err(err))
		}
		if diff := cmp.Diff(ids(all)[tt.wantFrom:], ids(got)); diff != "" {
			t.Errorf("%+v: ids (-want +got):\n%s", tt.opts, diff)
		}
		if resp.Pages != tt.wantPages {
			t.Errorf("%+v: Pages = %d, want %d", tt.opts, resp.Pages, tt.wantPages)
		}
		if n := e.fake.Stats().Requests["agentGroups"] - before; n != int64(tt.wantPages) {
			t.Errorf("%+v: %d requests, want %d", tt.opts, n, tt.wantPages)
		}
	}
	if st := e.c.Stats(); st.Grants != 1 || st.Exchanges != 1 {
		t.Errorf("stats = %+v, want one grant and one exchange", st)
	}
}

// A token that expires many times during one listing (TTL 1–2 s, latency added) costs zero
// failed calls: the client refreshes ahead of expiry, and a token the server still finds
// expired (its exp has whole seconds, so a 1 s token may live only a few ms) is replayed once.
func TestTokenExpiresDuringListing(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("lists for seconds while tokens expire: skipped with -short")
	}
	for _, ttl := range []time.Duration{time.Second, 2 * time.Second} {
		t.Run(ttl.String(), func(t *testing.T) {
			t.Parallel()
			spec := engagefake.TenantSpec{MainAccounts: 1, SubAccountsPerMain: 2, AgentGroupsPerSubAccount: 10, AgentsPerGroup: 3, Users: 10}
			e := newEnv(t, engagefake.Options{Seed: 11, Tenant: spec, TokenTTL: ttl, Latency: 15 * time.Millisecond},
				func(c *Config) { c.RequestsPerMinute = 1200 })
			ctx := t.Context()
			want := e.fake.Counts()
			deadline := time.Now().Add(5 * time.Second)
			rounds := 0
			for rounds < 2 || time.Now().Before(deadline) {
				got, err := listAll(ctx, e, true)
				if err != nil {
					t.Fatalf("round %d: %v", rounds, err)
				}
				if diff := cmp.Diff(want, got); diff != "" {
					t.Fatalf("round %d counts (-want +got):\n%s", rounds, diff)
				}
				rounds++
			}
			st := e.c.Stats()
			fs := e.fake.Stats()
			t.Logf("ttl %s: %d rounds, %d requests, %d refreshes, %d 401s", ttl, rounds, st.Requests, st.Refreshes, fs.Unauthorized)
			if st.Refreshes < 2 {
				t.Errorf("refreshes = %d over %d rounds; the token should have been refreshed repeatedly", st.Refreshes, rounds)
			}
			if st.Exchanges != 1 || st.Grants != 1 {
				t.Errorf("stats = %+v: refresh should suffice, without new exchanges or grants", st)
			}
			if fs.Refreshes != st.Refreshes {
				t.Errorf("fake refreshes = %d, client counted %d", fs.Refreshes, st.Refreshes)
			}
		})
	}
}

// Many goroutines finding the token near expiry at once cause exactly one refresh.
func TestSingleRefreshUnderConcurrentExpiry(t *testing.T) {
	t.Parallel()
	for _, mode := range []string{"proactive", "rejected"} {
		t.Run(mode, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, engagefake.Options{Seed: 5, Tenant: smallTenant(), TokenTTL: time.Minute},
				func(c *Config) { c.Concurrency = 16 })
			ctx := t.Context()
			if _, err := e.c.Login(ctx); err != nil {
				t.Fatal(e.err(err))
			}
			switch mode {
			case "proactive": // the token has 5 s left (< 20% of 60 s): due for refresh
				e.c.ts.mu.Lock()
				e.c.ts.engage.expiry = time.Now().Add(5 * time.Second)
				e.c.ts.mu.Unlock()
			case "rejected": // the server rejects every token issued so far: 401 "Jwt is expired"
				e.fake.ExpireTokens()
			}
			start := make(chan struct{})
			var wg gosync.WaitGroup
			var failed atomic.Int64
			for range 32 {
				wg.Go(func() {
					<-start
					if _, _, err := e.c.ListAccounts(ctx); err != nil {
						e.err(err)
						failed.Add(1)
					}
				})
			}
			close(start)
			wg.Wait()
			if n := failed.Load(); n != 0 {
				t.Fatalf("%d calls failed", n)
			}
			if st := e.c.Stats(); st.Refreshes != 1 || st.Exchanges != 1 || st.Grants != 1 {
				t.Errorf("client stats = %+v, want exactly one refresh", st)
			}
			if fs := e.fake.Stats(); fs.Refreshes != 1 {
				t.Errorf("fake refreshes = %d, want 1", fs.Refreshes)
			}
		})
	}
}

// A 401 "Jwt is expired" triggers one refresh and one replay, never a loop.
func TestExpired401ReplayedOnce(t *testing.T) {
	t.Parallel()
	t.Run("replay succeeds", func(t *testing.T) {
		t.Parallel()
		e := newEnv(t, engagefake.Options{Seed: 1, Tenant: smallTenant()}, nil)
		e.fake.SetFault(engagefake.EndpointAccounts, engagefake.Fault{Status: http.StatusUnauthorized, Times: 1})
		if _, _, err := e.c.ListAccounts(t.Context()); err != nil {
			t.Fatal(e.err(err))
		}
		if n := e.fake.Stats().Requests["accounts"]; n != 2 {
			t.Errorf("accounts requests = %d, want 2", n)
		}
		if st := e.c.Stats(); st.Refreshes != 1 || st.Retries != 0 {
			t.Errorf("stats = %+v, want one refresh and no retry", st)
		}
	})
	t.Run("persistent 401 is not looped", func(t *testing.T) {
		t.Parallel()
		e := newEnv(t, engagefake.Options{Seed: 1, Tenant: smallTenant()}, nil)
		e.fake.SetFault(engagefake.EndpointAccounts, engagefake.Fault{Status: http.StatusUnauthorized})
		_, resp, err := e.c.ListAccounts(t.Context())
		e.err(err)
		var ae *APIError
		if !errors.As(err, &ae) || ae.StatusCode != http.StatusUnauthorized || !strings.Contains(ae.Body, "expired") {
			t.Fatalf("err = %v, want a 401 *APIError", err)
		}
		if resp == nil || resp.StatusCode != http.StatusUnauthorized {
			t.Errorf("resp = %v, want the 401", resp)
		}
		if IsRetryable(err) {
			t.Errorf("IsRetryable(401) = true")
		}
		if n := e.fake.Stats().Requests["accounts"]; n != 2 {
			t.Errorf("accounts requests = %d, want 2 (one replay)", n)
		}
		if st := e.c.Stats(); st.Refreshes != 1 {
			t.Errorf("refreshes = %d, want 1", st.Refreshes)
		}
	})
}

// When the refresh fails the client exchanges the RingCentral token again; when that fails it
// runs the JWT grant again.
func TestRenewFallbacks(t *testing.T) {
	t.Parallel()
	e := newEnv(t, engagefake.Options{Seed: 1, Tenant: smallTenant()}, nil)
	ctx := t.Context()
	if _, err := e.c.Login(ctx); err != nil {
		t.Fatal(e.err(err))
	}
	e.fake.SetFault(engagefake.EndpointRefresh, engagefake.Fault{Status: http.StatusBadRequest})
	e.fake.ExpireTokens()
	if _, _, err := e.c.ListAccounts(ctx); err != nil {
		t.Fatal(e.err(err))
	}
	if st := e.c.Stats(); st.Exchanges != 2 || st.Grants != 1 || st.Refreshes != 0 {
		t.Errorf("after failed refresh: stats = %+v, want a second exchange", st)
	}

	e.fake.SetFault(engagefake.EndpointExchange, engagefake.Fault{Status: http.StatusUnauthorized, Times: 1})
	e.fake.ExpireTokens()
	if _, _, err := e.c.ListAccounts(ctx); err != nil {
		t.Fatal(e.err(err))
	}
	if st := e.c.Stats(); st.Exchanges != 3 || st.Grants != 2 {
		t.Errorf("after failed exchange: stats = %+v, want a second grant and a third exchange", st)
	}
	// The replaced RingCentral token was revoked (sessions do not pile up).
	if fs := e.fake.Stats(); fs.Revokes != 1 {
		t.Errorf("fake revokes = %d, want 1", fs.Revokes)
	}
	if n := e.fake.Stats().Requests["engage.exchange"]; n > 5 {
		t.Errorf("%d exchange calls exceed the 5-per-minute limit", n)
	}
}

// The token endpoints retry 429/5xx like the API does (honouring Retry-After), within the
// exchange limit.
func TestAuthEndpointsRetried(t *testing.T) {
	t.Parallel()
	tests := []struct {
		endpoint   string
		fault      engagefake.Fault
		minElapsed time.Duration
	}{
		{engagefake.EndpointRCToken, engagefake.Fault{Status: 503, Times: 2}, 0},
		{engagefake.EndpointRCToken, engagefake.Fault{Status: 429, RetryAfter: "1", Times: 1}, time.Second},
		{engagefake.EndpointExchange, engagefake.Fault{Status: 500, Times: 1}, 0},
		{engagefake.EndpointExchange, engagefake.Fault{Drop: true, Times: 1}, 0},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%s %d %v", tt.endpoint, tt.fault.Status, tt.fault.Drop), func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, engagefake.Options{Seed: 1, Tenant: smallTenant()}, nil)
			e.fake.SetFault(tt.endpoint, tt.fault)
			start := time.Now()
			if _, err := e.c.Login(t.Context()); err != nil {
				t.Fatal(e.err(err))
			}
			if d := time.Since(start); d < tt.minElapsed {
				t.Errorf("took %s, want at least %s", d, tt.minElapsed)
			}
			if st := e.c.Stats(); st.Grants != 1 || st.Exchanges != 1 || st.Retries < 1 {
				t.Errorf("stats = %+v", st)
			}
		})
	}
}

// The limiter spaces requests at the configured rate (a lower bound on the elapsed time), and a
// pacing wait that cannot fit in the context's deadline fails at once, without retries.
func TestPacing(t *testing.T) {
	t.Parallel()
	e := newEnv(t, engagefake.Options{Seed: 1, Tenant: smallTenant()}, func(c *Config) { c.RequestsPerMinute = 600 })
	ctx := t.Context()
	start := time.Now()
	for range 5 {
		if _, _, err := e.c.ListAccounts(ctx); err != nil {
			t.Fatal(e.err(err))
		}
	}
	if d := time.Since(start); d < 400*time.Millisecond {
		t.Errorf("5 requests at 600/min took %s, want at least 400ms", d)
	}
	// The limiter's next slot is ~100 ms away; a 20 ms deadline cannot wait for it.
	dctx, cancel := context.WithTimeout(ctx, 20*time.Millisecond)
	defer cancel()
	_, _, err := e.c.ListAccounts(dctx)
	e.err(err)
	if !errors.Is(err, context.DeadlineExceeded) || IsRetryable(err) {
		t.Fatalf("err = %v, want a non-retryable deadline error", err)
	}
	if st := e.c.Stats(); st.Retries != 0 || st.Requests != 5 {
		t.Errorf("stats = %+v, want 5 requests and no retry", st)
	}
}

func TestGrantErrorsAreFatal(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		mod       func(*Config)
		status    int
		code      string
		errorCode string
	}{
		{"bad jwt", func(c *Config) { c.JWT = "eyJ.wrong-jwt-credential.sig" }, 400, "invalid_grant", "OAU-213"},
		{"bad secret", func(c *Config) { c.ClientSecret = "wrong-client-secret" }, 401, "invalid_client", "OAU-146"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, engagefake.Options{Seed: 1, Tenant: smallTenant()}, tt.mod)
			_, err := e.c.Login(t.Context())
			e.err(err)
			var ae *AuthError
			if !errors.As(err, &ae) {
				t.Fatalf("err = %v, want *AuthError", err)
			}
			if ae.StatusCode != tt.status || ae.Code != tt.code || !ae.Fatal() || IsRetryable(err) {
				t.Errorf("AuthError = %+v", ae)
			}
			if diff := cmp.Diff([]string{tt.errorCode}, ae.ErrorCodes); diff != "" {
				t.Errorf("ErrorCodes (-want +got):\n%s", diff)
			}
			if n := e.fake.Stats().Requests["rc.token"]; n != 1 {
				t.Errorf("rc.token requests = %d, want 1 (never retried)", n)
			}
			// The wrong values are secrets too.
			for _, s := range []string{"wrong-jwt-credential", "wrong-client-secret"} {
				if strings.Contains(err.Error(), s) || strings.Contains(e.logs.String(), s) {
					t.Errorf("secret %q leaked", s)
				}
			}
		})
	}
}

func TestRetries(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name         string
		fault        engagefake.Fault
		wantRequests int64
		wantRetries  int64
		wantStatus   int // 0: success
		minElapsed   time.Duration
	}{
		{"503 twice then success", engagefake.Fault{Status: 503, Times: 2}, 3, 2, 0, 0},
		{"500 then success", engagefake.Fault{Status: 500, Times: 1}, 2, 1, 0, 0},
		{"persistent 502 gives up after MaxAttempts", engagefake.Fault{Status: 502}, 3, 2, 502, 0},
		{"Retry-After seconds waited", engagefake.Fault{Status: 429, RetryAfter: "1", Times: 1}, 2, 1, 0, time.Second},
		{"Retry-After HTTP date waited", engagefake.Fault{Status: 429, RetryAfter: "HTTP-DATE+3s", Times: 1}, 2, 1, 0, time.Second},
		{"404 not retried", engagefake.Fault{Status: 404}, 1, 0, 404, 0},
		{"400 not retried", engagefake.Fault{Status: 400}, 1, 0, 400, 0},
		{"403 not retried", engagefake.Fault{Status: 403}, 1, 0, 403, 0},
		{"409 not retried", engagefake.Fault{Status: 409}, 1, 0, 409, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, engagefake.Options{Seed: 1, Tenant: smallTenant()}, func(c *Config) { c.MaxAttempts = 3 })
			ctx := t.Context()
			if _, err := e.c.Login(ctx); err != nil {
				t.Fatal(e.err(err))
			}
			fault := tt.fault
			if fault.RetryAfter == "HTTP-DATE+3s" { // a date 2–3 s ahead (HTTP dates have whole seconds)
				fault.RetryAfter = time.Now().Add(3 * time.Second).UTC().Format(http.TimeFormat)
			}
			e.fake.SetFault(engagefake.EndpointAccounts, fault)
			start := time.Now()
			accounts, resp, err := e.c.ListAccounts(ctx)
			elapsed := time.Since(start)
			e.err(err)
			if tt.wantStatus == 0 {
				if err != nil || len(accounts) == 0 {
					t.Fatalf("ListAccounts = %d accounts, %v", len(accounts), err)
				}
			} else {
				var ae *APIError
				if !errors.As(err, &ae) || ae.StatusCode != tt.wantStatus {
					t.Fatalf("err = %v, want *APIError %d", err, tt.wantStatus)
				}
				if resp == nil || resp.StatusCode != tt.wantStatus {
					t.Errorf("resp = %v", resp)
				}
				if IsRetryable(err) != (tt.wantStatus >= 500) {
					t.Errorf("IsRetryable = %v", IsRetryable(err))
				}
			}
			if n := e.fake.Stats().Requests["accounts"]; n != tt.wantRequests {
				t.Errorf("accounts requests = %d, want %d", n, tt.wantRequests)
			}
			st := e.c.Stats()
			if st.Retries != tt.wantRetries {
				t.Errorf("retries = %d, want %d", st.Retries, tt.wantRetries)
			}
			if tt.fault.Status == 429 && st.RateLimited != 1 {
				t.Errorf("rate limited = %d, want 1", st.RateLimited)
			}
			if elapsed < tt.minElapsed {
				t.Errorf("took %s, want at least %s (Retry-After)", elapsed, tt.minElapsed)
			}
		})
	}
}

// A dropped connection is a transport error: retried, and typed as retryable when retries run
// out. (net/http itself may replay an idempotent GET once on a reused connection, so the
// fake can see more requests than the client counts attempts.)
func TestDroppedConnection(t *testing.T) {
	t.Parallel()
	e := newEnv(t, engagefake.Options{Seed: 1, Tenant: smallTenant()}, func(c *Config) { c.MaxAttempts = 3 })
	ctx := t.Context()
	e.fake.SetFault(engagefake.EndpointAccounts, engagefake.Fault{Drop: true, Times: 1})
	if _, _, err := e.c.ListAccounts(ctx); err != nil {
		t.Fatal(e.err(err))
	}
	e.fake.SetFault(engagefake.EndpointAccounts, engagefake.Fault{Drop: true})
	_, _, err := e.c.ListAccounts(ctx)
	e.err(err)
	if err == nil || !IsRetryable(err) {
		t.Fatalf("err = %v, want a retryable transport error", err)
	}
	var ae *APIError
	if errors.As(err, &ae) {
		t.Errorf("err = %v is an *APIError", err)
	}
	if st := e.c.Stats(); st.Retries != 2 {
		t.Errorf("retries = %d, want 2 (MaxAttempts 3)", st.Retries)
	}
	if n := e.fake.Stats().Requests["accounts"]; n < 4 {
		t.Errorf("accounts requests = %d, want at least 4", n)
	}
	t.Log(err)
}

// A slow attempt times out after RequestTimeout and is retried.
func TestAttemptTimeoutRetried(t *testing.T) {
	t.Parallel()
	e := newEnv(t, engagefake.Options{Seed: 1, Tenant: smallTenant()}, func(c *Config) { c.RequestTimeout = 300 * time.Millisecond })
	ctx := t.Context()
	if _, err := e.c.Login(ctx); err != nil {
		t.Fatal(e.err(err))
	}
	e.fake.SetFault(engagefake.EndpointUsers, engagefake.Fault{Latency: 3 * time.Second, Times: 1})
	if _, _, err := e.c.ListUsers(ctx, &UserListOptions{Flatten: true}); err != nil {
		t.Fatal(e.err(err))
	}
	if st := e.c.Stats(); st.Retries != 1 {
		t.Errorf("retries = %d, want 1", st.Retries)
	}
	if !strings.Contains(e.logs.String(), "attempt timed out after 300ms") {
		t.Errorf("the retry log does not say the attempt timed out:\n%s", e.logs.String())
	}
}

// A Retry-After longer than MaxRetryDuration allows ends the call at once with the
// *RateLimitError, rather than sleeping past the budget.
func TestRetryAfterBeyondBudget(t *testing.T) {
	t.Parallel()
	e := newEnv(t, engagefake.Options{Seed: 1, Tenant: smallTenant()}, func(c *Config) { c.MaxRetryDuration = time.Second })
	e.fake.SetFault(engagefake.EndpointAccounts, engagefake.Fault{Status: 429, RetryAfter: "120"})
	start := time.Now()
	_, _, err := e.c.ListAccounts(t.Context())
	e.err(err)
	var rl *RateLimitError
	if !errors.As(err, &rl) || rl.RetryAfter != 2*time.Minute {
		t.Fatalf("err = %v, want *RateLimitError with RetryAfter 2m", err)
	}
	if d := time.Since(start); d > 30*time.Second {
		t.Errorf("took %s", d)
	}
}

func TestRateLimitErrorWhenRetriesExhausted(t *testing.T) {
	t.Parallel()
	e := newEnv(t, engagefake.Options{Seed: 1, Tenant: smallTenant()}, func(c *Config) { c.MaxAttempts = 2 })
	e.fake.SetFault(engagefake.EndpointAccounts, engagefake.Fault{Status: 429, RetryAfter: "0"})
	_, _, err := e.c.ListAccounts(t.Context())
	e.err(err)
	var rl *RateLimitError
	var ae *APIError
	if !errors.As(err, &rl) || !errors.As(err, &ae) || ae.StatusCode != 429 || !IsRetryable(err) {
		t.Fatalf("err = %v, want a *RateLimitError that is also an *APIError", err)
	}
	if st := e.c.Stats(); st.RateLimited != 2 || st.Retries != 1 {
		t.Errorf("stats = %+v", st)
	}
}

func TestMalformedBody(t *testing.T) {
	t.Parallel()
	e := newEnv(t, engagefake.Options{Seed: 1, Tenant: smallTenant()}, nil)
	sub := e.fake.SubAccountIDs()[0]
	e.fake.SetFault(engagefake.EndpointAgentGroups, engagefake.Fault{Malformed: true})
	_, _, err := e.c.ListAgentGroups(t.Context(), sub, nil)
	e.err(err)
	var de *DecodeError
	if !errors.As(err, &de) {
		t.Fatalf("err = %v, want *DecodeError", err)
	}
	want := "GET /voice/api/v1/admin/accounts/" + sub + "/agentGroups"
	if de.Endpoint != want || !strings.Contains(err.Error(), want) || !strings.HasPrefix(err.Error(), "listing agent groups") {
		t.Errorf("err = %q, want it to name %q", err, want)
	}
	if n := e.fake.Stats().Requests["agentGroups"]; n != 1 {
		t.Errorf("requests = %d, want 1 (a malformed body is not retried)", n)
	}
}

func TestNotFoundErrorBody(t *testing.T) {
	t.Parallel()
	e := newEnv(t, engagefake.Options{Seed: 1, Tenant: smallTenant()}, nil)
	_, _, err := e.c.ListAgents(t.Context(), "999999", 1)
	e.err(err)
	var ae *APIError
	if !errors.As(err, &ae) || ae.StatusCode != 404 {
		t.Fatalf("err = %v, want 404 *APIError", err)
	}
	if ae.GeneralMessage == "" || ae.Method != "GET" || !strings.HasSuffix(ae.URL, "/voice/api/v1/admin/accounts/999999/agentGroups/1/agents") {
		t.Errorf("APIError = %+v", ae)
	}
	if !strings.HasPrefix(err.Error(), "listing agents of agent group 1 in sub-account 999999: ") {
		t.Errorf("err = %q", err)
	}
	t.Log(err)
}

// Cancellation stops every kind of wait at once: Retry-After, pacing, exchange limit, backoff.
func TestCancellationStopsWaits(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		setup func(e *env)
		mod   func(*Config)
	}{
		{"Retry-After wait", func(e *env) {
			e.fake.SetFault(engagefake.EndpointAccounts, engagefake.Fault{Status: 429, RetryAfter: "30"})
		}, func(c *Config) { c.MaxRetryDuration = time.Hour }},
		{"backoff wait", func(e *env) {
			e.fake.SetFault(engagefake.EndpointAccounts, engagefake.Fault{Status: 503})
		}, func(c *Config) {
			c.BackoffBase, c.BackoffCap, c.MaxRetryDuration = 30*time.Second, 30*time.Second, time.Hour
		}},
		{"pacing limiter", func(e *env) {
			if _, _, err := e.c.ListAccounts(e.t.Context()); err != nil { // uses the one token
				e.t.Fatal(err)
			}
		}, func(c *Config) { c.RequestsPerMinute = 1 }},
		{"slow response", func(e *env) {
			e.fake.SetFault(engagefake.EndpointAccounts, engagefake.Fault{Latency: 30 * time.Second})
		}, func(c *Config) { c.RequestTimeout = time.Minute }},
		{"exchange limit", func(e *env) {
			e.fake.SetFault(engagefake.EndpointExchange, engagefake.Fault{Status: 503})
		}, func(c *Config) { c.ExchangePerMinute = 1 }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, engagefake.Options{Seed: 1, Tenant: smallTenant()}, tt.mod)
			if _, err := e.c.Login(t.Context()); err != nil && tt.name != "exchange limit" {
				t.Fatal(e.err(err))
			}
			tt.setup(e)
			if tt.name == "exchange limit" {
				e.fake.ExpireTokens()
				e.fake.SetFault(engagefake.EndpointRefresh, engagefake.Fault{Status: 400})
			}
			ctx, cancel := context.WithCancel(t.Context())
			time.AfterFunc(200*time.Millisecond, cancel)
			start := time.Now()
			_, _, err := e.c.ListAccounts(ctx)
			e.err(err)
			if !errors.Is(err, context.Canceled) {
				t.Fatalf("err = %v, want context.Canceled", err)
			}
			// Every wait here is 30 s or more; returning well before means it was cut short.
			if d := time.Since(start); d > 10*time.Second {
				t.Errorf("cancellation took %s", d)
			}
		})
	}
}

// In-flight admin requests never exceed Concurrency.
func TestConcurrencyBound(t *testing.T) {
	t.Parallel()
	fake := engagefake.New(engagefake.Options{Seed: 2, Tenant: engagefake.TenantSpec{SubAccountsPerMain: 1, AgentGroupsPerSubAccount: 12}, Latency: 20 * time.Millisecond})
	var inFlight, peak atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasPrefix(r.URL.Path, "/voice/api/") {
			n := inFlight.Add(1)
			defer inFlight.Add(-1)
			for {
				p := peak.Load()
				if n <= p || peak.CompareAndSwap(p, n) {
					break
				}
			}
		}
		fake.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	c, err := New(Config{RCServerURL: srv.URL, EngageServerURL: srv.URL + "/", ClientID: engagefake.ClientIDDefault,
		ClientSecret: engagefake.ClientSecretDefault, JWT: engagefake.JWTDefault, RequestsPerMinute: 60000, Concurrency: 3})
	if err != nil {
		t.Fatal(err)
	}
	sub := fake.SubAccountIDs()[0]
	groups, _, err := c.ListAgentGroups(t.Context(), sub, nil)
	if err != nil {
		t.Fatal(err)
	}
	var wg gosync.WaitGroup
	for _, g := range groups {
		wg.Go(func() {
			if _, _, err := c.ListAgents(t.Context(), sub, g.AgentGroupID); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if p := peak.Load(); p > 3 || p < 2 {
		t.Errorf("peak in-flight = %d, want 2..3 (Concurrency 3)", p)
	}
}

// The exchange limiter never lets more than ExchangePerMinute exchanges through in a window.
func TestSlidingWindow(t *testing.T) {
	t.Parallel()
	w := newSlidingWindow(3, 300*time.Millisecond)
	ctx := t.Context()
	var times []time.Time
	for range 7 {
		if err := w.wait(ctx); err != nil {
			t.Fatal(err)
		}
		times = append(times, time.Now())
	}
	for i := 3; i < len(times); i++ {
		if d := times[i].Sub(times[i-3]); d < 300*time.Millisecond {
			t.Errorf("events %d and %d only %s apart: more than 3 in a window", i-3, i, d)
		}
	}
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	w2 := newSlidingWindow(1, time.Hour)
	_ = w2.wait(ctx)
	if err := w2.wait(cctx); !errors.Is(err, context.Canceled) {
		t.Errorf("wait on a full window with a canceled context = %v", err)
	}
}

func TestConfigValidation(t *testing.T) {
	t.Parallel()
	ok := Config{ClientID: "id", ClientSecret: "secret-value", JWT: "jwt-value"}
	tests := []struct {
		name    string
		mod     func(*Config)
		wantErr string
	}{
		{"valid", func(*Config) {}, ""},
		{"no client id", func(c *Config) { c.ClientID = "" }, "Config.ClientID is required"},
		{"no secret", func(c *Config) { c.ClientSecret = "" }, "Config.ClientSecret is required"},
		{"no jwt", func(c *Config) { c.JWT = "" }, "Config.JWT is required"},
		{"bad rc url", func(c *Config) { c.RCServerURL = "ftp://x" }, "Config.RCServerURL"},
		{"engage url without host", func(c *Config) { c.EngageServerURL = "https://" }, "Config.EngageServerURL"},
		{"engage url with query", func(c *Config) { c.EngageServerURL = "https://x/?token=abc" }, "Config.EngageServerURL"},
		{"negative rpm", func(c *Config) { c.RequestsPerMinute = -1 }, "Config.RequestsPerMinute"},
		{"negative concurrency", func(c *Config) { c.Concurrency = -2 }, "Config.Concurrency"},
		{"cap below base", func(c *Config) { c.BackoffBase = time.Minute }, "Config.BackoffCap"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			cfg := ok
			tt.mod(&cfg)
			c, err := New(cfg)
			if tt.wantErr == "" {
				if err != nil || c == nil {
					t.Fatalf("New = %v", err)
				}
				if c.cfg.RequestsPerMinute != 120 || c.cfg.Concurrency != 4 || c.cfg.RefreshMargin != time.Minute ||
					c.engageBase.String() != "https://engage.ringcentral.com/" || !strings.HasPrefix(c.cfg.UserAgent, "evsync/") {
					t.Errorf("defaults not applied: %+v", c.cfg)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) || strings.Contains(err.Error(), "\n") {
				t.Fatalf("New error = %v, want one line containing %q", err, tt.wantErr)
			}
			if strings.Contains(err.Error(), "secret-value") || strings.Contains(err.Error(), "jwt-value") || strings.Contains(err.Error(), "abc") {
				t.Errorf("error leaks a secret: %v", err)
			}
		})
	}
}

func TestScalarMarshal(t *testing.T) {
	t.Parallel()
	b, err := json.Marshal([]nullInt64{{42, true}, {}})
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(`[42,null]`, string(b)); diff != "" {
		t.Errorf("Marshal (-want +got):\n%s", diff)
	}
	for _, v := range []any{nullInt64{7, true}.Ptr(), nullID{"7", true}.Ptr(), nullBool{true, true}.Ptr(), nullStr{"7", true}.Ptr()} {
		if reflect.ValueOf(v).IsNil() {
			t.Errorf("Ptr of a valid value is nil: %T", v)
		}
	}
	if (nullInt64{}).Ptr() != nil || (nullID{}).Ptr() != nil || (nullBool{}).Ptr() != nil || (nullStr{}).Ptr() != nil || (Time{}).Ptr() != nil {
		t.Error("Ptr of an invalid value is not nil")
	}
}

func TestRetryAfterParsing(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 11, 27, 3, 0, 0, 0, time.UTC)
	tests := []struct {
		name string
		h    http.Header
		want time.Duration
	}{
		{"none", http.Header{}, 0},
		{"seconds", http.Header{"Retry-After": {"7"}}, 7 * time.Second},
		{"zero", http.Header{"Retry-After": {"0"}}, 0},
		{"http date", http.Header{"Retry-After": {now.Add(90 * time.Second).Format(http.TimeFormat)}}, 90 * time.Second},
		{"past date", http.Header{"Retry-After": {now.Add(-time.Hour).Format(http.TimeFormat)}}, 0},
		{"garbage", http.Header{"Retry-After": {"soon"}}, 0},
		{"number with junk", http.Header{"Retry-After": {"7abc"}}, 0},
		{"negative", http.Header{"Retry-After": {"-5"}}, 0},
		{"window only", http.Header{"X-Rate-Limit-Window": {"60"}, "X-Rate-Limit-Remaining": {"0"}}, time.Minute},
		{"retry-after wins over window", http.Header{"Retry-After": {"2"}, "X-Rate-Limit-Window": {"60"}}, 2 * time.Second},
		{"unusable retry-after falls back to window", http.Header{"Retry-After": {"later"}, "X-Rate-Limit-Window": {"3"}}, 3 * time.Second},
		{"fractional seconds", http.Header{"Retry-After": {"1.5"}}, 1500 * time.Millisecond},
		// Past a day is still a wait (the caller fails fast past engage.max_retry_wait), and one
		// beyond time.Duration saturates instead of overflowing or reading as none.
		{"a day and more", http.Header{"Retry-After": {"99999"}}, 99999 * time.Second},
		{"beyond a Duration", http.Header{"Retry-After": {"9999999999"}}, math.MaxInt64},
		{"beyond a float", http.Header{"Retry-After": {"1" + strings.Repeat("0", 400)}}, math.MaxInt64},
		{"far date", http.Header{"Retry-After": {"Fri, 31 Dec 9999 23:59:59 GMT"}}, math.MaxInt64},
		{"window beyond a Duration", http.Header{"X-Rate-Limit-Window": {"9999999999"}}, math.MaxInt64},
		{"not digits: Inf", http.Header{"Retry-After": {"Inf"}}, 0},
		{"not digits: exponent", http.Header{"Retry-After": {"1e3"}}, 0},
		{"not digits: hex", http.Header{"Retry-After": {"0x10"}}, 0},
		{"not digits: sign", http.Header{"Retry-After": {"+5"}}, 0},
	}
	for _, tt := range tests {
		if got := retryAfter(tt.h, now); got != tt.want {
			t.Errorf("%s: retryAfter = %s, want %s", tt.name, got, tt.want)
		}
	}
}

func TestSanitizeURL(t *testing.T) {
	t.Parallel()
	tests := []struct{ in, want string }{
		{"https://h/voice/api/v1/admin/users?flatten=true", "https://h/voice/api/v1/admin/users?flatten=true"},
		{"https://user:pass@h/p?page=1&maxRows=2&access_token=abc#frag", "https://h/p?access_token=REDACTED&maxRows=2&page=1"},
		{"https://h/p?rcAccessToken=xyz&includeRefresh=true", "https://h/p?includeRefresh=true&rcAccessToken=REDACTED"},
	}
	for _, tt := range tests {
		if got := sanitizeURLString(tt.in); got != tt.want {
			t.Errorf("sanitizeURL(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestJWTExpiry(t *testing.T) {
	t.Parallel()
	now := time.Unix(1_800_000_000, 0)
	enc := func(payload string) string {
		return "eyJhbGciOiJIUzI1NiJ9." + b64(payload) + ".c2ln"
	}
	tests := []struct {
		name         string
		tok          string
		expiresIn    time.Duration // from the response, when it says
		wantExpiry   time.Time
		wantLifetime time.Duration
	}{
		{"exp and iat", enc(`{"iat":1800000000,"exp":1800000300}`), 0, time.Unix(1_800_000_300, 0), 5 * time.Minute},
		// With iat, the token lives exp − iat from its receipt, whatever the local clock says
		// of exp: here 4.5 minutes ahead of the issuer's, then behind it.
		{"issued 270 s ago by the local clock", enc(`{"iat":1799999730,"exp":1800000030}`), 0, now.Add(5 * time.Minute), 5 * time.Minute},
		{"issued 270 s ahead of the local clock", enc(`{"iat":1800000270,"exp":1800000570}`), 0, now.Add(5 * time.Minute), 5 * time.Minute},
		{"exp only", enc(`{"exp":1800000120}`), 0, time.Unix(1_800_000_120, 0), 2 * time.Minute},
		{"fractional exp", enc(`{"exp":1800000001.5,"iat":1800000000}`), 0, time.Unix(1_800_000_001, 5e8), 1500 * time.Millisecond},
		{"no exp", enc(`{"sub":"1"}`), 0, now.Add(5 * time.Minute), 5 * time.Minute},
		{"not a jwt", "opaque-token", 0, now.Add(5 * time.Minute), 5 * time.Minute},
		{"bad base64", "a.!!!.c", 0, now.Add(5 * time.Minute), 5 * time.Minute},
		{"bad json", enc(`{"exp":`), 0, now.Add(5 * time.Minute), 5 * time.Minute},
		{"string exp", enc(`{"exp":"soon"}`), 0, now.Add(5 * time.Minute), 5 * time.Minute},
		// Without iat, an expires_in the response gave is the lifetime; iat wins over it.
		{"exp and expires_in", enc(`{"exp":1800000030}`), 5 * time.Minute, now.Add(5 * time.Minute), 5 * time.Minute},
		{"iat wins over expires_in", enc(`{"iat":1799999730,"exp":1800000030}`), time.Hour, now.Add(5 * time.Minute), 5 * time.Minute},
		{"unreadable, expires_in", "opaque-token", 2 * time.Minute, now.Add(2 * time.Minute), 2 * time.Minute},
	}
	for _, tt := range tests {
		l := jwtLife(tt.tok, now, tt.expiresIn)
		if !l.expiry.Equal(tt.wantExpiry) || l.lifetime != tt.wantLifetime {
			t.Errorf("%s: jwtLife = %s, %s; want %s, %s", tt.name, l.expiry.UTC(), l.lifetime, tt.wantExpiry.UTC(), tt.wantLifetime)
		}
	}
}

func TestExpiresIn(t *testing.T) {
	t.Parallel()
	tests := []struct {
		body string
		want time.Duration
	}{
		{`{"accessToken":"x"}`, 0},
		{`{"expires_in":300}`, 5 * time.Minute},
		{`{"expiresIn":120}`, 2 * time.Minute},
		{`{"expires_in":"300"}`, 0},
		{`{"expires_in":-5}`, 0},
		{`{"expires_in":1e12}`, 0},
		{`not json`, 0},
	}
	for _, tt := range tests {
		if got := expiresIn([]byte(tt.body)); got != tt.want {
			t.Errorf("expiresIn(%s) = %s, want %s", tt.body, got, tt.want)
		}
	}
}

func TestRefreshRule(t *testing.T) {
	t.Parallel()
	now := time.Unix(1_800_000_000, 0)
	tests := []struct {
		lifetime, remaining, margin time.Duration
		fresh                       bool
	}{
		{5 * time.Minute, 61 * time.Second, time.Minute, true},
		{5 * time.Minute, 59 * time.Second, time.Minute, false},
		{2 * time.Second, 500 * time.Millisecond, time.Minute, true}, // 20% of 2 s = 400 ms
		{2 * time.Second, 300 * time.Millisecond, time.Minute, false},
		{5 * time.Minute, 20 * time.Second, 10 * time.Second, true},
	}
	for _, tt := range tests {
		tok := &engageToken{access: "x", expiry: now.Add(tt.remaining), lifetime: tt.lifetime}
		if got := tok.fresh(now, tt.margin); got != tt.fresh {
			t.Errorf("lifetime %s remaining %s margin %s: fresh = %v, want %v", tt.lifetime, tt.remaining, tt.margin, got, tt.fresh)
		}
	}
	if (&engageToken{access: "x", expiry: now.Add(time.Hour), lifetime: time.Hour, stale: true}).fresh(now, time.Minute) {
		t.Error("a rejected token is fresh")
	}
}

// A rate-limit window header without Retry-After is waited out (local server: the fake always
// sends Retry-After with injected 429s).
func TestRateLimitWindowWaited(t *testing.T) {
	t.Parallel()
	fake := engagefake.New(engagefake.Options{Seed: 1, Tenant: smallTenant()})
	var hits atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/voice/api/v1/admin/accounts" && hits.Add(1) == 1 {
			w.Header().Set("X-Rate-Limit-Window", "1")
			w.Header().Set("X-Rate-Limit-Remaining", "0")
			w.WriteHeader(http.StatusTooManyRequests)
			return
		}
		fake.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	c, err := New(Config{RCServerURL: srv.URL, EngageServerURL: srv.URL, ClientID: engagefake.ClientIDDefault,
		ClientSecret: engagefake.ClientSecretDefault, JWT: engagefake.JWTDefault, RequestsPerMinute: 6000, BackoffBase: time.Millisecond, BackoffCap: time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	if _, _, err := c.ListAccounts(t.Context()); err != nil {
		t.Fatal(err)
	}
	if d := time.Since(start); d < time.Second {
		t.Errorf("took %s, want at least the 1 s window", d)
	}
	if hits.Load() != 2 {
		t.Errorf("hits = %d, want 2", hits.Load())
	}
}

// A server that echoes credentials back in error bodies (and a JSON decode error quoting the
// body) must not get them into errors.
func TestErrorsRedactEchoedSecrets(t *testing.T) {
	t.Parallel()
	fake := engagefake.New(engagefake.Options{Seed: 1, Tenant: smallTenant()})
	var mode atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasPrefix(r.URL.Path, "/voice/api/") {
			auth := r.Header.Get("Authorization")
			switch mode.Load() {
			case 0:
				w.Header().Set("Content-Type", "application/json")
				w.WriteHeader(http.StatusBadRequest)
				fmt.Fprintf(w, `{"generalMessage":"bad header %s","details":"%s","requestUri":"x %s"}`, auth, auth, auth)
			case 1:
				w.WriteHeader(http.StatusForbidden)
				fmt.Fprintf(w, "forbidden for %s", auth)
			default:
				fmt.Fprintf(w, `[{"agentGroupId":"%s"}]`, strings.TrimPrefix(auth, "Bearer "))
			}
			return
		}
		if r.URL.Path == "/restapi/oauth/token" {
			_ = r.ParseForm()
			w.WriteHeader(http.StatusBadRequest)
			u, p, _ := r.BasicAuth()
			fmt.Fprintf(w, `{"error":"invalid_grant","error_description":"bad %s %s %s","errors":[{"errorCode":"OAU-213","message":"x"}]}`,
				r.PostForm.Get("assertion"), u, p)
			return
		}
		fake.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	logs := &fixture.Logs{}
	newClient := func(base string) *Client {
		c, err := New(Config{RCServerURL: base, EngageServerURL: srv.URL, ClientID: engagefake.ClientIDDefault,
			ClientSecret: engagefake.ClientSecretDefault, JWT: engagefake.JWTDefault, RequestsPerMinute: 6000,
			Logger: logs.Logger()})
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	c := newClient(fake.Start())
	t.Cleanup(fake.Close)
	var errs []error
	for m := range int64(3) {
		mode.Store(m)
		_, _, err := c.ListAgentGroups(t.Context(), "20001", nil)
		if err == nil {
			t.Fatalf("mode %d: no error", m)
		}
		errs = append(errs, err)
	}
	_, err := newClient(srv.URL).Login(t.Context()) // the grant's error body echoes the JWT and secret
	var ae *AuthError
	if !errors.As(err, &ae) || ae.Code != "invalid_grant" {
		t.Fatalf("err = %v, want invalid_grant", err)
	}
	errs = append(errs, err)
	for _, secret := range fake.SecretValues() {
		if len(secret) < 6 {
			continue
		}
		for _, err := range errs {
			if strings.Contains(fmt.Sprintf("%v %#v", err, err), secret) {
				t.Errorf("error leaks a secret: %v", err)
			}
		}
		if strings.Contains(logs.String(), secret) {
			t.Errorf("logs leak a secret")
		}
	}
	if !strings.Contains(errs[0].Error(), "[REDACTED]") {
		t.Errorf("err = %v, want the echoed token redacted", errs[0])
	}
}

// An *AuthError names its RingCentral call in Endpoint and in its text, one name per step.
func TestAuthErrorNamesItsCall(t *testing.T) {
	t.Parallel()
	req, _ := http.NewRequest(http.MethodPost, "https://example.test/restapi/oauth/token", nil)
	resp := &http.Response{StatusCode: 401, Header: http.Header{}, Request: req}
	for _, tt := range []struct {
		step           Step
		endpoint, text string
	}{
		{StepGrant, "jwt grant", "ringcentral jwt grant: 401 Unauthorized: invalid_client"},
		{StepRevoke, "revoke", "ringcentral revoke: 401 Unauthorized: invalid_client"},
		{StepAccount, "account", "ringcentral account: 401 Unauthorized: invalid_client"},
	} {
		e := newAuthError(tt.step, resp, []byte(`{"error":"invalid_client"}`), func(s string) string { return s })
		if e.Step != tt.step || e.Endpoint != tt.endpoint || e.Error() != tt.text {
			t.Errorf("step %q: Endpoint %q, text %q; want %q, %q", tt.step, e.Endpoint, e.Error(), tt.endpoint, tt.text)
		}
	}
}

func TestIsRetryable(t *testing.T) {
	t.Parallel()
	tests := []struct {
		err  error
		want bool
	}{
		{nil, false},
		{context.Canceled, false},
		{fmt.Errorf("listing: %w", context.Canceled), false},
		{context.DeadlineExceeded, false},
		{&APIError{StatusCode: 500}, true},
		{&APIError{StatusCode: 503}, true},
		{&APIError{StatusCode: 408}, true},
		{&APIError{StatusCode: 404}, false},
		{&APIError{StatusCode: 401}, false},
		{fmt.Errorf("x: %w", &RateLimitError{APIError: APIError{StatusCode: 429}}), true},
		{&AuthError{StatusCode: 400, Code: "invalid_grant"}, false},
		{&AuthError{StatusCode: 503}, true},
		{&DecodeError{Endpoint: "GET /x", Err: errors.New("bad")}, false},
		{&TransportError{Step: StepAPI, Method: "GET", URL: "u", Err: errors.New("connection reset")}, true},
		{errors.New("something else"), false},
	}
	for _, tt := range tests {
		if got := IsRetryable(tt.err); got != tt.want {
			t.Errorf("IsRetryable(%v) = %v, want %v", tt.err, got, tt.want)
		}
	}
}

func b64(s string) string {
	const enc = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
	var out []byte
	b := []byte(s)
	for i := 0; i < len(b); i += 3 {
		var n uint32
		k := min(3, len(b)-i)
		for j := range 3 {
			n <<= 8
			if j < k {
				n |= uint32(b[i+j])
			}
		}
		for j := 0; j <= k; j++ {
			out = append(out, enc[(n>>(18-6*j))&63])
		}
	}
	return string(out)
}
