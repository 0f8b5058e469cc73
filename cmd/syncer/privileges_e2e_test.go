package main

import (
	"io/fs"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/evsync/evsync/engageclient/engagefake"
	"github.com/evsync/evsync/internal/testing/dbtest"
	"github.com/evsync/evsync/migrations"
)

// shippedMigrations lists the embedded migrations.
func shippedMigrations(t *testing.T) []string {
	t.Helper()
	files, err := fs.Glob(migrations.FS, "*.sql")
	if err != nil || len(files) == 0 {
		t.Fatalf("listing the migrations: %v", err)
	}
	return files
}

// asRole points e's commands at the database as a role that owns schema engage and has
// CONNECT and TEMP, but not CREATE, on the database: it may not create schemas. It returns
// the role's name.
func (e *e2e) asRole(t *testing.T) string {
	t.Helper()
	roleURL := dbtest.NewRole(t, e.dbURL, "engage")
	u, err := url.Parse(roleURL)
	if err != nil {
		t.Fatal(err)
	}
	for i, kv := range e.env {
		if strings.HasPrefix(kv, "EVSYNC_DATABASE_URL=") {
			e.env[i] = "EVSYNC_DATABASE_URL=" + roleURL
		}
	}
	return u.User.Username()
}

// exists reports whether the catalog has a schema or relation (kind "schema" or "table")
// of this name.
func (e *e2e) exists(kind, schema, name string) bool {
	e.t.Helper()
	q := "SELECT count(*) FROM pg_namespace WHERE nspname = $1 AND $2 = ''"
	if kind == "table" {
		q = "SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = $1 AND c.relname = $2"
	}
	return e.count(q, schema, name) > 0
}

// A role that owns its schema, with TEMP but no CREATE on the database, runs every command:
// migrate status and a dry run before migrating create nothing; migrate up leaves River's
// control schema alone for cron-only use (and run --no-migrate says it is missing); sync,
// status and the daemon work, and the daemon migrates River into a control schema the role
// owns (issue 21, #14).
func TestE2ERestrictedRoleRunsEveryCommand(t *testing.T) {
	t.Parallel()
	e := newE2E(t, engagefake.Options{Seed: 71})
	e.writeConfig(`engage:
  requests_per_minute: 6000
schedule:
  cron: "@every 3s" # the manual syncs below ran in this period: run_on_start would not fire
  seconds: true
  run_on_start: true
http:
  listen: 127.0.0.1:0
log:
  format: json
`)
	role := e.asRole(t)

	r := e.mustRun(0, "migrate", "status")
	if !strings.Contains(r.stdout, "schema engage has never been migrated: every migration is pending") {
		t.Errorf("migrate status of the empty schema:\n%s", r.stdout)
	}
	// The dry run migrates in its own transaction, which it rolls back.
	r = e.mustRun(0, "sync", "--dry-run")
	if !strings.Contains(r.stdout, "dry run succeeded") {
		t.Errorf("dry run on the empty schema:\n%s", r.stdout)
	}
	if e.exists("table", "engage", "goose_db_version") || e.exists("table", "engage", "sync_runs") {
		t.Fatal("migrate status or the dry run created tables in schema engage")
	}

	r = e.run("run", "--no-migrate")
	if r.code != exitFailed || !strings.Contains(r.stderr, "the control schema evsync (database.control_schema) does not exist") {
		t.Errorf("run --no-migrate without a control schema: exit %d, want %d naming the missing schema; stderr:\n%s", r.code, exitFailed, r.stderr)
	}

	r = e.mustRun(0, "migrate", "up")
	if strings.Contains(r.stdout, "evsync") || e.exists("schema", "evsync", "") {
		t.Errorf("migrate up touched River's control schema, which only run needs:\n%s", r.stdout)
	}
	e.mustRun(0, "sync")
	e.wantLiveCounts(e.fake.Counts())
	e.mustRun(0, "sync", "--dry-run")
	if r := e.mustRun(0, "status"); !strings.Contains(r.stdout, "succeeded") {
		t.Errorf("status does not show the run:\n%s", r.stdout)
	}
	if r := e.mustRun(0, "migrate", "status"); strings.Count(r.stdout, " applied ") != len(shippedMigrations(t)) {
		t.Errorf("migrate status after migrate up, want %d applied:\n%s", len(shippedMigrations(t)), r.stdout)
	}

	// The daemon needs River's control schema: the role may not create it, so it owns one
	// made for it, and run migrates River's tables into it.
	if _, err := e.pool.Exec(t.Context(), "CREATE SCHEMA evsync AUTHORIZATION "+pgx.Identifier{role}.Sanitize()); err != nil {
		t.Fatal(err)
	}
	p := e.startDaemon(t)
	e.waitCount(t, "SELECT count(*) FROM engage.sync_runs WHERE status = 'succeeded' AND trigger <> 'manual'", 1, 2*time.Minute)
	if code, _ := p.stop(t); code != 0 {
		t.Errorf("daemon exited %d; log:\n%s", code, p.log())
	}
	if !e.exists("table", "evsync", "river_job") {
		t.Error("run did not migrate River into the control schema")
	}
	if r := e.mustRun(0, "migrate", "up"); !strings.Contains(r.stdout, "control schema evsync") {
		t.Errorf("migrate up does not keep River's existing control schema up to date:\n%s", r.stdout)
	}
}
