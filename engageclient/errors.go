package engageclient

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/evsync/evsync/internal/oneline"
)

// maxErrorBody bounds how much of an error response body is kept in an error.
const maxErrorBody = 2048

// maxRedactedBody bounds how much of an error response body is redacted before the cut to
// maxErrorBody (or less): far more than any secret is long, so that no secret the cut splits
// escapes its redaction.
const maxRedactedBody = 64 << 10

// redactedBody returns body redacted, then cut to n bytes.
func redactedBody(body []byte, n int, redact func(string) string) string {
	return oneline.Cut(redact(string(body[:min(len(body), maxRedactedBody)])), n)
}

// APIError is an unsuccessful (non-2xx) response from the Engage API. Its URL is sanitized and
// its Body truncated, with every secret the client knows removed.
type APIError struct {
	Step           Step   // StepAPI, or the Engage auth call (StepExchange, StepRefresh, StepLogout)
	StatusCode     int    // HTTP status code
	Method         string // HTTP method
	URL            string // request URL without query values that could carry secrets
	GeneralMessage string // Errors.generalMessage when the body is the Engage JSON error object
	Details        string // Errors.details
	RequestURI     string // Errors.requestUri
	ErrorCode      string // errorCode (e.g. "access.denied.exception")
	Body           string // the body as received (truncated, secrets redacted), for text/plain bodies

	retryAfter time.Duration // a 503's Retry-After (a 429's is RateLimitError.RetryAfter)
	maxWait    time.Duration // set when retryAfter exceeded Config.MaxRetryWait: not retried
}

// Error implements error.
func (e *APIError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "engage API %s %s: %d %s", e.Method, e.URL, e.StatusCode, http.StatusText(e.StatusCode))
	switch {
	case e.GeneralMessage != "" || e.Details != "":
		msg := e.GeneralMessage
		if e.Details != "" && e.Details != msg {
			msg = strings.TrimPrefix(msg+" ("+e.Details+")", " ")
		}
		b.WriteString(": " + msg)
	case e.Body != "":
		b.WriteString(": " + oneline.Of(e.Body, 200))
	}
	if e.ErrorCode != "" {
		b.WriteString(" [" + e.ErrorCode + "]")
	}
	if e.maxWait > 0 && e.retryAfter > e.maxWait {
		fmt.Fprintf(&b, ": Retry-After %s exceeds engage.max_retry_wait %s", shownWait(e.retryAfter), e.maxWait)
	}
	return b.String()
}

// RateLimitError is a 429 Too Many Requests response. RetryAfter is the wait the server asked
// for (Retry-After, or the X-Rate-Limit-Window when no Retry-After came), zero when it said
// nothing. MaxWait is set when RetryAfter exceeded Config.MaxRetryWait, so the request was not
// retried; Unsent, when the request was not even sent, because an earlier 429's pause (shared
// by every request) still lasted RetryAfter, more than MaxWait. errors.As also matches it as an
// *APIError.
type RateLimitError struct {
	APIError
	RetryAfter time.Duration
	MaxWait    time.Duration
	Unsent     bool

	waitHeader string // the header RetryAfter was read from (waitAsked), for Wait.Reason
}

// Error implements error.
func (e *RateLimitError) Error() string {
	if e.Unsent {
		return fmt.Sprintf("engage API %s %s: not sent: rate limited: an earlier 429's Retry-After leaves %s to wait, which exceeds engage.max_retry_wait %s",
			e.Method, e.URL, shownWait(e.RetryAfter), e.MaxWait)
	}
	s := e.APIError.Error()
	switch {
	case e.MaxWait > 0 && e.RetryAfter > e.MaxWait:
		s += fmt.Sprintf(": rate limited: Retry-After %s exceeds engage.max_retry_wait %s", shownWait(e.RetryAfter), e.MaxWait)
	case e.RetryAfter > 0:
		s += fmt.Sprintf(" (retry after %s)", e.RetryAfter)
	}
	return s
}

// shownWait renders a wait for an error: whole seconds from a minute up (a Retry-After beyond a
// Duration saturates at one that does not end on a second).
func shownWait(d time.Duration) string {
	if d >= time.Minute {
		d = d.Truncate(time.Second)
	}
	return d.String()
}

// Unwrap lets errors.As match a *RateLimitError as an *APIError.
func (e *RateLimitError) Unwrap() error { return &e.APIError }

