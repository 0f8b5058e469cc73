package db

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"hash/maphash"
	"iter"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgtype"

	"github.com/evsync/evsync/internal/entity"
	"github.com/evsync/evsync/internal/oneline"
	"github.com/evsync/evsync/internal/secretjson"
)

// streamDef is a stream's description as WindowPublish uses it: its table's columns, and the
// statements over its table and its staging table (a temporary table of the publish's
// transaction: the staged copy of the window's rows).
type streamDef struct {
	st         *entity.Stream
	keyCols    []string // the key's columns, sub_account_id first
	cols       []string // the typed columns
	hasMissing bool     // the table has missing_since (PublishUpsert)
	stage      string   // the staging table's name
	windowCol  int      // the index in a staging row of the stream's WindowColumn, or -1
}

// newStreamDef reads stream st's description.
func newStreamDef(st *entity.Stream) *streamDef {
	d := &streamDef{st: st, stage: "stg_stream_" + string(st.Name)}
	for _, c := range st.Key {
		d.keyCols = append(d.keyCols, c.Name)
	}
	d.windowCol = -1
	for i, c := range st.Columns {
		d.cols = append(d.cols, c.Name)
		if c.Name == st.WindowColumn && c.Kind == entity.Time {
			d.windowCol = 1 + len(st.Key) + i // after seq and the key
		}
	}
	for _, c := range streamRelation(st).Columns {
		if c.Name == "missing_since" {
			d.hasMissing = true
		}
	}
	return d
}

// stageColumns are the staging table's columns, in COPY order: the item's place in the read,
// the key's columns, the typed columns, raw and row_hash.
func (d *streamDef) stageColumns() []string {
	return slices.Concat([]string{"seq"}, d.keyCols, d.cols, []string{"raw", "row_hash"})
}

// keyJoin is the SQL condition that rows a and b have the same key.
func (d *streamDef) keyJoin(a, b string) string {
	parts := make([]string, len(d.keyCols))
	for i, c := range d.keyCols {
		parts[i] = a + "." + c + " = " + b + "." + c
	}
	return strings.Join(parts, " AND ")
}

// createStage is the statement that creates the staging table once per session, emptied at
// each commit: a window's publish then writes no catalog rows (a table created and dropped per
// window cost more than its rows).
func (d *streamDef) createStage() string {
	cols := []string{"seq bigint NOT NULL"}
	for _, c := range slices.Concat(d.st.Key, d.st.Columns) {
		cols = append(cols, c.Name+" "+c.Kind.SQL())
	}
	// raw is staged as its bytes: Postgres parses it into jsonb only for the rows written, so a
	// settle read that finds nothing new parses none.
	cols = append(cols, "raw bytea NOT NULL", "row_hash bytea NOT NULL")
	return "CREATE TEMP TABLE IF NOT EXISTS " + d.stage + " (" + strings.Join(cols, ", ") + ") ON COMMIT DELETE ROWS"
}

// statements renders the publish's statements for a store whose quoted schema is q. Their
// parameters, bound by bindWindow: {{start}} the window's start, {{run}} the run's id, {{sub}}
// the sub-account.
func (d *streamDef) statements(q string) (dedupe, update, insert string) {
	t := q + "." + pgx.Identifier{string(d.st.Name)}.Sanitize()
	all := slices.Concat(d.keyCols, d.cols)
	// A key the read returned twice: its last copy is kept.
	dedupe = "DELETE FROM " + d.stage + " a USING " + d.stage + " b WHERE " + d.keyJoin("a", "b") + " AND a.seq < b.seq"
	var sets []string
	for _, c := range d.cols {
		sets = append(sets, c+" = s."+c)
	}
	sets = append(sets, "window_start = {{start}}", "raw = "+rawJSON, "row_hash = s.row_hash", "last_changed_at = now()", "last_run_id = {{run}}")
	changed := "t.row_hash <> s.row_hash"
	if d.hasMissing {
		sets = append(sets, "missing_since = NULL")
		changed = "(" + changed + " OR t.missing_since IS NOT NULL)"
	}
	update = "UPDATE " + t + " t SET " + strings.Join(sets, ", ") + " FROM " + d.stage + " s WHERE " +
		d.keyJoin("t", "s") + " AND t.sub_account_id = {{sub}} AND " + changed
	// The keys stored already are skipped by the primary key's probe (ON CONFLICT DO NOTHING
	// writes, and locks, nothing of them), never by a join with the table: with a small staging
	// table whose statistics are a guess, the planner chose to scan the whole table for each
	// window (measured: 46 ms a window once audit_log held 86,000 rows, against 6 ms).
	insert = "INSERT INTO " + t + " (" + strings.Join(all, ", ") + ", window_start, raw, row_hash, first_seen_at, last_changed_at, last_run_id)\n" +
		"SELECT " + prefixed("s", all) + ", {{start}}, " + rawJSON + ", s.row_hash, now(), now(), {{run}} FROM " + d.stage + " s\n" +
		"ON CONFLICT DO NOTHING"
	return dedupe, update, insert
}

