package apispec

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"reflect"
	"slices"
	"strings"

	"github.com/getkin/kin-openapi/openapi3"
)

// Operation is one operation of the document Load returns: an operation evsync calls, taken
// from one of the official documents.
type Operation struct {
	Document    string // Admin or All: the official document the operation comes from
	Method      string // "GET", "POST", "DELETE"
	Path        string // the path template, e.g. "/voice/api/v1/admin/accounts/{accountId}/agentGroups"
	OperationID string
}

// String names the operation the way validation errors do: "GET /voice/api/v1/admin/users
// (listAllUsers)".
func (o Operation) String() string { return o.Method + " " + o.Path + " (" + o.OperationID + ")" }

// Operations returns the operations of Load's document, in a fixed order: the nine admin
// listings engageclient calls (from Admin) and the three Engage auth endpoints (from All, the
// only document that has /api/auth/*).
func Operations() []Operation { return slices.Clone(operations) }

// adminListings are the admin listings engageclient calls, from Admin.
var adminListings = []Operation{
	{Admin, http.MethodGet, "/voice/api/v1/admin/accounts", "getAllAccounts"},
	{Admin, http.MethodGet, "/voice/api/v1/admin/users", "listAllUsers"},
	{Admin, http.MethodGet, "/voice/api/v1/admin/accounts/{accountId}/agentGroups", "getAgentGroupList"},
	{Admin, http.MethodGet, "/voice/api/v1/admin/accounts/{accountId}/agentGroups/{agentGroupId}/agents", "getAgentList"},
	{Admin, http.MethodGet, "/voice/api/v1/admin/accounts/{accountId}/gateGroups/withChildren", "getGateGroupListWithChildren"},
	{Admin, http.MethodGet, "/voice/api/v1/admin/accounts/{accountId}/gateGroups/{gateGroupId}/skills", "getList"},
	{Admin, http.MethodGet, "/voice/api/v1/admin/accounts/{accountId}/gateGroups/{gateGroupId}/gates/{gateId}/assignedAgents", "getAssignedAgentsForGate"},
	{Admin, http.MethodGet, "/voice/api/v1/admin/accounts/{accountId}/dialGroups/withChildren", "getDialGroupListWithChildren"},
	{Admin, http.MethodGet, "/voice/api/v1/admin/accounts/{accountId}/dialGroups/{dialGroupId}/assignedAgents", "getAgentsFromDialGroup"},
}

// The Engage auth endpoints, from All.
var (
	opExchange = Operation{All, http.MethodPost, "/api/auth/login/rc/accesstoken", "loginWithRcAccessToken"}
	opRefresh  = Operation{All, http.MethodPost, "/api/auth/token/refresh", "refreshAccessToken"}
	opLogout   = Operation{All, http.MethodDelete, "/api/auth/logout/{refreshToken}", "logoutEngageAuthUser"}
)

var operations = append(slices.Clone(adminListings), opExchange, opRefresh, opLogout)

// PlatformPaths are the RingCentral platform endpoints evsync calls (JWT grant and revoke).
// Neither official document describes them (they belong to the RingCentral platform API, not
// to Engage Voice), so nothing validates them: no schema is invented for them here.
var PlatformPaths = []string{"/restapi/oauth/token", "/restapi/oauth/revoke"}

// NoContentExtension marks a response to which an override gave content although the
// official document declares it without any ("401": {"description": "Unauthorized"}): an
// answer with an empty body and no Content-Type is that documented form, and stays valid.
const NoContentExtension = "x-evsync-official-no-content"

// DateTimePattern is the form of the dates the API sends ("2020-05-18T19:22:12.000+0000",
// also "-0000"; docs/api.md, Dates), the schema the DateTime override gives.
const DateTimePattern = `^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}[+-]\d{4}$`

