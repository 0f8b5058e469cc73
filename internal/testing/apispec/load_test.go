package apispec_test

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"

	"github.com/evsync/evsync/internal/testing/apispec"
)

func load(t *testing.T) *openapi3.T {
	t.Helper()
	doc, err := apispec.Load(t.Context(), "http://127.0.0.1:1")
	if err != nil {
		t.Fatal(err)
	}
	return doc
}

// adminListings is the number of admin listings, first in Operations; the exchange, the
// refresh and the logout follow.
const adminListings = 9

func op(t *testing.T, doc *openapi3.T, i int) *openapi3.Operation {
	t.Helper()
	o := apispec.Find(doc, apispec.Operations()[i])
	if o == nil {
		t.Fatalf("%s is missing", apispec.Operations()[i])
	}
	return o
}

// bodySchema is the schema of an operation's answer with status code and media type mt.
func bodySchema(t *testing.T, o *openapi3.Operation, code, mt string) *openapi3.Schema {
	t.Helper()
	r := o.Responses.Value(code)
	if r == nil || r.Value == nil || r.Value.Content.Get(mt) == nil {
		t.Fatalf("%s: no %s %s answer", o.OperationID, code, mt)
	}
	return r.Value.Content.Get(mt).Schema.Value
}

func TestLoadHasTheOperationsOnly(t *testing.T) {
	t.Parallel()
	doc := load(t)
	ops := apispec.Operations()
	if doc.Paths.Len() != len(ops) {
		t.Errorf("%d paths, want %d", doc.Paths.Len(), len(ops))
	}
	for _, o := range ops {
		item := doc.Paths.Value(o.Path)
		if item == nil || len(item.Operations()) != 1 || item.GetOperation(o.Method) == nil {
			t.Errorf("%s: path item %v", o, item)
		}
	}
	if got := doc.Servers[0].URL; got != "http://127.0.0.1:1" {
		t.Errorf("server %q", got)
	}
}

func TestOverrides(t *testing.T) {
	t.Parallel()
	doc := load(t)
	dt := doc.Components.Schemas["DateTime"].Value
	if !dt.Type.Is("string") || dt.Pattern != apispec.DateTimePattern || len(dt.Properties) != 0 {
		t.Errorf("DateTime = %+v, want a string of the date pattern", dt)
	}
	for _, v := range []string{"2020-05-18T19:22:12.000+0000", "2020-04-22T00:00:00.000-0000"} {
		if err := dt.VisitJSON(v); err != nil {
			t.Errorf("%s: %v", v, err)
		}
	}
	if err := dt.VisitJSON("2020-05-18T19:22:12Z"); err == nil {
		t.Error("an RFC 3339 date passes the DateTime schema")
	}

	exchange, refresh := op(t, doc, adminListings), op(t, doc, adminListings+1)
	for _, tt := range []struct {
		o        *openapi3.Operation
		gone     []string
		kept     []string
		required []string
	}{
		{exchange, []string{"rcAccessToken", "rcTokenType"}, []string{"includeRefresh"}, []string{"rcAccessToken", "rcTokenType"}},
		{refresh, []string{"refresh_token"}, []string{"X-Auth-Token"}, []string{"refresh_token"}},
	} {
		for _, n := range tt.gone {
			if tt.o.Parameters.GetByInAndName("query", n) != nil {
				t.Errorf("%s: %s is still a query parameter", tt.o.OperationID, n)
			}
		}
		for _, n := range tt.kept {
			if tt.o.Parameters.GetByInAndName("query", n) == nil {
				t.Errorf("%s: query parameter %s is gone", tt.o.OperationID, n)
			}
		}
		body := tt.o.RequestBody.Value.Content.Get("application/x-www-form-urlencoded").Schema.Value
		if strings.Join(body.Required, ",") != strings.Join(tt.required, ",") || body.Properties["rcTokenType"] == nil {
			t.Errorf("%s: form body %+v", tt.o.OperationID, body)
		}
		if err := body.Properties["rcTokenType"].Value.VisitJSON("Basic"); err == nil {
			t.Errorf("%s: rcTokenType admits Basic", tt.o.OperationID)
		}
	}
	if exchange.Security == nil || len(*exchange.Security) != 0 {
		t.Errorf("exchange security = %v, want none", exchange.Security)
	}
	if s := op(t, doc, 0).Security; s == nil || len(*s) == 0 {
		t.Error("the accounts listing lost its BearerAuth")
	}

	for i := range adminListings {
		o := op(t, doc, i)
		if s := bodySchema(t, o, "401", "text/plain"); !s.Type.Is("string") {
			t.Errorf("%s 401: %+v", o.OperationID, s)
		}
		if o.Responses.Value("401").Value.Extensions[apispec.NoContentExtension] != true {
			t.Errorf("%s 401 lacks %s", o.OperationID, apispec.NoContentExtension)
		}
		if o.Responses.Value("500").Value.Extensions[apispec.NoContentExtension] != nil {
			t.Errorf("%s 500 (undocumented before) has %s", o.OperationID, apispec.NoContentExtension)
		}
		for _, code := range []string{"400", "403", "404", "500"} {
			if s := bodySchema(t, o, code, "application/json"); s.Properties["generalMessage"] == nil {
				t.Errorf("%s %s is not Errors: %+v", o.OperationID, code, s)
			}
		}
		if r := o.Responses.Value("429"); r == nil || len(r.Value.Content) != 0 {
			t.Errorf("%s: 429 = %v, want one without content", o.OperationID, r)
		}
	}
	if op(t, doc, adminListings).Responses.Value("429") == nil || op(t, doc, adminListings+1).Responses.Value("429") != nil {
		t.Error("429: want it on the exchange only among the auth endpoints")
	}
}

