package engagefake

import (
	"cmp"
	"slices"
	"time"
)

// Credentials and lifetimes the fake accepts and uses when Options leaves them zero. The
// standalone `syncer fake-engage` command prints these so a client can be configured against it.
const (
	ClientIDDefault     = "fake-client-id"
	ClientSecretDefault = "fake-client-secret"
	// JWTDefault is the JWT credential (the RingCentral "assertion") accepted by default. It
	// looks like a JWT but is only compared byte for byte.
	JWTDefault               = "eyJhbGciOiJSUzI1NiJ9.eyJhdWQiOiJodHRwczovL3BsYXRmb3JtLnJpbmdjZW50cmFsLmNvbS9yZXN0YXBpL29hdXRoL3Rva2VuIiwic3ViIjoiNDAwMTMxMDA0IiwiaXNzIjoiZmFrZS1jbGllbnQtaWQifQ.ZmFrZS1zaWduYXR1cmUtZm9yLWVuZ2FnZWZha2U"
	TokenTTLDefault          = 5 * time.Minute    // Engage access token lifetime
	RCTokenTTLDefault        = time.Hour          // RingCentral access token lifetime
	RefreshTokenTTLDefault   = 24 * time.Hour     // Engage refresh token lifetime (undocumented upstream)
	RCRefreshTokenTTLDefault = 7 * 24 * time.Hour // RingCentral refresh token lifetime
	ExchangePerMinuteDefault = 5                  // documented limit of the token exchange

	MainAccountsDefault             = 1
	SubAccountsPerMainDefault       = 2
	AgentGroupsPerSubAccountDefault = 3
	AgentsPerGroupDefault           = 5
	UsersDefault                    = 10

	QueueGroupsPerSubAccountDefault = 2
	QueuesPerGroupDefault           = 3
	SkillsPerQueueGroupDefault      = 2
	AgentsPerQueueDefault           = 3
	DialGroupsPerSubAccountDefault  = 2
	CampaignsPerDialGroupDefault    = 2
	AgentsPerDialGroupDefault       = 3

	// The generated admin audit log (see the package doc, "Audit log").
	AuditDaysDefault         = 3               // days of history before the server's start
	AuditPerHourDefault      = 2               // entries per sub-account and hour, on average
	AuditPropagationDefault  = 5 * time.Minute // an entry's delay before the search returns it
	AuditLateFractionDefault = 0.05            // the share of entries that are late
	AuditLateDelayDefault    = 3 * time.Hour   // a late entry's delay

	// The generated call history (see the package doc, "Call history").
	CallDaysDefault           = 3               // days of history before the server's start
	CallsPerHourDefault       = 12              // dialogs per sub-account and hour, on average
	CallPropagationDefault    = 2 * time.Minute // a segment's delay after its end before it is served
	CallLateFractionDefault   = 0.05            // the share of segments that are late
	CallLateDelayDefault      = 3 * time.Hour   // a late segment's delay
	CallChangeFractionDefault = 0.05            // the share of agent segments served first with other values
	CallChangeDelayDefault    = 2 * time.Hour   // how long after its end a changing segment keeps its first values
	CallVanishFractionDefault = 0.01            // the share of segments served only until end + CallChangeDelay
	DateTimeFromOrderDefault  = DateTimeFromMDY // the stats rows' dateTimeFrom: month first
)

// The two readings of the stats rows' dateTimeFrom ("03-04-2024T01:00:00"; the documents do
// not say which number is the month).
const (
	DateTimeFromMDY = "MDY" // "MM-DD-YYYYTHH:mm:ss"
	DateTimeFromDMY = "DMY" // "DD-MM-YYYYTHH:mm:ss"
)

// Limit is one rate limit: at most Count requests in any Per.
type Limit struct {
	Count int
	Per   time.Duration
}

// ReportingLimitsDefault are the documented limits of the integration reporting endpoints,
// per sub-account: 3 requests in any 60 seconds and 9 in any 15 minutes. [I] The sources give
// them per operation; that the four share one log is the fake's choice (the facts' plan, to
// verify live), as are a 429's Retry-After (when the oldest request of the violated limit
// leaves its interval, whole seconds rounded up, at least 1) and that a refused request does
// not count.
var ReportingLimitsDefault = []Limit{{3, time.Minute}, {9, 15 * time.Minute}}

