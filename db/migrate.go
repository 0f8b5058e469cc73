package db

import (
	"cmp"
	"context"
	"fmt"
	"hash/fnv"
	"io"
	"io/fs"
	"log/slog"
	"regexp"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/evsync/evsync/migrations"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/pressly/goose/v3"
	"github.com/pressly/goose/v3/lock"
)

// SchemaDefault is the target schema when none is given.
const SchemaDefault = "engage"

// MigrateUp applies every pending migration to schema, creating the schema only when it is
// missing (so a role that owns the schema, or has CREATE on it, is enough when it exists).
// Concurrent callers are serialised by a Postgres session advisory lock.
func MigrateUp(ctx context.Context, pool *pgxpool.Pool, schema string) error {
	schema = cmp.Or(schema, SchemaDefault)
	if _, err := SchemaEnsure(ctx, pool, schema); err != nil { // it checks the name first
		return err
	}
	return withProvider(pool, schema, func(p *goose.Provider) error {
		if _, err := p.Up(ctx); err != nil {
			return fmt.Errorf("migrating up: %w", err)
		}
		return nil
	})
}

// DownPlan is what rolling back the latest applied migration of a schema drops.
type DownPlan struct {
	Version int64       // the migration rolled back; 0 when none is applied
	Path    string      // its file in migrations.FS
	Tables  []TableRows // the tables its Down section drops that exist, in its order
}

// TableRows is a table and the rows it holds.
type TableRows struct {
	Table string
	Rows  int64
}

// Rows returns how many rows the step drops with its tables.
func (p *DownPlan) Rows() int64 {
	var n int64
	for _, t := range p.Tables {
		n += t.Rows
	}
	return n
}

// RowsLostError is returned by MigrateDown, which then rolls nothing back, when the step
// would drop tables that hold rows and dropping them was not allowed.
type RowsLostError struct {
	Plan DownPlan
}

func (e *RowsLostError) Error() string {
	var held []string
	for _, t := range e.Plan.Tables {
		if t.Rows > 0 {
			held = append(held, fmt.Sprintf("%s %d", t.Table, t.Rows))
		}
	}
	return fmt.Sprintf("rolling back migration %d (%s) would drop %d rows in %d tables (%s)",
		e.Plan.Version, e.Plan.Path, e.Plan.Rows(), len(held), strings.Join(held, ", "))
}

