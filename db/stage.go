package db

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/evsync/evsync/internal/entity"
	"github.com/evsync/evsync/internal/oneline"
	"github.com/evsync/evsync/internal/secretjson"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
)

// Stage collects one run's rows on a dedicated connection. Rows are compared with the stored
// row hashes as they arrive; only new, changed and restored rows are COPY'd (with full data)
// into temporary tables, so Go memory stays bounded by one page plus a (key, hash) entry per
// stored row. Publish merges the staged rows in one transaction. A Stage is safe for
// concurrent use; calls are serialised on its connection. An Add returns once its rows are
// scrubbed, hashed and handed to a COPY that runs while the caller fetches the next page: the
// caller may reuse its slice at once, and a COPY error is returned by the next call (any
// staging error makes Publish fail, so the run is never published from partial staging).
type Stage struct {
	s     *Store
	runID int64
	ctx   context.Context // StageBegin's (the run's): bounds the COPYs that outlive their Add

	mu      sync.Mutex
	conn    *pgxpool.Conn
	ents    []*stageEntity
	marks   map[scopeID]*scopeMark
	hasher  *rowHasher
	copying chan error // result of the COPY in flight, nil when none
	sources []string   // the source of each Add, by entry.add
	dupFunc func(Duplicate)
	plan    *Plan         // the last Plan's result
	plans   []*entityPlan // ... per entity with marked scopes
	done    bool          // Publish was called

	closed bool
	err    error // first staging error; Publish refuses to run after one

	// A connection lost mid-run (reconnect.go): what was staged is also spooled locally, so
	// that a new connection can rebuild the staging tables without fetching anything again.
	spool       spool
	reconnects  int
	reconnectFn func(ReconnectInfo)
	session     session // conn's server session

	// Schema drift (fields.go): whether paths are recorded (tests turn it off to measure
	// it), the scratch they are recorded in, what api_fields held (read by Plan) and the
	// writes the decisions made.
	track  bool
	paths  secretjson.Paths
	stored map[entity.Name]map[string]secretjson.Type
	fieldW *fieldWrites

	// hook, when set (tests only), runs at named points of Publish; an error aborts it.
	hook func(ctx context.Context, step string) error

	// A dry run on a schema that lacks migrations runs in one transaction on conn, begun by
	// StageBegin, that applied them (dryMigrated of them: more than none) and is rolled back by
	// Close.
	dryTx       pgx.Tx
	dryMigrated int
}

type scopeID struct {
	entity entity.Name
	scope  string
}

type scopeMark struct {
	complete bool
	failed   bool
	err      string
}

// entry flags.
const (
	fStored  = 1 << iota // the row exists in the table
	fDeleted             // ... soft-deleted
	fSeen                // fetched in this run
	fOpI                 // ... and staged as an insert
	fOpU                 // ... as an update
	fOpR                 // ... as a restore (none of the three: unchanged)

	fOps = fOpI | fOpU | fOpR
)

// entry is what Stage keeps per row key: the stored (or staged) hash and flags, and for a row
// seen in this run, the Add it came from and its rank (which of two copies of one key is kept).
type entry struct {
	hash  [32]byte
	flags uint8
	tier  int8   // the seen copy's Rank.Tier (kept apart from rank.N: the entry stays 48 bytes)
	add   uint32 // index in Stage.sources of the Add the seen copy came from
	rank  int64  // ... and its Rank.N
}

// entryRank is the Rank of e's seen copy.
func (e entry) entryRank() Rank { return Rank{Tier: e.tier, N: e.rank} }

// scopeStat counts one scope's rows while staging.
type scopeStat struct {
	live                                            int64 // stored live rows before the run
	fetched, inserted, updated, unchanged, restored int64
	staged                                          int64 // rows COPY'd to staging
}

// stageEntity is the staging state of one entity.
type stageEntity struct {
	def     *entityDef
	loaded  bool
	created bool // the temp table exists
	rows    map[rowKey]entry
	scopes  map[string]*scopeStat
	strs    map[string]string // interned key strings
	stagedN int64
	fields  fieldSet // the paths its API objects carried
}

