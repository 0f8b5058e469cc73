package engageclient

import (
	"context"
	"errors"
	"fmt"
	"net/http"
)

// RCAccountID returns the RingCentral account id of the session's user: the id of
// GET {rc}/restapi/v1.0/account/~, asked with the session's RingCentral token (logging in
// first when there is no session). The integration reporting endpoints take it as their
// rcAccountId; the accounts listing usually carries it already (Account.MainAccount.RCAccountID),
// which costs no request. A refusal is an *AuthError whose Endpoint is "account".
func (c *Client) RCAccountID(ctx context.Context) (string, error) {
	id, err := c.ts.rcAccountID(ctx)
	if err != nil {
		return "", fmt.Errorf("reading the ringcentral account: %w", err)
	}
	return id, nil
}

// rcAccountID asks RingCentral for the account of the session's RingCentral token.
func (ts *tokenSource) rcAccountID(ctx context.Context) (string, error) {
	tok, err := ts.rcToken(ctx)
	if err != nil {
		return "", err
	}
	r := &request{step: StepAccount, method: http.MethodGet, url: newURL(ts.rcBase, "restapi/v1.0/account/~", nil)}
	_, body, err := ts.retry(ctx, r, ts.cfg.MaxAttempts, ts.rcAttempt(r, "Bearer "+tok))
	if err != nil {
		return "", err
	}
	var w struct {
		ID nullID `json:"id"`
	}
	if err := unmarshalObject(body, &w, "account"); err != nil {
		return "", &DecodeError{Endpoint: ts.endpoint(r), Err: ts.redactErr(err)}
	}
	if !w.ID.Valid {
		return "", &DecodeError{Endpoint: ts.endpoint(r), Err: errors.New("id is missing")}
	}
	return w.ID.String, nil
}

// rcToken returns the session's RingCentral access token, granting one (single-flight with
// the renewals) when there is none or it is about to expire.
func (ts *tokenSource) rcToken(ctx context.Context) (string, error) {
	if tok := ts.rcAccess(); tok != "" {
		return tok, nil
	}
	if err := ts.acquire(ctx); err != nil {
		return "", err
	}
	defer ts.release()
	if tok := ts.rcAccess(); tok != "" {
		return tok, nil
	}
	return ts.grant(ctx)
}

// rcAccess returns the session's RingCentral access token while it lives, else "".
func (ts *tokenSource) rcAccess() string {
	ts.mu.Lock()
	defer ts.mu.Unlock()
	if ts.rc == nil || !ts.rc.expiry.After(ts.now().Add(rcMinRemaining)) {
		return ""
	}
	return ts.rc.access
}