// rawJSON is the staging table's raw (bytes) as the jsonb of a row written.
const rawJSON = "convert_from(s.raw, 'UTF8')::jsonb"

// bindWindow binds the named parameters of a statement of statements to p's values: {{start}}
// the window's start, {{run}} the run, {{sub}} the sub-account. It returns the statement with
// $n in their place and its arguments.
func bindWindow(stmt string, p *WindowPublishParams) (string, []any) {
	var args []any
	pos := map[string]string{}
	vals := map[string]any{"start": p.Span.Start, "run": p.RunID, "sub": p.SubAccountID}
	for _, name := range []string{"start", "run", "sub"} {
		if strings.Contains(stmt, "{{"+name+"}}") {
			args = append(args, vals[name])
			pos[name] = fmt.Sprintf("$%d", len(args))
		}
	}
	return expand(stmt, pos), args
}

// streamItem converts the read's item i to a staging row: its values for Postgres, raw
// scrubbed of secret-bearing keys, and the row hash of the key, the typed values and raw.
func (d *streamDef) streamItem(h *rowHasher, i int, sub string, r *StreamRow) ([]any, error) {
	if len(r.Key) != len(d.st.Key)-1 {
		return nil, fmt.Errorf("item %d: %d key values for the key columns after sub_account_id (%s)",
			i, len(r.Key), strings.Join(d.keyCols[1:], ", "))
	}
	if len(r.Vals) != len(d.st.Columns) {
		return nil, fmt.Errorf("item %d: %d values for %d columns", i, len(r.Vals), len(d.st.Columns))
	}
	vals := make([]any, 0, 1+len(r.Key)+len(r.Vals))
	vals = append(vals, noNUL(sub))
	for j, c := range d.st.Key[1:] {
		v, err := columnValue(c.Kind, r.Key[j])
		if err == nil && (v == nil || v == "") {
			err = errors.New("empty")
		}
		if err != nil {
			return nil, fmt.Errorf("item %d: key column %s: %w", i, c.Name, err)
		}
		vals = append(vals, v)
	}
	for j, c := range d.st.Columns {
		var v any
		var err error
		if c.Kind == entity.JSON {
			v, err = jsonValue(r.Vals[j])
		} else {
			v, err = columnValue(c.Kind, r.Vals[j])
		}
		if err != nil {
			return nil, fmt.Errorf("item %d: column %s: %w", i, c.Name, err)
		}
		vals = append(vals, v)
	}
	clean, err := secretjson.ScrubDecoded(r.Raw) // StreamRow.Raw: as a decoder read it
	if err != nil {
		return nil, fmt.Errorf("item %d: raw: %w", i, err)
	}
	sum := h.sum(vals, clean)
	row := make([]any, 0, len(vals)+3)
	row = append(row, int64(i))
	row = append(row, own(vals)...)
	return append(row, clean, sum[:]), nil
}

// jsonValue is v, the value of a JSON column (a []byte or json.RawMessage holding a JSON
// value; nil or empty: NULL), scrubbed of secret-bearing keys and repaired for jsonb as raw is.
func jsonValue(v any) (any, error) {
	var b []byte
	switch x := v.(type) {
	case nil:
		return nil, nil
	case []byte:
		b = x
	case json.RawMessage:
		b = x
	default:
		return nil, fmt.Errorf("a %T value for a jsonb column", v)
	}
	if len(b) == 0 {
		return nil, nil
	}
	clean, err := secretjson.Scrub(b)
	if err != nil {
		return nil, err
	}
	return clean, nil
}

