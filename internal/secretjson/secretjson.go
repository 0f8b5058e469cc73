// Package secretjson removes secret-bearing keys from JSON objects, the one rule that both the
// client (for what it keeps of a login response) and the sink (before anything reaches Postgres)
// apply (docs/schema.md, "Secret-bearing keys"): a key is secret-bearing when, split into words
// (camelCase, snake_case, kebab-case, acronyms as words: SIPPassword is "sip password"),
// ignoring case, and dropping trailing words that are digits, a version (v2) or one of old,
// new, encrypted, enc, hash, hashed, pem, value, its last word is password, passwd, pwd, pass,
// passphrase, secret, token, tokens, jwt, pin, credential, credentials or authorization, or its
// last two words are "api key", "private key", "security key", "access key", "secret key" or
// "pin code"; a boolean value is never a secret, and pass names one only for a string value. So
// phoneLoginPin, sipPass, apiKey, accessTokens, password1, apiKeyV2, passwordEncrypted,
// privateKeyPem and a whole credentials object go; allowManualPass: true, campaignPass: 3 and
// passwordExpirationDate stay. IsSecret is the rule; everything that judges a key uses it (or
// IsSecretKey, its widest case; or IsSecretParam, which widens it for URL query parameters).
package secretjson

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"
)

// secretLastWords are the last words that make a key secret-bearing; "pass" is handled apart
// (a secret only for a string value).
var secretLastWords = []string{"password", "passwd", "pwd", "passphrase", "secret", "token", "tokens",
	"jwt", "pin", "credential", "credentials", "authorization"}

// droppedWords are trailing words that say how a secret is kept, not what it is: they are
// dropped before the last word is judged (passwordEncrypted is a password), as are digits
// (password1) and a version (apiKeyV2).
var droppedWords = []string{"old", "new", "encrypted", "enc", "hash", "hashed", "pem", "value"}

// secretLastPairs are the last two words that make a key secret-bearing.
var secretLastPairs = [][2]string{{"api", "key"}, {"private", "key"}, {"security", "key"},
	{"access", "key"}, {"secret", "key"}, {"pin", "code"}}

// keyKind is what a key's words say about its value.
type keyKind uint8

const (
	notSecret  keyKind = iota
	secret             // secret-bearing unless the value is a boolean
	secretPass         // last word "pass": secret-bearing only for a string value
)

// IsSecretKey reports whether a JSON object key names a secret when its value is a string (the
// widest case of the rule; see the package doc and IsSecret).
func IsSecretKey(k string) bool { return kindOf([]byte(k)) != notSecret }

// IsSecretParam reports whether a URL query parameter named k holds a secret: the rule for a
// string value (IsSecretKey), and also any name that holds password, secret or token anywhere,
// ignoring case, because parameter names run their words together (libpq's sslpassword). The
// configuration's masking of the database URL applies it.
func IsSecretParam(k string) bool {
	lk := strings.ToLower(k)
	return strings.Contains(lk, "password") || strings.Contains(lk, "secret") || strings.Contains(lk, "token") ||
		IsSecretKey(k)
}

// IsSecret reports whether the member k: value (value being the raw JSON value, as it follows
// the colon) is secret-bearing under the rule of the package doc.
func IsSecret(k string, value []byte) bool {
	return isSecret(kindOf([]byte(k)), firstByte(value))
}

func firstByte(b []byte) byte {
	b = bytes.TrimLeft(b, " \t\r\n")
	if len(b) == 0 {
		return 0
	}
	return b[0]
}

// isSecret applies the value part of the rule: v is the first byte of the JSON value.
func isSecret(kind keyKind, v byte) bool {
	switch {
	case kind == notSecret || v == 't' || v == 'f': // a boolean is never a secret
		return false
	case kind == secretPass:
		return v == '"'
	}
	return true
}

// kindOf splits k into words and classifies it by its last one or two, once the trailing
// words that droppedWords lists, digits and versions are dropped.
func kindOf(k []byte) keyKind {
	start, end := lastWord(k, len(k))
	for start < end && dropped(k, start, end) {
		start, end = lastWord(k, start)
	}
	if start == end {
		return notSecret
	}
	w := k[start:end]
	if equalFold(w, "pass") {
		return secretPass
	}
	for _, s := range secretLastWords {
		if equalFold(w, s) {
			return secret
		}
	}
	if !equalFold(w, "key") && !equalFold(w, "code") {
		return notSecret
	}
	pstart, pend := lastWord(k, start)
	p := k[pstart:pend]
	for _, pair := range secretLastPairs {
		if equalFold(w, pair[1]) && equalFold(p, pair[0]) {
			return secret
		}
	}
	return notSecret
}

