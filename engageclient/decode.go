package engageclient

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"reflect"

	"github.com/evsync/evsync/internal/secretjson"
)

// object. A member whose value cannot be decoded is named: "agentId: parsing integer …".
func unmarshalObject(b []byte, w any, what string) error {
	b = bytes.TrimSpace(b)
	if len(b) == 0 || b[0] != '{' {
		return fmt.Errorf("expected a JSON object (%s), got %s", what, jsonKind(b))
	}
	if err := json.Unmarshal(b, w); err != nil {
		return nameField(b, w, err)
	}
	return nil
}

// nameField finds the member of object b whose value made decoding it into w fail (err) by
// decoding each member alone into a fresh value of w's type, and returns that member's error
// prefixed with its key. It runs only on the error path; when no single member fails, err is
// returned as it is.
func nameField(b []byte, w any, err error) error {
	t := reflect.TypeOf(w)
	if t.Kind() != reflect.Pointer {
		return err
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	if tok, e := dec.Token(); e != nil || tok != json.Delim('{') {
		return err
	}
	for dec.More() {
		tok, e := dec.Token()
		if e != nil {
			return err
		}
		key, _ := tok.(string)
		var v json.RawMessage
		if e := dec.Decode(&v); e != nil {
			return err
		}
		one, e := json.Marshal(map[string]json.RawMessage{key: v})
		if e != nil {
			return err
		}
		if e := json.Unmarshal(one, reflect.New(t.Elem()).Interface()); e != nil {
			return fmt.Errorf("%s: %w", key, e)
		}
	}
	return err
}

func jsonKind(b []byte) string {
	if len(b) == 0 {
		return "nothing"
	}
	switch c := b[0]; {
	case c == '{':
		return "an object"
	case c == '[':
		return "an array"
	case c == '"':
		return "a string"
	case c == 'n':
		return "null"
	case c == 't', c == 'f':
		return "a boolean"
	case c == '-', c >= '0' && c <= '9':
		return "a number"
	case c == '<':
		return "markup (an HTML or XML page), not JSON"
	default:
		return "text that is not JSON"
	}
}

// span is a JSON value kept as the slice of the input it was decoded from, not a copy:
// encoding/json hands UnmarshalJSON a slice of the input, which stays valid while the input
// does. It lets a decoder look at a large member (a user's children) without copying it.
type span []byte

// UnmarshalJSON implements json.Unmarshaler.
func (s *span) UnmarshalJSON(b []byte) error {
	*s = b
	return nil
}

// withoutMember returns a copy of object b without the member whose value is v, a span of b;
// b itself when v is empty or not a slice of b. The object must be valid JSON.
func withoutMember(b []byte, v span) []byte {
	if len(v) == 0 {
		return b
	}
	start := cap(b) - cap(v) // v is b[start:start+len(v)] when it is a slice of b
	if start < 0 || start+len(v) > len(b) || &b[start] != &v[0] {
		return b
	}
	end := start + len(v)
	i := start - 1
	back := func() {
		for i >= 0 && (b[i] == ' ' || b[i] == '\t' || b[i] == '\n' || b[i] == '\r') {
			i--
		}
	}
	back()
	if i < 0 || b[i] != ':' {
		return b
	}
	i--
	back()
	if i < 0 || b[i] != '"' {
		return b
	}
	i--
	for i >= 0 && (b[i] != '"' || (i > 0 && b[i-1] == '\\')) {
		i--
	}
	if i < 0 {
		return b
	}
	keyStart := i
	i--
	back()
	if i < 0 {
		return b
	}
	out := make([]byte, 0, len(b)-(end-keyStart))
	switch b[i] {
	case ',': // a later member: drop ", key: value"
		out = append(append(out, b[:i]...), b[end:]...)
	case '{': // the first member: drop "key: value" and the comma after it, if any
		j := end
		for j < len(b) && (b[j] == ' ' || b[j] == '\t' || b[j] == '\n' || b[j] == '\r') {
			j++
		}
		if j < len(b) && b[j] == ',' {
			j++
		}
		out = append(append(out, b[:keyStart]...), b[j:]...)
	default:
		return b
	}
	return out
}

// rawOf returns a copy of the object b for an item's Raw. A value nested deeper than the
// database takes (secretjson.MaxDepth containers) is an error naming its top-level member, so
// that only its item fails (nothing upstream can fail more than its own scope).
func rawOf(b []byte) (json.RawMessage, error) {
	b = bytes.TrimSpace(b)
	if err := checkDepth(b, secretjson.MaxDepth); err != nil {
		return nil, err
	}
	return json.RawMessage(bytes.Clone(b)), nil
}

// checkDepth reports an error naming the top-level member of the valid JSON value b that holds
// more than limit nested objects and arrays (b itself counts as one).
func checkDepth(b []byte, limit int) error {
	if len(b) <= 2*limit {
		return nil // limit+1 containers need at least 2*(limit+1) bytes
	}
	depth := 0
	var strStart, keyStart, keyEnd, lastStart, lastEnd int
	for i := 0; i < len(b); i++ {
		switch b[i] {
		case '"':
			strStart = i
			for i++; i < len(b) && b[i] != '"'; i++ {
				if b[i] == '\\' {
					i++
				}
			}
			if depth == 1 {
				lastStart, lastEnd = strStart, i+1
			}
		case ':':
			if depth == 1 {
				keyStart, keyEnd = lastStart, lastEnd
			}
		case '{', '[':
			depth++
			if depth > limit {
				field := "value"
				if keyEnd > keyStart {
					var k string
					if json.Unmarshal(b[keyStart:keyEnd], &k) == nil {
						field = k
					}
				}
				return fmt.Errorf("%s: nested deeper than %d levels", field, limit)
			}
		case '}', ']':
			depth--
		}
	}
	return nil
}

// decodeList decodes a bare JSON array of T, the documented shape of every listing
// (engage-api.md §0.6; null gives an empty list). Any other body, an error object sent with a
// 200 included, is an error for the listing, never an empty list. An item that cannot be
// decoded is left out and reported in an *ItemsError, returned with the others. n is the
// number of items the array held (null elements and bad items included), for paging.
func decodeList[T any](body []byte) (items []*T, n int, err error) {
	body = bytes.TrimSpace(body)
	if len(body) == 0 {
		return nil, 0, fmt.Errorf("empty body")
	}
	if string(body) == "null" {
		return []*T{}, 0, nil
	}
	if body[0] == '{' {
		return nil, 0, objectBodyError(body)
	}
	if body[0] != '[' {
		return nil, 0, fmt.Errorf("expected a JSON array, got %s", jsonKind(body))
	}
	// The common case, every item good, decodes in one pass (item by item costs about 1.4×:
	// BenchmarkDecodeAgentsPage); only a listing with a bad item is decoded again, one item at
	// a time, to keep the others.
	var all []*T
	if err := json.Unmarshal(body, &all); err == nil {
		kept := make([]*T, 0, len(all))
		for _, v := range all {
			if v != nil {
				kept = append(kept, v) // a null element is no item
			}
		}
		return kept, len(all), nil
	}
	var raws []json.RawMessage
	if err := json.Unmarshal(body, &raws); err != nil {
		return nil, 0, err
	}
	out := make([]*T, 0, len(raws))
	var bad []ItemError
	for i, raw := range raws {
		if string(bytes.TrimSpace(raw)) == "null" {
			continue // a null element is no item
		}
		v := new(T)
		if err := json.Unmarshal(raw, v); err != nil {
			bad = append(bad, ItemError{Index: i, Err: err})
			continue
		}
		out = append(out, v)
	}
	if len(bad) > 0 {
		return out, len(raws), &ItemsError{Items: bad}
	}
	return out, len(raws), nil
}

// objectBodyError describes an object sent where a listing's array belongs: the API's error
// object (engage-api.md §4: generalMessage, validationErrors, …) says so with its message.
func objectBodyError(body []byte) error {
	var e struct {
		ErrorCode      string `json:"errorCode"`
		GeneralMessage string `json:"generalMessage"`
	}
	if json.Unmarshal(body, &e) == nil && (e.GeneralMessage != "" || e.ErrorCode != "") {
		return fmt.Errorf("expected a JSON array, got an error object: %q", cmp.Or(e.GeneralMessage, e.ErrorCode))
	}
	return fmt.Errorf("expected a JSON array, got an object")
}

// list GETs one admin API listing (path as for newURL, with ids) and decodes the bare array.
// When some items cannot be decoded, the others are returned with a *DecodeError wrapping an
// *ItemsError.
func list[T any](ctx context.Context, c *Client, path string, q url.Values, ids ...string) ([]*T, *Response, error) {
	items, _, resp, err := listPage[T](ctx, c, path, q, ids...)
	return items, resp, err
}

// listPage is list, also returning how many items the array held (for paging).
func listPage[T any](ctx context.Context, c *Client, path string, q url.Values, ids ...string) ([]*T, int, *Response, error) {
	r := &request{method: http.MethodGet, url: newURL(c.engageBase, path, q, ids...)}
	httpResp, body, err := c.do(ctx, r)
	var resp *Response
	if httpResp != nil {
		resp = &Response{Response: httpResp, Pages: 1}
	}
	if err != nil {
		return nil, 0, resp, err
	}
	items, n, err := decodeList[T](body)
	if err != nil {
		return items, n, resp, &DecodeError{Endpoint: c.endpoint(r), Err: c.redactErr(err)}
	}
	return items, n, resp, nil
}
