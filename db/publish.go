package db

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/evsync/evsync/internal/entity"
	"github.com/evsync/evsync/internal/oneline"
)

// Publishing is two calls: Plan says what publishing the stage would do, scope by scope; the
// caller (sync, which owns the policy: statuses, the mass-delete breaker) decides each scope;
// Publish carries out exactly those decisions in one transaction and writes the ledger.

// Plan is what publishing a stage would do, before any decision: one ScopePlan per marked
// scope, in publish order (entities parents first, then scopes sorted).
type Plan struct {
	Scopes []ScopePlan
}

// ScopePlan is one marked scope's rows as staged.
type ScopePlan struct {
	Entity   entity.Name
	Scope    string
	Complete bool   // marked with ScopeComplete; otherwise marked with ScopeFail
	Error    string // ScopeFail's error, one line
	// The counts staging found: rows fetched, and how each compares with the table.
	Fetched, Inserted, Updated, Unchanged, Restored int64
	Live                                            int64 // live rows stored before the run
	Missing                                         int64 // live stored rows the run did not see (complete scopes only): the deletes
}

// ScopeDecision is what Publish does with one planned scope.
type ScopeDecision struct {
	Status ScopeStatus // recorded in sync_run_scopes
	Error  string      // recorded in sync_run_scopes; "" for none
	Delete bool        // soft-delete the scope's Missing rows; only for a complete scope
}

// PublishParams are the decisions Publish carries out and the run's final record.
type PublishParams struct {
	// Scopes decides the plan's scopes, one per Plan.Scopes and in its order.
	Scopes []ScopeDecision
	// Status and Error are the run's final record in sync_runs.
	Status RunStatus
	Error  string
	DryRun bool // compute everything, return counts, roll back; no ledger rows
	// Stored on sync_runs.
	APIRequests, TokenRefreshes, Retries, RateLimited int64
	// WholeEntities are the entities whose every scope the run listed (not those scoped per
	// sub-account when the run was restricted to some): only for these, when every one of
	// their scopes also succeeded, are paths that no object carried judged removed.
	WholeEntities []entity.Name
	// Lock, when set, is the run's lock: Publish commits only while its session still holds
	// it, and fails with ErrLockLost otherwise (another run may hold it by then).
	Lock *Lock
}

// PublishResult is what a publish wrote (or, for a dry run, would have written).
type PublishResult struct {
	RunID  int64 // 0 for a dry run
	Status RunStatus
	Error  string
	Scopes []ScopeCounts
	// Fields is what the run observed of each entity's API objects, FieldChanges what it
	// found changed (written to api_field_changes, except by a dry run).
	Fields       []EntityFields
	FieldChanges []FieldChange
}

// ScopeCounts are one scope's counts and how it ended, as recorded in sync_run_scopes.
type ScopeCounts struct {
	Entity                                                   entity.Name
	Scope                                                    string
	Status                                                   ScopeStatus
	Error                                                    string
	Fetched, Inserted, Updated, Unchanged, Deleted, Restored int64
}

// Add adds o's counts to c's; c keeps its entity, scope, status and error.
func (c *ScopeCounts) Add(o ScopeCounts) {
	c.Fetched += o.Fetched
	c.Inserted += o.Inserted
	c.Updated += o.Updated
	c.Unchanged += o.Unchanged
	c.Deleted += o.Deleted
	c.Restored += o.Restored
}

// entityPlan is what Publish does to one entity.
type entityPlan struct {
	e       *stageEntity
	scopes  []string            // marked scopes, sorted
	missing map[string][]rowKey // complete scope -> live stored keys the run did not see
	first   int                 // index of its first scope in Plan.Scopes
	deletes []string            // scopes whose deletes the decisions allow
	wantUpd int64               // updated + restored rows expected
	wantIns int64
	wantDel int64
}

// Plan computes what publishing the stage would do. It fails after a staging error (the run
// is never published from partial staging). It may be called again and returns the same plan.
func (st *Stage) Plan(ctx context.Context) (*Plan, error) {
	st.mu.Lock()
	defer st.mu.Unlock()
	if st.done || st.closed {
		return nil, ErrStageDone
	}
	if st.plan == nil {
		var plan *Plan
		err := st.retry(ctx, func() (err error) {
			plan, err = st.makePlan(ctx) // it reads only: made again after a reconnection
			return err
		})
		if err != nil {
			return nil, fmt.Errorf("publishing run %d: %w", st.runID, err)
		}
		st.plan = plan
	}
	return st.plan, nil
}

