// Package db is the Postgres sink: pool, embedded migrations, streamed staging (COPY),
// one-transaction publish with soft deletes and history, the run ledger and the advisory lock.
// It knows nothing of HTTP.
package db
