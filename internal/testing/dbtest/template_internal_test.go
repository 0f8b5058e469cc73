package dbtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"io/fs"
	"os"
	"os/exec"
	"testing"
	"testing/fstest"
	"time"

	"github.com/evsync/evsync/migrations"
	"github.com/jackc/pgx/v5"
	"golang.org/x/sync/errgroup"
)

// helperEnv names, in a child test binary, the marker template TestTemplateHelperProcess makes.
const helperEnv = "DBTEST_HELPER_TEMPLATE"

func TestTemplateNameHashesWhatShapesTheDatabase(t *testing.T) {
	t.Parallel()
	files := fstest.MapFS{
		"00001_a.sql": {Data: []byte("CREATE TABLE a (id int);")},
		"00002_b.sql": {Data: []byte("CREATE TABLE b (id int);")},
	}
	base := mustName(t, "engage", files)
	edited := fstest.MapFS{"00001_a.sql": files["00001_a.sql"], "00002_b.sql": {Data: []byte("CREATE TABLE b (id bigint);")}}
	added := fstest.MapFS{"00001_a.sql": files["00001_a.sql"], "00002_b.sql": files["00002_b.sql"], "00003_c.sql": {Data: []byte("")}}
	renamed := fstest.MapFS{"00001_a.sql": files["00001_a.sql"], "00002_c.sql": files["00002_b.sql"]}
	for name, got := range map[string]string{
		"another schema":    mustName(t, "tenant_b", files),
		"an edited file":    mustName(t, "engage", edited),
		"an added file":     mustName(t, "engage", added),
		"a renamed file":    mustName(t, "engage", renamed),
		"the real template": mustName(t, Schema, migrations.FS),
	} {
		if got == base {
			t.Errorf("%s: same template name %s", name, got)
		}
	}
	if again := mustName(t, "engage", files); again != base {
		t.Errorf("same input: %s, then %s", base, again)
	}
	tpl, err := migrated()
	if err != nil || tpl.name != mustName(t, Schema, migrations.FS) || len(tpl.name) > 63 {
		t.Errorf("migrated() = %q, %v", tpl.name, err)
	}
}

func mustName(t *testing.T, schema string, fsys fs.FS) string {
	t.Helper()
	name, err := templateName(schema, fsys)
	if err != nil {
		t.Fatal(err)
	}
	return name
}

// markerTemplate is a template, unique to one test, whose databases hold the table made_by
// with one row: the process that made the template.
func markerTemplate(name string) template {
	return template{name: name, migrate: func(ctx context.Context, dbURL string) error {
		conn, err := pgx.Connect(ctx, dbURL)
		if err != nil {
			return err
		}
		defer closeAdmin(ctx, conn)
		time.Sleep(300 * time.Millisecond) // widens the window in which the racers meet
		if _, err := conn.Exec(ctx, "CREATE TABLE made_by (pid int)"); err != nil {
			return err
		}
		_, err = conn.Exec(ctx, "INSERT INTO made_by VALUES ($1)", os.Getpid())
		return err
	}}
}

// newMarkerTemplate returns a markerTemplate with a fresh name that starts with prefix,
// dropped when the test ends.
func newMarkerTemplate(t *testing.T, prefix string) template {
	t.Helper()
	tpl := markerTemplate(prefix + randomHex())
	t.Cleanup(func() {
		conn := adminConn(t)
		if err := dropDatabase(context.Background(), conn, tpl.name); err != nil {
			t.Errorf("dropping %s: %v", tpl.name, err)
		}
		forget(tpl.name)
	})
	return tpl
}

// testPrefix starts the names of the templates these tests make.
const testPrefix = templatePrefix + "test_"

func randomHex() string {
	var b [4]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

func adminConn(t *testing.T) *pgx.Conn {
	t.Helper()
	conn, err := pgx.Connect(context.Background(), AdminURL())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { closeAdmin(context.Background(), conn) })
	return conn
}

// TestTemplateHelperProcess makes the template named by helperEnv, when a test runs this
// binary as one of several racers; otherwise it does nothing.
func TestTemplateHelperProcess(t *testing.T) {
	t.Parallel()
	name := os.Getenv(helperEnv)
	if name == "" {
		return
	}
	if err := templateEnsure(t.Context(), AdminURL(), markerTemplate(name)); err != nil {
		t.Fatal(err)
	}
}

