package sync

import (
	"context"
	"slices"
	gosync "sync"
	"sync/atomic"
	"time"

	"github.com/evsync/evsync/engageclient"
	"github.com/evsync/evsync/internal/entity"
)

// Progress is a snapshot of a run in flight.
type Progress struct {
	RunID int64 // 0 for a dry run
	// Phase names the level of listings being made ("accounts+users", "agents", ...);
	// ScopesDone and ScopesTotal count its listing requests.
	Phase       string
	ScopesDone  int64
	ScopesTotal int64
	// Listed counts the listing requests the run has made, Planned those it makes in all (0
	// while unknown: until the sub-accounts are known). Planned is exact unless PlanEstimated:
	// then the requests of the listings below those still to be made are estimated from what
	// the ones made so far found (a paged listing's further pages are not foreseen).
	Listed        int64
	Planned       int64
	PlanEstimated bool
	Rows          int64
	Requests      int64
	Retries       int64
	RateLimited   int64
	Refreshes     int64
	Elapsed       time.Duration
	// ETA is the time the whole run's remaining listing requests still need (runETA; 0 =
	// unknown or none left): at the client's pacing rate, or at the pace the requests come
	// back when that is slower, after the wait the server imposed.
	ETA time.Duration
	// Wait is what is left of a wait the server imposed on every request (a 429's
	// Retry-After), and WaitReason the header that asked for it; 0 and "" when none.
	Wait       time.Duration
	WaitReason string
	// Done is set on the last snapshot of a run, whatever its end.
	Done bool
}

type progress struct {
	reportMu    gosync.Mutex // serializes ProgressFunc calls
	runID       int64
	start       time.Time
	mu          gosync.Mutex
	phase       string
	done, total atomic.Int64
	rows        atomic.Int64
	finished    atomic.Bool
	plan        *plan
}

// newProgress returns the progress of a run that makes listings (Runner.listings).
func newProgress(listings []*entity.Listing) *progress {
	return &progress{start: time.Now(), plan: newPlan(listings)}
}

func (p *progress) setPhase(name string, total int) {
	p.mu.Lock()
	p.phase = name
	p.mu.Unlock()
	p.done.Store(0)
	p.total.Store(int64(total))
}

func (p *progress) scopeDone() { p.done.Add(1) }

// made records a listing request of l, started at start, that found found; not when the run
// is stopping, since the request may have been cut short or not sent at all.
func (p *progress) made(ctx context.Context, l *entity.Listing, found children, start time.Time) {
	if ctx.Err() == nil {
		p.plan.record(l, found, time.Since(start))
	}
}

func (p *progress) finish() { p.finished.Store(true) }

// snapshot is the run's progress at now, with the client's stats api; cfg gives the pacing
// rate and the concurrency of the ETA.
func (p *progress) snapshot(api engageclient.Stats, cfg *Config, now time.Time) Progress {
	p.mu.Lock()
	phase := p.phase
	p.mu.Unlock()
	c := p.plan.count()
	var wait time.Duration
	if !api.Wait.Until.IsZero() {
		wait = max(api.Wait.Until.Sub(now), 0)
	}
	out := Progress{RunID: p.runID,
		Phase: phase, ScopesDone: p.done.Load(), ScopesTotal: p.total.Load(), Rows: p.rows.Load(),
		Listed: c.made, Planned: c.planned, PlanEstimated: c.estimated,
		Requests: api.Requests, Retries: api.Retries, RateLimited: api.RateLimited, Refreshes: api.Refreshes,
		Elapsed: now.Sub(p.start), Done: p.finished.Load(),
	}
	if wait > 0 {
		out.Wait, out.WaitReason = wait, api.Wait.Reason
	}
	out.ETA = runETA(etaInput{Planned: c.planned, Done: c.made, PerMinute: cfg.RequestsPerMinute,
		Concurrency: cfg.Concurrency, Latency: c.latency, Wait: wait})
	return out
}

// etaInput is what runETA estimates from.
type etaInput struct {
	Planned, Done int64         // listing requests in all (0: unknown) and made
	PerMinute     int           // the client's pacing rate (0: unknown)
	Concurrency   int           // requests in flight at once
	Latency       time.Duration // the time a request takes, its pacing included (0: none made)
	Wait          time.Duration // what is left of a wait the server imposed
}