// AuthError is an error answer from the RingCentral OAuth endpoints (token, revoke), decoded
// from {"error", "error_description", "errors":[{"errorCode","message"}]}. Code tells the
// credential at fault: "invalid_grant" the JWT, "invalid_client" the client id or secret.
type AuthError struct {
	Step        Step     // StepGrant, StepRevoke or StepAccount
	StatusCode  int      // HTTP status code
	Endpoint    string   // "jwt grant", "revoke" or "account": Step without "ringcentral "
	Code        string   // the OAuth "error" field, e.g. "invalid_grant"
	Description string   // "error_description"
	ErrorCodes  []string // errors[].errorCode, e.g. "OAU-146"
	RetryAfter  time.Duration
}

// Error implements error.
func (e *AuthError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "ringcentral %s: %d %s", cmp.Or(e.Endpoint, "oauth"), e.StatusCode, http.StatusText(e.StatusCode))
	if e.Code != "" {
		b.WriteString(": " + e.Code)
	}
	if e.Description != "" {
		b.WriteString(": " + oneline.Of(e.Description, 200))
	}
	if len(e.ErrorCodes) > 0 {
		b.WriteString(" [" + strings.Join(e.ErrorCodes, ",") + "]")
	}
	return b.String()
}

// Fatal reports whether retrying the same credentials cannot help: 400 (invalid_grant and
// other bad requests), 401 and 403.
func (e *AuthError) Fatal() bool {
	return e.StatusCode == http.StatusBadRequest || e.StatusCode == http.StatusUnauthorized ||
		e.StatusCode == http.StatusForbidden
}

// DecodeError is a response body that could not be decoded; Endpoint names the request
// ("GET /voice/api/v1/admin/accounts").
type DecodeError struct {
	Endpoint string
	Err      error
}

// Error implements error.
func (e *DecodeError) Error() string {
	return fmt.Sprintf("decoding %s response: %v", e.Endpoint, e.Err)
}

// Unwrap returns the underlying JSON error.
func (e *DecodeError) Unwrap() error { return e.Err }

// Errors of a listing that cannot be returned whole, wrapped with the listing, its endpoint and
// its page; neither is retryable, nor an *ItemsError: the listing returns no items.
var (
	// ErrPagingNotAsAssumed: a page of a paged listing (page taken as 0-based, maxRows items a
	// page, one order) repeats an item of an earlier page, so the server does not page as
	// assumed and the listing cannot be known to be complete.
	ErrPagingNotAsAssumed = errors.New("the server is not paging as assumed (page taken as 0-based)")
	// ErrListingTooLong: a listing holds more items than Config.MaxListingRows.
	ErrListingTooLong = errors.New("listing too long")
)

// ItemsError reports the items of a listing that could not be decoded (no id, a value of the
// wrong type, not an object), and the children of returned items that could not be (see
// ItemError.Child). The listing's other items are returned with it, so a caller can keep them
// and treat the listing as incomplete.
type ItemsError struct {
	Items []ItemError // in listing order
}

// ItemError is one listing item that could not be decoded; Index is its 0-based position in
// the JSON array. When Child is set, the item itself was decoded and returned, without the one
// child named there (a queue group's "gates[1]", a dial group's "campaigns[0]", or the whole
// member, "gates", when it is not an array): the item is there, but incomplete.
type ItemError struct {
	Index int
	Child string
	Err   error
}

// maxItemsShown bounds the items an ItemsError names in its text.
const maxItemsShown = 3

// Error implements error.
func (e *ItemsError) Error() string {
	var b strings.Builder
	for i, it := range e.Items {
		if i == maxItemsShown {
			fmt.Fprintf(&b, " (and %d more)", len(e.Items)-maxItemsShown)
			break
		}
		if i > 0 {
			b.WriteString("; ")
		}
		fmt.Fprintf(&b, "item %d: ", it.Index)
		if it.Child != "" {
			b.WriteString(it.Child + ": ")
		}
		fmt.Fprintf(&b, "%v", it.Err)
	}
	return b.String()
}

// Step is what a request of the client is for: a RingCentral OAuth call, an Engage auth call
// or an admin API request. Typed errors carry it (TransportError.Step, APIError.Step,
// AuthError.Step), so that a caller can say which host or credential to look at without
// parsing URLs.
type Step string

