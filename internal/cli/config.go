package cli

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"math"
	"net"
	"net/url"
	"os"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
	_ "time/tzdata" // schedule.timezone must resolve in minimal images without /usr/share/zoneinfo

	"github.com/robfig/cron/v3"
	"go.yaml.in/yaml/v3"

	"github.com/evsync/evsync/db"
	"github.com/evsync/evsync/engageclient"
	"github.com/evsync/evsync/internal/daemon"
	"github.com/evsync/evsync/internal/entity"
	"github.com/evsync/evsync/internal/oneline"
	"github.com/evsync/evsync/internal/secretjson"
	syncrun "github.com/evsync/evsync/sync"
)

// Config is the effective configuration of syncer: defaultConfig, overlaid by the YAML file
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
	RingCentral RingCentralConfig `yaml:"ringcentral"`
	Engage      EngageConfig      `yaml:"engage"`
	Sync        SyncConfig        `yaml:"sync"`
	Schedule    ScheduleConfig    `yaml:"schedule"`
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
}

// RingCentralConfig is the ringcentral section: a tenant's credentials and platform.
type RingCentralConfig struct {
	ServerURL        string `yaml:"server_url"`
	ClientID         string `yaml:"client_id"`
	ClientSecretFile string `yaml:"client_secret_file"`
	JWTFile          string `yaml:"jwt_file"`
	ClientSecret     string `yaml:"-"` // from the environment or ClientSecretFile
	JWT              string `yaml:"-"` // from the environment or JWTFile
}

