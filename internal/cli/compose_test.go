package cli

import (
	"cmp"
	"context"
	"maps"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/compose-spec/compose-go/v2/loader"
	"github.com/compose-spec/compose-go/v2/types"

	"github.com/evsync/evsync/engageclient/engagefake"
	"github.com/evsync/evsync/internal/config"
)

// repoRoot is where docker-compose.yml, Dockerfile and deploy/ live.
var repoRoot = filepath.Join("..", "..")

// loadCompose loads the compose document content, named name in repoRoot, the way Compose
// itself does, with the Compose specification's own loader (compose-go): schema validation,
// interpolation of ${VAR:-default}, normalization, relative paths resolved against repoRoot,
// and the consistency checks (e.g. depends_on an undefined service). environ is the caller's
// environment; its EVSYNC_* variables are removed, as the file must be valid without them (no
// .env file is read either). profiles are the profiles to enable ("*" for all). Neither a
// Docker engine nor any binary is needed.
func loadCompose(ctx context.Context, name string, content []byte, environ []string, profiles ...string) (*types.Project, error) {
	root, err := filepath.Abs(repoRoot)
	if err != nil {
		return nil, err
	}
	environ = slices.DeleteFunc(slices.Clone(environ), func(kv string) bool { return strings.HasPrefix(kv, "EVSYNC_") })
	return loader.LoadWithContext(ctx, types.ConfigDetails{
		WorkingDir:  root,
		ConfigFiles: []types.ConfigFile{{Filename: filepath.Join(root, name), Content: content}},
		Environment: types.NewMapping(environ),
	}, loader.WithProfiles(profiles), func(o *loader.Options) {
		o.SetProjectName("evsync", true) // not the checkout's directory name, which may be anything
	})
}

func readComposeFile(t *testing.T) []byte {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(repoRoot, "docker-compose.yml"))
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// TestComposeConfig validates docker-compose.yml with the Compose specification's loader, for
// every profile, and checks that the same validation rejects broken documents.
func TestComposeConfig(t *testing.T) {
	t.Parallel()
	file := readComposeFile(t)
	for _, profiles := range [][]string{{"*"}, nil, {"demo"}, {"test"}} {
		t.Run("docker-compose.yml/profiles="+cmp.Or(strings.Join(profiles, ","), "none"), func(t *testing.T) {
			t.Parallel()
			p, err := loadCompose(t.Context(), "docker-compose.yml", file, os.Environ(), profiles...)
			if err != nil {
				t.Fatalf("docker-compose.yml is not a valid compose file: %v", err)
			}
			if slices.Equal(profiles, []string{"*"}) {
				if len(p.DisabledServices) != 0 || len(p.Services) == 0 {
					t.Errorf("with every profile enabled: %d services, %d disabled (%v)", len(p.Services), len(p.DisabledServices), p.DisabledServiceNames())
				}
				for _, name := range []string{"postgres", "postgres-test", "syncer", "fake-engage", "syncer-demo"} {
					if _, ok := p.Services[name]; !ok {
						t.Errorf("no service %s", name)
					}
				}
			}
		})
	}

	const svc = "services:\n  app:\n    image: postgres:15\n"
	for _, tc := range []struct {
		name, doc string
		environ   []string // the caller's environment (none if nil)
		profiles  []string // the enabled profiles (every one, "*", if nil)
		wantErr   string   // a part of the loader's error; "" for none
	}{
		{name: "valid", doc: svc + "    ports: [\"127.0.0.1:8080:80\"]\n"},
		{name: "unknown top-level key", doc: svc + "servises: {}\n", wantErr: "servises"},
		{name: "unknown service key", doc: svc + "    comand: [run]\n", wantErr: "comand"},
		{name: "invalid port", doc: svc + "    ports: [\"127.0.0.1:http:80\"]\n", wantErr: "invalid hostPort"},
		{name: "ports not a list", doc: svc + "    ports: {http: 80}\n", wantErr: "ports"},
		{name: "stop_grace_period not a duration", doc: svc + "    stop_grace_period: soon\n", wantErr: "stop_grace_period"},
		{name: "depends_on an undefined service", doc: svc + "    depends_on: [db]\n", wantErr: `undefined service "db"`},
		{name: "depends_on a service of another profile", doc: svc + "    depends_on: [db]\n  db:\n    image: postgres:15\n    profiles: [test]\n", profiles: []string{"demo"}, wantErr: `undefined service "db"`},
		{name: "undefined named volume", doc: svc + "    volumes: [\"data:/var/lib/postgresql/data\"]\n", wantErr: "undefined volume data"},
		{
			name:    "caller's EVSYNC_ variables are ignored",
			doc:     "services:\n  app:\n    image: ${EVSYNC_TEST_IMAGE:?must be set}\n",
			environ: []string{"EVSYNC_TEST_IMAGE=postgres:15"},
			wantErr: "EVSYNC_TEST_IMAGE",
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			profiles := tc.profiles
			if profiles == nil {
				profiles = []string{"*"}
			}
			_, err := loadCompose(t.Context(), "inline.yml", []byte(tc.doc), tc.environ, profiles...)
			switch {
			case tc.wantErr == "" && err != nil:
				t.Fatalf("want no error, got %v\n%s", err, tc.doc)
			case tc.wantErr != "" && err == nil:
				t.Fatalf("want an error mentioning %q, got none\n%s", tc.wantErr, tc.doc)
			case tc.wantErr != "" && !strings.Contains(err.Error(), tc.wantErr):
				t.Fatalf("want an error mentioning %q, got %v\n%s", tc.wantErr, err, tc.doc)
			}
		})
	}
}

