package engageclient

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
)

// object.
func unmarshalObject(b []byte, w any, what string) error {
	b = bytes.TrimSpace(b)
	if len(b) == 0 || b[0] != '{' {
		return fmt.Errorf("expected a JSON object (%s), got %s", what, jsonKind(b))
	}
	return json.Unmarshal(b, w)
}

func jsonKind(b []byte) string {
	if len(b) == 0 {
		return "nothing"
	}
	switch b[0] {
	case '{':
		return "an object"
	case '[':
		return "an array"
	case '"':
		return "a string"
	case 'n':
		return "null"
	case 't', 'f':
		return "a boolean"
	default:
		return "a number"
	}
}

func cloneRaw(b []byte) json.RawMessage {
	return json.RawMessage(bytes.Clone(bytes.TrimSpace(b)))
}

// decodeList decodes a bare JSON array of T (null gives an empty list). An item that cannot
// be decoded is left out and reported in an *ItemsError, returned with the others. n is the
// number of items the array held (null elements and bad items included), for paging. A JSON
// object body is accepted when it wraps exactly one array field (a defensive fallback for
// envelopes).
func decodeList[T any](body []byte) (items []*T, n int, err error) {
	body = bytes.TrimSpace(body)
	if len(body) == 0 {
		return nil, 0, fmt.Errorf("empty body")
	}
	switch body[0] {
	case 'n':
		if string(body) == "null" {
			return []*T{}, 0, nil
		}
	case '{':
		var env map[string]json.RawMessage
		if err := json.Unmarshal(body, &env); err != nil {
			return nil, 0, err
		}
		var arr json.RawMessage
		k := 0
		for _, v := range env {
			v = bytes.TrimSpace(v)
			if len(v) > 0 && v[0] == '[' {
				arr, k = v, k+1
			}
		}
		if k != 1 {
			return nil, 0, fmt.Errorf("expected a JSON array, got an object")
		}
		body = arr
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

// list GETs one admin API listing (path as for newURL, with ids) and decodes the bare array.
// When some items cannot be decoded, the others are returned with a *DecodeError wrapping an
// *ItemsError.
func list[T any](ctx context.Context, c *Client, path string, q url.Values, ids ...string) ([]*T, *Response, error) {
	items, _, resp, err := listPage[T](ctx, c, path, q, ids...)
	return items, resp, err
}

// listPage is list, also returning how many items the array held (for paging).
func listPage[T any](ctx context.Context, c *Client, path string, q url.Values, ids ...string) ([]*T, int, *Response, error) {
	r := &request{method: http.MethodGet, url: newURL(c.engageBase, path, q, ids...), api: true}
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
