package engagefake

import (
	"cmp"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"io"
	"maps"
	"math"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Endpoint names used by SetFault and Stats.Requests.
const (
	EndpointRCToken     = "rc.token"
	EndpointRCRevoke    = "rc.revoke"
	EndpointRCAccount   = "rc.account" // GET /restapi/v1.0/account/~
	EndpointExchange    = "engage.exchange"
	EndpointRefresh     = "engage.refresh"
	EndpointLogout      = "engage.logout"
	EndpointAccounts    = "accounts"
	EndpointUsers       = "users"
	EndpointAgentGroups = "agentGroups"
	EndpointAgents      = "agents"
	// The configuration listings.
	EndpointGateGroups      = "gateGroups"      // GET …/accounts/{id}/gateGroups/withChildren
	EndpointGateSkills      = "gateGroupSkills" // GET …/accounts/{id}/gateGroups/{ggid}/skills
	EndpointGateAgents      = "gateAgents"      // GET …/accounts/{id}/gateGroups/{ggid}/gates/{gid}/assignedAgents
	EndpointDialGroups      = "dialGroups"      // GET …/accounts/{id}/dialGroups/withChildren
	EndpointDialGroupAgents = "dialGroupAgents" // GET …/accounts/{id}/dialGroups/{dgid}/assignedAgents
	// The audit log search and the integration reporting API.
	EndpointAuditSearch = "auditLogs"     // PUT /voice/api/v1/admin/auditLogs/search
	EndpointQueueStats  = "aggQueueStats" // POST /voice/api/cx/integration/v1/accounts/{rcAccountId}/sub-accounts/{id}/agg-queue-stats
	// The other three integration reporting endpoints, beside agg-queue-stats.
	EndpointInteractionMetadata = "interactionMetadata"   // POST …/sub-accounts/{id}/interaction-metadata
	EndpointAgentStats          = "aggAgentStats"         // POST …/sub-accounts/{id}/agg-agent-stats
	EndpointAgentQueueStats     = "aggAgentExtendedStats" // POST …/sub-accounts/{id}/agg-agent-extended-stats
	EndpointUnknown             = "unknown"               // any other path (answered 404)
)

const (
	maxCacheBytes          = 64 << 20 // bound of the marshaled-response cache
	exchangeWindow         = time.Minute
	rcRefreshTokenLifetime = RCRefreshTokenTTLDefault
)

// Server is the fake RingCentral + Engage Voice API. It implements http.Handler and is safe for
// concurrent use.
type Server struct {
	opts Options
	key  []byte // HMAC key for token signing and token ids

	tmu    sync.RWMutex // guards tenant
	tenant *Tenant

	audit *auditHistory // the generated audit log (immutable)
	calls *callHistory  // the generated call history (immutable)

	cmu        sync.Mutex // guards cache
	cache      map[string][]byte
	cacheBytes int

	mu            sync.Mutex // guards everything below
	stats         Stats
	faults        map[string][]*Fault
	tokenSeq      uint64
	rcAccess      map[string]*rcToken
	rcRefresh     map[string]*rcToken
	engRefresh    map[string]*engRefresh
	engSerial     int64
	expiredUpTo   int64
	issued        []string // every token string issued (for SecretValues)
	exchangeTimes []time.Time
	bucketTokens  float64
	bucketLast    time.Time
	reportingLog  map[string][]time.Time // per sub-account, the reporting requests admitted (sliding log)
	logins        int                    // JWT grants (churnOnLogin)
	churns        []ChurnReport          // the rounds of churn they set off

	hs *httptest.Server
}

// rcToken is the state of a RingCentral access or refresh token.
type rcToken struct {
	expires time.Time
	revoked bool
	pair    *rcToken // the access token of a refresh token and vice versa
}

// engRefresh is the state of an Engage refresh token.
type engRefresh struct {
	expires time.Time
	used    bool
}

// New returns a Server with a freshly generated tenant.
func New(opts Options) *Server {
	opts = opts.WithDefaults()
	mac := hmac.New(sha256.New, []byte("engagefake-signing-key"))
	_ = binary.Write(mac, binary.BigEndian, opts.Seed)
	s := &Server{
		opts:       opts,
		key:        mac.Sum(nil),
		tenant:     newTenant(opts.Seed, opts.Tenant),
		cache:      make(map[string][]byte),
		faults:     make(map[string][]*Fault),
		rcAccess:   make(map[string]*rcToken),
		rcRefresh:  make(map[string]*rcToken),
		engRefresh: make(map[string]*engRefresh),
	}
	s.audit = newAuditHistory(s.tenant, opts)
	s.calls = newCallHistory(s.tenant, opts)
	s.reportingLog = make(map[string][]time.Time)
	s.stats.Requests = make(map[string]int64)
	s.bucketTokens = float64(opts.RateBurst)
	s.bucketLast = opts.Now()
	return s
}

// Options returns the effective options (defaults applied).
func (s *Server) Options() Options { return s.opts }

// Start serves s on a new httptest.Server (loopback) and returns its base URL; Close stops it.
func (s *Server) Start() string {
	s.hs = httptest.NewServer(s)
	return s.hs.URL
}

// StartAt serves s on addr (for example "127.0.0.1:8089", or ":0" for any free port), as the
// standalone `syncer fake-engage` does, and returns the base URL; Close stops it.
func (s *Server) StartAt(addr string) (string, error) {
	l, err := net.Listen("tcp", addr)
	if err != nil {
		return "", fmt.Errorf("listening on %s: %w", addr, err)
	}
	hs := httptest.NewUnstartedServer(s)
	_ = hs.Listener.Close()
	hs.Listener = l
	hs.Start()
	s.hs = hs
	return hs.URL, nil
}

// Close stops the server started by Start or StartAt (a no-op otherwise).
func (s *Server) Close() {
	if s.hs != nil {
		s.hs.Close()
	}
}

// URL returns the base URL of the server started by Start or StartAt ("" before). Both the
// RingCentral and the Engage endpoints live under it.
func (s *Server) URL() string {
	if s.hs == nil {
		return ""
	}
	return s.hs.URL
}

// Fault is injected per endpoint (see the Endpoint constants).
type Fault struct {
	PathContains string        // only requests whose URL path contains this (e.g. "/accounts/20001/"); "" = all
	Latency      time.Duration // extra delay before answering
	Status       int           // answer with this status (e.g. 429, 500, 503) instead of the real response
	RetryAfter   string        // Retry-After header value to send with Status (seconds or HTTP-date); "" = none
	Drop         bool          // drop the connection without answering (see the package doc on keep-alive replays)
	Malformed    bool          // answer 200 with a truncated/malformed JSON body
	NoBody       bool          // with Status: answer with an empty body and no Content-Type (the spec's "401 Unauthorized" has no content); no effect without Status
	Echo         bool          // with Status: answer text/plain echoing the request (its line, Authorization header and form body), as a debugging proxy might; no effect without Status
	Times        int           // apply to the next N matching requests, then stop; 0 = forever
	// Body, when set, is sent as the (application/json) answer, with Status or 200: a hostile or
	// off-spec body, such as an error object where a listing's array belongs.
	Body []byte
}

// SetFault installs f on endpoint. It replaces a fault already set on the same endpoint with the
// same PathContains; faults with different PathContains coexist (the first match, in the order
// they were set, applies).
func (s *Server) SetFault(endpoint string, f Fault) {
	s.mu.Lock()
	defer s.mu.Unlock()
	list := slices.DeleteFunc(s.faults[endpoint], func(x *Fault) bool { return x.PathContains == f.PathContains })
	s.faults[endpoint] = append(list, &f)
}

// ClearFaults removes every fault.
func (s *Server) ClearFaults() {
	s.mu.Lock()
	defer s.mu.Unlock()
	clear(s.faults)
}

// takeFault returns the fault to apply to this request, consuming one of its Times.
func (s *Server) takeFault(endpoint, path string) (Fault, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	list := s.faults[endpoint]
	for i, f := range list {
		if f.PathContains != "" && !strings.Contains(path, f.PathContains) {
			continue
		}
		out := *f
		if f.Times > 0 {
			f.Times--
			if f.Times == 0 {
				s.faults[endpoint] = slices.Delete(list, i, i+1)
			}
		}
		return out, true
	}
	return Fault{}, false
}

// Stats are counters tests assert on.
type Stats struct {
	Requests     map[string]int64 // per endpoint name, every request received
	RateLimited  int64            // 429s served (admin rate limiter, exchange limit, reporting limits and injected)
	Grants       int64            // RingCentral tokens issued (JWT and refresh grants)
	Exchanges    int64            // successful token exchanges
	Refreshes    int64            // successful Engage refreshes
	Revokes      int64            // successful RingCentral revokes
	TokensIssued int64            // Engage access tokens issued (exchanges + refreshes)
	Unauthorized int64            // 401s served
	// Per sub-account: the integration reporting requests the reporting limits admitted
	// (whatever their answer after that), and those they refused with 429.
	ReportingRequests    map[string]int64
	ReportingRateLimited map[string]int64
}

// Stats returns a snapshot of the counters.
func (s *Server) Stats() Stats {
	s.mu.Lock()
	defer s.mu.Unlock()
	st := s.stats
	st.Requests = make(map[string]int64, len(s.stats.Requests))
	for k, v := range s.stats.Requests {
		st.Requests[k] = v
	}
	st.ReportingRequests = maps.Clone(s.stats.ReportingRequests)
	st.ReportingRateLimited = maps.Clone(s.stats.ReportingRateLimited)
	return st
}

// ResetStats zeroes the counters.
func (s *Server) ResetStats() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.stats = Stats{Requests: make(map[string]int64)}
}

