package engageclient

import (
	"cmp"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/sethvargo/go-retry"
	"golang.org/x/time/rate"
)

// maxBody bounds a response body read into memory.
const maxBody = 512 << 20

// Client talks to RingCentral (auth) and Engage Voice (auth + admin API). It is safe for
// concurrent use by many goroutines: tokens are shared and renewed single-flight, admin API
// calls are paced by one limiter and bounded by one semaphore.
type Client struct {
	cfg        Config
	http       *http.Client
	ownHTTP    bool
	rcBase     *url.URL
	engageBase *url.URL
	log        atomic.Pointer[slog.Logger]

	limiter  *rate.Limiter // admin API pacing, burst 1
	sem      chan struct{} // admin API concurrency
	exchange *slidingWindow

	pauseMu    sync.Mutex
	pauseUntil time.Time // admin API requests wait until then after a 429

	ts *tokenSource

	stats struct {
		grants, exchanges, refreshes, requests, retries, rateLimited atomic.Int64
	}
}

// New validates cfg, applies the defaults and returns a Client. It makes no request; the first
// API call (or Login) authenticates.
func New(cfg Config) (*Client, error) {
	cfg = cfg.withDefaults()
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	c := &Client{
		cfg:        cfg,
		http:       cfg.HTTPClient,
		rcBase:     parseBaseURL(cfg.RCServerURL),
		engageBase: parseBaseURL(cfg.EngageServerURL),
		limiter:    rate.NewLimiter(rate.Every(time.Minute/time.Duration(cfg.RequestsPerMinute)), 1),
		sem:        make(chan struct{}, cfg.Concurrency),
		exchange:   newSlidingWindow(cfg.ExchangePerMinute, exchangeWindow),
	}
	if c.http == nil {
		tr := http.DefaultTransport.(*http.Transport).Clone()
		tr.MaxIdleConnsPerHost = cfg.Concurrency + 2
		c.http = &http.Client{Transport: tr}
		c.ownHTTP = true
	}
	c.SetLogger(cfg.Logger)
	c.ts = &tokenSource{c: c, lock: make(chan struct{}, 1)}
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

func (c *Client) logger() *slog.Logger { return c.log.Load() }

// now is the clock of token lifetime decisions.
func (c *Client) now() time.Time { return time.Now() }

// exchangeWindow is the sliding window of the exchange limit: 60 s plus a little slack, so the
// server (which sees our requests slightly later) never counts more than the limit in its own
// 60 s window.
const exchangeWindow = time.Minute + time.Second

// Stats are the client's counters since New.
type Stats struct {
	Grants      int64 // successful RingCentral JWT grants
	Exchanges   int64 // successful RingCentral → Engage token exchanges
	Refreshes   int64 // successful Engage token refreshes
	Requests    int64 // admin API HTTP requests sent (attempts, retries and replays included)
	Retries     int64 // retried attempts (all endpoints)
	RateLimited int64 // 429 responses received (all endpoints)
}

// Stats returns a snapshot of the counters.
func (c *Client) Stats() Stats {
	return Stats{
		Grants:      c.stats.grants.Load(),
		Exchanges:   c.stats.exchanges.Load(),
		Refreshes:   c.stats.refreshes.Load(),
		Requests:    c.stats.requests.Load(),
		Retries:     c.stats.retries.Load(),
		RateLimited: c.stats.rateLimited.Load(),
	}
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

// request describes one logical call; do runs it with pacing, retries and auth.
type request struct {
	method     string
	url        *url.URL
	form       url.Values
	api        bool   // admin API: paced, bounded, bearer token, 401 replay
	rcEndpoint string // non-empty for RingCentral OAuth calls: Basic auth, *AuthError errors
	exchange   bool   // counted against the exchange window
	noRetry    bool
	accept     string // the Accept header; "" means application/json
}

// endpoint names the request for errors and logs: "GET /voice/api/v1/admin/accounts".
func (r *request) endpoint() string {
	return r.method + " " + r.url.Path
}

// endpoint is r.endpoint() with every known secret redacted (the Engage logout path carries
// a refresh token).
func (c *Client) endpoint(r *request) string { return c.redact(r.endpoint()) }

// transportError is a failure to get a response at all (connection refused or dropped, read
// error, per-attempt timeout).
type transportError struct {
	method, url string
	err         error
}

func (e *transportError) Error() string {
	return fmt.Sprintf("%s %s: %v", e.method, e.url, e.err)
}

func (e *transportError) Unwrap() error { return e.err }

// permanentError marks a failure inside an attempt that the call must not retry: obtaining a
// token (the auth path has retried already) or a pacing wait that cannot fit in the context's
// deadline.
type permanentError struct{ err error }

func (e *permanentError) Error() string { return e.err.Error() }
func (e *permanentError) Unwrap() error { return e.err }

// do runs r: every attempt passes the pacing limiter (API calls), retries follow a fresh
// backoff (exponential, jitter, capped, at most MaxAttempts and MaxRetryDuration) stretched to
// any Retry-After, and only retryable errors are retried. A Retry-After beyond MaxRetryWait
// ends the call with its error at once: it is not waited out.
func (c *Client) do(ctx context.Context, r *request) (*http.Response, []byte, error) {
	var (
		attempt  int
		replayed bool
		lastResp *http.Response
		body     []byte
		minWait  time.Duration
		lastErr  error
	)
	maxAttempts := c.cfg.MaxAttempts
	if r.noRetry {
		maxAttempts = 1
	}
	b := c.newBackoff(maxAttempts, &minWait, &lastErr, r)
	err := retry.Do(ctx, b, func(ctx context.Context) error {
		attempt++
		if attempt > 1 {
			c.stats.retries.Add(1)
		}
		resp, rb, err := c.attempt(ctx, r, &replayed)
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
		var pe *permanentError
		if errors.As(err, &pe) || !IsRetryable(err) {
			return err
		}
		minWait = 0
		var rl *RateLimitError
		var au *AuthError
		switch {
		case errors.As(err, &rl):
			if rl.RetryAfter > c.cfg.MaxRetryWait {
				rl.MaxWait = c.cfg.MaxRetryWait
				return err // not waited out
			}
			minWait = rl.RetryAfter
		case errors.As(err, &au):
			if au.RetryAfter > c.cfg.MaxRetryWait {
				return err // not waited out
			}
			minWait = au.RetryAfter
		}
		lastErr = err
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

// newBackoff builds the single-use backoff of one call.
func (c *Client) newBackoff(maxAttempts int, minWait *time.Duration, lastErr *error, r *request) retry.Backoff {
	inner := retry.WithMaxRetries(uint64(max(maxAttempts-1, 0)),
		retry.WithCappedDuration(c.cfg.BackoffCap,
			retry.WithJitterPercent(20, retry.NewExponential(max(c.cfg.BackoffBase, time.Millisecond)))))
	start := time.Now()
	return retry.BackoffFunc(func() (time.Duration, bool) {
		d, stop := inner.Next()
		if stop {
			return 0, true
		}
		if *minWait > d {
			d = *minWait
		}
		if time.Since(start)+d > c.cfg.MaxRetryDuration {
			return 0, true
		}
		c.logger().Warn("engage: retrying request",
			slog.String("endpoint", c.endpoint(r)),
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

// attempt makes one attempt of r (plus, for a 401 "Jwt is expired", one refresh and one
// replay per call).
func (c *Client) attempt(ctx context.Context, r *request, replayed *bool) (*http.Response, []byte, error) {
	if r.api {
		select {
		case c.sem <- struct{}{}:
		case <-ctx.Done():
			return nil, nil, ctx.Err()
		}
		defer func() { <-c.sem }()
		if err := c.pace(ctx, r); err != nil {
			return nil, nil, err
		}
	}
	if r.exchange {
		if err := c.exchange.wait(ctx); err != nil {
			return nil, nil, err
		}
	}
	var token string
	if r.api {
		tok, err := c.ts.token(ctx)
		if err != nil {
			return nil, nil, &permanentError{err}
		}
		token = tok
	}
	resp, body, err := c.send(ctx, r, token)
	// Any 401 gets one renewal and one replay per call: the docs' 401 says "Jwt is expired" in
	// text/plain, the spec's has no body at all. A second 401 is returned as it is.
	if r.api && !*replayed && resp != nil && resp.StatusCode == http.StatusUnauthorized {
		*replayed = true
		c.logger().Info("engage: access token rejected; renewing it and replaying once",
			slog.String("endpoint", c.endpoint(r)), slog.Bool("expired", isExpiredBody(body)))
		c.ts.invalidate(token)
		tok, terr := c.ts.token(ctx)
		if terr != nil {
			return resp, nil, &permanentError{terr}
		}
		if perr := c.pace(ctx, r); perr != nil {
			return nil, nil, perr
		}
		resp, body, err = c.send(ctx, r, tok)
	}
	return resp, body, err
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
			return &permanentError{fmt.Errorf("pacing requests: %w: %v", context.DeadlineExceeded, err)}
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
		APIError:   APIError{StatusCode: http.StatusTooManyRequests, Method: r.method, URL: c.redact(sanitizeURL(r.url))},
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
// shared limit, not just to the request that got it).
func (c *Client) pause(d time.Duration) {
	if d <= 0 {
		return
	}
	until := time.Now().Add(d)
	c.pauseMu.Lock()
	if until.After(c.pauseUntil) {
		c.pauseUntil = until
	}
	c.pauseMu.Unlock()
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

var expiredRE = regexp.MustCompile(`(?i)\bexpired\b`)

func isExpiredBody(body []byte) bool { return expiredRE.Match(body) }

// send makes one HTTP exchange. It is the only place that sets credentials on a request.
func (c *Client) send(ctx context.Context, r *request, token string) (*http.Response, []byte, error) {
	actx, cancel := context.WithTimeout(ctx, c.cfg.RequestTimeout)
	defer cancel()
	var rd io.Reader
	if r.form != nil {
		rd = strings.NewReader(r.form.Encode())
	}
	req, err := http.NewRequestWithContext(actx, r.method, r.url.String(), rd)
	if err != nil {
		return nil, nil, fmt.Errorf("building request %s: %w", c.endpoint(r), err)
	}
	req.Header.Set("Accept", cmp.Or(r.accept, "application/json"))
	req.Header.Set("User-Agent", c.cfg.UserAgent)
	if r.form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	if r.rcEndpoint != "" {
		req.SetBasicAuth(c.cfg.ClientID, c.cfg.ClientSecret)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if r.api {
		c.stats.requests.Add(1)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		if ctx.Err() != nil {
			return nil, nil, ctx.Err()
		}
		if errors.Is(err, context.DeadlineExceeded) {
			err = fmt.Errorf("attempt timed out after %s", c.cfg.RequestTimeout)
		}
		return nil, nil, &transportError{method: r.method, url: c.redact(sanitizeURL(r.url)), err: errors.New(c.redact(err.Error()))}
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxBody))
	resp.Body.Close()
	resp.Body = http.NoBody
	if err != nil {
		if ctx.Err() != nil {
			return resp, nil, ctx.Err()
		}
		if errors.Is(err, context.DeadlineExceeded) {
			err = fmt.Errorf("reading body: attempt timed out after %s", c.cfg.RequestTimeout)
		}
		return resp, nil, &transportError{method: r.method, url: c.redact(sanitizeURL(r.url)), err: fmt.Errorf("reading body: %w", err)}
	}
	if resp.StatusCode == http.StatusTooManyRequests {
		c.stats.rateLimited.Add(1)
	}
	if resp.StatusCode >= 200 && resp.StatusCode < 300 {
		return resp, body, nil
	}
	if r.rcEndpoint != "" {
		return resp, body, newAuthError(r.rcEndpoint, resp, body, c.redact)
	}
	aerr := newAPIError(resp, body, c.redact)
	var rl *RateLimitError
	if r.api && errors.As(aerr, &rl) {
		c.pause(rl.RetryAfter)
	}
	return resp, body, aerr
}

// redactMark replaces what redact removes.
const redactMark = "[REDACTED]"

// Bounds of redaction: a secret shorter than minSecretLen is not looked for (it would match
// ordinary text); a secret cut short (by the server, a proxy or a truncation) is still
// redacted when at least minSecretPart bytes of its start are there.
const (
	minSecretLen  = 4
	minSecretPart = 8
)

// Credentials redacted by their shape, whether the client knows them or not: the value of an
// Authorization header (Bearer or Basic), a JWT (or the start of one: its header is base64url
// JSON, "eyJ"), and the value of a form or query parameter that carries a credential.
var (
	authHeaderRE  = regexp.MustCompile(`(?i)\b(bearer|basic)(\s+)[A-Za-z0-9._~+/=-]{16,}`)
	jwtRE         = regexp.MustCompile(`eyJ[A-Za-z0-9_-]{8,}(?:\.[A-Za-z0-9_-]*){0,2}`)
	secretParamRE = regexp.MustCompile(`(?i)\b(assertion|client_secret|refresh_token|access_token|id_token|rcAccessToken|token|password)=[^&\s"',;]+`)
)

// redact removes from s every secret the client knows (client secret, JWT, current and past
// tokens) in every form a server or proxy may echo it (secretForms), cut short or whole, then
// any credential recognised by its shape. Redact before truncating: a truncation can cut a
// secret so that only its start is left.
func (c *Client) redact(s string) string {
	if s == "" {
		return s
	}
	s = redactForms(s, c.secretForms())
	s = authHeaderRE.ReplaceAllString(s, "${1}${2}"+redactMark)
	s = jwtRE.ReplaceAllLiteralString(s, redactMark)
	return secretParamRE.ReplaceAllString(s, "${1}="+redactMark)
}

// secretForms lists each secret the client knows as sent, query-escaped (form bodies),
// path-escaped (the logout path) and JSON-escaped (a JSON echo), plus base64 (standard and URL
// alphabets) of clientID:clientSecret, the credentials of the Basic header.
func (c *Client) secretForms() []string {
	var out []string
	for _, s := range c.secrets() {
		if len(s) < minSecretLen {
			continue
		}
		js, _ := json.Marshal(s)
		out = append(out, s, url.QueryEscape(s), url.PathEscape(s), string(js[1:len(js)-1]))
	}
	basic := []byte(c.cfg.ClientID + ":" + c.cfg.ClientSecret)
	return append(out, base64.StdEncoding.EncodeToString(basic), base64.URLEncoding.EncodeToString(basic))
}

// redactForms replaces, scanning s once, the longest match at each position among forms: a
// whole form, or at least minSecretPart bytes of its start (the rest cut off). One scan over
// all forms, rather than one replacement per form, keeps a form that shares its start with
// another (two JWTs share their header) from hiding the other's match.
func redactForms(s string, forms []string) string {
	var byFirst [256][]string
	for _, f := range forms {
		if f != "" {
			byFirst[f[0]] = append(byFirst[f[0]], f)
		}
	}
	var b strings.Builder
	last := 0
	for i := 0; i < len(s); {
		n := 0
		for _, f := range byFirst[s[i]] {
			n = max(n, secretMatch(s[i:], f))
		}
		if n == 0 {
			i++
			continue
		}
		b.WriteString(s[last:i])
		b.WriteString(redactMark)
		i += n
		last = i
	}
	if last == 0 {
		return s
	}
	b.WriteString(s[last:])
	return b.String()
}

// secretMatch returns how many bytes at the start of s are the secret form f: all of f, or at
// least minSecretPart bytes of its start; 0 otherwise.
func secretMatch(s, f string) int {
	n := 0
	for n < len(s) && n < len(f) && s[n] == f[n] {
		n++
	}
	if n == len(f) || n >= minSecretPart {
		return n
	}
	return 0
}

// redactErr returns err unchanged when its text carries no secret, else a plain error with
// the secrets redacted.
func (c *Client) redactErr(err error) error {
	if ie, ok := err.(*ItemsError); ok {
		for i := range ie.Items {
			ie.Items[i].Err = c.redactErr(ie.Items[i].Err)
		}
		return ie
	}
	if msg := err.Error(); c.redact(msg) != msg {
		return errors.New(c.redact(msg))
	}
	return err
}

func (c *Client) secrets() []string {
	out := []string{c.cfg.ClientSecret, c.cfg.JWT}
	return append(out, c.ts.secrets()...)
}

// newURL appends path (relative, no leading slash) to base, each "{}" in it replaced by the
// next of ids escaped exactly once (url.PathEscape, so a "/" in an id stays inside its
// segment). Dot segments are not resolved: callers reject "." and ".." ids (checkID).
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

// checkID rejects an id that cannot name one path segment: empty, "." or ".." (which a server
// or proxy would resolve as a dot segment, requesting another endpoint).
func checkID(what, id string) error {
	switch id {
	case "", ".", "..":
		return fmt.Errorf("invalid %s %q: expected a non-empty id other than \".\" and \"..\"", what, id)
	}
	return nil
}

// slidingWindow allows at most n events in any window of length per.
type slidingWindow struct {
	mu    sync.Mutex
	n     int
	per   time.Duration
	times []time.Time
}

func newSlidingWindow(n int, per time.Duration) *slidingWindow {
	return &slidingWindow{n: n, per: per}
}

// wait blocks until an event is allowed (or ctx ends), then records it.
func (w *slidingWindow) wait(ctx context.Context) error {
	for {
		w.mu.Lock()
		now := time.Now()
		i := 0
		for i < len(w.times) && now.Sub(w.times[i]) >= w.per {
			i++
		}
		w.times = w.times[i:]
		if len(w.times) < w.n {
			w.times = append(w.times, now)
			w.mu.Unlock()
			return nil
		}
		d := w.times[0].Add(w.per).Sub(now)
		w.mu.Unlock()
		if err := sleep(ctx, d); err != nil {
			return err
		}
	}
}