func (st *Stage) makePlan(ctx context.Context) (*Plan, error) {
	if err := st.waitRecover(ctx); err != nil && st.err == nil {
		st.err = fmt.Errorf("staging: %w", err)
	}
	if st.err != nil {
		return nil, st.err
	}
	if err := st.step(ctx, "plan"); err != nil {
		return nil, err
	}
	if err := st.checkMarks(); err != nil {
		return nil, err
	}
	plan := &Plan{}
	st.plans = nil
	for _, e := range st.ents {
		pl, err := st.planEntity(ctx, e, plan)
		if err != nil {
			return nil, fmt.Errorf("planning %s: %w", e.def.name, err)
		}
		if pl != nil {
			st.plans = append(st.plans, pl)
		}
	}
	if err := st.loadFields(ctx); err != nil {
		return nil, fmt.Errorf("planning: %w", err)
	}
	return plan, nil
}

// checkMarks refuses scope marks that name no entity or a scope the entity cannot have.
func (st *Stage) checkMarks() error {
	for id := range st.marks {
		d := entityByName(id.entity)
		switch {
		case d == nil:
			return fmt.Errorf("planning: unknown entity %q in a scope mark", id.entity)
		case !d.scoped && id.scope != entity.ScopeAll:
			return fmt.Errorf("planning: %s has only the scope %q, not %q", id.entity, entity.ScopeAll, id.scope)
		case d.scoped && id.scope == "":
			return fmt.Errorf("planning: %s scope must be a sub-account id", id.entity)
		}
	}
	return nil
}

// planEntity appends e's marked scopes to plan; nil when it has none. It loads the stored
// hashes of an entity that has marked scopes but no rows.
func (st *Stage) planEntity(ctx context.Context, e *stageEntity, plan *Plan) (*entityPlan, error) {
	pl := &entityPlan{e: e, missing: map[string][]rowKey{}, first: len(plan.Scopes)}
	for id := range st.marks {
		if id.entity == e.def.name {
			pl.scopes = append(pl.scopes, id.scope)
		}
	}
	if len(pl.scopes) == 0 {
		return nil, nil
	}
	slices.Sort(pl.scopes)
	if err := st.load(ctx, e); err != nil {
		return nil, err
	}
	// Live stored rows of complete scopes that this run did not see.
	for k, en := range e.rows {
		if en.flags&(fStored|fDeleted|fSeen) != fStored {
			continue
		}
		if sc := e.def.scope(k); st.marks[scopeID{e.def.name, sc}].isComplete() {
			pl.missing[sc] = append(pl.missing[sc], k)
		}
	}
	for _, sc := range pl.scopes {
		m := st.marks[scopeID{e.def.name, sc}]
		stat := e.scopes[sc]
		if stat == nil {
			stat = &scopeStat{}
		}
		plan.Scopes = append(plan.Scopes, ScopePlan{Entity: e.def.name, Scope: sc,
			Complete: m.complete, Error: m.err,
			Fetched: stat.fetched, Inserted: stat.inserted, Updated: stat.updated,
			Unchanged: stat.unchanged, Restored: stat.restored,
			Live: stat.live, Missing: int64(len(pl.missing[sc]))})
		pl.wantUpd += stat.updated + stat.restored
		pl.wantIns += stat.inserted
	}
	return pl, nil
}

func (m *scopeMark) isComplete() bool { return m != nil && m.complete }

// Publish carries out the decisions in p on the plan of the last Plan call, in one
// transaction: inserts, updates and restores of changed rows only, the soft deletes of the
// scopes whose decision allows them, history rows, the per-scope records in sync_run_scopes
// and the run's final record in sync_runs. A dry run (p.DryRun, or a stage begun with run id
// 0) computes the same and rolls back, writing no ledger rows. If Publish returns an error,
// the transaction was rolled back and the run is left running: its end is the caller's to
// record (Store.RunFinish).
func (st *Stage) Publish(ctx context.Context, p *PublishParams) (*PublishResult, error) {
	st.mu.Lock()
	defer st.mu.Unlock()
	if st.done || st.closed {
		return nil, ErrStageDone
	}
	st.done = true
	res, err := st.publish(ctx, p)
	if err != nil {
		return nil, fmt.Errorf("publishing run %d: %w", st.runID, err)
	}
	return res, nil
}

