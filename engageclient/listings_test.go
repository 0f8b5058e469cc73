package engageclient

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	gosync "sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/evsync/evsync/engageclient/engagefake"
	"github.com/evsync/evsync/internal/testing/fixture"
)

// Client tests of the configuration listings (queue groups, skills, dial groups, assigned
// agents) against an httptest server: the admin API is the test's handler, auth is the fake's.

// listServer is an httptest server whose admin API listings (/voice/api/v1/admin/accounts/…)
// answer with a test's handler, recording each request, and whose auth endpoints are a fake's;
// with a client on it. Errors the test records and the client's logs are checked for the
// fake's secrets when the test ends.
type listServer struct {
	t     *testing.T
	fake  *engagefake.Server
	c     *Client
	watch *fixture.Watch

	mu   gosync.Mutex
	reqs []string // "GET /escaped/path?raw query"
}

func newListServer(t *testing.T, h http.HandlerFunc, mods ...func(*Config)) *listServer {
	t.Helper()
	fake := engagefake.New(engagefake.Options{Seed: 1, Tenant: smallTenant()}) // served by the test's server below
	s := &listServer{t: t, fake: fake, watch: fixture.NewWatch(t, fake)}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !strings.HasPrefix(r.URL.Path, "/voice/api/v1/admin/accounts/") {
			s.fake.ServeHTTP(w, r)
			return
		}
		s.mu.Lock()
		s.reqs = append(s.reqs, r.Method+" "+r.URL.EscapedPath()+"?"+r.URL.RawQuery)
		s.mu.Unlock()
		if !strings.HasPrefix(r.Header.Get("Authorization"), "Bearer ") {
			http.Error(w, "no bearer token", http.StatusUnauthorized)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		h(w, r)
	}))
	t.Cleanup(srv.Close)
	cfg := Config{RCServerURL: srv.URL, EngageServerURL: srv.URL, ClientID: engagefake.ClientIDDefault,
		ClientSecret: engagefake.ClientSecretDefault, JWT: engagefake.JWTDefault, RequestsPerMinute: 60000,
		BackoffBase: time.Millisecond, BackoffCap: 5 * time.Millisecond, MaxAttempts: 3,
		Logger: s.watch.Logs.Logger()}
	for _, mod := range mods {
		mod(&cfg)
	}
	c, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	s.c = c
	return s
}

// requests returns the admin requests served so far and forgets them.
func (s *listServer) requests() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := s.reqs
	s.reqs = nil
	return out
}

// err records err for the secret check and returns it.
func (s *listServer) err(err error) error { return s.watch.Err(err) }

// serveBody answers every listing with body.
func serveBody(body string) http.HandlerFunc {
	return func(w http.ResponseWriter, _ *http.Request) { fmt.Fprint(w, body) }
}

// agentsJSON is an assigned-agents array of the agents with ids from..to-1.
func agentsJSON(from, to int) string {
	var items []string
	for id := from; id < to; id++ {
		items = append(items, fmt.Sprintf(`{"agentId":%d,"username":"agent%d@example.com","isActive":true,"createdOn":"2021-02-03T04:05:06.000+0000"}`, id, id))
	}
	return "[" + strings.Join(items, ",") + "]"
}

// pagedAgents serves n agents (ids 1..n) by page and maxRows, or all of them without maxRows
// or when ignorePaging is set (a server that does not page).
func pagedAgents(n int, ignorePaging bool) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		page, _ := strconv.Atoi(q.Get("page"))
		rows, _ := strconv.Atoi(q.Get("maxRows"))
		if ignorePaging || rows <= 0 {
			fmt.Fprint(w, agentsJSON(1, n+1))
			return
		}
		from := min(page*rows, n)
		fmt.Fprint(w, agentsJSON(from+1, min(from+rows, n)+1))
	}
}

// assignedListing is one of the assigned-agents methods, with the path it must request.
type assignedListing struct {
	name string
	path string // escaped, for account "20001"
	call func(ctx context.Context, c *Client, account string, opts *ListOptions) ([]*Agent, *Response, error)
}

