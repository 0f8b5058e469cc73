package engageclient

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// Time is a tolerant timestamp. It decodes the Engage forms "2020-05-18T19:22:12.000+0000" and
// "…-0000", RFC 3339, a date-time without zone (taken as UTC), a bare date, epoch milliseconds
// (a JSON number) and a Joda-style object with a "millis" field. null and "" decode to
// Valid == false, and so does a value that is not a date at all (the spec types dates as an
// object; a value no layout reads is data to tolerate, not a reason to fail its listing: the
// object's Raw keeps what was sent). Decoded times are in UTC; they may lie outside the range
// a database can hold (a millis of -2^53 is about 285,000 BC).
type Time struct {
	time.Time
	Valid bool
}

// timeLayouts are tried in order; Go accepts a fractional second after the seconds field even
// when the layout has none.
var timeLayouts = []string{
	"2006-01-02T15:04:05Z0700",
	time.RFC3339,
	"2006-01-02T15:04:05Z07",
	"2006-01-02T15:04:05",
	"2006-01-02 15:04:05Z0700",
	"2006-01-02 15:04:05Z07:00",
	"2006-01-02 15:04:05",
	"2006-01-02",
}

// ParseTime parses s with the layouts Time accepts; "" gives a zero, invalid Time.
func ParseTime(s string) (Time, error) {
	s = strings.TrimSpace(s)
	if s == "" || s == "null" {
		return Time{}, nil
	}
	for _, layout := range timeLayouts {
		if t, err := time.Parse(layout, s); err == nil {
			return Time{Time: t.UTC(), Valid: true}, nil
		}
	}
	return Time{}, fmt.Errorf("parsing time %s: unknown format", quoteValue(s))
}

// UnmarshalJSON implements json.Unmarshaler. It never fails on valid JSON: what it cannot read
// as a date gives Valid == false.
func (t *Time) UnmarshalJSON(b []byte) error {
	v, err := parseTimeJSON(b)
	if err != nil {
		v = Time{}
	}
	*t = v
	return nil
}

// parseTimeJSON reads one JSON value as a Time.
func parseTimeJSON(b []byte) (Time, error) {
	b = bytes.TrimSpace(b)
	switch {
	case len(b) == 0 || string(b) == "null":
		return Time{}, nil
	case b[0] == '"':
		s, err := unquote(b)
		if err != nil {
			return Time{}, err
		}
		if ms, err := strconv.ParseInt(strings.TrimSpace(s), 10, 64); err == nil && len(strings.TrimSpace(s)) >= 10 {
			return Time{Time: time.UnixMilli(ms).UTC(), Valid: true}, nil
		}
		return ParseTime(s)
	case b[0] == '{':
		var obj struct {
			Millis *json.Number `json:"millis"`
		}
		if err := json.Unmarshal(b, &obj); err != nil {
			return Time{}, err
		}
		if obj.Millis == nil {
			return Time{}, fmt.Errorf("parsing time object: no millis field")
		}
		return parseTimeJSON([]byte(obj.Millis.String()))
	default:
		ms, err := parseJSONInt(b)
		if err != nil {
			return Time{}, fmt.Errorf("parsing time: %w", err)
		}
		return Time{Time: time.UnixMilli(ms).UTC(), Valid: true}, nil
	}
}

// MarshalJSON implements json.Marshaler: RFC 3339 with nanoseconds, or null when !Valid.
func (t Time) MarshalJSON() ([]byte, error) {
	if !t.Valid {
		return []byte("null"), nil
	}
	return json.Marshal(t.Format(time.RFC3339Nano))
}

// Ptr returns a pointer to the time, or nil when the value is not Valid.
func (t Time) Ptr() *time.Time { return ptrIf(t.Time, t.Valid) }

// nullInt64 is a tolerant, nullable integer: a JSON number (integral), a numeric string, null or ""
// (the last two give Valid == false). IDs arrive in both forms.
type nullInt64 struct {
	Int64 int64
	Valid bool
}

// UnmarshalJSON implements json.Unmarshaler.
func (n *nullInt64) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if len(b) == 0 || string(b) == "null" {
		*n = nullInt64{}
		return nil
	}
	if b[0] == '"' {
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		s = strings.TrimSpace(s)
		if s == "" {
			*n = nullInt64{}
			return nil
		}
		b = []byte(s)
	}
	v, err := parseJSONInt(b)
	if err != nil {
		return err
	}
	*n = nullInt64{Int64: v, Valid: true}
	return nil
}

// MarshalJSON implements json.Marshaler.
func (n nullInt64) MarshalJSON() ([]byte, error) {
	if !n.Valid {
		return []byte("null"), nil
	}
	return strconv.AppendInt(nil, n.Int64, 10), nil
}

// Ptr returns a pointer to the value, or nil when not Valid.
func (n nullInt64) Ptr() *int64 { return ptrIf(n.Int64, n.Valid) }

// parseJSONInt parses an integer written as a JSON number ("12", "12.0", "1.2e3").
func parseJSONInt(b []byte) (int64, error) {
	s := string(b)
	v, err := strconv.ParseInt(s, 10, 64)
	if err == nil {
		return v, nil
	}
	if errors.Is(err, strconv.ErrRange) {
		return 0, fmt.Errorf("parsing integer %s: out of range", quoteValue(s))
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
		return 0, fmt.Errorf("parsing integer %s: not a number", quoteValue(s))
	}
	if f != math.Trunc(f) {
		return 0, fmt.Errorf("parsing integer %s: not an integer", quoteValue(s))
	}
	// float64(math.MaxInt64) rounds up to 2^63, so the bounds are 2^63 exclusive and -2^63
	// inclusive: a value out of range must fail (its item), not wrap around.
	if f >= 0x1p63 || f < -0x1p63 {
		return 0, fmt.Errorf("parsing integer %s: out of range", quoteValue(s))
	}
	return int64(f), nil
}