// TenantSpec sizes the generated tenant. A zero field means its default; a negative field means
// none (for example AgentsPerGroup: -1 generates empty agent groups).
type TenantSpec struct {
	MainAccounts             int // default 1
	SubAccountsPerMain       int // default 2
	AgentGroupsPerSubAccount int // default 3
	AgentsPerGroup           int // default 5
	Users                    int // admin users, default 10, with a parent hierarchy
	QueueGroupsPerSubAccount int // queue (gate) groups, default 2
	QueuesPerGroup           int // queues (gates) per queue group, default 3
	SkillsPerQueueGroup      int // default 2
	AgentsPerQueue           int // agents assigned to each queue, default 3 (at most the sub-account's agents)
	DialGroupsPerSubAccount  int // default 2
	CampaignsPerDialGroup    int // default 2
	AgentsPerDialGroup       int // agents assigned to each dial group, default 3 (at most the sub-account's agents)
}

// WithDefaults returns the spec with zero fields set to their defaults and negative fields set to 0.
func (t TenantSpec) WithDefaults() TenantSpec {
	fix := func(v, def int) int {
		if v < 0 {
			return 0
		}
		return cmp.Or(v, def)
	}
	t.MainAccounts = fix(t.MainAccounts, MainAccountsDefault)
	t.SubAccountsPerMain = fix(t.SubAccountsPerMain, SubAccountsPerMainDefault)
	t.AgentGroupsPerSubAccount = fix(t.AgentGroupsPerSubAccount, AgentGroupsPerSubAccountDefault)
	t.AgentsPerGroup = fix(t.AgentsPerGroup, AgentsPerGroupDefault)
	t.Users = fix(t.Users, UsersDefault)
	t.QueueGroupsPerSubAccount = fix(t.QueueGroupsPerSubAccount, QueueGroupsPerSubAccountDefault)
	t.QueuesPerGroup = fix(t.QueuesPerGroup, QueuesPerGroupDefault)
	t.SkillsPerQueueGroup = fix(t.SkillsPerQueueGroup, SkillsPerQueueGroupDefault)
	t.AgentsPerQueue = fix(t.AgentsPerQueue, AgentsPerQueueDefault)
	t.DialGroupsPerSubAccount = fix(t.DialGroupsPerSubAccount, DialGroupsPerSubAccountDefault)
	t.CampaignsPerDialGroup = fix(t.CampaignsPerDialGroup, CampaignsPerDialGroupDefault)
	t.AgentsPerDialGroup = fix(t.AgentsPerDialGroup, AgentsPerDialGroupDefault)
	return t
}

// Options configures a Server. Zero values mean the defaults.
type Options struct {
	Seed                int64            // deterministic generation (same seed+spec => identical JSON)
	Tenant              TenantSpec       // tenant sizes
	TokenTTL            time.Duration    // Engage access token TTL, default 5m, may be 1s in tests
	RCTokenTTL          time.Duration    // RingCentral access token TTL, default 1h
	RefreshTokenTTL     time.Duration    // Engage refresh token TTL, default 24h
	ClientID            string           // accepted RingCentral app client id, default ClientIDDefault
	ClientSecret        string           // accepted client secret, default ClientSecretDefault
	JWT                 string           // accepted JWT credential (assertion), default JWTDefault
	RateLimit           int              // admin API (/voice/api/..., not the reporting endpoints) requests per minute, token bucket; 0 = unlimited
	RateBurst           int              // bucket size; default max(2, RateLimit/30)
	RateLimitRetryAfter bool             // when true the fake's own 429s carry Retry-After (seconds until a token is free)
	ExchangePerMinute   int              // token-exchange limit per sliding minute, default 5; negative = unlimited
	Latency             time.Duration    // added to every /voice/api/ response, the reporting endpoints' too
	Now                 func() time.Time // optional clock, default time.Now
	// Churn, when above 0, changes the tenant at every RingCentral JWT grant (a run's login)
	// after the first, with this many changes of each kind (Tenant.Churn), so that each run
	// after the first sees renames, additions, moves, deletions and a changed API field.
	Churn int

	// Entitlements the API user or the account lacks (all granted by default).
	NoManageUsers    bool     // the user has neither MANAGE_USERS nor SUPER_USER: the users listing answers 403
	NoAuditLogAccess bool     // the user lacks "Audit log access": the audit log search answers 403
	NoWEMAccess      []string // sub-accounts without "WEM Access": their reporting endpoints answer 403

	// The generated admin audit log (the package doc, "Audit log"). Zero values mean the
	// defaults; a negative AuditDays or AuditPerHour means no audit log at all (every search
	// answers []), a negative AuditPropagation or AuditLateDelay no delay, a negative
	// AuditLateFraction no late entries.
	AuditDays         int           // days of history before Now at New, default 3
	AuditPerHour      int           // entries per sub-account and hour on average, default 2
	AuditPropagation  time.Duration // delay after createTime before the search returns an entry, default 5m
	AuditLateFraction float64       // share of entries that are late, default 0.05
	AuditLateDelay    time.Duration // a late entry's delay, default 3h

	// The generated call history the reporting endpoints serve (the package doc, "Call
	// history"). Zero values mean the defaults; a negative CallDays or CallsPerHour means no
	// calls, a negative delay no delay, a negative fraction none. [I] The settling model
	// (late segments, changing ones, vanishing ones, and the default delays and shares) is
	// the fake's: the sources say only "allow a 15-minute window" and that results for
	// recent interactions "can change".
	CallDays           int            // days of history before Now at New, default 3
	CallsPerHour       int            // dialogs per sub-account and hour on average, default 12
	CallsPerHourBy     map[string]int // per sub-account overrides of CallsPerHour (a value <= 0: no calls)
	CallPropagation    time.Duration  // delay after a segment's end before it is served, default 2m
	CallLateFraction   float64        // share of segments that are late, default 0.05
	CallLateDelay      time.Duration  // a late segment's delay, default 3h
	CallChangeFraction float64        // share of agent segments whose disposition and recording change, default 0.05
	CallChangeDelay    time.Duration  // until end + this, a changing segment has its first values, default 2h
	CallVanishFraction float64        // share of segments served only until end + CallChangeDelay, default 0.01

	// ReportingLimits are the per-sub-account limits of the four integration reporting
	// endpoints (a sliding log, shared by the four [I]; a refused request does not enter it
	// [I]); nil means ReportingLimitsDefault, an empty slice none. ReportingUnlimited turns
	// them off.
	ReportingLimits    []Limit
	ReportingUnlimited bool
	// ReportingClock is the clock the limits are kept by, default time.Now: the API's limits
	// run in real time, so a test that moves the history's clock (Now) by a day neither frees
	// nor holds a bucket by it. A test of the limits themselves sets it to its clock.
	ReportingClock func() time.Time
	// DateTimeFromOrder is the order of day and month in the stats rows' dateTimeFrom:
	// DateTimeFromMDY (the default) or DateTimeFromDMY, so a client can be tested with both.
	DateTimeFromOrder string
}