// windowPublish is WindowPublish, its errors not yet naming the window.
func (s *Store) windowPublish(ctx context.Context, p *WindowPublishParams) (c WindowCounts, err error) {
	switch {
	case p.Stream == nil || p.Stream.Name == "" || len(p.Stream.Key) == 0 || p.Stream.Key[0].Name != "sub_account_id":
		return c, errors.New("not a stream's description (its key must begin with sub_account_id)")
	case p.SubAccountID == "":
		return c, errors.New("empty sub-account id")
	case !p.Span.End.After(p.Span.Start):
		return c, errors.New("the span ends before it starts")
	case p.Lock == nil:
		return c, errors.New("no run lock")
	case p.RunID != p.Lock.RunID:
		return c, fmt.Errorf("run %d with run %d's lock", p.RunID, p.Lock.RunID)
	case p.Rows == nil:
		return c, errors.New("no rows")
	case p.Stream.Publish < entity.PublishAppend || p.Stream.Publish > entity.PublishReplace:
		return c, fmt.Errorf("unknown publish rule %d", p.Stream.Publish)
	}
	if err := p.Lock.Err(); err != nil {
		return c, err
	}
	d := newStreamDef(p.Stream)
	keyed := p.Stream.Publish == entity.PublishUpsert || p.Stream.Publish == entity.PublishReplace
	// A window never attempted holds no row: its rows are copied straight into the table, but
	// those that may be stored by another window (on a bound, or a key read twice) go through
	// the staging table. A key stored elsewhere all the same fails the window, and a window
	// attempted before takes the staging path.
	fresh := false
	if keyed && !p.Staged {
		err := s.pool.QueryRow(ctx, s.sql(`SELECT NOT EXISTS (SELECT 1 FROM {{schema}}.stream_windows
WHERE stream = $1 AND sub_account_id = $2 AND window_start = $3 AND (attempts > 0 OR first_read_at IS NOT NULL))`),
			p.Stream.Name, p.SubAccountID, p.Span.Start).Scan(&fresh)
		if err != nil {
			return c, fmt.Errorf("reading the window's ledger: %w", err)
		}
	}
	// A window committed and then lost in a server crash is one whose ledger row is lost with
	// it (the WAL replays in order): it is read again. So a window's commit need not wait for
	// the disk, which costs more than its rows; what follows it (the run's end) does. The
	// transaction's setup and the staging table take the BEGIN's round trip (no arguments: the
	// simple protocol runs them together; a connection left in a failed transaction by them is
	// closed by the pool, not reused).
	tx, err := s.pool.BeginTx(ctx, pgx.TxOptions{BeginQuery: "BEGIN; SET LOCAL synchronous_commit = off; " + d.createStage()})
	if err != nil {
		return c, fmt.Errorf("beginning, with the staging table: %w", err)
	}
	defer func() {
		if err != nil {
			rctx, cancel := s.cleanupContext(ctx)
			defer cancel()
			_ = tx.Rollback(rctx) // a connection that fails it is closed by pgx: nothing was written
		}
	}()
	sv := &sieve{d: d, p: p, direct: fresh}
	if keyed && !fresh {
		if err := s.loadStored(ctx, tx, d, p, sv); err != nil {
			return c, err
		}
	}
	if fresh {
		if err := tx.QueryRow(ctx, "SELECT now()").Scan(&sv.now); err != nil {
			return c, fmt.Errorf("reading the transaction's time: %w", err)
		}
	}
	staged, err := s.streamStage(ctx, tx, sv)
	if err != nil {
		return c, err
	}
	if c, err = s.writeStaged(ctx, tx, d, sv, staged); err != nil {
		return c, err
	}
	if err := s.windowSucceeded(ctx, tx, p, c); err != nil {
		return c, err
	}
	if err := tx.Commit(ctx); err != nil {
		return c, fmt.Errorf("committing: %w", err)
	}
	return c, nil
}