// MigrateDown rolls back the latest applied migration of schema (one step) and returns what
// it dropped. It holds the schema's run lock and its streams key throughout (ErrLocked when
// a run, a stream run or another MigrateDown holds one), so no run writes to a table as it
// goes. When the step would drop
// tables that hold rows and dropRows is false, it rolls nothing back and returns a
// *RowsLostError naming them.
func MigrateDown(ctx context.Context, pool *pgxpool.Pool, schema string, dropRows bool) (*DownPlan, error) {
	schema = cmp.Or(schema, SchemaDefault)
	s, err := NewStore(pool, schema)
	if err != nil {
		return nil, err
	}
	lock, err := s.LockTake(ctx)
	if err != nil {
		return nil, fmt.Errorf("migrating down: %w", err)
	}
	defer lock.Release()
	// The stream runs do not take the run lock: they hold the streams key shared instead.
	if ok, err := lock.tryStreams(ctx); err != nil {
		return nil, fmt.Errorf("migrating down: %w", err)
	} else if !ok {
		return nil, fmt.Errorf("migrating down: a stream run is under way: %w", ErrLocked)
	}
	if st, err := migrationStateGet(ctx, pool, schema); err != nil {
		return nil, err
	} else if !st.versioned {
		return &DownPlan{}, nil // never migrated: nothing to roll back, and nothing to create
	}
	var plan *DownPlan
	err = withProvider(pool, schema, func(p *goose.Provider) error {
		var err error
		if plan, err = planDown(ctx, p, pool, schema); err != nil {
			return err
		}
		if plan.Version == 0 {
			return nil // nothing applied, nothing to roll back
		}
		if plan.Rows() > 0 && !dropRows {
			return &RowsLostError{Plan: *plan}
		}
		if _, err := p.Down(ctx); err != nil {
			return fmt.Errorf("migrating down: %w", err)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return plan, nil
}

// planDown reads the Down section of the latest applied migration and counts the rows of the
// tables it drops.
func planDown(ctx context.Context, p *goose.Provider, pool *pgxpool.Pool, schema string) (*DownPlan, error) {
	version, err := p.GetDBVersion(ctx)
	if err != nil {
		return nil, fmt.Errorf("reading migration version: %w", err)
	}
	plan := &DownPlan{Version: version}
	if version == 0 {
		return plan, nil
	}
	for _, src := range p.ListSources() {
		if src.Version == version {
			plan.Path = src.Path
		}
	}
	if plan.Path == "" {
		return nil, fmt.Errorf("finding migration %d: not among the embedded migrations (a newer binary applied it)", version)
	}
	text, err := fs.ReadFile(migrations.FS, plan.Path)
	if err != nil {
		return nil, fmt.Errorf("reading migration %s: %w", plan.Path, err)
	}
	q := pgx.Identifier{schema}.Sanitize()
	for _, table := range droppedTables(string(text)) {
		var exists bool
		err := pool.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM pg_catalog.pg_tables WHERE schemaname = $1 AND tablename = $2)`, schema, table).Scan(&exists)
		if err != nil {
			return nil, fmt.Errorf("finding table %s: %w", table, err)
		}
		if !exists {
			continue
		}
		t := TableRows{Table: table}
		if err := pool.QueryRow(ctx, "SELECT count(*) FROM "+q+"."+pgx.Identifier{table}.Sanitize()).Scan(&t.Rows); err != nil {
			return nil, fmt.Errorf("counting rows of %s: %w", table, err)
		}
		plan.Tables = append(plan.Tables, t)
	}
	return plan, nil
}

// dropTableRE matches a DROP TABLE statement up to its end; the names are in group 1.
var dropTableRE = regexp.MustCompile(`(?is)\bDROP\s+TABLE\s+(?:IF\s+EXISTS\s+)?([^;]+)`)

// droppedTables returns the tables that the Down section of the goose SQL migration text
// drops, in order, unqualified and lower-case.
func droppedTables(text string) []string {
	_, down, ok := strings.Cut(text, "-- +goose Down")
	if !ok {
		return nil
	}
	down, _, _ = strings.Cut(down, "-- +goose Up")
	var code strings.Builder
	for line := range strings.Lines(down) {
		line, _, _ = strings.Cut(line, "--")
		code.WriteString(line + "\n")
	}
	var out []string
	for _, m := range dropTableRE.FindAllStringSubmatch(code.String(), -1) {
		for name := range strings.SplitSeq(m[1], ",") {
			f := strings.Fields(name) // "agents CASCADE"
			if len(f) == 0 {
				continue
			}
			n := strings.Trim(f[0], `"`)
			if i := strings.LastIndex(n, "."); i >= 0 {
				n = strings.Trim(n[i+1:], `"`)
			}
			out = append(out, strings.ToLower(n))
		}
	}
	return out
}

// Migration is one known migration of a schema and whether the schema has it.
type Migration struct {
	Version   int64
	Path      string     // its file, e.g. "00001_create_tables.sql"
	Applied   bool       // the schema has it
	AppliedAt *time.Time // when it was applied; nil when pending
}

// Migrations is the migration state of a schema: whether it exists, whether it was ever
// migrated, and every known migration in version order.
type Migrations struct {
	Schema     string
	Exists     bool // the schema exists
	Versioned  bool // it has goose's version table (it was migrated at least once)
	Migrations []Migration
}

// MigrationsGet reads the migration state of schema. It creates nothing: a schema that does
// not exist, or that was never migrated, has every migration pending. It takes no lock: a
// migration in progress, or a dry run holding the migration lock, does not make it wait.
func MigrationsGet(ctx context.Context, pool *pgxpool.Pool, schema string) (*Migrations, error) {
	schema = cmp.Or(schema, SchemaDefault)
	if err := CheckSchema(schema); err != nil {
		return nil, fmt.Errorf("checking schema name: %w", err)
	}
	return migrationsRead(ctx, pool, schema)
}

// pending returns how many of ms's migrations the schema lacks.
func (ms *Migrations) pending() int {
	n := 0
	for _, m := range ms.Migrations {
		if !m.Applied {
			n++
		}
	}
	return n
}

// migrationsRead reads the migration state of schema (its name checked: CheckSchema) as q
// sees it: the catalog, then the versions goose's version table records, when the schema has
// one, against the embedded migrations. It is every reader's (MigrationsGet, MigratePending,
// MigrateCheck, a dry run's StageBegin): two queries, no lock taken (goose's session locker
// would wait for the migration lock, which a migrate up or a dry run may hold for long), and
// nothing created (goose's Status would create the version table).
func migrationsRead(ctx context.Context, q rowsQuerier, schema string) (*Migrations, error) {
	st, err := migrationStateGet(ctx, q, schema)
	if err != nil {
		return nil, err
	}
	embedded, err := embeddedMigrations()
	if err != nil {
		return nil, err
	}
	var applied map[int64]time.Time
	if st.versioned {
		if applied, err = appliedVersions(ctx, q, schema); err != nil {
			return nil, fmt.Errorf("reading the migrations of schema %s: %w", schema, err)
		}
	}
	out := &Migrations{Schema: schema, Exists: st.exists, Versioned: st.versioned}
	for _, m := range embedded {
		if at, ok := applied[m.Version]; ok {
			at = at.UTC()
			m.Applied, m.AppliedAt = true, &at
		}
		out.Migrations = append(out.Migrations, m)
	}
	return out, nil
}

// appliedVersions returns the versions goose's version table of schema records, each with
// when it was last applied (as goose's Status reads them: a version with a row is applied).
func appliedVersions(ctx context.Context, q rowsQuerier, schema string) (map[int64]time.Time, error) {
	rows, err := q.Query(ctx, `SELECT version_id, max(tstamp) FROM `+
		pgx.Identifier{schema, "goose_db_version"}.Sanitize()+` GROUP BY version_id`)
	if err != nil {
		return nil, err
	}
	out := map[int64]time.Time{}
	var v int64
	var at time.Time
	_, err = pgx.ForEachRow(rows, []any{&v, &at}, func() error {
		out[v] = at
		return nil
	})
	return out, err
}

// embeddedMigrations lists the embedded migrations (migrations.FS holds SQL files only) in
// version order, as goose collects them: a file whose name has no version is none, and two
// files of one version are an error.
var embeddedMigrations = sync.OnceValues(func() ([]Migration, error) {
	files, err := fs.Glob(migrations.FS, "*.sql")
	if err != nil {
		return nil, fmt.Errorf("listing the embedded migrations: %w", err)
	}
	var out []Migration
	for _, f := range files {
		if v, err := goose.NumericComponent(f); err == nil {
			out = append(out, Migration{Version: v, Path: f})
		}
	}
	slices.SortFunc(out, func(a, b Migration) int { return cmp.Compare(a.Version, b.Version) })
	for i := 1; i < len(out); i++ {
		if out[i].Version == out[i-1].Version {
			return nil, fmt.Errorf("listing the embedded migrations: %s and %s have one version", out[i-1].Path, out[i].Path)
		}
	}
	return out, nil
})

// MigrateStatus writes one line per known migration of schema to w: version, state, file.
// It creates nothing: a schema that does not exist, or that was never migrated, has every
// migration pending, and a line before them says so.
func MigrateStatus(ctx context.Context, pool *pgxpool.Pool, schema string, w io.Writer) error {
	st, err := MigrationsGet(ctx, pool, schema)
	if err != nil {
		return err
	}
	var b strings.Builder
	switch {
	case !st.Exists:
		fmt.Fprintf(&b, "schema %s does not exist: every migration is pending (migrate up creates it)\n", st.Schema)
	case !st.Versioned:
		fmt.Fprintf(&b, "schema %s has never been migrated: every migration is pending\n", st.Schema)
	}
	for _, m := range st.Migrations {
		applied := "pending"
		if m.Applied {
			applied = "applied " + m.AppliedAt.Format("2006-01-02 15:04:05Z")
		}
		fmt.Fprintf(&b, "%05d  %-28s  %s\n", m.Version, applied, m.Path)
	}
	if _, err := io.WriteString(w, b.String()); err != nil {
		return fmt.Errorf("writing migration status: %w", err)
	}
	return nil
}

// MigratePending returns how many of the embedded migrations schema lacks (all of them when
// the schema does not exist). It creates nothing and takes no lock (as MigrationsGet).
func MigratePending(ctx context.Context, pool *pgxpool.Pool, schema string) (int, error) {
	ms, err := MigrationsGet(ctx, pool, schema)
	if err != nil {
		return 0, err
	}
	return ms.pending(), nil
}

// SchemaExists reports whether schema exists. Any role may ask: it reads the catalog.
func SchemaExists(ctx context.Context, pool *pgxpool.Pool, schema string) (bool, error) {
	ok, err := schemaExists(ctx, pool, schema)
	if err != nil {
		return false, fmt.Errorf("looking up schema %s: %w", schema, err)
	}
	return ok, nil
}

// schemaExists reports whether schema exists, as seen by q.
func schemaExists(ctx context.Context, q querier, schema string) (bool, error) {
	var ok bool
	err := q.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM pg_catalog.pg_namespace WHERE nspname = $1)`, schema).Scan(&ok)
	return ok, err
}

// SchemaEnsure creates schema when it does not exist and reports whether it did. It checks
// the catalog first: PostgreSQL checks CREATE SCHEMA IF NOT EXISTS against the database's
// CREATE privilege even when the schema exists, which would refuse a role that owns its
// schema but may not create schemas. Concurrent callers are serialised by an advisory lock.
func SchemaEnsure(ctx context.Context, pool *pgxpool.Pool, schema string) (bool, error) {
	if err := CheckSchema(schema); err != nil {
		return false, fmt.Errorf("checking schema name: %w", err)
	}
	if ok, err := SchemaExists(ctx, pool, schema); err != nil || ok {
		return false, err
	}
	tx, err := pool.Begin(ctx)
	if err != nil {
		return false, fmt.Errorf("creating schema %s: %w", schema, err)
	}
	defer func() { _ = tx.Rollback(ctx) }() // after Commit, a no-op; on error, nothing to add
	created, err := createSchemaLocked(ctx, tx, schema)
	if err != nil {
		return false, err
	}
	if err := tx.Commit(ctx); err != nil {
		return false, fmt.Errorf("creating schema %s: %w", schema, err)
	}
	return created, nil
}

// createSchemaLocked takes schema's migration lock (the one MigrateUp takes) in tx, until tx
// ends, and then creates schema (its name checked: CheckSchema) when it does not exist; it
// reports whether it did. Concurrent callers are serialised by the lock: one that waited
// finds the schema another created.
func createSchemaLocked(ctx context.Context, tx pgx.Tx, schema string) (bool, error) {
	if _, err := tx.Exec(ctx, "SELECT pg_advisory_xact_lock($1)", lockKey("goose", schema)); err != nil {
		return false, fmt.Errorf("taking the migration lock: %w", err)
	}
	exists, err := schemaExists(ctx, tx, schema)
	if err != nil {
		return false, fmt.Errorf("looking up schema %s: %w", schema, err)
	}
	if exists {
		return false, nil
	}
	if _, err := tx.Exec(ctx, "CREATE SCHEMA "+pgx.Identifier{schema}.Sanitize()); err != nil {
		return false, fmt.Errorf("creating schema %s: %w", schema, err)
	}
	return true, nil
}

// migrationState is whether a schema exists and holds goose's version table.
type migrationState struct {
	exists, versioned bool
}

// migrationStateGet reads schema's migrationState from the catalog, as q sees it.
func migrationStateGet(ctx context.Context, q querier, schema string) (migrationState, error) {
	var st migrationState
	err := q.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM pg_catalog.pg_namespace WHERE nspname = $1),
		EXISTS (SELECT 1 FROM pg_catalog.pg_tables WHERE schemaname = $1 AND tablename = 'goose_db_version')`, schema).Scan(&st.exists, &st.versioned)
	if err != nil {
		return st, fmt.Errorf("looking up schema %s: %w", schema, err)
	}
	return st, nil
}