// WithDefaults returns o with every zero field set to its default (the values the Server uses).
func (o Options) WithDefaults() Options {
	o.Tenant = o.Tenant.WithDefaults()
	o.TokenTTL = cmp.Or(o.TokenTTL, TokenTTLDefault)
	o.RCTokenTTL = cmp.Or(o.RCTokenTTL, RCTokenTTLDefault)
	o.RefreshTokenTTL = cmp.Or(o.RefreshTokenTTL, RefreshTokenTTLDefault)
	o.ClientID = cmp.Or(o.ClientID, ClientIDDefault)
	o.ClientSecret = cmp.Or(o.ClientSecret, ClientSecretDefault)
	o.JWT = cmp.Or(o.JWT, JWTDefault)
	if o.RateLimit > 0 && o.RateBurst <= 0 {
		o.RateBurst = max(2, o.RateLimit/30)
	}
	o.ExchangePerMinute = cmp.Or(o.ExchangePerMinute, ExchangePerMinuteDefault)
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.ReportingClock == nil {
		o.ReportingClock = time.Now
	}
	// Negative audit values stay negative (so that WithDefaults is idempotent); the audit log
	// reads them as none.
	o.AuditDays = cmp.Or(o.AuditDays, AuditDaysDefault)
	o.AuditPerHour = cmp.Or(o.AuditPerHour, AuditPerHourDefault)
	o.AuditPropagation = cmp.Or(o.AuditPropagation, AuditPropagationDefault)
	o.AuditLateFraction = cmp.Or(o.AuditLateFraction, AuditLateFractionDefault)
	o.AuditLateDelay = cmp.Or(o.AuditLateDelay, AuditLateDelayDefault)
	o.CallDays = cmp.Or(o.CallDays, CallDaysDefault)
	o.CallsPerHour = cmp.Or(o.CallsPerHour, CallsPerHourDefault)
	o.CallPropagation = cmp.Or(o.CallPropagation, CallPropagationDefault)
	o.CallLateFraction = cmp.Or(o.CallLateFraction, CallLateFractionDefault)
	o.CallLateDelay = cmp.Or(o.CallLateDelay, CallLateDelayDefault)
	o.CallChangeFraction = cmp.Or(o.CallChangeFraction, CallChangeFractionDefault)
	o.CallChangeDelay = cmp.Or(o.CallChangeDelay, CallChangeDelayDefault)
	o.CallVanishFraction = cmp.Or(o.CallVanishFraction, CallVanishFractionDefault)
	if o.ReportingLimits == nil {
		o.ReportingLimits = slices.Clone(ReportingLimitsDefault) // never the shared slice
	}
	o.DateTimeFromOrder = cmp.Or(o.DateTimeFromOrder, DateTimeFromOrderDefault)
	return o
}
