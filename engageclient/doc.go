// Package engageclient is a typed client for the RingCentral Engage Voice (RingCX) admin API and
// the RingCentral auth chain in front of it: JWT grant, token exchange, refresh, pacing, retries,
// typed errors and tolerant decoding. It knows nothing of Postgres or of sync runs.
//
// # Auth
//
// Login runs the RingCentral JWT grant (POST {rc}/restapi/oauth/token, client id and secret as
// HTTP Basic) and exchanges the RingCentral token for an Engage token pair
// (POST {engage}/api/auth/login/rc/accesstoken?includeRefresh=true). The Engage access token
// lives its own lifetime from its receipt, exp − iat of its JWT claims (without iat, an
// expires_in of the response, else it ends at exp; 5 minutes when unreadable), so a local
// clock off the issuer's does not shorten or stretch it; a skew of more than a minute is
// logged once per client. It is refreshed
// (POST {engage}/api/auth/token/refresh) when its remaining lifetime falls below
// min(Config.RefreshMargin, 20% of its lifetime), single-flight across goroutines, and the
// rotated refresh token replaces the old one. A 401 whose body says the JWT expired causes one
// refresh and one replay of that request. When a refresh fails the RingCentral token is
// exchanged again (at most Config.ExchangePerMinute exchanges in any 60 s), and when that fails
// the JWT grant runs again; a 400/401 from the grant is fatal. Close logs out and revokes the
// RingCentral token; the client can start a new session afterwards.
//
// The token source (token.go) owns all of this and makes its own calls: grant, exchange,
// refresh, revoke and logout, each with its typed error, and the exchange's window. The admin
// API sees it only through Token (a usable Engage token, renewed single-flight when needed)
// and Invalidate (after a 401); Client.do handles only the admin API: pacing, the bearer
// header, one replay after a 401. Both paths share one send and one retry loop (wire.go) and
// one redaction (redact.go). Tokens never appear in errors or logs; the API methods never see
// them.
//
// # Pacing and retries
//
// Admin API requests (the integration reporting requests have their own buckets: see below)
// pass one rate limiter (Config.RequestsPerMinute, burst 1, so requests are evenly spaced) and
// a semaphore (Config.Concurrency). Each call retries with a fresh
// sethvargo/go-retry backoff (exponential from Config.BackoffBase with jitter, capped at
// Config.BackoffCap, at most Config.MaxAttempts attempts and Config.MaxRetryDuration) on 429,
// 408, 5xx, timeouts and transport errors only; a 429's Retry-After (seconds or HTTP date), or
// its X-Rate-Limit-Window when no Retry-After came, is waited out by every admin API request
// of the client, up to Config.MaxRetryWait: a longer wait, whatever its size (one beyond a
// time.Duration saturates), fails the request that got it and every request behind its pause
// at once (unsent) with a *RateLimitError, until what is left of the pause is short enough to
// wait. The Retry-After of a 503 (Engage's or RingCentral's) and of a RingCentral 429 is
// waited out by the call that got it, and beyond Config.MaxRetryWait fails it at once
// likewise. Every wait ends when the context does. While requests wait out a 429's pause,
// Client.Stats says so (Stats.Wait: until when, and which header asked for it).
//
// # Errors
//
// Unsuccessful Engage responses are *APIError (*RateLimitError for 429, also matchable as
// *APIError), RingCentral OAuth failures are *AuthError, undecodable bodies are *DecodeError
// naming the endpoint; IsRetryable classifies them. URLs in errors are sanitized, and every
// error text is redacted (before any truncation) of the client's secrets in every form an echo
// may carry them (as sent, URL-, path- and JSON-escaped, base64 of the Basic credentials, cut
// short) and of credentials recognised by their shape (Bearer/Basic values, JWTs, credential
// form parameters).
//
// # Decoding
//
// List endpoints return bare JSON arrays. Dates decode with Time ("2020-05-18T19:22:12.000+0000",
// "-0000", RFC 3339, null, ""), ids from JSON numbers or numeric strings alike, and every
// object keeps the JSON it came from in Raw, unknown fields included. An item that cannot be
// decoded (no id, a value of the wrong type) is left out, and the listing returns the others
// with an *ItemsError; an item with children (a queue group's gates, a dial group's campaigns,
// from the withChildren listings) that cannot decode one of them is returned without it, and
// the *ItemsError names the child (ItemError.Child, "gates[1]").
//
// # Listings
//
// Per sub-account: ListAgentGroups (paged with ListOptions), ListGateGroupsWithChildren (queue
// groups and their queues) and ListDialGroupsWithChildren (dial groups and their campaigns),
// the last two one request each. Per group: ListAgents, ListGateGroupSkills, and the
// assignments, ListGateAssignedAgents and ListDialGroupAssignedAgents (paged with ListOptions).
// Across the tenant: ListAccounts and ListUsers. A paged listing requests pages Page, Page+1, …
// until one is short; without ListOptions (or with MaxRows 0) it is one request for the full
// list. The page parameter is taken as 0-based, with maxRows items a page in the same order on
// every request: a page that repeats an item of an earlier page shows that the server pages
// otherwise (ignores page, counts it from 1, repeats a page, orders unstably), and the listing
// fails with ErrPagingNotAsAssumed, naming the listing, its endpoint and the page, and returns
// no items, since it cannot be known to be complete. A listing of more than
// Config.MaxListingRows items (every page together) fails likewise with ErrListingTooLong.
//
// # Windows
//
// SearchAuditLogs (PUT /voice/api/v1/admin/auditLogs/search) returns one sub-account's admin
// audit log entries of a window, its bounds written with an explicit offset (AuditDateLayout;
// the API refuses "Z"); it is an admin API request, paced by the admin limiter, and answers 403
// when the user lacks "Audit log access".
//
// # Integration reporting
//
// Four endpoints, POST {engage}/voice/api/cx/integration/v1/accounts/{rcAccountId}/
// sub-accounts/{subAccountId}/…, report one sub-account's history of a window:
// ReadInteractionSegments (interaction-metadata, a SegmentsWindow of at most
// ReportingMaxSegmentsInterval), ReadQueueStats (agg-queue-stats), ReadAgentStats
// (agg-agent-stats) and ReadAgentQueueStats (agg-agent-extended-stats), the last three a
// StatsWindow of at most ReportingMaxWindow. A window must end ReportingMinDelay before now;
// rcAccountId is the RingCentral account id (Account.MainAccount.RCAccountID, or RCAccountID).
// They answer 403 when the sub-account lacks "WEM Access".
//
// Their requests are paced by a bucket per sub-account (Config.ReportingLimits, by default 3
// requests per 60 s and 9 per 15 minutes, every limit at once), a sliding log of send times
// that allows a request only when no interval of a limit's length would hold more than its
// count, so no burst gets through after a quiet spell. The buckets are independent of each
// other and of the admin limiter, pause and concurrency bound. Retries and 401 replays take
// slots too. A 429 pauses its sub-account's bucket only, for its Retry-After, up to
// Config.MaxRetryWait as for the admin pause; a wait that cannot end before the context's
// deadline fails at once with context.DeadlineExceeded. ReportingWait, ReportingSpan (the time
// n more requests take, for an ETA) and ReportingSeed (sends another process made) expose the
// bucket.
//
// An answer is a bare JSON array, not paged, of up to tens of thousands of items: the Read
// calls retry until a successful response arrives, then return it as Items, which decodes the
// body item by item as the caller ranges over Items.All, never holding it whole; a malformed
// item ends the range with a *DecodeError naming its index and field. ListQueueStats collects
// ReadQueueStats (the check command's probe).
package engageclient
