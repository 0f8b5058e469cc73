// Package sync runs one sync and owns its policy: lock, record, authenticate, fetch with
// bounded concurrency, stage, decide, publish in one transaction, finish the run. It knows
// nothing of HTTP or SQL text.
//
// Runner.Run takes the schema's lock, records the run, and then fetches in phases (one
// function each, each returning what the next needs: accounts and users, agent groups per
// sub-account, agents per group), streaming every page to db's staging and marking each
// scope complete or failed. It then asks the stage for its Plan (per scope: counts, live
// rows, rows missing upstream) and decides it with Policy.Decide: which scopes succeeded,
// failed or are withheld by the mass-delete breaker, which deletes go ahead, and the run's
// status. db publishes exactly that. A run that publishes nothing ends in Runner.fail, the one
// place that records such an end, with StatusOf mapping its error and context to failed or
// canceled.
package sync
