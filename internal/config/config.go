// Package config is syncer's configuration: the defaults (each library's own), the YAML file
// (strict: unknown keys, wrong types and inline secrets are errors naming the key, the file and
// the line, with "did you mean"), the EVSYNC_* environment (a variable for every key, derived
// from the yaml tags; an unknown one is an error too), the tenants list (each tenant inherits
// the top level key by key), the secret files, validation, and masking for output.
// One file per step: config.go (the types and defaults), load.go, yaml.go, env.go, tenants.go,
// secrets.go, validate.go, schedule.go, streams.go (the streams section's types and checks),
// mask.go (YAML), maskjson.go (JSON).
package config

import (
	"slices"
	"strings"
	"time"

	"github.com/evsync/evsync/db"
	"github.com/evsync/evsync/engageclient"
	"github.com/evsync/evsync/internal/daemon"
	"github.com/evsync/evsync/internal/entity"
	syncrun "github.com/evsync/evsync/sync"
)

// Config is the effective configuration of syncer: Default, overlaid by the YAML file
// (config.example.yaml documents every key), overlaid by the EVSYNC_* environment variables.
// The secrets (ClientSecret, JWT) never come from the YAML itself: they come from
// EVSYNC_RC_CLIENT_SECRET / EVSYNC_RC_JWT or from the files named by client_secret_file /
// jwt_file.
type Config struct {
	Database struct {
		URL           string        `yaml:"url"`
		Schema        string        `yaml:"schema"`
		ControlSchema string        `yaml:"control_schema"`
		LockTimeout   time.Duration `yaml:"lock_timeout"`
	} `yaml:"database"`
	RingCentral RingCentral `yaml:"ringcentral"`
	Engage      Engage      `yaml:"engage"`
	Sync        Sync        `yaml:"sync"`
	Schedule    Schedule    `yaml:"schedule"`
	Streams     Streams     `yaml:"streams"`
	HTTP        struct {
		Listen         string        `yaml:"listen"`
		ReadyStaleness time.Duration `yaml:"ready_staleness"`
	} `yaml:"http"`
	Log struct {
		Level  string `yaml:"level"`
		Format string `yaml:"format"`
	} `yaml:"log"`
	Shutdown struct {
		GracePeriod time.Duration `yaml:"grace_period"`
	} `yaml:"shutdown"`
	// TenantList is the effective tenants list: each entry of the file's tenants, its keys
	// taken from the top level where it leaves them out. Empty without a tenants list.
	TenantList []Tenant `yaml:"tenants,omitempty"`
	// Given is the keys that the file (at its top level) or the environment gave a value,
	// for IsSet. It is where the values came from, not one of them: no output shows it and it
	// never makes two configurations differ (keySet.Equal).
	Given keySet `yaml:"-"`
}

// IsSet reports whether the file (at its top level, not in a tenant's entry) or the
// environment gave the dotted key (database.url) a value, rather than leaving its default; a
// null in the file and an empty variable give none.
func (c *Config) IsSet(key string) bool { return c.Given[key] }

// keySet is a set of dotted keys.
type keySet map[string]bool

// Equal reports true: which keys were given is where a configuration's values came from,
// not part of them, so comparing two configurations (go-cmp calls Equal) compares their
// values.
func (keySet) Equal(keySet) bool { return true }

// RingCentral is the ringcentral section: a tenant's credentials and platform.
type RingCentral struct {
	ServerURL        string `yaml:"server_url"`
	ClientID         string `yaml:"client_id"`
	ClientSecretFile string `yaml:"client_secret_file"`
	JWTFile          string `yaml:"jwt_file"`
	ClientSecret     string `yaml:"-"` // from the environment or ClientSecretFile
	JWT              string `yaml:"-"` // from the environment or JWTFile
}

// Engage is the engage section: the Engage Voice host and how a run talks to it.
type Engage struct {
	ServerURL         string        `yaml:"server_url"`
	RefreshMargin     time.Duration `yaml:"refresh_margin"`
	RequestsPerMinute int           `yaml:"requests_per_minute"`
	Concurrency       int           `yaml:"concurrency"`
	MaxRetryWait      time.Duration `yaml:"max_retry_wait"`
	// AssignedAgentsPageSize pages the assigned-agents listings (0: full lists).
	AssignedAgentsPageSize int `yaml:"assigned_agents_page_size"`
	// MaxListingRows bounds one listing's items (all its pages); past it the listing fails.
	MaxListingRows int `yaml:"max_listing_rows"`
}