// writeStaged writes what the staging pass left in the staging table (staged rows, and sv's
// held ones), marks or deletes the window's rows the read no longer returned, and counts the
// window's rows.
func (s *Store) writeStaged(ctx context.Context, tx pgx.Tx, d *streamDef, sv *sieve, staged int64) (c WindowCounts, err error) {
	p := sv.p
	keyed := p.Stream.Publish == entity.PublishUpsert || p.Stream.Publish == entity.PublishReplace
	dedupe, update, insert := d.statements(s.q)
	// The statements that write the table, each one's count wanted, in order; sent together
	// (a batch: one round trip) unless the staging table needs its statistics first.
	var duplicates int64
	var joins []step // the statements that join the staging table with the table
	bound := func(what, stmt string, n *int64) step {
		stmt, args := bindWindow(stmt, p)
		return step{what: what, stmt: stmt, args: args, n: n}
	}
	if keyed && staged > 0 {
		// A row copied into the table by this transaction and updated by a later copy of its
		// key is a row inserted, not updated.
		upd := bound("updating the changed rows", "WITH u AS ("+update+" RETURNING t.first_seen_at)\n"+
			"SELECT count(*) FILTER (WHERE first_seen_at <> now()) FROM u", &c.Updated)
		upd.count = true
		joins = append(joins, upd)
	}
	if gone := sv.gone(); len(gone) > 0 {
		switch {
		case p.Stream.Publish == entity.PublishUpsert && p.Settle:
			joins = append(joins, step{what: "marking the rows missing", stmt: "UPDATE " + d.table(s.q) + " SET missing_since = now()" +
				" WHERE ctid = ANY($1) AND sub_account_id = $2 AND window_start = $3 AND missing_since IS NULL",
				args: []any{gone, p.SubAccountID, p.Span.Start}, n: &c.Missing})
		case p.Stream.Publish == entity.PublishReplace:
			joins = append(joins, step{what: "deleting the rows no longer read", stmt: "DELETE FROM " + d.table(s.q) +
				" WHERE ctid = ANY($1) AND sub_account_id = $2 AND window_start = $3",
				args: []any{gone, p.SubAccountID, p.Span.Start}, n: &c.Missing})
		}
	}
	run := func(steps []step) error { return runSteps(ctx, tx, steps) }
	var steps []step
	if sv.twice && staged > 0 { // a key came twice: its last copy is kept
		steps = append(steps, bound("dropping the items read twice", dedupe, &duplicates))
	}
	// The joins need the staging table's statistics once it is large (an empty-looking table
	// gets a plan that never ends); a small window's is not worth one, nor is an insert's.
	if len(joins) > 0 && staged >= analyzeStagedRows {
		if err := run(steps); err != nil {
			return c, err
		}
		steps = nil
		if staged-duplicates >= analyzeStagedRows {
			if _, err := tx.Exec(ctx, "ANALYZE "+d.stage); err != nil {
				return c, fmt.Errorf("analyzing the staging table: %w", err)
			}
		}
	}
	steps = append(steps, joins...)
	var inserted int64
	if staged > 0 {
		steps = append(steps, bound("inserting the new rows", insert, &inserted))
	}
	if err := run(steps); err != nil {
		return c, err
	}
	// A key read twice counts once: as the staging table's dedupe left it, or, when its first
	// copy went straight into the table, as that row (its later copy updated it).
	c.Inserted = sv.copied + inserted
	c.Fetched = sv.items - sv.dups
	c.Unchanged = c.Fetched - c.Inserted - c.Updated
	return c, nil
}

// step is a statement of a publish, what it does (for its error), and where its count goes:
// the rows it affected, or, when count, the one number it selects.
type step struct {
	what, stmt string
	args       []any
	n          *int64
	count      bool
}