func (st *Stage) step(ctx context.Context, name string) error {
	if st.hook == nil {
		return nil
	}
	return st.hook(ctx, name)
}

func (st *Stage) publish(ctx context.Context, p *PublishParams) (*PublishResult, error) {
	if st.plan == nil || p == nil {
		return nil, errors.New("publishing without a plan and its decisions (call Plan first)")
	}
	res, err := st.decide(p)
	if err != nil {
		return nil, err
	}
	dry := p.DryRun || st.runID == 0
	for {
		if st.reconnects > 0 && p.Lock != nil && !dry {
			// The lock's session may have ended with the connections (a restart).
			if err := p.Lock.regain(ctx); err != nil {
				return nil, err
			}
		}
		err := st.publishTx(ctx, p, res, dry)
		if err == nil {
			return res, nil
		}
		if !st.lost(ctx, err) {
			return nil, err
		}
		// The connection was lost under the publish: whether it committed is read back from
		// the ledger before anything is done again.
		if !dry {
			committed, rerr := st.readBack(ctx, res, st.session)
			if rerr != nil {
				return nil, fmt.Errorf("%w (and reading back whether it committed: %w)", err, rerr)
			}
			if committed {
				return res, nil
			}
		}
		if rerr := st.recover(ctx, err); rerr != nil {
			return nil, rerr
		}
	}
}

// publishTx is one attempt at the publish transaction.
func (st *Stage) publishTx(ctx context.Context, p *PublishParams, res *PublishResult, dry bool) error {
	if st.conn == nil {
		return errors.New("no staging connection")
	}
	var tx pgx.Tx
	var err error
	if st.dryTx != nil {
		tx, err = st.dryTx.Begin(ctx) // a savepoint of the dry run's transaction
	} else {
		tx, err = st.conn.Begin(ctx)
	}
	if err != nil {
		return fmt.Errorf("beginning transaction: %w", err)
	}
	defer func() {
		rctx, cancel := st.s.cleanupContext(ctx)
		defer cancel()
		_ = tx.Rollback(rctx) // no-op after a commit
	}()
	var runArg any
	if !dry {
		runArg = st.runID
		if err := st.checkRunning(ctx, tx); err != nil {
			return err
		}
	}
	for _, pl := range st.plans {
		if err := st.apply(ctx, tx, pl, runArg); err != nil {
			return fmt.Errorf("publishing %s: %w", pl.e.def.name, err)
		}
	}
	if !dry {
		if err := st.step(ctx, "fields"); err != nil {
			return err
		}
		if err := st.writeFields(ctx, tx, st.fieldW, runArg); err != nil {
			return err
		}
	}
	if err := st.step(ctx, "ledger"); err != nil {
		return err
	}
	if dry {
		res.RunID = 0
		return nil // the deferred rollback undoes everything
	}
	return st.commit(ctx, tx, p, res)
}

// decide checks the decisions against the plan and returns the result they make; it sets
// each entity plan's allowed deletes.
func (st *Stage) decide(p *PublishParams) (*PublishResult, error) {
	if len(p.Scopes) != len(st.plan.Scopes) {
		return nil, fmt.Errorf("deciding: %d decisions for %d planned scopes", len(p.Scopes), len(st.plan.Scopes))
	}
	if !slices.Contains(RunStatuses(), p.Status) || p.Status == RunRunning {
		return nil, fmt.Errorf("deciding: invalid run status %q", p.Status)
	}
	res := &PublishResult{RunID: st.runID, Status: p.Status, Error: p.Error}
	whole := map[entity.Name]bool{}
	for _, pl := range st.plans {
		whole[pl.e.def.name] = slices.Contains(p.WholeEntities, pl.e.def.name)
		pl.deletes, pl.wantDel = nil, 0
		for i := range pl.scopes {
			sp, dec := st.plan.Scopes[pl.first+i], p.Scopes[pl.first+i]
			if !slices.Contains(ScopeStatuses(), dec.Status) {
				return nil, fmt.Errorf("deciding %s/%s: invalid scope status %q", sp.Entity, sp.Scope, dec.Status)
			}
			if !sp.Complete || dec.Status != ScopeSucceeded {
				whole[sp.Entity] = false
			}
			c := ScopeCounts{Entity: sp.Entity, Scope: sp.Scope, Status: dec.Status, Error: dec.Error,
				Fetched: sp.Fetched, Inserted: sp.Inserted, Updated: sp.Updated,
				Unchanged: sp.Unchanged, Restored: sp.Restored}
			if dec.Delete {
				if !sp.Complete {
					return nil, fmt.Errorf("deciding %s/%s: deletes in a scope that is not complete", sp.Entity, sp.Scope)
				}
				c.Deleted = sp.Missing
				pl.deletes = append(pl.deletes, sp.Scope)
				pl.wantDel += sp.Missing
			}
			res.Scopes = append(res.Scopes, c)
		}
	}
	res.Fields, st.fieldW = st.decideFields(func(n entity.Name) bool { return whole[n] })
	res.FieldChanges = st.fieldW.changes
	return res, nil
}

