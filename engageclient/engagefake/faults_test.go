package engagefake_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/evsync/evsync/engageclient/engagefake"
	"github.com/google/go-cmp/cmp"
)

func TestFaults(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		endpoint string
		path     func(s *engagefake.Server) string
		fault    engagefake.Fault
		check    func(t *testing.T, r response)
	}{
		{
			name: "429 with Retry-After", endpoint: engagefake.EndpointAccounts,
			fault: engagefake.Fault{Status: 429, RetryAfter: "7", Times: 1},
			check: func(t *testing.T, r response) {
				if r.status != 429 || r.header.Get("Retry-After") != "7" {
					t.Errorf("got %d Retry-After %q, want 429 with \"7\"", r.status, r.header.Get("Retry-After"))
				}
				if e := decode[map[string]any](t, r); e["generalMessage"] != "Too Many Requests" {
					t.Errorf("body %s", r.body)
				}
			},
		},
		{
			name: "429 without Retry-After", endpoint: engagefake.EndpointUsers,
			fault: engagefake.Fault{Status: 429, Times: 1},
			check: func(t *testing.T, r response) {
				if _, ok := r.header["Retry-After"]; r.status != 429 || ok {
					t.Errorf("got %d Retry-After %v, want 429 without the header", r.status, r.header["Retry-After"])
				}
			},
		},
		{
			name: "503 on one account only", endpoint: engagefake.EndpointAgentGroups,
			path:  func(s *engagefake.Server) string { return groupsPath(s.SubAccountIDs()[1]) },
			fault: engagefake.Fault{Status: 503, PathContains: "/accounts/20002/", Times: 1},
			check: func(t *testing.T, r response) {
				if r.status != 503 {
					t.Errorf("got %d, want 503", r.status)
				}
			},
		},
		{
			name: "malformed", endpoint: engagefake.EndpointAgents,
			fault: engagefake.Fault{Malformed: true, Times: 1},
			check: func(t *testing.T, r response) {
				if r.status != 200 || json.Valid(r.body) || len(r.body) < 10 {
					t.Errorf("got %d valid=%v len=%d, want 200 with broken JSON", r.status, json.Valid(r.body), len(r.body))
				}
			},
		},
		{
			name: "401 expired", endpoint: engagefake.EndpointAgents,
			fault: engagefake.Fault{Status: 401, Times: 1},
			check: func(t *testing.T, r response) {
				if r.status != 401 || string(r.body) != "Jwt is expired" {
					t.Errorf("got %d %q", r.status, r.body)
				}
			},
		},
		{
			name: "401 without a body", endpoint: engagefake.EndpointUsers,
			fault: engagefake.Fault{Status: 401, NoBody: true, Times: 1},
			check: func(t *testing.T, r response) {
				if r.status != 401 || len(r.body) != 0 || r.header.Get("Content-Type") != "" {
					t.Errorf("got %d %q Content-Type %q, want 401 with no body and no Content-Type", r.status, r.body, r.header.Get("Content-Type"))
				}
			},
		},
		{
			name: "429 without a body, with Retry-After", endpoint: engagefake.EndpointAccounts,
			fault: engagefake.Fault{Status: 429, NoBody: true, RetryAfter: "3", Times: 1},
			check: func(t *testing.T, r response) {
				if r.status != 429 || len(r.body) != 0 || r.header.Get("Retry-After") != "3" {
					t.Errorf("got %d %q Retry-After %q", r.status, r.body, r.header.Get("Retry-After"))
				}
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s, base := start(t, engagefake.Options{})
			at, _ := login(t, base)
			path := accountsPath
			switch {
			case tt.path != nil:
				path = tt.path(s)
			case tt.endpoint == engagefake.EndpointUsers:
				path = usersPath + "?flatten=true"
			case tt.endpoint == engagefake.EndpointAgents:
				acc := s.SubAccountIDs()[0]
				path = agentsPath(acc, s.AgentGroupIDs(acc)[0])
			}
			s.SetFault(tt.endpoint, tt.fault)
			if tt.fault.PathContains != "" {
				// A request on another path of the same endpoint is not affected.
				if r := get(t, base+groupsPath(s.SubAccountIDs()[0]), at); r.status != 200 {
					t.Fatalf("non-matching path: %d", r.status)
				}
			}
			tt.check(t, get(t, base+path, at))
			if r := get(t, base+path, at); r.status != 200 || !json.Valid(r.body) {
				t.Errorf("after Times=1 the next request: %d", r.status)
			}
		})
	}
}

