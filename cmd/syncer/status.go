package main

import (
	"context"
	"fmt"
	"text/tabwriter"
	"time"

	"github.com/evsync/evsync/db"
	syncrun "github.com/evsync/evsync/sync"
)

func cmdStatus(ctx context.Context, a *app, args []string) error {
	fs := a.newFlagSet("status", "status [--runs N]")
	runs := fs.Int("runs", 10, "how many of the latest runs to show")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usageErr("status: unexpected argument %q", fs.Arg(0))
	}
	if *runs < 1 {
		return usageErr("--runs: must be at least 1, got %d", *runs)
	}
	a.setupLogger()
	pool, store, err := a.openStore(ctx, false)
	if err != nil {
		return err
	}
	defer pool.Close()
	st, err := store.StatusGet(ctx, *runs)
	if err != nil {
		return fmt.Errorf("reading status from schema %s (has it been migrated? try 'syncer migrate'): %w", a.cfg.Database.Schema, err)
	}
	w := a.stdout
	fmt.Fprintf(w, "schema %s\n\nentities:\n", a.cfg.Database.Schema)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "  entity\tlive\tdeleted\tlast complete run\tage")
	for _, e := range st.Entities {
		last, age := "never", "-"
		if e.LastSuccessRunID != 0 && e.LastSuccessAt != nil {
			last = fmt.Sprintf("%d at %s", e.LastSuccessRunID, e.LastSuccessAt.UTC().Format(time.RFC3339))
			age = e.Age.Round(time.Second).String()
		}
		fmt.Fprintf(tw, "  %s\t%d\t%d\t%s\t%s\n", e.Entity, e.Live, e.Deleted, last, age)
	}
	tw.Flush()
	fmt.Fprintf(w, "\nlast runs:\n")
	if len(st.Runs) == 0 {
		fmt.Fprintln(w, "  none yet: run 'syncer sync'")
		return nil
	}
	tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "  run\ttrigger\tstatus\tstarted\ttook\trequests\t429s\tinserted\tupdated\tdeleted\trestored\terror")
	for _, r := range st.Runs {
		fmt.Fprintf(tw, "  %d\t%s\t%s\t%s\t%s\t%d\t%d\t%d\t%d\t%d\t%d\t%s\n", r.RunID, r.Trigger, r.Status,
			r.StartedAt.UTC().Format(time.RFC3339), r.Duration.Round(time.Millisecond), r.APIRequests, r.RateLimited,
			r.Inserted, r.Updated, r.Deleted, r.Restored, oneLine(r.Error))
	}
	return tw.Flush()
}

// lastSuccess is the freshness of the least fresh entity that runs of entities sync (as
// entity_freshness defines it: fresh means complete): the daemon is ready only while every one
// of them is fresh. A zero At means that entity has never been complete.
func lastSuccess(ctx context.Context, store *db.Store, entities []db.Entity) (freshness, error) {
	st, err := store.StatusGet(ctx, 1)
	if err != nil {
		return freshness{}, err
	}
	sel := syncrun.Config{Entities: entities}
	var f freshness
	for _, e := range st.Entities {
		if e.Entity == "" || !sel.Selects(e.Entity) {
			continue
		}
		if e.LastSuccessAt == nil {
			return freshness{Entity: e.Entity}, nil
		}
		if f.Entity == "" || e.LastSuccessAt.Before(f.At) {
			f = freshness{Entity: e.Entity, RunID: e.LastSuccessRunID, At: *e.LastSuccessAt}
		}
	}
	return f, nil
}