// dropped reports whether the word k[start:end] is dropped from the end of a key: digits (the
// splitter makes a word of them), the "v" of a version (a "v" the digits follow at once: V2 is
// "V" and "2", v10 "v" and "10"), or one of droppedWords.
func dropped(k []byte, start, end int) bool {
	switch c := classes[k[start]]; {
	case c == digit:
		return true
	case end-start == 1 && (k[start] == 'v' || k[start] == 'V'):
		return end < len(k) && classes[k[end]] == digit
	}
	w := k[start:end]
	for _, d := range droppedWords {
		if equalFold(w, d) {
			return true
		}
	}
	return false
}

// Byte classes of the word splitter. Bytes of non-ASCII characters count as lower-case letters
// (they stay inside their word); anything else that is not a letter or digit separates words.
const (
	sep uint8 = iota
	lower
	upper
	digit
)

// classes maps each byte to its class (a table: the splitter runs for every key of every row).
var classes = func() (t [256]uint8) {
	for c := range 256 {
		switch {
		case c >= 'a' && c <= 'z', c >= utf8.RuneSelf:
			t[c] = lower
		case c >= 'A' && c <= 'Z':
			t[c] = upper
		case c >= '0' && c <= '9':
			t[c] = digit
		}
	}
	return t
}()

// boundary reports whether a word starts at k[i] (k[i-1] and k[i] both word bytes): camelCase
// (aB), the end of an acronym (ABc: "SIPPassword" is "SIP" + "Password"), letters to digits and
// back.
func boundary(k []byte, i int) bool {
	a, b := classes[k[i-1]], classes[k[i]]
	switch {
	case a == b:
		return b == upper && i+1 < len(k) && classes[k[i+1]] == lower
	case a == digit || b == digit:
		return true
	}
	return b == upper // a lower letter then an upper one
}

// lastWord returns the span of the last word of k[:end] (empty when there is none), scanning
// back without allocating: Scrub calls it for every key of every row.
func lastWord(k []byte, end int) (start, wend int) {
	for end > 0 && classes[k[end-1]] == sep {
		end--
	}
	if end == 0 {
		return 0, 0
	}
	start = end - 1
	for start > 0 && classes[k[start-1]] != sep && !boundary(k, start) {
		start--
	}
	return start, end
}

// equalFold reports whether w equals the lower-case ASCII word s, ignoring case.
func equalFold(w []byte, s string) bool {
	if len(w) != len(s) {
		return false
	}
	for i := range len(s) {
		c := w[i]
		if c >= 'A' && c <= 'Z' {
			c += 'a' - 'A'
		}
		if c != s[i] {
			return false
		}
	}
	return true
}

// Scrub returns raw without its secret-bearing members (the rule of the package doc), at any
// depth of objects and arrays, compacted (insignificant whitespace removed). What Postgres
// jsonb cannot hold is repaired to U+FFFD: bytes that are not UTF-8, \u0000 and a lone
// surrogate escape. Empty input is returned as "{}"; invalid JSON (nesting deeper than MaxDepth
// included) is an error that does not quote the input.
func Scrub(raw []byte) ([]byte, error) {
	if out, ok := scrubNothing(raw, false); ok {
		return out, nil
	}
	return scrubAll(raw)
}

// scrubAll is Scrub by the full scan of every member.
func scrubAll(raw []byte) ([]byte, error) {
	sc := scrubber{in: raw}
	return sc.finish(sc.scrub())
}

// scrubNothing is Scrub of raw that holds no secret-bearing key because none of its bytes
// spell a word a secret-bearing key ends with (secretLastWords, "pass", secretLastPairs'
// "key" and "code"'s "pin"): raw compacted and repaired, as the full scan leaves it, at a
// fraction of its cost. valid says raw is known to be valid JSON: compact already, it is then
// not read again. ok is false when raw may hold one (or a value spells such a word), is empty,
// or is not valid JSON: the full scan decides then.
func scrubNothing(raw []byte, valid bool) (_ []byte, ok bool) {
	if len(raw) == 0 || maySpellSecret(raw) {
		return nil, false
	}
	out := raw
	if !valid || !isCompact(raw) {
		var b bytes.Buffer
		b.Grow(len(raw))
		if json.Compact(&b, raw) != nil {
			return nil, false
		}
		out = b.Bytes()
	}
	if !utf8.Valid(out) { // a copy: raw stays the caller's
		out = bytes.ToValidUTF8(out, []byte("\uFFFD"))
	}
	return out, true // no \u escape to repair: maySpellSecret sent those to the full scan
}

