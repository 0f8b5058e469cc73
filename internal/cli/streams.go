package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/evsync/evsync/db"
	"github.com/evsync/evsync/internal/config"
	"github.com/evsync/evsync/internal/entity"
	"github.com/evsync/evsync/internal/oneline"
	"github.com/evsync/evsync/internal/tenant"
	syncrun "github.com/evsync/evsync/sync"
)

// parseStreams validates a comma-separated stream list named by key; every element must be a
// stream.
func parseStreams(key, v string) ([]entity.Name, error) {
	return parseNames(key, "stream", v, entity.ParseStream, config.StreamNames(","))
}

// streamCode is the exit code of a stream run that returned res and err (runCode).
func streamCode(res *syncrun.StreamResult, err error) int {
	var status db.RunStatus
	if res != nil {
		status = res.Status
	}
	return runCode(status, err)
}

// worseCode is the worse of two exit codes: 2, then 1, 3, 4 and 0 (tenantsExit's order).
func worseCode(a, b int) int {
	rank := map[int]int{exitOK: 0, exitLocked: 1, exitPartial: 2, exitFailed: 3, exitUsage: 4}
	if rank[b] > rank[a] {
		return b
	}
	return a
}

// streamExit is the line of a stream run that never started (nil when it did, or succeeded):
// a run that started logged its end.
func streamExit(res *syncrun.StreamResult, err error) error {
	switch {
	case err == nil || res != nil:
		return nil
	case errors.Is(err, syncrun.ErrLocked):
		return errors.New("streams: another process is reading the windows of every sub-account needed; nothing was read")
	}
	return fmt.Errorf("streams: %w", err)
}

// printStreamSummary prints a stream run's outcome: its windows and rows per stream.
func printStreamSummary(w io.Writer, res *syncrun.StreamResult) error {
	o := &output{w: w}
	read, failed, left := res.Windows()
	o.printf("stream run %d %s in %s: %d windows read, %d failed, %d left due\n", res.RunID, res.Status,
		res.Finished.Sub(res.Started).Round(time.Millisecond), read, failed, left)
	if len(res.Scopes) > 0 {
		tw := o.table(tabwriter.AlignRight)
		tw.printf("stream\tsub-account\tstatus\twindows\tfailed\tleft\tfetched\tinserted\tupdated\tunchanged\t\n")
		for _, s := range res.Scopes {
			tw.printf("%s\t%s\t%s\t%d\t%d\t%d\t%d\t%d\t%d\t%d\t\n", s.Stream, oneline.Escape(s.SubAccountID), s.Status,
				s.Read, s.Failed, s.Left, s.Counts.Fetched, s.Counts.Inserted, s.Counts.Updated, s.Counts.Unchanged)
		}
		tw.flush()
	}
	if len(res.Locked) > 0 {
		o.printf("skipped (another process reads their windows): sub-accounts %s\n", strings.Join(res.Locked, ", "))
	}
	return o.done("the stream run's summary")
}

// streamRunDoc is a stream run in a document (`sync` and `backfill --output json`).
type streamRunDoc struct {
	RunID           *int64           `json:"run_id"`
	Status          string           `json:"status"`
	ExitCode        int              `json:"exit_code"`
	Error           *string          `json:"error"`
	StartedAt       *string          `json:"started_at"`
	FinishedAt      *string          `json:"finished_at"`
	DurationSeconds *float64         `json:"duration_seconds"`
	API             apiDoc           `json:"api"`
	WindowsRead     int              `json:"windows_read"`
	WindowsFailed   int              `json:"windows_failed"`
	WindowsLeft     int              `json:"windows_left"`
	Scopes          []streamScopeDoc `json:"scopes"`
	Locked          []string         `json:"locked_sub_accounts"`
}

// streamScopeDoc is one (stream, sub-account) of a stream run.
type streamScopeDoc struct {
	Stream        entity.Name `json:"stream"`
	SubAccountID  string      `json:"sub_account_id"`
	Status        string      `json:"status"`
	WindowsRead   int         `json:"windows_read"`
	WindowsFailed int         `json:"windows_failed"`
	WindowsLeft   int         `json:"windows_left"`
	Fetched       int64       `json:"fetched"`
	Inserted      int64       `json:"inserted"`
	Updated       int64       `json:"updated"`
	Unchanged     int64       `json:"unchanged"`
	Missing       int64       `json:"missing"`
	Error         *string     `json:"error"`
}

