package db

import (
	"context"
	"errors"
	"iter"
	"slices"
	"time"

	"github.com/evsync/evsync/internal/entity"
)

// The streams' side of the store (docs/schema.md, stream tables): the window ledger stream_windows, the
// publish of one window's rows together with its ledger row, the locks that keep two
// processes off one sub-account's windows, and the streams' freshness.
//
// A stream run is recorded in sync_runs like an entity run (trigger TriggerStreams or
// TriggerBackfill), its counts per (stream, sub-account) in sync_run_scopes. Unlike an entity
// run it does not take the schema's run lock (it runs beside one); it holds a key of its own
// run instead, on a session of its own (StreamLock), taken in the statement that creates the
// run's row: a running stream run whose key is free is abandoned.

// errStreamsTODO is what the API below answers until it is built.
var errStreamsTODO = errors.New("db: streams: not implemented")

// Span is a window's bounds, [Start, End).
type Span struct{ Start, End time.Time }

// Window is one row of stream_windows.
type Window struct {
	Stream       entity.Name
	SubAccountID string
	Start, End   time.Time
	FirstReadAt  *time.Time // the first read that published; nil until then
	SettledAt    *time.Time // the read that counted as the settle read; nil until then
	Status       WindowStatus
	Attempts     int        // reads attempted, published or not
	Rows         int64      // items the last published read returned
	Error        string     // the last failed read's error ("" otherwise)
	AttemptedAt  *time.Time // when the last read was attempted (its backoff counts from it)
	LastRunID    int64      // the run of the last attempt
}

// WindowsRecord records spans of (stream, subAccountID) in the ledger as pending, leaving the
// windows already recorded as they are, and returns how many it added.
func (s *Store) WindowsRecord(ctx context.Context, stream entity.Name, subAccountID string, spans []Span) (int, error) {
	return 0, errStreamsTODO
}

// WindowsLastEnd returns the end of the latest window recorded for (stream, subAccountID);
// ok is false when none is.
func (s *Store) WindowsLastEnd(ctx context.Context, stream entity.Name, subAccountID string) (end time.Time, ok bool, err error) {
	return time.Time{}, false, errStreamsTODO
}

// WindowsOpen returns the windows of (stream, subAccountID) that may still need a read: those
// not succeeded, and those succeeded but not settled; oldest first.
func (s *Store) WindowsOpen(ctx context.Context, stream entity.Name, subAccountID string) ([]Window, error) {
	return nil, errStreamsTODO
}

// WindowsIn returns the windows of (stream, subAccountID) whose start lies in [from, to),
// oldest first.
func (s *Store) WindowsIn(ctx context.Context, stream entity.Name, subAccountID string, from, to time.Time) ([]Window, error) {
	return nil, errStreamsTODO
}

// StreamRow is one item of a window, to publish: its key after sub_account_id, its typed
// values and the API item.
type StreamRow struct {
	// Key holds the values of the stream's key columns after sub_account_id, in order (a
	// string for text, an int64 for bigint, a time.Time for timestamptz).
	Key []any
	// Vals are the typed columns' values, in the description's Columns order, as for Row.Vals;
	// a JSON column takes a []byte or json.RawMessage holding a JSON value (nil: SQL NULL).
	Vals []any
	// Raw is the item's JSON; WindowPublish scrubs its secret-bearing keys and hashes the row.
	Raw []byte
}

// RowsOf yields rows, for WindowPublishParams.Rows.
func RowsOf(rows []StreamRow) iter.Seq2[StreamRow, error] {
	return func(yield func(StreamRow, error) bool) {
		for _, r := range slices.Clone(rows) {
			if !yield(r, nil) {
				return
			}
		}
	}
}

// WindowPublishParams are one read of one window.
type WindowPublishParams struct {
	RunID        int64
	Stream       *entity.Stream
	SubAccountID string
	Span         Span
	// Settle says the read counts as the window's settle read (settled_at is set), as well
	// as its first read when it had none.
	Settle bool
	// Rows are the window's items. An error from it fails the publish: nothing of the window
	// is written, its ledger row included.
	Rows iter.Seq2[StreamRow, error]
	// Lock is the run's lock: a run that lost it publishes nothing.
	Lock *StreamLock
}