// runETA is the time the requests left (Planned-Done) still need: at PerMinute, or, when they
// come back slower than that, at Concurrency requests per Latency; after Wait. It is 0 when
// unknown (no plan yet, neither a rate nor a latency) or when no request is left.
func runETA(in etaInput) time.Duration {
	left := in.Planned - in.Done
	if in.Planned <= 0 || left <= 0 {
		return 0
	}
	var d time.Duration
	if in.PerMinute > 0 {
		d = time.Duration(left) * time.Minute / time.Duration(in.PerMinute)
	}
	if in.Latency > 0 && in.Concurrency > 0 {
		d = max(d, time.Duration(left)*in.Latency/time.Duration(in.Concurrency))
	}
	if d == 0 {
		return 0
	}
	return d + in.Wait
}

// plan counts a run's listing requests, per listing: those known to come and those made. The
// listings made once per run and those made once per sub-account are counted when the run
// knows how many it makes (settle); a listing below another is made once per item its
// parent's requests found, and while some of those are still to be made, their finds are
// estimated from what the ones made found.
type plan struct {
	listings []*entity.Listing // those the run makes (Runner.listings)

	mu    gosync.Mutex
	known map[*entity.Listing]int64 // requests known to come, the made ones included
	made  map[*entity.Listing]int64
	set   map[*entity.Listing]bool // counted by settle
	// took holds the time of the latest requests made (a ring of recentRequests), whose
	// median is the latency: the few requests that waited out a 429's pause do not make it.
	took     [recentRequests]time.Duration
	recorded int64 // requests recorded
}

// recentRequests is how many of the latest requests the latency is taken from.
const recentRequests = 32

func newPlan(listings []*entity.Listing) *plan {
	return &plan{listings: listings, known: map[*entity.Listing]int64{}, made: map[*entity.Listing]int64{},
		set: map[*entity.Listing]bool{}}
}

// settle records that the run makes n requests of l, a listing made once per run (n is 0 or
// 1) or once per sub-account (one the run does not make counts for nothing).
func (p *plan) settle(l *entity.Listing, n int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.known[l], p.set[l] = int64(n), true
}

// settleBelow settles every listing of the run whose parent is parent at n requests.
func (p *plan) settleBelow(parent *entity.Listing, n int) {
	for _, l := range p.listings {
		if l.Parent == parent {
			p.settle(l, n)
		}
	}
}

// record records a request of l made, which took took, and the items it found for the
// listings below (only those the run makes count).
func (p *plan) record(l *entity.Listing, found children, took time.Duration) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.took[p.recorded%recentRequests] = took
	p.recorded++
	p.made[l]++
	for _, c := range p.listings {
		if c.Parent == l {
			p.known[c] += int64(len(found[c]))
		}
	}
}

// planCount is what plan.count returns.
type planCount struct {
	made, planned int64
	estimated     bool          // planned includes an estimate
	latency       time.Duration // the median time of the latest requests made (0: none made)
}

// count returns the requests made and planned (planned 0 while unknown).
func (p *plan) count() planCount {
	p.mu.Lock()
	defer p.mu.Unlock()
	var c planCount
	known := true
	for _, l := range p.listings {
		c.made += p.made[l]
		n, exact, ok := p.expected(l)
		known = known && ok
		c.estimated = c.estimated || !exact
		c.planned += n
	}
	if p.recorded > 0 {
		recent := slices.Clone(p.took[:min(p.recorded, recentRequests)])
		slices.Sort(recent)
		c.latency = recent[len(recent)/2]
	}
	if !known {
		c.planned, c.estimated = 0, false
	}
	return c
}

// expected is how many requests of l the run makes: exact, or estimated; ok is false while
// it cannot be told. The caller holds mu.
func (p *plan) expected(l *entity.Listing) (n int64, exact, ok bool) {
	if p.set[l] {
		return p.known[l], true, true
	}
	if l.Parent == nil || l.Parent == entity.ListAccounts {
		return 0, false, false // not settled yet
	}
	parent, exact, ok := p.expected(l.Parent)
	if !ok {
		return 0, false, false
	}
	pending, made := parent-p.made[l.Parent], p.made[l.Parent]
	if pending <= 0 {
		return p.known[l], exact, true
	}
	if made == 0 {
		return 0, false, false // nothing found yet to estimate from
	}
	return p.known[l] + (pending*p.known[l]+made/2)/made, false, true
}

// every calls fn every interval until ctx ends or the returned stop is called; stop returns
// once fn is no longer running.
func every(ctx context.Context, interval time.Duration, fn func()) (stop func()) {
	done := make(chan struct{})
	var wg gosync.WaitGroup
	wg.Go(func() {
		t := time.NewTicker(interval)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-ctx.Done():
				return
			case <-t.C:
				fn()
			}
		}
	})
	return func() { close(done); wg.Wait() }
}