// Load returns one OpenAPI document holding Operations (each with only its own method), the
// component schemas they reference, the security schemes, and servers set to serverURL (the
// fake's base URL, say), with the overrides below applied and the result validated.
//
// The overrides change exactly the parts where docs/api.md (which wins) documents what the
// server does and the official documents say otherwise; nothing else is relaxed:
//
//   - DateTime is a string of DateTimePattern, not the Joda object (overrideDateTime);
//   - the exchange and the refresh take their parameters in a form body (overrideFormBodies);
//   - the exchange needs no Engage bearer token (overrideExchangeSecurity);
//   - the admin listings' error answers are the ones the spec documents for its integration
//     endpoints: 401 text/plain, 400/403/404/500 JSON Errors (overrideAdminErrors);
//   - 429 is a documented answer of the admin listings and the exchange (override429);
//   - dialGroups/withChildren's includePermissions is a boolean (overrideIncludePermissions);
//   - a dial group's campaigns are an array of Campaign (overrideCollectionCampaign);
//   - every property of a response object may be null (overrideNullableProperties).
func Load(ctx context.Context, serverURL string) (*openapi3.T, error) {
	raw, err := assemble(serverURL)
	if err != nil {
		return nil, err
	}
	loader := openapi3.NewLoader()
	doc, err := loader.LoadFromData(raw)
	if err != nil {
		return nil, fmt.Errorf("apispec: loading the combined document: %w", err)
	}
	for _, o := range []struct {
		name string
		fn   func(*openapi3.T) error
	}{
		{"DateTime", overrideDateTime},
		{"form bodies", overrideFormBodies},
		{"exchange security", overrideExchangeSecurity},
		{"admin errors", overrideAdminErrors},
		{"429", override429},
		{"includePermissions", overrideIncludePermissions},
		{"CollectionCampaign", overrideCollectionCampaign},
		{"nullable properties", overrideNullableProperties}, // last: it covers the schemas the others add
	} {
		if err := o.fn(doc); err != nil {
			return nil, fmt.Errorf("apispec: override %s: %w", o.name, err)
		}
	}
	if err := doc.Validate(ctx); err != nil {
		return nil, fmt.Errorf("apispec: validating the combined document: %w", err)
	}
	return doc, nil
}

// Find returns the operation of doc for an Operation (nil if absent).
func Find(doc *openapi3.T, o Operation) *openapi3.Operation {
	item := doc.Paths.Value(o.Path)
	if item == nil {
		return nil
	}
	return item.GetOperation(o.Method)
}

// assemble builds the combined document as JSON: the operations from their documents, the
// closure of the component schemas they reference (a schema both documents define must be the
// same in both), the security schemes of Admin.
func assemble(serverURL string) ([]byte, error) {
	docs := map[string]map[string]any{}
	for _, name := range []string{Admin, All} {
		raw, err := Raw(name)
		if err != nil {
			return nil, err
		}
		dec := json.NewDecoder(bytes.NewReader(raw))
		dec.UseNumber()
		var m map[string]any
		if err := dec.Decode(&m); err != nil {
			return nil, fmt.Errorf("apispec: decoding %s: %w", name, err)
		}
		docs[name] = m
	}
	paths := map[string]any{}
	schemas := map[string]any{}
	for _, o := range operations {
		d := docs[o.Document]
		item, _ := dig(d, "paths", o.Path).(map[string]any)
		op, _ := item[strings.ToLower(o.Method)].(map[string]any)
		if op == nil {
			return nil, fmt.Errorf("apispec: %s has no %s %s", o.Document, o.Method, o.Path)
		}
		if id, _ := op["operationId"].(string); id != o.OperationID {
			return nil, fmt.Errorf("apispec: %s %s %s has operationId %q, want %q", o.Document, o.Method, o.Path, id, o.OperationID)
		}
		out := map[string]any{strings.ToLower(o.Method): op}
		if p, ok := item["parameters"]; ok {
			out["parameters"] = p
		}
		paths[o.Path] = out
		if err := addSchemas(schemas, d, o.Document, out); err != nil {
			return nil, err
		}
	}
	combined := map[string]any{
		"openapi": docs[Admin]["openapi"],
		"info": map[string]any{
			"title":   "Engage Voice operations evsync calls (official documents with evsync's overrides)",
			"version": dig(docs[Admin], "info", "version"),
		},
		"servers": []any{map[string]any{"url": serverURL}},
		"paths":   paths,
		"components": map[string]any{
			"schemas":         schemas,
			"securitySchemes": dig(docs[Admin], "components", "securitySchemes"),
		},
	}
	return json.Marshal(combined)
}