// runSteps sends steps in one batch (one round trip) and reads their counts.
func runSteps(ctx context.Context, tx pgx.Tx, steps []step) error {
	if len(steps) == 0 {
		return nil
	}
	b := &pgx.Batch{}
	for _, st := range steps {
		b.Queue(st.stmt, st.args...)
	}
	br := tx.SendBatch(ctx, b)
	for _, st := range steps {
		var err error
		if st.count {
			err = br.QueryRow().Scan(st.n)
		} else {
			var tag pgconn.CommandTag
			tag, err = br.Exec()
			*st.n = tag.RowsAffected()
		}
		if err != nil {
			_ = br.Close() // the first error is the one to report
			return fmt.Errorf("%s: %w", st.what, err)
		}
	}
	return br.Close()
}

// analyzeStagedRows is the number of staged rows from which a publish analyzes the staging
// table before its set-based statements.
const analyzeStagedRows = 1000

// table is the stream's table, quoted, in the store whose quoted schema is q.
func (d *streamDef) table(q string) string {
	return q + "." + pgx.Identifier{string(d.st.Name)}.Sanitize()
}

// storedRow is a row the window held before the read: where it is, and whether it was missing.
type storedRow struct {
	tid     pgtype.TID
	missing bool
}

// maxHeld is the most items a direct copy holds back (on the window's bounds, or a key come
// twice): past it, the copy ends and the rest of the window goes through the staging table,
// so that memory stays bounded when the items' window column is not what the API filtered on.
const maxHeld = 2000

// sieve sorts a read's items as they are staged: those the window holds already, unchanged
// (by their row hash), are counted and dropped; of a window never attempted (direct), the
// items are copied straight into the table but for those held back (on the window's bounds,
// or a key come twice) for the staging table.
type sieve struct {
	d      *streamDef
	p      *WindowPublishParams
	stored map[[32]byte]storedRow // the window's rows before the read, by row hash; nil: none loaded
	direct bool
	now    time.Time // the transaction's now(), the direct copy's first_seen_at and last_changed_at
	held   [][]any   // staging rows held back from the direct copy

	items, copied int64 // items read; rows copied straight into the table
	dups          int64 // items whose key came before in the read
	twice         bool  // a key came twice (by its hash)
	seed          maphash.Seed
	seen          map[uint64]struct{}
	buf           []byte
}

// gone are the rows the window held that the read did not return unchanged: those of them
// whose key the read returned were rewritten by the update (their version here is no longer
// live), the others are gone upstream.
func (sv *sieve) gone() []pgtype.TID {
	var out []pgtype.TID
	for _, r := range sv.stored {
		out = append(out, r.tid)
	}
	return out
}

// loadStored reads the window's rows (their row hash and where they are) into sv.
func (s *Store) loadStored(ctx context.Context, tx pgx.Tx, d *streamDef, p *WindowPublishParams, sv *sieve) error {
	missing := "false"
	if d.hasMissing {
		missing = "missing_since IS NOT NULL"
	}
	rows, err := tx.Query(ctx, "SELECT ctid, row_hash, "+missing+" FROM "+d.table(s.q)+
		" WHERE sub_account_id = $1 AND window_start = $2", p.SubAccountID, p.Span.Start)
	if err != nil {
		return fmt.Errorf("reading the window's rows: %w", err)
	}
	sv.stored = map[[32]byte]storedRow{}
	var tid pgtype.TID
	var hash []byte
	var gone bool
	_, err = pgx.ForEachRow(rows, []any{&tid, &hash, &gone}, func() error {
		var h [32]byte
		copy(h[:], hash)
		sv.stored[h] = storedRow{tid: tid, missing: gone}
		return nil
	})
	if err != nil {
		return fmt.Errorf("reading the window's rows: %w", err)
	}
	return nil
}

