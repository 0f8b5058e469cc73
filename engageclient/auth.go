package engageclient

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"time"
)

// Login authenticates once: the RingCentral JWT grant, then the exchange for an Engage token
// pair. A second call returns the details of the current session without new requests. API
// methods log in by themselves when needed, so calling Login first is optional; it gives the
// login details (mainAccountId) and surfaces credential errors early.
func (c *Client) Login(ctx context.Context) (*AccessTokenUserDetails, error) {
	ts := c.ts
	if err := ts.acquire(ctx); err != nil {
		return nil, fmt.Errorf("logging in: %w", err)
	}
	defer ts.release()
	ts.mu.Lock()
	d := ts.details
	ok := ts.engage != nil && d != nil
	ts.mu.Unlock()
	if ok {
		return d, nil
	}
	d, err := ts.login(ctx)
	if err != nil {
		return nil, fmt.Errorf("logging in: %w", err)
	}
	return d, nil
}

// Close ends the session: it logs the Engage refresh token out (best effort; not every server
// has the endpoint) and revokes the RingCentral token, so runs do not pile up sessions
// (RingCentral allows about five per user), then forgets both. The client stays usable: a
// later Login or API call starts a new session (so one client can serve many runs, each
// ending with Close). Close returns the revocation error, if any.
func (c *Client) Close(ctx context.Context) error {
	ts := c.ts
	if err := ts.acquire(ctx); err != nil {
		return fmt.Errorf("closing session: %w", err)
	}
	defer ts.release()
	ts.mu.Lock()
	rc, eng := ts.rc, ts.engage
	ts.mu.Unlock()

	if eng != nil && eng.refresh != "" {
		// The documented answer is 200 text/plain (or 204): asking for JSON gets 406.
		r := &request{method: http.MethodDelete,
			url:     newURL(c.engageBase, "api/auth/logout/{}", nil, eng.refresh),
			noRetry: true, accept: "text/plain, */*"}
		lctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		_, _, err := c.do(lctx, r)
		cancel()
		if err != nil {
			c.logger().Warn("engage: logging the refresh token out failed", slog.String("error", c.redact(err.Error())))
		}
	}
	var err error
	if rc != nil && rc.expiry.After(c.now()) {
		err = ts.revoke(ctx, rc.access)
	}
	ts.forget()
	if c.ownHTTP {
		c.http.CloseIdleConnections()
	}
	if err != nil {
		return fmt.Errorf("closing session: %w", err)
	}
	return nil
}