// count increments a counter under the lock.
func (s *Server) count(f func(st *Stats)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	f(&s.stats)
}

// Counts returns the numbers of live upstream rows.
func (s *Server) Counts() Counts {
	s.tmu.RLock()
	defer s.tmu.RUnlock()
	return s.tenant.Counts()
}

// SubAccountIDs returns the ids of the sub-accounts, in listing order.
func (s *Server) SubAccountIDs() []string {
	s.tmu.RLock()
	defer s.tmu.RUnlock()
	ids := make([]string, len(s.tenant.SubAccounts))
	for i, sa := range s.tenant.SubAccounts {
		ids[i] = sa.ID
	}
	return ids
}

// AgentGroupIDs returns the agent group ids of a sub-account, in listing order (nil if unknown).
func (s *Server) AgentGroupIDs(accountID string) []int {
	s.tmu.RLock()
	defer s.tmu.RUnlock()
	sa := s.tenant.SubAccount(accountID)
	if sa == nil {
		return nil
	}
	ids := make([]int, len(sa.Groups))
	for i, g := range sa.Groups {
		ids[i] = g.ID
	}
	return ids
}

// AgentIDs returns the agent ids of an agent group, in listing order (nil if unknown).
func (s *Server) AgentIDs(groupID int) []int {
	s.tmu.RLock()
	defer s.tmu.RUnlock()
	g := s.tenant.AgentGroup(groupID)
	if g == nil {
		return nil
	}
	ids := make([]int, len(g.Agents))
	for i, a := range g.Agents {
		ids[i] = a.ID
	}
	return ids
}

