package db

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/jackc/pgx/v5"
)

// MaxDeleteFractionDefault is the mass-delete breaker's threshold when none is given.
const MaxDeleteFractionDefault = 0.5

// PublishParams configure Stage.Publish.
type PublishParams struct {
	// Problems are failures of the run that belong to no scope (one line each): they make the
	// run partial, or failed when no scope succeeded.
	Problems          []string
	DryRun            bool    // compute everything, return counts, roll back; no ledger rows
	AllowMassDelete   bool    // apply deletes even when a scope trips the breaker
	MaxDeleteFraction float64 // a scope losing more than this fraction of its live rows is withheld; default 0.5
	// Stored on sync_runs.
	APIRequests, TokenRefreshes, Retries, RateLimited int64
	// Lock, when set, is the run's lock: Publish commits only while its session still holds
	// it, and fails with ErrLockLost otherwise (another run may hold it by then).
	Lock *Lock
}

// PublishResult is what a publish wrote (or, for a dry run, would have written).
type PublishResult struct {
	RunID  int64  // 0 for a dry run
	Status string // "succeeded" | "partial" | "failed" (every scope failed)
	Error  string // failed scopes and withheld mass deletes, one line; "" when succeeded
	Scopes []ScopeCounts
}

// ScopeCounts are one scope's counts. Status is "succeeded" (complete, deletes applied),
// "failed" (rows published, no deletes) or "withheld" (complete, but its deletes tripped the
// mass-delete breaker and were not applied).
type ScopeCounts struct {
	Entity, Scope, Status, Error                             string
	Fetched, Inserted, Updated, Unchanged, Deleted, Restored int64
}

// Scope statuses of ScopeCounts.
const (
	ScopeSucceeded = "succeeded"
	ScopeFailed    = "failed"
	ScopeWithheld  = "withheld"
)

// Run statuses.
const (
	RunRunning   = "running"
	RunSucceeded = "succeeded"
	RunPartial   = "partial"
	RunFailed    = "failed"
	RunCanceled  = "canceled"
)

// entityPlan is what Publish does to one entity.
type entityPlan struct {
	e        *stageEntity
	scopes   []string            // marked scopes, sorted
	deletes  map[string][]rowKey // complete, not withheld scope -> keys to soft-delete
	withheld map[string]string   // scope -> breaker message
	wantUpd  int64               // updated + restored rows expected
	wantIns  int64
	wantDel  int64
}

// Publish merges the staged rows of the marked scopes into the entity tables in one
// transaction: inserts, updates and restores of changed rows only, soft deletes for complete
// scopes (guarded by the mass-delete breaker), history rows, the per-scope counts in
// sync_run_scopes and the run's final record in sync_runs. A dry run (p.DryRun, or a stage
// begun with run id 0) computes the same and rolls back, writing no ledger rows.
//
// If Publish returns an error, the transaction was rolled back and (unless dry) the run was
// finished as failed, or canceled when ctx was canceled (a deadline counts as failed), both
// bounded by the store's cleanup timeout rather than ctx.
func (st *Stage) Publish(ctx context.Context, p *PublishParams) (*PublishResult, error) {
	if p == nil {
		p = &PublishParams{}
	}
	st.mu.Lock()
	defer st.mu.Unlock()
	if st.done || st.closed {
		return nil, ErrStageDone
	}
	st.done = true
	dry := p.DryRun || st.runID == 0
	res, err := st.publish(ctx, p, dry)
	if err == nil {
		return res, nil
	}
	err = fmt.Errorf("publishing run %d: %w", st.runID, err)
	if !dry {
		status := RunFailed
		if errors.Is(ctx.Err(), context.Canceled) || errors.Is(err, context.Canceled) {
			status = RunCanceled // a stop request; a deadline (the run's timeout) is a failure
		}
		ferr := st.s.RunFinish(ctx, &RunFinishParams{ // bounded by the cleanup timeout, not ctx
			RunID: st.runID, Status: status, Error: err.Error(),
			APIRequests: p.APIRequests, TokenRefreshes: p.TokenRefreshes, Retries: p.Retries, RateLimited: p.RateLimited,
		})
		if ferr != nil {
			err = errors.Join(err, ferr)
		}
	}
	return nil, err
}

func (st *Stage) step(ctx context.Context, name string) error {
	if st.hook == nil {
		return nil
	}
	return st.hook(ctx, name)
}

