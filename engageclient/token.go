package engageclient

import (
	"cmp"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"
)

// Token lifetimes assumed when the server does not say.
const (
	fallbackEngageTTL = 5 * time.Minute
	fallbackRCTTL     = time.Hour
	// rcMinRemaining is the least lifetime a RingCentral token must have left to be used for
	// an exchange; below it the JWT grant runs again.
	rcMinRemaining = 30 * time.Second
)

// rcToken is a RingCentral access token.
type rcToken struct {
	access string
	expiry time.Time
}

// engageToken is an Engage access token with its refresh token.
type engageToken struct {
	access   string
	refresh  string
	expiry   time.Time
	lifetime time.Duration
	stale    bool // rejected by the server: renew before use
}

// fresh reports whether t can be used at now: not rejected, and its remaining lifetime is at
// least min(margin, 20% of its lifetime).
func (t *engageToken) fresh(now time.Time, margin time.Duration) bool {
	if t == nil || t.access == "" || t.stale {
		return false
	}
	m := min(margin, t.lifetime/5)
	return t.expiry.Sub(now) > m
}

// tokenSource is the client's auth, in the shape of an oauth2 TokenSource: it owns the
// RingCentral JWT grant, the exchange for an Engage token pair (within the exchange limit),
// the refresh, the revoke and the logout, and hands the admin API a usable access token
// (Token), renewed when stale or rejected (Invalidate). Login and Logout start and end a
// session. Its calls share the client's wire (send, retry, redaction) but not the admin
// API's pacing.
//
// Reads take mu; renewals hold lock (a one-slot channel, so waiters obey their context) so
// that concurrent callers cause exactly one renewal.
type tokenSource struct {
	*wire
	rcBase     *url.URL
	engageBase *url.URL
	basic      string         // the Authorization header of the RingCentral OAuth calls
	window     *slidingWindow // the exchange limit
	lock       chan struct{}
	clock      func() time.Time // the local clock: time.Now, or a test's

	mu         sync.Mutex
	rc         *rcToken
	engage     *engageToken
	gen        uint64 // incremented on each new Engage token
	details    *AccessTokenUserDetails
	skewWarned bool     // the clock skew warning was logged (once per token source)
	past       []string // tokens replaced during this client's life, still redacted from errors
}

// exchangeWindow is the sliding window of the exchange limit: 60 s plus a little slack, so the
// server (which sees our requests slightly later) never counts more than the limit in its own
// 60 s window.
const exchangeWindow = time.Minute + time.Second

// newTokenSource returns the token source of the client made of w, for the RingCentral and
// Engage base URLs.
func newTokenSource(w *wire, rcBase, engageBase *url.URL) *tokenSource {
	creds := []byte(w.cfg.ClientID + ":" + w.cfg.ClientSecret)
	return &tokenSource{
		wire:       w,
		rcBase:     rcBase,
		engageBase: engageBase,
		basic:      "Basic " + base64.StdEncoding.EncodeToString(creds),
		window:     newSlidingWindow(w.cfg.ExchangePerMinute, exchangeWindow),
		lock:       make(chan struct{}, 1),
		clock:      time.Now,
	}
}

// now is the clock of token lifetime decisions.
func (ts *tokenSource) now() time.Time { return ts.clock() }

// current returns the Engage access token when it is fresh.
func (ts *tokenSource) current() (string, uint64, bool) {
	ts.mu.Lock()
	defer ts.mu.Unlock()
	if ts.engage.fresh(ts.now(), ts.cfg.RefreshMargin) {
		return ts.engage.access, ts.gen, true
	}
	return "", ts.gen, false
}

// Token returns a usable Engage access token, renewing it (single-flight) when needed.
func (ts *tokenSource) Token(ctx context.Context) (string, error) {
	tok, gen, ok := ts.current()
	if ok {
		return tok, nil
	}
	if err := ts.acquire(ctx); err != nil {
		return "", err
	}
	defer ts.release()
	ts.mu.Lock()
	if ts.engage != nil && !ts.engage.stale && (ts.gen != gen || ts.engage.fresh(ts.now(), ts.cfg.RefreshMargin)) {
		// Renewed by another goroutine while we waited.
		tok := ts.engage.access
		ts.mu.Unlock()
		return tok, nil
	}
	ts.mu.Unlock()
	if err := ts.renew(ctx); err != nil {
		return "", err
	}
	ts.mu.Lock()
	defer ts.mu.Unlock()
	return ts.engage.access, nil
}