// Test binaries and goroutines racing to make the same template make it once, and all
// succeed; each clone holds what the template's migration made.
func TestTemplateMadeOnceByRacers(t *testing.T) {
	t.Parallel()
	tpl := newMarkerTemplate(t, testPrefix)
	var g errgroup.Group
	for range 2 {
		g.Go(func() error {
			cmd := exec.CommandContext(t.Context(), os.Args[0], "-test.run=^TestTemplateHelperProcess$", "-test.count=1")
			cmd.Env = append(os.Environ(), helperEnv+"="+tpl.name)
			if out, err := cmd.CombinedOutput(); err != nil {
				t.Errorf("helper process: %v\n%s", err, out)
			}
			return nil
		})
	}
	for range 3 {
		g.Go(func() error { return templateEnsure(t.Context(), AdminURL(), tpl) })
	}
	if err := g.Wait(); err != nil {
		t.Fatal(err)
	}
	conn := adminConn(t)
	var names []string
	rows, err := conn.Query(t.Context(), `SELECT datname FROM pg_database WHERE starts_with(datname, $1)`, tpl.name)
	if err != nil {
		t.Fatal(err)
	}
	if names, err = pgx.CollectRows(rows, pgx.RowTo[string]); err != nil || len(names) != 1 || names[0] != tpl.name {
		t.Fatalf("databases named after the template: %q, %v; want the template alone", names, err)
	}
	var isTemplate, allowConn bool
	if err := conn.QueryRow(t.Context(), `SELECT datistemplate, datallowconn FROM pg_database WHERE datname = $1`, tpl.name).Scan(&isTemplate, &allowConn); err != nil || !isTemplate || allowConn {
		t.Fatalf("template flags: datistemplate %v, datallowconn %v, %v; want true, false", isTemplate, allowConn, err)
	}
	for range 2 {
		if n := madeBy(t, newDatabase(t, &tpl)); n != 1 {
			t.Fatalf("clone has %d made_by rows, want 1", n)
		}
	}
}

// madeBy counts the rows of made_by in the database of dbURL.
func madeBy(t *testing.T, dbURL string) int {
	t.Helper()
	conn, err := pgx.Connect(t.Context(), dbURL)
	if err != nil {
		t.Fatal(err)
	}
	defer closeAdmin(context.Background(), conn)
	var n int
	if err := conn.QueryRow(t.Context(), "SELECT count(*) FROM made_by").Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// A template dropped (as stale, by another test binary) after this one made sure of it is
// made again by the next clone.
func TestCloneRemakesADroppedTemplate(t *testing.T) {
	t.Parallel()
	tpl := newMarkerTemplate(t, testPrefix)
	if n := madeBy(t, newDatabase(t, &tpl)); n != 1 {
		t.Fatalf("first clone: %d made_by rows", n)
	}
	if err := dropDatabase(t.Context(), adminConn(t), tpl.name); err != nil {
		t.Fatal(err)
	}
	if n := madeBy(t, newDatabase(t, &tpl)); n != 1 {
		t.Fatalf("clone after the drop: %d made_by rows", n)
	}
}

// Stale templates of other hashes, and half-built ones, go; recent ones and ours stay.
func TestTemplatesDropStale(t *testing.T) {
	t.Parallel()
	conn := adminConn(t)
	prefix := testPrefix + randomHex() + "_" // these three alone: others' templates stay
	old, recent, keep := newMarkerTemplate(t, prefix), newMarkerTemplate(t, prefix), newMarkerTemplate(t, prefix)
	for _, tpl := range []template{old, recent, keep} {
		if err := templateEnsure(t.Context(), AdminURL(), tpl); err != nil {
			t.Fatal(err)
		}
	}
	// Seen from later, old and keep are stale and recent is not. Test binaries running now
	// see all three recent, and leave them alone.
	later := time.Now().Add(10 * templateStaleAfter)
	comment := templateComment + later.Add(-templateStaleAfter/2).UTC().Format(time.RFC3339)
	if _, err := conn.Exec(t.Context(), "COMMENT ON DATABASE "+pgx.Identifier{recent.name}.Sanitize()+" IS "+quoteLiteral(comment)); err != nil {
		t.Fatal(err)
	}
	if err := templatesDropStale(t.Context(), conn, prefix, keep.name, later); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		tpl  template
		want bool
	}{{old, false}, {recent, true}, {keep, true}} {
		if ok, err := templateExists(t.Context(), conn, c.tpl.name); err != nil || ok != c.want {
			t.Errorf("%s exists: %v, %v; want %v", c.tpl.name, ok, err, c.want)
		}
	}
}