// EngageConfig is the engage section: the Engage Voice host and how a run talks to it.
type EngageConfig struct {
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

// SyncConfig is the sync section: what a run syncs and its limits.
type SyncConfig struct {
	Entities          []entity.Name `yaml:"entities"`
	MaxDeleteFraction float64       `yaml:"max_delete_fraction"`
	Timeout           time.Duration `yaml:"timeout"`
	// TenantConcurrency bounds the tenants `syncer sync` runs at once (top level only).
	TenantConcurrency int `yaml:"tenant_concurrency"`
}

// ScheduleConfig is the schedule section: when and how the daemon runs a tenant.
type ScheduleConfig struct {
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
	Name        string            `yaml:"name"`
	Schema      string            `yaml:"schema"`
	RingCentral RingCentralConfig `yaml:"ringcentral"`
	Engage      EngageConfig      `yaml:"engage"`
	Sync        SyncConfig        `yaml:"sync"`
	Schedule    ScheduleConfig    `yaml:"schedule"`
}

// Tenants returns the effective tenants in config order: the tenants list, or without one the
// single tenant "default" made of the top level.
func (c *Config) Tenants() []Tenant {
	if len(c.TenantList) == 0 {
		return []Tenant{c.topLevelTenant()}
	}
	return slices.Clone(c.TenantList)
}

// MultiTenant reports whether the config has a tenants list.
func (c *Config) MultiTenant() bool { return len(c.TenantList) > 0 }

// entityNames joins the names of every entity with sep, for messages.
func entityNames(sep string) string {
	var names []string
	for _, e := range entity.Names() {
		names = append(names, string(e))
	}
	return strings.Join(names, sep)
}

// defaultConfig returns the configuration used when neither a file nor the environment says
// otherwise.
func defaultConfig() Config {
	var c Config
	c.Database.URL = "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable"
	c.Database.Schema = "engage"
	c.Database.ControlSchema = "evsync"
	c.Database.LockTimeout = db.LockTimeoutDefault
	c.RingCentral.ServerURL = "https://platform.ringcentral.com"
	c.Engage.ServerURL = "https://engage.ringcentral.com"
	c.Engage.RefreshMargin = 60 * time.Second
	c.Engage.RequestsPerMinute = 120
	c.Engage.Concurrency = engageclient.DefaultConcurrency
	c.Engage.MaxRetryWait = 2 * time.Minute // engageclient.DefaultMaxRetryWait
	c.Engage.MaxListingRows = engageclient.DefaultMaxListingRows
	c.Sync.Entities = entity.Names()
	c.Sync.MaxDeleteFraction = syncrun.MaxDeleteFractionDefault
	c.Sync.Timeout = time.Hour
	c.Sync.TenantConcurrency = 4
	c.Schedule.Cron = "@daily"
	c.Schedule.Timezone = "UTC"
	c.Schedule.Timeout = time.Hour
	c.Schedule.Retries = 2
	c.Schedule.MaxConcurrentRuns = 4
	c.HTTP.ReadyStaleness = 26 * time.Hour
	c.Log.Level = "info"
	c.Log.Format = "auto"
	c.Shutdown.GracePeriod = 30 * time.Second
	return c
}

// Environment variables that override the file (DESIGN.md, "The CLI contract").
const (
	envDatabaseURL    = "EVSYNC_DATABASE_URL"
	envRCServerURL    = "EVSYNC_RC_SERVER_URL"
	envRCClientID     = "EVSYNC_RC_CLIENT_ID"
	envRCClientSecret = "EVSYNC_RC_CLIENT_SECRET"
	envRCJWT          = "EVSYNC_RC_JWT"
	envEngageURL      = "EVSYNC_ENGAGE_SERVER_URL"
)

// maxPageSize bounds engage.assigned_agents_page_size (maxRows is an int32 upstream; a page
// this large is a full list in practice).
const maxPageSize = 100000

// maxSecretFileSize bounds what a secret file may hold; a JWT is a few KiB.
const maxSecretFileSize = 1 << 20

// loadConfig builds the effective configuration: defaults, then the YAML file at path (none
// when path is ""), then the EVSYNC_* variables read through getenv (an empty value counts as
// unset), then the tenants (each on a copy of the top level) and the secret files. It does not
// validate: call validate (and, for commands that talk to RingCentral, requireCredentials) on
// the result. Each error is one line naming the key; several are joined with newlines.
func loadConfig(path string, getenv func(string) string) (Config, error) {
	c := defaultConfig()
	d := &configDecoder{file: path, set: map[string]bool{}}
	if path != "" {
		data, err := os.ReadFile(path)
		if err != nil {
			return c, fmt.Errorf("config: reading %s: %w", path, pathErrCause(err))
		}
		if err := d.decodeDocument(data, &c); err != nil {
			return c, err
		}
	}
	if getenv == nil {
		getenv = func(string) string { return "" }
	}
	multi := d.tenants != nil
	var errs []error
	for _, o := range []struct {
		env    string
		dst    *string
		single string // with a tenants list the variable is ambiguous: what to set instead
	}{
		{envDatabaseURL, &c.Database.URL, ""},
		{envRCServerURL, &c.RingCentral.ServerURL, ""},
		{envRCClientID, &c.RingCentral.ClientID, "ringcentral.client_id (for every tenant) or tenants[I].ringcentral.client_id"},
		{envRCClientSecret, &c.RingCentral.ClientSecret, "EVSYNC_TENANT_<NAME>_RC_CLIENT_SECRET or a client_secret_file"},
		{envRCJWT, &c.RingCentral.JWT, "EVSYNC_TENANT_<NAME>_RC_JWT or tenants[I].ringcentral.jwt_file"},
		{envEngageURL, &c.Engage.ServerURL, ""},
	} {
		v := strings.TrimSpace(getenv(o.env))
		switch {
		case v == "":
		case multi && o.single != "":
			errs = append(errs, fmt.Errorf("config: %s: is ambiguous with a tenants list; set %s instead", o.env, o.single))
		default:
			*o.dst = v
		}
	}
	if multi {
		errs = append(errs, d.decodeTenants(&c, getenv)...)
		return c, errors.Join(errs...)
	}
	errs = append(errs, readSecrets(&c.RingCentral, "")...)
	return c, errors.Join(errs...)
}

// readSecrets reads the secret files of rc whose secret is not set yet (a variable wins over
// its file); prefix is the key prefix of rc's section in errors ("" or "tenants[2].").
func readSecrets(rc *RingCentralConfig, prefix string) []error {
	var errs []error
	for _, s := range []struct {
		key, file string
		dst       *string
	}{
		{"ringcentral.client_secret_file", rc.ClientSecretFile, &rc.ClientSecret},
		{"ringcentral.jwt_file", rc.JWTFile, &rc.JWT},
	} {
		if *s.dst != "" || s.file == "" {
			continue
		}
		v, err := readSecretFile(s.file)
		if err != nil {
			errs = append(errs, fmt.Errorf("config: %s%s: %w", prefix, s.key, err))
			continue
		}
		*s.dst = v
	}
	return errs
}

// tenantEnv is the name of a tenant's secret variable: EVSYNC_TENANT_<NAME>_<what>.
func tenantEnv(name, what string) string {
	return "EVSYNC_TENANT_" + strings.ToUpper(name) + "_" + what
}

// decodeTenants builds c.TenantList from the tenants nodes the file held: each entry is decoded
// onto a copy of the top level's sections (so every key it leaves out is the top level's),
// gets its default schema, and its secrets from its variables or its files.
func (d *configDecoder) decodeTenants(c *Config, getenv func(string) string) []error {
	d.errs = nil
	if d.set["database.schema"] {
		d.errs = append(d.errs, fmt.Errorf("config: database.schema: belongs to the single-tenant form; with a tenants list set tenants[I].schema (default engage_<name>) (%s line %d)", d.file, d.schemaLine))
	}
	n := d.tenants
	if n.Kind != yaml.SequenceNode {
		d.errorf(n, "tenants: must be a list of tenants (- name: ...)")
		return d.errs
	}
	if len(n.Content) == 0 {
		d.errorf(n, "tenants: must list at least one tenant (or leave tenants out for the single tenant of the top level)")
		return d.errs
	}
	for i, item := range n.Content {
		prefix := fmt.Sprintf("tenants[%d]", i)
		t := c.topLevelTenant()
		t.Name, t.Schema = "", ""
		t.Sync.Entities = slices.Clone(c.Sync.Entities)
		// A secret of the top level comes from its file: the tenant reads its own files.
		t.RingCentral.ClientSecret, t.RingCentral.JWT = "", ""
		if item.Kind == yaml.AliasNode {
			item = item.Alias
		}
		if item.Kind != yaml.MappingNode {
			d.errorf(item, "%s: must be a mapping (name: ..., ringcentral: ...)", prefix)
			continue
		}
		d.tenant = true
		d.decodeStruct(item, reflect.ValueOf(&t).Elem(), prefix)
		d.tenant = false
		if t.Schema == "" && tenantName.MatchString(t.Name) { // a bad name is reported once, as the name
			t.Schema = "engage_" + t.Name
		}
		if t.Name != "" {
			if v := strings.TrimSpace(getenv(tenantEnv(t.Name, "RC_CLIENT_SECRET"))); v != "" {
				t.RingCentral.ClientSecret = v
			}
			if v := strings.TrimSpace(getenv(tenantEnv(t.Name, "RC_JWT"))); v != "" {
				t.RingCentral.JWT = v
			}
		}
		d.errs = append(d.errs, readSecrets(&t.RingCentral, prefix+".")...)
		c.TenantList = append(c.TenantList, t)
	}
	return d.errs
}

// pathErrCause is the cause of a file error without the operation and path that
// *fs.PathError adds ("read dir.yaml: is a directory" → "is a directory"): the caller names
// the file itself.
func pathErrCause(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

// readSecretFile returns the trimmed content of a secret file. Its errors name the file,
// never the content.
func readSecretFile(name string) (string, error) {
	f, err := os.Open(name)
	if err != nil {
		return "", fmt.Errorf("reading secret file %q: %w", name, pathErrCause(err))
	}
	defer func() { _ = f.Close() }() // read only: a close error loses nothing
	data, err := io.ReadAll(io.LimitReader(f, maxSecretFileSize+1))
	if err != nil {
		return "", fmt.Errorf("reading secret file %q: %w", name, pathErrCause(err))
	}
	if len(data) > maxSecretFileSize {
		return "", fmt.Errorf("secret file %q is larger than %d bytes", name, maxSecretFileSize)
	}
	v := strings.TrimSpace(string(data))
	if v == "" {
		return "", fmt.Errorf("secret file %q is empty", name)
	}
	return v, nil
}

// inlineSecrets are keys that would put a secret in the YAML, with where it belongs instead.
var inlineSecrets = map[string]string{
	"ringcentral.client_secret": "set EVSYNC_RC_CLIENT_SECRET or ringcentral.client_secret_file instead",
	"ringcentral.jwt":           "set EVSYNC_RC_JWT or ringcentral.jwt_file instead",
}

// tenantInlineSecrets are inlineSecrets' hints for a tenant's entry.
var tenantInlineSecrets = map[string]string{
	"ringcentral.client_secret": "set EVSYNC_TENANT_<NAME>_RC_CLIENT_SECRET or the tenant's ringcentral.client_secret_file instead",
	"ringcentral.jwt":           "set EVSYNC_TENANT_<NAME>_RC_JWT or the tenant's ringcentral.jwt_file instead",
}

// perProcessKeys are the keys of a tenant's sections that belong to the process, not to a
// tenant.
var perProcessKeys = map[string]bool{"sync.tenant_concurrency": true, "schedule.max_concurrent_runs": true}

// decodeDocument overlays the YAML document data onto c, keeping its tenants node for
// decodeTenants. Decoding is strict: an unknown key, a value of the wrong type and an inline
// secret are errors naming the dotted key, the file and the line.
func (d *configDecoder) decodeDocument(data []byte, c *Config) error {
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return fmt.Errorf("config: parsing %s: %s", d.file, oneline.Of(err.Error(), 0))
	}
	if doc.Kind == 0 || len(doc.Content) == 0 {
		return nil // an empty file keeps the defaults
	}
	d.decodeStruct(doc.Content[0], reflect.ValueOf(c).Elem(), "")
	return errors.Join(d.errs...)
}

// configDecoder decodes a config file strictly, collecting one error per problem.
type configDecoder struct {
	file       string
	errs       []error
	set        map[string]bool // the dotted keys the file set at the top level
	tenants    *yaml.Node      // the top-level tenants value, decoded last
	schemaLine int             // the line of database.schema, when set
	tenant     bool            // decoding a tenant's entry
}

func (d *configDecoder) errorf(n *yaml.Node, format string, args ...any) {
	d.errs = append(d.errs, fmt.Errorf("config: "+format+" (%s line %d)", append(args, d.file, n.Line)...))
}

// decodeStruct decodes the mapping n into the struct v; path is the dotted key of v.
func (d *configDecoder) decodeStruct(n *yaml.Node, v reflect.Value, path string) {
	if n.Kind == yaml.AliasNode {
		n = n.Alias
	}
	if n.Tag == "!!null" {
		return // "engage:" with nothing under it keeps the defaults
	}
	if n.Kind != yaml.MappingNode {
		if path == "" {
			d.errorf(n, "the top level of %s must be a mapping of sections (database, ringcentral, ...)", d.file)
		} else {
			d.errorf(n, "%s: must be a mapping of keys", path)
		}
		return
	}
	seen := map[string]bool{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, val := n.Content[i], n.Content[i+1]
		key := k.Value
		if path != "" {
			key = path + "." + k.Value
		}
		if seen[k.Value] {
			d.errs = append(d.errs, fmt.Errorf("config: duplicate key %q in %s line %d", key, d.file, k.Line))
			continue
		}
		seen[k.Value] = true
		if d.refused(k, key) {
			continue
		}
		if path == "" && k.Value == "tenants" {
			d.tenants = val
			continue
		}

		f, ok := fieldByTag(v, k.Value)
		if !ok {
			err := fmt.Errorf("config: unknown key %q in %s line %d", key, d.file, k.Line)
			if s := closestKey(v, k.Value); s != "" {
				err = fmt.Errorf("%w (did you mean %q?)", err, s)
			}
			d.errs = append(d.errs, err)
			continue
		}
		if f.Kind() == reflect.Struct {
			d.decodeStruct(val, f, key)
			continue
		}
		if !d.tenant && d.set != nil {
			d.set[key] = true
			if key == "database.schema" {
				d.schemaLine = k.Line
			}
		}
		d.decodeLeaf(val, f, key)
	}
}

// refused reports (and records the error) whether the key k, dotted key, may not be written
// where it is: an inline secret, or a per-process key in a tenant's entry.
func (d *configDecoder) refused(k *yaml.Node, key string) bool {
	rel := key
	if d.tenant {
		_, rel, _ = strings.Cut(key, ".") // the key within the tenant: ringcentral.jwt
	}
	if hint, ok := inlineSecrets[rel]; ok {
		if d.tenant {
			hint = tenantInlineSecrets[rel]
		}
		d.errorf(k, "%s must not be written in the config file: %s", key, hint)
		return true
	}
	if d.tenant && perProcessKeys[rel] {
		d.errorf(k, "%s: is per process, not per tenant: set %s at the top level", key, rel)
		return true
	}
	return false
}

// decodeLeaf decodes the scalar or list n into the field f named key. A null keeps the default.
func (d *configDecoder) decodeLeaf(n *yaml.Node, f reflect.Value, key string) {
	if n.Kind == yaml.AliasNode {
		n = n.Alias
	}
	if n.Tag == "!!null" {
		return
	}
	tmp := reflect.New(f.Type())
	if err := n.Decode(tmp.Interface()); err == nil {
		f.Set(tmp.Elem())
		return
	}
	got := ""
	if n.Kind == yaml.ScalarNode {
		got = fmt.Sprintf(", got %q", n.Value)
	}
	switch {
	case f.Type() == reflect.TypeOf(time.Duration(0)):
		d.errorf(n, "%s: must be a duration like \"60s\" or \"1h30m\"%s", key, got)
	case f.Kind() == reflect.Int:
		d.errorf(n, "%s: must be an integer%s", key, got)
	case f.Kind() == reflect.Float64:
		d.errorf(n, "%s: must be a number%s", key, got)
	case f.Kind() == reflect.Bool:
		d.errorf(n, "%s: must be true or false%s", key, got)
	case f.Kind() == reflect.Slice:
		d.errorf(n, "%s: must be a list like [accounts, users]", key)
	default:
		d.errorf(n, "%s: must be a single value, not a list or mapping", key)
	}
}

// fieldByTag returns the field of struct v whose yaml tag is name.
func fieldByTag(v reflect.Value, name string) (reflect.Value, bool) {
	t := v.Type()
	for i := range t.NumField() {
		tag, _, _ := strings.Cut(t.Field(i).Tag.Get("yaml"), ",")
		if tag != "" && tag != "-" && tag == name {
			return v.Field(i), true
		}
	}
	return reflect.Value{}, false
}

// closestKey suggests the known key of struct v nearest to name, or "" if none is close.
func closestKey(v reflect.Value, name string) string {
	best, bestDist := "", 4
	t := v.Type()
	for i := range t.NumField() {
		tag, _, _ := strings.Cut(t.Field(i).Tag.Get("yaml"), ",")
		if tag == "" || tag == "-" {
			continue
		}
		if dist := editDistance(tag, name); dist < bestDist {
			best, bestDist = tag, dist
		}
	}
	return best
}

// editDistance is the Levenshtein distance between a and b.
func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}