func (st *Stage) publish(ctx context.Context, p *PublishParams, dry bool) (*PublishResult, error) {
	if err := st.wait(); err != nil && st.err == nil {
		st.err = fmt.Errorf("staging: %w", err)
	}
	if st.err != nil {
		return nil, st.err
	}
	frac := p.MaxDeleteFraction
	if frac <= 0 {
		frac = MaxDeleteFractionDefault
	}
	if err := st.step(ctx, "plan"); err != nil {
		return nil, err
	}
	plans, res, err := st.plan(ctx, p, frac)
	if err != nil {
		return nil, err
	}
	res.RunID = st.runID
	if dry {
		res.RunID = 0
	}

	tx, err := st.conn.Begin(ctx)
	if err != nil {
		return nil, fmt.Errorf("beginning transaction: %w", err)
	}
	defer func() {
		rctx, cancel := st.s.cleanupContext(ctx)
		defer cancel()
		_ = tx.Rollback(rctx) // no-op after a commit
	}()
	var runArg any
	if !dry {
		runArg = st.runID
		var ok bool
		err := tx.QueryRow(ctx, st.s.sql(`SELECT EXISTS (SELECT 1 FROM {s}.sync_runs WHERE run_id = $1 AND status = 'running')`), st.runID).Scan(&ok)
		if err != nil {
			return nil, fmt.Errorf("checking run: %w", err)
		}
		if !ok {
			return nil, fmt.Errorf("checking run: run %d is not running", st.runID)
		}
	}
	for _, pl := range plans {
		if err := st.apply(ctx, tx, pl, runArg); err != nil {
			return nil, fmt.Errorf("publishing %s: %w", pl.e.def.name, err)
		}
	}
	if err := st.step(ctx, "ledger"); err != nil {
		return nil, err
	}
	if dry {
		return res, nil // the deferred rollback undoes everything
	}
	if err := st.ledgerWrite(ctx, tx, p, res); err != nil {
		return nil, err
	}
	if p.Lock != nil {
		if err := p.Lock.checkHeld(ctx, tx); err != nil {
			return nil, err
		}
	}
	if err := st.step(ctx, "commit"); err != nil {
		return nil, err
	}
	if err := tx.Commit(ctx); err != nil {
		return nil, fmt.Errorf("committing: %w", err)
	}
	if err := st.step(ctx, "committed"); err != nil {
		return nil, err
	}
	return res, nil
}

// plan decides, per entity, which scopes publish and which rows to delete, and builds the
// result counts. It loads the stored hashes of entities that have marked scopes but no rows.
func (st *Stage) plan(ctx context.Context, p *PublishParams, frac float64) ([]*entityPlan, *PublishResult, error) {
	res := &PublishResult{Status: RunSucceeded}
	for id := range st.marks {
		d := entityByName(id.entity)
		switch {
		case d == nil:
			return nil, nil, fmt.Errorf("planning: unknown entity %q in a scope mark", id.entity)
		case !d.scoped && id.scope != ScopeAll:
			return nil, nil, fmt.Errorf("planning: %s has only the scope %q, not %q", id.entity, ScopeAll, id.scope)
		case d.scoped && id.scope == "":
			return nil, nil, fmt.Errorf("planning: %s scope must be a sub-account id", id.entity)
		}
	}
	var problems []string
	var plans []*entityPlan
	for _, e := range st.ents {
		pl := &entityPlan{e: e, deletes: map[string][]rowKey{}, withheld: map[string]string{}}
		for id := range st.marks {
			if id.entity == e.def.name {
				pl.scopes = append(pl.scopes, id.scope)
			}
		}
		if len(pl.scopes) == 0 {
			continue
		}
		slices.Sort(pl.scopes)
		if err := st.load(ctx, e); err != nil {
			return nil, nil, fmt.Errorf("planning %s: %w", e.def.name, err)
		}
		complete := map[string]bool{}
		for _, sc := range pl.scopes {
			if st.marks[scopeID{e.def.name, sc}].complete {
				complete[sc] = true
			}
		}
		// Live stored rows of complete scopes that this run did not see.
		for k, en := range e.rows {
			if en.flags&(fStored|fDeleted|fSeen) != fStored {
				continue
			}
			sc := e.def.scope(k)
			if complete[sc] {
				pl.deletes[sc] = append(pl.deletes[sc], k)
			}
		}
		for _, sc := range pl.scopes {
			m := st.marks[scopeID{e.def.name, sc}]
			stat := e.scopes[sc]
			if stat == nil {
				stat = &scopeStat{}
			}
			c := ScopeCounts{Entity: e.def.name, Scope: sc, Status: ScopeSucceeded,
				Fetched: stat.fetched, Inserted: stat.inserted, Updated: stat.updated,
				Unchanged: stat.unchanged, Restored: stat.restored}
			del := int64(len(pl.deletes[sc]))
			switch {
			case m.failed:
				c.Status, c.Error = ScopeFailed, m.err
				problems = append(problems, fmt.Sprintf("%s/%s failed: %s", e.def.name, sc, m.err))
			case del > 0 && float64(del) > frac*float64(stat.live) && !p.AllowMassDelete:
				c.Status = ScopeWithheld
				c.Error = fmt.Sprintf("deletes withheld: %d of %d live rows missing upstream (more than %g); rerun with --allow-mass-delete to apply them",
					del, stat.live, frac)
				problems = append(problems, fmt.Sprintf("%s/%s %s", e.def.name, sc, c.Error))
				delete(pl.deletes, sc)
			default:
				c.Deleted = del
				pl.wantDel += del
			}
			pl.wantUpd += stat.updated + stat.restored
			pl.wantIns += stat.inserted
			res.Scopes = append(res.Scopes, c)
		}
		plans = append(plans, pl)
	}
	problems = append(problems, p.Problems...)
	if len(problems) > 0 {
		res.Status = RunPartial
		res.Error = oneLine(strings.Join(problems, "; "))
		// A run in which every scope failed is failed, not partial (DESIGN.md).
		if !slices.ContainsFunc(res.Scopes, func(c ScopeCounts) bool { return c.Status != ScopeFailed }) {
			res.Status = RunFailed
		}
	}
	return plans, res, nil
}

