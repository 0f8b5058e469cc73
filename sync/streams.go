package sync

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"strconv"
	gosync "sync"
	"sync/atomic"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/evsync/evsync/db"
	"github.com/evsync/evsync/engageclient"
	"github.com/evsync/evsync/internal/entity"
)

// The streams' engine (docs/streams.md): a stream run reads the due windows of the
// enabled streams for each sub-account, each window published whole with its ledger row. It
// knows streams only by their descriptions (internal/entity) and their readers
// (streamReaders): the ledger, the due rules, the locks, the deadline and the progress are the
// same for every stream.

// StreamClient is the part of *engageclient.Client a stream run uses.
type StreamClient interface {
	Session
	SearchAuditLogs(ctx context.Context, s *engageclient.AuditLogSearch) ([]*engageclient.AuditLog, *engageclient.Response, error)
	RCAccountID(ctx context.Context) (string, error)
	ReadInteractionSegments(ctx context.Context, rcAccountID, subAccountID string, w *engageclient.SegmentsWindow) (*engageclient.Items[engageclient.InteractionSegment], error)
	ReadQueueStats(ctx context.Context, rcAccountID, subAccountID string, w *engageclient.StatsWindow) (*engageclient.Items[engageclient.QueueStats], error)
	ReadAgentStats(ctx context.Context, rcAccountID, subAccountID string, w *engageclient.StatsWindow) (*engageclient.Items[engageclient.AgentStats], error)
	ReadAgentQueueStats(ctx context.Context, rcAccountID, subAccountID string, w *engageclient.StatsWindow) (*engageclient.Items[engageclient.AgentQueueStats], error)
	// The reporting bucket of a sub-account: how long its next request waits, when the n-th
	// of n more could be sent, and the requests another process sent through it.
	ReportingWait(subAccountID string) time.Duration
	ReportingSpan(subAccountID string, n int) time.Duration
	ReportingSeed(subAccountID string, sent []time.Time)
}

// StreamsConfig says what one stream run reads and how.
type StreamsConfig struct {
	// Streams are the streams to read, in any order (read in the registry's).
	Streams []entity.Name
	// SubAccounts restricts the run to these sub-accounts; empty means every one the accounts
	// listing returns.
	SubAccounts []string
	// Start is where a stream without ledger rows for a sub-account begins: the window that
	// holds it.
	Start time.Time
	// AuditWindow and Window size the windows of the streams (entity.AuditWindow and
	// entity.ReportingWindow); each divides a day.
	AuditWindow time.Duration
	Window      time.Duration
	// FirstDelay: a window is due for its first read once closed this long; SettleAfter: for
	// its settle read once closed this long (0: no settle reads).
	FirstDelay  time.Duration
	SettleAfter time.Duration
	// Redact lists the columns stored as NULL and removed from raw (streams.redact).
	Redact []string
	// Location is the zone the reporting requests are written in (streams.time_zone; nil:
	// UTC). A window that straddles a change of its UTC offset is read as two requests.
	Location *time.Location
	// Accounts, when set, are the accounts listing's answer of a run just made with the same
	// client (the entities of the same sync): the run reads them instead of listing again.
	Accounts []*engageclient.Account
	// Backfill, when set, makes the run a backfill: it records the windows of the range and
	// reads those not read yet (all of them with Refetch), newest first.
	Backfill *Backfill
	// Concurrency bounds the sub-accounts read at once (default engageclient.ConcurrencyDefault).
	Concurrency int
	// RequestsPerMinute is the admin limiter's rate, for the deadline rule and the ETA.
	RequestsPerMinute int
	// Trigger is recorded on the run (default db.TriggerStreams; db.TriggerBackfill for a
	// backfill).
	Trigger db.Trigger
	// Now is the clock the due rules read (default time.Now).
	Now func() time.Time
	// ProgressInterval and ProgressFunc: as Config's; ScopesDone/ScopesTotal and Listed/Planned
	// count windows.
	ProgressInterval time.Duration
	ProgressFunc     func(Progress)
	// ExplainFunc: as Config's.
	ExplainFunc func(error) string
}

// Backfill is the range of a backfill: windows from the one holding Since to the one ending
// at or after Until (Until zero: up to the last window due).
type Backfill struct {
	Since, Until time.Time
	Refetch      bool
}

func (c *StreamsConfig) explain(err error) error {
	return (&Config{ExplainFunc: c.ExplainFunc}).explain(err)
}

// windowOf is the window size of stream s.
func (c *StreamsConfig) windowOf(s *entity.Stream) time.Duration {
	if s.Window == entity.AuditWindow {
		return c.AuditWindow
	}
	return c.Window
}

// Defaults of StreamsConfig.
const (
	AuditWindowDefault = time.Hour
	WindowDefault      = 3 * time.Hour
	FirstDelayDefault  = 20 * time.Minute
	SettleAfterDefault = 24 * time.Hour
	// FirstDelayFloor: the API refuses windows that end less than 5 minutes ago.
	FirstDelayFloor = 5 * time.Minute
)

