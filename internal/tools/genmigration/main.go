// Command genmigration writes the next migration of a change to the entity registry
// (internal/entity) or to the schema's data dictionary (db.Relations): the SQL that lists
// every entity (the view entity_freshness and the CHECK constraints on the ledger's entity
// columns) and the comments of every table, view and column, rendered by db from the registry.
//
//	go run ./internal/tools/genmigration [-dir migrations] <verb_noun>
//
// writes <dir>/NNNNN_<verb_noun>.sql, NNNNN being one more than the newest migration there. Its
// Up section renders the SQL from the registry as it is; its Down section renders it from the
// registry as of the migration before (entity.AsOf), with the checks NOT VALID when entities go
// (their rows stay in the ledger; a stream's scopes are deleted, as its table is dropped).
// Comments are not versioned: a Down leaves the current text on the relations that stay (they
// describe, they hold nothing), except that rolling back the migration that first set them
// (db.CommentsSince) clears them. A new entity's description says Since: NNNNN; its tables
// (CREATE TABLE in Up, before the view that reads them; DROP TABLE in Down, after it) are
// written into the new file by hand. A new stream's (internal/entity's Streams, Since: NNNNN)
// table is rendered from its description (db.StreamTableSQL) at the top of Up and dropped at
// the end of Down; its indexes are written in by hand. A change to the scope statuses
// (db.ScopeStatusesAsOf) replaces the check of sync_run_scopes.status. Shipped migrations are
// never edited: a change to the registry gets a new file.
package main

import (
	"errors"
	"flag"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/evsync/evsync/db"
	"github.com/evsync/evsync/internal/entity"
)

func main() {
	dir := flag.String("dir", "migrations", "the migrations directory")
	flag.Usage = func() {
		_, _ = fmt.Fprintln(flag.CommandLine.Output(), "usage: genmigration [-dir migrations] <verb_noun>") // usage goes to stderr; nothing to do if it fails
		flag.PrintDefaults()
	}
	flag.Parse()
	if flag.NArg() != 1 {
		flag.Usage()
		os.Exit(2)
	}
	path, err := generate(*dir, flag.Arg(0), entity.All(), entity.Streams())
	if err != nil {
		fmt.Fprintln(os.Stderr, "genmigration:", err)
		os.Exit(1)
	}
	if _, err := fmt.Fprintln(os.Stdout, path); err != nil {
		os.Exit(1) // the file is written; only its name was lost
	}
}

// slugRE is a migration's verb_noun.
var slugRE = regexp.MustCompile(`^[a-z][a-z0-9]*(_[a-z0-9]+)*$`)

// migrationRE is a migration file's name; the version is group 1.
var migrationRE = regexp.MustCompile(`^(\d{5})_[a-z0-9_]+\.sql$`)

// generate writes the next migration of dir, named slug, for the registry (the entities ds and
// the streams ss), and returns its path.
func generate(dir, slug string, ds []*entity.Desc, ss []*entity.Stream) (string, error) {
	if !slugRE.MatchString(slug) {
		return "", fmt.Errorf("bad name %q: want verb_noun in lower case (add_widgets)", slug)
	}
	latest, err := latestVersion(os.DirFS(dir))
	if err != nil {
		return "", err
	}
	text, err := render(latest+1, slug, ds, ss)
	if err != nil {
		return "", err
	}
	path := filepath.Join(dir, fmt.Sprintf("%05d_%s.sql", latest+1, slug))
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return "", fmt.Errorf("creating the migration: %w", err)
	}
	if _, err := f.WriteString(text); err != nil {
		_ = f.Close()
		return "", fmt.Errorf("writing %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		return "", fmt.Errorf("writing %s: %w", path, err)
	}
	return path, nil
}

// latestVersion returns the version of the newest migration in fsys.
func latestVersion(fsys fs.FS) (int64, error) {
	entries, err := fs.ReadDir(fsys, ".")
	if err != nil {
		return 0, fmt.Errorf("listing the migrations: %w", err)
	}
	var latest int64
	for _, e := range entries {
		m := migrationRE.FindStringSubmatch(e.Name())
		if m == nil {
			continue
		}
		v, _ := strconv.ParseInt(m[1], 10, 64) // five digits
		latest = max(latest, v)
	}
	if latest == 0 {
		return 0, errors.New("listing the migrations: none found (run from the module root, or pass -dir)")
	}
	return latest, nil
}