// readCompose returns docker-compose.yml's services, every profile enabled, as Compose sees
// them: interpolated without the caller's EVSYNC_* variables, paths resolved.
func readCompose(t *testing.T) types.Services {
	t.Helper()
	p, err := loadCompose(t.Context(), "docker-compose.yml", readComposeFile(t), os.Environ(), "*")
	if err != nil {
		t.Fatalf("loading docker-compose.yml: %v", err)
	}
	return p.Services
}

// serviceEnv is a service's environment in os.Environ's form, for config.Load.
func serviceEnv(s types.ServiceConfig) []string {
	var env []string
	for _, k := range slices.Sorted(maps.Keys(s.Environment)) {
		if v := s.Environment[k]; v != nil {
			env = append(env, k+"="+*v)
		}
	}
	return env
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
			c := loadServiceConfig(t, s, s.Command[i+1])
			if name == "syncer-demo" {
				if err := c.RequireCredentials(); err != nil {
					t.Errorf("syncer-demo lacks credentials: %v", err)
				}
				if !c.MultiTenant() {
					t.Errorf("syncer-demo has no tenants; the demo shows several")
				}
				for _, tn := range c.Tenants() {
					if tn.Schema == config.Default().Database.Schema {
						t.Errorf("syncer-demo tenant %s writes to schema %q, the real syncer's", tn.Name, tn.Schema)
					}
				}
			}
			if s.Deploy == nil || s.Deploy.Replicas == nil || *s.Deploy.Replicas < 2 {
				t.Errorf("%s runs fewer than two replicas; deploy/ and the README show two", name)
			}
			_, port, err := splitPort(c.HTTP.Listen)
			if err != nil {
				t.Fatalf("http.listen %q: %v", c.HTTP.Listen, err)
			}
			if !slices.ContainsFunc(s.Ports, func(p types.ServicePortConfig) bool { return strconv.FormatUint(uint64(p.Target), 10) == port }) {
				t.Errorf("ports %v do not publish http.listen's port %s", s.Ports, port)
			}
			if s.StopGracePeriod == nil {
				t.Fatalf("no stop_grace_period")
			}
			if stop := time.Duration(*s.StopGracePeriod); stop <= c.Shutdown.GracePeriod {
				t.Errorf("stop_grace_period %s is not longer than shutdown.grace_period %s", stop, c.Shutdown.GracePeriod)
			}
			if s.DependsOn["postgres"].Condition != types.ServiceConditionHealthy {
				t.Errorf("does not wait for a healthy postgres")
			}
			u, err := url.Parse(c.Database.URL)
			if err != nil || u.Host != "postgres:5432" {
				t.Errorf("EVSYNC_DATABASE_URL does not point at the postgres service")
			}
			checkComposeHealthcheck(t, s, s.Command[i+1], c)
		})
	}
}

// checkComposeHealthcheck checks a syncer service's healthcheck: the image's binary (no shell,
// no curl in it) running `healthcheck` with the service's own config, whose http.listen gives
// it the /readyz to ask.
func checkComposeHealthcheck(t *testing.T, s types.ServiceConfig, configPath string, c config.Config) {
	t.Helper()
	hc := s.HealthCheck
	if hc == nil || hc.Disable || len(hc.Test) < 3 || hc.Test[0] != "CMD" {
		t.Fatalf("healthcheck = %+v, want test: [CMD, /syncer, ..., healthcheck]", hc)
	}
	dockerfile, err := os.ReadFile(filepath.Join(repoRoot, "Dockerfile"))
	if err != nil {
		t.Fatal(err)
	}
	if entry := `ENTRYPOINT ["` + hc.Test[1] + `"]`; !strings.Contains(string(dockerfile), entry) {
		t.Errorf("healthcheck runs %s, but the Dockerfile has no %s", hc.Test[1], entry)
	}
	args := hc.Test[2:]
	if i := slices.Index(args, "--config"); i < 0 || i+1 >= len(args) || args[i+1] != configPath {
		t.Errorf("healthcheck %q does not read the service's config %s", args, configPath)
	}
	cmd, rest, err := newRoot(&app{}).Find(args)
	if err != nil || cmd.Name() != "healthcheck" || slices.ContainsFunc(rest, func(a string) bool { return !strings.HasPrefix(a, "-") && a != configPath }) {
		t.Errorf("healthcheck %q is not `syncer healthcheck` (found %q, %v)", args, cmd.Name(), err)
	}
	if _, err := readyzURL(c.HTTP.Listen); err != nil {
		t.Errorf("healthcheck cannot find /readyz in the service's config: %v", err)
	}
	for name, d := range map[string]*types.Duration{"interval": hc.Interval, "timeout": hc.Timeout, "start_period": hc.StartPeriod} {
		if d == nil || *d <= 0 {
			t.Errorf("healthcheck has no %s", name)
		}
	}
}

