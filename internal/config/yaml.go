package config

import (
	"errors"
	"fmt"
	"reflect"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/evsync/evsync/internal/oneline"
	"github.com/evsync/evsync/internal/suggest"
)

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
	given      keySet          // of those, the ones it gave a value (not null): Config.Given
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
		if isSection(f.Type()) {
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

// decodeLeaf decodes the scalar or list n into the field f named key, recording a top-level
// key in given. A null keeps the default.
func (d *configDecoder) decodeLeaf(n *yaml.Node, f reflect.Value, key string) {
	if n.Kind == yaml.AliasNode {
		n = n.Alias
	}
	if n.Tag == "!!null" {
		return
	}
	n = zeroDuration(n, f.Type())
	tmp := reflect.New(f.Type())
	err := n.Decode(tmp.Interface())
	if err == nil {
		f.Set(tmp.Elem())
		if !d.tenant && d.given != nil {
			d.given[key] = true
		}
		return
	}
	if msg, ok := asValueError(err); ok { // a typed key's own message, with what it got
		d.errorf(n, "%s: %s", key, msg)
		return
	}
	got := ""
	if n.Kind == yaml.ScalarNode {
		got = fmt.Sprintf(", got %q", n.Value)
	}
	d.errorf(n, "%s: %s%s", key, expectedValue(f.Type()), got)
}

// zeroDuration returns n, or for a duration written 0 the node "0s": YAML reads a bare 0 as
// an integer, which it refuses as a duration, yet 0 is how streams.settle_after says "none".
func zeroDuration(n *yaml.Node, t reflect.Type) *yaml.Node {
	if t != durationType || n.Kind != yaml.ScalarNode || n.Value != "0" {
		return n
	}
	z := *n
	z.Value, z.Tag, z.Style = "0s", "!!str", 0
	return &z
}

// expectedValue says what a value of a key of type t must be, for the errors of the file and
// of the environment.
func expectedValue(t reflect.Type) string {
	switch {
	case t == reflect.TypeFor[time.Duration]():
		return `must be a duration like "60s" or "1h30m"`
	case t == reflect.TypeFor[StreamStart]():
		return streamStartExpected
	case t == reflect.TypeFor[[]RateLimit]():
		return rateLimitExpected
	case t.Kind() == reflect.Int:
		return "must be an integer"
	case t.Kind() == reflect.Float64:
		return "must be a number"
	case t.Kind() == reflect.Bool:
		return "must be true or false"
	case t.Kind() == reflect.Slice:
		return "must be a list like [accounts, users]"
	default:
		return "must be a single value, not a list or mapping"
	}
}

// isSection reports whether a field of type t is a section of keys (a struct), not a key whose
// value is a struct read from one scalar (StreamStart, which reads its own YAML).
func isSection(t reflect.Type) bool {
	return t.Kind() == reflect.Struct && !reflect.PointerTo(t).Implements(reflect.TypeFor[yaml.Unmarshaler]())
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
	var tags []string
	t := v.Type()
	for i := range t.NumField() {
		tag, _, _ := strings.Cut(t.Field(i).Tag.Get("yaml"), ",")
		if tag != "" && tag != "-" {
			tags = append(tags, tag)
		}
	}
	return closest(tags, name)
}

// closest returns the candidate nearest to name, the first of equals, or "" if none is within
// three edits: the "did you mean" of an unknown key or variable.
func closest(candidates []string, name string) string {
	best, bestDist := "", 4
	for _, c := range candidates {
		if dist := suggest.Distance(c, name); dist < bestDist {
			best, bestDist = c, dist
		}
	}
	return best
}
