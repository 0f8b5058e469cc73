// Package sync runs one sync and owns its policy: lock, record, authenticate, fetch with
// bounded concurrency, stage, decide, publish in one transaction, finish the run. It knows
// nothing of HTTP or SQL text.
//
// Runner.Run takes the schema's lock, records the run, and then fetches: the accounts and users
// listings first, then the listings below the accounts listing as the tree the entity
// descriptions name (internal/entity; listings.go), level by level: per sub-account its agent
// groups, queue groups and dial groups, then per item of those its agents, skills and assigned
// agents. It streams every page to db's staging and marks each scope complete or failed. It then asks the stage for its Plan (per scope: counts, live
// rows, rows missing upstream) and decides it with Policy.Decide: which scopes succeeded,
// failed or are withheld by the mass-delete breaker, which deletes go ahead, and the run's
// status. db publishes exactly that. A run that publishes nothing ends in Runner.fail, the one
// place that records such an end, with StatusOf mapping its error and context to failed or
// canceled; an end it cannot record (its database away) leaves its error for the next run of
// the schema, which records it on the row it closes ("abandoned: <error>"). A database blip
// mid-run is db's to mend (reconnect, restage from its spool, read a lost publish back).
package sync
