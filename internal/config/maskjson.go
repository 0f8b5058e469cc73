package config

import (
	"reflect"
	"strings"
	"time"
)

// MaskedJSON returns the effective configuration as a value for encoding/json, its secrets
// masked as Masked masks them: the database URL's password shows as ****, and the client
// secret and JWT only as whether they are set (ringcentral.client_secret_set, jwt_set). Keys
// are the YAML keys; durations are numbers of seconds. Without a tenants list, tenants is
// null; with one, database.schema and each tenant's per-process keys are left out, as in
// Masked (both render one masked view: maskedView).
func (c Config) MaskedJSON() map[string]any {
	v := c.maskedView()
	out := jsonOf(reflect.ValueOf(v.cfg)).(map[string]any)
	for _, key := range v.omit {
		deleteJSONPath(out, key)
	}
	out["ringcentral"] = withSecretsSet(out["ringcentral"], c.RingCentral)
	if !c.MultiTenant() {
		out["tenants"] = nil
		return out
	}
	tenants := make([]any, 0, len(v.cfg.TenantList))
	for i, t := range v.cfg.TenantList {
		tm := jsonOf(reflect.ValueOf(t)).(map[string]any)
		tm["ringcentral"] = withSecretsSet(tm["ringcentral"], c.TenantList[i].RingCentral)
		for _, key := range v.tenantOmit {
			deleteJSONPath(tm, key)
		}
		tenants = append(tenants, tm)
	}
	out["tenants"] = tenants
	return out
}

// deleteJSONPath removes the dotted key (such as database.schema) from the object m, if it is
// there.
func deleteJSONPath(m map[string]any, key string) {
	parts := strings.Split(key, ".")
	for _, p := range parts[:len(parts)-1] {
		var ok bool
		if m, ok = m[p].(map[string]any); !ok {
			return
		}
	}
	delete(m, parts[len(parts)-1])
}

// withSecretsSet adds to the ringcentral object v whether rc's secrets are set.
func withSecretsSet(v any, rc RingCentral) any {
	m, ok := v.(map[string]any)
	if !ok {
		return v
	}
	m["client_secret_set"] = rc.ClientSecret != ""
	m["jwt_set"] = rc.JWT != ""
	return m
}

var (
	durationType    = reflect.TypeFor[time.Duration]()
	streamStartType = reflect.TypeFor[StreamStart]()
)

// jsonOf renders v for encoding/json: a struct as an object of its YAML keys (fields tagged
// "-" left out), a duration as seconds, streams.start as its text, a slice as an array (never
// null), anything else as is: a rate limit is an object {count, per}, per in seconds.
func jsonOf(v reflect.Value) any {
	if v.Type() == durationType {
		return time.Duration(v.Int()).Seconds()
	}
	if v.Type() == streamStartType { // one value, a duration or a date: as the file writes it
		return v.Interface().(StreamStart).String()
	}
	switch v.Kind() {
	case reflect.Struct:
		out := map[string]any{}
		for i := range v.NumField() {
			f := v.Type().Field(i)
			name, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
			if name == "-" || !f.IsExported() {
				continue
			}
			if name == "" {
				name = strings.ToLower(f.Name)
			}
			out[name] = jsonOf(v.Field(i))
		}
		return out
	case reflect.Slice:
		out := make([]any, 0, v.Len())
		for i := range v.Len() {
			out = append(out, jsonOf(v.Index(i)))
		}
		return out
	case reflect.String:
		return v.String()
	default:
		return v.Interface()
	}
}
