// Package sync runs one sync: lock, record, authenticate, fetch with bounded concurrency, stage,
// publish in one transaction, finish the run. It knows nothing of HTTP or SQL text.
package sync
