// Package migrations holds the goose SQL migrations of the evsync schema, embedded in FS.
//
// The files use unqualified table names: db.MigrateUp runs them with search_path set to the
// target schema (default "engage"), so one set of files serves any schema name.
// Shipped migrations are never edited; add a new NNNNN_verb_noun.sql file instead.
package migrations

import "embed"

// FS holds the goose SQL migration files (NNNNN_verb_noun.sql).
//
//go:embed *.sql
var FS embed.FS