// apply runs one entity's statements inside tx.
func (st *Stage) apply(ctx context.Context, tx pgx.Tx, pl *entityPlan, runArg any) error {
	d := pl.e.def
	stg := "stg_" + d.name
	if pl.e.stagedN > 0 {
		// Rows staged for scopes that were not marked do not publish.
		var unmarked bool
		for sc, stat := range pl.e.scopes {
			if stat.staged > 0 && st.marks[scopeID{d.name, sc}] == nil {
				unmarked = true
			}
		}
		if unmarked {
			var err error
			if d.scoped {
				_, err = tx.Exec(ctx, fmt.Sprintf("DELETE FROM %s WHERE NOT (%s = ANY($1::text[]))", stg, d.keyS), pl.scopes)
			} else {
				_, err = tx.Exec(ctx, "DELETE FROM "+stg)
			}
			if err != nil {
				return fmt.Errorf("dropping unmarked scopes: %w", err)
			}
		}
	}
	if pl.wantUpd > 0 {
		// The update joins staging to the table: give the planner the staging table's real
		// size and key statistics (the wide raw column is left out: sampling it is slow and
		// no plan depends on it). The inserts read staging sequentially and need none.
		if err := st.step(ctx, d.name+":analyze"); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, fmt.Sprintf("ANALYZE %s (%s, op)", stg, strings.Join(d.keyCols, ", "))); err != nil {
			return fmt.Errorf("analyzing staging: %w", err)
		}
	}
	if pl.wantUpd > 0 {
		if err := st.step(ctx, d.name+":update"); err != nil {
			return err
		}
		tag, err := tx.Exec(ctx, st.updateSQL(d), runArg)
		if err != nil {
			return fmt.Errorf("updating rows: %w", err)
		}
		if tag.RowsAffected() != pl.wantUpd {
			return fmt.Errorf("updating rows: %d updated, expected %d (table changed during the run?)", tag.RowsAffected(), pl.wantUpd)
		}
	}
	if pl.wantIns > 0 {
		if err := st.step(ctx, d.name+":insert"); err != nil {
			return err
		}
		tag, err := tx.Exec(ctx, st.insertSQL(d), runArg)
		if err != nil {
			return fmt.Errorf("inserting rows: %w", err)
		}
		if tag.RowsAffected() != pl.wantIns {
			return fmt.Errorf("inserting rows: %d inserted, expected %d", tag.RowsAffected(), pl.wantIns)
		}
		if tag, err = tx.Exec(ctx, st.insertHistorySQL(d), runArg); err != nil {
			return fmt.Errorf("recording inserted rows: %w", err)
		}
		if tag.RowsAffected() != pl.wantIns {
			return fmt.Errorf("recording inserted rows: %d history rows, expected %d", tag.RowsAffected(), pl.wantIns)
		}
	}
	if pl.wantDel > 0 {
		if err := st.step(ctx, d.name+":delete"); err != nil {
			return err
		}
		del := "del_" + d.name
		if _, err := tx.Exec(ctx, fmt.Sprintf("CREATE TEMP TABLE %s AS SELECT %s FROM %s.%s WITH NO DATA",
			del, strings.Join(d.keyCols, ", "), st.s.q, d.name)); err != nil {
			return fmt.Errorf("creating delete table: %w", err)
		}
		keys := make([][]any, 0, pl.wantDel)
		for _, ks := range pl.deletes {
			for _, k := range ks {
				switch {
				case d.keyS != "" && d.keyN != "":
					keys = append(keys, []any{k.s, k.n})
				case d.keyS != "":
					keys = append(keys, []any{k.s})
				default:
					keys = append(keys, []any{k.n})
				}
			}
		}
		if _, err := tx.CopyFrom(ctx, pgx.Identifier{del}, d.keyCols, pgx.CopyFromRows(keys)); err != nil {
			return fmt.Errorf("copying deleted keys: %w", err)
		}
		if _, err := tx.Exec(ctx, fmt.Sprintf("ANALYZE %s (%s)", del, strings.Join(d.keyCols, ", "))); err != nil {
			return fmt.Errorf("analyzing delete table: %w", err)
		}
		tag, err := tx.Exec(ctx, st.deleteSQL(d), runArg)
		if err != nil {
			return fmt.Errorf("soft-deleting rows: %w", err)
		}
		if tag.RowsAffected() != pl.wantDel {
			return fmt.Errorf("soft-deleting rows: %d deleted, expected %d (table changed during the run?)", tag.RowsAffected(), pl.wantDel)
		}
		if _, err := tx.Exec(ctx, "DROP TABLE "+del); err != nil {
			return fmt.Errorf("dropping delete table: %w", err)
		}
	}
	if err := st.step(ctx, d.name+":done"); err != nil {
		return err
	}
	return nil
}

