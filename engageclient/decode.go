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
		return fmt.Errorf("decoding %s: expected a JSON object, got %s", what, jsonKind(b))
	}
	if err := json.Unmarshal(b, w); err != nil {
		return fmt.Errorf("decoding %s: %w", what, err)
	}
	return nil
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

// decodeList decodes a bare JSON array of T (null gives an empty list). A JSON object body is
// accepted when it wraps exactly one array field (a defensive fallback for envelopes).
func decodeList[T any](body []byte) ([]*T, error) {
	body = bytes.TrimSpace(body)
	if len(body) == 0 {
		return nil, fmt.Errorf("empty body")
	}
	switch body[0] {
	case 'n':
		if string(body) == "null" {
			return []*T{}, nil
		}
	case '{':
		var env map[string]json.RawMessage
		if err := json.Unmarshal(body, &env); err != nil {
			return nil, err
		}
		var arr json.RawMessage
		n := 0
		for _, v := range env {
			v = bytes.TrimSpace(v)
			if len(v) > 0 && v[0] == '[' {
				arr, n = v, n+1
			}
		}
		if n != 1 {
			return nil, fmt.Errorf("expected a JSON array, got an object")
		}
		body = arr
	}
	if body[0] != '[' {
		return nil, fmt.Errorf("expected a JSON array, got %s", jsonKind(body))
	}
	var out []*T
	if err := json.Unmarshal(body, &out); err != nil {
		return nil, err
	}
	// drop null elements
	kept := out[:0]
	for _, v := range out {
		if v != nil {
			kept = append(kept, v)
		}
	}
	if kept == nil {
		kept = []*T{}
	}
	return kept, nil
}

// list GETs one admin API listing and decodes the bare array.
func list[T any](ctx context.Context, c *Client, path string, q url.Values) ([]*T, *Response, error) {
	r := &request{method: http.MethodGet, url: newURL(c.engageBase, path, q), api: true}
	httpResp, body, err := c.do(ctx, r)
	var resp *Response
	if httpResp != nil {
		resp = &Response{Response: httpResp, Pages: 1}
	}
	if err != nil {
		return nil, resp, err
	}
	items, err := decodeList[T](body)
	if err != nil {
		return nil, resp, &DecodeError{Endpoint: c.endpoint(r), Err: c.redactErr(err)}
	}
	return items, resp, nil
}