// validate checks every key of c and returns one error line per problem, each naming the key
// and what was expected. Credentials are not checked here (see requireCredentials): demo and
// status need none.
func (c *Config) validate() error {
	var errs []error
	top := map[string]bool{} // the top-level keys with a problem
	bad := func(key, format string, args ...any) {
		top[key] = true
		errs = append(errs, fmt.Errorf("config: "+key+": "+format, args...))
	}

	if err := checkDatabaseURL(c.Database.URL); err != nil {
		bad("database.url", "%v", err)
	}
	if err := db.CheckSchema(c.Database.Schema); err != nil {
		bad("database.schema", "%v", err)
	}
	if err := db.CheckSchema(c.Database.ControlSchema); err != nil {
		bad("database.control_schema", "%v", err)
	} else if !c.MultiTenant() && c.Database.ControlSchema == c.Database.Schema {
		bad("database.control_schema", "must differ from database.schema (%q): River's tables have a schema of their own", c.Database.Schema)
	}
	if d := c.Database.LockTimeout; d < time.Second || d > time.Hour {
		bad("database.lock_timeout", "must be a duration from 1s to 1h like \"1m\", got %q", d)
	}
	validateTenantKeys(c.topLevelTenant(), bad)
	if n := c.Sync.TenantConcurrency; n < 1 || n > 64 {
		bad("sync.tenant_concurrency", "must be an integer from 1 to 64, got %d", n)
	}
	if n := c.Schedule.MaxConcurrentRuns; n < 1 || n > 64 {
		bad("schedule.max_concurrent_runs", "must be an integer from 1 to 64, got %d", n)
	}
	c.validateProcess(bad)
	errs = append(errs, c.validateTenants(top)...)
	return errors.Join(errs...)
}

