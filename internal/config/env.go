package config

import (
	"errors"
	"fmt"
	"maps"
	"reflect"
	"slices"
	"strings"

	"go.yaml.in/yaml/v3"
)

// Environment variables: every config key has one (EnvName, EnvVars); these constants name the
// ones other packages and the tests spell out. The secrets EnvRCClientSecret and EnvRCJWT are
// values, not keys: they win over ringcentral.client_secret_file and ringcentral.jwt_file.
const (
	EnvDatabaseURL    = "EVSYNC_DATABASE_URL"
	EnvRCServerURL    = "EVSYNC_RC_SERVER_URL"
	EnvRCClientID     = "EVSYNC_RC_CLIENT_ID"
	EnvRCClientSecret = "EVSYNC_RC_CLIENT_SECRET"
	EnvRCJWT          = "EVSYNC_RC_JWT"
	EnvEngageURL      = "EVSYNC_ENGAGE_SERVER_URL"
)

// envPrefix starts every variable syncer reads as configuration; an unknown one is an error.
const envPrefix = "EVSYNC_"

// tenantEnvPrefix starts a tenant's secret variables (TenantEnv).
const tenantEnvPrefix = envPrefix + "TENANT_"

// NotConfigEnv are the EVSYNC_ variables that are not configuration, which Load leaves alone:
// the host ports docker-compose.yml and .env.example interpolate.
var NotConfigEnv = []string{"EVSYNC_PG_PORT", "EVSYNC_PG_TEST_PORT", "EVSYNC_METRICS_PORT"}

// EnvVar is the environment variable of one config key.
type EnvVar struct {
	Name  string // EVSYNC_ENGAGE_REQUESTS_PER_MINUTE
	Key   string // engage.requests_per_minute
	index []int  // the key's field in Config, for reflect.Value.FieldByIndex
}

// EnvVars returns the variable of every config key but tenants, in the order of Config's
// fields. The keys are Config's yaml tags, so a new key has its variable without more code.
func EnvVars() []EnvVar { return slices.Clone(envVars) }

var envVars = collectEnvVars(reflect.TypeFor[Config](), nil, "")

// collectEnvVars returns the variables of the keys of the struct t, whose dotted key is prefix
// and whose field index in Config is index.
func collectEnvVars(t reflect.Type, index []int, prefix string) []EnvVar {
	var vars []EnvVar
	for i := range t.NumField() {
		f := t.Field(i)
		tag, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
		if tag == "" || tag == "-" || (prefix == "" && tag == "tenants") {
			continue
		}
		key := tag
		if prefix != "" {
			key = prefix + "." + tag
		}
		idx := append(slices.Clone(index), i)
		if isSection(f.Type) {
			vars = append(vars, collectEnvVars(f.Type, idx, key)...)
			continue
		}
		vars = append(vars, EnvVar{Name: EnvName(key), Key: key, index: idx})
	}
	return vars
}

// EnvName is the environment variable of the dotted config key: EVSYNC_ and the key
// upper-cased with its dots as underscores, the section ringcentral written RC
// (engage.requests_per_minute → EVSYNC_ENGAGE_REQUESTS_PER_MINUTE, ringcentral.server_url →
// EVSYNC_RC_SERVER_URL).
func EnvName(key string) string {
	if rest, ok := strings.CutPrefix(key, "ringcentral."); ok {
		key = "rc." + rest
	}
	return envPrefix + strings.ToUpper(strings.ReplaceAll(key, ".", "_"))
}

// GetenvFunc returns a getenv function over environ, an environment in os.Environ's form
// ("KEY=value"), that reads it as Load does: a value is trimmed of surrounding white space,
// and one left empty reads as unset (""); of two entries of one variable the later wins, as
// os/exec has it.
func GetenvFunc(environ []string) func(string) string {
	env := parseEnviron(environ, func(string) bool { return true })
	return func(k string) string { return env[k] }
}

// configEnv returns the EVSYNC_ variables of environ that are set, trimmed: an empty value
// counts as unset.
func configEnv(environ []string) map[string]string {
	return parseEnviron(environ, func(k string) bool { return strings.HasPrefix(k, envPrefix) })
}

// parseEnviron returns the variables of environ that keep selects and that are set, their
// values trimmed: an empty value counts as unset, and a later empty entry unsets an earlier
// one.
func parseEnviron(environ []string, keep func(name string) bool) map[string]string {
	env := map[string]string{}
	for _, kv := range environ {
		k, v, ok := strings.Cut(kv, "=")
		if !ok || !keep(k) {
			continue
		}
		if v = strings.TrimSpace(v); v == "" {
			delete(env, k) // a later empty entry unsets it
			continue
		}
		env[k] = v
	}
	return env
}

