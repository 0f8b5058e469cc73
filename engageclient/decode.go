package engageclient

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"reflect"
	"strconv"

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
// (docs/api.md, Response bodies; null gives an empty list). Any other body, an error object sent with a
// 200 included, is an error for the listing, never an empty list. An item that cannot be
// decoded is left out and reported in an *ItemsError, returned with the others, and so is a
// child a returned item left out (childErrorer). n is the number of items the array held
// (null elements and bad items included), for paging.
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
	if err := json.Unmarshal(body, &all); err != nil {
		return decodeEach[T](body)
	}
	kept := make([]*T, 0, len(all))
	var bad []ItemError
	for i, v := range all {
		if v != nil { // a null element is no item
			kept = append(kept, v)
			bad = appendChildErrors(bad, i, v)
		}
	}
	return kept, len(all), itemsError(bad)
}

// decodeEach is decodeList's path for an array with a bad item: each item is decoded alone,
// and the ones that fail are reported in an *ItemsError.
func decodeEach[T any](body []byte) ([]*T, int, error) {
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
		bad = appendChildErrors(bad, i, v)
	}
	return out, len(raws), itemsError(bad)
}

// itemsError is an *ItemsError of bad, or nil (a nil error, not a nil *ItemsError) when bad is
// empty.
func itemsError(bad []ItemError) error {
	if len(bad) == 0 {
		return nil
	}
	return &ItemsError{Items: bad}
}

// childErrorer is an item with children of its own (a queue group's gates, a dial group's
// campaigns) that decodes past a child it cannot decode: the item keeps its other children,
// and the listing reports the ones it left out, which takeChildErrors hands over (once).
type childErrorer interface {
	takeChildErrors() []childError
}

// childError is a child an item left out: child names it as ItemError.Child does.
type childError struct {
	child string
	err   error
}

// appendChildErrors appends to bad the children item v (index i of its listing) left out.
func appendChildErrors[T any](bad []ItemError, i int, v *T) []ItemError {
	ce, ok := any(v).(childErrorer)
	if !ok {
		return bad
	}
	for _, c := range ce.takeChildErrors() {
		bad = append(bad, ItemError{Index: i, Child: c.child, Err: c.err})
	}
	return bad
}

// decodeChildren decodes an item's member that holds an array of children (v, from a span
// field; member is its key, for errors). Absent, null and [] give no children, and a null
// element is skipped; an element that cannot be decoded is left out and reported as
// member[i], and a value that is not an array as the member itself, so that the item still
// decodes, with the children that did.
func decodeChildren[T any](v span, member string) ([]*T, []childError) {
	out := []*T{}
	b := bytes.TrimSpace(v)
	if len(b) == 0 || string(b) == "null" {
		return out, nil
	}
	if b[0] != '[' {
		return out, []childError{{member, fmt.Errorf("expected a JSON array, got %s", jsonKind(b))}}
	}
	var elems []span
	if err := json.Unmarshal(b, &elems); err != nil {
		return out, []childError{{member, err}}
	}
	var bad []childError
	for i, e := range elems {
		if string(bytes.TrimSpace(e)) == "null" {
			continue
		}
		c := new(T)
		if err := json.Unmarshal(e, c); err != nil {
			bad = append(bad, childError{fmt.Sprintf("%s[%d]", member, i), err})
			continue
		}
		out = append(out, c)
	}
	return out, bad
}

// objectBodyError describes an object sent where a listing's array belongs: the API's error
// object (docs/api.md: generalMessage, validationErrors, …) says so with its message.
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
	items, _, resp, err := listPage[T](ctx, c, c.getRequest(path, q, ids...))
	return items, resp, err
}

// getRequest is the admin API GET of path (as for newURL, with ids) and query q.
func (c *Client) getRequest(path string, q url.Values, ids ...string) *request {
	return &request{method: http.MethodGet, url: newURL(c.engageBase, path, q, ids...)}
}