// StageBegin acquires a dedicated connection for one run's staging. runID 0 means a dry run
// (no ledger rows are written by Publish). ctx is the run's: the COPYs that run while the
// caller fetches its next page stop when it is done.
//
// A dry run on a schema that lacks migrations (or does not exist) runs in one transaction on
// that connection: StageBegin begins it, finds in it which migrations the schema lacks and
// applies them (creating the schema), staging and publishing happen in it, and Close rolls it
// back, so that the dry run creates nothing. Meanwhile it holds the schema's migration lock: a migrate up of the
// schema waits for the dry run to end.
func (s *Store) StageBegin(ctx context.Context, runID int64) (*Stage, error) {
	conn, err := s.pool.Acquire(ctx)
	if err != nil {
		return nil, fmt.Errorf("acquiring staging connection: %w", err)
	}
	if err := configureStaging(ctx, conn); err != nil && ctx.Err() != nil {
		destroy(conn)
		return nil, fmt.Errorf("configuring staging connection: %w", err)
	}
	st := &Stage{s: s, runID: runID, ctx: ctx, conn: conn, marks: map[scopeID]*scopeMark{}, hasher: newRowHasher(),
		track: true, session: readSession(ctx, conn)}
	if runID == 0 {
		if st.dryTx, st.dryMigrated, err = st.beginDry(ctx, conn); err != nil {
			destroy(conn)
			return nil, err
		}
	}
	for _, d := range entityDefs {
		st.ents = append(st.ents, &stageEntity{def: d, scopes: map[string]*scopeStat{}, strs: map[string]string{}})
	}
	return st, nil
}

// beginDry begins the transaction of a dry run on conn and, holding the schema's migration
// lock, applies in it the migrations the schema lacks; it returns the transaction and how many
// it applied. A schema that lacks none is the common case: the transaction ends at once, having
// created nothing, and beginDry returns nil and 0 (the dry run runs as any other).
func (st *Stage) beginDry(ctx context.Context, conn *pgxpool.Conn) (pgx.Tx, int, error) {
	tx, err := conn.Begin(ctx)
	if err != nil {
		return nil, 0, fmt.Errorf("beginning the dry run's transaction: %w", err)
	}
	// It stays open while the run fetches, idle between pages for as long as the API makes it
	// wait: it ends with the stage (Close) or with its connection, never by a timeout.
	if _, err := tx.Exec(ctx, "SET LOCAL idle_in_transaction_session_timeout = 0"); err != nil {
		return nil, 0, fmt.Errorf("beginning the dry run's transaction: %w", err)
	}
	n, err := migrateInTx(ctx, tx, st.s.schema)
	if err != nil {
		return nil, 0, fmt.Errorf("applying the pending migrations of schema %s in the dry run's transaction: %w", st.s.schema, err)
	}
	if n == 0 {
		if err := tx.Rollback(ctx); err != nil { // it releases the migration lock
			return nil, 0, fmt.Errorf("ending the dry run's transaction: %w", err)
		}
		return nil, 0, nil
	}
	return tx, n, nil
}

// DryMigrations returns how many pending migrations the dry run applied in its transaction
// (StageBegin), which Close rolls back: 0 for a run that is not dry or a schema that lacked
// none.
func (st *Stage) DryMigrations() int {
	st.mu.Lock()
	defer st.mu.Unlock()
	return st.dryMigrated
}

// configureStaging gives the temporary tables of conn's session room in local buffers.
// Postgres allows this only before the session's first use of a temporary table, so a session
// that already used one keeps its setting (slower for very large tenants, not wrong): a
// refused setting does not fail the staging connection.
func configureStaging(ctx context.Context, conn *pgxpool.Conn) error {
	_, err := conn.Exec(ctx, "SET temp_buffers = '256MB'")
	return err
}

// Duplicate is a row key added twice in one run: the same key twice in one listing, or an
// agent listed in two of its sub-account's groups. One copy is kept: the one with the lower
// rank (Row.Rank; other rows rank equal), of equal ranks the first added.
type Duplicate struct {
	Entity  entity.Name // "agents"
	Key     string      // "sub_account_id=20001 agent_id=100004"
	Kept    string      // the source of the copy kept ("GET /voice/api/.../agentGroups/7/agents")
	Dropped string      // the source of the copy dropped
}

