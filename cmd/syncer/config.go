package main

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
	"slices"
	"strconv"
	"strings"
	"time"
	_ "time/tzdata" // schedule.timezone must resolve in minimal images without /usr/share/zoneinfo

	"github.com/robfig/cron/v3"
	"go.yaml.in/yaml/v3"

	"github.com/evsync/evsync/db"
	"github.com/evsync/evsync/engageclient"
	"github.com/evsync/evsync/internal/entity"
	"github.com/evsync/evsync/internal/oneline"
	syncrun "github.com/evsync/evsync/sync"
)

// Config is the effective configuration of syncer: defaultConfig, overlaid by the YAML file
// (config.example.yaml documents every key), overlaid by the EVSYNC_* environment variables.
// The secrets (ClientSecret, JWT) never come from the YAML itself: they come from
// EVSYNC_RC_CLIENT_SECRET / EVSYNC_RC_JWT or from the files named by client_secret_file /
// jwt_file.
type Config struct {
	Database struct {
		URL    string `yaml:"url"`
		Schema string `yaml:"schema"`
	} `yaml:"database"`
	RingCentral struct {
		ServerURL        string `yaml:"server_url"`
		ClientID         string `yaml:"client_id"`
		ClientSecretFile string `yaml:"client_secret_file"`
		JWTFile          string `yaml:"jwt_file"`
		ClientSecret     string `yaml:"-"` // from EVSYNC_RC_CLIENT_SECRET or ClientSecretFile
		JWT              string `yaml:"-"` // from EVSYNC_RC_JWT or JWTFile
	} `yaml:"ringcentral"`
	Engage struct {
		ServerURL         string        `yaml:"server_url"`
		RefreshMargin     time.Duration `yaml:"refresh_margin"`
		RequestsPerMinute int           `yaml:"requests_per_minute"`
		Concurrency       int           `yaml:"concurrency"`
		MaxRetryWait      time.Duration `yaml:"max_retry_wait"`
		// AssignedAgentsPageSize pages the assigned-agents listings (0: full lists).
		AssignedAgentsPageSize int `yaml:"assigned_agents_page_size"`
	} `yaml:"engage"`
	Sync struct {
		Entities          []entity.Name `yaml:"entities"`
		MaxDeleteFraction float64       `yaml:"max_delete_fraction"`
		Timeout           time.Duration `yaml:"timeout"`
	} `yaml:"sync"`
	Schedule struct {
		Cron       string        `yaml:"cron"`
		Seconds    bool          `yaml:"seconds"`
		Timezone   string        `yaml:"timezone"`
		RunOnStart bool          `yaml:"run_on_start"`
		Timeout    time.Duration `yaml:"timeout"`
	} `yaml:"schedule"`
	HTTP struct {
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
}

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
	c.RingCentral.ServerURL = "https://platform.ringcentral.com"
	c.Engage.ServerURL = "https://engage.ringcentral.com"
	c.Engage.RefreshMargin = 60 * time.Second
	c.Engage.RequestsPerMinute = 120
	c.Engage.Concurrency = engageclient.DefaultConcurrency
	c.Engage.MaxRetryWait = 2 * time.Minute // engageclient.DefaultMaxRetryWait
	c.Sync.Entities = entity.Names()
	c.Sync.MaxDeleteFraction = syncrun.MaxDeleteFractionDefault
	c.Sync.Timeout = time.Hour
	c.Schedule.Cron = "@daily"
	c.Schedule.Timezone = "UTC"
	c.Schedule.Timeout = time.Hour
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
// unset), then the secret files. It does not validate: call validate (and, for commands that
// talk to RingCentral, requireCredentials) on the result. Each error is one line naming the
// key; several are joined with newlines.
func loadConfig(path string, getenv func(string) string) (Config, error) {
	c := defaultConfig()
	if path != "" {
		data, err := os.ReadFile(path)
		if err != nil {
			return c, fmt.Errorf("config: reading %s: %w", path, pathErrCause(err))
		}
		if err := decodeConfig(data, path, &c); err != nil {
			return c, err
		}
	}
	if getenv == nil {
		getenv = func(string) string { return "" }
	}
	for _, o := range []struct {
		env string
		dst *string
	}{
		{envDatabaseURL, &c.Database.URL},
		{envRCServerURL, &c.RingCentral.ServerURL},
		{envRCClientID, &c.RingCentral.ClientID},
		{envRCClientSecret, &c.RingCentral.ClientSecret},
		{envRCJWT, &c.RingCentral.JWT},
		{envEngageURL, &c.Engage.ServerURL},
	} {
		if v := strings.TrimSpace(getenv(o.env)); v != "" {
			*o.dst = v
		}
	}
	// The variables win over the files: a file is read only when its variable is unset.
	var errs []error
	for _, s := range []struct {
		key, file string
		dst       *string
	}{
		{"ringcentral.client_secret_file", c.RingCentral.ClientSecretFile, &c.RingCentral.ClientSecret},
		{"ringcentral.jwt_file", c.RingCentral.JWTFile, &c.RingCentral.JWT},
	} {
		if *s.dst != "" || s.file == "" {
			continue
		}
		v, err := readSecretFile(s.file)
		if err != nil {
			errs = append(errs, fmt.Errorf("config: %s: %w", s.key, err))
			continue
		}
		*s.dst = v
	}
	return c, errors.Join(errs...)
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

// decodeConfig overlays the YAML document data onto c. Decoding is strict: an unknown key, a
// value of the wrong type and an inline secret are errors naming the dotted key, the file and
// the line.
func decodeConfig(data []byte, file string, c *Config) error {
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return fmt.Errorf("config: parsing %s: %s", file, oneline.Of(err.Error(), 0))
	}
	if doc.Kind == 0 || len(doc.Content) == 0 {
		return nil // an empty file keeps the defaults
	}
	d := configDecoder{file: file}
	d.decodeStruct(doc.Content[0], reflect.ValueOf(c).Elem(), "")
	return errors.Join(d.errs...)
}

type configDecoder struct {
	file string
	errs []error
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
		if hint, ok := inlineSecrets[key]; ok {
			d.errorf(k, "%s must not be written in the config file: %s", key, hint)
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
		d.decodeLeaf(val, f, key)
	}
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
	bad := func(key, format string, args ...any) {
		errs = append(errs, fmt.Errorf("config: "+key+": "+format, args...))
	}

	if err := checkDatabaseURL(c.Database.URL); err != nil {
		bad("database.url", "%v", err)
	}
	if err := db.CheckSchema(c.Database.Schema); err != nil {
		bad("database.schema", "%v", err)
	}
	if err := checkHTTPURL(c.RingCentral.ServerURL); err != nil {
		bad("ringcentral.server_url", "%v", err)
	}
	if err := checkHTTPURL(c.Engage.ServerURL); err != nil {
		bad("engage.server_url", "%v", err)
	}
	if c.Engage.RefreshMargin <= 0 {
		bad("engage.refresh_margin", "must be a positive duration like \"60s\", got %q", c.Engage.RefreshMargin)
	}
	if c.Engage.RequestsPerMinute <= 0 {
		bad("engage.requests_per_minute", "must be a positive integer, got %d", c.Engage.RequestsPerMinute)
	}
	if n := c.Engage.Concurrency; n < 1 || n > 64 {
		bad("engage.concurrency", "must be an integer from 1 to 64, got %d", n)
	}
	if c.Engage.MaxRetryWait <= 0 {
		bad("engage.max_retry_wait", "must be a positive duration like \"2m\", got %q", c.Engage.MaxRetryWait)
	}
	if n := c.Engage.AssignedAgentsPageSize; n < 0 || n > maxPageSize {
		bad("engage.assigned_agents_page_size", "must be 0 (full lists) or a page size from 1 to %d, got %d", maxPageSize, n)
	}
	if len(c.Sync.Entities) == 0 {
		bad("sync.entities", "must list at least one of %s", entityNames(", "))
	}
	seen := map[entity.Name]bool{}
	for _, e := range c.Sync.Entities {
		switch {
		case !slices.Contains(entity.Names(), e):
			bad("sync.entities", "unknown entity %q, expected some of %s", e, entityNames(", "))
		case seen[e]:
			bad("sync.entities", "entity %q is listed twice", e)
		}
		seen[e] = true
	}
	if f := c.Sync.MaxDeleteFraction; !(f > 0 && f <= 1) || math.IsNaN(f) {
		bad("sync.max_delete_fraction", "must be a number greater than 0 and at most 1, got %v", f)
	}
	if c.Sync.Timeout <= 0 {
		bad("sync.timeout", "must be a positive duration like \"1h\", got %q", c.Sync.Timeout)
	}
	c.validateSchedule(bad)
	c.validateProcess(bad)
	return errors.Join(errs...)
}

// problemFunc reports one problem of the config key; validate collects them.
type problemFunc func(key, format string, args ...any)

// validateSchedule checks schedule.*.
func (c *Config) validateSchedule(bad problemFunc) {
	loc, tzErr := time.LoadLocation(c.Schedule.Timezone)
	if c.Schedule.Timezone == "" || tzErr != nil {
		loc = time.UTC // reported below; the cron check still runs
	}
	if err := checkSchedule(c.Schedule.Cron, c.Schedule.Seconds, time.Now().In(loc)); err != nil {
		bad("schedule.cron", "%v", err)
	}
	if c.Schedule.Timezone == "" || tzErr != nil {
		bad("schedule.timezone", "must be an IANA time zone name like UTC or Europe/Berlin, got %q", c.Schedule.Timezone)
	}
	if c.Schedule.Timeout <= 0 {
		bad("schedule.timeout", "must be a positive duration like \"1h\", got %q", c.Schedule.Timeout)
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
// with where to set it. sync and run call it after validate; demo, status and migrate don't.
func (c *Config) requireCredentials() error {
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

// redactURL masks the password of a URL and any query parameter that names a password, a
// secret or a token. A string that does not parse is masked whole.
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
			if strings.Contains(lk, "password") || strings.Contains(lk, "secret") || strings.Contains(lk, "token") {
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
	var doc yaml.Node
	if err := doc.Encode(m); err != nil {
		return fmt.Sprintf("# rendering config: %v\n", err)
	}
	setOrUnset := func(s string) string {
		if s == "" {
			return "unset"
		}
		return "set"
	}
	if _, rc := mappingEntry(&doc, "ringcentral"); rc != nil {
		if k, _ := mappingEntry(rc, "client_secret_file"); k != nil {
			k.LineComment = "client secret: " + setOrUnset(c.RingCentral.ClientSecret) + " (EVSYNC_RC_CLIENT_SECRET wins over this file)"
		}
		if k, _ := mappingEntry(rc, "jwt_file"); k != nil {
			k.LineComment = "JWT: " + setOrUnset(c.RingCentral.JWT) + " (EVSYNC_RC_JWT wins over this file)"
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

// daemonConfig returns the settings of `syncer run` taken from c (which must be valid).
func (c Config) daemonConfig() daemonConfig {
	return daemonConfig{
		Cron:           c.Schedule.Cron,
		Seconds:        c.Schedule.Seconds,
		Timezone:       c.Schedule.Timezone,
		RunOnStart:     c.Schedule.RunOnStart,
		Timeout:        c.Schedule.Timeout,
		Grace:          c.Shutdown.GracePeriod,
		Listen:         c.HTTP.Listen,
		ReadyStaleness: c.HTTP.ReadyStaleness,
	}
}