// listPage sends the admin API request r (a listing's GET, or a search with a JSON body)
// through do and decodes the bare array it answers, also returning how many items the array
// held (for paging). When some items cannot be decoded, the others are returned with a
// *DecodeError wrapping an *ItemsError.
func listPage[T any](ctx context.Context, c *Client, r *request) ([]*T, int, *Response, error) {
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

// listing names one admin API listing for listPaged.
type listing struct {
	what string   // the listing in errors: "listing agent groups of sub-account 20001"
	path string   // as for newURL, a {} for each id
	ids  []string // the path's ids, escaped by newURL
}

// listPaged GETs a listing that takes page and maxRows. With opts nil or opts.MaxRows <= 0 it
// sends one request without them (the full list: docs/api.md, Paging). Otherwise it requests page
// opts.Page, opts.Page+1, … with maxRows=opts.MaxRows until a page comes back shorter than
// MaxRows. page is taken as 0-based, with MaxRows items a page in one order on every request:
// a page that repeats an item of an earlier page (by key) proves otherwise (a server that
// ignores page, counts it from 1, repeats a page or changes its order), and the listing fails
// with ErrPagingNotAsAssumed, returning no items, since it cannot be known to be complete; an
// item repeated within one page is returned once. A listing of more than
// Config.MaxListingRows items fails with ErrListingTooLong. Item errors do not end the
// listing: the first is returned with all the items. Any other error does, and Response.Pages
// counts the pages read before it.
func listPaged[T any](ctx context.Context, c *Client, l listing, opts *ListOptions, key func(*T) int64) ([]*T, *Response, error) {
	if opts == nil || opts.MaxRows <= 0 {
		items, n, resp, err := listPage[T](ctx, c, c.getRequest(l.path, nil, l.ids...))
		// n counts the bad items too, as the pages' rows do.
		if (err == nil || errors.As(err, new(*ItemsError))) && n > c.cfg.MaxListingRows {
			err = fmt.Errorf("%s: %s: %w", c.redact(resp.Endpoint()), c.tooLong(), ErrListingTooLong)
			items = nil
		}
		if err != nil {
			return items, resp, fmt.Errorf("%s: %w", l.what, err)
		}
		return items, resp, nil
	}
	p := pager[T]{key: key, seen: map[int64]int{}, all: []*T{}}
	for page := max(opts.Page, 0); ; page++ {
		q := url.Values{"page": {strconv.Itoa(page)}, "maxRows": {strconv.Itoa(opts.MaxRows)}}
		items, n, resp, err := listPage[T](ctx, c, c.getRequest(l.path, q, l.ids...))
		if resp != nil {
			p.last = resp
		}
		var ie *ItemsError
		if err != nil && !errors.As(err, &ie) {
			if p.last != nil {
				p.last.Pages = p.pages
			}
			return nil, p.last, fmt.Errorf("%s (page %d): %w", l.what, page, err)
		}
		if err != nil && p.itemErr == nil {
			p.itemErr = fmt.Errorf("%s (page %d): %w", l.what, page, err)
		}
		p.pages++
		p.last.Pages = p.pages
		// n counts the bad items too: they take their places on the page.
		p.rows += n
		if repeated, ok := p.add(items); !ok {
			return nil, p.last, fmt.Errorf("%s (page %d): %s: id %d was on an earlier page: %w",
				l.what, page, c.redact(p.last.Endpoint()), repeated, ErrPagingNotAsAssumed)
		}
		if p.rows > c.cfg.MaxListingRows {
			return nil, p.last, fmt.Errorf("%s (page %d): %s: %s: %w", l.what, page, c.redact(p.last.Endpoint()), c.tooLong(), ErrListingTooLong)
		}
		if n < opts.MaxRows {
			break
		}
	}
	return p.all, p.last, p.itemErr
}

// tooLong says why a listing failed with ErrListingTooLong.
func (c *Client) tooLong() string {
	return fmt.Sprintf("more than %d items (engage.max_listing_rows)", c.cfg.MaxListingRows)
}

// pager collects the pages of one listPaged call.
type pager[T any] struct {
	key     func(*T) int64
	seen    map[int64]int // the page (counted from 1, as pages) each key was first on
	all     []*T
	last    *Response // the last page's response
	pages   int
	rows    int   // the items of the pages read, bad ones included
	itemErr error // the first page's item errors
}

// add appends the items of page p.pages, an item repeated within it once. When an item's key
// was on an earlier page it returns that key and false, and the caller fails the listing.
func (p *pager[T]) add(items []*T) (int64, bool) {
	for _, v := range items {
		k := p.key(v)
		switch p.seen[k] {
		case 0:
			p.seen[k] = p.pages
			p.all = append(p.all, v)
		case p.pages: // repeated within this page
		default:
			return k, false
		}
	}
	return 0, true
}