// tenantName is what a tenant's name must match: it becomes part of a schema name and of
// environment variable names.
var tenantName = regexp.MustCompile(`^[a-z][a-z0-9_]{0,30}$`)

// validateTenants checks every entry of the tenants list: its name, its schema and its
// sections. A problem of a key the tenant took from the top level (top has its key) is the
// top level's, reported once there.
func (c *Config) validateTenants(top map[string]bool) []error {
	var errs []error
	names, schemas := map[string]int{}, map[string]int{}
	for i, t := range c.TenantList {
		prefix := fmt.Sprintf("tenants[%d].", i)
		bad := func(key, format string, args ...any) {
			if top[key] {
				return
			}
			errs = append(errs, fmt.Errorf("config: "+prefix+key+": "+format, args...))
		}
		switch j, dup := names[t.Name]; {
		case t.Name == "":
			bad("name", "missing; every tenant needs a name like acme ([a-z][a-z0-9_]{0,30})")
		case !tenantName.MatchString(t.Name):
			bad("name", "must be a lower-case name like acme: a letter, then up to 30 letters, digits or _, got %q", t.Name)
		case dup:
			bad("name", "%q is already the name of tenants[%d]", t.Name, j)
		default:
			names[t.Name] = i
		}
		if tenantName.MatchString(t.Name) || t.Schema != "" { // else the name's problem is the one
			switch j, dup := schemas[t.Schema]; {
			case db.CheckSchema(t.Schema) != nil:
				bad("schema", "%v", db.CheckSchema(t.Schema))
			case dup:
				bad("schema", "%q is already the schema of tenants[%d]: two tenants never share a schema", t.Schema, j)
			case t.Schema == c.Database.ControlSchema:
				bad("schema", "%q is database.control_schema, River's: a tenant's schema is its own", t.Schema)
			default:
				schemas[t.Schema] = i
			}
		}
		validateTenantKeys(t, bad)
	}
	return errs
}

