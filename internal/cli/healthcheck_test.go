package cli

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/evsync/evsync/internal/testing/fixture"
)

// healthcheck exits 0 on a 200 from /readyz and 1 otherwise, with the daemon's one-line
// reason; it finds /readyz on http.listen unless --url says where.
func TestHealthcheck(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/readyz":
			_, _ = fmt.Fprint(w, "ready: the database answers\n")
		case "/down/readyz":
			w.WriteHeader(http.StatusServiceUnavailable)
			_, _ = fmt.Fprint(w, "not ready: database: connection refused\n")
		default:
			http.Redirect(w, r, "/readyz", http.StatusFound)
		}
	}))
	t.Cleanup(srv.Close)
	closed := httptest.NewServer(http.NotFoundHandler())
	closed.Close()
	listen := strings.TrimPrefix(srv.URL, "http://")
	cfgWith := func(listen string) string {
		return fixture.WriteFile(t, "c.yaml", fmt.Sprintf("http:\n  listen: %q\n", listen))
	}
	tests := []struct {
		name       string
		args       []string
		wantCode   int
		wantStdout string
		wantStderr string
	}{
		{"ready", []string{"healthcheck", "--url", srv.URL + "/readyz"}, exitOK, "ready: the database answers\n", ""},
		{"ready from http.listen", []string{"--config", cfgWith(listen), "healthcheck"}, exitOK, "ready: the database answers\n", ""},
		// The config is loaded as every command loads it: --log-level overrides log.level first.
		{"--log-level overrides log.level", []string{"--config", fixture.WriteFile(t, "l.yaml", fmt.Sprintf("http:\n  listen: %q\nlog:\n  level: loud\n", listen)),
			"--log-level", "info", "healthcheck"}, exitOK, "ready: the database answers\n", ""},
		{"not ready", []string{"healthcheck", "--url", srv.URL + "/down/readyz"}, exitFailed, "",
			"syncer: healthcheck: GET " + srv.URL + "/down/readyz: 503 Service Unavailable: not ready: database: connection refused\n"},
		{"a redirect is not ready", []string{"healthcheck", "--url", srv.URL + "/elsewhere"}, exitFailed, "", "302 Found"},
		{"nothing listens", []string{"healthcheck", "--url", closed.URL + "/readyz"}, exitFailed, "", "connection refused"},
		{"no http.listen", []string{"healthcheck"}, exitUsage, "", "syncer: healthcheck: http.listen is empty"},
		{"bad url", []string{"healthcheck", "--url", "localhost:9090/readyz"}, exitUsage, "", `syncer: healthcheck: --url: want an http:// or https:// URL, got "localhost:9090/readyz"`},
		{"bad timeout", []string{"healthcheck", "--url", srv.URL, "--timeout", "0s"}, exitUsage, "", "--timeout must be positive"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			code, stdout, stderr := runCLI(t, nil, tt.args...)
			if code != tt.wantCode || stdout != tt.wantStdout || !strings.Contains(stderr, tt.wantStderr) || strings.Count(stderr, "\n") > 1 {
				t.Errorf("syncer %s = exit %d, stdout %q, stderr %q; want exit %d, stdout %q, one stderr line with %q",
					strings.Join(tt.args, " "), code, stdout, stderr, tt.wantCode, tt.wantStdout, tt.wantStderr)
			}
		})
	}
}

// A password or token in --url never reaches the error: the URL shows as config.RedactURL
// masks it, whether the daemon answers not ready, nobody answers, or the URL is refused.
func TestHealthcheckMasksURLSecrets(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.WriteHeader(http.StatusServiceUnavailable)
		_, _ = fmt.Fprint(w, "not ready\n")
	}))
	t.Cleanup(srv.Close)
	closed := httptest.NewServer(http.NotFoundHandler())
	closed.Close()
	withSecrets := func(base string) string {
		return strings.Replace(base, "http://", "http://u:s3cretpw@", 1) + "/readyz?token=t0ken&x=1"
	}
	tests := []struct {
		name, url, wantStderr string
		wantCode              int
	}{
		{"not ready", withSecrets(srv.URL), "syncer: healthcheck: GET " + strings.Replace(srv.URL, "http://", "http://u:****@", 1) + "/readyz?token=****&x=1: 503 Service Unavailable: not ready\n", exitFailed},
		{"nothing listens", withSecrets(closed.URL), strings.Replace(closed.URL, "http://", "http://u:****@", 1) + "/readyz?token=****&x=1", exitFailed},
		{"bad url", "ftp://u:s3cretpw@host/readyz?token=t0ken", `got "ftp://u:****@host/readyz?token=****"`, exitUsage},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			code, _, stderr := runCLI(t, nil, "healthcheck", "--url", tt.url)
			if code != tt.wantCode || !strings.Contains(stderr, tt.wantStderr) || strings.Contains(stderr, "s3cretpw") || strings.Contains(stderr, "t0ken") {
				t.Errorf("syncer healthcheck --url %s = exit %d, stderr %q; want exit %d, stderr with %q and neither secret", tt.url, code, stderr, tt.wantCode, tt.wantStderr)
			}
		})
	}
}

// The daemon's address made local: a wildcard host is 127.0.0.1, a named one is kept.
func TestReadyzURL(t *testing.T) {
	t.Parallel()
	tests := []struct{ listen, want string }{
		{":9090", "http://127.0.0.1:9090/readyz"},
		{"0.0.0.0:9090", "http://127.0.0.1:9090/readyz"},
		{"[::]:9090", "http://127.0.0.1:9090/readyz"},
		{"localhost:8080", "http://localhost:8080/readyz"},
		{"[::1]:9090", "http://[::1]:9090/readyz"},
	}
	for _, tt := range tests {
		if got, err := readyzURL(tt.listen); err != nil || got != tt.want {
			t.Errorf("readyzURL(%q) = %q, %v; want %q", tt.listen, got, err, tt.want)
		}
	}
}