// UserIDs returns the admin user ids, in flattened listing order.
func (s *Server) UserIDs() []int {
	s.tmu.RLock()
	defer s.tmu.RUnlock()
	ids := make([]int, len(s.tenant.Users))
	for i, u := range s.tenant.Users {
		ids[i] = u.ID
	}
	return ids
}

// SecretValues returns every secret-bearing field value in the tenant (password, sipPassword,
// phoneLoginPin, crmPwd, ftpPwd, securityKey, phoneRecordingPin, and httpPassword and ftpPwd
// nested in queues and campaigns), both values of each audit log password change, the client
// secret, the JWT
// credential and every token issued so far.
func (s *Server) SecretValues() []string {
	out := []string{s.opts.ClientSecret, s.opts.JWT}
	s.tmu.RLock()
	t := s.tenant
	for _, sa := range t.SubAccounts {
		out = collectSecrets(out, t.subDoc(sa))
		for _, g := range sa.Groups {
			out = collectSecrets(out, t.groupDoc(g))
			for _, a := range g.Agents {
				out = collectSecrets(out, t.agentDoc(a))
			}
		}
	}
	for _, u := range t.Users {
		out = collectSecrets(out, t.userDoc(u))
	}
	for _, sa := range t.SubAccounts {
		for _, g := range sa.QueueGroups {
			out = collectSecrets(out, t.queueGroupDoc(g, false)) // with its gates
		}
		for _, d := range sa.DialGroups {
			out = collectSecrets(out, t.dialGroupDoc(d, false)) // with its campaigns
		}
	}
	s.tmu.RUnlock()
	out = append(out, s.audit.secrets()...)
	s.mu.Lock()
	out = append(out, s.issued...)
	s.mu.Unlock()
	return out
}

