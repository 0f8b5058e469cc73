package engageclient

import (
	"bytes"
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync/atomic"
	"time"

	"github.com/sethvargo/go-retry"
)

// maxBody bounds a response body read into memory.
const maxBody = 512 << 20

// wire is the HTTP plumbing that the token source and the admin API share: the HTTP client,
// one exchange (send), the retry policy (retry), the redaction of every secret (redact.go), the
// logger and the counters. It knows no endpoint and no credential: each caller sets its own.
type wire struct {
	cfg     Config
	http    *http.Client
	ownHTTP bool
	log     atomic.Pointer[slog.Logger]
	stats   counters

	// tokensFunc lists the tokens the token source holds or held (tokenSource.tokens), for
	// redact.
	tokensFunc func() []string
}

// newWire returns the plumbing for a defaulted, validated cfg: its HTTPClient, or a client of
// its own with an idle connection for each admin API request in flight and two for auth.
func newWire(cfg Config) *wire {
	w := &wire{cfg: cfg, http: cfg.HTTPClient, tokensFunc: func() []string { return nil }}
	if w.http == nil {
		tr := http.DefaultTransport.(*http.Transport).Clone()
		tr.MaxIdleConnsPerHost = cfg.Concurrency + 2
		w.http = &http.Client{Transport: tr}
		w.ownHTTP = true
	}
	return w
}

func (w *wire) logger() *slog.Logger { return w.log.Load() }

// closeIdle closes the idle connections of an HTTP client the wire made itself.
func (w *wire) closeIdle() {
	if w.ownHTTP {
		w.http.CloseIdleConnections()
	}
}

// counters are the client's counters since New (see Stats).
type counters struct {
	grants, exchanges, refreshes, requests, retries, rateLimited, reportingRequests atomic.Int64
}

// request is one HTTP request of a call: send makes it, retry repeats it.
type request struct {
	step   Step // what the request is for: its errors and log lines say it
	method string
	url    *url.URL
	form   url.Values
	json   []byte // a JSON body (sent as application/json); nil for none. form wins when both are set
	accept string // the Accept header; "" means application/json
}

// endpoint names the request for errors and logs: "GET /voice/api/v1/admin/accounts".
func (r *request) endpoint() string {
	return r.method + " " + r.url.Path
}

// endpoint is r.endpoint() with every known secret redacted (the Engage logout path carries
// a refresh token).
func (w *wire) endpoint(r *request) string { return w.redact(r.endpoint()) }

// succeeded reports whether resp has a 2xx status.
func succeeded(resp *http.Response) bool {
	return resp.StatusCode >= 200 && resp.StatusCode < 300
}

// TransportError is a request that got no response at all: the host refused the connection,
// did not resolve, dropped it or did not answer within the attempt's timeout. Step says which
// request it was, and so which host (Step.RingCentral): what a caller needs to point at the
// server URL to check. Its URL is sanitized and its text redacted.
type TransportError struct {
	Step   Step
	Method string
	URL    string
	Err    error
}

// Error implements error.
func (e *TransportError) Error() string {
	return fmt.Sprintf("%s %s: %v", e.Method, e.URL, e.Err)
}

// Unwrap returns the cause, as text only (redacted).
func (e *TransportError) Unwrap() error { return e.Err }

// permanentError marks a failure inside an attempt that the call must not retry: obtaining a
// token (the auth path has retried already) or a pacing wait that cannot fit in the context's
// deadline.
type permanentError struct{ err error }

func (e *permanentError) Error() string { return e.err.Error() }
func (e *permanentError) Unwrap() error { return e.err }

// attemptFunc makes one attempt of a call: the response (nil when none came), its body, and
// the attempt's error, typed for retry (IsRetryable, *RateLimitError, *AuthError,
// *permanentError).
type attemptFunc func(ctx context.Context) (*http.Response, []byte, error)