// SetDuplicateFunc sets the function told about every Duplicate (to log a warning); it is
// called with the stage's lock held and must not call the stage.
func (st *Stage) SetDuplicateFunc(fn func(Duplicate)) {
	st.mu.Lock()
	defer st.mu.Unlock()
	st.dupFunc = fn
}

// ErrStageDone is returned by Stage methods called after Publish or Close.
var ErrStageDone = errors.New("db: stage already published or closed")

// Add stages rows of one entity. source names where the rows come from (an endpoint,
// "GET /voice/api/v1/admin/accounts") for errors. A row's scope is its entity's rule applied
// to its key (internal/entity): "all", or its sub-account id.
func (st *Stage) Add(ctx context.Context, name entity.Name, source string, rows []Row) error {
	return st.add(ctx, name, source, rows, false)
}

// AddFallback stages rows known only from a weaker source than the entity's listing (the
// login response, which names the main account and nothing else): a row whose key is stored
// or already staged in this run only counts as seen, keeping its values (a weaker source never
// overwrites a stronger one's); any other is staged as Add would.
func (st *Stage) AddFallback(ctx context.Context, name entity.Name, source string, rows []Row) error {
	return st.add(ctx, name, source, rows, true)
}

// ScopeComplete marks a scope as fetched completely: its rows publish and rows missing from it
// are soft-deleted (subject to the mass-delete breaker). scope is "all" for an entity with one
// scope and the sub-account id for one scoped per sub-account (internal/entity). A scope
// marked failed stays failed.
func (st *Stage) ScopeComplete(name entity.Name, scope string) {
	st.mu.Lock()
	defer st.mu.Unlock()
	m := st.mark(name, scope)
	if !m.failed {
		m.complete = true
	}
}

// ScopeFail marks a scope as failed: the rows it did fetch publish, nothing of it is deleted,
// and the run is partial with err (which must not carry secrets) recorded on the scope.
func (st *Stage) ScopeFail(name entity.Name, scope string, err error) {
	st.mu.Lock()
	defer st.mu.Unlock()
	m := st.mark(name, scope)
	m.complete = false
	m.failed = true
	if m.err == "" {
		m.err = "unknown error"
		if err != nil {
			m.err = oneline.Of(err.Error(), oneline.Stored)
		}
	}
}

func (st *Stage) mark(name entity.Name, scope string) *scopeMark {
	id := scopeID{name, scope}
	m := st.marks[id]
	if m == nil {
		m = &scopeMark{}
		st.marks[id] = m
	}
	return m
}

// Close releases the staging connection, dropping its temporary tables. It is safe to call
// more than once and after Publish.
func (st *Stage) Close() {
	st.mu.Lock()
	defer st.mu.Unlock()
	if st.closed {
		return
	}
	st.closed = true
	st.ents = nil
	_ = st.wait()
	if st.dryTx != nil {
		// Closing the connection would roll it back too; rolled back first, the migration lock
		// is free when Close returns.
		rctx, cancel := st.s.cleanupContext(st.ctx)
		_ = st.dryTx.Rollback(rctx)
		cancel()
		st.dryTx = nil
	}
	if st.conn != nil {
		destroy(st.conn)
		st.conn = nil
	}
	st.spool.close()
}

// add classifies the rows of one entity against the stored hashes and COPYs the new, changed
// and restored ones into the entity's staging table; fallback rows come from a weaker source
// (AddFallback).
func (st *Stage) add(ctx context.Context, name entity.Name, source string, rows []Row, fallback bool) error {
	if len(rows) == 0 {
		return nil
	}
	st.mu.Lock()
	defer st.mu.Unlock()
	if st.done || st.closed {
		return ErrStageDone
	}
	if st.err != nil {
		return st.err
	}
	d := entityByName(name)
	if d == nil {
		err := &StageError{Entity: name, Source: source, Item: -1, Err: errors.New("unknown entity")}
		st.err = err
		return err
	}
	if err := st.addLocked(ctx, st.ents[d.idx], source, rows, fallback); err != nil {
		st.err = err
		return err
	}
	return nil
}