// checkRunning refuses to publish a run that is no longer recorded as running.
func (st *Stage) checkRunning(ctx context.Context, tx pgx.Tx) error {
	var ok bool
	err := tx.QueryRow(ctx, st.s.sql(`SELECT EXISTS (SELECT 1 FROM {{schema}}.sync_runs WHERE run_id = $1 AND status = $2)`), st.runID, RunRunning).Scan(&ok)
	if err != nil {
		return fmt.Errorf("checking run: %w", err)
	}
	if !ok {
		return fmt.Errorf("checking run: run %d is not running", st.runID)
	}
	return nil
}

// commit writes the ledger and commits tx while the run's lock is still held.
func (st *Stage) commit(ctx context.Context, tx pgx.Tx, p *PublishParams, res *PublishResult) error {
	if err := st.ledgerWrite(ctx, tx, p, res); err != nil {
		return err
	}
	if p.Lock != nil {
		if err := p.Lock.checkHeld(ctx, tx); err != nil {
			return err
		}
	}
	if err := st.step(ctx, "commit"); err != nil {
		return err
	}
	if err := tx.Commit(ctx); err != nil {
		return fmt.Errorf("committing: %w", err)
	}
	return st.step(ctx, "committed")
}

// apply runs one entity's statements inside tx, each checking the rows it affected.
func (st *Stage) apply(ctx context.Context, tx pgx.Tx, pl *entityPlan, run any) error {
	for _, stmt := range []func(context.Context, pgx.Tx, *entityPlan, any) error{
		st.dropUnmarked, st.analyzeStaging, st.updateRows, st.insertRows, st.insertHistory, st.softDelete,
	} {
		if err := stmt(ctx, tx, pl, run); err != nil {
			return err
		}
	}
	return st.step(ctx, string(pl.e.def.name)+":done")
}

// expectRows fails when a statement affected other than want rows.
func expectRows(tag pgconn.CommandTag, want int64, format string) error {
	if got := tag.RowsAffected(); got != want {
		return fmt.Errorf(format, got, want)
	}
	return nil
}

// dropUnmarked deletes the staged rows of scopes that were not marked: they do not publish.
func (st *Stage) dropUnmarked(ctx context.Context, tx pgx.Tx, pl *entityPlan, _ any) error {
	if pl.e.stagedN == 0 {
		return nil
	}
	unmarked := false
	for sc, stat := range pl.e.scopes {
		if stat.staged > 0 && st.marks[scopeID{pl.e.def.name, sc}] == nil {
			unmarked = true
		}
	}
	if !unmarked {
		return nil
	}
	var args []any
	if pl.e.def.scoped {
		args = append(args, pl.scopes)
	}
	if _, err := tx.Exec(ctx, st.s.ents[pl.e.def.idx].dropUnmarked, args...); err != nil {
		return fmt.Errorf("dropping unmarked scopes: %w", err)
	}
	return nil
}

// analyzeStaging gives the planner the staging table's statistics before the update.
func (st *Stage) analyzeStaging(ctx context.Context, tx pgx.Tx, pl *entityPlan, _ any) error {
	if pl.wantUpd == 0 {
		return nil
	}
	if err := st.step(ctx, string(pl.e.def.name)+":analyze"); err != nil {
		return err
	}
	if _, err := tx.Exec(ctx, st.s.ents[pl.e.def.idx].analyzeStaging); err != nil {
		return fmt.Errorf("analyzing staging: %w", err)
	}
	return nil
}

// updateRows updates the changed and restored rows and their history.
func (st *Stage) updateRows(ctx context.Context, tx pgx.Tx, pl *entityPlan, run any) error {
	if pl.wantUpd == 0 {
		return nil
	}
	if err := st.step(ctx, string(pl.e.def.name)+":update"); err != nil {
		return err
	}
	tag, err := tx.Exec(ctx, st.s.ents[pl.e.def.idx].update, run)
	if err != nil {
		return fmt.Errorf("updating rows: %w", err)
	}
	return expectRows(tag, pl.wantUpd, "updating rows: %d updated, expected %d (table changed during the run?)")
}