// validateTenantKeys checks the keys of the sections a tenant may set: the top level's, or an
// entry's (whose bad names the entry).
func validateTenantKeys(t Tenant, bad problemFunc) {
	rc, e, sc := t.RingCentral, t.Engage, t.Sync
	if err := checkHTTPURL(rc.ServerURL); err != nil {
		bad("ringcentral.server_url", "%v", err)
	}
	if err := checkHTTPURL(e.ServerURL); err != nil {
		bad("engage.server_url", "%v", err)
	}
	if e.RefreshMargin <= 0 {
		bad("engage.refresh_margin", "must be a positive duration like \"60s\", got %q", e.RefreshMargin)
	}
	if e.RequestsPerMinute <= 0 {
		bad("engage.requests_per_minute", "must be a positive integer, got %d", e.RequestsPerMinute)
	}
	if n := e.Concurrency; n < 1 || n > 64 {
		bad("engage.concurrency", "must be an integer from 1 to 64, got %d", n)
	}
	if e.MaxRetryWait <= 0 {
		bad("engage.max_retry_wait", "must be a positive duration like \"2m\", got %q", e.MaxRetryWait)
	}
	if e.MaxListingRows <= 0 {
		bad("engage.max_listing_rows", "must be a positive integer, got %d", e.MaxListingRows)
	}
	if n := e.AssignedAgentsPageSize; n < 0 || n > maxPageSize {
		bad("engage.assigned_agents_page_size", "must be 0 (full lists) or a page size from 1 to %d, got %d", maxPageSize, n)
	}
	if len(sc.Entities) == 0 {
		bad("sync.entities", "must list at least one of %s", entityNames(", "))
	}
	seen := map[entity.Name]bool{}
	for _, e := range sc.Entities {
		switch {
		case !slices.Contains(entity.Names(), e):
			bad("sync.entities", "unknown entity %q, expected some of %s", e, entityNames(", "))
		case seen[e]:
			bad("sync.entities", "entity %q is listed twice", e)
		}
		seen[e] = true
	}
	if f := sc.MaxDeleteFraction; !(f > 0 && f <= 1) || math.IsNaN(f) {
		bad("sync.max_delete_fraction", "must be a number greater than 0 and at most 1, got %v", f)
	}
	if sc.Timeout <= 0 {
		bad("sync.timeout", "must be a positive duration like \"1h\", got %q", sc.Timeout)
	}
	validateSchedule(t.Schedule, bad)
}

