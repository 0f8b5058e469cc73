package config

import (
	"fmt"
	"reflect"
	"regexp"
	"slices"
	"strings"

	"go.yaml.in/yaml/v3"
)

// TenantDefault is the name of the one tenant of a config without a tenants list.
const TenantDefault = "default"

// TopLevelTenant is the tenant the top level describes: the one tenant of a config without a
// tenants list, and what demo syncs.
func (c *Config) TopLevelTenant() Tenant {
	return Tenant{Name: TenantDefault, Schema: c.Database.Schema,
		RingCentral: c.RingCentral, Engage: c.Engage, Sync: c.Sync, Schedule: c.Schedule, Streams: c.Streams.clone()}
}

// TenantEnv is the name of a tenant's secret variable: EVSYNC_TENANT_<NAME>_<what>, what being
// RC_CLIENT_SECRET or RC_JWT.
func TenantEnv(name, what string) string {
	return tenantEnvPrefix + strings.ToUpper(name) + "_" + what
}

// decodeTenants builds c.TenantList from the tenants nodes the file held: each entry is decoded
// onto a copy of the top level's sections (so every key it leaves out is the top level's),
// gets its default schema, and its secrets from its variables or its files.
func (d *configDecoder) decodeTenants(c *Config, env map[string]string) []error {
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
		t := c.TopLevelTenant()
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
			if v := env[TenantEnv(t.Name, "RC_CLIENT_SECRET")]; v != "" {
				t.RingCentral.ClientSecret = v
			}
			if v := env[TenantEnv(t.Name, "RC_JWT")]; v != "" {
				t.RingCentral.JWT = v
			}
		}
		d.errs = append(d.errs, readSecrets(&t.RingCentral, prefix+".")...)
		c.TenantList = append(c.TenantList, t)
	}
	return d.errs
}

// perProcessKeys are the keys of a tenant's sections that belong to the process, not to a
// tenant.
var perProcessKeys = map[string]bool{"sync.tenant_concurrency": true, "schedule.max_concurrent_runs": true}

// tenantName is what a tenant's name must match: it becomes part of a schema name and of
// environment variable names.
var tenantName = regexp.MustCompile(`^[a-z][a-z0-9_]{0,30}$`)
