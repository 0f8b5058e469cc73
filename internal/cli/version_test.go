package cli

import (
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"runtime"
	"runtime/debug"
	"slices"
	"strings"
	gosync "sync"
	"testing"

	"github.com/evsync/evsync/engageclient/engagefake"
	"github.com/evsync/evsync/internal/buildinfo"
	"github.com/evsync/evsync/internal/testing/dbtest"
	"github.com/evsync/evsync/internal/testing/fixture"
)

// --version shows the module version, the VCS revision and time, the dirty flag and the Go
// version that the build info holds; -ldflags replaces only the version.
func TestVersionLine(t *testing.T) {
	t.Parallel()
	bi := &debug.BuildInfo{GoVersion: "go1.26.0", Main: debug.Module{Path: "github.com/evsync/evsync", Version: "v1.2.0"},
		Settings: []debug.BuildSetting{
			{Key: "GOOS", Value: "linux"}, {Key: "GOARCH", Value: "amd64"},
			{Key: "vcs.revision", Value: "4b29380c1f2e9d8a7b6c5d4e3f2a1b0c9d8e7f6a"},
			{Key: "vcs.time", Value: "2026-12-01T10:00:00Z"}, {Key: "vcs.modified", Value: "true"},
		}}
	for ldflags, want := range map[string]string{
		"":      "syncer v1.2.0 (revision 4b29380c1f2e, 2026-12-01T10:00:00Z, dirty; go1.26.0 linux/amd64)\n",
		"1.3.0": "syncer 1.3.0 (revision 4b29380c1f2e, 2026-12-01T10:00:00Z, dirty; go1.26.0 linux/amd64)\n",
	} {
		if got := versionLine(buildinfo.FromBuildInfo(bi, ldflags)); got != want {
			t.Errorf("version line with -X version=%q = %q, want %q", ldflags, got, want)
		}
	}
	// `syncer version` says the same as --version: this binary's build.
	for _, args := range [][]string{{"version"}, {"--version"}} {
		code, stdout, stderr := runCLI(t, nil, args...)
		if code != exitOK || stdout != versionLine(build()) || stderr != "" || !strings.Contains(stdout, runtime.Version()) {
			t.Errorf("%q: exit %d, stdout %q, stderr %q; want 0 and %q", args, code, stdout, stderr, versionLine(build()))
		}
	}
}

// The API requests of a sync carry the build in their User-Agent.
func TestUserAgentCarriesTheBuild(t *testing.T) {
	t.Parallel()
	opts := engagefake.Options{Tenant: engagefake.TenantSpec{SubAccountsPerMain: 1, Users: 1,
		AgentGroupsPerSubAccount: -1, QueueGroupsPerSubAccount: -1, DialGroupsPerSubAccount: -1}}
	fake := fixture.Fake(t, opts)
	target, err := url.Parse(fake.URL())
	if err != nil {
		t.Fatal(err)
	}
	var (
		mu     gosync.Mutex
		agents []string
	)
	proxy := httputil.NewSingleHostReverseProxy(target)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		agents = append(agents, r.UserAgent())
		mu.Unlock()
		proxy.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	o := fake.Options()
	code, stdout, stderr := runCLI(t, map[string]string{
		"EVSYNC_DATABASE_URL": dbtest.NewURL(t), "EVSYNC_RC_SERVER_URL": srv.URL, "EVSYNC_ENGAGE_SERVER_URL": srv.URL,
		"EVSYNC_RC_CLIENT_ID": o.ClientID, "EVSYNC_RC_CLIENT_SECRET": o.ClientSecret, "EVSYNC_RC_JWT": o.JWT,
	}, "sync", "--entities", "accounts")
	if code != exitOK {
		t.Fatalf("sync: exit %d\nstdout: %s\nstderr: %s", code, stdout, stderr)
	}
	mu.Lock()
	defer mu.Unlock()
	want := userAgent()
	if !strings.HasPrefix(want, "evsync/") || !strings.Contains(want, runtime.Version()) {
		t.Errorf("userAgent() = %q, want evsync/VERSION with the Go version", want)
	}
	if len(agents) == 0 || slices.ContainsFunc(agents, func(ua string) bool { return ua != want }) {
		t.Errorf("User-Agents sent = %q, want each %q", agents, want)
	}
}
