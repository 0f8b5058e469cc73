package cli

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/spf13/cobra"

	"github.com/evsync/evsync/db"
	"github.com/evsync/evsync/internal/daemon"
	"github.com/evsync/evsync/internal/entity"
	"github.com/evsync/evsync/internal/oneline"
	syncrun "github.com/evsync/evsync/sync"
)

func newStatusCmd(a *app) *cobra.Command {
	var (
		names  stringList
		runs   int
		output *formatFlag
	)
	cmd := &cobra.Command{
		Use:   "status [--tenant NAME]... [--runs N]",
		Short: "show the last runs and per-entity counts and freshness from the database",
		Args:  noArgs,
		RunE: a.withConfig(func(cmd *cobra.Command, _ []string) error {
			return cmdStatus(cmd.Context(), a, names, runs, output)
		}),
	}
	output = addFormatFlag(cmd, formatJSON)
	cmd.Flags().IntVar(&runs, "runs", 10, "show the latest `N` runs")
	cmd.Flags().Var(&names, "tenant", "show tenant `NAME` only (repeatable); default every tenant")
	return cmd
}

// cmdStatus prints the status of the tenants names selects, with their latest runs, as text or
// (output json) one document.
func cmdStatus(ctx context.Context, a *app, names []string, runs int, output *formatFlag) error {
	if runs < 1 {
		return usageErr("--runs: must be at least 1, got %d", runs)
	}
	tenants, err := a.selectTenants(names)
	if err != nil {
		return err
	}
	a.setupLogger()
	pool, err := a.openPool(ctx, 1)
	if err != nil {
		return err
	}
	defer pool.Close()
	doc := statusDoc{Tenants: []statusTenantDoc{}}
	for i, t := range tenants {
		store, err := db.NewStore(pool, t.Schema)
		if err != nil {
			return err
		}
		st, err := store.StatusGet(ctx, runs)
		if err != nil {
			return fmt.Errorf("reading status from schema %s (has it been migrated? try 'syncer migrate'): %w", t.Schema, err)
		}
		fs, err := store.FieldStatusGet(ctx)
		if err != nil {
			return fmt.Errorf("reading status from schema %s (has it been migrated? try 'syncer migrate'): %w", t.Schema, err)
		}
		ss, err := store.StreamStatusGet(ctx)
		if err != nil {
			return fmt.Errorf("reading status from schema %s (has it been migrated? try 'syncer migrate'): %w", t.Schema, err)
		}
		if output.is(formatJSON) {
			doc.Tenants = append(doc.Tenants, statusTenantDocOf(t.Name, t.Schema, st, ss, fs))
			continue
		}
		header := ""
		if a.cfg.MultiTenant() {
			header = "tenant " + t.Name + ", "
			if i > 0 {
				header = "\n" + header
			}
		}
		if err := printStatus(a.stdout, header, t.Schema, st, ss, fs); err != nil {
			return err
		}
	}
	if output.is(formatJSON) {
		return writeJSON(a.stdout, "the status", doc)
	}
	return nil
}

// printStatus prints the per-entity counts and freshness, the streams' freshness, then the last
// runs and the latest run's API field changes, under a line that names the schema after header
// ("tenant acme, " or "").
func printStatus(w io.Writer, header, schema string, st *db.Status, ss []db.StreamStatus, fs *db.FieldStatus) error {
	o := &output{w: w}
	o.printf("%sschema %s\n\nentities:\n", header, schema)
	tw := o.table(0)
	tw.printf("  entity\tlive\tdeleted\tlast complete run\tage\n")
	for _, e := range st.Entities {
		last, age := "never", "-"
		if e.LastSuccessRunID != 0 && e.LastSuccessAt != nil {
			last = fmt.Sprintf("%d at %s", e.LastSuccessRunID, e.LastSuccessAt.UTC().Format(time.RFC3339))
			age = e.Age.Round(time.Second).String()
		}
		tw.printf("  %s\t%d\t%d\t%s\t%s\n", e.Entity, e.Live, e.Deleted, last, age)
	}
	tw.flush()
	printStreamStatus(o, ss)
	o.printf("\nlast runs:\n")
	if len(st.Runs) == 0 {
		o.println("  none yet: run 'syncer sync'")
		return o.done("the status")
	}
	tw = o.table(0)
	tw.printf("  run\ttrigger\tstatus\tstarted\ttook\trequests\t429s\tinserted\tupdated\tdeleted\trestored\terror\n")
	for _, r := range st.Runs {
		tw.printf("  %d\t%s\t%s\t%s\t%s\t%d\t%d\t%d\t%d\t%d\t%d\t%s\n", r.RunID, r.Trigger, r.Status,
			r.StartedAt.UTC().Format(time.RFC3339), r.Duration.Round(time.Millisecond), r.APIRequests, r.RateLimited,
			r.Inserted, r.Updated, r.Deleted, r.Restored, oneline.Of(r.Error, 0))
	}
	tw.flush()
	printFieldStatus(o, fs)
	return o.done("the status")
}

// lastSuccess is the freshness of the least fresh entity that runs of entities sync (as
// entity_freshness defines it: fresh means complete): the daemon is ready only while every one
// of them is fresh. A zero At means that entity has never been complete.
func lastSuccess(ctx context.Context, store *db.Store, entities []entity.Name) (daemon.Freshness, error) {
	st, err := store.StatusGet(ctx, 1)
	if err != nil {
		return daemon.Freshness{}, err
	}
	sel := syncrun.Config{Entities: entities}
	var f daemon.Freshness
	for _, e := range st.Entities {
		if e.Entity == "" || !sel.Selects(e.Entity) {
			continue
		}
		if e.LastSuccessAt == nil {
			return daemon.Freshness{Entity: e.Entity}, nil
		}
		if f.Entity == "" || e.LastSuccessAt.Before(f.At) {
			f = daemon.Freshness{Entity: e.Entity, RunID: e.LastSuccessRunID, At: *e.LastSuccessAt}
		}
	}
	return f, nil
}

// printStreamStatus prints each (stream, sub-account)'s high-water mark, lag and windows.
func printStreamStatus(o *output, ss []db.StreamStatus) {
	o.printf("\nstreams:\n")
	if len(ss) == 0 {
		o.println("  no window read yet: 'syncer sync' reads the enabled streams, 'syncer backfill' their history")
		return
	}
	tw := o.table(0)
	tw.printf("  stream\tsub-account\tread up to\tlag\tpending\tfailed\trows\tnote\n")
	for _, s := range ss {
		mark, lag := "never", "-"
		if s.HighWater != nil {
			mark, lag = s.HighWater.UTC().Format(time.RFC3339), s.Lag.Round(time.Second).String()
		}
		note := ""
		if !s.Live {
			note = "sub-account deleted: no longer read"
		}
		if s.NotEntitled {
			note = "not entitled (403)"
			if d := entity.StreamOf(s.Stream); d != nil {
				note += ": " + d.NotEntitled
			}
		}
		tw.printf("  %s\t%s\t%s\t%s\t%d\t%d\t%d\t%s\n", s.Stream, oneline.Escape(s.SubAccountID), mark, lag,
			s.WindowsPending, s.WindowsFailed, s.Rows, note)
	}
	tw.flush()
}
