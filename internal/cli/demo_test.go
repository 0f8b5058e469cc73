package cli

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/jackc/pgx/v5"

	"github.com/evsync/evsync/db"
	"github.com/evsync/evsync/engageclient/engagefake"
	"github.com/evsync/evsync/internal/config"
	"github.com/evsync/evsync/internal/testing/dbtest"
	"github.com/evsync/evsync/internal/testing/fixture"
)

// scratchDemoDatabase is a demo database of the test's own on the test server, dropped when
// the test ends: tests never touch a real evsync_demo.
func scratchDemoDatabase(t *testing.T) demoDatabase {
	t.Helper()
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	d := demoDatabase{server: dbtest.AdminURL(), name: "evsync_test_demo_" + hex.EncodeToString(b)}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		conn, err := pgx.Connect(ctx, d.server)
		if err != nil {
			t.Errorf("dropping %s: %v", d.name, err)
			return
		}
		defer func() { _ = conn.Close(ctx) }()
		if _, err := conn.Exec(ctx, "DROP DATABASE IF EXISTS "+pgx.Identifier{d.name}.Sanitize()+" WITH (FORCE)"); err != nil {
			t.Errorf("dropping %s: %v", d.name, err)
		}
	})
	return d
}

// With the default configuration, demo syncs into a database of its own, created for it,
// and prints the psql line that reaches it; the server's maintenance database (the default
// database.url) gets nothing, no engage schema. Before, demo wrote into the postgres database.
func TestDemoUsesItsOwnDatabase(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	maint, err := db.Open(ctx, config.Default().Database.URL)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(maint.Close)
	before := dbtest.Catalog(t, maint, "engage")

	d := scratchDemoDatabase(t)
	var out strings.Builder
	a := &app{cfg: config.Default(), stdout: &out, stderr: io.Discard, logger: fixture.TestLogger(t)}
	spec := engagefake.TenantSpec{MainAccounts: 1, SubAccountsPerMain: 1, AgentGroupsPerSubAccount: 1, AgentsPerGroup: 4, Users: 2,
		QueueGroupsPerSubAccount: 0, DialGroupsPerSubAccount: 0}
	if err := runDemo(ctx, a, 3, spec, d); err != nil {
		t.Fatalf("demo: %v\n%s", err, out.String())
	}
	if diff := cmp.Diff(before, dbtest.Catalog(t, maint, "engage")); diff != "" {
		t.Errorf("demo wrote into the maintenance database (-before +after):\n%s", diff)
	}
	want := strings.Replace(dbtest.AdminURL(), "/postgres?", "/"+d.name+"?", 1)
	if !strings.Contains(out.String(), "\n  psql '"+want+"'\n") {
		t.Errorf("demo's output lacks the psql line of %s:\n%s", want, out.String())
	}
	pool, err := db.Open(ctx, want)
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	var agents int
	if err := pool.QueryRow(ctx, "SELECT count(*) FROM engage.agents").Scan(&agents); err != nil || agents != 4 {
		t.Errorf("the demo database holds %d agents (%v), want 4", agents, err)
	}

	// Run again, it finds its database there.
	if _, err := d.ensure(ctx); err != nil {
		t.Errorf("ensuring the demo database again: %v", err)
	}
}

// Demo ensures a database that does not exist yet even when several demos start at once:
// each finds it created, by itself or another.
func TestDemoDatabaseCreatedOnceWhenRacing(t *testing.T) {
	t.Parallel()
	d := scratchDemoDatabase(t)
	var wg sync.WaitGroup
	errs := make([]error, 4)
	for i := range errs {
		wg.Go(func() { _, errs[i] = d.ensure(t.Context()) })
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			t.Errorf("ensuring the demo database: %v", err)
		}
	}
}

// A database.url or EVSYNC_DATABASE_URL names the database demo uses: no demo database is
// made.
func TestDemoHonoursTheConfiguredDatabase(t *testing.T) {
	t.Parallel()
	url := dbtest.NewURL(t)
	for _, viaEnv := range []bool{false, true} {
		d := scratchDemoDatabase(t)
		env := map[string]string{config.EnvDatabaseURL: url, "EVSYNC_DATABASE_SCHEMA": "demo_env"}
		path := ""
		if !viaEnv {
			env = nil
			path = fixture.WriteFile(t, "c.yaml", fmt.Sprintf("database:\n  url: %q\n  schema: demo_file\n", url))
		}
		cfg, err := config.Load(path, fixture.Env(env))
		if err != nil {
			t.Fatal(err)
		}
		var out strings.Builder
		a := &app{cfg: cfg, stdout: &out, stderr: io.Discard, environ: fixture.Env(env), logger: fixture.TestLogger(t)}
		spec := engagefake.TenantSpec{MainAccounts: 1, SubAccountsPerMain: 1, AgentGroupsPerSubAccount: 1, AgentsPerGroup: 1, Users: 1,
			QueueGroupsPerSubAccount: 0, DialGroupsPerSubAccount: 0}
		if err := runDemo(t.Context(), a, 3, spec, d); err != nil {
			t.Fatalf("demo: %v\n%s", err, out.String())
		}
		if !strings.Contains(out.String(), "\n  psql '"+url+"'\n") {
			t.Errorf("demo's output lacks the psql line of %s:\n%s", url, out.String())
		}
		var exists bool
		pool, err := db.Open(t.Context(), url)
		if err != nil {
			t.Fatal(err)
		}
		err = pool.QueryRow(t.Context(), `SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)`, d.name).Scan(&exists)
		pool.Close()
		if err != nil || exists {
			t.Errorf("demo made its database %s though one was configured (%v)", d.name, err)
		}
	}
}

// Whether demo uses its own database is whether the configuration set database.url: a file
// that sets it to the default's value names that database; a blank EVSYNC_DATABASE_URL, which
// the configuration takes as unset, names none (before, demo took it as set and synced into
// the server's maintenance database).
func TestDemoNamesDatabase(t *testing.T) {
	t.Parallel()
	def := config.Default().Database.URL
	tests := []struct {
		name string
		file string // "" = no file
		env  map[string]string
		want bool
	}{
		{"defaults", "", nil, false},
		{"blank variable", "", map[string]string{config.EnvDatabaseURL: " "}, false},
		{"variable", "", map[string]string{config.EnvDatabaseURL: def}, true},
		{"file sets the default", fmt.Sprintf("database:\n  url: %q\n", def), nil, true},
		{"file sets another", "database:\n  url: postgres://db.example/evsync\n", nil, true},
		{"file sets another key", "database:\n  schema: other\n", nil, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			a := &app{environ: fixture.Env(tt.env)}
			if tt.file != "" {
				a.configPath = fixture.WriteFile(t, "c.yaml", tt.file)
			}
			cfg, err := a.loadConfig()
			if err != nil {
				t.Fatal(err)
			}
			if got := namesDatabase(&cfg); got != tt.want {
				t.Errorf("namesDatabase = %v, want %v (database.url %s)", got, tt.want, config.RedactURL(cfg.Database.URL))
			}
		})
	}
}
