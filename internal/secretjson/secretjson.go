// Package secretjson removes secret-bearing keys from JSON objects, the one rule that both the
// client (for what it keeps of a login response) and the sink (before anything reaches Postgres)
// apply: a key is secret-bearing when, ignoring case, it is or ends with password, pwd, secret,
// token, pin or securityKey (so phoneLoginPin goes and allowManualPass stays).
package secretjson

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"unicode/utf8"
)

// secretSuffixes are the lower-case endings that make a JSON key secret-bearing (DESIGN.md).
var secretSuffixes = []string{"password", "pwd", "secret", "token", "pin", "securitykey"}

// IsSecretKey reports whether a JSON object key names a secret: ignoring case, it is or ends
// with password, pwd, secret, token, pin or securityKey.
func IsSecretKey(k string) bool { return isSecretKey([]byte(k)) }

func isSecretKey(k []byte) bool {
	for _, suf := range secretSuffixes {
		if len(k) < len(suf) {
			continue
		}
		tail := k[len(k)-len(suf):]
		match := true
		for i := range len(suf) {
			c := tail[i]
			if c >= 'A' && c <= 'Z' {
				c += 'a' - 'A'
			}
			if c != suf[i] {
				match = false
				break
			}
		}
		if match {
			return true
		}
	}
	return false
}

// Scrub returns raw without its secret-bearing keys, at any depth of objects and arrays,
// compacted (insignificant whitespace removed). A key is secret-bearing when, ignoring case, it
// is or ends with password, pwd, secret, token, pin or securityKey (so phoneLoginPin goes and
// allowManualPass stays). What Postgres jsonb cannot hold is repaired to U+FFFD: bytes that are
// not UTF-8, \u0000 and a lone surrogate escape. Empty input is returned as "{}"; invalid JSON
// (nesting deeper than MaxDepth included) is an error that does not quote the input.
func Scrub(raw []byte) ([]byte, error) {
	sc := scrubber{in: raw}
	out, err := sc.scrub()
	if err != nil {
		return nil, err
	}
	if sc.badUTF8 {
		out = bytes.ToValidUTF8(out, []byte("\uFFFD"))
	}
	if bytes.Contains(out, []byte(`\u`)) {
		out = replaceBadEscapes(out)
	}
	return out, nil
}

// replaceBadEscapes rewrites the \u escapes of valid JSON that Postgres jsonb rejects to
// \ufffd: \u0000 (NUL) and a surrogate that is not half of a pair (a lone \ud800). One odd
// value upstream must not fail a whole run; Go's decoder reads both as U+FFFD too. In valid
// JSON every backslash starts an escape, so one pass over the escapes finds them all.
func replaceBadEscapes(b []byte) []byte {
	for i := 0; i < len(b)-1; i++ {
		if b[i] != '\\' {
			continue
		}
		if b[i+1] != 'u' || i+6 > len(b) {
			i++ // skip the escaped character
			continue
		}
		r := hex4(b[i+2 : i+6])
		switch {
		case r == 0:
			copy(b[i+2:i+6], "fffd")
		case r >= 0xd800 && r < 0xdc00: // a high surrogate: a low one must follow
			if i+12 <= len(b) && b[i+6] == '\\' && b[i+7] == 'u' {
				if lo := hex4(b[i+8 : i+12]); lo >= 0xdc00 && lo < 0xe000 {
					i += 11 // the pair is fine
					continue
				}
			}
			copy(b[i+2:i+6], "fffd")
		case r >= 0xdc00 && r < 0xe000: // a low surrogate without its high one
			copy(b[i+2:i+6], "fffd")
		}
		i += 5 // the hex digits of \uXXXX hold no backslash
	}
	return b
}

// hex4 reads four hex digits (valid JSON guarantees them after \u).
func hex4(h []byte) rune {
	var r rune
	for _, c := range h {
		r <<= 4
		switch {
		case c >= '0' && c <= '9':
			r |= rune(c - '0')
		case c >= 'a' && c <= 'f':
			r |= rune(c-'a') + 10
		case c >= 'A' && c <= 'F':
			r |= rune(c-'A') + 10
		}
	}
	return r
}

// errBadJSON is returned for malformed raw objects; it never quotes the input.
var errBadJSON = errors.New("raw is not valid JSON")

// scrub returns the scrubbed, compacted input.
func (s *scrubber) scrub() ([]byte, error) {
	s.ws()
	if s.pos == len(s.in) {
		return append(s.out, '{', '}'), nil
	}
	if err := s.value(0); err != nil {
		return nil, fmt.Errorf("scrubbing raw at byte %d: %w", s.pos, err)
	}
	s.ws()
	if s.pos != len(s.in) {
		return nil, fmt.Errorf("scrubbing raw at byte %d: %w", s.pos, errBadJSON)
	}
	return s.out, nil
}

// scrubber is a small validating JSON scanner that copies its input, minus secret keys.
type scrubber struct {
	in      []byte
	pos     int
	out     []byte
	badUTF8 bool // a string held bytes that are not UTF-8 (Scrub repairs them)
}

// MaxDepth is the most objects and arrays Scrub takes nested in one another. PostgreSQL's jsonb
// (max_stack_depth 2MB) takes several thousand; the client fails an item nested deeper, so
// that only its scope fails.
const MaxDepth = 1000

func (s *scrubber) ws() {
	for s.pos < len(s.in) {
		switch s.in[s.pos] {
		case ' ', '\t', '\n', '\r':
			s.pos++
		default:
			return
		}
	}
}

