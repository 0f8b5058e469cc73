package config

import (
	"fmt"
	"maps"
	"net/url"
	"slices"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/evsync/evsync/internal/secretjson"
)

// RedactURL masks the password of a URL and any query parameter the secret rule for URL
// parameters names (secretjson.IsSecretParam: password, secret or token anywhere in the name,
// or a secret key like api_key, pin, jwt). A string that does not parse is masked whole.
func RedactURL(s string) string {
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
			if secretjson.IsSecretParam(k) {
				q[k] = []string{"****"}
			}
		}
		u.RawQuery = q.Encode()
	}
	return strings.ReplaceAll(u.String(), "%2A%2A%2A%2A", "****")
}

// maskedView is the configuration as `syncer config` shows it, whatever the format: Masked
// renders it as YAML, MaskedJSON as JSON. What is masked and what is left out is decided here,
// once; the renderers only write it out, each saying in its own way whether the secrets are
// set.
type maskedView struct {
	// cfg is the configuration with the database URL redacted (RedactURL) and every
	// tenant's secrets (client secret, JWT) cleared.
	cfg Config
	// omit are the dotted keys left out of the top level: with a tenants list,
	// database.schema, which the tenants list forbids (each tenant has its schema).
	omit []string
	// tenantOmit are the dotted keys left out of each tenant of the tenants list: the
	// process-wide keys (perProcessKeys), which a tenant may not set.
	tenantOmit []string
}

// maskedView returns c's masked view. Leaving out the keys a tenants list forbids keeps the
// output loadable.
func (c Config) maskedView() maskedView {
	m := c
	m.Database.URL = RedactURL(c.Database.URL)
	m.RingCentral.ClientSecret, m.RingCentral.JWT = "", ""
	m.TenantList = slices.Clone(c.TenantList)
	for i := range m.TenantList {
		m.TenantList[i].RingCentral.ClientSecret, m.TenantList[i].RingCentral.JWT = "", ""
	}
	v := maskedView{cfg: m}
	if c.MultiTenant() {
		v.omit = []string{"database.schema"}
		v.tenantOmit = slices.Sorted(maps.Keys(perProcessKeys))
	}
	return v
}

// Masked renders the effective configuration as YAML with the secrets Masked: the database
// URL's password shows as ****, and the client secret and JWT only as set or unset (in a
// comment, so the output is still a loadable config file).
func (c Config) Masked() string {
	v := c.maskedView()
	var doc yaml.Node
	if err := doc.Encode(v.cfg); err != nil {
		return fmt.Sprintf("# rendering config: %v\n", err)
	}
	for _, key := range v.omit {
		deletePath(&doc, key)
	}
	if _, rc := mappingEntry(&doc, "ringcentral"); rc != nil && !c.MultiTenant() {
		annotateSecrets(rc, c.RingCentral, "EVSYNC_RC_CLIENT_SECRET", "EVSYNC_RC_JWT")
	}
	if _, ts := mappingEntry(&doc, "tenants"); ts != nil && ts.Kind == yaml.SequenceNode {
		for i, tn := range ts.Content {
			if i >= len(c.TenantList) {
				break
			}
			for _, key := range v.tenantOmit {
				deletePath(tn, key)
			}
			t := c.TenantList[i]
			if _, rc := mappingEntry(tn, "ringcentral"); rc != nil {
				annotateSecrets(rc, t.RingCentral, TenantEnv(t.Name, "RC_CLIENT_SECRET"), TenantEnv(t.Name, "RC_JWT"))
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

// deletePath removes the dotted key (such as database.schema) and its value from the mapping
// n (or the mapping a document n holds), if it is there.
func deletePath(n *yaml.Node, key string) {
	parts := strings.Split(key, ".")
	for _, p := range parts[:len(parts)-1] {
		if _, n = mappingEntry(n, p); n == nil {
			return
		}
	}
	deleteEntry(n, parts[len(parts)-1])
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
func annotateSecrets(n *yaml.Node, rc RingCentral, secretEnv, jwtEnv string) {
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
