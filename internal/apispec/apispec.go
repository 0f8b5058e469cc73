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
	var out []Example
	for p, ops := range doc.Paths {
		for _, rawOp := range ops {
			var op struct {
				OperationID string `json:"operationId"`
				Responses   map[string]struct {
					Content map[string]struct {
						Schema   json.RawMessage `json:"schema"`
						Example  json.RawMessage `json:"example"`
						Examples map[string]struct {
							Value json.RawMessage `json:"value"`
						} `json:"examples"`
					} `json:"content"`
				} `json:"responses"`
			}
			if json.Unmarshal(rawOp, &op) != nil || op.OperationID != operationID {
				continue
			}
			for code, r := range op.Responses {
				status, err := strconv.Atoi(code)
				if err != nil || status < 200 || status > 299 {
					continue
				}
				for mt, c := range r.Content {
					ex := Example{Document: document, Path: p, OperationID: operationID, Status: status, MediaType: mt}
					if len(c.Example) > 0 {
						e := ex
						e.Body = c.Example
						out = append(out, e)
					}
					// Some operations put the example inside the schema (schema.example).
					var sch struct {
						Example json.RawMessage `json:"example"`
						Items   struct {
							Example json.RawMessage `json:"example"`
						} `json:"items"`
					}
					if len(c.Schema) > 0 && json.Unmarshal(c.Schema, &sch) == nil {
						if len(sch.Example) > 0 {
							e := ex
							e.Name = "schema.example"
							e.Body = sch.Example
							out = append(out, e)
						}
						if len(sch.Items.Example) > 0 {
							e := ex
							e.Name = "schema.items.example"
							e.Body = sch.Items.Example
							out = append(out, e)
						}
					}
					for name, v := range c.Examples {
						e := ex
						e.Name = name
						e.Body = v.Value
						out = append(out, e)
					}
				}
			}
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("apispec: %s has no 2xx response example for operation %q", document, operationID)
	}
	slices.SortFunc(out, func(a, b Example) int {
		if a.Status != b.Status {
			return a.Status - b.Status
		}
		if a.MediaType != b.MediaType {
			return compare(a.MediaType, b.MediaType)
		}
		return compare(a.Name, b.Name)
	})
	return out, nil
}

func compare(a, b string) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}