// value copies one JSON value to out.
func (s *scrubber) value(depth int) error {
	if depth > MaxDepth {
		return errBadJSON
	}
	if s.pos >= len(s.in) {
		return errBadJSON
	}
	switch c := s.in[s.pos]; {
	case c == '{':
		return s.object(depth)
	case c == '[':
		return s.array(depth)
	case c == '"':
		start := s.pos
		if _, err := s.str(); err != nil {
			return err
		}
		s.out = append(s.out, s.in[start:s.pos]...)
		return nil
	case c == 't':
		return s.lit("true")
	case c == 'f':
		return s.lit("false")
	case c == 'n':
		return s.lit("null")
	case c == '-' || (c >= '0' && c <= '9'):
		return s.num()
	default:
		return errBadJSON
	}
}

func (s *scrubber) lit(l string) error {
	if !bytes.HasPrefix(s.in[s.pos:], []byte(l)) {
		return errBadJSON
	}
	s.out = append(s.out, l...)
	s.pos += len(l)
	return nil
}

func (s *scrubber) num() error {
	start := s.pos
	if s.in[s.pos] == '-' {
		s.pos++
	}
	digits := func() int {
		n := 0
		for s.pos < len(s.in) && s.in[s.pos] >= '0' && s.in[s.pos] <= '9' {
			s.pos++
			n++
		}
		return n
	}
	if digits() == 0 {
		return errBadJSON
	}
	if s.pos < len(s.in) && s.in[s.pos] == '.' {
		s.pos++
		if digits() == 0 {
			return errBadJSON
		}
	}
	if s.pos < len(s.in) && (s.in[s.pos] == 'e' || s.in[s.pos] == 'E') {
		s.pos++
		if s.pos < len(s.in) && (s.in[s.pos] == '+' || s.in[s.pos] == '-') {
			s.pos++
		}
		if digits() == 0 {
			return errBadJSON
		}
	}
	s.out = append(s.out, s.in[start:s.pos]...)
	return nil
}

// str scans a string starting at pos (a quote) and returns its raw contents (no quotes);
// escaped reports whether it held a backslash escape.
func (s *scrubber) str() (escaped bool, err error) {
	s.pos++ // opening quote
	for s.pos < len(s.in) {
		c := s.in[s.pos]
		if c >= 0x20 && c < utf8.RuneSelf && c != '"' && c != '\\' {
			s.pos++
			continue
		}
		switch {
		case c == '"':
			s.pos++
			return escaped, nil
		case c == '\\':
			escaped = true
			s.pos += 2
		case c < 0x20:
			return false, errBadJSON
		case c < utf8.RuneSelf:
			s.pos++
		default:
			r, n := utf8.DecodeRune(s.in[s.pos:])
			if r == utf8.RuneError && n <= 1 {
				s.badUTF8 = true // repaired by Scrub, as Go's decoder does for the typed values
			}
			s.pos += n
		}
	}
	return false, errBadJSON
}

// skip scans over one value without copying it.
func (s *scrubber) skip(depth int) error {
	out := s.out
	err := s.value(depth)
	s.out = out
	return err
}

func (s *scrubber) object(depth int) error {
	s.pos++ // {
	s.out = append(s.out, '{')
	s.ws()
	if s.pos < len(s.in) && s.in[s.pos] == '}' {
		s.pos++
		s.out = append(s.out, '}')
		return nil
	}
	first := true
	for {
		s.ws()
		if s.pos >= len(s.in) || s.in[s.pos] != '"' {
			return errBadJSON
		}
		kstart := s.pos
		escaped, err := s.str()
		if err != nil {
			return err
		}
		key := s.in[kstart+1 : s.pos-1]
		secret := false
		if escaped {
			var k string
			if err := json.Unmarshal(s.in[kstart:s.pos], &k); err != nil {
				return errBadJSON
			}
			secret = isSecretKey([]byte(k))
		} else {
			secret = isSecretKey(key)
		}
		s.ws()
		if s.pos >= len(s.in) || s.in[s.pos] != ':' {
			return errBadJSON
		}
		s.pos++
		s.ws()
		if secret {
			if err := s.skip(depth + 1); err != nil {
				return err
			}
		} else {
			if !first {
				s.out = append(s.out, ',')
			}
			first = false
			s.out = append(s.out, s.in[kstart:kstart+len(key)+2]...)
			s.out = append(s.out, ':')
			if err := s.value(depth + 1); err != nil {
				return err
			}
		}
		s.ws()
		if s.pos >= len(s.in) {
			return errBadJSON
		}
		switch s.in[s.pos] {
		case ',':
			s.pos++
		case '}':
			s.pos++
			s.out = append(s.out, '}')
			return nil
		default:
			return errBadJSON
		}
	}
}

func (s *scrubber) array(depth int) error {
	s.pos++ // [
	s.out = append(s.out, '[')
	s.ws()
	if s.pos < len(s.in) && s.in[s.pos] == ']' {
		s.pos++
		s.out = append(s.out, ']')
		return nil
	}
	for {
		s.ws()
		if err := s.value(depth + 1); err != nil {
			return err
		}
		s.ws()
		if s.pos >= len(s.in) {
			return errBadJSON
		}
		switch s.in[s.pos] {
		case ',':
			s.pos++
			s.out = append(s.out, ',')
		case ']':
			s.pos++
			s.out = append(s.out, ']')
			return nil
		default:
			return errBadJSON
		}
	}
}