var assignedListings = []assignedListing{
	{"gate", "/voice/api/v1/admin/accounts/20001/gateGroups/52001/gates/72001/assignedAgents",
		func(ctx context.Context, c *Client, account string, opts *ListOptions) ([]*Agent, *Response, error) {
			return c.ListGateAssignedAgents(ctx, account, 52001, 72001, opts)
		}},
	{"dial group", "/voice/api/v1/admin/accounts/20001/dialGroups/115001/assignedAgents",
		func(ctx context.Context, c *Client, account string, opts *ListOptions) ([]*Agent, *Response, error) {
			return c.ListDialGroupAssignedAgents(ctx, account, 115001, opts)
		}},
}

// The assigned agents come paged when asked (pages from opts.Page, 0-based, with maxRows),
// until a short page or an empty page after full ones; in one request without paging when not.
// (A server that does not page as assumed fails the listing: TestPagingNotAsAssumed.)
func TestAssignedAgentsPaging(t *testing.T) {
	t.Parallel()
	type pg = string
	tests := []struct {
		name        string
		agents      int
		opts        *ListOptions
		wantQueries []pg
		wantIDs     [2]int // ids from..to-1
	}{
		{"nil opts: one request", 5, nil, []pg{""}, [2]int{1, 6}},
		{"maxRows 0: one request", 5, &ListOptions{Page: 3}, []pg{""}, [2]int{1, 6}},
		{"short last page", 5, &ListOptions{MaxRows: 2}, []pg{"maxRows=2&page=0", "maxRows=2&page=1", "maxRows=2&page=2"}, [2]int{1, 6}},
		{"full page then empty", 4, &ListOptions{MaxRows: 2}, []pg{"maxRows=2&page=0", "maxRows=2&page=1", "maxRows=2&page=2"}, [2]int{1, 5}},
		{"one short page", 3, &ListOptions{MaxRows: 10}, []pg{"maxRows=10&page=0"}, [2]int{1, 4}},
		{"no agents", 0, &ListOptions{MaxRows: 10}, []pg{"maxRows=10&page=0"}, [2]int{1, 1}},
		{"from page 1", 5, &ListOptions{Page: 1, MaxRows: 2}, []pg{"maxRows=2&page=1", "maxRows=2&page=2"}, [2]int{3, 6}},
		{"negative page is 0", 3, &ListOptions{Page: -2, MaxRows: 2}, []pg{"maxRows=2&page=0", "maxRows=2&page=1"}, [2]int{1, 4}},
	}
	for _, l := range assignedListings {
		for _, tt := range tests {
			t.Run(l.name+"/"+tt.name, func(t *testing.T) {
				t.Parallel()
				s := newListServer(t, pagedAgents(tt.agents, false))
				got, resp, err := l.call(t.Context(), s.c, "20001", tt.opts)
				if err != nil {
					t.Fatal(s.err(err))
				}
				var want []string
				for _, q := range tt.wantQueries {
					want = append(want, "GET "+l.path+"?"+q)
				}
				if diff := cmp.Diff(want, s.requests()); diff != "" {
					t.Errorf("requests (-want +got):\n%s", diff)
				}
				ids := []int64{}
				for _, a := range got {
					ids = append(ids, a.AgentID)
				}
				wantIDs := []int64{}
				for id := tt.wantIDs[0]; id < tt.wantIDs[1]; id++ {
					wantIDs = append(wantIDs, int64(id))
				}
				if diff := cmp.Diff(wantIDs, ids); diff != "" {
					t.Errorf("agent ids (-want +got):\n%s", diff)
				}
				if resp.Pages != len(tt.wantQueries) {
					t.Errorf("Pages = %d, want %d", resp.Pages, len(tt.wantQueries))
				}
			})
		}
	}
}

// Assigned agents decode as Agent, from the same JSON as an agent group's agents.
func TestAssignedAgentsDecode(t *testing.T) {
	t.Parallel()
	body := string(readTestdata(t, "agents.json"))
	for _, l := range assignedListings {
		t.Run(l.name, func(t *testing.T) {
			t.Parallel()
			s := newListServer(t, serveBody(body))
			got, _, err := l.call(t.Context(), s.c, "20001", nil)
			if err != nil {
				t.Fatal(s.err(err))
			}
			want, _, err := decodeList[Agent]([]byte(body))
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(want, got, ignoreConfigRaw); diff != "" {
				t.Errorf("agents (-want +got):\n%s", diff)
			}
		})
	}
}