func TestFault500BurstThenOK(t *testing.T) {
	t.Parallel()
	s, base := start(t, engagefake.Options{})
	at, _ := login(t, base)
	s.SetFault(engagefake.EndpointAccounts, engagefake.Fault{Status: 500, Times: 3})
	for i := range 3 {
		r := get(t, base+accountsPath, at)
		if r.status != 500 {
			t.Fatalf("request %d: %d, want 500", i+1, r.status)
		}
		if e := decode[map[string]any](t, r); e["generalMessage"] == nil || e["timestamp"] == nil {
			t.Errorf("500 body is not an Errors object: %s", r.body)
		}
	}
	if r := get(t, base+accountsPath, at); r.status != 200 {
		t.Fatalf("4th request: %d, want 200", r.status)
	}
	if got := s.Stats().Requests[engagefake.EndpointAccounts]; got != 4 {
		t.Errorf("Requests[accounts] = %d, want 4", got)
	}
}

func TestFaultForeverAndClear(t *testing.T) {
	t.Parallel()
	s, base := start(t, engagefake.Options{})
	at, _ := login(t, base)
	s.SetFault(engagefake.EndpointAccounts, engagefake.Fault{Status: 429})
	for range 5 {
		if r := get(t, base+accountsPath, at); r.status != 429 {
			t.Fatalf("status %d, want 429", r.status)
		}
	}
	if got := s.Stats().RateLimited; got != 5 {
		t.Errorf("RateLimited = %d, want 5", got)
	}
	s.ClearFaults()
	if r := get(t, base+accountsPath, at); r.status != 200 {
		t.Fatalf("after ClearFaults: %d", r.status)
	}
}

func TestFaultDrop(t *testing.T) {
	t.Parallel()
	s, base := start(t, engagefake.Options{})
	at, _ := login(t, base)
	s.SetFault(engagefake.EndpointAccounts, engagefake.Fault{Drop: true, Times: 1})
	req, _ := http.NewRequestWithContext(t.Context(), http.MethodGet, base+accountsPath, nil)
	req.Header.Set("Authorization", "Bearer "+at)
	// A fresh connection per request: on a reused keep-alive connection net/http would
	// transparently replay the GET once, which would hide a drop with Times: 1.
	client := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}
	resp, err := client.Do(req)
	if err == nil {
		resp.Body.Close()
		t.Fatalf("dropped connection answered %d", resp.StatusCode)
	}
	if r := get(t, base+accountsPath, at); r.status != 200 {
		t.Fatalf("after the drop: %d", r.status)
	}
}

func TestFaultLatencyAndAuthEndpoints(t *testing.T) {
	t.Parallel()
	s, base := start(t, engagefake.Options{})
	// Latency only: the real answer, later.
	s.SetFault(engagefake.EndpointRCToken, engagefake.Fault{Latency: 20 * time.Millisecond, Times: 1})
	rc := rcGrant(t, base)
	// Faults on auth endpoints.
	s.SetFault(engagefake.EndpointExchange, engagefake.Fault{Status: 503, Times: 1})
	if r := exchange(t, base, rc["access_token"].(string)); r.status != 503 {
		t.Fatalf("exchange fault: %d", r.status)
	}
	s.SetFault(engagefake.EndpointRCToken, engagefake.Fault{Status: 429, RetryAfter: "30", Times: 1})
	r := postForm(t, base+"/restapi/oauth/token", url.Values{"grant_type": {"urn:ietf:params:oauth:grant-type:jwt-bearer"}, "assertion": {engagefake.JWTDefault}},
		engagefake.ClientIDDefault, engagefake.ClientSecretDefault)
	if r.status != 429 || r.header.Get("Retry-After") != "30" {
		t.Fatalf("rc.token 429: %d %q", r.status, r.header.Get("Retry-After"))
	}
	if e := decode[map[string]any](t, r); e["errors"] == nil {
		t.Errorf("RC 429 body lacks errors: %s", r.body)
	}
	s.SetFault(engagefake.EndpointRefresh, engagefake.Fault{Malformed: true, Times: 1})
	r = postForm(t, base+"/api/auth/token/refresh", url.Values{"refresh_token": {"x"}}, "", "")
	if r.status != 200 || json.Valid(r.body) {
		t.Fatalf("malformed refresh: %d %s", r.status, r.body)
	}
	st := s.Stats()
	if st.Requests[engagefake.EndpointRCToken] != 2 || st.Requests[engagefake.EndpointExchange] != 1 || st.Grants != 1 || st.Exchanges != 0 {
		t.Errorf("stats = %+v", st)
	}
}

