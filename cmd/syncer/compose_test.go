package main

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/evsync/evsync/engageclient/engagefake"
)

// repoRoot is where docker-compose.yml, Dockerfile and deploy/ live.
var repoRoot = filepath.Join("..", "..")

// TestComposeConfig validates docker-compose.yml with docker-compose itself (all profiles).
func TestComposeConfig(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(t.Context(), 60*time.Second)
	defer cancel()
	var argv []string
	if bin, err := exec.LookPath("docker-compose"); err == nil {
		argv = []string{bin}
	} else if bin, err := exec.LookPath("docker"); err == nil && exec.CommandContext(ctx, bin, "compose", "version").Run() == nil {
		argv = []string{bin, "compose"} // the Compose v2 plugin
	} else {
		t.Fatal("docker-compose is not installed; install it to validate docker-compose.yml: apt-get install -y --no-install-recommends docker-compose")
	}
	cmd := exec.CommandContext(ctx, argv[0], append(argv[1:], "-f", "docker-compose.yml", "config", "-q")...)
	cmd.Dir = repoRoot
	// Without the caller's EVSYNC_* and .env-provided values the file must still be valid.
	cmd.Env = slices.DeleteFunc(os.Environ(), func(kv string) bool { return strings.HasPrefix(kv, "EVSYNC_") })
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("docker-compose config -q: %v\n%s", err, out)
	}
}

// composeService is the part of a compose service these tests read.
type composeService struct {
	Image           string            `yaml:"image"`
	Command         []string          `yaml:"command"`
	Volumes         []string          `yaml:"volumes"`
	Environment     map[string]string `yaml:"environment"`
	Ports           []string          `yaml:"ports"`
	Profiles        []string          `yaml:"profiles"`
	StopGracePeriod string            `yaml:"stop_grace_period"`
	DependsOn       map[string]struct {
		Condition string `yaml:"condition"`
	} `yaml:"depends_on"`
}

func readCompose(t *testing.T) map[string]composeService {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(repoRoot, "docker-compose.yml"))
	if err != nil {
		t.Fatal(err)
	}
	var f struct {
		Services map[string]composeService `yaml:"services"`
	}
	if err := yaml.Unmarshal(data, &f); err != nil {
		t.Fatalf("parsing docker-compose.yml: %v", err)
	}
	return f.Services
}

var interpolation = regexp.MustCompile(`\$\{([A-Z0-9_]+)(?::?-([^}]*))?\}`)

// composeEnv resolves ${VAR:-default} as docker-compose does with VAR unset.
func composeEnv(env map[string]string) func(string) string {
	return func(k string) string {
		return interpolation.ReplaceAllString(env[k], "$2")
	}
}