// A bad agent on a page is an item error: the listing goes on and returns the others. Any
// other error (here a 200 whose body is an error object, on page 1) ends it, with no items.
func TestAssignedAgentsErrors(t *testing.T) {
	t.Parallel()
	for _, l := range assignedListings {
		t.Run(l.name, func(t *testing.T) {
			t.Parallel()
			s := newListServer(t, func(w http.ResponseWriter, r *http.Request) {
				switch r.URL.Query().Get("page") {
				case "0":
					fmt.Fprint(w, `[{"agentId":1},{"username":"no id"}]`)
				case "1":
					fmt.Fprint(w, `[{"agentId":3}]`)
				default:
					fmt.Fprint(w, `[{"agentId":1},{"agentId":2}]`)
				}
			})
			got, resp, err := l.call(t.Context(), s.c, "20001", &ListOptions{MaxRows: 2})
			s.err(err)
			var ie *ItemsError
			if !errors.As(err, &ie) || len(ie.Items) != 1 || ie.Items[0].Index != 1 {
				t.Fatalf("err = %v, want an *ItemsError for item 1", err)
			}
			if !strings.Contains(err.Error(), "(page 0): decoding GET "+l.path+" response: item 1: agentId is missing") {
				t.Errorf("err = %q", err)
			}
			if len(got) != 2 || got[0].AgentID != 1 || got[1].AgentID != 3 || resp.Pages != 2 {
				t.Errorf("got %d agents in %d pages, want agents 1 and 3 in 2", len(got), resp.Pages)
			}
		})
		t.Run(l.name+"/error object", func(t *testing.T) {
			t.Parallel()
			s := newListServer(t, func(w http.ResponseWriter, r *http.Request) {
				if r.URL.Query().Get("page") == "1" {
					fmt.Fprint(w, `{"generalMessage":"Dial group not found","timestamp":1611847650696}`)
					return
				}
				fmt.Fprint(w, agentsJSON(1, 3))
			})
			got, resp, err := l.call(t.Context(), s.c, "20001", &ListOptions{MaxRows: 2})
			s.err(err)
			var de *DecodeError
			if !errors.As(err, &de) || got != nil {
				t.Fatalf("got %d agents, err = %v; want no agents and a *DecodeError", len(got), err)
			}
			if !strings.Contains(err.Error(), `(page 1): decoding GET `+l.path+` response: expected a JSON array, got an error object: "Dial group not found"`) {
				t.Errorf("err = %q", err)
			}
			if resp == nil || resp.Pages != 1 {
				t.Errorf("resp = %+v, want Pages 1 (the page read before the error)", resp)
			}
		})
	}
}

// configListing is one configuration listing as TestConfigListingsRequests calls it.
type configListing struct {
	name  string
	call  func(ctx context.Context, c *Client, account string) (int, error)
	path  string // the escaped path requested, {} for the account
	what  string // the error's name for the listing of account "20001"
	badID string // the error for an invalid account id
}

var configListings = []configListing{
	{"queue groups", func(ctx context.Context, c *Client, a string) (int, error) {
		v, _, err := c.ListGateGroupsWithChildren(ctx, a)
		return len(v), err
	}, "/voice/api/v1/admin/accounts/{}/gateGroups/withChildren",
		"listing queue groups of sub-account 20001", "listing queue groups: invalid sub-account id"},
	{"skills", func(ctx context.Context, c *Client, a string) (int, error) {
		v, _, err := c.ListGateGroupSkills(ctx, a, 52001)
		return len(v), err
	}, "/voice/api/v1/admin/accounts/{}/gateGroups/52001/skills",
		"listing skills of queue group 52001 in sub-account 20001", "listing skills: invalid sub-account id"},
	{"gate assigned agents", func(ctx context.Context, c *Client, a string) (int, error) {
		v, _, err := c.ListGateAssignedAgents(ctx, a, 52001, 72001, nil)
		return len(v), err
	}, "/voice/api/v1/admin/accounts/{}/gateGroups/52001/gates/72001/assignedAgents",
		"listing agents assigned to queue 72001 of queue group 52001 in sub-account 20001",
		"listing agents assigned to a queue: invalid sub-account id"},
	{"dial groups", func(ctx context.Context, c *Client, a string) (int, error) {
		v, _, err := c.ListDialGroupsWithChildren(ctx, a)
		return len(v), err
	}, "/voice/api/v1/admin/accounts/{}/dialGroups/withChildren",
		"listing dial groups of sub-account 20001", "listing dial groups: invalid sub-account id"},
	{"dial group assigned agents", func(ctx context.Context, c *Client, a string) (int, error) {
		v, _, err := c.ListDialGroupAssignedAgents(ctx, a, 115001, &ListOptions{})
		return len(v), err
	}, "/voice/api/v1/admin/accounts/{}/dialGroups/115001/assignedAgents",
		"listing agents assigned to dial group 115001 in sub-account 20001",
		"listing agents assigned to a dial group: invalid sub-account id"},
}

