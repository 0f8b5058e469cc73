package config

import (
	"fmt"
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

// Masked renders the effective configuration as YAML with the secrets Masked: the database
// URL's password shows as ****, and the client secret and JWT only as set or unset (in a
// comment, so the output is still a loadable config file).
func (c Config) Masked() string {
	m := c
	m.Database.URL = RedactURL(c.Database.URL)
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