// addSchemas adds to schemas every component schema v references, transitively, from doc.
func addSchemas(schemas map[string]any, doc map[string]any, docName string, v any) error {
	var errs []error
	var walk func(v any)
	walk = func(v any) {
		switch v := v.(type) {
		case map[string]any:
			for k, x := range v {
				ref, ok := x.(string)
				if k != "$ref" || !ok {
					walk(x)
					continue
				}
				name, ok := strings.CutPrefix(ref, "#/components/schemas/")
				if !ok {
					errs = append(errs, fmt.Errorf("apispec: %s: unsupported reference %q", docName, ref))
					continue
				}
				s := dig(doc, "components", "schemas", name)
				if s == nil {
					errs = append(errs, fmt.Errorf("apispec: %s: schema %q is missing", docName, name))
					continue
				}
				if have, ok := schemas[name]; ok {
					if !reflect.DeepEqual(have, s) {
						errs = append(errs, fmt.Errorf("apispec: schema %q differs between the documents", name))
					}
					continue
				}
				schemas[name] = s
				walk(s)
			}
		case []any:
			for _, x := range v {
				walk(x)
			}
		}
	}
	walk(v)
	return errors.Join(errs...)
}

// dig returns m[k0][k1]... (nil when a step is missing).
func dig(m map[string]any, keys ...string) any {
	var v any = m
	for _, k := range keys {
		mm, ok := v.(map[string]any)
		if !ok {
			return nil
		}
		v = mm[k]
	}
	return v
}

// overrideDateTime: DateTime is a string such as "2020-05-18T19:22:12.000+0000".
//
// EV-SPEC types every date as the component DateTime, an object (a Joda-Time serializer
// artifact: millis, year, zone, ...). docs/api.md, "Dates and types" [V]: the JSON in
// every sample is a string in that form (one sample has "-0000"); EV-DOCS says the same. The
// component is changed in place, so every property that references it follows.
func overrideDateTime(doc *openapi3.T) error {
	ref := doc.Components.Schemas["DateTime"]
	if ref == nil || ref.Value == nil {
		return errors.New("no DateTime schema")
	}
	*ref.Value = *openapi3.NewStringSchema().WithPattern(DateTimePattern)
	ref.Value.Description = "evsync override (docs/api.md, Dates): a date string, e.g. 2020-05-18T19:22:12.000+0000, not the Joda DateTime object"
	return nil
}