// Every configuration listing: the exact path and query it sends (ids escaped once, no query
// without paging), its error's name for it, a 200 whose body is an error object (an error,
// never an empty list), a 404, and an invalid sub-account id (no request).
func TestConfigListingsRequests(t *testing.T) {
	t.Parallel()
	for _, l := range configListings {
		t.Run(l.name, func(t *testing.T) {
			t.Parallel()
			ctx := t.Context()
			var status atomic.Int64 // what the handler answers: 0 an empty list, 200 an error object, 404
			s := newListServer(t, func(w http.ResponseWriter, _ *http.Request) {
				switch status.Load() {
				case http.StatusOK:
					fmt.Fprint(w, `{"errorCode":"access.denied.exception","generalMessage":"You do not have permission to access this resource"}`)
				case http.StatusNotFound:
					w.WriteHeader(http.StatusNotFound)
					fmt.Fprint(w, `{"generalMessage":"Not Found","requestUri":"voice/api/v1/admin/accounts/20001 - GET"}`)
				default:
					fmt.Fprint(w, `[]`)
				}
			})
			if n, err := l.call(ctx, s.c, "a b/c%d"); err != nil || n != 0 {
				t.Fatalf("n = %d, err = %v; want an empty list", n, s.err(err))
			}
			want := []string{"GET " + strings.Replace(l.path, "{}", "a%20b%2Fc%25d", 1) + "?"}
			if diff := cmp.Diff(want, s.requests()); diff != "" {
				t.Errorf("requests (-want +got):\n%s", diff)
			}
			status.Store(http.StatusOK)
			checkErrorObject(t, s, l)
			status.Store(http.StatusNotFound)
			_, err := l.call(ctx, s.c, "20001")
			var ae *APIError
			if !errors.As(s.err(err), &ae) || ae.StatusCode != http.StatusNotFound || !strings.HasPrefix(err.Error(), l.what+": ") {
				t.Errorf("404: err = %v, want an *APIError 404 named %q", err, l.what)
			}
			checkInvalidIDs(t, s, l)
		})
	}
}

// checkErrorObject calls l on a server that answers 200 with an error object: an error naming
// the listing and quoting the message, and no items.
func checkErrorObject(t *testing.T, s *listServer, l configListing) {
	t.Helper()
	n, err := l.call(t.Context(), s.c, "20001")
	var de *DecodeError
	want := l.what + ": decoding GET " + strings.Replace(l.path, "{}", "20001", 1) +
		` response: expected a JSON array, got an error object: "You do not have permission to access this resource"`
	if !errors.As(s.err(err), &de) || n != 0 || err.Error() != want {
		t.Errorf("200 error object: n = %d, err = %v\nwant the error %q", n, err, want)
	}
}

// checkInvalidIDs calls l with ids that cannot name a path segment: an error, and no request.
func checkInvalidIDs(t *testing.T, s *listServer, l configListing) {
	t.Helper()
	s.requests()
	for _, id := range []string{"", ".", ".."} {
		if _, err := l.call(t.Context(), s.c, id); err == nil || !strings.HasPrefix(err.Error(), l.badID) {
			t.Errorf("account %q: err = %v, want %q", id, err, l.badID)
		}
	}
	if r := s.requests(); len(r) != 0 {
		t.Errorf("requests for invalid ids: %v", r)
	}
}

