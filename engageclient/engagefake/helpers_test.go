package engagefake_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/evsync/evsync/engageclient/engagefake"
)

// fakeClock is a settable clock for Options.Now.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *fakeClock {
	return &fakeClock{t: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)}
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// start starts a fake with opts and registers its Close.
func start(t testing.TB, opts engagefake.Options) (*engagefake.Server, string) {
	t.Helper()
	s := engagefake.New(opts)
	base := s.Start()
	t.Cleanup(s.Close)
	if s.URL() != base {
		t.Fatalf("URL() = %q, want %q", s.URL(), base)
	}
	return s, base
}

// response is a read HTTP answer.
type response struct {
	status int
	header http.Header
	body   []byte
}

// testClient sends the tests' requests. Not http.DefaultClient: httptest.Server.Close closes
// http.DefaultTransport's idle connections, which breaks a request another parallel test is
// sending on one of them ("http: CloseIdleConnections called").
var testClient = &http.Client{Transport: http.DefaultTransport.(*http.Transport).Clone()}

// do sends a request and reads the answer.
func do(t testing.TB, req *http.Request) response {
	t.Helper()
	resp, err := testClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", req.Method, req.URL.Path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("reading %s: %v", req.URL.Path, err)
	}
	return response{resp.StatusCode, resp.Header, b}
}

// postForm posts a form, with Basic auth when user != "".
func postForm(t testing.TB, u string, form url.Values, user, pass string) response {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, u, strings.NewReader(form.Encode()))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if user != "" {
		req.SetBasicAuth(user, pass)
	}
	return do(t, req)
}

// get sends an authenticated GET.
func get(t testing.TB, u, token string) response {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, u, nil)
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	return do(t, req)
}

// decode unmarshals r's body into v.
func decode[T any](t testing.TB, r response) T {
	t.Helper()
	var v T
	if err := json.Unmarshal(r.body, &v); err != nil {
		t.Fatalf("decoding %q: %v", truncate(r.body), err)
	}
	return v
}

func truncate(b []byte) string {
	if len(b) > 300 {
		return string(b[:300]) + "..."
	}
	return string(b)
}

// rcGrant runs the JWT grant and returns the RingCentral token response.
func rcGrant(t testing.TB, base string) map[string]any {
	t.Helper()
	r := postForm(t, base+"/restapi/oauth/token", url.Values{
		"grant_type": {"urn:ietf:params:oauth:grant-type:jwt-bearer"},
		"assertion":  {engagefake.JWTDefault},
	}, engagefake.ClientIDDefault, engagefake.ClientSecretDefault)
	if r.status != http.StatusOK {
		t.Fatalf("JWT grant: status %d body %s", r.status, r.body)
	}
	return decode[map[string]any](t, r)
}

// exchange exchanges an RC access token.
func exchange(t testing.TB, base, rcToken string) response {
	t.Helper()
	return postForm(t, base+"/api/auth/login/rc/accesstoken?includeRefresh=true",
		url.Values{"rcAccessToken": {rcToken}, "rcTokenType": {"Bearer"}}, "", "")
}

// login runs grant + exchange and returns the Engage access and refresh tokens.
func login(t testing.TB, base string) (string, string) {
	t.Helper()
	rc := rcGrant(t, base)
	r := exchange(t, base, rc["access_token"].(string))
	if r.status != http.StatusOK {
		t.Fatalf("exchange: status %d body %s", r.status, r.body)
	}
	m := decode[map[string]any](t, r)
	return m["accessToken"].(string), m["refreshToken"].(string)
}

const (
	accountsPath = "/voice/api/v1/admin/accounts"
	usersPath    = "/voice/api/v1/admin/users"
)

func groupsPath(acc string) string { return "/voice/api/v1/admin/accounts/" + acc + "/agentGroups" }

func agentsPath(acc string, gid int) string {
	return groupsPath(acc) + "/" + strconv.Itoa(gid) + "/agents"
}
