package engageclient

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"sync"
	"time"
)

// Limit is one limit of the integration reporting bucket: at most Count requests in any
// interval of length Per.
type Limit struct {
	Count int
	Per   time.Duration
}

// ReportingLimitsDefault are the documented limits of the integration reporting endpoints, per
// sub-account: 3 requests per 60 s and 9 per 15 minutes, both at once.
var ReportingLimitsDefault = []Limit{{Count: 3, Per: time.Minute}, {Count: 9, Per: 15 * time.Minute}}

// bucket paces the integration reporting requests of one sub-account: a sliding log of the
// times its requests were sent, held against every limit at once. A token bucket would let a
// burst through after a quiet spell ("9 per 15 min" would allow 9 at once, then 3 in the first
// 60 s of the next); the log allows a request only when no interval of any limit's length
// would hold more than its Count.
type bucket struct {
	limits []Limit
	keep   time.Duration // the longest Per: older sends no longer count

	mu         sync.Mutex
	log        []time.Time // send times, ascending
	pauseUntil time.Time   // a 429's pause of this bucket only
}

// buckets holds the reporting bucket of every sub-account the client has sent to.
type buckets struct {
	limits []Limit
	keep   time.Duration

	mu sync.Mutex
	m  map[string]*bucket
}

func newBuckets(limits []Limit) *buckets {
	b := &buckets{limits: slices.Clone(limits), m: map[string]*bucket{}}
	for i, l := range b.limits {
		b.limits[i].Per += bucketMargin(l.Per)
		b.keep = max(b.keep, b.limits[i].Per)
	}
	return b
}

// bucketMargin is what the bucket adds to a limit's Per: the server counts the requests as
// they arrive, and a request's way there varies (a new connection, a busy machine), so two
// requests sent exactly Per apart may arrive closer. 2% of Per, at least 25 ms: 1.2 s of the
// documented 60 s, 18 s of the 15 minutes.
func bucketMargin(per time.Duration) time.Duration { return max(per/50, 25*time.Millisecond) }

// get returns the bucket of subAccountID, making it when create is set (else nil when there is
// none yet).
func (bs *buckets) get(subAccountID string, create bool) *bucket {
	bs.mu.Lock()
	defer bs.mu.Unlock()
	b := bs.m[subAccountID]
	if b == nil && create {
		b = &bucket{limits: bs.limits, keep: bs.keep}
		bs.m[subAccountID] = b
	}
	return b
}

// nextSend is the earliest time at or after now that log allows one more send: for each
// limit, the Count-th latest send plus Per, when that is later than now. The log's times never
// lie after the candidate, so only the Count-th latest matters.
func nextSend(limits []Limit, log []time.Time, now time.Time) time.Time {
	t := now
	for _, l := range limits {
		if len(log) < l.Count {
			continue
		}
		if free := log[len(log)-l.Count].Add(l.Per); free.After(t) {
			t = free
		}
	}
	return t
}

// waitLocked is how long from now the next send must wait: the log's limits and any pause.
func (b *bucket) waitLocked(now time.Time) time.Duration {
	t := nextSend(b.limits, b.log, now)
	if b.pauseUntil.After(t) {
		t = b.pauseUntil
	}
	return t.Sub(now)
}

// pruneLocked drops the sends older than the longest limit, which count for none.
func (b *bucket) pruneLocked(now time.Time) {
	i := 0
	for i < len(b.log) && !b.log[i].After(now.Add(-b.keep)) {
		i++
	}
	if i > 0 {
		b.log = append(b.log[:0], b.log[i:]...)
	}
}

// recordLocked inserts send time t in the log, in order.
func (b *bucket) recordLocked(t time.Time) {
	i, _ := slices.BinarySearchFunc(b.log, t, func(a, t time.Time) int { return a.Compare(t) })
	b.log = slices.Insert(b.log, i, t)
}

// take waits until the bucket allows a send and, when reserve is set, records the send at that
// moment (the caller sends at once). A pause longer than MaxRetryWait fails r unsent with a
// *RateLimitError, as the admin pause does, and a wait that would outlast ctx's deadline fails
// at once, wrapping context.DeadlineExceeded, instead of sleeping into it; both are permanent.
func (c *Client) take(ctx context.Context, b *bucket, r *request, reserve bool) error {
	for {
		now := time.Now()
		b.mu.Lock()
		d := b.waitLocked(now)
		if d <= 0 {
			if reserve {
				b.pruneLocked(now)
				b.recordLocked(now)
			}
			b.mu.Unlock()
			return nil
		}
		pause := b.pauseUntil.Sub(now)
		b.mu.Unlock()
		if pause > c.cfg.MaxRetryWait {
			return &permanentError{c.pausedError(r, pause)}
		}
		if dl, ok := ctx.Deadline(); ok && now.Add(d).After(dl) {
			return &permanentError{fmt.Errorf("pacing reporting requests: %w: %w: the sub-account's bucket allows the next request in %s",
				ErrPastDeadline, context.DeadlineExceeded, d.Round(time.Millisecond))}
		}
		if err := sleep(ctx, d); err != nil {
			return err
		}
	}
}