// keyJoin renders "a.k1 = b.k1 AND a.k2 = b.k2".
func (d *entityDef) keyJoin(a, b string) string {
	parts := make([]string, len(d.keyCols))
	for i, c := range d.keyCols {
		parts[i] = fmt.Sprintf("%s.%s = %s.%s", a, c, b, c)
	}
	return strings.Join(parts, " AND ")
}

func prefixed(p string, cols []string) string {
	out := make([]string, len(cols))
	for i, c := range cols {
		out[i] = p + "." + c
	}
	return strings.Join(out, ", ")
}

// updateSQL updates changed and restored rows ($1 = run id or NULL), closes their current
// history rows and adds new ones with the changed column names.
func (st *Stage) updateSQL(d *entityDef) string {
	var diff, set []string
	for _, c := range append(slices.Clone(d.cols), "raw") {
		diff = append(diff, fmt.Sprintf("CASE WHEN t.%[1]s IS DISTINCT FROM s.%[1]s THEN '%[1]s' END", c))
		set = append(set, fmt.Sprintf("%[1]s = d.%[1]s", c))
	}
	diff = append(diff, "CASE WHEN t.deleted_at IS NOT NULL THEN 'deleted_at' END")
	keys := strings.Join(d.keyCols, ", ")
	return fmt.Sprintf(`
WITH d AS MATERIALIZED (
  SELECT s.*, t.deleted_at AS old_deleted_at, t.raw AS old_raw, array_remove(ARRAY[%[1]s], NULL) AS cc
  FROM stg_%[2]s s JOIN %[3]s.%[2]s t ON %[4]s
  WHERE s.op <> 'i'
), closed AS (
  UPDATE %[3]s.%[2]s_history h SET valid_to = now(), raw = d.old_raw FROM d WHERE %[5]s AND h.valid_to IS NULL
), hist AS (
  INSERT INTO %[3]s.%[2]s_history (%[6]s, valid_from, change, changed_columns, run_id)
  SELECT %[7]s, now(), CASE WHEN d.old_deleted_at IS NULL THEN 'update' ELSE 'restore' END, d.cc, $1 FROM d
)
UPDATE %[3]s.%[2]s t SET %[8]s, row_hash = d.row_hash, deleted_at = NULL, last_changed_at = now(), last_run_id = $1
FROM d WHERE %[9]s`,
		strings.Join(diff, ", "), d.name, st.s.q, d.keyJoin("t", "s"), d.keyJoin("h", "d"),
		keys, prefixed("d", d.keyCols), strings.Join(set, ", "), d.keyJoin("t", "d"))
}

