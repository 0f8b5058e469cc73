package main

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/evsync/evsync/db"
	"github.com/evsync/evsync/internal/entity"
	"github.com/evsync/evsync/internal/testing/dbtest"
	"github.com/evsync/evsync/migrations"
)

// shippedDir copies the shipped migrations into a new directory and returns it with the newest
// one's version.
func shippedDir(t *testing.T) (string, int64) {
	t.Helper()
	dir := t.TempDir()
	if err := os.CopyFS(dir, migrations.FS); err != nil {
		t.Fatal(err)
	}
	latest, err := latestVersion(migrations.FS)
	if err != nil {
		t.Fatal(err)
	}
	return dir, latest
}

// migrated returns a pool on a new database whose schema the migrations of dir brought to
// version.
func migrated(t *testing.T, dir string, version int64) *pgxpool.Pool {
	t.Helper()
	ctx := t.Context()
	pool, err := db.Open(ctx, dbtest.NewURL(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	if _, err := db.SchemaEnsure(ctx, pool, dbtest.Schema); err != nil {
		t.Fatal(err)
	}
	if _, err := dbtest.Goose(t, pool, dbtest.Schema, os.DirFS(dir)).UpTo(ctx, version); err != nil {
		t.Fatal(err)
	}
	return pool
}

// For the registry as the shipped migrations left it, the generated migration is the next
// file, applies cleanly, and changes nothing up or down.
func TestGenerateNoChange(t *testing.T) {
	t.Parallel()
	dir, latest := shippedDir(t)
	path, err := generate(dir, "refresh_entity_lists", entity.All(), entity.Streams())
	if err != nil {
		t.Fatal(err)
	}
	if want := filepath.Join(dir, fmt.Sprintf("%05d_refresh_entity_lists.sql", latest+1)); path != want {
		t.Errorf("path = %s, want %s", path, want)
	}
	pool := migrated(t, dir, latest)
	ctx := t.Context()
	before := dbtest.Objects(t, pool, dbtest.Schema)
	p := dbtest.Goose(t, pool, dbtest.Schema, os.DirFS(dir))
	if _, err := p.Up(ctx); err != nil {
		t.Fatalf("applying %s: %v", path, err)
	}
	if v, err := p.GetDBVersion(ctx); err != nil || v != latest+1 {
		t.Fatalf("version after Up = %d, %v; want %d", v, err, latest+1)
	}
	if diff := cmp.Diff(before, dbtest.Objects(t, pool, dbtest.Schema)); diff != "" {
		t.Errorf("Up changed the schema (-before +after):\n%s", diff)
	}
	if _, err := p.Down(ctx); err != nil {
		t.Fatalf("rolling back %s: %v", path, err)
	}
	if diff := cmp.Diff(before, dbtest.Objects(t, pool, dbtest.Schema)); diff != "" {
		t.Errorf("Down changed the schema (-before +after):\n%s", diff)
	}
	// A second migration is the one after.
	next, err := generate(dir, "again", entity.All(), entity.Streams())
	if want := filepath.Join(dir, fmt.Sprintf("%05d_again.sql", latest+2)); err != nil || next != want {
		t.Errorf("generate again = %s, %v; want %s", next, err, want)
	}
}

// An entity whose Since is the next migration is new: Up lists it, Down lists the entities
// before it and leaves its rows in the ledger (NOT VALID). The test plays it with the last
// entity, whose tables the shipped migrations already hold.
func TestGenerateNewEntity(t *testing.T) {
	t.Parallel()
	dir, latest := shippedDir(t)
	ds := entity.All()
	last := *ds[len(ds)-1]
	last.Since = latest + 1
	ds[len(ds)-1] = &last
	path, err := generate(dir, "create_widgets", ds, entity.Streams())
	if err != nil {
		t.Fatal(err)
	}
	text, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	up, down, _ := strings.Cut(string(text), "-- +goose Down")
	if !strings.Contains(up, "New entities: "+string(last.Name)+".") || !strings.Contains(down, "NOT VALID") {
		t.Errorf("the migration does not name the new entity, or its Down checks are valid:\n%s", text)
	}

	pool := migrated(t, dir, latest)
	ctx := t.Context()
	p := dbtest.Goose(t, pool, dbtest.Schema, os.DirFS(dir))
	ledger := func() []string {
		rows, err := pool.Query(ctx, "SELECT entity FROM "+dbtest.Schema+".entity_freshness")
		if err != nil {
			t.Fatal(err)
		}
		names, err := pgx.CollectRows(rows, pgx.RowTo[string])
		if err != nil {
			t.Fatal(err)
		}
		slices.Sort(names)
		return names
	}
	var all []string
	for _, n := range entity.Names() {
		all = append(all, string(n))
	}
	slices.Sort(all)
	if _, err := p.Up(ctx); err != nil {
		t.Fatalf("applying %s: %v", path, err)
	}
	if diff := cmp.Diff(all, ledger()); diff != "" {
		t.Errorf("entity_freshness after Up (-want +got):\n%s", diff)
	}
	// A scope of the new entity is recorded, then the migration rolled back.
	if _, err := pool.Exec(ctx, `INSERT INTO `+dbtest.Schema+`.sync_runs (trigger) VALUES ('manual');
INSERT INTO `+dbtest.Schema+`.sync_run_scopes (run_id, entity, scope, status) SELECT max(run_id), '`+string(last.Name)+`', 's1', 'succeeded' FROM `+dbtest.Schema+`.sync_runs`); err != nil {
		t.Fatal(err)
	}
	if _, err := p.Down(ctx); err != nil {
		t.Fatalf("rolling back %s: %v", path, err)
	}
	if diff := cmp.Diff(slices.DeleteFunc(all, func(n string) bool { return n == string(last.Name) }), ledger()); diff != "" {
		t.Errorf("entity_freshness after Down (-want +got):\n%s", diff)
	}
	_, err = pool.Exec(ctx, `INSERT INTO `+dbtest.Schema+`.sync_run_scopes (run_id, entity, scope, status) SELECT max(run_id), '`+string(last.Name)+`', 's2', 'succeeded' FROM `+dbtest.Schema+`.sync_runs`)
	if err == nil || !strings.Contains(err.Error(), "sync_run_scopes_entity_check") {
		t.Errorf("a new scope of the rolled-back entity: %v, want the entity check to refuse it", err)
	}
}

func TestGenerateRefuses(t *testing.T) {
	t.Parallel()
	dir, latest := shippedDir(t)
	ds := entity.All()
	ahead := *ds[0]
	ahead.Since = latest + 2
	tests := []struct {
		name, dir, slug string
		ds              []*entity.Desc
		want            string
	}{
		{"bad name", dir, "Add-Widgets", entity.All(), "bad name"},
		{"no migrations", t.TempDir(), "add_widgets", entity.All(), "none found"},
		{"Since past the next migration", dir, "add_widgets", append(ds[1:], &ahead), "has Since"},
	}
	for _, tt := range tests {
		if _, err := generate(tt.dir, tt.slug, tt.ds, entity.Streams()); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: generate = %v, want an error with %q", tt.name, err, tt.want)
		}
	}
	entries, err := fs.Glob(os.DirFS(dir), "*.sql")
	if err != nil || int64(len(entries)) != latest {
		t.Errorf("the refused generations wrote files: %v, %v", entries, err)
	}
}

// A changed description reaches the schema's comments through the next migration.
func TestGenerateComments(t *testing.T) {
	t.Parallel()
	dir, latest := shippedDir(t)
	ds := entity.All()
	first := *ds[0]
	first.Doc = "Main accounts, described anew: it's quoted."
	ds[0] = &first
	if _, err := generate(dir, "update_comments", ds, entity.Streams()); err != nil {
		t.Fatal(err)
	}
	pool := migrated(t, dir, latest)
	ctx := t.Context()
	comment := func() string {
		var s string
		if err := pool.QueryRow(ctx, `SELECT obj_description(($1 || '.' || $2)::regclass, 'pg_class')`,
			dbtest.Schema, string(first.Name)).Scan(&s); err != nil {
			t.Fatal(err)
		}
		return s
	}
	if got := comment(); got == first.Doc {
		t.Fatalf("the shipped migrations already say %q", got)
	}
	if _, err := dbtest.Goose(t, pool, dbtest.Schema, os.DirFS(dir)).Up(ctx); err != nil {
		t.Fatal(err)
	}
	if got := comment(); got != first.Doc {
		t.Errorf("comment on %s after the generated migration = %q, want %q", first.Name, got, first.Doc)
	}
}

// A stream whose Since is the next migration is new: Up creates its table, rendered from its
// description, and lists it in the ledger's checks; Down drops the table and leaves its scopes
// in the ledger (NOT VALID). The test plays it with a stream made up for it.
func TestGenerateNewStream(t *testing.T) {
	t.Parallel()
	dir, latest := shippedDir(t)
	widgets := &entity.Stream{Name: "test_widgets", Since: latest + 1, Publish: entity.PublishAppend,
		Doc: "Widgets, for the test.",
		Key: []entity.Column{{Name: "sub_account_id", Kind: entity.Text, Doc: "The sub-account."},
			{Name: "widget_id", Kind: entity.Int, Doc: "The widget."}},
		Columns: []entity.Column{{Name: "made_at", Kind: entity.Time, Doc: "When."}, {Name: "parts", Kind: entity.JSON, Doc: "Its parts."}}}
	path, err := generate(dir, "create_widgets", entity.All(), append(entity.Streams(), widgets))
	if err != nil {
		t.Fatal(err)
	}
	text, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	up, down, _ := strings.Cut(string(text), "-- +goose Down")
	if !strings.Contains(up, "New streams: test_widgets.") || !strings.Contains(up, db.StreamTableSQL(widgets)) ||
		!strings.Contains(down, "DROP TABLE test_widgets;") || !strings.Contains(down, "NOT VALID") ||
		!strings.Contains(down, "DELETE FROM sync_run_scopes WHERE entity IN ('test_widgets');") ||
		!strings.Contains(down, "DELETE FROM stream_windows WHERE stream IN ('test_widgets');") {
		t.Errorf("the migration does not create and drop the new stream's table, or its Down checks are valid:\n%s", text)
	}
	pool := migrated(t, dir, latest)
	ctx := t.Context()
	p := dbtest.Goose(t, pool, dbtest.Schema, os.DirFS(dir))
	if _, err := p.Up(ctx); err != nil {
		t.Fatalf("applying %s: %v", path, err)
	}
	var comment string
	if err := pool.QueryRow(ctx, `SELECT obj_description(($1 || '.test_widgets')::regclass, 'pg_class')`, dbtest.Schema).Scan(&comment); err != nil || comment != widgets.Doc {
		t.Errorf("the new stream's table: comment %q, %v; want %q", comment, err, widgets.Doc)
	}
	q := dbtest.Schema
	if _, err := pool.Exec(ctx, `INSERT INTO `+q+`.sync_runs (trigger) VALUES ('streams');
INSERT INTO `+q+`.sync_run_scopes (run_id, entity, scope, status) SELECT max(run_id), 'test_widgets', 's1', 'not_entitled' FROM `+q+`.sync_runs;
INSERT INTO `+q+`.stream_windows (stream, sub_account_id, window_start, window_end) VALUES ('test_widgets', 's1', now(), now() + interval '1 hour')`); err != nil {
		t.Fatalf("recording the new stream in the ledger: %v", err)
	}
	if _, err := p.Down(ctx); err != nil {
		t.Fatalf("rolling back %s: %v", path, err)
	}
	var exists bool
	if err := pool.QueryRow(ctx, `SELECT to_regclass($1 || '.test_widgets') IS NOT NULL`, q).Scan(&exists); err != nil || exists {
		t.Errorf("the new stream's table after Down: exists %v, %v", exists, err)
	}
	var scopes int
	if err := pool.QueryRow(ctx, `SELECT (SELECT count(*) FROM `+q+`.sync_run_scopes WHERE entity = 'test_widgets') +
  (SELECT count(*) FROM `+q+`.stream_windows WHERE stream = 'test_widgets')`).Scan(&scopes); err != nil || scopes != 0 {
		t.Errorf("the rolled-back stream's scopes and windows after Down: %d, %v; want none", scopes, err)
	}
	_, err = pool.Exec(ctx, `INSERT INTO `+q+`.sync_run_scopes (run_id, entity, scope, status) SELECT max(run_id), 'test_widgets', 's2', 'succeeded' FROM `+q+`.sync_runs`)
	if err == nil || !strings.Contains(err.Error(), "sync_run_scopes_entity_check") {
		t.Errorf("a new scope of the rolled-back stream: %v, want the entity check to refuse it", err)
	}
}