// overrideFormBodies moves parameters EV-SPEC declares "in": "query" into an
// application/x-www-form-urlencoded body:
//
//   - loginWithRcAccessToken: rcAccessToken and rcTokenType. docs/api.md, Authentication [V]: EV-DOCS
//     posts them as a form body (rcTokenType must be "Bearer"), as every official SDK does.
//     includeRefresh stays in the query (the documented URL carries ?includeRefresh=true).
//   - refreshAccessToken: refresh_token (required, as the spec has it), plus rcTokenType
//     ("Bearer"), which the pre-2026 docs and EV-JS/EV-PY send and docs/api.md calls
//     harmless. docs/api.md, Refresh [V]: the current docs post refresh_token as a form body.
//     X-Auth-Token (query, optional, only for a simulated user) stays as it is.
func overrideFormBodies(doc *openapi3.T) error {
	bearer := openapi3.NewStringSchema().WithEnum("Bearer")
	moves := []struct {
		op       Operation
		params   []string // query parameters moved into the body
		required []string
		extra    map[string]*openapi3.Schema // body fields the spec lacks
		why      string
	}{
		{opExchange, []string{"rcAccessToken", "rcTokenType"}, []string{"rcAccessToken", "rcTokenType"}, nil,
			"docs/api.md, Exchange: rcAccessToken and rcTokenType=Bearer travel in a form body"},
		{opRefresh, []string{"refresh_token"}, []string{"refresh_token"}, map[string]*openapi3.Schema{"rcTokenType": bearer},
			"docs/api.md, Refresh: refresh_token (and the harmless rcTokenType=Bearer) travel in a form body"},
	}
	for _, m := range moves {
		op := Find(doc, m.op)
		if op == nil {
			return fmt.Errorf("%s is missing", m.op)
		}
		body := openapi3.NewObjectSchema()
		for _, name := range m.params {
			p := op.Parameters.GetByInAndName(openapi3.ParameterInQuery, name)
			if p == nil {
				return fmt.Errorf("%s has no query parameter %s", m.op, name)
			}
			s := p.Schema.Value
			if name == "rcTokenType" {
				s = bearer // "rcTokenType must be Bearer" (docs/api.md, Exchange)
			}
			body.WithProperty(name, s)
			op.Parameters = slices.DeleteFunc(op.Parameters, func(r *openapi3.ParameterRef) bool {
				return r.Value.In == openapi3.ParameterInQuery && r.Value.Name == name
			})
		}
		for name, s := range m.extra {
			body.WithProperty(name, s)
		}
		body.Required = m.required
		op.RequestBody = &openapi3.RequestBodyRef{Value: openapi3.NewRequestBody().
			WithDescription("evsync override (" + m.why + ")").
			WithRequired(true).
			WithContent(openapi3.Content{"application/x-www-form-urlencoded": openapi3.NewMediaType().WithSchema(body)})}
	}
	return nil
}

// overrideExchangeSecurity: the exchange needs no Engage bearer token.
//
// EV-SPEC-ALL lists "security": [{"BearerAuth": []}] on loginWithRcAccessToken, but the
// exchange is how a client gets its first Engage token: docs/api.md, Exchange [V] authenticates it
// with the RingCentral token in the rcAccessToken form field, and the Bearer header belongs to
// "the API calls afterwards".
func overrideExchangeSecurity(doc *openapi3.T) error {
	op := Find(doc, opExchange)
	if op == nil {
		return fmt.Errorf("%s is missing", opExchange)
	}
	op.Security = &openapi3.SecurityRequirements{}
	return nil
}

// overrideAdminErrors gives the admin listings the error answers that EV-SPEC itself
// documents for its integration endpoints (taken from getUserList,
// GET /voice/api/integration/v1/admin/users/{mainAccountId}): 401 text/plain (example "Jwt is
// expired"), 400/403/404/500 application/json Errors.
//
// The listings declare 401/403/404 without content and 400/500 not at all. docs/api.md, Expiry
// and "Response bodies" [V]: an expired token gets 401 text/plain "Jwt is expired"; 400, 403, 404
// and 500 answer a JSON Errors object; EV-SPEC says the same for the integration API. A response
// the official document lists without content keeps accepting an empty answer
// (NoContentExtension).
func overrideAdminErrors(doc *openapi3.T) error {
	src, err := integrationErrorResponses()
	if err != nil {
		return err
	}
	errorsSchema := doc.Components.Schemas["Errors"]
	if errorsSchema == nil {
		doc.Components.Schemas["Errors"] = src.errorsSchema
		doc.Components.Schemas["ValidationErrorData"] = src.validationErrorData
	}
	for _, o := range adminListings {
		op := Find(doc, o)
		if op == nil {
			return fmt.Errorf("%s is missing", o)
		}
		for _, code := range []string{"400", "401", "403", "404", "500"} {
			r := src.responses[code]
			if r == nil {
				return fmt.Errorf("getUserList documents no %s", code)
			}
			cp := *r // one copy per operation; content (read-only) is shared
			if old := op.Responses.Value(code); old != nil && old.Value != nil && len(old.Value.Content) == 0 {
				cp.Extensions = map[string]any{NoContentExtension: true}
			}
			op.Responses.Set(code, &openapi3.ResponseRef{Value: &cp})
		}
	}
	return nil
}

