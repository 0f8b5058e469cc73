package engagefake

import (
	"cmp"
	"time"
)

// Credentials and lifetimes the fake accepts and uses when Options leaves them zero. The
// standalone `syncer fake-engage` command prints these so a client can be configured against it.
const (
	DefaultClientID     = "fake-client-id"
	DefaultClientSecret = "fake-client-secret"
	// DefaultJWT is the JWT credential (the RingCentral "assertion") accepted by default. It
	// looks like a JWT but is only compared byte for byte.
	DefaultJWT               = "eyJhbGciOiJSUzI1NiJ9.eyJhdWQiOiJodHRwczovL3BsYXRmb3JtLnJpbmdjZW50cmFsLmNvbS9yZXN0YXBpL29hdXRoL3Rva2VuIiwic3ViIjoiNDAwMTMxMDA0IiwiaXNzIjoiZmFrZS1jbGllbnQtaWQifQ.ZmFrZS1zaWduYXR1cmUtZm9yLWVuZ2FnZWZha2U"
	DefaultTokenTTL          = 5 * time.Minute    // Engage access token lifetime
	DefaultRCTokenTTL        = time.Hour          // RingCentral access token lifetime
	DefaultRefreshTokenTTL   = 24 * time.Hour     // Engage refresh token lifetime (undocumented upstream)
	DefaultRCRefreshTokenTTL = 7 * 24 * time.Hour // RingCentral refresh token lifetime
	DefaultExchangePerMinute = 5                  // documented limit of the token exchange

	DefaultMainAccounts             = 1
	DefaultSubAccountsPerMain       = 2
	DefaultAgentGroupsPerSubAccount = 3
	DefaultAgentsPerGroup           = 5
	DefaultUsers                    = 10

	DefaultQueueGroupsPerSubAccount = 2
	DefaultQueuesPerGroup           = 3
	DefaultSkillsPerQueueGroup      = 2
	DefaultAgentsPerQueue           = 3
	DefaultDialGroupsPerSubAccount  = 2
	DefaultCampaignsPerDialGroup    = 2
	DefaultAgentsPerDialGroup       = 3
)

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
	t.MainAccounts = fix(t.MainAccounts, DefaultMainAccounts)
	t.SubAccountsPerMain = fix(t.SubAccountsPerMain, DefaultSubAccountsPerMain)
	t.AgentGroupsPerSubAccount = fix(t.AgentGroupsPerSubAccount, DefaultAgentGroupsPerSubAccount)
	t.AgentsPerGroup = fix(t.AgentsPerGroup, DefaultAgentsPerGroup)
	t.Users = fix(t.Users, DefaultUsers)
	t.QueueGroupsPerSubAccount = fix(t.QueueGroupsPerSubAccount, DefaultQueueGroupsPerSubAccount)
	t.QueuesPerGroup = fix(t.QueuesPerGroup, DefaultQueuesPerGroup)
	t.SkillsPerQueueGroup = fix(t.SkillsPerQueueGroup, DefaultSkillsPerQueueGroup)
	t.AgentsPerQueue = fix(t.AgentsPerQueue, DefaultAgentsPerQueue)
	t.DialGroupsPerSubAccount = fix(t.DialGroupsPerSubAccount, DefaultDialGroupsPerSubAccount)
	t.CampaignsPerDialGroup = fix(t.CampaignsPerDialGroup, DefaultCampaignsPerDialGroup)
	t.AgentsPerDialGroup = fix(t.AgentsPerDialGroup, DefaultAgentsPerDialGroup)
	return t
}

// Options configures a Server. Zero values mean the defaults.
type Options struct {
	Seed                int64            // deterministic generation (same seed+spec => identical JSON)
	Tenant              TenantSpec       // tenant sizes
	TokenTTL            time.Duration    // Engage access token TTL, default 5m, may be 1s in tests
	RCTokenTTL          time.Duration    // RingCentral access token TTL, default 1h
	RefreshTokenTTL     time.Duration    // Engage refresh token TTL, default 24h
	ClientID            string           // accepted RingCentral app client id, default DefaultClientID
	ClientSecret        string           // accepted client secret, default DefaultClientSecret
	JWT                 string           // accepted JWT credential (assertion), default DefaultJWT
	RateLimit           int              // admin API (/voice/api/...) requests per minute, token bucket; 0 = unlimited
	RateBurst           int              // bucket size; default max(2, RateLimit/30)
	RateLimitRetryAfter bool             // when true the fake's own 429s carry Retry-After (seconds until a token is free)
	ExchangePerMinute   int              // token-exchange limit per sliding minute, default 5; negative = unlimited
	Latency             time.Duration    // added to every admin API response
	Now                 func() time.Time // optional clock, default time.Now
}

// WithDefaults returns o with every zero field set to its default (the values the Server uses).
func (o Options) WithDefaults() Options {
	o.Tenant = o.Tenant.WithDefaults()
	o.TokenTTL = cmp.Or(o.TokenTTL, DefaultTokenTTL)
	o.RCTokenTTL = cmp.Or(o.RCTokenTTL, DefaultRCTokenTTL)
	o.RefreshTokenTTL = cmp.Or(o.RefreshTokenTTL, DefaultRefreshTokenTTL)
	o.ClientID = cmp.Or(o.ClientID, DefaultClientID)
	o.ClientSecret = cmp.Or(o.ClientSecret, DefaultClientSecret)
	o.JWT = cmp.Or(o.JWT, DefaultJWT)
	if o.RateLimit > 0 && o.RateBurst <= 0 {
		o.RateBurst = max(2, o.RateLimit/30)
	}
	o.ExchangePerMinute = cmp.Or(o.ExchangePerMinute, DefaultExchangePerMinute)
	if o.Now == nil {
		o.Now = time.Now
	}
	return o
}
