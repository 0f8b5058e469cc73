package dbtest

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"strings"
	gosync "sync"
	"time"

	"github.com/evsync/evsync/db"
	"github.com/evsync/evsync/migrations"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// A migrated database is cloned from a template database (CREATE DATABASE ... TEMPLATE),
// much faster than migrating a fresh database. The template's name is a hash of
// what decides the migrated shape (the embedded migrations and the schema), so a changed
// migration makes a new template. The first clone of a test binary makes the template when
// it is missing: under an advisory lock, so that test binaries run in parallel make it once,
// built under a temporary name and renamed when complete, so that no one clones a
// half-migrated template. A template accepts no connections (ALLOW_CONNECTIONS false):
// CREATE DATABASE fails while another session is connected to its template.

// Template database names and the comment that dates them.
const (
	templatePrefix  = "evsync_tpl_"
	templateComment = "evsync test template, created "
	// templateFormat is part of the hash: change it when templates are made differently.
	templateFormat = "1"
	// templateStaleAfter is how old a template of another hash (or a temporary database
	// that a test binary left half-built) must be before it is dropped. A template in use
	// by another checkout that is dropped anyway is made again by its next clone.
	templateStaleAfter = time.Hour
)

// templateLockKey is the advisory lock (on the admin database) held while a template is made.
var templateLockKey = func() int64 {
	h := sha256.Sum256([]byte("evsync:dbtest:template"))
	return int64(binary.BigEndian.Uint64(h[:8])) // any 64 bits make a key
}()

// template is a template database: its name and how an empty database is brought to its
// shape.
type template struct {
	name    string
	migrate func(ctx context.Context, dbURL string) error
}

// templateName returns the template name for schema and the migrations in fsys: a hash of
// the schema, each file's name and content, and templateFormat.
func templateName(schema string, fsys fs.FS) (string, error) {
	h := sha256.New()
	field := func(s string) { // length-prefixed, so that no two inputs hash alike
		_ = binary.Write(h, binary.BigEndian, uint64(len(s)))
		h.Write([]byte(s))
	}
	field(templateFormat)
	field(schema)
	err := fs.WalkDir(fsys, ".", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := fs.ReadFile(fsys, path)
		if err != nil {
			return err
		}
		field(path)
		field(string(b))
		return nil
	})
	if err != nil {
		return "", fmt.Errorf("hashing migrations: %w", err)
	}
	return templatePrefix + hex.EncodeToString(h.Sum(nil))[:16], nil
}

// migrated is the template of a database migrated (schema Schema) by db.MigrateUp.
var migrated = gosync.OnceValues(func() (template, error) {
	name, err := templateName(Schema, migrations.FS)
	return template{name: name, migrate: migrateUp}, err
})

// migrateUp migrates the database of dbURL as New does.
func migrateUp(ctx context.Context, dbURL string) error {
	pool, err := db.Open(ctx, dbURL)
	if err != nil {
		return err
	}
	defer pool.Close()
	return db.MigrateUp(ctx, pool, Schema)
}

// ready holds the templates this process has made sure of.
var ready = struct {
	gosync.Mutex
	names map[string]bool
}{names: map[string]bool{}}

// templateReady makes sure tpl exists, once per process (again after forget), and drops stale
// templates then.
func templateReady(ctx context.Context, admin string, tpl template) error {
	ready.Lock()
	defer ready.Unlock()
	if ready.names[tpl.name] {
		return nil
	}
	if err := templateEnsure(ctx, admin, tpl); err != nil {
		return err
	}
	ready.names[tpl.name] = true
	return nil
}

// forget makes the next templateReady of name check the server again.
func forget(name string) {
	ready.Lock()
	defer ready.Unlock()
	delete(ready.names, name)
}