// retry runs attempt, the attempts of request r, under a fresh backoff (exponential from
// BackoffBase, jitter, capped at BackoffCap, at most maxAttempts attempts and
// MaxRetryDuration) stretched to any Retry-After; only retryable errors are retried. A
// Retry-After beyond MaxRetryWait ends the call with its error at once: it is not waited out.
// It returns the last response received (also on failure) and, on success, its body.
func (w *wire) retry(ctx context.Context, r *request, maxAttempts int, attempt attemptFunc) (*http.Response, []byte, error) {
	var (
		n        int
		lastResp *http.Response
		body     []byte
		minWait  time.Duration
		lastErr  error
	)
	b := w.newBackoff(maxAttempts, &minWait, &lastErr, r)
	err := retry.Do(ctx, b, func(ctx context.Context) error {
		n++
		if n > 1 {
			w.stats.retries.Add(1)
		}
		resp, rb, err := attempt(ctx)
		if resp != nil {
			lastResp = resp
		}
		body = rb
		if err == nil {
			return nil
		}
		if ctxErr := ctx.Err(); ctxErr != nil {
			return ctxErr
		}
		wait, ok := w.retryWait(err)
		if !ok {
			return err
		}
		minWait, lastErr = wait, err
		return retry.RetryableError(err)
	})
	if err != nil {
		var pe *permanentError
		if errors.As(err, &pe) {
			err = pe.err
		}
		return lastResp, nil, err
	}
	return lastResp, body, nil
}

// retryWait reports whether the error of an attempt is retried, and the least wait before the
// next attempt: the Retry-After of a 429 or 503 (Engage's or RingCentral's). A Retry-After
// beyond MaxRetryWait is not waited out; a *RateLimitError then records MaxWait, and an Engage
// 503's *APIError says so.
func (w *wire) retryWait(err error) (time.Duration, bool) {
	var pe *permanentError
	if errors.As(err, &pe) || !IsRetryable(err) {
		return 0, false
	}
	var rl *RateLimitError
	var ae *APIError
	var au *AuthError
	switch {
	case errors.As(err, &rl):
		if rl.RetryAfter > w.cfg.MaxRetryWait {
			rl.MaxWait = w.cfg.MaxRetryWait
			return 0, false
		}
		return rl.RetryAfter, true
	case errors.As(err, &ae) && ae.retryAfter > 0: // an Engage 503's
		if ae.retryAfter > w.cfg.MaxRetryWait {
			ae.maxWait = w.cfg.MaxRetryWait
			return 0, false
		}
		return ae.retryAfter, true
	case errors.As(err, &au):
		if au.RetryAfter > w.cfg.MaxRetryWait {
			return 0, false
		}
		return au.RetryAfter, true
	}
	return 0, true
}

// newBackoff builds the single-use backoff of one call.
func (w *wire) newBackoff(maxAttempts int, minWait *time.Duration, lastErr *error, r *request) retry.Backoff {
	inner := retry.WithMaxRetries(uint64(max(maxAttempts-1, 0)),
		retry.WithCappedDuration(w.cfg.BackoffCap,
			retry.WithJitterPercent(20, retry.NewExponential(max(w.cfg.BackoffBase, time.Millisecond)))))
	start := time.Now()
	return retry.BackoffFunc(func() (time.Duration, bool) {
		d, stop := inner.Next()
		if stop {
			return 0, true
		}
		if *minWait > d {
			d = *minWait
		}
		if time.Since(start)+d > w.cfg.MaxRetryDuration {
			return 0, true
		}
		w.logger().Warn(r.step.service()+": retrying request",
			slog.String("endpoint", w.endpoint(r)),
			slog.Duration("wait", d),
			slog.String("error", errString(*lastErr)))
		return d, false
	})
}