// The null override: properties may be null at any depth, array items and bodies may not.
func TestNullableProperties(t *testing.T) {
	t.Parallel()
	doc := load(t)
	agents := bodySchema(t, op(t, doc, 3), "200", "application/json")
	for _, tt := range []struct {
		body string
		ok   bool
	}{
		{`[{"agentId":1,"lastLoginDate":null,"rcUserId":null,"regionalSettings":null,"agentGroup":null,"gateAssignments":null}]`, true},
		{`[{"agentId":1,"agentGroup":{"agentGroupId":null,"account":{"mainAccount":{"rcAccountId":null}}}}]`, true},
		{`[{"agentId":1,"regionalSettings":{"timezone":null}}]`, true},
		{`[null]`, false},
		{`null`, false},
		{`[{"gateAssignments":[null]}]`, false},
		{`[{"agentAccountAccess":[null]}]`, false},
		{`[{"lastLoginDate":"yesterday"}]`, false},
	} {
		err := agents.VisitJSON(decodeJSON(t, tt.body), openapi3.VisitAsResponse())
		if (err == nil) != tt.ok {
			t.Errorf("%s: err %v, want ok=%v", tt.body, err, tt.ok)
		}
	}
	// A component referenced as a property got a nullable copy; the component itself stays
	// non-null where it is an array item.
	if doc.Components.Schemas["User"].Value.Nullable {
		t.Error("the User component itself became nullable")
	}
}

// The official samples and the spec's examples of the operations match the document: they
// are what the overrides are drawn from.
func TestOfficialSamplesMatch(t *testing.T) {
	t.Parallel()
	doc := load(t)
	samples := []struct {
		file string
		op   int
	}{
		{"samples/agent-groups_response.json", 2},
		{"samples/auth_rc-auth-response.json", adminListings},
		{"samples/auth_rc-auth-refresh-response.json", adminListings + 1},
	}
	for _, s := range samples {
		raw, err := apispec.Raw(s.file)
		if err != nil {
			t.Fatal(err)
		}
		schema := bodySchema(t, op(t, doc, s.op), "200", "application/json")
		if err := schema.VisitJSON(decodeJSON(t, string(raw)), openapi3.VisitAsResponse()); err != nil {
			t.Errorf("%s: %v", s.file, err)
		}
	}
	for i, o := range apispec.Operations() {
		exs, err := apispec.ResponseExamples(o.Document, o.OperationID)
		if err != nil {
			continue // no example
		}
		for _, ex := range exs {
			schema := bodySchema(t, op(t, doc, i), "200", ex.MediaType)
			if err := schema.VisitJSON(decodeJSON(t, string(ex.Body)), openapi3.VisitAsResponse()); err != nil {
				t.Errorf("%s example %q: %v", o, ex.Name, err)
			}
		}
	}
}

func decodeJSON(t *testing.T, s string) any {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader([]byte(s)))
	var v any
	if err := dec.Decode(&v); err != nil {
		t.Fatalf("%s: %v", s, err)
	}
	return v
}