// StageError is a failure to stage rows. It names its own entity and source (the rows of an
// earlier Add whose COPY failed are reported by the next call, but as themselves) and, when
// known, the item: its index in the rows handed to Add, its key and the column.
type StageError struct {
	Entity entity.Name // "agents"
	Source string      // what the rows came from, as given to Add ("GET /voice/api/...")
	Item   int         // index in the Add's rows, -1 when not known
	Key    string      // the item's key, "sub_account_id=20001 agent_id=100004"; "" when not known
	Column string      // the column, when known
	Err    error
}

// Error implements error.
func (e *StageError) Error() string {
	var b strings.Builder
	b.WriteString("staging " + string(e.Entity))
	if e.Source != "" {
		b.WriteString(" from " + e.Source)
	}
	if e.Item >= 0 {
		fmt.Fprintf(&b, ": item %d", e.Item)
		if e.Key != "" {
			b.WriteString(" (" + e.Key + ")")
		}
	}
	if e.Column != "" {
		b.WriteString(": column " + e.Column)
	}
	b.WriteString(": " + e.Err.Error())
	return b.String()
}

// Unwrap returns the underlying error.
func (e *StageError) Unwrap() error { return e.Err }

// addBatch is one Add in progress: where its rows come from, and the rows it will COPY with
// the Add items behind them.
type addBatch struct {
	st       *Stage
	e        *stageEntity
	source   string
	fallback bool         // rows from a weaker source (AddFallback)
	add      uint32       // index of source in Stage.sources
	rows     [][]any      // the rows to COPY
	items    []copiedItem // the Add's item behind each row
}

// fail is a StageError for item (-1: not known) of the batch, with key k when item is known.
func (b *addBatch) fail(item int, k rowKey, err error) *StageError {
	se := &StageError{Entity: b.e.def.name, Source: b.source, Item: item, Err: err}
	if item >= 0 {
		se.Key = b.e.def.keyString(k)
	}
	return se
}

func (st *Stage) addLocked(ctx context.Context, e *stageEntity, source string, rows []Row, fallback bool) error {
	b := &addBatch{st: st, e: e, source: source, fallback: fallback, add: uint32(len(st.sources)),
		rows: make([][]any, 0, len(rows)), items: make([]copiedItem, 0, len(rows))}
	if !e.loaded || !e.created {
		if err := st.waitRecover(ctx); err != nil {
			return err // an earlier Add's COPY, reported as itself
		}
	}
	if err := st.retry(ctx, func() error { return st.load(ctx, e) }); err != nil {
		return b.fail(-1, rowKey{}, err)
	}
	if err := st.retry(ctx, func() error { return st.createTemp(ctx, e) }); err != nil {
		return b.fail(-1, rowKey{}, err)
	}
	st.sources = append(st.sources, source)
	// Each row's values are read into one scratch slice; only a row that is COPY'd gets its
	// own (addRow), so an unchanged row costs no allocation here.
	scratch := make([]any, 0, len(e.def.keyCols)+len(e.def.cols))
	for i := range rows {
		r := &rows[i]
		k := rowKey{s: r.S, n: r.N}
		v, err := e.def.values(scratch[:0], k, r.Vals)
		if err != nil {
			se := b.fail(i, k, err)
			se.Column = err.column
			return se
		}
		if err := b.addRow(ctx, i, k, v, r); err != nil {
			return err
		}
	}
	if len(b.rows) == 0 {
		return nil
	}
	// The COPY runs while the caller prepares its next page; the next use of the connection
	// waits for it and reports its error, naming this Add's entity, source and item. Its rows
	// are spooled first: a connection lost under it is rebuilt with them (recover).
	if err := st.waitRecover(ctx); err != nil {
		return err
	}
	st.spool.write(spoolRows, e.def.idx, b.rows)
	st.copying = make(chan error, 1)
	go b.copy(st.conn, st.copying)
	return nil
}

// columnError is a value that does not fit its column.
type columnError struct {
	column string
	err    error
}

func (e *columnError) Error() string { return e.err.Error() }