func errString(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

// send makes one HTTP exchange of r, with authorization (the whole Authorization header, ""
// for none) as its credentials, and reads the body. A response of any status comes with a nil
// error: each caller types an unsuccessful one (newAPIError, newAuthError). A failure to get a
// response is a redacted *TransportError; the end of ctx is ctx.Err().
func (w *wire) send(ctx context.Context, r *request, authorization string) (*http.Response, []byte, error) {
	resp, err := w.open(ctx, r, authorization)
	if err != nil {
		return nil, nil, err
	}
	body, err := w.readBody(ctx, r, resp)
	if err != nil {
		return resp, nil, err
	}
	return resp, body, nil
}

// open makes one HTTP exchange of r as send does, but returns the response with its body
// unread: the attempt's RequestTimeout keeps running while the caller reads it, and closing
// the body ends it. It is the only place that sets headers on a request. A 429 is counted.
func (w *wire) open(ctx context.Context, r *request, authorization string) (*http.Response, error) {
	actx, cancel := context.WithTimeout(ctx, w.cfg.RequestTimeout)
	var rd io.Reader
	switch {
	case r.form != nil:
		rd = strings.NewReader(r.form.Encode())
	case r.json != nil:
		rd = bytes.NewReader(r.json) // a fresh reader per attempt: retries resend the whole body
	}
	req, err := http.NewRequestWithContext(actx, r.method, r.url.String(), rd)
	if err != nil {
		cancel()
		return nil, fmt.Errorf("building request %s: %w", w.endpoint(r), err)
	}
	req.Header.Set("Accept", cmp.Or(r.accept, "application/json"))
	req.Header.Set("User-Agent", w.cfg.UserAgent)
	switch {
	case r.form != nil:
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	case r.json != nil:
		req.Header.Set("Content-Type", "application/json")
	}
	if authorization != "" {
		req.Header.Set("Authorization", authorization)
	}
	resp, err := w.http.Do(req)
	if err != nil {
		cancel()
		return nil, w.transportError(ctx, r, err)
	}
	if resp.StatusCode == http.StatusTooManyRequests {
		w.stats.rateLimited.Add(1)
	}
	resp.Body = &cancelBody{ReadCloser: resp.Body, cancel: cancel}
	return resp, nil
}

// cancelBody is a response body that ends its attempt's context when closed.
type cancelBody struct {
	io.ReadCloser
	cancel context.CancelFunc
}

// Close implements io.Closer.
func (b *cancelBody) Close() error {
	err := b.ReadCloser.Close()
	b.cancel()
	return err
}

// readBody reads and closes the body of resp, the response to r (from open), leaving
// http.NoBody in its place. A failure to read it is a redacted *TransportError; the end of ctx
// is ctx.Err().
func (w *wire) readBody(ctx context.Context, r *request, resp *http.Response) ([]byte, error) {
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxBody))
	_ = resp.Body.Close() // the body is read: a failure to close it loses nothing
	resp.Body = http.NoBody
	if err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		if errors.Is(err, context.DeadlineExceeded) {
			err = fmt.Errorf("reading body: attempt timed out after %s", w.cfg.RequestTimeout)
		}
		return nil, &TransportError{Step: r.step, Method: r.method, URL: w.redact(sanitizeURL(r.url)), Err: fmt.Errorf("reading body: %w", err)}
	}
	return body, nil
}

// transportError types the error of an HTTP exchange of r that got no response: ctx.Err()
// when the caller's context ended, else a *TransportError with its text redacted.
func (w *wire) transportError(ctx context.Context, r *request, err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err
	}
	if ctx.Err() != nil {
		return ctx.Err()
	}
	if errors.Is(err, context.DeadlineExceeded) {
		err = fmt.Errorf("attempt timed out after %s", w.cfg.RequestTimeout)
	}
	return &TransportError{Step: r.step, Method: r.method, URL: w.redact(sanitizeURL(r.url)), Err: errors.New(w.redact(err.Error()))}
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

// newURL appends path (relative, no leading slash) to base, each "{}" in it replaced by the
// next of ids escaped exactly once (url.PathEscape, so a "/" in an id stays inside its
// segment). Dot segments are not resolved: callers reject "." and ".." ids (checkSubAccountID).
func newURL(base *url.URL, path string, q url.Values, ids ...string) *url.URL {
	u := *base
	var plain, escaped strings.Builder
	plain.WriteString(base.Path)
	escaped.WriteString(base.EscapedPath())
	rest := path
	for _, id := range ids {
		before, after, ok := strings.Cut(rest, "{}")
		if !ok {
			panic("engageclient: more ids than {} in " + path)
		}
		plain.WriteString(before + id)
		escaped.WriteString(before + url.PathEscape(id))
		rest = after
	}
	if strings.Contains(rest, "{}") {
		panic("engageclient: fewer ids than {} in " + path)
	}
	plain.WriteString(rest)
	escaped.WriteString(rest)
	u.Path, u.RawPath = plain.String(), escaped.String()
	u.RawQuery = ""
	if len(q) > 0 {
		u.RawQuery = q.Encode()
	}
	return &u
}
