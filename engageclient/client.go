package engageclient

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"regexp"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// Client is the Engage Voice admin API client. Its token source (token.go) owns the auth: the
// RingCentral JWT grant, the exchange for an Engage token pair, refresh, revoke and logout; the
// API methods only ask it for a token. It is safe for concurrent use by many goroutines:
// tokens are shared and renewed single-flight, admin API calls are paced by one limiter and
// bounded by one semaphore, and integration reporting calls are paced by a bucket per
// sub-account (bucket.go).
type Client struct {
	*wire
	engageBase *url.URL
	ts         *tokenSource

	limiter *rate.Limiter // admin API pacing, burst 1
	sem     chan struct{} // admin API concurrency

	pauseMu     sync.Mutex
	pauseUntil  time.Time // admin API requests wait until then after a 429
	pauseReason string    // the header that asked for the pause (Wait.Reason)

	buckets *buckets // the integration reporting endpoints' pacing, one bucket per sub-account
}

// New validates cfg, applies the defaults and returns a Client. It makes no request; the first
// API call (or Login) authenticates.
func New(cfg Config) (*Client, error) {
	cfg = cfg.WithDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	w := newWire(cfg)
	engageBase := parseBaseURL(cfg.EngageServerURL)
	ts := newTokenSource(w, parseBaseURL(cfg.RCServerURL), engageBase)
	w.tokensFunc = ts.tokens // every token it holds or held is redacted
	c := &Client{
		wire:       w,
		engageBase: engageBase,
		ts:         ts,
		limiter:    rate.NewLimiter(rate.Every(time.Minute/time.Duration(cfg.RequestsPerMinute)), 1),
		sem:        make(chan struct{}, cfg.Concurrency),
		buckets:    newBuckets(cfg.ReportingLimits),
	}
	c.SetLogger(cfg.Logger)
	return c, nil
}

// SetLogger replaces the client's logger (nil discards), e.g. with one that carries a run id.
// Safe to call while the client is in use.
func (c *Client) SetLogger(l *slog.Logger) {
	if l == nil {
		l = slog.New(slog.DiscardHandler)
	}
	c.log.Store(l)
}

// Stats are the client's counters since New, and the wait its admin API requests are in.
type Stats struct {
	Grants      int64 // successful RingCentral JWT grants
	Exchanges   int64 // successful RingCentral → Engage token exchanges
	Refreshes   int64 // successful Engage token refreshes
	Requests    int64 // Engage API HTTP requests sent, admin and integration reporting (attempts, retries and replays included; not auth)
	Retries     int64 // retried attempts (all endpoints)
	RateLimited int64 // 429 responses received (all endpoints)
	// ReportingRequests counts the integration reporting HTTP requests sent (of Requests; attempts,
	// retries and replays included).
	ReportingRequests int64
	// Wait is the pause a 429 imposed on every admin API request, while they wait it out
	// (the zero Wait otherwise, and while a pause longer than Config.MaxRetryWait fails them).
	Wait Wait
}

// Wait is a pause of every admin API request that the server asked for.
type Wait struct {
	Until  time.Time // when requests may be sent again
	Reason string    // the header that asked for it: "Retry-After" or "X-Rate-Limit-Window"
}

// Stats returns a snapshot of the counters and of the current wait.
func (c *Client) Stats() Stats {
	return Stats{
		Grants:            c.stats.grants.Load(),
		Exchanges:         c.stats.exchanges.Load(),
		Refreshes:         c.stats.refreshes.Load(),
		Requests:          c.stats.requests.Load(),
		Retries:           c.stats.retries.Load(),
		RateLimited:       c.stats.rateLimited.Load(),
		ReportingRequests: c.stats.reportingRequests.Load(),
		Wait:              c.wait(time.Now()),
	}
}

