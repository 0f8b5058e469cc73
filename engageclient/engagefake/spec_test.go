package engagefake_test

import (
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/evsync/evsync/engageclient/engagefake"
	"github.com/evsync/evsync/internal/testing/apispec"
)

// TestServesTheSpec sends the fake the documented requests that engageclient does not send
// (includePermissions, a page past the end, activeOnly with flatten, a logout without Accept,
// an exchange without includeRefresh, the fake's own rate limiter) through the validating
// transport of internal/testing/apispec: every answer must match the official documents (with
// evsync's overrides). engageclient/spec_test.go covers the client's own calls.
func TestServesTheSpec(t *testing.T) {
	t.Parallel()
	clock := newClock()
	s, base := start(t, engagefake.Options{
		Seed:   21,
		Tenant: engagefake.TenantSpec{MainAccounts: 2, SubAccountsPerMain: 2, AgentGroupsPerSubAccount: 3, AgentsPerGroup: 6, Users: 30},
		Now:    clock.Now, RateLimit: 60, RateBurst: 40, RateLimitRetryAfter: true, ExchangePerMinute: -1,
	})
	tr := validator(t, base)
	hc := &http.Client{Transport: tr}
	send := func(method, path string, form url.Values, header ...string) response {
		t.Helper()
		var body io.Reader
		if form != nil {
			body = strings.NewReader(form.Encode())
		}
		req, err := http.NewRequestWithContext(t.Context(), method, base+path, body)
		if err != nil {
			t.Fatal(err)
		}
		if form != nil {
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		}
		for i := 0; i+1 < len(header); i += 2 {
			req.Header.Set(header[i], header[i+1])
		}
		resp, err := hc.Do(req)
		if err != nil {
			t.Fatalf("%s %s: %v", method, path, err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return response{resp.StatusCode, resp.Header, b}
	}
	rc := rcGrant(t, base)["access_token"].(string)
	// An exchange without includeRefresh (no refreshToken), then one with it.
	if r := send(http.MethodPost, "/api/auth/login/rc/accesstoken", url.Values{"rcAccessToken": {rc}, "rcTokenType": {"Bearer"}}); r.status != 200 {
		t.Fatalf("exchange: %d %s", r.status, r.body)
	}
	r := send(http.MethodPost, "/api/auth/login/rc/accesstoken?includeRefresh=true", url.Values{"rcAccessToken": {rc}, "rcTokenType": {"Bearer"}})
	tokens := decode[map[string]any](t, r)
	_, rt := tokens["accessToken"].(string), tokens["refreshToken"].(string) // both must be strings
	// The refresh as the current docs send it (no rcTokenType).
	r = send(http.MethodPost, "/api/auth/token/refresh", url.Values{"refresh_token": {rt}})
	tokens = decode[map[string]any](t, r)
	at, rt := tokens["accessToken"].(string), tokens["refreshToken"].(string)
	bearer := []string{"Authorization", "Bearer " + at, "Accept", "application/json"}

	acc := s.SubAccountIDs()[1]
	// Each kind of configuration listing, in full and (where the spec pages it) paged.
	kinds := map[string]bool{}
	for _, p := range s.ConfigPaths() {
		kind := regexp.MustCompile(`[0-9]+`).ReplaceAllString(p, "N")
		if kinds[kind] {
			continue
		}
		kinds[kind] = true
		for _, q := range []string{"", "?page=0&maxRows=2", "?page=1&maxRows=2"} {
			if strings.HasSuffix(p, "/skills") && q != "" {
				continue // no paging in the spec
			}
			if r := send(http.MethodGet, p+q, nil, "Authorization", "Bearer "+at, "Accept", "application/json"); r.status != 200 {
				t.Errorf("GET %s%s: %d %s", p, q, r.status, r.body)
			}
		}
	}
	gid := s.AgentGroupIDs(acc)[2]
	for _, p := range []string{
		accountsPath,
		usersPath,
		usersPath + "?flatten=true&activeOnly=true",
		usersPath + "?flatten=false&activeOnly=true",
		groupsPath(acc) + "?includePermissions=true",
		groupsPath(acc) + "?page=1&maxRows=2&includePermissions=false",
		groupsPath(acc) + "?page=5&maxRows=2", // past the end: []
		agentsPath(acc, gid),
		"/voice/api/v1/admin/accounts/" + acc + "/gateGroups/withChildren?includePermissions=true&page=0&maxRows=1",
		"/voice/api/v1/admin/accounts/" + acc + "/dialGroups/withChildren?includePermissions=true&page=1&maxRows=1",
	} {
		if r := send(http.MethodGet, p, nil, bearer...); r.status != 200 {
			t.Errorf("GET %s: %d %s", p, r.status, r.body)
		}
	}
	// Error answers: unknown account and group, an expired token, a forged token, the fake's
	// rate limiter (JSON body, Retry-After, X-Rate-Limit-*), a bodiless 429.
	for _, tt := range []struct {
		path   string
		header []string
		want   int
	}{
		{groupsPath("nope"), bearer, 404},
		{agentsPath(acc, 1), bearer, 404},
		{agentsPath("nope", gid), bearer, 404},
		{accountsPath, []string{"Authorization", "Bearer not-a-jwt", "Accept", "application/json"}, 401},
	} {
		if r := send(http.MethodGet, tt.path, nil, tt.header...); r.status != tt.want {
			t.Errorf("GET %s: %d, want %d", tt.path, r.status, tt.want)
		}
	}
	s.SetFault(engagefake.EndpointAccounts, engagefake.Fault{Status: 429, NoBody: true, RetryAfter: "2", Times: 1})
	if r := send(http.MethodGet, accountsPath, nil, bearer...); r.status != 429 {
		t.Errorf("bodiless 429: %d", r.status)
	}
	limited := false
	for range 60 {
		if r := send(http.MethodGet, accountsPath, nil, bearer...); r.status == 429 {
			limited = r.header.Get("Retry-After") != ""
			break
		}
	}
	if !limited {
		t.Error("the rate limiter never answered 429 with Retry-After")
	}
	clock.Advance(time.Minute)
	s.ExpireTokens()
	if r := send(http.MethodGet, agentsPath(acc, gid), nil, bearer...); r.status != 401 || string(r.body) != "Jwt is expired" {
		t.Errorf("expired token: %d %q", r.status, r.body)
	}
	// Logout without an Accept header, as the spec's text/plain 200.
	if r := send(http.MethodDelete, "/api/auth/logout/"+url.PathEscape(rt), nil); r.status != 200 {
		t.Errorf("logout: %d %q", r.status, r.body)
	}

	for _, v := range tr.Violations() {
		t.Errorf("off the spec: %s", v)
	}
}

// The validating transport notices a client that asks the logout for JSON (the fake, like the
// real server, answers 406, which no document lists).
func TestSpecFlagsLogoutAcceptingJSON(t *testing.T) {
	t.Parallel()
	_, base := start(t, engagefake.Options{})
	_, rt := login(t, base)
	tr := validator(t, base)
	req, err := http.NewRequestWithContext(t.Context(), http.MethodDelete, base+"/api/auth/logout/"+url.PathEscape(rt), nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Accept", "application/json")
	resp, err := (&http.Client{Transport: tr}).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNotAcceptable {
		t.Errorf("status %d, want 406", resp.StatusCode)
	}
	var got []string
	for _, v := range tr.Violations() {
		got = append(got, v.Where+" "+v.Pointer)
	}
	if want := "request header Accept|response 406 "; strings.Join(got, "|") != want {
		t.Errorf("violations %q, want %q (all: %v)", strings.Join(got, "|"), want, tr.Violations())
	}
}

// validator returns a transport that holds every request and answer to the official documents
// served at base.
func validator(t *testing.T, base string) *apispec.Transport {
	t.Helper()
	doc, err := apispec.Load(t.Context(), base)
	if err != nil {
		t.Fatal(err)
	}
	tr, err := apispec.NewTransport(doc, nil)
	if err != nil {
		t.Fatal(err)
	}
	return tr
}