// problemFunc reports one problem of the config key; validate collects them.
type problemFunc func(key, format string, args ...any)

// validateSchedule checks the schedule section s.
func validateSchedule(s ScheduleConfig, bad problemFunc) {
	loc, tzErr := time.LoadLocation(s.Timezone)
	if s.Timezone == "" || tzErr != nil {
		loc = time.UTC // reported below; the cron check still runs
	}
	if err := checkSchedule(s.Cron, s.Seconds, time.Now().In(loc)); err != nil {
		bad("schedule.cron", "%v", err)
	}
	if s.Timezone == "" || tzErr != nil {
		bad("schedule.timezone", "must be an IANA time zone name like UTC or Europe/Berlin, got %q", s.Timezone)
	}
	if s.Timeout <= 0 {
		bad("schedule.timeout", "must be a positive duration like \"1h\", got %q", s.Timeout)
	}
	if n := s.Retries; n < 0 || n > 10 {
		bad("schedule.retries", "must be an integer from 0 to 10, got %d", n)
	}
}

// validateProcess checks http.*, log.* and shutdown.*.
func (c *Config) validateProcess(bad problemFunc) {
	if l := c.HTTP.Listen; l != "" {
		if err := checkListen(l); err != nil {
			bad("http.listen", "must be empty (off) or host:port like \":9090\" or \"127.0.0.1:9090\", got %q", l)
		}
	}
	if c.HTTP.ReadyStaleness <= 0 {
		bad("http.ready_staleness", "must be a positive duration like \"26h\", got %q", c.HTTP.ReadyStaleness)
	}
	if _, err := parseLevel(c.Log.Level); err != nil {
		bad("log.level", "must be one of debug, info, warn, error, got %q", c.Log.Level)
	}
	if !slices.Contains([]string{"auto", "text", "json"}, c.Log.Format) {
		bad("log.format", "must be one of auto, text, json, got %q", c.Log.Format)
	}
	if c.Shutdown.GracePeriod <= 0 {
		bad("shutdown.grace_period", "must be a positive duration like \"30s\", got %q", c.Shutdown.GracePeriod)
	}
}

// minEvery is the shortest "@every" interval schedule.cron accepts: five cron fields cannot
// say anything more often than once a minute either, and a run takes far longer than a second
// (its requests alone, paced at engage.requests_per_minute). schedule.seconds opts into
// second-granularity schedules (tests, demos) and lowers it to minEveryWithSecondsField.
const (
	minEvery                 = time.Minute
	minEveryWithSecondsField = time.Second
)

// checkSchedule checks the cron spec of schedule.cron, read with a leading seconds field when
// seconds is true: it must parse, an "@every" interval must be at least minEvery (robfig/cron
// would silently run "@every -1h" and "@every 1ms" every second), and the spec must match a
// time after now (robfig/cron looks five years ahead: "0 0 30 2 *" matches none and would
// never run). Its error reads after the key.
func checkSchedule(spec string, seconds bool, now time.Time) error {
	var sched cron.Schedule
	var err error
	if seconds {
		sched, err = cron.NewParser(cron.Second | cron.Minute | cron.Hour | cron.Dom | cron.Month | cron.Dow | cron.Descriptor).Parse(spec)
		if err != nil {
			return fmt.Errorf("must be 6 fields (second minute hour day-of-month month day-of-week, as schedule.seconds is true) or a descriptor like @daily or @every 1h, got %q: %s", spec, oneline.Of(err.Error(), 0))
		}
	} else if sched, err = cron.ParseStandard(spec); err != nil {
		return fmt.Errorf("must be 5 fields (minute hour day-of-month month day-of-week) or a descriptor like @daily or @every 1h, got %q: %s", spec, oneline.Of(err.Error(), 0))
	}
	if d, ok := everyInterval(spec); ok {
		low, want := minEvery, "at least 1m (or 1s with schedule.seconds: true)"
		if seconds {
			low, want = minEveryWithSecondsField, "at least 1s"
		}
		if d < low {
			return fmt.Errorf("an @every interval must be %s, got %q", want, spec)
		}
		return nil
	}
	if sched.Next(now).IsZero() {
		return fmt.Errorf("matches no time in the next 5 years (a date like February 30), so it would never run, got %q", spec)
	}
	return nil
}

// everyInterval returns the interval of an "@every D" spec (after an optional CRON_TZ= or TZ=
// prefix), as robfig/cron reads it before rounding it to whole seconds of at least one.
func everyInterval(spec string) (time.Duration, bool) {
	spec = strings.TrimSpace(spec)
	if strings.HasPrefix(spec, "TZ=") || strings.HasPrefix(spec, "CRON_TZ=") {
		_, spec, _ = strings.Cut(spec, " ")
		spec = strings.TrimSpace(spec)
	}
	v, ok := strings.CutPrefix(spec, "@every ")
	if !ok {
		return 0, false
	}
	d, err := time.ParseDuration(v)
	return d, err == nil
}