// The steps of the client's requests.
const (
	StepGrant    Step = "ringcentral jwt grant" // POST {rc}/restapi/oauth/token: the JWT and the client credentials
	StepRevoke   Step = "ringcentral revoke"    // POST {rc}/restapi/oauth/revoke
	StepAccount  Step = "ringcentral account"   // GET {rc}/restapi/v1.0/account/~: the token's account
	StepExchange Step = "engage token exchange" // the RingCentral token exchanged for an Engage one
	StepRefresh  Step = "engage token refresh"  // the Engage refresh token
	StepLogout   Step = "engage logout"         // the Engage refresh token logged out
	StepAPI      Step = "engage api"            // an admin API request
)

// RingCentral reports whether requests of s go to the RingCentral platform
// (Config.RCServerURL); the others go to Engage (Config.EngageServerURL).
func (s Step) RingCentral() bool { return s == StepGrant || s == StepRevoke || s == StepAccount }

// service is the prefix of the log lines about requests of s: "ringcentral" or "engage".
func (s Step) service() string {
	if s.RingCentral() {
		return "ringcentral"
	}
	return "engage"
}

// IsRetryable reports whether err is worth retrying: 429, 5xx, 408, timeouts of one attempt
// and transport errors. The end of the caller's context (canceled or past its deadline), other
// 4xx, fatal auth failures and decoding errors are not.
func IsRetryable(err error) bool {
	if err == nil || errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return false
	}
	var rl *RateLimitError
	if errors.As(err, &rl) {
		return true
	}
	var ae *APIError
	if errors.As(err, &ae) {
		return retryableStatus(ae.StatusCode)
	}
	var au *AuthError
	if errors.As(err, &au) {
		return retryableStatus(au.StatusCode)
	}
	var de *DecodeError
	if errors.As(err, &de) {
		return false
	}
	var te *TransportError
	if errors.As(err, &te) {
		return true
	}
	if errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) {
		return true
	}
	var ne net.Error
	if errors.As(err, &ne) {
		return true
	}
	var ue *url.Error
	return errors.As(err, &ue)
}

func retryableStatus(code int) bool {
	return code == http.StatusTooManyRequests || code == http.StatusRequestTimeout || code >= 500
}

// engageErrorBody is the Engage "Errors" JSON object.
type engageErrorBody struct {
	GeneralMessage   string `json:"generalMessage"`
	Details          string `json:"details"`
	DeveloperMessage string `json:"developerMessage"`
	RequestURI       string `json:"requestUri"`
	ErrorCode        string `json:"errorCode"`
	Message          string `json:"message"`
	Error            string `json:"error"`
}

// rcErrorBody is the RingCentral OAuth / API error object.
type rcErrorBody struct {
	Error       string `json:"error"`
	Description string `json:"error_description"`
	ErrorCode   string `json:"errorCode"`
	Message     string `json:"message"`
	Errors      []struct {
		ErrorCode string `json:"errorCode"`
		Message   string `json:"message"`
	} `json:"errors"`
}

// newAPIError builds the typed error for an unsuccessful Engage response to a request of step.
func newAPIError(step Step, resp *http.Response, body []byte, redact func(string) string) error {
	e := APIError{
		Step:       step,
		StatusCode: resp.StatusCode,
		Method:     resp.Request.Method,
		URL:        redact(sanitizeURL(resp.Request.URL)),
	}
	var eb engageErrorBody
	if json.Unmarshal(body, &eb) == nil {
		e.GeneralMessage = redact(cmp.Or(eb.GeneralMessage, eb.Message, eb.Error))
		e.Details = redact(cmp.Or(eb.Details, eb.DeveloperMessage))
		e.RequestURI = redact(eb.RequestURI)
		e.ErrorCode = redact(eb.ErrorCode)
	}
	e.Body = redactedBody(body, maxErrorBody, redact)
	switch resp.StatusCode {
	case http.StatusTooManyRequests:
		d, header := waitAsked(resp.Header, time.Now())
		return &RateLimitError{APIError: e, RetryAfter: d, waitHeader: header}
	case http.StatusServiceUnavailable:
		e.retryAfter = retryAfter(resp.Header, time.Now())
	}
	return &e
}