func TestAdminRateLimiter(t *testing.T) {
	t.Parallel()
	for _, withRetryAfter := range []bool{false, true} {
		clock := newClock()
		s, base := start(t, engagefake.Options{Now: clock.Now, RateLimit: 60, RateBurst: 3, RateLimitRetryAfter: withRetryAfter})
		at, _ := login(t, base)
		for i := range 3 {
			r := get(t, base+accountsPath, at)
			if r.status != 200 {
				t.Fatalf("request %d: %d", i+1, r.status)
			}
			if r.header.Get("X-Rate-Limit-Limit") != "60" || r.header.Get("X-Rate-Limit-Remaining") != []string{"2", "1", "0"}[i] {
				t.Errorf("request %d: rate headers %v", i+1, r.header)
			}
		}
		r := get(t, base+usersPath, at)
		if r.status != 429 {
			t.Fatalf("4th request in the same instant: %d, want 429", r.status)
		}
		if e := decode[map[string]any](t, r); e["generalMessage"] != "Too Many Requests" {
			t.Errorf("429 body %s", r.body)
		}
		if got := r.header.Get("Retry-After"); (got == "1") != withRetryAfter || (!withRetryAfter && got != "") {
			t.Errorf("RateLimitRetryAfter=%v: Retry-After %q", withRetryAfter, got)
		}
		clock.Advance(time.Second) // one token at 1/s
		if r := get(t, base+accountsPath, at); r.status != 200 {
			t.Fatalf("after refill: %d", r.status)
		}
		if r := get(t, base+accountsPath, at); r.status != 429 {
			t.Fatalf("second after refill: %d, want 429", r.status)
		}
		// Auth endpoints are not limited by the admin bucket.
		if r := postForm(t, base+"/api/auth/token/refresh", url.Values{"refresh_token": {"x"}}, "", ""); r.status == 429 {
			t.Errorf("refresh hit the admin limiter")
		}
		if st := s.Stats(); st.RateLimited != 2 || st.Requests[engagefake.EndpointAccounts] != 5 {
			t.Errorf("stats = %+v, want 2 rate-limited", st)
		}
	}
}

func TestUnknownPathAndMethod(t *testing.T) {
	t.Parallel()
	s, base := start(t, engagefake.Options{})
	at, _ := login(t, base)
	if r := get(t, base+"/voice/api/v1/admin/nothing", at); r.status != 404 || !strings.Contains(string(r.body), "generalMessage") {
		t.Errorf("unknown path: %d %s", r.status, r.body)
	}
	req, _ := http.NewRequestWithContext(t.Context(), http.MethodDelete, base+accountsPath, nil)
	req.Header.Set("Authorization", "Bearer "+at)
	if r := do(t, req); r.status != 405 {
		t.Errorf("DELETE accounts: %d, want 405", r.status)
	}
	if got := s.Stats().Requests[engagefake.EndpointUnknown]; got != 1 {
		t.Errorf("Requests[unknown] = %d", got)
	}
}