// values appends key k's parts and the typed values vals (normalised for Postgres, so that
// callers may reuse their rows once Add returns) to out, in table column order.
func (d *entityDef) values(out []any, k rowKey, vals []any) ([]any, *columnError) {
	if len(vals) != len(d.cols) {
		return nil, &columnError{err: fmt.Errorf("%d values for %d columns", len(vals), len(d.cols))}
	}
	if d.keyS != "" {
		out = append(out, noNUL(k.s))
	}
	for i := range d.keyN {
		out = append(out, k.n[i])
	}
	for i, v := range vals {
		nv, err := columnValue(d.kinds[i], v)
		if err != nil {
			return nil, &columnError{column: d.cols[i], err: err}
		}
		out = append(out, nv)
	}
	return out, nil
}

// own copies a row's values for the COPY that outlives the Add: v is the Add's scratch, and a
// pointer value (columnValue keeps them, to spare an allocation per unchanged value) is read
// now, since the caller may reuse what it points to once Add returns.
func own(v []any) []any {
	row := make([]any, len(v), len(v)+3)
	for i, x := range v {
		switch p := x.(type) {
		case *string:
			row[i] = *p
		case *int64:
			row[i] = *p
		case *bool:
			row[i] = *p
		default:
			row[i] = x
		}
	}
	return row
}

// columnValue is v as a value of a column of kind k (see Row.Vals): a value the hash and the
// COPY take as it is. Non-nil *string (without NUL), *int64 and *bool stay pointers; the hash
// reads them as their values (rowHasher.sum) and own dereferences them.
func columnValue(k entity.Kind, v any) (any, error) {
	if v == nil {
		return nil, nil
	}
	var out any
	ok := false
	switch k {
	case entity.Text:
		out, ok = textValue(v)
	case entity.Int:
		out, ok = scalarValue[int64](v)
	case entity.Bool:
		out, ok = scalarValue[bool](v)
	case entity.Time:
		out, ok = timeValue(v)
	case entity.TextArray:
		var a []string
		if a, ok = v.([]string); ok {
			out = pa(a)
		}
	}
	if !ok {
		return nil, fmt.Errorf("a %T value for a %s column", v, k.SQL())
	}
	return out, nil
}

// textValue is a string or *string value, NUL repaired; a pointer without NUL stays as it is.
func textValue(v any) (any, bool) {
	switch x := v.(type) {
	case string:
		return noNUL(x), true
	case *string:
		switch {
		case x == nil:
			return nil, true
		case strings.IndexByte(*x, 0) >= 0:
			return noNUL(*x), true
		}
		return x, true
	}
	return nil, false
}

// scalarValue is a T or a *T value (a nil pointer is NULL).
func scalarValue[T int64 | bool](v any) (any, bool) {
	switch x := v.(type) {
	case T:
		return x, true
	case *T:
		if x == nil {
			return nil, true
		}
		return x, true
	}
	return nil, false
}

// timeValue is a time.Time or *time.Time value at Postgres precision (pt).
func timeValue(v any) (any, bool) {
	switch x := v.(type) {
	case time.Time:
		return pt(&x), true
	case *time.Time:
		return pt(x), true
	}
	return nil, false
}

// addRow classifies item i (row r, key k, typed values v) against the stored and already seen
// rows, and queues it for the COPY when it is new, changed or restored.
func (b *addBatch) addRow(ctx context.Context, i int, k rowKey, v []any, r *Row) error {
	e, d := b.e, b.e.def
	if d.keyS != "" && k.s == "" {
		return b.fail(i, k, fmt.Errorf("empty %s", d.keyS))
	}
	clean, err := b.scrub(r)
	if err != nil {
		return b.fail(i, k, err)
	}
	rank := r.Rank
	h := b.st.hasher.sum(v, clean)
	e.intern(&k)
	sc := e.scope(d.scope(k))
	old, found := e.rows[k]
	if found && b.fallback {
		if old.flags&fSeen == 0 {
			if old.flags&fDeleted == 0 {
				sc.unchanged++
				sc.fetched++
			}
			e.rows[k] = entry{hash: old.hash, flags: old.flags | fSeen, add: b.add, tier: rank.Tier, rank: rank.N}
		}
		return nil // stored or staged: the weaker source changes nothing
	}
	if found && old.flags&fSeen != 0 {
		replace, err := b.listedTwice(ctx, i, sc, k, old, rank)
		if err != nil || !replace {
			return err
		}
		old, found = e.rows[k]
	}
	op := b.classify(sc, k, old, found, h, rank)
	if op == "" {
		return nil // unchanged: nothing to copy
	}
	sc.fetched++
	sc.staged++
	e.stagedN++
	b.rows = append(b.rows, append(own(v), clean, h[:], op))
	b.items = append(b.items, copiedItem{index: i, key: k})
	return nil
}