// ExpireTokens makes every Engage access token issued so far expired now.
func (s *Server) ExpireTokens() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.expiredUpTo = s.engSerial
}

// newToken returns a fresh opaque token string with the given prefix. Call with s.mu held.
func (s *Server) newToken(prefix string, n int) string {
	s.tokenSeq++
	mac := hmac.New(sha256.New, s.key)
	_ = binary.Write(mac, binary.BigEndian, s.tokenSeq)
	mac.Write([]byte(prefix))
	tok := prefix + hex.EncodeToString(mac.Sum(nil))[:n]
	s.issued = append(s.issued, tok)
	return tok
}

// allowAdmin applies the admin token bucket; it returns (ok, retryAfterSeconds, remaining).
func (s *Server) allowAdmin() (bool, int, int) {
	if s.opts.RateLimit <= 0 {
		return true, 0, 0
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.opts.Now()
	rate := float64(s.opts.RateLimit) / 60 // tokens per second
	if el := now.Sub(s.bucketLast).Seconds(); el > 0 {
		s.bucketTokens = math.Min(float64(s.opts.RateBurst), s.bucketTokens+el*rate)
	}
	s.bucketLast = now
	if s.bucketTokens >= 1 {
		s.bucketTokens--
		return true, 0, int(s.bucketTokens)
	}
	wait := int(math.Ceil((1 - s.bucketTokens) / rate))
	return false, max(1, wait), 0
}

// allowExchange applies the sliding-window exchange limit; it returns (ok, retryAfterSeconds).
func (s *Server) allowExchange() (bool, int) {
	if s.opts.ExchangePerMinute < 0 {
		return true, 0
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.opts.Now()
	s.exchangeTimes = slices.DeleteFunc(s.exchangeTimes, func(t time.Time) bool { return !now.Before(t.Add(exchangeWindow)) })
	if len(s.exchangeTimes) >= s.opts.ExchangePerMinute {
		wait := s.exchangeTimes[0].Add(exchangeWindow).Sub(now)
		return false, max(1, int(math.Ceil(wait.Seconds())))
	}
	s.exchangeTimes = append(s.exchangeTimes, now)
	return true, 0
}

// route names the endpoint of a request and extracts the path ids.
type route struct {
	endpoint  string
	accountID string
	groupID   string
	arg       string
}

// parseRoute classifies r. It splits the escaped path (r.URL.EscapedPath) on "/" and unescapes
// each segment once, so a path parameter (an account id, a refresh token) holding "/", "%" or a
// space is one segment and round-trips, and "." or ".." is an ordinary segment, not a step up.
// A segment that does not unescape makes the request unknown.
func parseRoute(r *http.Request) route {
	p := strings.TrimSuffix(r.URL.EscapedPath(), "/")
	switch p {
	case "/restapi/oauth/token":
		return route{endpoint: EndpointRCToken}
	case "/restapi/oauth/revoke":
		return route{endpoint: EndpointRCRevoke}
	case "/restapi/v1.0/account/~", "/restapi/v1.0/account/%7E":
		return route{endpoint: EndpointRCAccount}
	case "/api/auth/login/rc/accesstoken":
		return route{endpoint: EndpointExchange}
	case "/api/auth/token/refresh":
		return route{endpoint: EndpointRefresh}
	case "/voice/api/v1/admin/accounts":
		return route{endpoint: EndpointAccounts}
	case "/voice/api/v1/admin/users":
		return route{endpoint: EndpointUsers}
	case "/voice/api/v1/admin/auditLogs/search":
		return route{endpoint: EndpointAuditSearch}
	}
	unknown := route{endpoint: EndpointUnknown}
	if rest, ok := strings.CutPrefix(p, "/api/auth/logout/"); ok {
		tok, err := url.PathUnescape(rest)
		if err != nil || rest == "" || strings.Contains(rest, "/") {
			return unknown
		}
		return route{endpoint: EndpointLogout, arg: tok}
	}
	if rest, ok := strings.CutPrefix(p, reportingPrefix); ok {
		return reportingRoute(rest, unknown)
	}
	rest, ok := strings.CutPrefix(p, "/voice/api/v1/admin/accounts/")
	if !ok {
		return unknown
	}
	parts, ok := pathSegments(rest)
	if !ok {
		return unknown
	}
	switch {
	case len(parts) == 2 && parts[0] != "" && parts[1] == "agentGroups":
		return route{endpoint: EndpointAgentGroups, accountID: parts[0]}
	case len(parts) == 4 && parts[0] != "" && parts[1] == "agentGroups" && parts[3] == "agents":
		return route{endpoint: EndpointAgents, accountID: parts[0], groupID: parts[2]}
	}
	return configRoute(parts, unknown)
}

// configRoute classifies the configuration listings' paths (the segments after
// /voice/api/v1/admin/accounts/).
func configRoute(parts []string, unknown route) route {
	if len(parts) < 3 || parts[0] == "" {
		return unknown
	}
	acc := parts[0]
	switch {
	case len(parts) == 3 && parts[1] == "gateGroups" && parts[2] == "withChildren":
		return route{endpoint: EndpointGateGroups, accountID: acc}
	case len(parts) == 4 && parts[1] == "gateGroups" && parts[3] == "skills":
		return route{endpoint: EndpointGateSkills, accountID: acc, groupID: parts[2]}
	case len(parts) == 6 && parts[1] == "gateGroups" && parts[3] == "gates" && parts[5] == "assignedAgents":
		return route{endpoint: EndpointGateAgents, accountID: acc, groupID: parts[2], arg: parts[4]}
	case len(parts) == 3 && parts[1] == "dialGroups" && parts[2] == "withChildren":
		return route{endpoint: EndpointDialGroups, accountID: acc}
	case len(parts) == 4 && parts[1] == "dialGroups" && parts[3] == "assignedAgents":
		return route{endpoint: EndpointDialGroupAgents, accountID: acc, groupID: parts[2]}
	}
	return unknown
}

// ServeHTTP serves both APIs.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	rt := parseRoute(r)
	s.count(func(st *Stats) { st.Requests[rt.endpoint]++ })
	if f, ok := s.takeFault(rt.endpoint, r.URL.Path); ok {
		if s.applyFault(w, r, rt, f) {
			return
		}
	}
	admin := strings.HasPrefix(r.URL.Path, "/voice/api/")
	reporting := rt.endpoint == EndpointInteractionMetadata || rt.endpoint == EndpointQueueStats ||
		rt.endpoint == EndpointAgentStats || rt.endpoint == EndpointAgentQueueStats
	if admin {
		if s.opts.Latency > 0 && !sleepCtx(r, s.opts.Latency) {
			return
		}
		// The integration reporting endpoints have their own limits (allowReporting), not the
		// admin API's: the admin limiter neither counts nor refuses them. Latency applies to
		// them too: it models the network, not a limit.
		ok, wait, remaining := true, 0, 0
		if !reporting {
			ok, wait, remaining = s.allowAdmin()
		}
		if s.opts.RateLimit > 0 && !reporting {
			w.Header().Set("X-Rate-Limit-Limit", strconv.Itoa(s.opts.RateLimit))
			w.Header().Set("X-Rate-Limit-Remaining", strconv.Itoa(remaining))
			w.Header().Set("X-Rate-Limit-Window", "60")
		}
		if !ok {
			if s.opts.RateLimitRetryAfter {
				w.Header().Set("Retry-After", strconv.Itoa(wait))
			}
			s.count(func(st *Stats) { st.RateLimited++ })
			s.engageError(w, r, http.StatusTooManyRequests, "Too Many Requests", "rate limit exceeded")
			return
		}
		if !s.authorize(w, r) {
			return
		}
	}
	switch rt.endpoint {
	case EndpointRCToken:
		s.handleRCToken(w, r)
	case EndpointRCRevoke:
		s.handleRCRevoke(w, r)
	case EndpointRCAccount:
		s.handleRCAccount(w, r)
	case EndpointExchange:
		s.handleExchange(w, r)
	case EndpointRefresh:
		s.handleRefresh(w, r)
	case EndpointLogout:
		s.handleLogout(w, r, rt.arg)
	case EndpointUnknown:
		s.engageError(w, r, http.StatusNotFound, "Not Found", "no such endpoint in the fake")
	case EndpointAuditSearch:
		s.handleAuditSearch(w, r)
	case EndpointQueueStats, EndpointAgentStats, EndpointAgentQueueStats, EndpointInteractionMetadata:
		s.handleReporting(w, r, rt)
	default:
		if r.Method != http.MethodGet {
			s.engageError(w, r, http.StatusMethodNotAllowed, "Method Not Allowed", "only GET is supported")
			return
		}
		if rt.endpoint == EndpointUsers && s.opts.NoManageUsers {
			s.engageError(w, r, http.StatusForbidden, "Forbidden",
				"listing users needs the MANAGE_USERS or SUPER_USER permission")
			return
		}
		status, body := s.render(r, rt)
		if status != http.StatusOK {
			s.engageError(w, r, status, http.StatusText(status), string(body))
			return
		}
		writeJSON(w, http.StatusOK, body)
	}
}

// sleepCtx waits d or until the request is canceled; it reports whether d elapsed.
func sleepCtx(r *http.Request, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-r.Context().Done():
		return false
	}
}