// requireCredentials reports the RingCentral credentials that are missing, one line per key,
// with where to set it: for the top level, or with a tenants list for each tenant. sync and run
// call it after validate; demo, status and migrate don't.
func (c *Config) requireCredentials() error {
	if !c.MultiTenant() {
		var errs []error
		if c.RingCentral.ClientID == "" {
			errs = append(errs, errors.New("config: ringcentral.client_id: missing; set EVSYNC_RC_CLIENT_ID or ringcentral.client_id"))
		}
		if c.RingCentral.ClientSecret == "" {
			errs = append(errs, errors.New("config: ringcentral client secret: missing; set EVSYNC_RC_CLIENT_SECRET or ringcentral.client_secret_file"))
		}
		if c.RingCentral.JWT == "" {
			errs = append(errs, errors.New("config: ringcentral JWT: missing; set EVSYNC_RC_JWT or ringcentral.jwt_file"))
		}
		return errors.Join(errs...)
	}
	var errs []error
	for i, t := range c.TenantList {
		p := fmt.Sprintf("tenants[%d]", i)
		if t.RingCentral.ClientID == "" {
			errs = append(errs, fmt.Errorf("config: %s.ringcentral.client_id: missing; set %s.ringcentral.client_id or the top-level ringcentral.client_id", p, p))
		}
		if t.RingCentral.ClientSecret == "" {
			errs = append(errs, fmt.Errorf("config: %s.ringcentral.client_secret_file: missing client secret; set %s or %s.ringcentral.client_secret_file (or the top-level ringcentral.client_secret_file)", p, tenantEnv(t.Name, "RC_CLIENT_SECRET"), p))
		}
		if t.RingCentral.JWT == "" {
			errs = append(errs, fmt.Errorf("config: %s.ringcentral.jwt_file: missing JWT; set %s or %s.ringcentral.jwt_file", p, tenantEnv(t.Name, "RC_JWT"), p))
		}
	}
	return errors.Join(errs...)
}

// checkDatabaseURL accepts postgres:// and postgresql:// URLs. Its errors never repeat the
// URL, which may carry a password.
func checkDatabaseURL(s string) error {
	if s == "" {
		return errors.New("must be a postgres:// URL, got \"\"")
	}
	u, err := url.Parse(s)
	if err != nil {
		return errors.New("must be a postgres:// or postgresql:// URL, and this one does not parse")
	}
	if u.Scheme != "postgres" && u.Scheme != "postgresql" {
		return fmt.Errorf("must be a postgres:// or postgresql:// URL, got scheme %q", u.Scheme)
	}
	return nil
}

// checkHTTPURL accepts absolute http(s) URLs with a host.
func checkHTTPURL(s string) error {
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("must be an absolute http:// or https:// URL, got %q", redactURL(s))
	}
	if u.User != nil {
		return fmt.Errorf("must not carry credentials, got %q", redactURL(s))
	}
	return nil
}

func checkListen(s string) error {
	_, port, err := net.SplitHostPort(s)
	if err != nil {
		return err
	}
	if p, err := strconv.Atoi(port); err != nil || p < 0 || p > 65535 {
		return fmt.Errorf("bad port %q", port)
	}
	return nil
}

// redactURL masks the password of a URL and any query parameter that holds password, secret
// or token, or that the secret rule names (secretjson.IsSecretKey: api_key, pin, jwt, ...). A
// string that does not parse is masked whole.
func redactURL(s string) string {
	u, err := url.Parse(s)
	if err != nil {
		return "****"
	}
	if u.User != nil {
		if _, ok := u.User.Password(); ok {
			u.User = url.UserPassword(u.User.Username(), "****")
		}
	}
	if u.RawQuery != "" {
		q := u.Query()
		for k := range q {
			lk := strings.ToLower(k)
			if strings.Contains(lk, "password") || strings.Contains(lk, "secret") || strings.Contains(lk, "token") ||
				secretjson.IsSecretKey(k) {
				q[k] = []string{"****"}
			}
		}
		u.RawQuery = q.Encode()
	}
	return strings.ReplaceAll(u.String(), "%2A%2A%2A%2A", "****")
}