// integrationSource holds what overrideAdminErrors takes from getUserList.
type integrationSource struct {
	responses                         map[string]*openapi3.Response
	errorsSchema, validationErrorData *openapi3.SchemaRef
}

// integrationErrorResponses loads getUserList's error responses from Admin.
func integrationErrorResponses() (*integrationSource, error) {
	const path = "/voice/api/integration/v1/admin/users/{mainAccountId}"
	raw, err := Raw(Admin)
	if err != nil {
		return nil, err
	}
	var d struct {
		Paths map[string]map[string]struct {
			OperationID string                     `json:"operationId"`
			Responses   map[string]json.RawMessage `json:"responses"`
		} `json:"paths"`
		Components struct {
			Schemas map[string]json.RawMessage `json:"schemas"`
		} `json:"components"`
	}
	if err := json.Unmarshal(raw, &d); err != nil {
		return nil, fmt.Errorf("decoding %s: %w", Admin, err)
	}
	op := d.Paths[path]["get"]
	if op.OperationID != "getUserList" {
		return nil, fmt.Errorf("%s: GET %s is not getUserList", Admin, path)
	}
	errResponses := map[string]json.RawMessage{}
	for _, code := range []string{"400", "401", "403", "404", "500"} {
		if r, ok := op.Responses[code]; ok {
			errResponses[code] = r
		}
	}
	mini := map[string]any{
		"openapi": "3.0.0",
		"info":    map[string]any{"title": "errors", "version": "1"},
		"paths": map[string]any{"/x": map[string]any{"get": map[string]any{
			"responses": errResponses,
		}}},
		"components": map[string]any{"schemas": map[string]any{
			"Errors":              d.Components.Schemas["Errors"],
			"ValidationErrorData": d.Components.Schemas["ValidationErrorData"],
		}},
	}
	b, err := json.Marshal(mini)
	if err != nil {
		return nil, err
	}
	t, err := openapi3.NewLoader().LoadFromData(b)
	if err != nil {
		return nil, fmt.Errorf("loading getUserList's responses: %w", err)
	}
	src := &integrationSource{
		responses:           map[string]*openapi3.Response{},
		errorsSchema:        t.Components.Schemas["Errors"],
		validationErrorData: t.Components.Schemas["ValidationErrorData"],
	}
	for code, r := range t.Paths.Value("/x").Get.Responses.Map() {
		src.responses[code] = r.Value
	}
	return src, nil
}

// overrideIncludePermissions: getDialGroupListWithChildren types its includePermissions query
// parameter as a string with the boolean default false, which no validator accepts (a default
// must be of its type). docs/api.md says EV-SPEC types it "string, default false"; the other
// listings (getGateGroupListWithChildren, getAgentGroupList) type the same parameter boolean,
// and that is what it is given here.
func overrideIncludePermissions(doc *openapi3.T) error {
	o := adminListings[7]
	op := Find(doc, o)
	if op == nil {
		return fmt.Errorf("%s is missing", o)
	}
	p := op.Parameters.GetByInAndName(openapi3.ParameterInQuery, "includePermissions")
	if p == nil {
		return fmt.Errorf("%s has no query parameter includePermissions", o)
	}
	p.Schema = &openapi3.SchemaRef{Value: openapi3.NewBoolSchema().WithDefault(false)}
	return nil
}

// overrideCollectionCampaign: DialGroup.campaigns is typed CollectionCampaign, an object schema
// without properties: the name of a Java Collection<Campaign>, which serializes as a JSON array.
// [I] No source shows the serialized form (EV-SPEC says only "DialGroup[] (with
// campaigns)"); the array is an assumption, and engageclient tolerates anything else there as
// an item error of the group, not of the listing.
func overrideCollectionCampaign(doc *openapi3.T) error {
	ref := doc.Components.Schemas["CollectionCampaign"]
	if ref == nil || ref.Value == nil || doc.Components.Schemas["Campaign"] == nil {
		return errors.New("CollectionCampaign or Campaign is missing")
	}
	arr := openapi3.NewArraySchema()
	arr.Items = &openapi3.SchemaRef{Ref: "#/components/schemas/Campaign", Value: doc.Components.Schemas["Campaign"].Value}
	*ref.Value = *arr // in place: DialGroup.campaigns points at this schema
	return nil
}

