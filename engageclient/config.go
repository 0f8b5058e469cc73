package engageclient

import (
	"cmp"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"time"
)

// Defaults applied by Config.WithDefaults (and so by New) to zero Config fields.
const (
	RCServerURLDefault       = "https://platform.ringcentral.com"
	EngageServerURLDefault   = "https://engage.ringcentral.com"
	RefreshMarginDefault     = 60 * time.Second
	RequestsPerMinuteDefault = 120
	ConcurrencyDefault       = 4
	MaxAttemptsDefault       = 5
	MaxRetryDurationDefault  = 2 * time.Minute
	MaxRetryWaitDefault      = 2 * time.Minute
	// UserAgentDefault is the User-Agent of a client whose Config names none (the syncer
	// names its own version).
	UserAgentDefault         = "evsync/dev"
	BackoffBaseDefault       = time.Second
	BackoffCapDefault        = 30 * time.Second
	ExchangePerMinuteDefault = 5
	RequestTimeoutDefault    = 60 * time.Second
	// MaxListingRowsDefault bounds the items of one paged listing (syncer's engage.max_listing_rows).
	MaxListingRowsDefault = 1_000_000
)

// Config configures a Client. Zero values mean the defaults above; ClientID, ClientSecret and
// JWT are required.
type Config struct {
	RCServerURL       string        // RingCentral platform base URL, default RCServerURLDefault
	ClientID          string        // RingCentral app client id
	ClientSecret      string        // RingCentral app client secret (never logged)
	JWT               string        // RingCentral JWT credential (never logged)
	EngageServerURL   string        // Engage base URL, default EngageServerURLDefault (https://ringcx.ringcentral.com works too)
	RefreshMargin     time.Duration // refresh when remaining < min(RefreshMargin, 20% of lifetime); default 60s
	RequestsPerMinute int           // client-side limiter for admin API calls, default 120
	Concurrency       int           // max in-flight admin API requests, default 4
	MaxAttempts       int           // attempts per call including the first, default 5
	MaxRetryDuration  time.Duration // total time one call may spend retrying, default max(2m, MaxRetryWait)
	MaxRetryWait      time.Duration // longest server-imposed wait (Retry-After, a 429's shared pause) waited out, default 2m; longer ones fail the request with a *RateLimitError at once (syncer's engage.max_retry_wait)
	BackoffBase       time.Duration // first backoff (exponential, jitter), default 1s
	BackoffCap        time.Duration // cap on one backoff, default 30s
	ExchangePerMinute int           // token exchanges allowed in any 60 s window, default 5
	RequestTimeout    time.Duration // per HTTP attempt, default 60s
	// ReportingLimits are the limits of the integration reporting bucket, one bucket per
	// sub-account, every limit held at once (default ReportingLimitsDefault: 3 per 60 s and 9
	// per 15 minutes; syncer's streams.reporting_limits).
	ReportingLimits []Limit
	MaxListingRows  int          // most items a listing that takes ListOptions may hold (all its pages), default 1,000,000; a longer listing fails with ErrListingTooLong (syncer's engage.max_listing_rows)
	HTTPClient      *http.Client // optional; its Timeout should be zero (RequestTimeout applies)
	UserAgent       string       // default UserAgentDefault; syncer sends "evsync/<version>"
	Logger          *slog.Logger // optional; never receives secrets
}

// ConcurrencyMax is the largest Config.Concurrency: more requests in flight than this only
// meet the server's rate limits sooner.
const ConcurrencyMax = 64

// WithDefaults returns cfg with every zero field set to its default (the <Field>Default
// constants; MaxRetryDuration defaults to at least MaxRetryWait). New applies it.
func (cfg Config) WithDefaults() Config {
	cfg.RCServerURL = cmp.Or(cfg.RCServerURL, RCServerURLDefault)
	cfg.EngageServerURL = cmp.Or(cfg.EngageServerURL, EngageServerURLDefault)
	cfg.RefreshMargin = cmp.Or(cfg.RefreshMargin, RefreshMarginDefault)
	cfg.RequestsPerMinute = cmp.Or(cfg.RequestsPerMinute, RequestsPerMinuteDefault)
	cfg.Concurrency = cmp.Or(cfg.Concurrency, ConcurrencyDefault)
	cfg.MaxAttempts = cmp.Or(cfg.MaxAttempts, MaxAttemptsDefault)
	cfg.MaxRetryWait = cmp.Or(cfg.MaxRetryWait, MaxRetryWaitDefault)
	// A wait that MaxRetryWait allows fits in the default retry budget.
	cfg.MaxRetryDuration = cmp.Or(cfg.MaxRetryDuration, max(MaxRetryDurationDefault, cfg.MaxRetryWait))
	cfg.BackoffBase = cmp.Or(cfg.BackoffBase, BackoffBaseDefault)
	cfg.BackoffCap = cmp.Or(cfg.BackoffCap, BackoffCapDefault)
	cfg.ExchangePerMinute = cmp.Or(cfg.ExchangePerMinute, ExchangePerMinuteDefault)
	cfg.RequestTimeout = cmp.Or(cfg.RequestTimeout, RequestTimeoutDefault)
	cfg.UserAgent = cmp.Or(cfg.UserAgent, UserAgentDefault)
	cfg.MaxListingRows = cmp.Or(cfg.MaxListingRows, MaxListingRowsDefault)
	if cfg.ReportingLimits == nil {
		cfg.ReportingLimits = slices.Clone(ReportingLimitsDefault)
	}
	return cfg
}