// masked renders the effective configuration as YAML with the secrets masked: the database
// URL's password shows as ****, and the client secret and JWT only as set or unset (in a
// comment, so the output is still a loadable config file).
func (c Config) masked() string {
	m := c
	m.Database.URL = redactURL(c.Database.URL)
	m.RingCentral.ClientSecret, m.RingCentral.JWT = "", ""
	m.TenantList = slices.Clone(c.TenantList)
	for i := range m.TenantList {
		m.TenantList[i].RingCentral.ClientSecret, m.TenantList[i].RingCentral.JWT = "", ""
	}
	var doc yaml.Node
	if err := doc.Encode(m); err != nil {
		return fmt.Sprintf("# rendering config: %v\n", err)
	}
	if _, rc := mappingEntry(&doc, "ringcentral"); rc != nil && !c.MultiTenant() {
		annotateSecrets(rc, c.RingCentral, "EVSYNC_RC_CLIENT_SECRET", "EVSYNC_RC_JWT")
	}
	if _, ts := mappingEntry(&doc, "tenants"); ts != nil && ts.Kind == yaml.SequenceNode {
		// The keys a tenants list forbids are left out, so the output loads back.
		if _, db := mappingEntry(&doc, "database"); db != nil {
			deleteEntry(db, "schema")
		}
		for i, tn := range ts.Content {
			if i >= len(c.TenantList) {
				break
			}
			for key := range perProcessKeys {
				section, name, _ := strings.Cut(key, ".")
				if _, sec := mappingEntry(tn, section); sec != nil {
					deleteEntry(sec, name)
				}
			}
			t := c.TenantList[i]
			if _, rc := mappingEntry(tn, "ringcentral"); rc != nil {
				annotateSecrets(rc, t.RingCentral, tenantEnv(t.Name, "RC_CLIENT_SECRET"), tenantEnv(t.Name, "RC_JWT"))
			}
		}
	}
	var out strings.Builder
	enc := yaml.NewEncoder(&out)
	enc.SetIndent(2)
	if err := enc.Encode(&doc); err != nil {
		return fmt.Sprintf("# rendering config: %v\n", err)
	}
	if err := enc.Close(); err != nil {
		return fmt.Sprintf("# rendering config: %v\n", err)
	}
	return out.String()
}

// mappingEntry returns the key node named name in the mapping n (or in the mapping a
// document n holds) and the value node under it, or nil, nil.
func mappingEntry(n *yaml.Node, name string) (key, value *yaml.Node) {
	if n.Kind == yaml.DocumentNode && len(n.Content) > 0 {
		n = n.Content[0]
	}
	if n.Kind != yaml.MappingNode {
		return nil, nil
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == name {
			return n.Content[i], n.Content[i+1]
		}
	}
	return nil, nil
}

// annotateSecrets comments the secret-file keys of the ringcentral mapping n with whether
// rc's secrets are set and the variables that win over the files.
func annotateSecrets(n *yaml.Node, rc RingCentralConfig, secretEnv, jwtEnv string) {
	setOrUnset := func(s string) string {
		if s == "" {
			return "unset"
		}
		return "set"
	}
	if k, _ := mappingEntry(n, "client_secret_file"); k != nil {
		k.LineComment = "client secret: " + setOrUnset(rc.ClientSecret) + " (" + secretEnv + " wins over this file)"
	}
	if k, _ := mappingEntry(n, "jwt_file"); k != nil {
		k.LineComment = "JWT: " + setOrUnset(rc.JWT) + " (" + jwtEnv + " wins over this file)"
	}
}

// deleteEntry removes the key name and its value from the mapping n.
func deleteEntry(n *yaml.Node, name string) {
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == name {
			n.Content = slices.Delete(n.Content, i, i+2)
			return
		}
	}
}

func parseLevel(s string) (slog.Level, error) {
	switch s {
	case "debug":
		return slog.LevelDebug, nil
	case "info":
		return slog.LevelInfo, nil
	case "warn":
		return slog.LevelWarn, nil
	case "error":
		return slog.LevelError, nil
	}
	return 0, fmt.Errorf("unknown log level %q", s)
}

// newLogger returns the logger that log.level and log.format describe, writing to w. Format
// auto means text when w is a terminal and JSON otherwise (containers, files, pipes).
func (c Config) newLogger(w io.Writer) *slog.Logger {
	level, err := parseLevel(c.Log.Level)
	if err != nil {
		level = slog.LevelInfo
	}
	opts := &slog.HandlerOptions{Level: level, ReplaceAttr: durationText}
	format := c.Log.Format
	if format == "auto" || format == "" {
		format = "json"
		if isTerminal(w) {
			format = "text"
		}
	}
	if format == "text" {
		return slog.New(slog.NewTextHandler(w, opts))
	}
	return slog.New(slog.NewJSONHandler(w, opts))
}

// durationText renders durations as text ("180ms"): JSON logs would print nanoseconds
// ("duration":180000000).
func durationText(_ []string, a slog.Attr) slog.Attr {
	if a.Value.Kind() == slog.KindDuration {
		a.Value = slog.StringValue(a.Value.Duration().String())
	}
	return a
}

// daemonConfig returns the process-wide settings of `syncer run` taken from c (which must be
// valid); each tenant's schedule is its own (Tenant.Schedule).
func (c Config) daemonConfig() daemon.Config {
	return daemon.Config{
		ControlSchema:     c.Database.ControlSchema,
		MaxConcurrentRuns: c.Schedule.MaxConcurrentRuns,
		Grace:             c.Shutdown.GracePeriod,
		Listen:            c.HTTP.Listen,
		ReadyStaleness:    c.HTTP.ReadyStaleness,
	}
}