// next returns the next row to copy (nil at the end): for the staging table, or, when direct,
// for the table.
func (sv *sieve) next(pull func() (StreamRow, error, bool), h *rowHasher) ([]any, error) {
	d, p := sv.d, sv.p
	for {
		r, err, ok := pull()
		switch {
		case !ok:
			return nil, nil
		case err != nil:
			return nil, fmt.Errorf("reading item %d: %w", sv.items, err)
		}
		row, err := d.streamItem(h, int(sv.items), p.SubAccountID, &r)
		if err != nil {
			return nil, err
		}
		sv.items++
		dup := sv.sawKey(row)
		var sum [32]byte
		copy(sum[:], row[len(row)-1].([]byte))
		if st, ok := sv.stored[sum]; ok && !st.missing {
			delete(sv.stored, sum) // as it was: nothing to write
			if !dup {
				continue
			}
			// A key come twice is staged whatever its copy: the last one must win.
		}
		if !sv.direct {
			return row, nil
		}
		if dup || sv.onBound(row) {
			row[len(row)-2] = slices.Clone(row[len(row)-2].([]byte)) // raw: kept past the next item
			sv.held = append(sv.held, row)
			if len(sv.held) >= maxHeld {
				sv.direct = false // the rest go through the staging table (streamStage)
				return nil, nil
			}
			continue
		}
		sv.copied++
		out := make([]any, 0, len(row)+4)
		out = append(out, row[1:len(row)-2]...) // the key and the typed values
		return append(out, p.Span.Start, row[len(row)-2], row[len(row)-1], sv.now, sv.now, p.RunID), nil
	}
}

// sawKey reports whether the key of staging row row came before in the read (by a 64-bit hash
// of it: a collision only sends a row through the staging table's dedupe), and notes it.
func (sv *sieve) sawKey(row []any) bool {
	if sv.seen == nil {
		sv.seed, sv.seen = maphash.MakeSeed(), map[uint64]struct{}{}
	}
	sv.buf = sv.buf[:0]
	for _, v := range row[1 : 1+len(sv.d.keyCols)] { // after seq: the key
		sv.buf = fmt.Appendf(sv.buf, "%v\x00", v)
	}
	k := maphash.Bytes(sv.seed, sv.buf)
	if _, ok := sv.seen[k]; ok {
		sv.twice = true
		sv.dups++
		return true
	}
	sv.seen[k] = struct{}{}
	return false
}

// onBound reports whether row's window column (when the stream has one) is not strictly
// inside the window: such an item may come in the read of the window on the other side too.
func (sv *sieve) onBound(row []any) bool {
	if sv.d.windowCol < 0 {
		return false
	}
	t, ok := row[sv.d.windowCol].(time.Time)
	return !ok || !t.After(sv.p.Span.Start) || !t.Before(sv.p.Span.End)
}

// directColumns are the table's columns a direct copy writes, in its rows' order.
func (d *streamDef) directColumns() []string {
	return slices.Concat(d.keyCols, d.cols, []string{"window_start", "raw", "row_hash", "first_seen_at", "last_changed_at", "last_run_id"})
}

// streamStage copies the rows sv lets through into the staging table, or, when sv is direct,
// into the table, and returns how many it copied into the staging table.
func (s *Store) streamStage(ctx context.Context, tx pgx.Tx, sv *sieve) (int64, error) {
	pull, stop := iter.Pull2(sv.p.Rows)
	defer stop()
	h := newRowHasher()
	var itemErr error // an item's own error: the COPY's error would only say it was aborted
	pullRow := func() ([]any, error) {
		row, err := sv.next(pull, h)
		if err != nil {
			itemErr = err
		}
		return row, err
	}
	// copyErr is a failed COPY's error: the item's own when one failed it.
	copyErr := func(what string, err error) error {
		if itemErr != nil {
			return itemErr
		}
		return fmt.Errorf("%s: %w", what, oneLineCopyError(err))
	}
	stage, stageCols := pgx.Identifier{sv.d.stage}, sv.d.stageColumns()
	if !sv.direct {
		n, err := tx.CopyFrom(ctx, stage, stageCols, pgx.CopyFromFunc(pullRow))
		if err != nil {
			return 0, copyErr("staging the items", err)
		}
		return n, nil
	}
	_, err := tx.CopyFrom(ctx, pgx.Identifier{s.schema, string(sv.d.st.Name)}, sv.d.directColumns(), pgx.CopyFromFunc(pullRow))
	var pe *pgconn.PgError
	switch {
	case err != nil && itemErr == nil && errors.As(err, &pe) && pe.Code == "23505": // unique_violation
		return 0, fmt.Errorf("%w: %w", ErrStoredElsewhere, oneLineCopyError(err))
	case err != nil:
		return 0, copyErr("copying the items", err)
	}
	// The held items, and the rest of the window when the copy held too many, are staged.
	held := sv.held
	sv.held = nil
	n, err := tx.CopyFrom(ctx, stage, stageCols, pgx.CopyFromFunc(func() ([]any, error) {
		if len(held) > 0 {
			row := held[0]
			held = held[1:]
			return row, nil
		}
		if sv.direct {
			return nil, nil // the copy read every item
		}
		return pullRow()
	}))
	if err != nil {
		return 0, copyErr("staging the items", err)
	}
	return n, nil
}