// withDefaults fills in c's zero fields.
func (c StreamsConfig) withDefaults() StreamsConfig {
	c.AuditWindow = cmp.Or(c.AuditWindow, AuditWindowDefault)
	c.Window = cmp.Or(c.Window, WindowDefault)
	c.FirstDelay = cmp.Or(c.FirstDelay, FirstDelayDefault)
	c.Concurrency = cmp.Or(max(c.Concurrency, 0), engageclient.ConcurrencyDefault)
	if c.Trigger == "" {
		c.Trigger = db.TriggerStreams
		if c.Backfill != nil {
			c.Trigger = db.TriggerBackfill
		}
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.ProgressInterval <= 0 {
		c.ProgressInterval = ProgressIntervalDefault
	}
	return c
}

// validate rejects a configuration the engine cannot run.
func (c *StreamsConfig) validate() error {
	if len(c.Streams) == 0 {
		return &ConfigError{"Streams", "is empty: no stream to read"}
	}
	for _, n := range c.Streams {
		if entity.StreamOf(n) == nil {
			return &ConfigError{"Streams", fmt.Sprintf("names an unknown stream %q", n)}
		}
		if streamReaders[n] == nil {
			return &ConfigError{"Streams", fmt.Sprintf("names stream %q, which this version cannot read", n)}
		}
	}
	for name, w := range map[string]time.Duration{"AuditWindow": c.AuditWindow, "Window": c.Window} {
		if w <= 0 || (24*time.Hour)%w != 0 {
			return &ConfigError{name, fmt.Sprintf("is %s: it must divide a day", w)}
		}
	}
	if c.FirstDelay < FirstDelayFloor {
		return &ConfigError{"FirstDelay", fmt.Sprintf("is %s: at least %s", c.FirstDelay, FirstDelayFloor)}
	}
	if c.SettleAfter != 0 && c.SettleAfter < c.FirstDelay {
		return &ConfigError{"SettleAfter", fmt.Sprintf("is %s: 0 or at least FirstDelay (%s)", c.SettleAfter, c.FirstDelay)}
	}
	if b := c.Backfill; b != nil && !b.Until.IsZero() && !b.Until.After(b.Since) {
		return &ConfigError{"Backfill", "ends before it starts: Until must be after Since"}
	}
	return nil
}

// StreamScope is what a run did for one (stream, sub-account).
type StreamScope struct {
	Stream       entity.Name
	SubAccountID string
	// Status: db.ScopeSucceeded, db.ScopeFailed (a window failed) or db.ScopeNotEntitled.
	Status db.ScopeStatus
	// Windows read and published, windows whose read failed, and windows due that the run
	// left for the next one (its deadline, or the sub-account's failures in a row).
	Read, Failed, Left int
	Counts             db.WindowCounts
	Error              string // the last failed window's error
	// Publish is the time spent writing the windows read (their rows and ledger rows), the
	// database's share of the scope's time.
	Publish time.Duration

	refusal error // the 403 that made the scope not entitled in this run
}

// add counts a window read and published with counts.
func (sc *StreamScope) add(counts db.WindowCounts) {
	sc.Read++
	sc.Counts.Fetched += counts.Fetched
	sc.Counts.Inserted += counts.Inserted
	sc.Counts.Updated += counts.Updated
	sc.Counts.Unchanged += counts.Unchanged
	sc.Counts.Missing += counts.Missing
}

// StreamResult is what one stream run did.
type StreamResult struct {
	RunID    int64
	Status   db.RunStatus
	Error    string
	Started  time.Time
	Finished time.Time
	Scopes   []StreamScope
	// Locked are the sub-accounts another process was reading: skipped.
	Locked []string
	API    engageclient.Stats
}

// Windows sums the scopes' windows: read, failed and left due.
func (r *StreamResult) Windows() (read, failed, left int) {
	for _, s := range r.Scopes {
		read, failed, left = read+s.Read, failed+s.Failed, left+s.Left
	}
	return read, failed, left
}

// StreamRunner runs the streams of one tenant into one schema.
type StreamRunner struct {
	client  StreamClient
	store   *db.Store
	cfg     StreamsConfig
	logger  *slog.Logger
	streams []*entity.Stream // cfg.Streams in the registry's order
	// refused holds, per stream, the run's one warning of a 403 (the audit log's
	// entitlement is the user's: every sub-account is refused alike).
	refused map[entity.Name]*gosync.Once

	// rcAccounts maps a sub-account to its main account's rcAccountId from the accounts
	// listing; rcID is RingCentral's answer for a listing that lacks it, asked once (rcMu).
	rcAccounts map[string]string
	rcMu       gosync.Mutex
	rcID       string

	// reads bounds the reporting windows read and published at once (cfg.Concurrency): a
	// response stays open while its rows are published, so each needs a database connection
	// as soon as its request is sent.
	reads chan struct{}
}

// refusedOnce calls warn the first time stream n is refused with 403 in the run.
func (r *StreamRunner) refusedOnce(n entity.Name, warn func()) { r.refused[n].Do(warn) }

// lockStatementTimeout bounds a statement on the run's lock session (taking or releasing a
// sub-account), which runs whatever the run's context says.
const lockStatementTimeout = 30 * time.Second

// NewStreamRunner returns a StreamRunner for cfg with its defaults in place, or an error of
// *ConfigError.
func NewStreamRunner(client StreamClient, store *db.Store, cfg StreamsConfig, logger *slog.Logger) (*StreamRunner, error) {
	cfg = cfg.withDefaults()
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	r := &StreamRunner{client: client, store: store, cfg: cfg, logger: logger, refused: map[entity.Name]*gosync.Once{},
		rcAccounts: map[string]string{}, reads: make(chan struct{}, cfg.Concurrency)}
	for _, s := range entity.Streams() {
		if slices.Contains(cfg.Streams, s.Name) {
			r.streams = append(r.streams, s)
			r.refused[s.Name] = &gosync.Once{}
		}
	}
	return r, nil
}

// Run performs one stream run: record it, authenticate, list the sub-accounts, and read each
// one's due windows (under its lock) until done or the deadline. It returns ErrLocked when
// another process was reading every sub-account the run needed (the run is not recorded
// then), a Result with a nil error when the run succeeded or was partial (a window failed),
// and a Result with the error when it failed or was canceled.
func (r *StreamRunner) Run(ctx context.Context) (*StreamResult, error) {
	res := &StreamResult{Started: time.Now()}
	lock, abandoned, err := r.store.StreamRunBegin(ctx, r.cfg.Trigger)
	if err != nil {
		r.closeClient(ctx, r.logger) // a session an entity run left to this one ends here too
		return nil, fmt.Errorf("recording the stream run: %w", err)
	}
	res.RunID = lock.RunID
	logger := r.logger.With("run_id", res.RunID)
	if len(abandoned) > 0 {
		logger.Warn("closed stream runs left running by a process that died", "run_ids", abandoned,
			"status", db.RunFailed, "error", db.AbandonedError)
	}
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	go func() {
		select {
		case <-lock.Lost():
			cancel(lock.Err())
		case <-ctx.Done():
		}
	}()
	r.client.SetLogger(logger)
	logger.Info("stream run started", "trigger", r.cfg.Trigger, "streams", r.cfg.Streams)
	// The client may have served a run before this one (the entities of the same sync): the
	// run's counters are what it adds.
	base := r.client.Stats()
	prog := newStreamProgress(res.RunID, r.cfg.RequestsPerMinute, r.cfg.Concurrency, base)
	stopReports := r.reportProgress(ctx, prog)
	runErr := r.run(ctx, res, lock, logger, prog)
	stopReports()
	r.closeClient(ctx, logger)
	res.Finished, res.API = time.Now(), statsSince(r.client.Stats(), base)
	if runErr == nil && len(res.Locked) > 0 && len(res.Scopes) == 0 {
		// Another process reads every sub-account: this run did nothing, and leaves no row.
		if err := lock.Discard(ctx); err != nil {
			logger.Warn("removing the record of a stream run that read nothing", "err", err)
		}
		logger.Info("stream run skipped: another process is reading the windows of every sub-account it needs",
			"sub_accounts", res.Locked)
		return nil, ErrLocked
	}
	res.Status = db.RunSucceeded
	switch {
	case runErr != nil:
		if cause := context.Cause(ctx); ctx.Err() != nil && cause != nil && !errors.Is(runErr, cause) {
			runErr = fmt.Errorf("%w: %w", runErr, cause)
		}
		res.Status = StatusOf(ctx, runErr)
		if res.Status != db.RunCanceled {
			runErr = r.cfg.explain(runErr)
		}
		res.Error = runErr.Error()
	case slices.ContainsFunc(res.Scopes, func(s StreamScope) bool { return s.Status == db.ScopeFailed }):
		res.Status = db.RunPartial
		_, failed, _ := res.Windows()
		res.Error = fmt.Sprintf("%d windows failed", failed)
	}
	ferr := lock.Finish(ctx, &db.RunFinishParams{RunID: res.RunID, Status: res.Status, Error: res.Error,
		APIRequests: res.API.Requests, TokenRefreshes: res.API.Refreshes, Retries: res.API.Retries, RateLimited: res.API.RateLimited})
	if ferr != nil {
		logger.Error("recording the stream run's end", "err", ferr)
	}
	read, failed, left := res.Windows()
	attrs := []any{"status", res.Status, "windows_read", read, "windows_failed", failed, "windows_left", left,
		"took", res.Finished.Sub(res.Started).Round(time.Millisecond), "api_requests", res.API.Requests}
	switch {
	case runErr != nil && res.Status == db.RunCanceled:
		logger.Warn("stream run ended", attrs...)
		return res, runErr
	case runErr != nil:
		logger.Error("stream run ended", append(attrs, "err", res.Error)...)
		return res, runErr
	case ferr != nil:
		return res, fmt.Errorf("recording the stream run's end: %w", ferr)
	}
	logger.Info("stream run ended", attrs...)
	return res, nil
}

// closeClient logs the client out (its tokens revoked), even after ctx ended.
func (r *StreamRunner) closeClient(ctx context.Context, logger *slog.Logger) {
	cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	if err := r.client.Close(cctx); err != nil {
		logger.Warn("logging out", "err", err)
	}
}

// subAccount is a sub-account a run reads, from the accounts listing.
type subAccount struct {
	id string
	// retention is how far back the API keeps data (dataRetentionDays; 0 when not said).
	retention time.Duration
}

// run authenticates, lists the sub-accounts and reads each one's windows, side by side.
func (r *StreamRunner) run(ctx context.Context, res *StreamResult, lock *db.StreamLock, logger *slog.Logger, prog *streamProgress) error {
	if _, err := r.client.Login(ctx); err != nil {
		return fmt.Errorf("authenticating: %w", err)
	}
	subs, missing, err := r.subAccounts(ctx, logger)
	if err != nil {
		return err
	}
	// A sub-account asked for (--sub-account) that the listing lacks fails its scopes, as the
	// entities' do: the others are read.
	for _, id := range missing {
		for _, st := range r.streams {
			res.Scopes = append(res.Scopes, StreamScope{Stream: st.Name, SubAccountID: id, Status: db.ScopeFailed,
				Error: "--sub-account " + id + ": the accounts listing does not return it"})
		}
	}
	var (
		mu      gosync.Mutex
		g, gctx = errgroup.WithContext(ctx)
	)
	// The reporting buckets are per sub-account: each sub-account's waits for its own, so they
	// all proceed side by side (the client bounds the requests in flight).
	limit := r.cfg.Concurrency
	if r.hasReporting() {
		limit = max(limit, min(len(subs), maxReportingSideBySide))
	}
	g.SetLimit(limit)
	for _, sub := range subs {
		g.Go(func() error {
			if gctx.Err() != nil {
				return nil // stopping: the run's end says why
			}
			// The lock's statements run on the run's own session: never cut short by a
			// cancellation (pgx closes a connection whose query is canceled), but bounded.
			lctx, cancel := context.WithTimeout(context.WithoutCancel(gctx), lockStatementTimeout)
			ok, err := lock.TrySubAccount(lctx, sub.id)
			cancel()
			if err != nil {
				return fmt.Errorf("locking sub-account %s: %w", sub.id, err)
			}
			if !ok {
				logger.Info("another process is reading this sub-account's windows; skipped", "sub_account_id", sub.id)
				mu.Lock()
				res.Locked = append(res.Locked, sub.id)
				mu.Unlock()
				return nil
			}
			defer func() {
				lctx, cancel := context.WithTimeout(context.WithoutCancel(gctx), lockStatementTimeout)
				defer cancel()
				if err := lock.ReleaseSubAccount(lctx, sub.id); err != nil {
					logger.Warn("releasing a sub-account's lock", "sub_account_id", sub.id, "err", err)
				}
			}()
			scopes, err := r.readSubAccount(gctx, lock, logger, prog, sub)
			mu.Lock()
			res.Scopes = append(res.Scopes, scopes...)
			mu.Unlock()
			return err
		})
	}
	err = g.Wait()
	slices.SortFunc(res.Scopes, func(a, b StreamScope) int {
		return cmp.Or(cmp.Compare(entity.StreamOrder(a.Stream), entity.StreamOrder(b.Stream)), cmp.Compare(a.SubAccountID, b.SubAccountID))
	})
	slices.Sort(res.Locked)
	return err
}

// subAccounts lists the sub-accounts (one request), restricted to cfg.SubAccounts, and returns
// the ids of that restriction the listing lacks. Accounts the listing sent but that could not
// be decoded are left out with a warning, as the entities' runs do.
func (r *StreamRunner) subAccounts(ctx context.Context, logger *slog.Logger) (subs []subAccount, missing []string, _ error) {
	accts, err := r.cfg.Accounts, error(nil)
	if accts == nil {
		accts, _, err = r.client.ListAccounts(ctx)
	}
	var ie *engageclient.ItemsError
	switch {
	case errors.As(err, &ie):
		logger.Warn("some accounts of the listing could not be read: their windows are not read", "err", err)
	case err != nil:
		return nil, nil, fmt.Errorf("listing the sub-accounts: %w", err)
	}
	seen := map[string]bool{}
	for _, a := range accts {
		if a == nil || seen[a.AccountID] || (len(r.cfg.SubAccounts) > 0 && !slices.Contains(r.cfg.SubAccounts, a.AccountID)) {
			continue
		}
		seen[a.AccountID] = true
		subs = append(subs, subAccount{id: a.AccountID, retention: retentionOf(a.Raw)})
		if m := a.MainAccount; m != nil && m.RCAccountID != nil && *m.RCAccountID != "" {
			r.rcAccounts[a.AccountID] = *m.RCAccountID
		}
	}
	for _, id := range r.cfg.SubAccounts {
		if !seen[id] && !slices.Contains(missing, id) {
			missing = append(missing, id)
		}
	}
	slices.SortFunc(subs, func(a, b subAccount) int { return cmp.Compare(a.id, b.id) })
	return subs, missing, nil
}

// readSubAccount reads the due windows of every stream of one sub-account, whose lock the
// run holds: it plans them all first (so that the ETA counts the whole run's requests from its
// start), then reads them stream by stream. A 403 from one reporting stream stands for the
// others (the entitlement, "WEM Access", is the sub-account's): they are recorded refused
// without a request of their own, which at the reporting limits costs minutes each.
func (r *StreamRunner) readSubAccount(ctx context.Context, lock *db.StreamLock, logger *slog.Logger, prog *streamProgress,
	sub subAccount) ([]StreamScope, error) {
	if r.hasReporting() {
		// The requests another process sent for this sub-account lately count against its
		// bucket: the limits are the API's, per sub-account, whoever sends.
		sent, err := r.store.WindowsAttempted(ctx, sub.id, reportingStreams(entity.Streams()), r.cfg.Now().Add(-reportingSeedPeriod))
		if err != nil {
			return nil, fmt.Errorf("reading the recent reporting requests of sub-account %s: %w", sub.id, err)
		}
		r.client.ReportingSeed(sub.id, sent)
	}
	type planned struct {
		st      *entity.Stream
		due     []dueWindow
		refused time.Time
	}
	var plans []planned
	for _, st := range r.streams {
		due, refused, err := r.plan(ctx, st, sub, logger.With("stream", st.Name, "sub_account_id", sub.id))
		if err != nil {
			return nil, fmt.Errorf("planning the windows of %s for sub-account %s: %w", st.Name, sub.id, err)
		}
		prog.plan(sub.id, st, len(due))
		plans = append(plans, planned{st, due, refused})
	}
	// The streams of one bucket are read one after another; the buckets side by side, so that
	// the admin limiter's windows (the audit log) do not hold the reporting bucket idle.
	var (
		mu     gosync.Mutex
		scopes []StreamScope
	)
	g, gctx := errgroup.WithContext(ctx)
	for _, bucket := range []entity.Bucket{entity.BucketAdmin, entity.BucketReporting} {
		g.Go(func() error {
			var refusal error // a reporting stream's 403 in this run
			failures := 0     // the bucket's windows that failed in a row
			for _, p := range plans {
				if p.st.Bucket != bucket {
					continue
				}
				sc, err := r.readStream(gctx, lock, logger, prog, p.st, sub, p.due, p.refused, refusal, &failures)
				if sc != nil {
					mu.Lock()
					scopes = append(scopes, *sc)
					mu.Unlock()
					if sc.refusal != nil && p.st.Bucket == entity.BucketReporting {
						refusal = sc.refusal
					}
				}
				if err != nil {
					return err
				}
			}
			return nil
		})
	}
	err := g.Wait()
	return scopes, err
}

// maxReportingSideBySide bounds the sub-accounts a run with reporting streams reads at once:
// their buckets' waits overlap; the windows read at once are bounded apart (reads).
const maxReportingSideBySide = 64

// reportingSeedPeriod is how far back the ledger's reporting requests are read for a
// sub-account's bucket: more than the longest documented limit's period (the bucket ignores
// what is older than its own). The ledger holds a window's last attempt: a retry or a second
// piece of it is not counted.
const reportingSeedPeriod = 20 * time.Minute

// hasReporting reports whether the run reads a stream of the reporting bucket.
func (r *StreamRunner) hasReporting() bool {
	return slices.ContainsFunc(r.streams, func(s *entity.Stream) bool { return s.Bucket == entity.BucketReporting })
}

// reportingStreams are the names of the streams of ss that the reporting bucket paces.
func reportingStreams(ss []*entity.Stream) []entity.Name {
	var out []entity.Name
	for _, s := range ss {
		if s.Bucket == entity.BucketReporting {
			out = append(out, s.Name)
		}
	}
	return out
}

// retentionOf reads dataRetentionDays from an account's raw JSON: a positive number of days,
// as a number or a numeric string ([I] the spec types it an integer); 0 when absent or not so.
func retentionOf(raw []byte) time.Duration {
	var a struct {
		Days json.RawMessage `json:"dataRetentionDays"`
	}
	if json.Unmarshal(raw, &a) != nil || len(a.Days) == 0 {
		return 0
	}
	text := string(a.Days)
	if uq, err := strconv.Unquote(text); err == nil {
		text = uq
	}
	n, err := strconv.Atoi(text)
	if err != nil || n <= 0 {
		return 0
	}
	return time.Duration(n) * 24 * time.Hour
}

// windowRead is one read of one window, as a stream's reader sees it.
type windowRead struct {
	subAccountID string
	span         db.Span
	redact       []string
	loc          *time.Location                        // the reporting requests' zone
	rcAccount    func(context.Context) (string, error) // the reporting paths' rcAccountId
	done         []func()                              // run once the window's read is over
}

// onDone registers f to run once the window's read is over (published or not): the reader's
// responses are closed then even when the publish never ranged over their rows.
func (rd *windowRead) onDone(f func()) { rd.done = append(rd.done, f) }

// dueWindow is a window a run reads, and which read it is.
type dueWindow struct {
	span db.Span
	kind readKind
}

// plan records the windows of (st, sub) that have closed since the ledger's last and returns
// those due, in the order to read them (oldest first; newest first for a backfill). until is
// set when the (stream, sub-account) was refused with 403 recently: nothing is due before it.
func (r *StreamRunner) plan(ctx context.Context, st *entity.Stream, sub subAccount, logger *slog.Logger) (due []dueWindow, until time.Time, err error) {
	now := r.cfg.Now()
	w := r.cfg.windowOf(st)
	rules := windowRules{firstDelay: r.cfg.FirstDelay, settleAfter: r.cfg.SettleAfter}
	last := lastClosedEnd(now, w, r.cfg.FirstDelay)
	if r.cfg.Backfill != nil {
		due, err := r.planBackfill(ctx, st, sub, logger, now, w, rules, last)
		return due, time.Time{}, err
	}
	from, ok, err := r.store.WindowsLastEnd(ctx, st.Name, sub.id)
	if err != nil {
		return nil, time.Time{}, err
	}
	if !ok {
		from = alignDown(r.cfg.Start, w)
	}
	if from.Before(last) {
		if _, err := r.store.WindowsRecord(ctx, st.Name, sub.id, gridFrom(from, last, w), false); err != nil {
			return nil, time.Time{}, err
		}
	}
	ws, err := r.store.WindowsOpen(ctx, st.Name, sub.id)
	if err != nil {
		return nil, time.Time{}, err
	}
	if until := refusedUntil(now, ws); !until.IsZero() {
		return nil, until, nil
	}
	for i := range ws {
		if k := rules.kindAt(now, &ws[i]); k != notDue {
			due = append(due, dueWindow{db.Span{Start: ws[i].Start, End: ws[i].End}, k})
		}
	}
	return due, time.Time{}, nil
}

// planBackfill records the windows of the backfill's range (from its Since, or the oldest
// the sub-account's retention keeps, to its Until or the last window due) and returns those
// to read, newest first: those not read yet, or every one with Refetch.
func (r *StreamRunner) planBackfill(ctx context.Context, st *entity.Stream, sub subAccount, logger *slog.Logger,
	now time.Time, w time.Duration, rules windowRules, last time.Time) ([]dueWindow, error) {
	b := r.cfg.Backfill
	var due []dueWindow
	open, err := r.store.WindowsOpen(ctx, st.Name, sub.id)
	if err != nil {
		return nil, err
	}
	if until := refusedUntil(now, open); !until.IsZero() {
		logger.Info("not entitled: the backfill of this sub-account waits until a day after the 403", "after", until.Format(time.RFC3339))
		return nil, nil
	}
	since := b.Since
	if sub.retention > 0 && since.Before(now.Add(-sub.retention)) {
		since = now.Add(-sub.retention)
		logger.Warn("the backfill starts later than asked: the API keeps this sub-account's data for its dataRetentionDays",
			"stream", st.Name, "sub_account_id", sub.id, "retention_days", int(sub.retention/(24*time.Hour)), "starts", alignUp(since, w))
		since = alignUp(since, w) // the first window wholly within the retention
	}
	from, to := alignDown(since, w), last
	if !b.Until.IsZero() {
		if u := alignUp(b.Until, w); u.Before(to) {
			to = u
		}
	}
	if !from.Before(to) {
		return nil, nil
	}
	if _, err := r.store.WindowsRecord(ctx, st.Name, sub.id, spans(from, to, w), true); err != nil {
		return nil, err
	}
	ws, err := r.store.WindowsIn(ctx, st.Name, sub.id, from, to)
	if err != nil {
		return nil, err
	}
	for i := len(ws) - 1; i >= 0; i-- { // newest first
		k := rules.kindAt(now, &ws[i])
		if b.Refetch {
			k = firstRead
			if rules.settles(now, ws[i].End) {
				k = settleRead
			}
		}
		if k != notDue {
			due = append(due, dueWindow{db.Span{Start: ws[i].Start, End: ws[i].End}, k})
		}
	}
	return due, nil
}

// maxConsecutiveFailures: a sub-account whose windows of one bucket (the admin limiter's, or
// its reporting bucket's) fail this many times in a row leaves the rest of that bucket's due
// windows for the next run, so a broken sub-account does not spend the budget.
const maxConsecutiveFailures = 3

// readStream reads the due windows of one (stream, sub-account). The scope it returns is nil
// when nothing was due. An error ends the run (the database failed, or the run was stopped);
// a window's failed read is recorded and does not.
// refusal, when set, is another reporting stream's 403 for the sub-account in this run: the
// first due window is recorded refused with it, unrequested.
func (r *StreamRunner) readStream(ctx context.Context, lock *db.StreamLock, logger *slog.Logger, prog *streamProgress,
	st *entity.Stream, sub subAccount, due []dueWindow, refused time.Time, refusal error, failures *int) (*StreamScope, error) {
	logger = logger.With("stream", st.Name, "sub_account_id", sub.id)
	if !refused.IsZero() {
		logger.Info("not entitled: tried again later", "after", refused.Format(time.RFC3339), "missing", st.NotEntitled)
		return &StreamScope{Stream: st.Name, SubAccountID: sub.id, Status: db.ScopeNotEntitled}, nil
	}
	if len(due) == 0 {
		return nil, nil
	}
	sc := &StreamScope{Stream: st.Name, SubAccountID: sub.id, Status: db.ScopeSucceeded}
	if *failures >= maxConsecutiveFailures {
		sc.Left = len(due)
		prog.leave(sub.id, st, sc.Left)
		logger.Warn("windows keep failing: this stream's are left for the next run too", "windows", sc.Left)
		return sc, nil
	}
	if refusal != nil && st.Bucket == entity.BucketReporting {
		ferr := r.store.WindowFail(ctx, &db.WindowFailParams{RunID: lock.RunID, Stream: st.Name, SubAccountID: sub.id,
			Span: due[0].span, Status: db.WindowNotEntitled, Error: refusal.Error(), At: r.cfg.Now(), Lock: lock})
		if ferr != nil {
			return sc, fmt.Errorf("recording a refused window of %s: %w", st.Name, ferr)
		}
		sc.Status, sc.refusal, sc.Left = db.ScopeNotEntitled, refusal, len(due)
		prog.leave(sub.id, st, len(due))
		return sc, nil
	}
	deadline, hasDeadline := ctx.Deadline()
	for i, dw := range due {
		if err := ctx.Err(); err != nil && leftBy(ctx, nil) == "" {
			return sc, fmt.Errorf("reading %s: %w", st.Name, err)
		}
		if ctx.Err() != nil || hasDeadline && time.Now().Add(r.estimate(prog, st, sub.id)).After(deadline) {
			sc.Left = len(due) - i
			prog.leave(sub.id, st, sc.Left)
			logger.Info("left windows due for the next run: this run's deadline comes before they could be read",
				"windows", sc.Left, "deadline", deadline.Format(time.RFC3339))
			break
		}
		start, wait := time.Now(), r.bucketWait(st, sub.id)
		counts, publish, err := r.readWindow(ctx, lock, prog, st, sub, dw)
		prog.read(sub.id, st, time.Since(start), wait, counts.Fetched)
		sc.Publish += publish
		if err == nil {
			sc.add(counts)
			*failures = 0
			continue
		}
		if why := leftBy(ctx, err); why != "" {
			// This window and the rest stay due for a later run.
			sc.Left = len(due) - i
			prog.leave(sub.id, st, sc.Left)
			logger.Log(ctx, leftLevel(why), "left windows due for the next run: "+why, "windows", sc.Left, "err", err)
			return sc, nil
		}
		switch {
		case ctx.Err() != nil:
			return sc, fmt.Errorf("reading %s: %w", st.Name, err)
		case errors.Is(err, db.ErrLockLost):
			return sc, fmt.Errorf("reading %s: %w", st.Name, err)
		}
		status, err, ferr := r.failWindow(ctx, lock, st, sub, dw, err)
		if ferr != nil {
			return sc, ferr
		}
		if status == db.WindowNotEntitled {
			r.warnRefused(logger, st, err)
			sc.Status, sc.refusal = db.ScopeNotEntitled, err
			sc.Left = len(due) - i - 1
			prog.leave(sub.id, st, sc.Left)
			return sc, nil
		}
		logger.Warn("window failed; read again at a later run", "window_start", dw.span.Start.Format(time.RFC3339), "err", err)
		sc.Status, sc.Error = db.ScopeFailed, err.Error()
		sc.Failed++
		if *failures++; *failures >= maxConsecutiveFailures && i+1 < len(due) {
			sc.Left = len(due) - i - 1
			prog.leave(sub.id, st, sc.Left)
			logger.Warn("windows keep failing: the rest are left for the next run", "failed_in_a_row", *failures, "windows", sc.Left)
			break
		}
	}
	return sc, nil
}

// readWindow reads one window and publishes it with its ledger row; publish is the time the
// publish took.
func (r *StreamRunner) readWindow(ctx context.Context, lock *db.StreamLock, prog *streamProgress, st *entity.Stream, sub subAccount,
	dw dueWindow) (db.WindowCounts, time.Duration, error) {
	counts, publish, err := r.readWindowOnce(ctx, lock, prog, st, sub, dw, false)
	if errors.Is(err, db.ErrStoredElsewhere) {
		// A window never read held a key another window's rows hold (an item whose window
		// column moved): read again, its items through the staging table, which moves it.
		r.logger.Info("reading a window again: a key of it is stored by another window", "stream", st.Name,
			"sub_account_id", sub.id, "window_start", dw.span.Start.Format(time.RFC3339))
		var again time.Duration
		counts, again, err = r.readWindowOnce(ctx, lock, prog, st, sub, dw, true)
		publish += again
	}
	return counts, publish, err
}

// readWindowOnce is one read and publish of readWindow; staged: every item through the
// staging table.
func (r *StreamRunner) readWindowOnce(ctx context.Context, lock *db.StreamLock, prog *streamProgress, st *entity.Stream, sub subAccount,
	dw dueWindow, staged bool) (_ db.WindowCounts, publish time.Duration, _ error) {
	rd := &windowRead{subAccountID: sub.id, span: dw.span, redact: r.cfg.Redact, loc: r.cfg.Location,
		rcAccount: func(ctx context.Context) (string, error) { return r.rcAccountFor(ctx, sub.id) }}
	defer func() {
		for _, f := range rd.done {
			f()
		}
	}()
	if st.Bucket == entity.BucketReporting {
		// The window's requests go only once its bucket lets all of them go back to back and a
		// read slot is free: a response is read while its rows are published, so it must not
		// wait, open, for the bucket (a second piece) nor for a database connection.
		if err := r.awaitBucket(ctx, sub.id, len(pieces(dw.span, r.cfg.Location))); err != nil {
			return db.WindowCounts{}, 0, err
		}
		select {
		case r.reads <- struct{}{}:
		case <-ctx.Done():
			return db.WindowCounts{}, 0, ctx.Err()
		}
		defer func() { <-r.reads }()
		if !staged {
			prog.sending(sub.id)
		}
	}
	rows, err := streamReaders[st.Name](ctx, r.client, rd)
	if err != nil {
		return db.WindowCounts{}, 0, err
	}
	start := time.Now()
	counts, err := r.store.WindowPublish(ctx, &db.WindowPublishParams{RunID: lock.RunID, Stream: st, SubAccountID: sub.id,
		Span: dw.span, Settle: dw.kind == settleRead, Rows: rows, Lock: lock, At: r.cfg.Now(), Staged: staged})
	return counts, time.Since(start), err
}

// errPastDeadline: a window's requests could not all go before the run's deadline.
var errPastDeadline = fmt.Errorf("the reporting bucket's wait: %w", engageclient.ErrPastDeadline)

// warnRefused logs a 403 of stream st with what to ask for: once per run for the admin
// limiter's streams (the audit log's entitlement is the user's), once per sub-account for the
// reporting streams (the others of the sub-account are not requested).
func (r *StreamRunner) warnRefused(logger *slog.Logger, st *entity.Stream, err error) {
	warn := func() {
		logger.Warn("not entitled: the API refused the stream with 403; tried again in a day", "missing", st.NotEntitled, "err", err)
	}
	if st.Bucket == entity.BucketReporting {
		warn()
		return
	}
	r.refusedOnce(st.Name, warn)
}

// failWindow records the failed read of window dw: not entitled for an Engage API 403, else
// failed with its error explained. It returns the status, the error as recorded, and the
// error of recording it.
func (r *StreamRunner) failWindow(ctx context.Context, lock *db.StreamLock, st *entity.Stream, sub subAccount, dw dueWindow,
	err error) (db.WindowStatus, error, error) {
	status := db.WindowFailed
	var ae *engageclient.APIError
	if errors.As(err, &ae) && ae.StatusCode == http.StatusForbidden && ae.Step == engageclient.StepAPI {
		status = db.WindowNotEntitled
	} else {
		err = r.cfg.explain(err)
	}
	ferr := r.store.WindowFail(ctx, &db.WindowFailParams{RunID: lock.RunID, Stream: st.Name, SubAccountID: sub.id,
		Span: dw.span, Status: status, Error: err.Error(), At: r.cfg.Now(), Lock: lock})
	if ferr != nil {
		return status, err, fmt.Errorf("recording a failed window of %s: %w", st.Name, ferr)
	}
	return status, err, nil
}

// leftBy says why a window's failed read leaves it and the rest due rather than failed: the
// run's deadline came, its limiter's wait would pass it, or a 429 asked for a pause longer than
// engage.max_retry_wait (the requests behind it are not sent); "" for none of them.
func leftBy(ctx context.Context, err error) string {
	var rl *engageclient.RateLimitError
	switch {
	case errors.Is(ctx.Err(), context.DeadlineExceeded), errors.Is(err, engageclient.ErrPastDeadline):
		return "this run's deadline comes before they could be read"
	case errors.As(err, &rl) && rl.Unsent:
		return leftByPause
	}
	return ""
}

// leftByPause is leftBy's reason for a 429's long pause.
const leftByPause = "the API asked for a long pause"

// leftLevel is the level of the line that says windows were left for why: a deadline is
// expected, a long pause is not.
func leftLevel(why string) slog.Level {
	if why == leftByPause {
		return slog.LevelWarn
	}
	return slog.LevelInfo
}

// awaitBucket waits until sub's reporting bucket lets n requests go back to back; it fails at
// once with errPastDeadline when that is after ctx's deadline.
func (r *StreamRunner) awaitBucket(ctx context.Context, sub string, n int) error {
	for {
		// Once the last of n could go now, all n can go back to back (the log only frees
		// slots as time passes).
		d := r.client.ReportingSpan(sub, n)
		if d <= 0 {
			return nil
		}
		if dl, ok := ctx.Deadline(); ok && time.Now().Add(d).After(dl) {
			return errPastDeadline
		}
		if err := sleep(ctx, d); err != nil {
			return err
		}
	}
}

// sleep waits d or until ctx ends.
func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// reportProgress calls cfg.ProgressFunc every interval until the returned stop, which sends
// the last report (Done).
func (r *StreamRunner) reportProgress(ctx context.Context, p *streamProgress) (stop func()) {
	if r.cfg.ProgressFunc == nil {
		return func() {}
	}
	stopTicks := every(ctx, r.cfg.ProgressInterval, func() { r.cfg.ProgressFunc(p.snapshot(r.client, false)) })
	return func() {
		stopTicks()
		r.cfg.ProgressFunc(p.snapshot(r.client, true))
	}
}

// streamProgress counts a stream run's windows and paces its ETA and deadline estimate. The
// windows of the admin limiter's streams and those of the reporting buckets are counted apart:
// the first share one limiter, the others are paced per sub-account, side by side.
type streamProgress struct {
	runID       int64
	concurrency int                // sub-accounts read at once
	base        engageclient.Stats // the client's counters when the run started
	start       time.Time
	interval    time.Duration // the admin limiter's interval between requests
	planned     atomic.Int64  // every window
	done        atomic.Int64  // read or failed
	left        atomic.Int64
	rows        atomic.Int64
	mu          gosync.Mutex
	admin       windowCount             // the admin limiter's windows
	reporting   map[string]*windowCount // the reporting windows, per sub-account
	avg         time.Duration           // a moving average of an admin window's read and publish
	service     time.Duration           // of a reporting window's, past its wait for the bucket
}

// windowCount is a count of windows planned, no longer to read (read, failed or left), and
// being read (their requests sent or about to be).
type windowCount struct{ planned, over, sending int64 }

func (w *windowCount) remaining() int64 { return max(w.planned-w.over-w.sending, 0) }

// sending counts a reporting window of sub whose requests go now: the bucket's span no
// longer waits for them.
func (p *streamProgress) sending(sub string) {
	p.mu.Lock()
	if c := p.reporting[sub]; c != nil {
		c.sending++
	}
	p.mu.Unlock()
}

func newStreamProgress(runID int64, rpm, concurrency int, base engageclient.Stats) *streamProgress {
	p := &streamProgress{runID: runID, start: time.Now(), base: base, concurrency: concurrency, reporting: map[string]*windowCount{}}
	if rpm > 0 {
		p.interval = time.Minute / time.Duration(rpm)
	}
	return p
}

// count is the count of the windows of (sub, st); the caller holds mu.
func (p *streamProgress) count(sub string, st *entity.Stream) *windowCount {
	if st.Bucket != entity.BucketReporting {
		return &p.admin
	}
	c := p.reporting[sub]
	if c == nil {
		c = &windowCount{}
		p.reporting[sub] = c
	}
	return c
}

// plan counts n windows of (sub, st) to read.
func (p *streamProgress) plan(sub string, st *entity.Stream, n int) {
	p.planned.Add(int64(n))
	p.mu.Lock()
	p.count(sub, st).planned += int64(n)
	p.mu.Unlock()
}

// leave counts n windows of (sub, st) left for the next run.
func (p *streamProgress) leave(sub string, st *entity.Stream, n int) {
	p.left.Add(int64(n))
	p.mu.Lock()
	p.count(sub, st).over += int64(n)
	p.mu.Unlock()
}

// read records one window's read of (sub, st) that took d, of which wait was the bucket's
// wait (a reporting window's).
func (p *streamProgress) read(sub string, st *entity.Stream, d, wait time.Duration, rows int64) {
	p.done.Add(1)
	p.rows.Add(rows)
	p.mu.Lock()
	defer p.mu.Unlock()
	c := p.count(sub, st)
	c.over++
	avg := &p.avg
	if st.Bucket == entity.BucketReporting {
		avg, d = &p.service, max(d-wait, 0)
		c.sending = max(c.sending-1, 0)
	}
	if *avg == 0 {
		*avg = d
	} else {
		*avg = (3**avg + d) / 4
	}
}

// bucketWait is how long the next request of (st, sub) waits for its bucket (0 for the admin
// limiter's streams, whose wait the estimate reads from the client's Stats).
func (r *StreamRunner) bucketWait(st *entity.Stream, sub string) time.Duration {
	if st.Bucket != entity.BucketReporting {
		return 0
	}
	return r.client.ReportingWait(sub)
}

// estimate is how long the next window of (st, sub) is expected to take: for the admin
// limiter's streams, the slower of the pace so far and the limiter's interval, after what is
// left of a wait the server imposed; for a reporting stream, its sub-account's bucket's wait
// (a 429's pause included) and a window's read and publish past it. Each with a margin.
func (r *StreamRunner) estimate(p *streamProgress, st *entity.Stream, sub string) time.Duration {
	if st.Bucket == entity.BucketReporting {
		p.mu.Lock()
		service := p.service
		p.mu.Unlock()
		return r.client.ReportingWait(sub) + service + time.Second
	}
	api := r.client.Stats()
	p.mu.Lock()
	defer p.mu.Unlock()
	return max(time.Until(api.Wait.Until), 0) + max(p.avg, p.interval) + time.Second
}

// snapshot is the run's progress now. Its ETA is the later of two: the admin limiter's
// windows by runETA (at the limiter's pace or the pace so far, whichever is slower, after the
// server's wait), and each sub-account's reporting windows at its bucket's limits
// (ReportingSpan: when the last of them could be sent), plus a window's read and publish.
func (p *streamProgress) snapshot(c StreamClient, done bool) Progress {
	api := c.Stats()
	wait := api.Wait
	api = statsSince(api, p.base)
	planned, read := p.planned.Load(), p.done.Load()
	p.mu.Lock()
	avg, service, admin := p.avg, p.service, p.admin
	remaining := map[string]int64{}
	for sub, w := range p.reporting {
		remaining[sub] = w.remaining()
	}
	p.mu.Unlock()
	pr := Progress{RunID: p.runID, Phase: "windows", ScopesDone: read, ScopesTotal: planned, Listed: read, Planned: planned,
		Rows: p.rows.Load(), Requests: api.Requests, Retries: api.Retries, RateLimited: api.RateLimited,
		Refreshes: api.Refreshes, Elapsed: time.Since(p.start), Done: done}
	if wt := time.Until(wait.Until); wt > 0 {
		pr.Wait, pr.WaitReason = wt, wait.Reason
	}
	var perMinute int
	if p.interval > 0 {
		perMinute = int(time.Minute / p.interval)
	}
	// Each sub-account's windows are read one after another, up to concurrency sub-accounts at
	// once, their requests paced by the one limiter: avg is one window's read and publish.
	pr.ETA = runETA(etaInput{Planned: admin.planned, Done: admin.over, PerMinute: perMinute, Concurrency: p.concurrency, Latency: avg, Wait: pr.Wait})
	if done {
		return pr
	}
	for sub, n := range remaining {
		if n > 0 {
			pr.ETA = max(pr.ETA, c.ReportingSpan(sub, int(n))+service)
		}
	}
	return pr
}

// statsSince is what a client's counters added since base (its Wait is now's).
func statsSince(now, base engageclient.Stats) engageclient.Stats {
	return engageclient.Stats{Grants: now.Grants - base.Grants, Exchanges: now.Exchanges - base.Exchanges,
		Refreshes: now.Refreshes - base.Refreshes, Requests: now.Requests - base.Requests, Retries: now.Retries - base.Retries,
		RateLimited: now.RateLimited - base.RateLimited, Wait: now.Wait}
}
