package cli

import (
	"strings"
	"time"

	"github.com/evsync/evsync/db"
	"github.com/evsync/evsync/internal/entity"
	"github.com/evsync/evsync/internal/oneline"
)

// maxChangesPrinted is how many field changes sync and status print, a screenful; the rest
// are counted ("… and 480 more"); a run records them all in api_field_changes.
const maxChangesPrinted = 20

// printFieldChanges prints field changes as a table, each with the typed columns its path
// feeds (what a removal or a type change affects): the first maxChangesPrinted, then how many
// more there are. A path is the API's JSON keys: its control characters are escaped
// (oneline.Escape), so that it cannot drive the terminal or break the table.
func printFieldChanges(o *output, changes []db.FieldChange) {
	tw := o.table(0)
	tw.printf("  entity\tchange\tpath\told type\tnew type\tfeeds\n")
	more := len(changes) - maxChangesPrinted
	if more > 0 {
		changes = changes[:maxChangesPrinted]
	}
	for _, c := range changes {
		cols := entity.Of(c.Entity).ColumnsFed(c.Path)
		tw.printf("  %s\t%s\t%s\t%s\t%s\t%s\n", c.Entity, c.Change, oneline.Escape(c.Path), dash(c.OldType), dash(c.NewType), dash(strings.Join(cols, ", ")))
	}
	tw.flush()
	if more > 0 {
		o.printf("  … and %d more\n", more)
	}
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// printRunFields prints what a run found of the API's fields: its changes (those a dry run
// would record), or that there were none, and the entities it recorded a baseline for.
func printRunFields(o *output, dry bool, fields []db.EntityFields, changes []db.FieldChange) {
	if len(fields) == 0 {
		return
	}
	var baseline []string
	paths := 0
	for _, ef := range fields {
		paths += ef.Paths
		if ef.Baseline {
			baseline = append(baseline, string(ef.Entity))
		}
	}
	switch {
	case len(changes) > 0 && dry:
		o.printf("api fields: %d changes a run would record:\n", len(changes))
	case len(changes) > 0:
		o.printf("api fields: %d changes (api_field_changes):\n", len(changes))
	case len(baseline) == 0:
		o.printf("api fields: no changes (%d paths in %d entities)\n", paths, len(fields))
	}
	if len(changes) > 0 {
		printFieldChanges(o, changes)
	}
	if len(baseline) > 0 {
		verb := "recorded"
		if dry {
			verb = "would record"
		}
		o.printf("api fields: %s a baseline for %s (a first observation reports no changes)\n", verb, strings.Join(baseline, ", "))
	}
}

// printFieldStatus prints, for `syncer status`, the latest run's field changes, or when the
// latest change was.
func printFieldStatus(o *output, fs *db.FieldStatus) {
	switch {
	case fs.Paths == 0:
		o.printf("\napi fields: none recorded yet\n")
	case len(fs.Changes) > 0:
		o.printf("\napi fields: %d paths in %d entities; changes in run %d:\n", fs.Paths, fs.Entities, fs.RunID)
		printFieldChanges(o, fs.Changes)
	case fs.LastChangeRunID == 0:
		o.printf("\napi fields: %d paths in %d entities; no change since the baseline\n", fs.Paths, fs.Entities)
	default:
		at := ""
		if fs.LastChangeAt != nil {
			at = " at " + fs.LastChangeAt.UTC().Format(time.RFC3339)
		}
		o.printf("\napi fields: %d paths in %d entities; none changed in run %d, the latest changes were in run %d%s (api_field_changes)\n",
			fs.Paths, fs.Entities, fs.RunID, fs.LastChangeRunID, at)
	}
}