// insertSQL inserts the new rows ($1 = run id or NULL); its row count is the rows inserted.
// A key that appeared since the stage read the table fails the statement (and the publish).
func (st *Stage) insertSQL(d *entityDef) string {
	cols := strings.Join(append(slices.Clone(d.keyCols), d.cols...), ", ")
	return fmt.Sprintf(`
INSERT INTO %[1]s.%[2]s (%[3]s, raw, row_hash, first_seen_at, last_changed_at, last_run_id)
SELECT %[3]s, raw, row_hash, now(), now(), $1 FROM stg_%[2]s WHERE op = 'i'`, st.s.q, d.name, cols)
}

// insertHistorySQL adds the history rows of the rows insertSQL inserted. (A separate
// statement reading staging again is about three times cheaper than INSERT … RETURNING
// feeding a second INSERT.)
func (st *Stage) insertHistorySQL(d *entityDef) string {
	keys := strings.Join(d.keyCols, ", ")
	return fmt.Sprintf(`
INSERT INTO %[1]s.%[2]s_history (%[3]s, valid_from, change, changed_columns, run_id)
SELECT %[3]s, now(), 'insert', '{}', $1 FROM stg_%[2]s WHERE op = 'i'`, st.s.q, d.name, keys)
}

// deleteSQL soft-deletes the keys in del_<entity>; its row count is the rows deleted.
func (st *Stage) deleteSQL(d *entityDef) string {
	keys := strings.Join(d.keyCols, ", ")
	return fmt.Sprintf(`
WITH del AS (
  UPDATE %[1]s.%[2]s t SET deleted_at = now(), last_changed_at = now(), last_run_id = $1
  FROM del_%[2]s k WHERE %[3]s AND t.deleted_at IS NULL
  RETURNING %[4]s, t.raw
), closed AS (
  UPDATE %[1]s.%[2]s_history h SET valid_to = now(), raw = del.raw FROM del WHERE %[5]s AND h.valid_to IS NULL
)
INSERT INTO %[1]s.%[2]s_history (%[6]s, valid_from, change, changed_columns, run_id)
SELECT %[6]s, now(), 'delete', '{deleted_at}', $1 FROM del`,
		st.s.q, d.name, d.keyJoin("t", "k"), prefixed("t", d.keyCols), d.keyJoin("h", "del"), keys)
}

// ledgerWrite records the per-scope counts and the run's final record inside tx.
func (st *Stage) ledgerWrite(ctx context.Context, tx pgx.Tx, p *PublishParams, res *PublishResult) error {
	rows := make([][]any, 0, len(res.Scopes))
	var tot ScopeCounts
	for _, c := range res.Scopes {
		var errText *string
		if c.Error != "" {
			errText = &c.Error
		}
		rows = append(rows, []any{st.runID, c.Entity, c.Scope, c.Status, errText,
			c.Fetched, c.Inserted, c.Updated, c.Unchanged, c.Deleted, c.Restored})
		tot.Fetched += c.Fetched
		tot.Inserted += c.Inserted
		tot.Updated += c.Updated
		tot.Unchanged += c.Unchanged
		tot.Deleted += c.Deleted
		tot.Restored += c.Restored
	}
	if _, err := tx.CopyFrom(ctx, pgx.Identifier{st.s.schema, "sync_run_scopes"},
		[]string{"run_id", "entity", "scope", "status", "error", "fetched", "inserted", "updated", "unchanged", "deleted", "restored"},
		pgx.CopyFromRows(rows)); err != nil {
		return fmt.Errorf("recording scope counts: %w", err)
	}
	_, err := tx.Exec(ctx, st.s.sql(`
UPDATE {s}.sync_runs SET status = $2, error = NULLIF($3, ''), finished_at = clock_timestamp(),
       api_requests = $4, token_refreshes = $5, retries = $6, rate_limited = $7,
       fetched = $8, inserted = $9, updated = $10, unchanged = $11, deleted = $12, restored = $13
WHERE run_id = $1`), st.runID, res.Status, res.Error, p.APIRequests, p.TokenRefreshes, p.Retries, p.RateLimited,
		tot.Fetched, tot.Inserted, tot.Updated, tot.Unchanged, tot.Deleted, tot.Restored)
	if err != nil {
		return fmt.Errorf("recording run: %w", err)
	}
	return nil
}