// streamRunDocOf is a stream run's result as a document; nil when no stream run was made.
func streamRunDocOf(ran bool, res *syncrun.StreamResult, err error) *streamRunDoc {
	if !ran {
		return nil
	}
	d := &streamRunDoc{ExitCode: streamCode(res, err), Scopes: []streamScopeDoc{}, Locked: []string{}}
	switch {
	case errors.Is(err, syncrun.ErrLocked):
		d.Status = statusSkipped
	case res == nil:
		d.Status = string(db.RunFailed)
	default:
		d.Status = string(res.Status)
	}
	if err != nil && !errors.Is(err, syncrun.ErrLocked) {
		d.Error = nonEmpty(err.Error())
	}
	if res == nil {
		return d
	}
	if res.Error != "" {
		d.Error = nonEmpty(res.Error)
	}
	d.RunID = nonZero(res.RunID)
	d.StartedAt, d.FinishedAt = jsonTime(res.Started), jsonTime(res.Finished)
	if !res.Started.IsZero() && !res.Finished.IsZero() {
		secs := res.Finished.Sub(res.Started).Seconds()
		d.DurationSeconds = &secs
	}
	d.API = apiDoc{Requests: res.API.Requests, Retries: res.API.Retries, RateLimited: res.API.RateLimited, TokenRefreshes: res.API.Refreshes}
	d.WindowsRead, d.WindowsFailed, d.WindowsLeft = res.Windows()
	for _, s := range res.Scopes {
		d.Scopes = append(d.Scopes, streamScopeDoc{Stream: s.Stream, SubAccountID: s.SubAccountID, Status: string(s.Status),
			WindowsRead: s.Read, WindowsFailed: s.Failed, WindowsLeft: s.Left, Fetched: s.Counts.Fetched,
			Inserted: s.Counts.Inserted, Updated: s.Counts.Updated, Unchanged: s.Counts.Unchanged, Missing: s.Counts.Missing,
			Error: nonEmpty(s.Error)})
	}
	d.Locked = append(d.Locked, res.Locked...)
	return d
}

// backfillFlags are the flags of backfill.
type backfillFlags struct {
	tenants     stringList
	since       string
	until       string
	streams     string
	subAccounts stringList
	refetch     bool
	noMigrate   bool
	output      *formatFlag
}

func newBackfillCmd(a *app) *cobra.Command {
	var f backfillFlags
	cmd := &cobra.Command{
		Use:   "backfill --since DATE|DURATION [--until DATE|DURATION] [--streams LIST] [--sub-account ID]... [--tenant NAME]... [--refetch]",
		Short: "read the streams' history: the windows of a range, newest first, at the API's pace",
		Args:  noArgs,
		RunE: a.withConfig(func(cmd *cobra.Command, _ []string) error {
			return cmdBackfill(cmd.Context(), a, &f, cmd.Flags().Changed("streams"))
		}),
	}
	fs := cmd.Flags()
	fs.Var(&f.tenants, "tenant", "backfill tenant `NAME` only (repeatable); default every tenant")
	fs.StringVar(&f.since, "since", "", "read from `WHEN`: a duration back from now (30d, 72h), a date (2026-11-01, UTC) or an RFC 3339 time (required)")
	fs.StringVar(&f.until, "until", "", "read up to `WHEN` (as --since); default up to the last window due")
	fs.StringVar(&f.streams, "streams", "", "comma-separated `LIST` of streams ("+config.StreamNames(",")+"); default streams.enabled")
	fs.Var(&f.subAccounts, "sub-account", "backfill sub-account `ID` only (repeatable); default every sub-account")
	fs.BoolVar(&f.refetch, "refetch", false, "read again the windows already read")
	fs.BoolVar(&f.noMigrate, "no-migrate", false, "do not apply pending migrations first")
	f.output = addFormatFlag(cmd, formatJSON)
	return cmd
}

// parseWhen reads --since or --until (flag key) as streams.start is read, seen at now.
func parseWhen(key, v string, now time.Time) (time.Time, error) {
	s, err := config.ParseStreamStart(v)
	if err != nil {
		return time.Time{}, usageErr("%s: %v", key, err)
	}
	if s.At.IsZero() && s.Ago < 0 {
		return time.Time{}, usageErr("%s: must be a duration back from now, got the negative %q", key, v)
	}
	t := s.Time(now)
	if t.After(now) {
		return time.Time{}, usageErr("%s: %q is in the future", key, v)
	}
	return t, nil
}

// backfill is the range --since and --until name, seen at now.
func (f *backfillFlags) backfill(now time.Time) (*syncrun.Backfill, error) {
	if f.since == "" {
		return nil, usageErr("--since is required: a duration back from now (30d) or a date (2026-11-01)")
	}
	b := &syncrun.Backfill{Refetch: f.refetch}
	var err error
	if b.Since, err = parseWhen("--since", f.since, now); err != nil {
		return nil, err
	}
	if f.until != "" {
		if b.Until, err = parseWhen("--until", f.until, now); err != nil {
			return nil, err
		}
		if !b.Until.After(b.Since) {
			return nil, usageErr("--until: %q is not after --since %q", f.until, f.since)
		}
	}
	return b, nil
}

// cmdBackfill runs a backfill of each tenant f selects, as sync runs its tenants.
func cmdBackfill(ctx context.Context, a *app, f *backfillFlags, streamsSet bool) error {
	b, err := f.backfill(time.Now())
	if err != nil {
		return err
	}
	var streams []entity.Name
	if streamsSet {
		if streams, err = parseStreams("--streams", f.streams); err != nil {
			return err
		}
	}
	selected, err := a.selectTenants(f.tenants)
	if err != nil {
		return err
	}
	for _, t := range selected {
		if len(tenant.StreamsOf(t, tenant.StreamOptions{Streams: streams})) == 0 {
			return usageErr("tenant %s: no stream to backfill: streams.enabled is empty; name them with --streams (%s)", t.Name, config.StreamNames(","))
		}
	}
	ctx, cancel, pool, err := a.startRuns(ctx, selected)
	if err != nil {
		return err
	}
	defer cancel()
	defer pool.Close()
	o := tenant.StreamOptions{Streams: streams, SubAccounts: f.subAccounts, Backfill: b, Trigger: db.TriggerBackfill, LogProgress: len(selected) > 1}
	return a.reportRuns(a.runs().StreamsAll(ctx, pool, selected, !f.noMigrate, o), f.output)
}