func TestParseFault(t *testing.T) {
	t.Parallel()
	tests := []struct {
		spec     string
		endpoint string
		want     engagefake.Fault
		wantErr  bool
	}{
		{"agents:status=503,times=3", "agents", engagefake.Fault{Status: 503, Times: 3}, false},
		{"accounts:status=429,retry-after=5", "accounts", engagefake.Fault{Status: 429, RetryAfter: "5"}, false},
		{"agentGroups:malformed,path=/accounts/20001/", "agentGroups", engagefake.Fault{Malformed: true, PathContains: "/accounts/20001/"}, false},
		{"rc.token:latency=2s", "rc.token", engagefake.Fault{Latency: 2 * time.Second}, false},
		{"users:drop,times=1", "users", engagefake.Fault{Drop: true, Times: 1}, false},
		{"users:status=401,no-body", "users", engagefake.Fault{Status: 401, NoBody: true}, false},
		{"users:no-body", "", engagefake.Fault{}, true},
		{"users:no-body=1,status=401", "", engagefake.Fault{}, true},
		{"agents", "", engagefake.Fault{}, true},
		{"nope:drop", "", engagefake.Fault{}, true},
		{"agents:status=abc", "", engagefake.Fault{}, true},
		{"agents:status=42", "", engagefake.Fault{}, true},
		{"agents:times=-1", "", engagefake.Fault{}, true},
		{"agents:explode", "", engagefake.Fault{}, true},
		{"agents:drop=yes", "", engagefake.Fault{}, true},
	}
	for _, tt := range tests {
		t.Run(tt.spec, func(t *testing.T) {
			t.Parallel()
			ep, f, err := engagefake.ParseFault(tt.spec)
			if tt.wantErr {
				if !errors.Is(err, engagefake.ErrBadFaultSpec) {
					t.Fatalf("err = %v, want ErrBadFaultSpec", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if ep != tt.endpoint {
				t.Errorf("endpoint = %q, want %q", ep, tt.endpoint)
			}
			if diff := cmp.Diff(tt.want, f); diff != "" {
				t.Errorf("fault (-want +got):\n%s", diff)
			}
		})
	}
}

// Concurrent reads, logins and mutations: no races, no deadlocks, every answer well-formed.
func TestConcurrentUse(t *testing.T) {
	t.Parallel()
	s, base := start(t, engagefake.Options{Tenant: engagefake.TenantSpec{SubAccountsPerMain: 3, AgentsPerGroup: 20, Users: 30}, ExchangePerMinute: -1})
	at, _ := login(t, base)
	acc := s.SubAccountIDs()[0]
	gids := s.AgentGroupIDs(acc)
	var wg sync.WaitGroup
	errs := make(chan string, 100)
	for w := range 6 {
		wg.Go(func() {
			for i := range 15 {
				paths := []string{accountsPath, usersPath, usersPath + "?flatten=true", groupsPath(acc), agentsPath(acc, gids[(w+i)%len(gids)])}
				p := paths[(w+i)%len(paths)]
				req, _ := http.NewRequestWithContext(t.Context(), http.MethodGet, base+p, nil)
				req.Header.Set("Authorization", "Bearer "+at)
				resp, err := testClient.Do(req)
				if err != nil {
					errs <- err.Error()
					return
				}
				b, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				if resp.StatusCode != 200 || !json.Valid(b) {
					errs <- fmt.Sprintf("GET %s: %d", p, resp.StatusCode)
				}
			}
		})
	}
	wg.Go(func() {
		for i := range 20 {
			var id int
			err := s.Mutate(func(tn *engagefake.Tenant) error {
				a, err := tn.AddAgent(gids[i%len(gids)])
				if err == nil {
					id = a.ID
				}
				return err
			})
			if err != nil {
				errs <- err.Error()
				return
			}
			_ = s.Mutate(func(tn *engagefake.Tenant) error { return tn.UpdateAgent(id, "team", fmt.Sprint("t", i)) })
			_ = s.Mutate(func(tn *engagefake.Tenant) error { _, err := tn.AddUser(0); return err })
			_ = s.Stats()
			_ = s.SecretValues()
		}
	})
	wg.Go(func() {
		for range 5 {
			login(t, base)
		}
	})
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Error(e)
	}
	if c := s.Counts(); c.Agents != 9*20+20 || c.Users != 50 {
		t.Errorf("Counts = %+v", c)
	}
}