// templateEnsure makes tpl unless it exists, and drops the stale templates of other hashes.
// Callers in any number of processes may race: one makes it, the others wait and use it.
func templateEnsure(ctx context.Context, admin string, tpl template) error {
	conn, err := pgx.Connect(ctx, admin)
	if err != nil {
		return fmt.Errorf("connecting to the server: %w", err)
	}
	defer closeAdmin(ctx, conn)
	ok, err := templateExists(ctx, conn, tpl.name)
	if err != nil {
		return err
	}
	if !ok {
		if err := templateLockAndMake(ctx, conn, admin, tpl); err != nil {
			return err
		}
	}
	return templatesDropStale(ctx, conn, templatePrefix, tpl.name, time.Now())
}

// templateLockAndMake makes tpl under the template lock unless it exists by then.
func templateLockAndMake(ctx context.Context, conn *pgx.Conn, admin string, tpl template) (err error) {
	if _, err := conn.Exec(ctx, "SELECT pg_advisory_lock($1)", templateLockKey); err != nil {
		return fmt.Errorf("locking templates: %w", err)
	}
	defer func() {
		if _, uerr := conn.Exec(ctx, "SELECT pg_advisory_unlock($1)", templateLockKey); uerr != nil && err == nil {
			err = fmt.Errorf("unlocking templates: %w", uerr)
		}
	}()
	// Another process may have made it while this one waited for the lock.
	if ok, err := templateExists(ctx, conn, tpl.name); err != nil || ok {
		return err
	}
	return templateMake(ctx, conn, admin, tpl)
}