// applyFault applies f; it reports whether the request was answered (or dropped).
func (s *Server) applyFault(w http.ResponseWriter, r *http.Request, rt route, f Fault) bool {
	if f.Latency > 0 && !sleepCtx(r, f.Latency) {
		return true
	}
	switch {
	case f.Drop:
		if hj, ok := w.(http.Hijacker); ok {
			if conn, _, err := hj.Hijack(); err == nil {
				_ = conn.Close()
				return true
			}
		}
		panic(http.ErrAbortHandler)
	case f.Malformed:
		body := []byte(`{"accessToken":"eyJhbGciOiJIUzI1NiJ9.eyJzdWIi`)
		if strings.HasPrefix(r.URL.Path, "/voice/api/") {
			if status, full := s.render(r, rt); status == http.StatusOK && len(full) > 2 {
				body = full[:len(full)/2]
			} else {
				body = []byte(`[{"accountId":"2`)
			}
		} else if rt.endpoint == EndpointRCToken {
			body = []byte(`{"access_token":"U0pDMDFQMDFQQVMwMHxBQUJ`)
		}
		writeJSON(w, http.StatusOK, body)
		return true
	case f.Body != nil:
		writeJSON(w, cmp.Or(f.Status, http.StatusOK), f.Body)
		return true
	case f.Status != 0:
		s.writeFaultStatus(w, r, f)
		return true
	}
	return false
}

