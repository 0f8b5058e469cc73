// Package db is the Postgres sink: pool, embedded migrations, streamed staging (COPY),
// one-transaction publish with soft deletes and history, the run ledger and the advisory lock.
// It knows nothing of HTTP, and it decides nothing: which scopes are complete, which deletes
// go ahead and every status are handed to it (by sync), and it carries them out.
//
// A run uses it in this order (docs/schema.md, "How a run publishes"):
//
//	lock, err := store.LockTake(ctx)             // ErrLocked: another run holds the schema
//	<-lock.Lost()                                // the lock's session died: stop the run
//	closed, err := store.RunCloseAbandoned(ctx, known) // rows left 'running' by dead processes
//	runID, err := store.RunCreate(ctx, db.TriggerManual) // sync_runs row, status 'running'
//	st, err := store.StageBegin(ctx, runID)      // one dedicated connection
//	st.Add(ctx, entity.Agents, source, rows)     // as pages arrive, from any goroutine
//	st.ScopeComplete(entity.Agents, subID)       // or ScopeFail(entity, scope, err)
//	plan, err := st.Plan(ctx)                    // per scope: counts, live and missing rows
//	res, err := st.Publish(ctx, &db.PublishParams{Scopes: decisions, Status: ..., Lock: lock})
//	                                             // commits only while locked; on an error the
//	store.RunFinish(ctx, ...)                    // caller records the run's end
//	st.Close(); lock.Release()
//
// A connection lost mid-run (a database restart) is re-established with backoff within the
// run's context: the stage rebuilds its temporary tables from a local spool of what it staged,
// a publish first reads back from sync_runs whether it committed, and a run whose lock's
// session ended with the connections takes the lock again, or fails with ErrLockLost.
//
// Every entity is staged and published from its description (internal/entity): its table, key
// (a text part and up to two bigint parts), typed columns and scope rule; a Row carries the key
// parts and the typed values in the description's column order.
//
// Staging compares before it sends: the first Add of an entity reads the stored (key,
// row_hash, deleted) of that table; each incoming row is scrubbed of secret-bearing keys
// (internal/secretjson.Scrub), hashed (SHA-256 over its typed values and scrubbed raw) and
// only new, changed or restored rows are COPY'd, with all their data, into a temporary table. Go memory is one
// page plus one small entry per stored key. Publish then runs a few set-based statements in
// one transaction (their text is in sqltext.go, rendered per entity into
// testdata/sql_<entity>.golden): UPDATE … FROM staging for changed and restored rows, INSERT … SELECT for
// new ones, and a soft delete of the keys the run did not see in its complete scopes (the
// anti-join is done in Go against the keys it read). A no-op run therefore writes no entity
// row versions and no history.
//
// History: <entity>_history has one row per version (change insert/update/delete/restore,
// changed_columns = the table columns whose values differ, raw included). The current version
// (valid_to IS NULL) keeps raw NULL: its object is the entity row's raw, and is copied into
// the history row when the version is superseded. So each object is stored once.
//
// The data dictionary: Relations describes every table and view the migrations create, column
// by column (catalog.go: what each holds, from the entity descriptions and db's own text), for
// `syncer tables`; CommentsSQL renders it as the schema's comments, which the migrations set.
package db
