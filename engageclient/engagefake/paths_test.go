package engagefake_test

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/evsync/evsync/engageclient/engagefake"
)

// An account id holding "/", "%", a space, "." or ".." round-trips: the fake splits the escaped
// path and unescapes each segment once, and a dot segment is an ordinary id.
func TestPathSegmentsUnescapedOnce(t *testing.T) {
	t.Parallel()
	odd := []string{"20/01", "20%01", "20 01", "%2F", ".", ".."}
	s, base := start(t, engagefake.Options{Tenant: engagefake.TenantSpec{SubAccountsPerMain: len(odd), AgentGroupsPerSubAccount: 1, AgentsPerGroup: 2}})
	_ = s.Mutate(func(tn *engagefake.Tenant) error {
		for i, id := range odd {
			tn.SubAccounts[i].ID = id
		}
		return nil
	})
	at, _ := login(t, base)
	for _, id := range odd {
		t.Run(id, func(t *testing.T) {
			t.Parallel()
			gids := s.AgentGroupIDs(id)
			if len(gids) != 1 {
				t.Fatalf("AgentGroupIDs(%q) = %v", id, gids)
			}
			r := get(t, base+groupsPath(url.PathEscape(id)), at)
			if r.status != http.StatusOK {
				t.Fatalf("agent groups of %q: %d %s", id, r.status, r.body)
			}
			groups := decode[[]map[string]any](t, r)
			if len(groups) != 1 || groups[0]["agentGroupId"] != float64(gids[0]) {
				t.Errorf("agent groups of %q = %v, want group %d", id, groups, gids[0])
			}
			r = get(t, base+agentsPath(url.PathEscape(id), gids[0]), at)
			if r.status != http.StatusOK || len(decode[[]map[string]any](t, r)) != 2 {
				t.Errorf("agents of %q: %d %s", id, r.status, truncate(r.body))
			}
		})
	}
	// Escaped twice is another id (unescaped once only); a raw "/" is another path.
	for _, p := range []string{groupsPath(url.PathEscape(url.PathEscape("20/01"))), groupsPath("20/01")} {
		if r := get(t, base+p, at); r.status != http.StatusNotFound {
			t.Errorf("GET %s: %d, want 404", p, r.status)
		}
	}
}

// The logout answers 200 text/plain, and negotiates like Spring: an Accept header that admits
// neither text/plain nor text/* nor */* gets 406.
func TestLogoutContentNegotiation(t *testing.T) {
	t.Parallel()
	tests := []struct {
		accept []string // nil: no Accept header
		want   int
	}{
		{nil, http.StatusOK},
		{[]string{""}, http.StatusOK},
		{[]string{"text/plain"}, http.StatusOK},
		{[]string{"TEXT/PLAIN;charset=UTF-8"}, http.StatusOK},
		{[]string{"text/*"}, http.StatusOK},
		{[]string{"*/*"}, http.StatusOK},
		{[]string{"application/json, */*;q=0.1"}, http.StatusOK},
		{[]string{"application/json", "text/plain"}, http.StatusOK},
		{[]string{"application/json"}, http.StatusNotAcceptable},
		{[]string{"application/json, text/html"}, http.StatusNotAcceptable},
		{[]string{"text/plain;q=0, application/json"}, http.StatusNotAcceptable},
		{[]string{"*/*;q=0.0"}, http.StatusNotAcceptable},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.accept, "|"), func(t *testing.T) {
			t.Parallel()
			s, base := start(t, engagefake.Options{})
			_, rt := login(t, base)
			req, err := http.NewRequestWithContext(t.Context(), http.MethodDelete, base+"/api/auth/logout/"+url.PathEscape(rt), nil)
			if err != nil {
				t.Fatal(err)
			}
			for _, a := range tt.accept {
				req.Header.Add("Accept", a)
			}
			r := do(t, req)
			if r.status != tt.want || len(r.body) != 0 {
				t.Fatalf("logout with Accept %q: %d %q, want %d with an empty body", tt.accept, r.status, r.body, tt.want)
			}
			refreshed := postForm(t, base+"/api/auth/token/refresh", url.Values{"refresh_token": {rt}}, "", "")
			switch tt.want {
			case http.StatusOK:
				if ct := r.header.Get("Content-Type"); !strings.HasPrefix(ct, "text/plain") {
					t.Errorf("Content-Type %q, want text/plain", ct)
				}
				if refreshed.status != http.StatusUnauthorized {
					t.Errorf("refresh after logout: %d, want 401", refreshed.status)
				}
			default:
				if refreshed.status != http.StatusOK {
					t.Errorf("refresh after a refused logout: %d, want 200 (the token is still live)", refreshed.status)
				}
			}
			if n := s.Stats().Requests[engagefake.EndpointLogout]; n != 1 {
				t.Errorf("Requests[%s] = %d, want 1", engagefake.EndpointLogout, n)
			}
		})
	}
}

// A logout path with more than one segment is not the logout endpoint.
func TestLogoutOneSegment(t *testing.T) {
	t.Parallel()
	s, base := start(t, engagefake.Options{})
	req, err := http.NewRequestWithContext(t.Context(), http.MethodDelete, base+"/api/auth/logout/a/b", nil)
	if err != nil {
		t.Fatal(err)
	}
	r := do(t, req)
	if r.status != http.StatusNotFound || !json.Valid(r.body) {
		t.Errorf("DELETE /api/auth/logout/a/b: %d %s, want 404", r.status, r.body)
	}
	if st := s.Stats(); st.Requests[engagefake.EndpointLogout] != 0 || st.Requests[engagefake.EndpointUnknown] != 1 {
		t.Errorf("Requests = %v", st.Requests)
	}
}