// wait is the pause requests are waiting out at now: none once it has ended, nor while it
// lasts longer than MaxRetryWait (requests fail then instead of waiting).
func (c *Client) wait(now time.Time) Wait {
	c.pauseMu.Lock()
	defer c.pauseMu.Unlock()
	if left := c.pauseUntil.Sub(now); left <= 0 || left > c.cfg.MaxRetryWait {
		return Wait{}
	}
	return Wait{Until: c.pauseUntil, Reason: c.pauseReason}
}

// Response is the last HTTP response of a call (its body already read and closed) and how many
// pages the call fetched.
type Response struct {
	*http.Response
	Pages int
}

// Endpoint names the request of r for errors and logs as the client's own errors do:
// "GET /voice/api/v1/admin/accounts" (the path without query; "" for a nil Response).
func (r *Response) Endpoint() string {
	if r == nil || r.Response == nil || r.Request == nil || r.Request.URL == nil {
		return ""
	}
	return r.Request.Method + " " + r.Request.URL.Path
}

// do runs the admin API request r: every attempt takes a slot of the concurrency bound and
// passes the pacing (pace), carries the token source's bearer token, and a 401 gets one
// renewal and one replay per call; attempts are retried under the shared policy (wire.retry).
// r's step is StepAPI unless it names another, so that every error and log line of an admin
// API request says so.
func (c *Client) do(ctx context.Context, r *request) (*http.Response, []byte, error) {
	if r.step == "" {
		r.step = StepAPI
	}
	replayed := false
	return c.retry(ctx, r, c.cfg.MaxAttempts, func(ctx context.Context) (*http.Response, []byte, error) {
		return c.attempt(ctx, r, &replayed)
	})
}

// attempt makes one attempt of r (plus, after a 401, one renewal and one replay per call).
func (c *Client) attempt(ctx context.Context, r *request, replayed *bool) (*http.Response, []byte, error) {
	select {
	case c.sem <- struct{}{}:
	case <-ctx.Done():
		return nil, nil, ctx.Err()
	}
	defer func() { <-c.sem }()
	return c.authorized(ctx, r, replayed, c.pace, c.sendAPI)
}

// paceFunc waits until request r may be sent (an admin API request: pace; an integration
// reporting request: its sub-account's bucket).
type paceFunc func(ctx context.Context, r *request) error

// sendFunc sends request r with the bearer token tok and types an unsuccessful answer.
type sendFunc func(ctx context.Context, r *request, tok string) (*http.Response, []byte, error)

// authorized makes one attempt of r once pace allows it, with the token source's bearer token,
// sent by send; after a 401 it renews the token and replays r once per call (replayed).
func (c *Client) authorized(ctx context.Context, r *request, replayed *bool, pace paceFunc, send sendFunc) (*http.Response, []byte, error) {
	if err := pace(ctx, r); err != nil {
		return nil, nil, err
	}
	tok, err := c.ts.Token(ctx)
	if err != nil {
		return nil, nil, &permanentError{err}
	}
	resp, body, err := send(ctx, r, tok)
	if *replayed || resp == nil || resp.StatusCode != http.StatusUnauthorized {
		return resp, body, err
	}
	*replayed = true
	return c.replay(ctx, r, tok, resp, body, pace, send)
}

// replay sends r again after the 401 resp (with body) rejected tok, with a renewed token. Any
// 401 gets it: the docs' 401 says "Jwt is expired" in text/plain, the spec's has no body at
// all. The replay is paced like any request, and its answer is returned as it is, a second
// 401 included.
func (c *Client) replay(ctx context.Context, r *request, tok string, resp *http.Response, body []byte, pace paceFunc, send sendFunc) (*http.Response, []byte, error) {
	c.logger().Info("engage: access token rejected; renewing it and replaying once",
		slog.String("endpoint", c.endpoint(r)), slog.Bool("expired", isExpiredBody(body)))
	c.ts.Invalidate(tok)
	tok, err := c.ts.Token(ctx)
	if err != nil {
		return resp, nil, &permanentError{err}
	}
	if err := pace(ctx, r); err != nil {
		return nil, nil, err
	}
	return send(ctx, r, tok)
}