// templateExists reports whether the template name exists (it is complete: it is renamed to
// its name, marked as a template, last).
func templateExists(ctx context.Context, conn *pgx.Conn, name string) (bool, error) {
	var ok bool
	err := conn.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1 AND datistemplate)`, name).Scan(&ok)
	if err != nil {
		return false, fmt.Errorf("looking up template %s: %w", name, err)
	}
	return ok, nil
}

// templateMake builds tpl under a temporary name, marks it a template that accepts no
// connections, and renames it. The caller holds the template lock.
func templateMake(ctx context.Context, conn *pgx.Conn, admin string, tpl template) error {
	var b [4]byte
	_, _ = rand.Read(b[:])
	tmp := tpl.name + "_tmp_" + hex.EncodeToString(b[:])
	qt, qn := pgx.Identifier{tmp}.Sanitize(), pgx.Identifier{tpl.name}.Sanitize()
	if _, err := conn.Exec(ctx, "CREATE DATABASE "+qt); err != nil {
		return fmt.Errorf("creating template %s: %w", tmp, err)
	}
	made := false
	defer func() {
		if !made { // half-built: never leave it to be taken for a template
			_ = dropDatabase(context.WithoutCancel(ctx), conn, tmp)
		}
	}()
	comment := templateComment + time.Now().UTC().Format(time.RFC3339)
	if _, err := conn.Exec(ctx, "COMMENT ON DATABASE "+qt+" IS "+quoteLiteral(comment)); err != nil {
		return fmt.Errorf("dating template %s: %w", tmp, err)
	}
	tmpURL, err := databaseURL(admin, tmp)
	if err != nil {
		return err
	}
	if err := tpl.migrate(ctx, tmpURL); err != nil {
		return fmt.Errorf("migrating template %s: %w", tmp, err)
	}
	for _, s := range []string{
		"ALTER DATABASE " + qt + " WITH IS_TEMPLATE true ALLOW_CONNECTIONS false",
		"ALTER DATABASE " + qt + " RENAME TO " + qn,
	} {
		if err := execRetry(ctx, conn, s); err != nil {
			return fmt.Errorf("making template %s: %w", tpl.name, err)
		}
	}
	made = true
	return nil
}

// templatesDropStale drops the templates (and half-built ones) named prefix..., besides keep,
// that are older than templateStaleAfter at now. It gives up quietly: another run will try
// again.
func templatesDropStale(ctx context.Context, conn *pgx.Conn, prefix, keep string, now time.Time) error {
	rows, err := conn.Query(ctx, `SELECT datname, coalesce(shobj_description(oid, 'pg_database'), '')
		FROM pg_database WHERE starts_with(datname, $1) AND datname <> $2`, prefix, keep)
	if err != nil {
		return fmt.Errorf("listing templates: %w", err)
	}
	type dbComment struct{ Name, Comment string }
	all, err := pgx.CollectRows(rows, pgx.RowToStructByPos[dbComment])
	if err != nil {
		return fmt.Errorf("listing templates: %w", err)
	}
	for _, d := range all {
		created, err := time.Parse(time.RFC3339, strings.TrimPrefix(d.Comment, templateComment))
		if err != nil || now.Sub(created) < templateStaleAfter {
			continue // not one of ours, or recent
		}
		_ = dropDatabase(ctx, conn, d.Name)
	}
	return nil
}

// dropDatabase drops the database (or template) name, if it exists. It also drops one that a
// DROP DATABASE interrupted left invalid.
func dropDatabase(ctx context.Context, conn *pgx.Conn, name string) error {
	q := pgx.Identifier{name}.Sanitize()
	var isTemplate bool
	err := conn.QueryRow(ctx, `SELECT datistemplate FROM pg_database WHERE datname = $1`, name).Scan(&isTemplate)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil
	}
	if err == nil && isTemplate { // a template may not be dropped
		_, err = conn.Exec(ctx, "ALTER DATABASE "+q+" WITH IS_TEMPLATE false")
	}
	if err == nil {
		_, err = conn.Exec(ctx, "DROP DATABASE IF EXISTS "+q+" WITH (FORCE)")
	}
	if err != nil && !isCode(err, "3D000") { // invalid_catalog_name: dropped meanwhile
		return fmt.Errorf("dropping database %s: %w", name, err)
	}
	return nil
}

// isCode reports whether err is a PostgreSQL error with SQLSTATE code.
func isCode(err error, code string) bool {
	var pgErr *pgconn.PgError
	return errors.As(err, &pgErr) && pgErr.Code == code
}

// cloneTemplate creates the database name as a copy of tpl, making tpl first when this
// process has not yet made sure of it, and again when it has gone since.
func cloneTemplate(ctx context.Context, conn *pgx.Conn, admin string, tpl template, name string) error {
	stmt := "CREATE DATABASE " + pgx.Identifier{name}.Sanitize() + " TEMPLATE " + pgx.Identifier{tpl.name}.Sanitize()
	for attempt := 0; ; attempt++ {
		if err := templateReady(ctx, admin, tpl); err != nil {
			return err
		}
		err := execRetry(ctx, conn, stmt)
		if attempt == 0 && isCode(err, "3D000") { // dropped as stale since
			forget(tpl.name)
			continue
		}
		if err != nil {
			return fmt.Errorf("cloning %s: %w", tpl.name, err)
		}
		return nil
	}
}

// execRetry runs stmt, again (for up to 10 s) while it fails because another session is
// connected to the database it names: PostgreSQL waits 5 s for them itself, and a session
// of a closed pool ends soon after.
func execRetry(ctx context.Context, conn *pgx.Conn, stmt string) error {
	deadline := time.Now().Add(10 * time.Second)
	for {
		_, err := conn.Exec(ctx, stmt)
		if !isCode(err, "55006") || time.Now().After(deadline) { // object_in_use
			return err
		}
		select {
		case <-ctx.Done():
			return err
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// databaseURL returns admin with its database replaced by name.
func databaseURL(admin, name string) (string, error) {
	u, err := url.Parse(admin)
	if err != nil {
		return "", errors.New("parsing TEST_DATABASE_URL: invalid URL")
	}
	u.Path = "/" + name
	return u.String(), nil
}

// quoteLiteral quotes s as an SQL string literal.
func quoteLiteral(s string) string {
	return "'" + strings.ReplaceAll(s, "'", "''") + "'"
}
