// Package apispec holds the official Engage Voice (RingCX) OpenAPI documents and sample
// responses, unmodified, so that tests can hold the client and the fake to them: the spec's
// examples are decoded and mapped in golden tests, and the fake's responses and the client's
// requests are validated against the operations (see Load and the overrides in overrides.go).
//
// The files under official/ are copied from ringcentral/engage-voice-api-docs (MIT, see
// official/LICENSE-engage-voice-api-docs): specs/engage-voice_openapi3.json (the current RingCX
// API), specs/engage-voice_openapi3_all.json (the older document that still has the /api/auth/*
// endpoints) and, under samples/, code-samples/agent-groups/response.json and
// code-samples/auth/rc-auth-response.json / rc-auth-refresh-response.json. Only tests import
// this package.
package apispec

import (
	"cmp"
	"embed"
	"encoding/json"
	"fmt"
	"io/fs"
	"path"
	"slices"
	"strconv"
)

//go:embed official
var files embed.FS

// The embedded documents.
const (
	// Admin is the current RingCX API document (admin, integration and reporting endpoints).
	Admin = "engage-voice_openapi3.json"
	// All is the older "Engage Voice API" document, the only one with /api/auth/* (exchange,
	// refresh, logout).
	All = "engage-voice_openapi3_all.json"
)

// Raw returns an embedded file of official/ by name ("engage-voice_openapi3.json",
// "samples/agent-groups_response.json", ...).
func Raw(name string) ([]byte, error) {
	b, err := fs.ReadFile(files, path.Join("official", name))
	if err != nil {
		return nil, fmt.Errorf("apispec: reading %s: %w", name, err)
	}
	return b, nil
}

// Samples lists the sample response files (names for Raw), sorted.
func Samples() []string {
	entries, _ := fs.ReadDir(files, "official/samples")
	var out []string
	for _, e := range entries {
		out = append(out, "samples/"+e.Name())
	}
	slices.Sort(out)
	return out
}

// Example is one example body of an operation's response in a document.
type Example struct {
	Document    string // Admin or All
	Path        string // the operation's path template
	OperationID string
	Status      int
	MediaType   string
	Name        string          // the example's name for "examples" maps, "" for "example"
	Body        json.RawMessage // the example value, as JSON
}

// ResponseExamples returns every example of a successful (2xx) response of the operation with
// the given id, in the named document, in a stable order.
func ResponseExamples(document, operationID string) ([]Example, error) {
	paths, err := documentPaths(document)
	if err != nil {
		return nil, err
	}
	var out []Example
	for p, ops := range paths {
		for _, rawOp := range ops {
			var op operation
			if json.Unmarshal(rawOp, &op) != nil || op.OperationID != operationID {
				continue
			}
			base := Example{Document: document, Path: p, OperationID: operationID}
			out = appendResponseExamples(out, base, op.Responses)
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("apispec: %s has no 2xx response example for operation %q", document, operationID)
	}
	slices.SortFunc(out, func(a, b Example) int {
		return cmp.Or(cmp.Compare(a.Status, b.Status), cmp.Compare(a.MediaType, b.MediaType), cmp.Compare(a.Name, b.Name))
	})
	return out, nil
}

// documentPaths decodes the paths of the named document: per path template, per method, the
// raw operation.
func documentPaths(document string) (map[string]map[string]json.RawMessage, error) {
	raw, err := Raw(document)
	if err != nil {
		return nil, err
	}
	var doc struct {
		Paths map[string]map[string]json.RawMessage `json:"paths"`
	}
	if err := json.Unmarshal(raw, &doc); err != nil {
		return nil, fmt.Errorf("apispec: decoding %s: %w", document, err)
	}
	return doc.Paths, nil
}

// operation is the part of an OpenAPI operation ResponseExamples reads.
type operation struct {
	OperationID string                      `json:"operationId"`
	Responses   map[string]responseExamples `json:"responses"`
}

// responseExamples is the part of a response ResponseExamples reads: its content by media type.
type responseExamples struct {
	Content map[string]mediaExamples `json:"content"`
}

// mediaExamples is the part of a response's media type ResponseExamples reads: its examples.
type mediaExamples struct {
	Schema   json.RawMessage `json:"schema"`
	Example  json.RawMessage `json:"example"`
	Examples map[string]struct {
		Value json.RawMessage `json:"value"`
	} `json:"examples"`
}

// appendResponseExamples appends to out the examples of the successful (2xx) responses, each
// a copy of base with its status, media type, name and body.
func appendResponseExamples(out []Example, base Example, responses map[string]responseExamples) []Example {
	for code, r := range responses {
		status, err := strconv.Atoi(code)
		if err != nil || status < 200 || status > 299 {
			continue
		}
		for mt, c := range r.Content {
			ex := base
			ex.Status, ex.MediaType = status, mt
			out = appendMediaExamples(out, ex, c)
		}
	}
	return out
}

// appendMediaExamples appends to out the examples of one media type of a response, as copies
// of ex: its "example", the schema's (some operations put it there: "schema.example",
// "schema.items.example"), then each of its "examples" by name.
func appendMediaExamples(out []Example, ex Example, c mediaExamples) []Example {
	add := func(name string, body json.RawMessage) {
		e := ex
		e.Name, e.Body = name, body
		out = append(out, e)
	}
	if len(c.Example) > 0 {
		add("", c.Example)
	}
	var sch struct {
		Example json.RawMessage `json:"example"`
		Items   struct {
			Example json.RawMessage `json:"example"`
		} `json:"items"`
	}
	if len(c.Schema) > 0 && json.Unmarshal(c.Schema, &sch) == nil {
		if len(sch.Example) > 0 {
			add("schema.example", sch.Example)
		}
		if len(sch.Items.Example) > 0 {
			add("schema.items.example", sch.Items.Example)
		}
	}
	for name, v := range c.Examples {
		add(name, v.Value)
	}
	return out
}