// sendAPI sends r with the bearer token tok. An unsuccessful answer is an *APIError, and a
// 429's Retry-After pauses every admin API request (pause).
func (c *Client) sendAPI(ctx context.Context, r *request, tok string) (*http.Response, []byte, error) {
	c.stats.requests.Add(1)
	resp, body, err := c.send(ctx, r, "Bearer "+tok)
	if err != nil || succeeded(resp) {
		return resp, body, err
	}
	aerr := newAPIError(r.step, resp, body, c.redact)
	var rl *RateLimitError
	if errors.As(aerr, &rl) {
		c.pause(rl.RetryAfter, rl.waitHeader)
	}
	return resp, body, aerr
}

// pace waits for any server-imposed pause and for the client-side limiter. A 429 may announce
// a pause while a request waits on the limiter, so the pause is checked again after the wait:
// no request starts inside an announced window. A request that had to wait out a pause goes
// through the limiter again, so the requests held back do not all start at its end. A pause
// that lasts longer than MaxRetryWait is not waited out: r fails at once, unsent, with a
// *RateLimitError (so a 429 asking for an hour ends the requests behind it promptly, until
// what is left of it is short enough to wait).
func (c *Client) pace(ctx context.Context, r *request) error {
	for {
		if d := c.paused(); d > 0 {
			if d > c.cfg.MaxRetryWait {
				return &permanentError{c.pausedError(r, d)}
			}
			if err := sleep(ctx, d); err != nil {
				return err
			}
		}
		if err := c.limiter.Wait(ctx); err != nil {
			if ctxErr := ctx.Err(); ctxErr != nil {
				return ctxErr
			}
			// The wait would outlast the context's deadline.
			return &permanentError{fmt.Errorf("pacing requests: %w: %w: %w", ErrPastDeadline, context.DeadlineExceeded, err)}
		}
		if c.paused() <= 0 {
			return nil
		}
	}
}

// pausedError is the error of a request r not sent because the shared pause still lasts d,
// more than MaxRetryWait.
func (c *Client) pausedError(r *request, d time.Duration) *RateLimitError {
	return &RateLimitError{
		APIError:   APIError{Step: r.step, StatusCode: http.StatusTooManyRequests, Method: r.method, URL: c.redact(sanitizeURL(r.url))},
		RetryAfter: d.Round(time.Second),
		MaxWait:    c.cfg.MaxRetryWait,
		Unsent:     true,
	}
}

// paused returns how long the announced pause still lasts (0 or less when there is none).
func (c *Client) paused() time.Duration {
	c.pauseMu.Lock()
	defer c.pauseMu.Unlock()
	return time.Until(c.pauseUntil)
}

// pause makes every admin API request wait d from now (a 429's Retry-After applies to the
// shared limit, not just to the request that got it); reason names the header that asked.
func (c *Client) pause(d time.Duration, reason string) {
	if d <= 0 {
		return
	}
	until := time.Now().Add(d)
	c.pauseMu.Lock()
	if until.After(c.pauseUntil) {
		c.pauseUntil, c.pauseReason = until, reason
	}
	c.pauseMu.Unlock()
}

var expiredRE = regexp.MustCompile(`(?i)\bexpired\b`)

func isExpiredBody(body []byte) bool { return expiredRE.Match(body) }

// checkSubAccountID rejects a sub-account id that cannot name one path segment: empty, "." or
// ".." (which a server or proxy would resolve as a dot segment, requesting another endpoint).
// The other ids in paths are integers.
func checkSubAccountID(id string) error {
	switch id {
	case "", ".", "..":
		return fmt.Errorf("invalid sub-account id %q: expected a non-empty id other than \".\" and \"..\"", id)
	}
	return nil
}