// writeFaultStatus answers a fault's Status (counted like a real 429 or 401), with its
// Retry-After, and no body, an echo of the request, or the body the endpoint's API sends.
func (s *Server) writeFaultStatus(w http.ResponseWriter, r *http.Request, f Fault) {
	if f.RetryAfter != "" {
		w.Header().Set("Retry-After", f.RetryAfter)
	}
	switch f.Status {
	case http.StatusTooManyRequests:
		s.count(func(st *Stats) { st.RateLimited++ })
	case http.StatusUnauthorized:
		s.count(func(st *Stats) { st.Unauthorized++ })
	}
	switch {
	case f.NoBody:
		w.Header().Set("Content-Length", "0")
		w.WriteHeader(f.Status)
	case f.Echo:
		body, _ := io.ReadAll(io.LimitReader(r.Body, 1<<20))
		writeText(w, f.Status, fmt.Sprintf("request rejected: %s %s\nAuthorization: %s\n%s",
			r.Method, r.URL.RequestURI(), r.Header.Get("Authorization"), body))
	case f.Status == http.StatusUnauthorized && strings.HasPrefix(r.URL.Path, "/voice/api/"):
		writeText(w, http.StatusUnauthorized, expiredText(r.URL.Path))
	case strings.HasPrefix(r.URL.Path, "/restapi/"):
		code := "CMN-301"
		if f.Status != http.StatusTooManyRequests {
			code = "CMN-101"
		}
		rcError(w, f.Status, "server_error", http.StatusText(f.Status), code)
	default:
		s.engageError(w, r, f.Status, http.StatusText(f.Status), "injected fault")
	}
}