// singleTenantEnv are the variables that with a tenants list are ambiguous (which tenant's?),
// with what to set instead.
var singleTenantEnv = map[string]string{
	"EVSYNC_DATABASE_SCHEMA": "tenants[I].schema (default engage_<name>)",
	EnvRCClientID:            "ringcentral.client_id (for every tenant) or tenants[I].ringcentral.client_id",
	EnvRCClientSecret:        "EVSYNC_TENANT_<NAME>_RC_CLIENT_SECRET or a client_secret_file",
	EnvRCJWT:                 "EVSYNC_TENANT_<NAME>_RC_JWT or tenants[I].ringcentral.jwt_file",
}

// overlayEnv sets the keys of c (the top level: tenants inherit it) whose variables env holds,
// each value read as the file's value of its key would be, and the secrets of EnvRCClientSecret
// and EnvRCJWT; multi says c has a tenants list, where the singleTenantEnv are errors.
func overlayEnv(c *Config, env map[string]string, multi bool) []error {
	var errs []error
	ambiguous := func(name string) bool {
		if hint := singleTenantEnv[name]; multi && hint != "" {
			errs = append(errs, fmt.Errorf("config: %s: is ambiguous with a tenants list; set %s instead", name, hint))
			return true
		}
		return false
	}
	v := reflect.ValueOf(c).Elem()
	for _, ev := range envVars {
		s, ok := env[ev.Name]
		if !ok || ambiguous(ev.Name) {
			continue
		}
		if err := setFromEnv(v.FieldByIndex(ev.index), s); err != nil {
			errs = append(errs, fmt.Errorf("config: %s (%s): %w", ev.Name, ev.Key, err))
		} else if c.Given != nil {
			c.Given[ev.Key] = true
		}
	}
	for _, secret := range []struct {
		name string
		dst  *string
	}{{EnvRCClientSecret, &c.RingCentral.ClientSecret}, {EnvRCJWT, &c.RingCentral.JWT}} {
		if s, ok := env[secret.name]; ok && !ambiguous(secret.name) {
			*secret.dst = s
		}
	}
	return errs
}

// setFromEnv sets the field f to the variable's value s, read as YAML reads the key's value: a
// duration, an integer, a number, a bool, a string as it is, a list as comma-separated items
// ("[]" the empty list).
// Its error says what was expected and repeats s, which is never a secret's (those are
// strings).
func setFromEnv(f reflect.Value, s string) error {
	n := &yaml.Node{Kind: yaml.ScalarNode, Value: s}
	switch f.Kind() {
	case reflect.String:
		f.SetString(s)
		return nil
	case reflect.Slice:
		n = &yaml.Node{Kind: yaml.SequenceNode}
		if s == "[]" { // the empty list: an empty variable counts as unset
			break
		}
		for item := range strings.SplitSeq(s, ",") {
			if item = strings.TrimSpace(item); item != "" {
				n.Content = append(n.Content, &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: item})
			}
		}
	}
	n = zeroDuration(n, f.Type())
	tmp := reflect.New(f.Type())
	if err := n.Decode(tmp.Interface()); err != nil || n.ShortTag() == "!!null" {
		if msg, ok := asValueError(err); ok {
			return errors.New(msg)
		}
		if f.Kind() == reflect.Slice {
			return fmt.Errorf("must be a comma-separated list, got %q", s)
		}
		return fmt.Errorf("%s, got %q", expectedValue(f.Type()), s)
	}
	f.Set(tmp.Elem())
	return nil
}

// unknownEnv reports every variable of env that is no key's, no secret's, no tenant's of
// tenants and not in NotConfigEnv, with the nearest valid name.
func unknownEnv(env map[string]string, tenants []Tenant) []error {
	valid := []string{EnvRCClientSecret, EnvRCJWT}
	for _, ev := range envVars {
		valid = append(valid, ev.Name)
	}
	var names []string // the tenants' names, for the hint
	for _, t := range tenants {
		if t.Name != "" {
			names = append(names, t.Name)
			valid = append(valid, TenantEnv(t.Name, "RC_CLIENT_SECRET"), TenantEnv(t.Name, "RC_JWT"))
		}
	}
	var errs []error
	for _, name := range slices.Sorted(maps.Keys(env)) {
		if slices.Contains(valid, name) || slices.Contains(NotConfigEnv, name) {
			continue
		}
		msg := "config: " + name + ": unknown variable"
		spelt := strings.Replace(name, "_RINGCENTRAL_", "_RC_", 1) // the section's name in full
		switch s := closest(valid, spelt); {
		case s != "":
			msg += " (did you mean " + s + "?)"
		case !strings.HasPrefix(name, tenantEnvPrefix):
			msg += " (every config key has one: EVSYNC_ and the key upper-cased, dots as underscores, ringcentral as RC)"
		case len(names) == 0:
			msg += " (a tenant's variables need a tenants list in the config file)"
		default:
			msg += fmt.Sprintf(" (a tenant's variables are %s and %s, for the tenants %s)",
				TenantEnv("<name>", "RC_CLIENT_SECRET"), TenantEnv("<name>", "RC_JWT"), strings.Join(names, ", "))
		}
		errs = append(errs, errors.New(msg))
	}
	return errs
}