// Sync is the sync section: what a run syncs and its limits.
type Sync struct {
	Entities          []entity.Name `yaml:"entities"`
	MaxDeleteFraction float64       `yaml:"max_delete_fraction"`
	Timeout           time.Duration `yaml:"timeout"`
	// TenantConcurrency bounds the tenants `syncer sync` runs at once (top level only).
	TenantConcurrency int `yaml:"tenant_concurrency"`
}

// Schedule is the schedule section: when and how the daemon runs a tenant.
type Schedule struct {
	Cron       string        `yaml:"cron"`
	Seconds    bool          `yaml:"seconds"`
	Timezone   string        `yaml:"timezone"`
	RunOnStart bool          `yaml:"run_on_start"`
	Timeout    time.Duration `yaml:"timeout"`
	Retries    int           `yaml:"retries"`
	// MaxConcurrentRuns bounds the runs in flight on one daemon replica (top level only).
	MaxConcurrentRuns int `yaml:"max_concurrent_runs"`
}

// Tenant is one tenant's effective configuration: one RingCentral credential and the schema
// its data lands in.
type Tenant struct {
	Name        string      `yaml:"name"`
	Schema      string      `yaml:"schema"`
	RingCentral RingCentral `yaml:"ringcentral"`
	Engage      Engage      `yaml:"engage"`
	Sync        Sync        `yaml:"sync"`
	Schedule    Schedule    `yaml:"schedule"`
	Streams     Streams     `yaml:"streams"`
}

// Tenants returns the effective tenants in config order: the tenants list, or without one the
// single tenant "default" made of the top level.
func (c *Config) Tenants() []Tenant {
	if len(c.TenantList) == 0 {
		return []Tenant{c.TopLevelTenant()}
	}
	return slices.Clone(c.TenantList)
}

// MultiTenant reports whether the config has a tenants list.
func (c *Config) MultiTenant() bool { return len(c.TenantList) > 0 }

// EntityNames joins the names of every entity with sep, for messages.
func EntityNames(sep string) string { return joinNames(entity.Names(), sep) }

// StreamNames lists the streams, joined by sep, for usages and errors.
func StreamNames(sep string) string { return joinNames(entity.StreamNames(), sep) }

// joinNames joins names with sep.
func joinNames(names []entity.Name, sep string) string {
	out := make([]string, len(names))
	for i, n := range names {
		out[i] = string(n)
	}
	return strings.Join(out, sep)
}

// Defaults and limits of the keys no library owns: they bound a command's runs (sync.timeout,
// sync.tenant_concurrency). Every other default is its library's (db, engageclient, sync,
// daemon); Default reads them.
const (
	// SyncTimeoutDefault bounds every API and database call of a `sync`.
	SyncTimeoutDefault = time.Hour
	// TenantConcurrencyDefault is how many tenants `sync` runs at once.
	TenantConcurrencyDefault = 4
	// TenantConcurrencyMax bounds sync.tenant_concurrency and schedule.max_concurrent_runs.
	TenantConcurrencyMax = 64
)

// Default returns the configuration used when neither a file nor the environment says
// otherwise.
func Default() Config {
	var c Config
	c.Database.URL = "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable"
	c.Database.Schema = db.SchemaDefault
	c.Database.ControlSchema = daemon.ControlSchemaDefault
	c.Database.LockTimeout = db.LockTimeoutDefault
	c.RingCentral.ServerURL = engageclient.RCServerURLDefault
	c.Engage.ServerURL = engageclient.EngageServerURLDefault
	c.Engage.RefreshMargin = engageclient.RefreshMarginDefault
	c.Engage.RequestsPerMinute = engageclient.RequestsPerMinuteDefault
	c.Engage.Concurrency = engageclient.ConcurrencyDefault
	c.Engage.MaxRetryWait = engageclient.MaxRetryWaitDefault
	c.Engage.MaxListingRows = engageclient.MaxListingRowsDefault
	c.Sync.Entities = entity.Names()
	c.Sync.MaxDeleteFraction = syncrun.MaxDeleteFractionDefault
	c.Sync.Timeout = SyncTimeoutDefault
	c.Sync.TenantConcurrency = TenantConcurrencyDefault
	c.Schedule.Cron = daemon.CronDefault
	c.Schedule.Timezone = daemon.TimezoneDefault
	c.Schedule.Timeout = daemon.TimeoutDefault
	c.Schedule.Retries = daemon.RetriesDefault
	c.Schedule.MaxConcurrentRuns = daemon.MaxConcurrentRunsDefault
	c.Streams = defaultStreams()
	c.HTTP.ReadyStaleness = daemon.ReadyStalenessDefault
	c.Log.Level = "info"
	c.Log.Format = "auto"
	c.Shutdown.GracePeriod = daemon.GraceDefault
	return c
}