// shortest is the shortest period of the bucket's limits.
func (b *bucket) shortest() time.Duration {
	d := b.limits[0].Per
	for _, l := range b.limits[1:] {
		d = min(d, l.Per)
	}
	return d
}

// pause makes the bucket's requests wait d from now (a 429's Retry-After).
func (b *bucket) pause(d time.Duration) {
	if d <= 0 {
		return
	}
	until := time.Now().Add(d)
	b.mu.Lock()
	if until.After(b.pauseUntil) {
		b.pauseUntil = until
	}
	b.mu.Unlock()
}

// ReportingWait returns how long from now the next integration reporting request of
// subAccountID would wait for its bucket (a 429's pause included); 0 when it may go now.
func (c *Client) ReportingWait(subAccountID string) time.Duration {
	b := c.buckets.get(subAccountID, false)
	if b == nil {
		return 0
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	return max(b.waitLocked(time.Now()), 0)
}

// ReportingSpan returns how long from now until the last of n more integration reporting
// requests of subAccountID could be sent at its bucket's limits, each sent as soon as the
// bucket allows (a 429's pause included): an honest ETA for n requests. It is 0 for n <= 0,
// and for n = 1 ReportingWait.
func (c *Client) ReportingSpan(subAccountID string, n int) time.Duration {
	if n <= 0 {
		return 0
	}
	now := time.Now()
	var log []time.Time
	t := now
	if b := c.buckets.get(subAccountID, false); b != nil {
		b.mu.Lock()
		log = slices.Clone(b.log)
		if b.pauseUntil.After(t) {
			t = b.pauseUntil
		}
		b.mu.Unlock()
	}
	for range n {
		t = nextSend(c.buckets.limits, log, t)
		log = append(log, t)
	}
	return t.Sub(now)
}

// ReportingSeed records integration reporting requests of subAccountID that another process
// sent at the times sent (read from a ledger, say), so that its bucket counts them. Times older
// than the longest limit's Per count for nothing and are ignored.
func (c *Client) ReportingSeed(subAccountID string, sent []time.Time) {
	b := c.buckets.get(subAccountID, true)
	now := time.Now()
	b.mu.Lock()
	defer b.mu.Unlock()
	for _, t := range sent {
		if t.After(now.Add(-b.keep)) {
			b.recordLocked(t)
		}
	}
	b.pruneLocked(now)
}

// sendReporting sends the integration reporting request r with the bearer token tok once its
// bucket b allows, recording the send in b. A successful response comes with its body unread
// (see wire.open); an unsuccessful one is read whole and typed as sendAPI types it, except
// that a 429's pause applies to b only, not to the admin API.
func (c *Client) sendReporting(ctx context.Context, b *bucket, r *request, tok string) (*http.Response, []byte, error) {
	if err := c.take(ctx, b, r, true); err != nil {
		return nil, nil, err
	}
	c.stats.requests.Add(1)
	c.stats.reportingRequests.Add(1)
	resp, err := c.open(ctx, r, "Bearer "+tok)
	if err != nil {
		return nil, nil, err
	}
	if succeeded(resp) {
		return resp, nil, nil
	}
	body, err := c.readBody(ctx, r, resp)
	if err != nil {
		return resp, nil, err
	}
	aerr := newAPIError(r.step, resp, body, c.redact)
	var rl *RateLimitError
	if errors.As(aerr, &rl) {
		// [I] Whether the reporting API sends Retry-After is not documented: without one, the
		// bucket pauses for its shortest limit's period, which its log alone would not.
		b.pause(cmp.Or(rl.RetryAfter, b.shortest()))
	}
	return resp, body, aerr
}

// doReporting runs the integration reporting request r of subAccountID as do runs an admin API
// request (retries, one replay after a 401), but paced by the sub-account's bucket instead of
// the admin limiter and pause. It does not take a slot of the admin concurrency bound: the
// bucket already bounds these requests to a few a minute per sub-account, and the caller reads
// a successful response's body lazily, for as long as it likes, which must not hold an admin
// slot. On success the response's body is unread: the caller closes it.
func (c *Client) doReporting(ctx context.Context, subAccountID string, r *request) (*http.Response, error) {
	if r.step == "" {
		r.step = StepAPI
	}
	b := c.buckets.get(subAccountID, true)
	replayed := false
	pace := func(ctx context.Context, r *request) error { return c.take(ctx, b, r, false) }
	send := func(ctx context.Context, r *request, tok string) (*http.Response, []byte, error) {
		return c.sendReporting(ctx, b, r, tok)
	}
	resp, _, err := c.retry(ctx, r, c.cfg.MaxAttempts, func(ctx context.Context) (*http.Response, []byte, error) {
		return c.authorized(ctx, r, &replayed, pace, send)
	})
	if err != nil {
		return resp, err
	}
	return resp, nil
}
