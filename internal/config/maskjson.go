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
// Masked.
func (c Config) MaskedJSON() map[string]any {
	m := c
	m.Database.URL = RedactURL(c.Database.URL)
	out := jsonOf(reflect.ValueOf(m)).(map[string]any)
	out["ringcentral"] = withSecretsSet(out["ringcentral"], c.RingCentral)
	if !c.MultiTenant() {
		out["tenants"] = nil
		return out
	}
	delete(out["database"].(map[string]any), "schema")
	tenants := make([]any, 0, len(c.TenantList))
	for _, t := range c.TenantList {
		tm := jsonOf(reflect.ValueOf(t)).(map[string]any)
		tm["ringcentral"] = withSecretsSet(tm["ringcentral"], t.RingCentral)
		for key := range perProcessKeys {
			section, name, _ := strings.Cut(key, ".")
			if sec, ok := tm[section].(map[string]any); ok {
				delete(sec, name)
			}
		}
		tenants = append(tenants, tm)
	}
	out["tenants"] = tenants
	return out
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

var durationType = reflect.TypeFor[time.Duration]()

// jsonOf renders v for encoding/json: a struct as an object of its YAML keys (fields tagged
// "-" left out), a duration as seconds, a slice as an array (never null), anything else as is.
func jsonOf(v reflect.Value) any {
	if v.Type() == durationType {
		return time.Duration(v.Int()).Seconds()
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