func (ts *tokenSource) acquire(ctx context.Context) error {
	select {
	case ts.lock <- struct{}{}:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (ts *tokenSource) release() { <-ts.lock }

// Invalidate marks tok as rejected by the server (a 401), so the next Token renews it. A token
// that was already replaced is left alone (another goroutine renewed it).
func (ts *tokenSource) Invalidate(tok string) {
	ts.mu.Lock()
	defer ts.mu.Unlock()
	if ts.engage != nil && ts.engage.access == tok {
		ts.engage.stale = true
	}
}

// forget drops the session's tokens (kept only for redaction).
func (ts *tokenSource) forget() {
	ts.mu.Lock()
	defer ts.mu.Unlock()
	if ts.rc != nil {
		ts.addPast(ts.rc.access)
	}
	if ts.engage != nil {
		ts.addPast(ts.engage.access, ts.engage.refresh)
	}
	ts.rc, ts.engage, ts.details = nil, nil, nil
	ts.gen++
}

// maxPast bounds the replaced tokens kept for redaction (older ones expired long ago).
const maxPast = 64

// addPast remembers replaced tokens, with mu held.
func (ts *tokenSource) addPast(toks ...string) {
	for _, t := range toks {
		if t != "" {
			ts.past = append(ts.past, t)
		}
	}
	if len(ts.past) > maxPast {
		ts.past = append([]string(nil), ts.past[len(ts.past)-maxPast:]...)
	}
}

// tokens lists the tokens to redact from error text: those held and those replaced.
func (ts *tokenSource) tokens() []string {
	ts.mu.Lock()
	defer ts.mu.Unlock()
	out := append([]string(nil), ts.past...)
	if ts.rc != nil {
		out = append(out, ts.rc.access)
	}
	if ts.engage != nil {
		out = append(out, ts.engage.access, ts.engage.refresh)
	}
	return out
}

// Login starts a session: the RingCentral JWT grant, then the exchange for an Engage token
// pair. While a session lasts it returns that session's details without new requests.
func (ts *tokenSource) Login(ctx context.Context) (*AccessTokenUserDetails, error) {
	if err := ts.acquire(ctx); err != nil {
		return nil, err
	}
	defer ts.release()
	ts.mu.Lock()
	d := ts.details
	ok := ts.engage != nil && d != nil
	ts.mu.Unlock()
	if ok {
		return d, nil
	}
	return ts.grantAndExchange(ctx)
}

// Logout ends the session: it logs the Engage refresh token out (best effort) and revokes the
// RingCentral token, then forgets both (kept only for redaction) and closes the idle
// connections. A later Token or Login starts a new session. It returns the revocation error,
// if any.
func (ts *tokenSource) Logout(ctx context.Context) error {
	if err := ts.acquire(ctx); err != nil {
		return err
	}
	defer ts.release()
	ts.mu.Lock()
	rc, eng := ts.rc, ts.engage
	ts.mu.Unlock()

	if eng != nil && eng.refresh != "" {
		ts.logout(ctx, eng.refresh)
	}
	var err error
	if rc != nil && rc.expiry.After(ts.now()) {
		err = ts.revoke(ctx, rc.access)
	}
	ts.forget()
	ts.closeIdle()
	return err
}

// renew gets a new Engage token, with lock held: refresh; when that fails, exchange the
// RingCentral token again; when that fails, JWT grant and exchange. Fatal grant errors end it.
func (ts *tokenSource) renew(ctx context.Context) error {
	ts.mu.Lock()
	refresh := ""
	if ts.engage != nil {
		refresh = ts.engage.refresh
	}
	rc := ts.rc
	ts.mu.Unlock()

	var errs []error
	if refresh != "" {
		err := ts.refresh(ctx, refresh)
		if err == nil {
			return nil
		}
		if ctx.Err() != nil {
			return fmt.Errorf("refreshing engage token: %w", err)
		}
		ts.logger().Warn("engage: refreshing the access token failed; exchanging the RingCentral token again",
			slog.String("error", err.Error()))
		errs = append(errs, fmt.Errorf("refreshing engage token: %w", err))
	}
	if rc != nil && rc.expiry.Sub(ts.now()) > rcMinRemaining {
		_, err := ts.exchange(ctx, rc.access)
		if err == nil {
			return nil
		}
		if ctx.Err() != nil {
			return fmt.Errorf("exchanging ringcentral token: %w", err)
		}
		ts.logger().Warn("engage: exchanging the RingCentral token failed; running the JWT grant again",
			slog.String("error", err.Error()))
		errs = append(errs, fmt.Errorf("exchanging ringcentral token: %w", err))
	}
	_, err := ts.grantAndExchange(ctx)
	if err != nil && len(errs) > 0 {
		return fmt.Errorf("%w (after: %w)", err, errors.Join(errs...))
	}
	return err
}

// grantAndExchange runs the JWT grant and the exchange, with lock held.
func (ts *tokenSource) grantAndExchange(ctx context.Context) (*AccessTokenUserDetails, error) {
	rc, err := ts.grant(ctx)
	if err != nil {
		return nil, err
	}
	return ts.exchange(ctx, rc)
}

// rcAttempt is one attempt of a RingCentral call r with the Authorization header auth (the
// OAuth calls send the client credentials as HTTP Basic, ts.basic; the account read, the
// session's bearer token): an unsuccessful answer is typed *AuthError.
func (ts *tokenSource) rcAttempt(r *request, auth string) attemptFunc {
	return func(ctx context.Context) (*http.Response, []byte, error) {
		resp, body, err := ts.send(ctx, r, auth)
		if err == nil && !succeeded(resp) {
			err = newAuthError(r.step, resp, body, ts.redact)
		}
		return resp, body, err
	}
}

// engageAttempt is one attempt of an Engage auth call r (exchange, refresh, logout): the
// credential travels in the form or the path, an unsuccessful answer is typed *APIError.
func (ts *tokenSource) engageAttempt(r *request) attemptFunc {
	return func(ctx context.Context) (*http.Response, []byte, error) {
		resp, body, err := ts.send(ctx, r, "")
		if err == nil && !succeeded(resp) {
			err = newAPIError(r.step, resp, body, ts.redact)
		}
		return resp, body, err
	}
}

// grant runs the RingCentral JWT grant and stores the token. It revokes the RingCentral token
// it replaces (best effort), so runs do not pile up sessions.
func (ts *tokenSource) grant(ctx context.Context) (string, error) {
	form := url.Values{
		"grant_type": {"urn:ietf:params:oauth:grant-type:jwt-bearer"},
		"assertion":  {ts.cfg.JWT},
	}
	r := &request{step: StepGrant, method: http.MethodPost, url: newURL(ts.rcBase, "restapi/oauth/token", nil), form: form}
	_, body, err := ts.retry(ctx, r, ts.cfg.MaxAttempts, ts.rcAttempt(r, ts.basic))
	if err != nil {
		return "", fmt.Errorf("requesting ringcentral token: %w", err)
	}
	var tr rcTokenResponse
	if err := json.Unmarshal(body, &tr); err != nil {
		return "", fmt.Errorf("requesting ringcentral token: %w", &DecodeError{Endpoint: ts.endpoint(r), Err: ts.redactErr(err)})
	}
	if tr.AccessToken == "" {
		return "", fmt.Errorf("requesting ringcentral token: %w", &DecodeError{Endpoint: ts.endpoint(r), Err: errors.New("access_token is missing")})
	}
	ttl := fallbackRCTTL
	if tr.ExpiresIn.Valid && tr.ExpiresIn.Int64 > 0 {
		ttl = time.Duration(tr.ExpiresIn.Int64) * time.Second
	}
	ts.stats.grants.Add(1)
	ts.mu.Lock()
	old := ts.rc
	ts.rc = &rcToken{access: tr.AccessToken, expiry: ts.now().Add(ttl)}
	if old != nil {
		ts.addPast(old.access)
	}
	ts.mu.Unlock()
	ts.logger().Info("ringcentral: JWT grant succeeded", slog.Duration("expires_in", ttl), slog.String("scope", tr.Scope))
	if old != nil && old.expiry.After(ts.now()) {
		if err := ts.revoke(ctx, old.access); err != nil {
			ts.logger().Warn("ringcentral: revoking the replaced token failed", slog.String("error", err.Error()))
		}
	}
	return tr.AccessToken, nil
}

// revoke revokes a RingCentral access token.
func (ts *tokenSource) revoke(ctx context.Context, tok string) error {
	r := &request{step: StepRevoke, method: http.MethodPost, url: newURL(ts.rcBase, "restapi/oauth/revoke", nil), form: url.Values{"token": {tok}}}
	if _, _, err := ts.retry(ctx, r, ts.cfg.MaxAttempts, ts.rcAttempt(r, ts.basic)); err != nil {
		return fmt.Errorf("revoking ringcentral token: %w", err)
	}
	return nil
}

// exchange trades a RingCentral token for an Engage token pair. Every attempt waits its turn
// in the exchange limit (at most ExchangePerMinute in any window).
func (ts *tokenSource) exchange(ctx context.Context, rcAccess string) (*AccessTokenUserDetails, error) {
	form := url.Values{"rcAccessToken": {rcAccess}, "rcTokenType": {"Bearer"}}
	r := &request{step: StepExchange, method: http.MethodPost,
		url:  newURL(ts.engageBase, "api/auth/login/rc/accesstoken", url.Values{"includeRefresh": {"true"}}),
		form: form}
	attempt := ts.engageAttempt(r)
	_, body, err := ts.retry(ctx, r, ts.cfg.MaxAttempts, func(ctx context.Context) (*http.Response, []byte, error) {
		if err := ts.window.wait(ctx); err != nil {
			return nil, nil, err
		}
		return attempt(ctx)
	})
	if err != nil {
		return nil, err
	}
	d, err := ts.store(r, body)
	if err != nil {
		return nil, err
	}
	ts.stats.exchanges.Add(1)
	ts.logger().Info("engage: token exchange succeeded", slog.String("main_account_id", d.MainAccountID))
	return d, nil
}

// refresh trades the refresh token for a new token pair (the rotated refresh token replaces
// the old one).
func (ts *tokenSource) refresh(ctx context.Context, refresh string) error {
	form := url.Values{"refresh_token": {refresh}, "rcTokenType": {"Bearer"}}
	r := &request{step: StepRefresh, method: http.MethodPost, url: newURL(ts.engageBase, "api/auth/token/refresh", nil), form: form}
	_, body, err := ts.retry(ctx, r, ts.cfg.MaxAttempts, ts.engageAttempt(r))
	if err != nil {
		return err
	}
	if _, err := ts.store(r, body); err != nil {
		return err
	}
	ts.stats.refreshes.Add(1)
	ts.logger().Debug("engage: access token refreshed")
	return nil
}

// logout logs the Engage refresh token out, once and within 10 s: best effort (not every
// server has the endpoint), a failure is a warning. The documented answer is 200 text/plain
// (or 204): asking for JSON gets 406.
func (ts *tokenSource) logout(ctx context.Context, refresh string) {
	r := &request{step: StepLogout, method: http.MethodDelete, url: newURL(ts.engageBase, "api/auth/logout/{}", nil, refresh),
		accept: "text/plain, */*"}
	lctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if _, _, err := ts.retry(lctx, r, 1, ts.engageAttempt(r)); err != nil {
		ts.logger().Warn("engage: logging the refresh token out failed", slog.String("error", ts.redact(err.Error())))
	}
}

// store decodes a login/refresh response and makes its tokens current.
func (ts *tokenSource) store(r *request, body []byte) (*AccessTokenUserDetails, error) {
	var w loginResponse
	if err := json.Unmarshal(body, &w); err != nil {
		return nil, &DecodeError{Endpoint: ts.endpoint(r), Err: ts.redactErr(err)}
	}
	if w.AccessToken == "" {
		return nil, &DecodeError{Endpoint: ts.endpoint(r), Err: errors.New("accessToken is missing")}
	}
	life := jwtLife(w.AccessToken, ts.now(), expiresIn(body))
	d := w.details(body)
	warn := false
	defer func() { // after the unlock below
		if warn {
			ts.logger().Warn("engage: the local clock differs from the token issuer's; token lifetimes are counted from their receipt",
				slog.Duration("local_minus_issuer", life.skew.Round(time.Second)))
		}
	}()
	ts.mu.Lock()
	defer ts.mu.Unlock()
	old := ts.engage
	refresh := w.RefreshToken
	if refresh == "" && old != nil {
		refresh = old.refresh // a response without a new refresh token keeps the old one
	}
	if old != nil {
		ts.addPast(old.access)
		if old.refresh != refresh {
			ts.addPast(old.refresh)
		}
	}
	ts.engage = &engageToken{access: w.AccessToken, refresh: refresh, expiry: life.expiry, lifetime: life.lifetime}
	ts.gen++
	if (life.skew > clockSkewWarn || life.skew < -clockSkewWarn) && !ts.skewWarned {
		ts.skewWarned, warn = true, true
	}
	if d.MainAccountID != "" || ts.details == nil {
		ts.details = d
	}
	return d, nil
}

// clockSkewWarn is how far the local clock may be from the token issuer's (now − iat at
// receipt, the request's latency included) before the token source warns, once.
const clockSkewWarn = time.Minute

// tokenLife is what an Engage access token says of its life, read when it was received.
type tokenLife struct {
	expiry   time.Time     // on the local clock
	lifetime time.Duration // exp − iat (else expiry − receipt)
	skew     time.Duration // the local clock at receipt minus iat; 0 without iat
}

// expiresIn reads an expires_in (or expiresIn) number of seconds from a token response; 0
// when there is none (the documented exchange and refresh answers have none) or it is not a
// positive number, which does not fail the response.
func expiresIn(body []byte) time.Duration {
	var v struct {
		Snake any `json:"expires_in"`
		Camel any `json:"expiresIn"`
	}
	if json.Unmarshal(body, &v) != nil {
		return 0
	}
	for _, x := range []any{v.Snake, v.Camel} {
		if f, ok := x.(float64); ok && f > 0 && f < 1e9 {
			return time.Duration(f * float64(time.Second))
		}
	}
	return 0
}

// jwtLife reads the exp and iat claims of a JWT received at now, without verifying it. With a
// sane iat (0 < iat < exp) the token lives exp − iat from its receipt, whatever the local
// clock says of exp: a clock minutes off the issuer's neither renews it on every request nor
// keeps it past its end. Without iat it lives expiresIn from its receipt when the response
// said (expiresIn > 0), else exp is the expiry; a token that cannot be read gets now+5m (or
// expiresIn).
func jwtLife(tok string, now time.Time, expiresIn time.Duration) tokenLife {
	fallback := tokenLife{expiry: now.Add(cmp.Or(expiresIn, fallbackEngageTTL)), lifetime: cmp.Or(expiresIn, fallbackEngageTTL)}
	parts := strings.Split(tok, ".")
	if len(parts) != 3 {
		return fallback
	}
	payload, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(parts[1], "="))
	if err != nil {
		return fallback
	}
	var claims struct {
		Exp *json.Number `json:"exp"`
		Iat *json.Number `json:"iat"`
	}
	if err := json.Unmarshal(payload, &claims); err != nil || claims.Exp == nil {
		return fallback
	}
	exp, err := claims.Exp.Float64()
	if err != nil || exp <= 0 {
		return fallback
	}
	if claims.Iat != nil {
		if iat, err := claims.Iat.Float64(); err == nil && iat > 0 && iat < exp {
			lifetime := time.Duration((exp - iat) * float64(time.Second))
			issued := time.UnixMilli(int64(iat * 1000))
			return tokenLife{expiry: now.Add(lifetime), lifetime: lifetime, skew: now.Sub(issued)}
		}
	}
	if expiresIn > 0 {
		return fallback
	}
	l := tokenLife{expiry: time.UnixMilli(int64(exp * 1000))}
	l.lifetime = max(l.expiry.Sub(now), time.Second)
	return l
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