// scrub returns r's raw without its secrets and records the paths of its API object (Raw, or
// Object when set) for schema drift: the scrub hashes the object's shape, and only an object
// of a shape not seen before is scanned again for its paths. A fallback row's object is not
// the API's.
func (b *addBatch) scrub(r *Row) ([]byte, error) {
	st := b.st
	if !st.track || b.fallback {
		return secretjson.Scrub(r.Raw)
	}
	obj := r.Object
	var clean []byte
	var err error
	if len(obj) == 0 {
		obj = r.Raw
		clean, err = secretjson.ScrubShape(obj, &st.paths)
	} else {
		if clean, err = secretjson.Scrub(r.Raw); err == nil {
			if _, err = secretjson.ScrubShape(obj, &st.paths); err != nil {
				err = fmt.Errorf("object: %w", err)
			}
		}
	}
	if err != nil {
		return nil, err
	}
	if !b.e.fields.seen(st.paths.Shape()) {
		if _, err := secretjson.ScrubPaths(obj, &st.paths); err != nil {
			return nil, fmt.Errorf("object: %w", err) // not reached: the same bytes scrubbed
		}
		b.e.fields.add(&st.paths)
	}
	return clean, nil
}

// listedTwice handles item i, whose key was seen earlier in this run (old): the copy with the lower rank is
// kept, of equal ranks the first. It reports whether the new copy replaces the old one, which
// it then unstages.
func (b *addBatch) listedTwice(ctx context.Context, i int, sc *scopeStat, k rowKey, old entry, rank Rank) (bool, error) {
	dup := Duplicate{Entity: b.e.def.name, Key: b.e.def.keyString(k), Kept: b.st.sources[old.add], Dropped: b.source}
	if !rank.less(old.entryRank()) {
		b.st.duplicate(dup)
		return false, nil
	}
	dup.Kept, dup.Dropped = dup.Dropped, dup.Kept
	b.st.duplicate(dup)
	var err error
	b.rows, b.items, err = b.st.unstage(ctx, b.e, sc, k, old, b.rows, b.items)
	if err != nil {
		return false, b.fail(i, k, err)
	}
	return true, nil
}

// classify records the row with hash h under key k (old its entry, when found) as seen and
// counts it; it returns its staging op ("i", "u" or "r"), or "" when it is unchanged.
func (b *addBatch) classify(sc *scopeStat, k rowKey, old entry, found bool, h [32]byte, rank Rank) string {
	e := b.e
	switch {
	case !found:
		sc.inserted++
		e.rows[k] = entry{hash: h, flags: fSeen | fOpI, add: b.add, tier: rank.Tier, rank: rank.N}
		return "i"
	case old.flags&fDeleted != 0:
		sc.restored++
		e.rows[k] = entry{hash: old.hash, flags: old.flags | fSeen | fOpR, add: b.add, tier: rank.Tier, rank: rank.N}
		return "r"
	case old.hash != h:
		sc.updated++
		e.rows[k] = entry{hash: old.hash, flags: old.flags | fSeen | fOpU, add: b.add, tier: rank.Tier, rank: rank.N}
		return "u"
	default:
		sc.unchanged++
		sc.fetched++
		e.rows[k] = entry{hash: old.hash, flags: old.flags | fSeen, add: b.add, tier: rank.Tier, rank: rank.N}
		return ""
	}
}