// withProvider runs fn with a goose provider whose connections use schema (its callers have
// checked the name: CheckSchema) as search_path. It creates nothing itself; goose creates its
// version table when asked for anything but the list of sources.
func withProvider(pool *pgxpool.Pool, schema string, fn func(*goose.Provider) error) error {
	cc := pool.Config().ConnConfig.Copy()
	cc.RuntimeParams["search_path"] = schema
	// DDL on a big table can take a while; migrations are not subject to the pool's timeout.
	cc.RuntimeParams["statement_timeout"] = "0"
	sqlDB := stdlib.OpenDB(*cc)
	defer func() { _ = sqlDB.Close() }() // closes pool connections goose borrowed; nothing to report
	sqlDB.SetMaxOpenConns(2)

	locker, err := lock.NewPostgresSessionLocker(
		lock.WithLockID(lockKey("goose", schema)),
		lock.WithLockTimeout(1, 300),
		lock.WithUnlockTimeout(1, 60),
	)
	if err != nil {
		return fmt.Errorf("creating migration locker: %w", err)
	}
	p, err := goose.NewProvider(goose.DialectPostgres, sqlDB, migrations.FS,
		append(providerOptions(schema), goose.WithSessionLocker(locker))...)
	if err != nil {
		return fmt.Errorf("creating migration provider: %w", err)
	}
	defer func() { _ = p.Close() }() // releases the provider; its work is done or failed already
	return fn(p)
}