// ConfigError is one problem Config.Validate found: the Go name of the field and what is
// wrong with it.
type ConfigError struct {
	Field  string // the Config field, e.g. "Concurrency"
	Reason string // reads after the field's name: "must be from 1 to 64, got 65"
}

// Error returns "engageclient: Config.<Field> <Reason>".
func (e *ConfigError) Error() string { return "engageclient: Config." + e.Field + " " + e.Reason }

// Validate checks cfg as a Client would use it, so call it on WithDefaults' result (New does):
// a zero field that has a default is reported like any other value out of range. It returns
// one *ConfigError per problem, joined (errors.As finds the first); the URLs' errors never
// repeat a credential.
func (cfg Config) Validate() error {
	var errs []error
	bad := func(field, format string, args ...any) {
		errs = append(errs, &ConfigError{Field: field, Reason: fmt.Sprintf(format, args...)})
	}
	for _, r := range []struct{ field, v string }{
		{"ClientID", cfg.ClientID}, {"ClientSecret", cfg.ClientSecret}, {"JWT", cfg.JWT},
	} {
		if r.v == "" {
			bad(r.field, "is required")
		}
	}
	for _, u := range []struct{ field, v string }{
		{"RCServerURL", cfg.RCServerURL}, {"EngageServerURL", cfg.EngageServerURL},
	} {
		if err := checkBaseURL(u.v); err != nil {
			bad(u.field, "must be an http or https base URL: %v", err)
		}
	}
	for _, d := range []struct {
		field string
		v     time.Duration
	}{
		{"RefreshMargin", cfg.RefreshMargin},
		{"MaxRetryDuration", cfg.MaxRetryDuration},
		{"MaxRetryWait", cfg.MaxRetryWait},
		{"BackoffBase", cfg.BackoffBase},
		{"BackoffCap", cfg.BackoffCap},
		{"RequestTimeout", cfg.RequestTimeout},
	} {
		if d.v <= 0 {
			bad(d.field, "must be a positive duration, got %s", d.v)
		}
	}
	for _, n := range []struct {
		field string
		v     int
	}{
		{"RequestsPerMinute", cfg.RequestsPerMinute},
		{"MaxAttempts", cfg.MaxAttempts},
		{"ExchangePerMinute", cfg.ExchangePerMinute},
		{"MaxListingRows", cfg.MaxListingRows},
	} {
		if n.v <= 0 {
			bad(n.field, "must be a positive integer, got %d", n.v)
		}
	}
	if n := cfg.Concurrency; n < 1 || n > ConcurrencyMax {
		bad("Concurrency", "must be an integer from 1 to %d, got %d", ConcurrencyMax, n)
	}
	if len(cfg.ReportingLimits) == 0 {
		bad("ReportingLimits", "must hold at least one limit")
	}
	for i, l := range cfg.ReportingLimits {
		if l.Count < 1 || l.Per <= 0 {
			bad("ReportingLimits", "[%d] must have a Count of at least 1 and a positive Per, got %d per %s", i, l.Count, l.Per)
		}
	}
	if cfg.BackoffBase > 0 && cfg.BackoffCap < cfg.BackoffBase {
		bad("BackoffCap", "(%s) must be at least BackoffBase (%s)", cfg.BackoffCap, cfg.BackoffBase)
	}
	return errors.Join(errs...)
}

// checkBaseURL accepts an absolute http(s) URL without query, fragment or user info.
func checkBaseURL(s string) error {
	u, err := url.Parse(s)
	if err != nil {
		return fmt.Errorf("parsing %q: %w", sanitizeURLString(s), err)
	}
	switch {
	case u.Scheme != "http" && u.Scheme != "https":
		return fmt.Errorf("scheme must be http or https, got %q", u.Scheme)
	case u.Host == "":
		return fmt.Errorf("host is missing in %q", sanitizeURLString(s))
	case u.User != nil:
		return fmt.Errorf("user info is not allowed in the URL")
	case u.RawQuery != "" || u.Fragment != "":
		return fmt.Errorf("query and fragment are not allowed in the URL")
	}
	return nil
}

// parseBaseURL parses a validated base URL and makes sure its path ends with a slash, so
// relative references resolve beneath it.
func parseBaseURL(s string) *url.URL {
	u, _ := url.Parse(s) // validated by checkBaseURL
	if len(u.Path) == 0 || u.Path[len(u.Path)-1] != '/' {
		u.Path += "/"
	}
	return u
}