// render renders migration version of the registry: the entities ds and the streams ss.
func render(version int64, slug string, ds []*entity.Desc, ss []*entity.Stream) (string, error) {
	var before []*entity.Desc
	var added []string
	for _, d := range ds {
		switch {
		case d.Since > version:
			return "", fmt.Errorf("entity %s has Since %d, but the next migration is %d", d.Name, d.Since, version)
		case d.Since == version:
			added = append(added, string(d.Name))
		default:
			before = append(before, d)
		}
	}
	var streamsBefore, streamsAdded []*entity.Stream
	var addedStreams []string
	for _, st := range ss {
		switch {
		case st.Since > version:
			return "", fmt.Errorf("stream %s has Since %d, but the next migration is %d", st.Name, st.Since, version)
		case st.Since == version:
			streamsAdded = append(streamsAdded, st)
			addedStreams = append(addedStreams, string(st.Name))
		default:
			streamsBefore = append(streamsBefore, st)
		}
	}
	statuses, statusesBefore := db.ScopeStatusesAsOf(version), db.ScopeStatusesAsOf(version-1)
	statusesChanged := !slices.Equal(statuses, statusesBefore)
	var b strings.Builder
	b.WriteString("-- +goose Up\n")
	fmt.Fprintf(&b, "-- The SQL that lists every entity and stream, and the comments of every table, view and column,\n"+
		"-- rendered from internal/entity and db's data dictionary by\n"+
		"-- `go run ./internal/tools/genmigration %s`.\n", slug)
	if len(added) > 0 {
		fmt.Fprintf(&b, "-- New entities: %s. Their tables are created before the view that reads them.\n",
			strings.Join(added, ", "))
	}
	if len(streamsAdded) > 0 {
		fmt.Fprintf(&b, "-- New streams: %s. Their tables are rendered from their descriptions.\n",
			strings.Join(addedStreams, ", "))
		for _, st := range streamsAdded {
			b.WriteString("\n" + db.StreamTableSQL(st))
		}
	}
	if statusesChanged {
		b.WriteString("\n" + db.ScopeStatusCheckSQL(statuses, false))
	}
	b.WriteString("\n" + db.EntityChecksSQL(ds, ss, false) + "\n" + db.EntityViewsSQL(ds))
	b.WriteString("\n-- The data dictionary: every table, view and column described (psql's \\d+ shows it).\n")
	b.WriteString(db.CommentsSQL(db.RelationsWith(ds, ss, version), false))
	b.WriteString("\n-- +goose Down\n")
	rollsBack := len(added) > 0 || len(streamsAdded) > 0
	if rollsBack {
		b.WriteString("-- The view and checks as of the migration before. The ledger keeps the scopes and fields of\n" +
			"-- the entities rolled back: the checks hold for new rows only. The scopes and windows of the\n" +
			"-- streams rolled back go, as their tables do after: an older migration's Down adds the checks back valid.\n")
	}
	if len(streamsAdded) > 0 {
		quoted := make([]string, len(addedStreams))
		for i, n := range addedStreams {
			quoted[i] = "'" + n + "'"
		}
		fmt.Fprintf(&b, "DELETE FROM sync_run_scopes WHERE entity IN (%s);\n", strings.Join(quoted, ", "))
		if len(streamsBefore) > 0 { // the ledger stays (the first streams' migration drops it)
			fmt.Fprintf(&b, "DELETE FROM stream_windows WHERE stream IN (%s);\n", strings.Join(quoted, ", "))
		}
		b.WriteString("\n")
	}
	b.WriteString(db.EntityViewsSQL(before) + "\n" + db.EntityChecksSQL(before, streamsBefore, rollsBack))
	if statusesChanged {
		b.WriteString("\n" + db.ScopeStatusCheckSQL(statusesBefore, true))
	}
	for i := len(streamsAdded) - 1; i >= 0; i-- {
		fmt.Fprintf(&b, "\nDROP TABLE %s;\n", streamsAdded[i].Name)
	}
	if version-1 < db.CommentsSince {
		b.WriteString("\n-- No comments before this migration.\n")
		b.WriteString(db.CommentsSQL(db.RelationsWith(before, streamsBefore, version-1), true))
	} else {
		b.WriteString("\n" + db.CommentsSQL(db.RelationsWith(before, streamsBefore, version-1), false))
	}
	return b.String(), nil
}