// TestComposeServiceConfigs loads the config each syncer service mounts, with the service's
// environment, and checks it against the compose file: valid, same HTTP port, and a stop
// grace period longer than shutdown.grace_period.
func TestComposeServiceConfigs(t *testing.T) {
	t.Parallel()
	services := readCompose(t)
	for _, name := range []string{"syncer", "syncer-demo"} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			s, ok := services[name]
			if !ok {
				t.Fatalf("docker-compose.yml has no service %s", name)
			}
			i := slices.Index(s.Command, "--config")
			if i < 0 || i+1 >= len(s.Command) || !slices.Contains(s.Command, "run") {
				t.Fatalf("command %q does not run the daemon with --config", s.Command)
			}
			inContainer := s.Command[i+1]
			var hostPath string
			for _, v := range s.Volumes {
				parts := strings.Split(v, ":")
				if len(parts) >= 2 && parts[1] == inContainer {
					hostPath = parts[0]
				}
			}
			if hostPath == "" {
				t.Fatalf("no volume mounts %s", inContainer)
			}
			c, err := loadConfig(filepath.Join(repoRoot, hostPath), composeEnv(s.Environment))
			if err != nil {
				t.Fatalf("loading %s: %v", hostPath, err)
			}
			if err := c.validate(); err != nil {
				t.Fatalf("validating %s: %v", hostPath, err)
			}
			if name == "syncer-demo" {
				if err := c.requireCredentials(); err != nil {
					t.Errorf("syncer-demo lacks credentials: %v", err)
				}
				if c.Database.Schema == defaultConfig().Database.Schema {
					t.Errorf("syncer-demo writes to schema %q, the real syncer's", c.Database.Schema)
				}
			}
			_, port, err := splitPort(c.HTTP.Listen)
			if err != nil {
				t.Fatalf("http.listen %q: %v", c.HTTP.Listen, err)
			}
			if !slices.ContainsFunc(s.Ports, func(p string) bool { return strings.HasSuffix(p, ":"+port) }) {
				t.Errorf("ports %q do not publish http.listen's port %s", s.Ports, port)
			}
			stop, err := time.ParseDuration(s.StopGracePeriod)
			if err != nil {
				t.Fatalf("stop_grace_period %q: %v", s.StopGracePeriod, err)
			}
			if stop <= c.Shutdown.GracePeriod {
				t.Errorf("stop_grace_period %s is not longer than shutdown.grace_period %s", stop, c.Shutdown.GracePeriod)
			}
			if s.DependsOn["postgres"].Condition != "service_healthy" {
				t.Errorf("does not wait for a healthy postgres")
			}
			u, err := url.Parse(c.Database.URL)
			if err != nil || u.Host != "postgres:5432" {
				t.Errorf("EVSYNC_DATABASE_URL does not point at the postgres service")
			}
		})
	}
}

func splitPort(listen string) (string, string, error) {
	i := strings.LastIndex(listen, ":")
	if i < 0 {
		return "", "", os.ErrInvalid
	}
	return listen[:i], listen[i+1:], nil
}

// TestComposeDemoMatchesFake checks that syncer-demo reaches fake-engage where it listens and
// that the fake, as `syncer fake-engage` starts it (default options), grants a RingCentral
// token for the credentials syncer-demo is given.
func TestComposeDemoMatchesFake(t *testing.T) {
	t.Parallel()
	services := readCompose(t)
	fake, demo := services["fake-engage"], services["syncer-demo"]
	if !slices.Contains(fake.Profiles, "demo") || !slices.Contains(demo.Profiles, "demo") {
		t.Errorf("fake-engage and syncer-demo must be in the demo profile")
	}
	i := slices.Index(fake.Command, "--listen")
	if len(fake.Command) == 0 || fake.Command[0] != "fake-engage" || i < 0 || i+1 >= len(fake.Command) {
		t.Fatalf("fake-engage command %q does not run `fake-engage --listen ADDR`", fake.Command)
	}
	_, port, err := splitPort(fake.Command[i+1])
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"EVSYNC_RC_SERVER_URL", "EVSYNC_ENGAGE_SERVER_URL"} {
		if want := "http://fake-engage:" + port; demo.Environment[k] != want {
			t.Errorf("syncer-demo %s = %q, want %q", k, demo.Environment[k], want)
		}
	}

	srv := httptest.NewServer(engagefake.New(engagefake.Options{}))
	defer srv.Close()
	form := url.Values{
		"grant_type": {"urn:ietf:params:oauth:grant-type:jwt-bearer"},
		"assertion":  {demo.Environment["EVSYNC_RC_JWT"]},
	}
	req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, srv.URL+"/restapi/oauth/token", strings.NewReader(form.Encode()))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(demo.Environment["EVSYNC_RC_CLIENT_ID"], demo.Environment["EVSYNC_RC_CLIENT_SECRET"])
	resp, err := srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Errorf("the fake answers %d to syncer-demo's EVSYNC_RC_CLIENT_ID/SECRET/JWT from docker-compose.yml: make them the fake's defaults", resp.StatusCode)
	}
}