// writeJSON writes a JSON body.
func writeJSON(w http.ResponseWriter, status int, body []byte) {
	w.Header().Set("Content-Type", "application/json;charset=UTF-8")
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

// writeText writes a text/plain body.
func writeText(w http.ResponseWriter, status int, text string) {
	w.Header().Set("Content-Type", "text/plain;charset=UTF-8")
	w.WriteHeader(status)
	_, _ = w.Write([]byte(text))
}

// engageError writes an Engage JSON Errors object.
func (s *Server) engageError(w http.ResponseWriter, r *http.Request, status int, general, details string) {
	path := r.URL.Path
	if strings.HasPrefix(path, "/api/auth/logout/") {
		path = "/api/auth/logout/{refreshToken}" // never echo a token
	}
	uri := strings.TrimPrefix(path, "/") + " - " + r.Method
	d := doc{
		{"cause", nil},
		{"details", details},
		{"developerMessage", details},
		{"generalMessage", general},
		{"requestUri", uri},
		{"timestamp", s.opts.Now().UnixMilli()},
		{"validationErrors", []any{}},
	}
	writeJSON(w, status, appendJSON(nil, d))
}

// rcError writes a RingCentral OAuth error body.
func rcError(w http.ResponseWriter, status int, errName, description, code string) {
	d := doc{
		{"error", errName},
		{"error_description", description},
		{"errors", []doc{{{"errorCode", code}, {"message", description}}}},
	}
	writeJSON(w, status, appendJSON(nil, d))
}

// pathSegments splits an escaped path into its unescaped segments; ok is false when a segment
// is not a valid escape.
func pathSegments(rest string) (parts []string, ok bool) {
	parts = strings.Split(rest, "/")
	for i, seg := range parts {
		v, err := url.PathUnescape(seg)
		if err != nil {
			return nil, false
		}
		parts[i] = v
	}
	return parts, true
}