// ErrStoredElsewhere is the error of a window copied straight into its table that held a key
// another window's rows hold. Publish it again with WindowPublishParams.Staged: its items go through the
// staging table, which moves such a row.
var ErrStoredElsewhere = errors.New("a key of the window is stored by another window")

// oneLineCopyError is err on one line.
func oneLineCopyError(err error) error { return errors.New(oneline.Of(err.Error(), oneline.Stored)) }

// windowSucceeded records a published read, the window's ledger row and the run's scope, and
// checks that p.Lock still holds the run's key (ErrLockLost otherwise): in one round trip (a
// batch), before the commit.
func (s *Store) windowSucceeded(ctx context.Context, tx pgx.Tx, p *WindowPublishParams, c WindowCounts) error {
	b := &pgx.Batch{}
	b.Queue(s.sql(`
INSERT INTO {{schema}}.stream_windows AS sw
  (stream, sub_account_id, window_start, window_end, first_read_at, settled_at, status, attempts, rows, error, attempted_at, last_run_id)
VALUES ($1, $2, $3, $4, coalesce($9, now()), CASE WHEN $5 THEN coalesce($9, now()) END, $6, 1, $7, NULL, coalesce($9, now()), $8)
ON CONFLICT (stream, sub_account_id, window_start) DO UPDATE
  SET window_end = EXCLUDED.window_end, first_read_at = coalesce(sw.first_read_at, EXCLUDED.first_read_at),
      settled_at = CASE WHEN $5 THEN EXCLUDED.settled_at ELSE sw.settled_at END,
      status = EXCLUDED.status, attempts = sw.attempts + 1, rows = EXCLUDED.rows, error = NULL,
      attempted_at = EXCLUDED.attempted_at, last_run_id = EXCLUDED.last_run_id`),
		p.Stream.Name, p.SubAccountID, p.Span.Start, p.Span.End, p.Settle, WindowSucceeded, c.Fetched, p.RunID, readAt(p.At))
	// A scope failed by another window of the run stays failed.
	b.Queue(s.sql(`
INSERT INTO {{schema}}.sync_run_scopes AS sc (run_id, entity, scope, status, fetched, inserted, updated, unchanged, deleted)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
ON CONFLICT (run_id, entity, scope) DO UPDATE
  SET fetched = sc.fetched + EXCLUDED.fetched, inserted = sc.inserted + EXCLUDED.inserted,
      updated = sc.updated + EXCLUDED.updated, unchanged = sc.unchanged + EXCLUDED.unchanged,
      deleted = sc.deleted + EXCLUDED.deleted,
      status = CASE WHEN sc.status = 'failed' THEN sc.status ELSE EXCLUDED.status END,
      error = CASE WHEN sc.status = 'failed' THEN sc.error END`),
		p.RunID, p.Stream.Name, p.SubAccountID, ScopeSucceeded, c.Fetched, c.Inserted, c.Updated, c.Unchanged, c.Missing)
	b.Queue(streamHeldSQL, p.Lock.heldArgs()...)
	br := tx.SendBatch(ctx, b)
	defer func() { _ = br.Close() }() // after the results are read, it only reports them again
	if _, err := br.Exec(); err != nil {
		return fmt.Errorf("recording the window: %w", err)
	}
	if _, err := br.Exec(); err != nil {
		return fmt.Errorf("recording the run's scope: %w", err)
	}
	var held bool
	if err := br.QueryRow().Scan(&held); err != nil {
		return fmt.Errorf("checking the run's key: %w", err)
	}
	if err := br.Close(); err != nil {
		return err
	}
	if !held {
		return ErrLockLost
	}
	return nil
}