// nullID is a tolerant identifier that decodes from a JSON string or a JSON number and is kept as
// its decimal string (Engage account ids are numeric strings, sometimes sent as numbers).
// null and "" give Valid == false.
type nullID struct {
	String string
	Valid  bool
}

// UnmarshalJSON implements json.Unmarshaler.
func (id *nullID) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	switch {
	case len(b) == 0 || string(b) == "null":
		*id = nullID{}
		return nil
	case b[0] == '"':
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		s = strings.TrimSpace(s)
		*id = nullID{String: s, Valid: s != ""}
		return nil
	default:
		v, err := parseJSONInt(b)
		if err != nil {
			return fmt.Errorf("parsing id: %w", err)
		}
		*id = nullID{String: strconv.FormatInt(v, 10), Valid: true}
		return nil
	}
}

// Ptr returns a pointer to the string, or nil when not Valid.
func (id nullID) Ptr() *string { return ptrIf(id.String, id.Valid) }

// nullBool is a tolerant, nullable boolean: true/false, "true"/"false", 1/0, "1"/"0"; null and ""
// give Valid == false.
type nullBool struct {
	Bool  bool
	Valid bool
}

// UnmarshalJSON implements json.Unmarshaler.
func (v *nullBool) UnmarshalJSON(b []byte) error {
	s := strings.TrimSpace(string(b))
	if len(s) > 0 && s[0] == '"' {
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		s = strings.TrimSpace(s)
	}
	switch strings.ToLower(s) {
	case "", "null":
		*v = nullBool{}
	case "true", "1", "y", "yes":
		*v = nullBool{Bool: true, Valid: true}
	case "false", "0", "n", "no":
		*v = nullBool{Bool: false, Valid: true}
	default:
		return fmt.Errorf("parsing boolean %s: not a boolean", quoteValue(s))
	}
	return nil
}

// Ptr returns a pointer to the value, or nil when not Valid.
func (v nullBool) Ptr() *bool { return ptrIf(v.Bool, v.Valid) }

// looseBool is a nullBool that never fails on valid JSON: what nullBool reads (true/false,
// 1/0, "1"/"0", …) it reads, and anything else (2, "maybe", an object) gives Valid == false,
// the object's Raw keeping what was sent. For a flag the spec types as an integer
// (Campaign.isActive), where a value other than 0 or 1 is data to tolerate, not a reason to
// fail the object.
type looseBool struct{ nullBool }

// UnmarshalJSON implements json.Unmarshaler.
func (v *looseBool) UnmarshalJSON(b []byte) error {
	if err := v.nullBool.UnmarshalJSON(b); err != nil {
		v.nullBool = nullBool{}
	}
	return nil
}

// nullStr is a tolerant, nullable string: a JSON string, or a number or boolean kept as its text.
// null gives Valid == false; "" is a valid empty string.
type nullStr struct {
	String string
	Valid  bool
}

// UnmarshalJSON implements json.Unmarshaler.
func (v *nullStr) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	switch {
	case len(b) == 0 || string(b) == "null":
		*v = nullStr{}
		return nil
	case b[0] == '"':
		s, err := unquote(b)
		if err != nil {
			return err
		}
		*v = nullStr{String: s, Valid: true}
		return nil
	case b[0] == '{' || b[0] == '[':
		return fmt.Errorf("parsing string: got a JSON %s", map[byte]string{'{': "object", '[': "array"}[b[0]])
	default:
		if !json.Valid(b) {
			return fmt.Errorf("parsing string: invalid JSON value")
		}
		*v = nullStr{String: string(b), Valid: true}
		return nil
	}
}

// unquote decodes the JSON string b. A string without escapes, the common case, is its bytes
// between the quotes (a valid JSON string holds no raw quote or control character), which
// spares a full decode per field of the largest answers; unless they are not valid UTF-8,
// which the full decode repairs (U+FFFD), as Postgres needs.
func unquote(b []byte) (string, error) {
	if len(b) >= 2 && b[0] == '"' && b[len(b)-1] == '"' && bytes.IndexByte(b[1:len(b)-1], '\\') < 0 &&
		bytes.IndexByte(b[1:len(b)-1], '"') < 0 && utf8.Valid(b[1:len(b)-1]) {
		return string(b[1 : len(b)-1]), nil
	}
	var s string
	err := json.Unmarshal(b, &s)
	return s, err
}

// Ptr returns a pointer to the string, or nil when not Valid.
func (v nullStr) Ptr() *string { return ptrIf(v.String, v.Valid) }

// quoteValue shows a rejected value in an error only when it is short and made of characters
// that dates and numbers use; anything else (which might be a credential in the wrong field)
// is described by its length alone.
func quoteValue(s string) string {
	if len(s) <= 40 && strings.Trim(s, "0123456789+-.:TZ eE/") == "" {
		return strconv.Quote(s)
	}
	return fmt.Sprintf("(%d bytes)", len(s))
}

// ptrIf returns a pointer to a copy of v when ok, else nil: the Ptr of every nullable type.
func ptrIf[T any](v T, ok bool) *T {
	if !ok {
		return nil
	}
	return &v
}