// override429 adds 429 Too Many Requests, without content, to the admin listings and the
// exchange. No official document lists a 429 anywhere. docs/api.md, "Rate limits" [V]: on a
// limit breach the API answers 429 (120 requests a minute for admin APIs); docs/api.md [V]: the
// exchange is limited to 5 a minute. The body is not documented, so none is declared (nothing
// checks it).
func override429(doc *openapi3.T) error {
	for _, o := range append(slices.Clone(adminListings), opExchange) {
		op := Find(doc, o)
		if op == nil {
			return fmt.Errorf("%s is missing", o)
		}
		op.Responses.Set("429", &openapi3.ResponseRef{Value: openapi3.NewResponse().
			WithDescription("Too Many Requests (evsync override, docs/api.md, Rate limits)")})
	}
	return nil
}

// overrideNullableProperties lets every property of every object schema the responses use be
// null (JSON null), at any depth; array items and whole bodies stay non-null.
//
// No schema says nullable, yet the server writes unset values as null: the official sample
// code-samples/auth/rc-auth-response.json (samples/auth_rc-auth-response.json here) has
// "agentGroupId": null for AgentV2's int32, and docs/api.md records
// "lastLoginDate": null (Agent's DateTime). Two unrelated properties of two object types and
// two operations, of two types (an integer and a date), are the mark of the serializer's
// inclusion rule (a Java server writing every unset field), not of one field: the documents
// cannot tell which of a Java object's fields may be unset, so each property may be null. No
// source shows a null array item ([null]) or a null body, so those stay invalid.
//
// A property that references a component gets its own nullable copy of the component (the
// component itself stays non-null, for the places it is an array item or a body).
func overrideNullableProperties(doc *openapi3.T) error {
	w := nullableWalker{seen: map[*openapi3.Schema]bool{}}
	for _, o := range operations {
		op := Find(doc, o)
		if op == nil {
			return fmt.Errorf("%s is missing", o)
		}
		for _, r := range op.Responses.Map() {
			if r.Value == nil {
				continue
			}
			for _, mt := range r.Value.Content {
				w.ref(mt.Schema)
			}
		}
	}
	return nil
}

// nullableWalker makes nullable every property of the schemas it walks, at any depth, walking
// each schema once.
type nullableWalker struct {
	seen map[*openapi3.Schema]bool
}

// ref walks the schema r refers to, if any.
func (w nullableWalker) ref(r *openapi3.SchemaRef) {
	if r != nil && r.Value != nil {
		w.schema(r.Value)
	}
}

// schema makes s's properties nullable (a property that references a component gets a
// nullable copy of it) and walks on into the properties, items, additional properties and
// allOf/anyOf/oneOf of s.
func (w nullableWalker) schema(s *openapi3.Schema) {
	if w.seen[s] {
		return
	}
	w.seen[s] = true
	for name, p := range s.Properties {
		if p == nil || p.Value == nil {
			continue
		}
		if p.Ref != "" {
			orig := p.Value
			s.Properties[name] = w.nullableCopy(orig)
			w.schema(orig)
			continue
		}
		p.Value.Nullable = true
		w.schema(p.Value)
	}
	w.ref(s.Items)
	w.ref(s.AdditionalProperties.Schema)
	for _, list := range [][]*openapi3.SchemaRef{s.AllOf, s.AnyOf, s.OneOf} {
		for _, r := range list {
			w.ref(r)
		}
	}
}

// nullableCopy returns a nullable copy of the component orig, as an inline schema. The copy is
// marked walked: it shares orig's Properties, which walking orig handles.
func (w nullableWalker) nullableCopy(orig *openapi3.Schema) *openapi3.SchemaRef {
	cp := *orig
	cp.Nullable = true
	w.seen[&cp] = true
	return &openapi3.SchemaRef{Value: &cp}
}