// copy COPYs the batch's rows into staging and sends the result to done, an error naming the
// row's item and column when the server says which.
func (b *addBatch) copy(conn *pgxpool.Conn, done chan<- error) {
	// Under the stage's context (the run's), not the Add's: the caller may cancel that as soon
	// as Add returns (a page is small), but a database that stops answering must not hold the
	// COPY past the run's deadline.
	d := b.e.def
	_, err := conn.CopyFrom(b.st.ctx, pgx.Identifier{d.stagingTable()}, d.stageCols(), pgx.CopyFromRows(b.rows))
	if err != nil {
		line, column := copyErrorPlace(err)
		if line >= 1 && line <= len(b.items) {
			it := b.items[line-1]
			se := b.fail(it.index, it.key, fmt.Errorf("copying rows: %w", copyErrorText(err)))
			se.Column = column
			err = se
		} else {
			err = b.fail(-1, rowKey{}, fmt.Errorf("copying rows: %w", copyErrorText(err)))
		}
	}
	done <- err
}

// duplicate reports a Duplicate to the DuplicateFunc.
func (st *Stage) duplicate(d Duplicate) {
	if st.dupFunc != nil {
		st.dupFunc(d)
	}
}

// unstage undoes the staging of key k's copy seen earlier in this run (old is its entry), so
// that a better copy can take its place: its counts are taken back, its staged row is removed
// (from this Add's pending rows, or from the staging table), and its entry is what it was
// before the run. It returns the pending rows without it.
func (st *Stage) unstage(ctx context.Context, e *stageEntity, sc *scopeStat, k rowKey, old entry, copyRows [][]any, items []copiedItem) ([][]any, []copiedItem, error) {
	if old.flags&fOps == 0 { // unchanged: nothing was copied
		sc.unchanged--
		sc.fetched--
		e.rows[k] = entry{hash: old.hash, flags: old.flags &^ fSeen}
		return copyRows, items, nil
	}
	switch {
	case old.flags&fOpI != 0:
		sc.inserted--
		delete(e.rows, k)
	case old.flags&fOpU != 0:
		sc.updated--
		e.rows[k] = entry{hash: old.hash, flags: old.flags &^ (fSeen | fOps)}
	default:
		sc.restored--
		e.rows[k] = entry{hash: old.hash, flags: old.flags &^ (fSeen | fOps)}
	}
	sc.fetched--
	sc.staged--
	e.stagedN--
	if j := slices.IndexFunc(items, func(it copiedItem) bool { return it.key == k }); j >= 0 {
		return slices.Delete(copyRows, j, j+1), slices.Delete(items, j, j+1), nil
	}
	// Copied by an earlier Add: wait for its COPY and delete the row from the staging table
	// (spooled like the COPYs, in the order they run).
	st.spool.write(spoolDelete, e.def.idx, [][]any{e.def.keyArgs(k)})
	if err := st.waitRecover(ctx); err != nil {
		return nil, nil, err
	}
	if err := st.retry(ctx, func() error {
		_, err := st.conn.Exec(ctx, st.s.ents[e.def.idx].unstageRow, e.def.keyArgs(k)...)
		return err
	}); err != nil {
		return nil, nil, fmt.Errorf("replacing a copy listed twice: %w", err)
	}
	return copyRows, items, nil
}

// copiedItem is the Add item behind one copied row.
type copiedItem struct {
	index int
	key   rowKey
}

var copyWhereRE = regexp.MustCompile(`\bline (\d+)(?:, column (\w+))?`)

// copyErrorPlace reads the row (1-based line of the COPY) and column of a COPY error from the
// server's context ("COPY stg_agents, line 3, column created_at: ...").
func copyErrorPlace(err error) (line int, column string) {
	var pe *pgconn.PgError
	if !errors.As(err, &pe) {
		return 0, ""
	}
	m := copyWhereRE.FindStringSubmatch(pe.Where)
	if m == nil {
		return 0, ""
	}
	line, _ = strconv.Atoi(m[1])
	return line, m[2]
}

// copyErrorText is a COPY error without the server's context line, which may quote the value.
func copyErrorText(err error) error {
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		return fmt.Errorf("%s (SQLSTATE %s)", pe.Message, pe.Code)
	}
	return err
}