// insertRows inserts the new rows.
func (st *Stage) insertRows(ctx context.Context, tx pgx.Tx, pl *entityPlan, run any) error {
	if pl.wantIns == 0 {
		return nil
	}
	if err := st.step(ctx, string(pl.e.def.name)+":insert"); err != nil {
		return err
	}
	tag, err := tx.Exec(ctx, st.s.ents[pl.e.def.idx].insert, run)
	if err != nil {
		return fmt.Errorf("inserting rows: %w", err)
	}
	return expectRows(tag, pl.wantIns, "inserting rows: %d inserted, expected %d")
}

// insertHistory records the inserted rows' history.
func (st *Stage) insertHistory(ctx context.Context, tx pgx.Tx, pl *entityPlan, run any) error {
	if pl.wantIns == 0 {
		return nil
	}
	tag, err := tx.Exec(ctx, st.s.ents[pl.e.def.idx].insertHistory, run)
	if err != nil {
		return fmt.Errorf("recording inserted rows: %w", err)
	}
	return expectRows(tag, pl.wantIns, "recording inserted rows: %d history rows, expected %d")
}

// softDelete copies the keys to delete into del_<entity> and soft-deletes them.
func (st *Stage) softDelete(ctx context.Context, tx pgx.Tx, pl *entityPlan, run any) error {
	if pl.wantDel == 0 {
		return nil
	}
	d, stmts := pl.e.def, st.s.ents[pl.e.def.idx]
	if err := st.step(ctx, string(d.name)+":delete"); err != nil {
		return err
	}
	if _, err := tx.Exec(ctx, stmts.createDeletes); err != nil {
		return fmt.Errorf("creating delete table: %w", err)
	}
	keys := make([][]any, 0, pl.wantDel)
	for _, sc := range pl.deletes {
		for _, k := range pl.missing[sc] {
			keys = append(keys, d.keyArgs(k))
		}
	}
	if _, err := tx.CopyFrom(ctx, pgx.Identifier{d.deletesTable()}, d.keyCols, pgx.CopyFromRows(keys)); err != nil {
		return fmt.Errorf("copying deleted keys: %w", err)
	}
	if _, err := tx.Exec(ctx, stmts.analyzeDeletes); err != nil {
		return fmt.Errorf("analyzing delete table: %w", err)
	}
	tag, err := tx.Exec(ctx, stmts.softDelete, run)
	if err != nil {
		return fmt.Errorf("soft-deleting rows: %w", err)
	}
	if err := expectRows(tag, pl.wantDel, "soft-deleting rows: %d deleted, expected %d (table changed during the run?)"); err != nil {
		return err
	}
	if _, err := tx.Exec(ctx, stmts.dropDeletes); err != nil {
		return fmt.Errorf("dropping delete table: %w", err)
	}
	return nil
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
		rows = append(rows, []any{st.runID, string(c.Entity), c.Scope, string(c.Status), errText,
			c.Fetched, c.Inserted, c.Updated, c.Unchanged, c.Deleted, c.Restored})
		tot.Add(c)
	}
	if _, err := tx.CopyFrom(ctx, pgx.Identifier{st.s.schema, "sync_run_scopes"},
		[]string{"run_id", "entity", "scope", "status", "error", "fetched", "inserted", "updated", "unchanged", "deleted", "restored"},
		pgx.CopyFromRows(rows)); err != nil {
		return fmt.Errorf("recording scope counts: %w", err)
	}
	_, err := tx.Exec(ctx, st.s.sql(`
UPDATE {{schema}}.sync_runs SET status = $2, error = NULLIF($3, ''), finished_at = clock_timestamp(),
       api_requests = $4, token_refreshes = $5, retries = $6, rate_limited = $7,
       fetched = $8, inserted = $9, updated = $10, unchanged = $11, deleted = $12, restored = $13
WHERE run_id = $1`), st.runID, string(res.Status), oneline.Of(res.Error, oneline.Stored), p.APIRequests, p.TokenRefreshes, p.Retries, p.RateLimited,
		tot.Fetched, tot.Inserted, tot.Updated, tot.Unchanged, tot.Deleted, tot.Restored)
	if err != nil {
		return fmt.Errorf("recording run: %w", err)
	}
	return nil
}