// secretNeedles are the words whose spelling anywhere in a document sends it to the full
// scan: every word a secret-bearing key can end with contains one of them. The key splitter
// makes a word of a lower-case run, a capital and its lower-case run, or a run of capitals, so
// a word spells a needle in lower case, capitalized or upper case.
var secretNeedles = func() [][]byte {
	var out [][]byte
	for _, n := range []string{"pass", "pwd", "secret", "token", "jwt", "pin", "credential", "authorization", "key"} {
		out = append(out, []byte(n), []byte(strings.ToUpper(n[:1])+n[1:]), []byte(strings.ToUpper(n)))
	}
	return out
}()

// maySpellSecret reports whether the full scan must judge b: b spells one of secretNeedles,
// holds a \u escape (which may spell one), or has more brackets than MaxDepth (it may nest
// deeper, an error the full scan reports).
func maySpellSecret(b []byte) bool {
	if bytes.Contains(b, []byte(`\u`)) || bytes.Count(b, []byte("{"))+bytes.Count(b, []byte("[")) > MaxDepth {
		return true
	}
	for _, n := range secretNeedles {
		if bytes.Contains(b, n) {
			return true
		}
	}
	return false
}

// ScrubDecoded is Scrub of raw that a json.Decoder read (valid JSON: it is not checked again),
// at less cost: a document that spells no secret word and is compact already is only repaired.
func ScrubDecoded(raw []byte) ([]byte, error) {
	if out, ok := scrubNothing(raw, true); ok {
		return out, nil
	}
	return scrubAll(raw)
}

// isCompact reports whether the valid JSON b has no whitespace outside its strings.
func isCompact(b []byte) bool {
	for len(b) > 0 {
		i := bytes.IndexAny(b, "\" \t\r\n")
		if i < 0 {
			return true
		}
		if b[i] != '"' {
			return false
		}
		b = b[i+1:]
		for { // to the string's closing quote
			j := bytes.IndexByte(b, '"')
			if j < 0 {
				return true // unterminated: not valid JSON, which the caller vouched for
			}
			k := j
			for k > 0 && b[k-1] == '\\' {
				k--
			}
			b = b[j+1:]
			if (j-k)%2 == 0 { // an even run of backslashes: the quote is not escaped
				break
			}
		}
	}
	return true
}