// providerOptions are the goose provider options of schema's migrations, whatever runs them.
func providerOptions(schema string) []goose.ProviderOption {
	return []goose.ProviderOption{
		goose.WithTableName(schema + ".goose_db_version"),
		goose.WithSlog(slog.New(slog.DiscardHandler)),
	}
}

// migrateInTx applies every pending migration of schema (its name checked: CheckSchema)
// inside tx, creating the schema when it is missing, and returns how many it applied: none,
// having created nothing, when the schema lacks none. It is a dry run's: the migrations roll
// back with tx, goose's version table included, and nothing of them is seen outside it. tx
// holds the schema's migration lock (the one MigrateUp takes) until it ends, so that no
// migrate up of the schema runs meanwhile; tx's search_path and statement_timeout are as they
// were once it returns.
func migrateInTx(ctx context.Context, tx pgx.Tx, schema string) (int, error) {
	created, err := createSchemaLocked(ctx, tx, schema)
	if err != nil {
		return 0, err
	}
	if !created { // a schema just created lacks every migration
		ms, err := migrationsRead(ctx, tx, schema)
		if err != nil {
			return 0, err
		}
		if ms.pending() == 0 {
			return 0, nil
		}
	}
	var path, timeout string
	// As withProvider's connections: the migrations name their objects unqualified, and DDL
	// is not subject to the pool's statement timeout.
	if err := tx.QueryRow(ctx, `SELECT current_setting('search_path'), current_setting('statement_timeout'),
		set_config('search_path', $1, true), set_config('statement_timeout', '0', true)`,
		pgx.Identifier{schema}.Sanitize()).Scan(&path, &timeout, nil, nil); err != nil {
		return 0, fmt.Errorf("setting the migrations' search_path: %w", err)
	}
	sqlDB := txDB(tx)
	defer func() { _ = sqlDB.Close() }() // it closes nothing of tx
	p, err := goose.NewProvider(goose.DialectPostgres, sqlDB, migrations.FS, providerOptions(schema)...)
	if err != nil {
		return 0, fmt.Errorf("creating migration provider: %w", err)
	}
	res, err := p.Up(ctx)
	_ = p.Close() // it closes sqlDB, which leaves tx alone
	if err != nil {
		return 0, fmt.Errorf("migrating up: %w", err)
	}
	if _, err := tx.Exec(ctx, `SELECT set_config('search_path', $1, true), set_config('statement_timeout', $2, true)`, path, timeout); err != nil {
		return 0, fmt.Errorf("restoring the search_path: %w", err)
	}
	return len(res), nil
}

// lockKey derives a stable advisory-lock key from a purpose and a schema name.
func lockKey(purpose, schema string) int64 {
	h := fnv.New64a()
	_, _ = io.WriteString(h, "evsync:"+purpose+":"+schema)
	return int64(h.Sum64())
}
