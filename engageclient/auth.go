package engageclient

import (
	"context"
	"fmt"
)

// Login authenticates once: the RingCentral JWT grant, then the exchange for an Engage token
// pair. A second call returns the details of the current session without new requests. API
// methods log in by themselves when needed, so calling Login first is optional; it gives the
// login details (mainAccountId) and surfaces credential errors early.
func (c *Client) Login(ctx context.Context) (*AccessTokenUserDetails, error) {
	d, err := c.ts.Login(ctx)
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
	if err := c.ts.Logout(ctx); err != nil {
		return fmt.Errorf("closing session: %w", err)
	}
	return nil
}
