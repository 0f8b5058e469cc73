package db

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"iter"
	"slices"
	"strings"

	"github.com/jackc/pgx/v5"

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
}

// newStreamDef reads stream st's description.
func newStreamDef(st *entity.Stream) *streamDef {
	d := &streamDef{st: st, stage: "stg_stream_" + string(st.Name)}
	for _, c := range st.Key {
		d.keyCols = append(d.keyCols, c.Name)
	}
	for _, c := range st.Columns {
		d.cols = append(d.cols, c.Name)
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
	cols = append(cols, "raw jsonb NOT NULL", "row_hash bytea NOT NULL")
	return "CREATE TEMP TABLE IF NOT EXISTS " + d.stage + " (" + strings.Join(cols, ", ") + ") ON COMMIT DELETE ROWS"
}

// statements renders the publish's statements for a store whose quoted schema is q. Their
// parameters, bound by bindWindow: {{start}} the window's start, {{run}} the run's id, {{sub}}
// the sub-account.
func (d *streamDef) statements(q string) (dedupe, update, insert, missing, drop string) {
	t := q + "." + pgx.Identifier{string(d.st.Name)}.Sanitize()
	all := slices.Concat(d.keyCols, d.cols)
	// A key the read returned twice: its last copy is kept.
	dedupe = "DELETE FROM " + d.stage + " a USING " + d.stage + " b WHERE " + d.keyJoin("a", "b") + " AND a.seq < b.seq"
	var sets []string
	for _, c := range d.cols {
		sets = append(sets, c+" = s."+c)
	}
	sets = append(sets, "window_start = {{start}}", "raw = s.raw", "row_hash = s.row_hash", "last_changed_at = now()", "last_run_id = {{run}}")
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
		"SELECT " + prefixed("s", all) + ", {{start}}, s.raw, s.row_hash, now(), now(), {{run}} FROM " + d.stage + " s\n" +
		"ON CONFLICT DO NOTHING"
	gone := " WHERE t.sub_account_id = {{sub}} AND t.window_start = {{start}} AND NOT EXISTS (SELECT 1 FROM " + d.stage + " s WHERE " +
		d.keyJoin("t", "s") + ")"
	if d.hasMissing {
		missing = "UPDATE " + t + " t SET missing_since = now()" + gone + " AND t.missing_since IS NULL"
	}
	drop = "DELETE FROM " + t + " t" + gone
	return dedupe, update, insert, missing, drop
}

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
	clean, err := secretjson.Scrub(r.Raw)
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
	}
	if err := p.Lock.Err(); err != nil {
		return c, err
	}
	d := newStreamDef(p.Stream)
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
	staged, err := s.streamStage(ctx, tx, d, p)
	if err != nil {
		return c, err
	}
	dedupe, update, insert, missing, drop := d.statements(s.q)
	// The statements that write the table, each one's count wanted, in order; sent together
	// (a batch: one round trip) unless the staging table needs its statistics first.
	type step struct {
		what, stmt string
		n          *int64
	}
	var duplicates int64
	steps := []step{{"dropping the items read twice", dedupe, &duplicates}}
	switch p.Stream.Publish {
	case entity.PublishAppend: // the keys not stored only
	case entity.PublishUpsert:
		steps = append(steps, step{"updating the changed rows", update, &c.Updated})
		if p.Settle && missing != "" {
			steps = append(steps, step{"marking the rows missing", missing, &c.Missing})
		}
	case entity.PublishReplace:
		steps = append(steps, step{"deleting the rows no longer read", drop, &c.Missing},
			step{"updating the changed rows", update, &c.Updated})
	default:
		return c, fmt.Errorf("unknown publish rule %d", p.Stream.Publish)
	}
	steps = append(steps, step{"inserting the new rows", insert, &c.Inserted})
	run := func(steps []step) error {
		b := &pgx.Batch{}
		for _, st := range steps {
			stmt, args := bindWindow(st.stmt, p)
			b.Queue(stmt, args...)
		}
		br := tx.SendBatch(ctx, b)
		for _, st := range steps {
			tag, err := br.Exec()
			if err != nil {
				_ = br.Close() // the first error is the one to report
				return fmt.Errorf("%s: %w", st.what, err)
			}
			*st.n = tag.RowsAffected()
		}
		return br.Close()
	}
	// The set-based statements need the staging table's statistics once it is large (an
	// empty-looking table gets a plan that never ends); a small window's is not worth one.
	if staged >= analyzeStagedRows {
		if err := run(steps[:1]); err != nil {
			return c, err
		}
		if staged-duplicates >= analyzeStagedRows {
			if _, err := tx.Exec(ctx, "ANALYZE "+d.stage); err != nil {
				return c, fmt.Errorf("analyzing the staging table: %w", err)
			}
		}
		steps = steps[1:]
	}
	if err := run(steps); err != nil {
		return c, err
	}
	c.Fetched = staged - duplicates
	c.Unchanged = c.Fetched - c.Inserted - c.Updated
	if err := s.windowSucceeded(ctx, tx, p, c); err != nil {
		return c, err
	}
	if err := tx.Commit(ctx); err != nil {
		return c, fmt.Errorf("committing: %w", err)
	}
	return c, nil
}

// analyzeStagedRows is the number of staged rows from which a publish analyzes the staging
// table before its set-based statements.
const analyzeStagedRows = 1000

// streamStage copies p's rows into the staging table and returns how many it copied.
func (s *Store) streamStage(ctx context.Context, tx pgx.Tx, d *streamDef, p *WindowPublishParams) (int64, error) {
	next, stop := iter.Pull2(p.Rows)
	defer stop()
	h := newRowHasher()
	i := 0
	var itemErr error // an item's own error: the COPY's error would only say it was aborted
	src := pgx.CopyFromFunc(func() ([]any, error) {
		r, err, ok := next()
		switch {
		case !ok:
			return nil, nil
		case err != nil:
			itemErr = fmt.Errorf("reading item %d: %w", i, err)
			return nil, itemErr
		}
		row, err := d.streamItem(h, i, p.SubAccountID, &r)
		if err != nil {
			itemErr = err
			return nil, err
		}
		i++
		return row, nil
	})
	n, err := tx.CopyFrom(ctx, pgx.Identifier{d.stage}, d.stageColumns(), src)
	if err != nil {
		if itemErr != nil {
			return 0, itemErr
		}
		return 0, fmt.Errorf("staging the items: %w", oneLineCopyError(err))
	}
	return n, nil
}

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
