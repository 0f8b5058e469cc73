// Package migrations holds the goose SQL migrations of the evsync schema, embedded in FS.
//
// The files use unqualified table names: db.MigrateUp runs them with search_path set to the
// target schema (default "engage"), so one set of files serves any schema name.
// Shipped migrations are never edited (shipped_test.go holds them to their sums); add a new
// NNNNN_verb_noun.sql file instead. The SQL that lists every entity (the view entity_freshness,
// the ledger's entity checks) is rendered from internal/entity, and the comments of every table,
// view and column from db.Relations: a change to either gets its migration from
// `go run ./internal/tools/genmigration <verb_noun>`.
//
// The header comments of 00003–00005 cite the design notes of the time, which the
// repository does not hold; being shipped, they stay as they are. What they refer to is in
// docs/schema.md (freshness, the configuration entities, api_fields).
package migrations

import "embed"

// FS holds the goose SQL migration files (NNNNN_verb_noun.sql).
//
//go:embed *.sql
var FS embed.FS