// keyString renders a key as "col=value" pairs for errors.
func (d *entityDef) keyString(k rowKey) string {
	var parts []string
	if d.keyS != "" {
		parts = append(parts, d.keyS+"="+k.s)
	}
	for i, c := range d.keyN {
		parts = append(parts, c+"="+strconv.FormatInt(k.n[i], 10))
	}
	return strings.Join(parts, " ")
}

// wait waits for the COPY in flight, if any, and returns its error.
func (st *Stage) wait() error {
	if st.copying == nil {
		return nil
	}
	err := <-st.copying
	st.copying = nil
	return err
}

func (e *stageEntity) scope(name string) *scopeStat {
	sc := e.scopes[name]
	if sc == nil {
		sc = &scopeStat{}
		e.scopes[name] = sc
	}
	return sc
}

// intern shares the text key part between the rows of one scope (a sub-account id is the
// same for thousands of agents).
func (e *stageEntity) intern(k *rowKey) {
	if !e.def.scoped {
		return
	}
	if is, ok := e.strs[k.s]; ok {
		k.s = is
	} else {
		e.strs[k.s] = k.s
	}
}

// stageCols are the columns of the staging table.
func (d *entityDef) stageCols() []string {
	cols := append(append([]string{}, d.keyCols...), d.cols...)
	return append(cols, "raw", "row_hash", "op")
}

// load reads the stored (key, row_hash, deleted) of every row of the entity once per stage.
func (st *Stage) load(ctx context.Context, e *stageEntity) error {
	if e.loaded {
		return nil
	}
	d := e.def
	rows, err := st.conn.Query(ctx, st.s.ents[d.idx].storedHashes)
	if err != nil {
		return fmt.Errorf("reading stored hashes: %w", err)
	}
	defer rows.Close()
	// Nothing of the entity is staged before its load: a load that a lost connection cut
	// short starts over, counting from zero.
	e.rows = map[rowKey]entry{}
	e.scopes = map[string]*scopeStat{}
	var (
		k       rowKey
		hash    []byte
		deleted bool
	)
	for rows.Next() {
		if err := rows.Scan(&k.s, &k.n[0], &k.n[1], &hash, &deleted); err != nil {
			return fmt.Errorf("reading stored hashes: %w", err)
		}
		e.intern(&k)
		en := entry{flags: fStored}
		copy(en.hash[:], hash)
		if deleted {
			en.flags |= fDeleted
		} else {
			e.scope(d.scope(k)).live++
		}
		e.rows[k] = en
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("reading stored hashes: %w", err)
	}
	e.loaded = true
	return nil
}

// createTemp creates the entity's staging table on first use.
func (st *Stage) createTemp(ctx context.Context, e *stageEntity) error {
	if e.created {
		return nil
	}
	if _, err := st.conn.Exec(ctx, st.s.ents[e.def.idx].createStaging); err != nil {
		return fmt.Errorf("creating staging table: %w", err)
	}
	e.created = true
	return nil
}

// The repairs and conversions of columnValue.

// noNUL replaces NUL characters, which Postgres text cannot hold, with U+FFFD, so one odd value
// upstream cannot fail a whole run.
func noNUL(s string) string {
	if strings.IndexByte(s, 0) < 0 {
		return s
	}
	return strings.ReplaceAll(s, "\x00", "\uFFFD")
}

// The range of timestamptz: 4714-11-24 BC (Go's year -4713) to 294276-12-31 AD.
var (
	pgMinTime = time.Date(-4713, time.November, 24, 0, 0, 0, 0, time.UTC)
	pgMaxTime = time.Date(294276, time.December, 31, 23, 59, 59, 999999000, time.UTC)
)

// pt returns the time at Postgres precision (microseconds), in UTC; a time Postgres cannot
// hold (a DateTime the spec allows, such as millis -2^53) is stored as NULL, the row's raw
// keeping what was sent.
func pt(p *time.Time) any {
	if p == nil {
		return nil
	}
	t := p.UTC().Truncate(time.Microsecond)
	if t.Before(pgMinTime) || t.After(pgMaxTime) {
		return nil
	}
	return t
}

func pa(a []string) any {
	if a == nil {
		return nil
	}
	out := slices.Clone(a)
	for i := range out {
		out[i] = noNUL(out[i])
	}
	return out
}
