package engageclient

import (
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

// tokenSource holds the RingCentral and Engage tokens. Reads take mu; renewals hold lock (a
// one-slot channel, so waiters obey their context) so that concurrent callers cause exactly
// one renewal.
type tokenSource struct {
	c    *Client
	lock chan struct{}

	mu      sync.Mutex
	rc      *rcToken
	engage  *engageToken
	gen     uint64 // incremented on each new Engage token
	details *AccessTokenUserDetails
	past    []string // tokens replaced during this client's life, still redacted from errors
}

// current returns the Engage access token when it is fresh.
func (ts *tokenSource) current() (string, uint64, bool) {
	ts.mu.Lock()
	defer ts.mu.Unlock()
	if ts.engage.fresh(ts.c.now(), ts.c.cfg.RefreshMargin) {
		return ts.engage.access, ts.gen, true
	}
	return "", ts.gen, false
}

// token returns a usable Engage access token, renewing it (single-flight) when needed.
func (ts *tokenSource) token(ctx context.Context) (string, error) {
	tok, gen, ok := ts.current()
	if ok {
		return tok, nil
	}
	if err := ts.acquire(ctx); err != nil {
		return "", err
	}
	defer ts.release()
	ts.mu.Lock()
	if ts.engage != nil && !ts.engage.stale && (ts.gen != gen || ts.engage.fresh(ts.c.now(), ts.c.cfg.RefreshMargin)) {
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

// invalidate marks tok as rejected by the server, so the next token call renews it. A token
// that was already replaced is left alone (another goroutine renewed it).
func (ts *tokenSource) invalidate(tok string) {
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

// secrets lists the tokens to redact from error text.
func (ts *tokenSource) secrets() []string {
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
		ts.c.logger().Warn("engage: refreshing the access token failed; exchanging the RingCentral token again",
			slog.String("error", err.Error()))
		errs = append(errs, fmt.Errorf("refreshing engage token: %w", err))
	}
	if rc != nil && rc.expiry.Sub(ts.c.now()) > rcMinRemaining {
		_, err := ts.exchange(ctx, rc.access)
		if err == nil {
			return nil
		}
		if ctx.Err() != nil {
			return fmt.Errorf("exchanging ringcentral token: %w", err)
		}
		ts.c.logger().Warn("engage: exchanging the RingCentral token failed; running the JWT grant again",
			slog.String("error", err.Error()))
		errs = append(errs, fmt.Errorf("exchanging ringcentral token: %w", err))
	}
	_, err := ts.login(ctx)
	if err != nil && len(errs) > 0 {
		return fmt.Errorf("%w (after: %w)", err, errors.Join(errs...))
	}
	return err
}

// login runs the JWT grant and the exchange, with lock held.
func (ts *tokenSource) login(ctx context.Context) (*AccessTokenUserDetails, error) {
	rc, err := ts.grant(ctx)
	if err != nil {
		return nil, err
	}
	return ts.exchange(ctx, rc)
}

// grant runs the RingCentral JWT grant and stores the token. It revokes the RingCentral token
// it replaces (best effort), so runs do not pile up sessions.
func (ts *tokenSource) grant(ctx context.Context) (string, error) {
	c := ts.c
	form := url.Values{
		"grant_type": {"urn:ietf:params:oauth:grant-type:jwt-bearer"},
		"assertion":  {c.cfg.JWT},
	}
	r := &request{method: http.MethodPost, url: newURL(c.rcBase, "restapi/oauth/token", nil), form: form, rcEndpoint: "jwt grant"}
	_, body, err := c.do(ctx, r)
	if err != nil {
		return "", fmt.Errorf("requesting ringcentral token: %w", err)
	}
	var tr rcTokenResponse
	if err := json.Unmarshal(body, &tr); err != nil {
		return "", fmt.Errorf("requesting ringcentral token: %w", &DecodeError{Endpoint: c.endpoint(r), Err: c.redactErr(err)})
	}
	if tr.AccessToken == "" {
		return "", fmt.Errorf("requesting ringcentral token: %w", &DecodeError{Endpoint: c.endpoint(r), Err: errors.New("access_token is missing")})
	}
	ttl := fallbackRCTTL
	if tr.ExpiresIn.Valid && tr.ExpiresIn.Int64 > 0 {
		ttl = time.Duration(tr.ExpiresIn.Int64) * time.Second
	}
	c.stats.grants.Add(1)
	ts.mu.Lock()
	old := ts.rc
	ts.rc = &rcToken{access: tr.AccessToken, expiry: c.now().Add(ttl)}
	if old != nil {
		ts.addPast(old.access)
	}
	ts.mu.Unlock()
	c.logger().Info("ringcentral: JWT grant succeeded", slog.String("expires_in", ttl.String()), slog.String("scope", tr.Scope))
	if old != nil && old.expiry.After(c.now()) {
		if err := ts.revoke(ctx, old.access); err != nil {
			c.logger().Warn("ringcentral: revoking the replaced token failed", slog.String("error", err.Error()))
		}
	}
	return tr.AccessToken, nil
}

// revoke revokes a RingCentral access token.
func (ts *tokenSource) revoke(ctx context.Context, tok string) error {
	c := ts.c
	r := &request{method: http.MethodPost, url: newURL(c.rcBase, "restapi/oauth/revoke", nil),
		form: url.Values{"token": {tok}}, rcEndpoint: "revoke"}
	if _, _, err := c.do(ctx, r); err != nil {
		return fmt.Errorf("revoking ringcentral token: %w", err)
	}
	return nil
}

// exchange trades a RingCentral token for an Engage token pair, within the exchange limit.
func (ts *tokenSource) exchange(ctx context.Context, rcAccess string) (*AccessTokenUserDetails, error) {
	c := ts.c
	form := url.Values{"rcAccessToken": {rcAccess}, "rcTokenType": {"Bearer"}}
	r := &request{method: http.MethodPost,
		url:  newURL(c.engageBase, "api/auth/login/rc/accesstoken", url.Values{"includeRefresh": {"true"}}),
		form: form, exchange: true}
	_, body, err := c.do(ctx, r)
	if err != nil {
		return nil, err
	}
	d, err := ts.store(r, body)
	if err != nil {
		return nil, err
	}
	c.stats.exchanges.Add(1)
	c.logger().Info("engage: token exchange succeeded", slog.String("main_account_id", d.MainAccountID))
	return d, nil
}

// refresh trades the refresh token for a new token pair (the rotated refresh token replaces
// the old one).
func (ts *tokenSource) refresh(ctx context.Context, refresh string) error {
	c := ts.c
	form := url.Values{"refresh_token": {refresh}, "rcTokenType": {"Bearer"}}
	r := &request{method: http.MethodPost, url: newURL(c.engageBase, "api/auth/token/refresh", nil), form: form}
	_, body, err := c.do(ctx, r)
	if err != nil {
		return err
	}
	if _, err := ts.store(r, body); err != nil {
		return err
	}
	c.stats.refreshes.Add(1)
	c.logger().Debug("engage: access token refreshed")
	return nil
}

// store decodes a login/refresh response and makes its tokens current.
func (ts *tokenSource) store(r *request, body []byte) (*AccessTokenUserDetails, error) {
	c := ts.c
	var w loginResponse
	if err := json.Unmarshal(body, &w); err != nil {
		return nil, &DecodeError{Endpoint: c.endpoint(r), Err: c.redactErr(err)}
	}
	if w.AccessToken == "" {
		return nil, &DecodeError{Endpoint: c.endpoint(r), Err: errors.New("accessToken is missing")}
	}
	now := c.now()
	expiry, lifetime := jwtExpiry(w.AccessToken, now)
	d := w.details(body)
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
	ts.engage = &engageToken{access: w.AccessToken, refresh: refresh, expiry: expiry, lifetime: lifetime}
	ts.gen++
	if d.MainAccountID != "" || ts.details == nil {
		ts.details = d
	}
	return d, nil
}

// jwtExpiry reads the exp (and iat) claims of a JWT without verifying it. The lifetime is
// exp−iat when iat is sane, else exp−now. A token that cannot be read gets now+5m.
func jwtExpiry(tok string, now time.Time) (expiry time.Time, lifetime time.Duration) {
	fallback := func() (time.Time, time.Duration) { return now.Add(fallbackEngageTTL), fallbackEngageTTL }
	parts := strings.Split(tok, ".")
	if len(parts) != 3 {
		return fallback()
	}
	payload, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(parts[1], "="))
	if err != nil {
		return fallback()
	}
	var claims struct {
		Exp *json.Number `json:"exp"`
		Iat *json.Number `json:"iat"`
	}
	if err := json.Unmarshal(payload, &claims); err != nil || claims.Exp == nil {
		return fallback()
	}
	exp, err := claims.Exp.Float64()
	if err != nil || exp <= 0 {
		return fallback()
	}
	expiry = time.UnixMilli(int64(exp * 1000))
	lifetime = expiry.Sub(now)
	if claims.Iat != nil {
		if iat, err := claims.Iat.Float64(); err == nil && iat > 0 && iat < exp {
			lifetime = time.Duration((exp - iat) * float64(time.Second))
		}
	}
	if lifetime <= 0 {
		lifetime = time.Second
	}
	return expiry, lifetime
}