// newAuthError builds the typed error for an unsuccessful RingCentral response to a request of
// step; its Endpoint is the step without the "ringcentral " prefix ("jwt grant").
func newAuthError(step Step, resp *http.Response, body []byte, redact func(string) string) *AuthError {
	e := &AuthError{Step: step, StatusCode: resp.StatusCode, Endpoint: strings.TrimPrefix(string(step), "ringcentral ")}
	var eb rcErrorBody
	if json.Unmarshal(body, &eb) == nil {
		e.Code = redact(eb.Error)
		e.Description = redact(cmp.Or(eb.Description, eb.Message))
		for _, x := range eb.Errors {
			if x.ErrorCode != "" {
				e.ErrorCodes = append(e.ErrorCodes, redact(x.ErrorCode))
			}
		}
		if eb.ErrorCode != "" && len(e.ErrorCodes) == 0 {
			e.ErrorCodes = append(e.ErrorCodes, redact(eb.ErrorCode))
		}
		if e.Description == "" && len(eb.Errors) > 0 {
			e.Description = redact(eb.Errors[0].Message)
		}
	} else if len(body) > 0 {
		e.Description = redactedBody(body, 200, redact)
	}
	if resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode == http.StatusServiceUnavailable {
		e.RetryAfter = retryAfter(resp.Header, time.Now())
	}
	return e
}

// retryAfter reads how long the server asked us to wait: Retry-After in seconds or as an HTTP
// date; without a usable Retry-After, the X-Rate-Limit-Window (seconds) of a RingCentral-style
// limit. Retry-After wins when both come, being the precise answer. A wait of any size counts,
// one beyond a time.Duration saturating at the largest, so that a caller compares it with
// Config.MaxRetryWait and fails fast, rather than read it as no wait.
func retryAfter(h http.Header, now time.Time) time.Duration {
	d, _ := waitAsked(h, now)
	return d
}

// waitAsked is retryAfter, and the header it was read from: "Retry-After" or
// "X-Rate-Limit-Window" ("" when neither asked for a wait).
func waitAsked(h http.Header, now time.Time) (time.Duration, string) {
	if v := strings.TrimSpace(h.Get("Retry-After")); v != "" {
		if secs, err := parseSeconds(v); err == nil {
			return secs, "Retry-After"
		}
		if t, err := http.ParseTime(v); err == nil {
			return max(t.Sub(now), 0), "Retry-After" // Sub saturates
		}
	}
	// No usable Retry-After: wait out the RingCentral-style rate-limit window.
	if v := strings.TrimSpace(h.Get("X-Rate-Limit-Window")); v != "" {
		if secs, err := parseSeconds(v); err == nil {
			return secs, "X-Rate-Limit-Window"
		}
	}
	return 0, ""
}

// secondsRE is a number of seconds as Retry-After sends it (delay-seconds: digits), with an
// optional fraction.
var secondsRE = regexp.MustCompile(`^[0-9]+(\.[0-9]+)?$`)

// parseSeconds reads a number of seconds of any size; past the largest time.Duration it
// returns that.
func parseSeconds(v string) (time.Duration, error) {
	if !secondsRE.MatchString(v) {
		return 0, fmt.Errorf("bad seconds value")
	}
	// Digits parse, so the only error left is ErrRange: beyond a float (+Inf).
	f, err := strconv.ParseFloat(v, 64)
	if err != nil || f*float64(time.Second) >= math.MaxInt64 {
		return math.MaxInt64, nil
	}
	return time.Duration(f * float64(time.Second)), nil
}

// sanitizeURL renders u without user info, fragment or query values; query keys are kept so
// the error still says which parameters were sent (paging, flatten).
func sanitizeURL(u *url.URL) string {
	if u == nil {
		return ""
	}
	c := *u
	c.User = nil
	c.Fragment = ""
	c.RawFragment = ""
	if c.RawQuery != "" {
		q := c.Query()
		for k, vs := range q {
			if !safeQueryKey(k) {
				for i := range vs {
					vs[i] = "REDACTED"
				}
			}
		}
		c.RawQuery = q.Encode()
	}
	return c.String()
}

// safeQueryKey lists the query parameters whose values are known not to be secret.
func safeQueryKey(k string) bool {
	switch k {
	case "page", "maxRows", "flatten", "activeOnly", "includeRefresh", "includePermissions":
		return true
	}
	return false
}

func sanitizeURLString(s string) string {
	u, err := url.Parse(s)
	if err != nil {
		return "<unparsable URL>"
	}
	return sanitizeURL(u)
}

// ErrPastDeadline is wrapped by the error of a request not sent because the wait for its
// limiter or bucket would outlast its context's deadline: the request fails at once instead of
// sleeping into the deadline. A caller with windows to read leaves them for a later run.
var ErrPastDeadline = errors.New("the wait for the rate limit would outlast the deadline")