// The listings decode their fixtures as decodeList does, in one request.
func TestConfigListingsDecode(t *testing.T) {
	t.Parallel()
	tests := []struct {
		fixture  string
		call     func(ctx context.Context, c *Client) (any, *Response, error)
		decode   func([]byte) (any, error)
		endpoint string
	}{
		{"gate_groups.json", func(ctx context.Context, c *Client) (any, *Response, error) {
			return c.ListGateGroupsWithChildren(ctx, "20001")
		}, decodeAny[GateGroup], "GET /voice/api/v1/admin/accounts/20001/gateGroups/withChildren"},
		{"gate_group_skills.json", func(ctx context.Context, c *Client) (any, *Response, error) {
			return c.ListGateGroupSkills(ctx, "20001", 52001)
		}, decodeAny[GateGroupSkill], "GET /voice/api/v1/admin/accounts/20001/gateGroups/52001/skills"},
		{"dial_groups.json", func(ctx context.Context, c *Client) (any, *Response, error) {
			return c.ListDialGroupsWithChildren(ctx, "20001")
		}, decodeAny[DialGroup], "GET /voice/api/v1/admin/accounts/20001/dialGroups/withChildren"},
	}
	for _, tt := range tests {
		t.Run(tt.fixture, func(t *testing.T) {
			t.Parallel()
			body := readTestdata(t, tt.fixture)
			s := newListServer(t, serveBody(string(body)))
			got, resp, err := tt.call(t.Context(), s.c)
			if err != nil {
				t.Fatal(s.err(err))
			}
			want, err := tt.decode(body)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(want, got, ignoreConfigRaw); diff != "" {
				t.Errorf("items (-want +got):\n%s", diff)
			}
			if resp.Pages != 1 || resp.Endpoint() != tt.endpoint {
				t.Errorf("resp: pages %d, endpoint %q; want 1, %q", resp.Pages, resp.Endpoint(), tt.endpoint)
			}
		})
	}
}

func decodeAny[T any](b []byte) (any, error) {
	v, _, err := decodeList[T](b)
	return v, err
}

// A group whose child fails comes back without it, with an *ItemsError that names the group
// and the child; a group that fails is left out.
func TestWithChildrenListingsChildErrors(t *testing.T) {
	t.Parallel()
	t.Run("queue groups", func(t *testing.T) {
		t.Parallel()
		s := newListServer(t, serveBody(`[{"gateGroupId":1,"gates":[]},{"gateGroupId":2},`+
			`{"gateGroupId":3,"gates":[{"gateId":31},{"gateName":"no id"}]}]`))
		got, _, err := s.c.ListGateGroupsWithChildren(t.Context(), "20001")
		var ie *ItemsError
		if !errors.As(s.err(err), &ie) || len(ie.Items) != 1 || ie.Items[0].Index != 2 || ie.Items[0].Child != "gates[1]" {
			t.Fatalf("err = %v, want an *ItemsError for item 2's gates[1]", err)
		}
		want := "listing queue groups of sub-account 20001: decoding GET /voice/api/v1/admin/accounts/20001/gateGroups/withChildren response: item 2: gates[1]: gateId is missing"
		if err.Error() != want {
			t.Errorf("err = %q\nwant  %q", err, want)
		}
		if len(got) != 3 || len(got[2].Gates) != 1 || got[2].Gates[0].GateID != 31 {
			t.Errorf("got %+v, want 3 groups, the last with gate 31 only", got)
		}
	})
	t.Run("dial groups", func(t *testing.T) {
		t.Parallel()
		s := newListServer(t, serveBody(`[{"dialGroupName":"no id"},{"dialGroupId":2,"campaigns":[{"campaignId":"c"},{"campaignId":22}]}]`))
		got, _, err := s.c.ListDialGroupsWithChildren(t.Context(), "20001")
		var ie *ItemsError
		if !errors.As(s.err(err), &ie) || len(ie.Items) != 2 {
			t.Fatalf("err = %v, want an *ItemsError of 2 items", err)
		}
		if !strings.HasSuffix(err.Error(), "response: item 0: dialGroupId is missing; item 1: campaigns[0]: campaignId: parsing integer (1 bytes): not a number") {
			t.Errorf("err = %q", err)
		}
		if len(got) != 1 || got[0].DialGroupID != 2 || len(got[0].Campaigns) != 1 || got[0].Campaigns[0].CampaignID != 22 {
			t.Errorf("got %+v, want group 2 with campaign 22", got)
		}
	})
}