// finish repairs what scrub copied (see Scrub).
func (s *scrubber) finish(out []byte, err error) ([]byte, error) {
	if err != nil {
		return nil, err
	}
	if s.badUTF8 {
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

	// For ScrubPaths: where paths are recorded (nil: not at all), the current path and its
	// number of segments.
	paths *Paths
	path  []byte
	segs  int
	shape bool   // ScrubShape: only hash the shape into h, record no path
	h     uint64 // the shape's hash so far
	esc   []byte // scratch for a key escaped as a path segment (escapeSeg)

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

// object copies one object to out, minus its secret-bearing members.
func (s *scrubber) object(depth int) error {
	s.pos++ // {
	s.out = append(s.out, '{')
	open := len(s.out)
	s.ws()
	if s.pos < len(s.in) && s.in[s.pos] == '}' {
		s.pos++
		s.out = append(s.out, '}')
		return nil
	}
	for {
		if err := s.member(depth, open); err != nil {
			return err
		}
		closed, err := s.next('}')
		if err != nil || closed {
			return err
		}
	}
}

// member copies the object member at pos ("key": value, of an object at depth) to out, or
// skips it when it is secret-bearing. open is where the object's members start in out: a
// member copied after another gets a comma.
func (s *scrubber) member(depth, open int) error {
	s.ws()
	if s.pos >= len(s.in) || s.in[s.pos] != '"' {
		return errBadJSON
	}
	kstart := s.pos
	escaped, err := s.str()
	if err != nil {
		return err
	}
	kend := s.pos
	var kind keyKind
	if escaped {
		if kind, err = escapedKind(s.in[kstart:kend]); err != nil {
			return err
		}
	} else {
		kind = kindOf(s.in[kstart+1 : kend-1])
	}
	s.ws()
	if s.pos >= len(s.in) || s.in[s.pos] != ':' {
		return errBadJSON
	}
	s.pos++
	s.ws()
	pushed, plen, psegs := false, 0, 0
	if s.paths != nil && s.segs < MaxPathSegments && s.pos < len(s.in) {
		pushed, plen, psegs = s.recordKey(s.in[kstart:kend], escaped)
	}
	if s.pos < len(s.in) && isSecret(kind, s.in[s.pos]) {
		err = s.skip(depth + 1)
	} else {
		if len(s.out) > open {
			s.out = append(s.out, ',')
		}
		s.out = append(s.out, s.in[kstart:kend]...)
		s.out = append(s.out, ':')
		err = s.value(depth + 1)
	}
	if pushed {
		if s.shape {
			s.segs, s.h = psegs, chain(s.h, shapeLeave)
		} else {
			s.leave(plen, psegs)
		}
	}
	return err
}

// recordKey records the key quoted (escaped: it holds escapes) of the member whose value is
// at pos, for ScrubPaths: a leaf is recorded at once; an object or array extends the path for
// its members (pushed), which the caller restores after it (leave, with plen and psegs). For
// ScrubShape the key and type are hashed instead.
func (s *scrubber) recordKey(quoted []byte, escaped bool) (pushed bool, plen, psegs int) {
	key := quoted[1 : len(quoted)-1]
	if escaped {
		key = unquote(quoted)
	}
	c := s.in[s.pos]
	leaf := c != '{' && c != '['
	if s.shape {
		s.h = chain(s.h, keyHash(key, typeOf(c)))
		if leaf {
			return false, 0, 0
		}
		psegs = s.segs
		s.segs++
		return true, 0, psegs
	}
	if bytes.ContainsAny(key, pathSpecial) {
		s.esc = escapeSeg(s.esc[:0], key)
		key = s.esc
	}
	if leaf {
		s.paths.addLeaf(s.path, key, false, typeOf(c))
		return false, 0, 0
	}
	plen, psegs = s.enter(key, false)
	return true, plen, psegs
}

// unquote decodes a quoted key that holds escapes (already validated by str).
func unquote(quoted []byte) []byte {
	var k string
	if err := json.Unmarshal(quoted, &k); err != nil {
		return quoted
	}
	return []byte(k)
}

// element copies one array element, recording its paths (once per shape) for ScrubPaths.
func (s *scrubber) element(depth int, shapes *arrayShapes) error {
	if s.paths == nil {
		return s.value(depth)
	}
	if s.segs >= MaxPathSegments || s.pos >= len(s.in) {
		return s.value(depth)
	}
	if s.shape {
		return s.elementShape(depth, shapes)
	}
	start := len(s.paths.tok)
	var err error
	if c := s.in[s.pos]; c != '{' && c != '[' {
		s.paths.addLeaf(s.path, elemsSeg, true, typeOf(c))
		err = s.value(depth)
	} else {
		plen, psegs := s.enter(elemsSeg, true)
		err = s.value(depth)
		s.leave(plen, psegs)
	}
	s.dedupe(shapes, start)
	return err
}

// escapedKind classifies a key that holds escapes (quoted, as in the input) by what it
// decodes to.
func escapedKind(quoted []byte) (keyKind, error) {
	var k string
	if err := json.Unmarshal(quoted, &k); err != nil {
		return notSecret, errBadJSON
	}
	return kindOf([]byte(k)), nil
}

// next reads what follows a member or an element: a comma (closed false) or the closing
// byte, which it copies to out (closed true).
func (s *scrubber) next(closing byte) (closed bool, err error) {
	s.ws()
	if s.pos >= len(s.in) {
		return false, errBadJSON
	}
	switch s.in[s.pos] {
	case ',':
		s.pos++
		return false, nil
	case closing:
		s.pos++
		s.out = append(s.out, closing)
		return true, nil
	}
	return false, errBadJSON
}

// array copies one array to out, scrubbing its elements.
func (s *scrubber) array(depth int) error {
	s.pos++ // [
	s.out = append(s.out, '[')
	s.ws()
	if s.pos < len(s.in) && s.in[s.pos] == ']' {
		s.pos++
		s.out = append(s.out, ']')
		return nil
	}
	var shapes arrayShapes
	for {
		s.ws()
		if err := s.element(depth+1, &shapes); err != nil {
			return err
		}
		closed, err := s.next(']')
		if err != nil || closed {
			return err
		}
		s.out = append(s.out, ',')
	}
}
