package engagefake

import (
	"encoding/json"
	"slices"
	"strconv"
	"unicode/utf8"
)

// omit is the type of Omit.
type omit struct{}

// Omit is the value that, set for a field in an entity's Set map, removes the field from the
// entity's JSON. (A nil value keeps the field and sends JSON null.)
var Omit any = omit{}

// field is one key of a generated JSON object; doc keeps keys in a fixed order so the same seed
// always produces the same bytes.
type field struct {
	k string
	v any
}

// doc is an ordered JSON object.
type doc []field

// get returns the value of key k.
func (d doc) get(k string) (any, bool) {
	for _, f := range d {
		if f.k == k {
			return f.v, true
		}
	}
	return nil, false
}

// with applies overrides: an existing key gets the new value in place, a new key is appended
// (in sorted key order), and Omit removes the key.
func (d doc) with(set map[string]any) doc {
	if len(set) == 0 {
		return d
	}
	keys := make([]string, 0, len(set))
	for k := range set {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		v := set[k]
		i := slices.IndexFunc(d, func(f field) bool { return f.k == k })
		switch {
		case v == Omit && i >= 0:
			d = slices.Delete(d, i, i+1)
		case v == Omit:
		case i >= 0:
			d[i].v = v
		default:
			d = append(d, field{k, v})
		}
	}
	return d
}

// appendJSON appends the JSON encoding of v to b.
func appendJSON(b []byte, v any) []byte {
	switch v := v.(type) {
	case nil:
		return append(b, "null"...)
	case string:
		return appendString(b, v)
	case bool:
		return strconv.AppendBool(b, v)
	case int:
		return strconv.AppendInt(b, int64(v), 10)
	case int32:
		return strconv.AppendInt(b, int64(v), 10)
	case int64:
		return strconv.AppendInt(b, v, 10)
	case doc:
		b = append(b, '{')
		for i, f := range v {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendString(b, f.k)
			b = append(b, ':')
			b = appendJSON(b, f.v)
		}
		return append(b, '}')
	case []doc:
		return appendArray(b, v, func(b []byte, e doc) []byte { return appendJSON(b, e) })
	case []string:
		return appendArray(b, v, appendString)
	case []int:
		return appendArray(b, v, func(b []byte, e int) []byte { return strconv.AppendInt(b, int64(e), 10) })
	case []any:
		return appendArray(b, v, appendJSON)
	case json.RawMessage:
		return append(b, v...)
	default:
		raw, err := json.Marshal(v)
		if err != nil {
			return append(b, "null"...)
		}
		return append(b, raw...)
	}
}

// appendArray appends v as a JSON array, each element encoded by elem.
func appendArray[T any](b []byte, v []T, elem func([]byte, T) []byte) []byte {
	b = append(b, '[')
	for i, e := range v {
		if i > 0 {
			b = append(b, ',')
		}
		b = elem(b, e)
	}
	return append(b, ']')
}

// appendString appends s as a JSON string (UTF-8 kept as is, control characters escaped).
func appendString(b []byte, s string) []byte {
	const hex = "0123456789abcdef"
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
			i += size
			start = i
			continue
		}
		i += size
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}