// WindowCounts is what publishing one window did to the stream's table.
type WindowCounts struct {
	Fetched   int64 // items the read returned
	Inserted  int64
	Updated   int64
	Unchanged int64
	// Missing: rows of the window a settle read no longer returned (PublishUpsert: marked
	// missing_since; PublishReplace: deleted).
	Missing int64
}

// WindowPublish writes one window's rows by the stream's publish rule and its ledger row
// (succeeded; first_read_at set if unset, settled_at if p.Settle; attempts + 1), and adds its
// counts to the run's sync_run_scopes row of (stream, sub-account), in one transaction.
func (s *Store) WindowPublish(ctx context.Context, p *WindowPublishParams) (WindowCounts, error) {
	return WindowCounts{}, errStreamsTODO
}

// WindowFailParams are a read of one window that did not publish.
type WindowFailParams struct {
	RunID        int64
	Stream       entity.Name
	SubAccountID string
	Span         Span
	Status       WindowStatus // WindowFailed or WindowNotEntitled
	Error        string
}

// WindowFail records a read that did not publish on the window's ledger row (its status and
// error, attempts + 1, attempted_at; first_read_at and settled_at as they were) and on the
// run's sync_run_scopes row of (stream, sub-account) (ScopeFailed or ScopeNotEntitled, with
// the error; a scope failed once stays failed).
func (s *Store) WindowFail(ctx context.Context, p *WindowFailParams) error {
	return errStreamsTODO
}

// StreamLock is a stream run's hold on the database: a session of its own that holds the
// run's key and the sub-accounts whose windows the run reads (at most one process reads a
// given sub-account's windows at a time). The session dies with its holder, as a Lock's does.
type StreamLock struct {
	RunID int64
}

// StreamRunBegin records a stream run (status running, trigger) and takes its key, in one
// statement on a session of its own, after closing the stream runs a dead process left
// running (their key free). It returns the closed runs' ids too.
func (s *Store) StreamRunBegin(ctx context.Context, trigger Trigger) (l *StreamLock, abandoned []int64, err error) {
	return nil, nil, errStreamsTODO
}

// TrySubAccount takes the sub-account's key for the run, or reports false when another
// process holds it.
func (l *StreamLock) TrySubAccount(ctx context.Context, subAccountID string) (bool, error) {
	return false, errStreamsTODO
}

// ReleaseSubAccount lets another process read the sub-account's windows.
func (l *StreamLock) ReleaseSubAccount(ctx context.Context, subAccountID string) error {
	return errStreamsTODO
}

// Lost is closed when the lock's session was lost: the run must stop.
func (l *StreamLock) Lost() <-chan struct{} { return nil }

// Err is why the lock was lost (nil while it holds).
func (l *StreamLock) Err() error { return nil }

// Finish records the run's end (RunFinish's params; its counts are the sums of its
// sync_run_scopes rows) and releases every key the lock holds. It runs even when ctx is done,
// bounded by the store's cleanup timeout.
func (l *StreamLock) Finish(ctx context.Context, p *RunFinishParams) error {
	return errStreamsTODO
}

// StreamStatus is the freshness of one (stream, sub-account), as the view stream_freshness
// defines it.
type StreamStatus struct {
	Stream       entity.Name
	SubAccountID string
	// HighWater is the end of the last window such that every window recorded before it has
	// had its first read; nil when no window has been read.
	HighWater      *time.Time
	Lag            time.Duration // now - HighWater (0 when HighWater is nil)
	WindowsPending int64         // recorded, never read (status pending)
	WindowsFailed  int64
	NotEntitled    bool // the latest attempt was refused with 403
	Rows           int64
	LastReadAt     *time.Time
}

// StreamStatusGet returns stream_freshness: one row per (stream, sub-account) with a window
// recorded, in stream then sub-account order.
func (s *Store) StreamStatusGet(ctx context.Context) ([]StreamStatus, error) {
	return nil, errStreamsTODO
}