// loadServiceConfig loads the config a service runs with, as the container sees it: the file
// mounted at inContainer, with every path under one of the service's bind mounts (the config
// itself, secret files) read from the host directory mounted there, and the service's
// environment.
func loadServiceConfig(t *testing.T, s types.ServiceConfig, inContainer string) config.Config {
	t.Helper()
	var hostPath string // absolute: the loader resolves it against repoRoot
	var mounts []string // container target, host source, ...
	for _, v := range s.Volumes {
		if v.Type != types.VolumeTypeBind {
			continue
		}
		if v.Target == inContainer {
			hostPath = v.Source
		}
		mounts = append(mounts, v.Target, v.Source)
	}
	if hostPath == "" {
		t.Fatalf("no volume mounts %s", inContainer)
	}
	data, err := os.ReadFile(hostPath)
	if err != nil {
		t.Fatal(err)
	}
	// Secret files: a path in the config under a mounted directory is read from its source.
	text := string(data)
	for i := 0; i+1 < len(mounts); i += 2 {
		if mounts[i] != inContainer {
			text = strings.ReplaceAll(text, mounts[i]+"/", mounts[i+1]+"/")
		}
	}
	local := filepath.Join(t.TempDir(), filepath.Base(hostPath))
	if err := os.WriteFile(local, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	c, err := config.Load(local, serviceEnv(s))
	if err != nil {
		t.Fatalf("loading %s: %v", hostPath, err)
	}
	if err := c.Validate(); err != nil {
		t.Fatalf("validating %s: %v", hostPath, err)
	}
	return c
}

func splitPort(listen string) (string, string, error) {
	i := strings.LastIndex(listen, ":")
	if i < 0 {
		return "", "", os.ErrInvalid
	}
	return listen[:i], listen[i+1:], nil
}

// TestComposeDemoMatchesFake checks that every tenant of syncer-demo reaches one of the demo
// profile's fakes where it listens, and that the fake, as `syncer fake-engage` starts it
// (default credentials), grants a RingCentral token for the credentials the tenant is given.
func TestComposeDemoMatchesFake(t *testing.T) {
	t.Parallel()
	services := readCompose(t)
	demo := services["syncer-demo"]
	if !slices.Contains(demo.Profiles, "demo") {
		t.Errorf("syncer-demo must be in the demo profile")
	}
	fakes := map[string]bool{} // http://service:port the demo's fakes listen on
	for name, s := range services {
		if len(s.Command) == 0 || s.Command[0] != "fake-engage" {
			continue
		}
		if !slices.Contains(s.Profiles, "demo") {
			t.Errorf("%s must be in the demo profile", name)
		}
		i := slices.Index(s.Command, "--listen")
		if i < 0 || i+1 >= len(s.Command) {
			t.Fatalf("%s command %q does not run `fake-engage --listen ADDR`", name, s.Command)
		}
		_, port, err := splitPort(s.Command[i+1])
		if err != nil {
			t.Fatal(err)
		}
		fakes["http://"+name+":"+port] = true
		if _, ok := demo.DependsOn[name]; !ok {
			t.Errorf("syncer-demo does not depend on %s", name)
		}
	}
	c := loadServiceConfig(t, demo, demo.Command[slices.Index(demo.Command, "--config")+1])
	reached := map[string]bool{}
	for _, tn := range c.Tenants() {
		for key, u := range map[string]string{"ringcentral.server_url": tn.RingCentral.ServerURL, "engage.server_url": tn.Engage.ServerURL} {
			if !fakes[u] {
				t.Errorf("syncer-demo tenant %s: %s = %q, want one of the fakes %v", tn.Name, key, u, slices.Sorted(maps.Keys(fakes)))
			}
			reached[u] = true
		}
	}
	if len(reached) != len(fakes) {
		t.Errorf("the demo tenants reach %d of the %d fakes", len(reached), len(fakes))
	}

	srv := httptest.NewServer(engagefake.New(engagefake.Options{}))
	defer srv.Close()
	for _, tn := range c.Tenants() {
		form := url.Values{
			"grant_type": {"urn:ietf:params:oauth:grant-type:jwt-bearer"},
			"assertion":  {tn.RingCentral.JWT},
		}
		req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, srv.URL+"/restapi/oauth/token", strings.NewReader(form.Encode()))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.SetBasicAuth(tn.RingCentral.ClientID, tn.RingCentral.ClientSecret)
		resp, err := srv.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Errorf("the fake answers %d to tenant %s's client id, secret file and JWT file from deploy/: make them the fake's defaults", resp.StatusCode, tn.Name)
		}
	}
}
