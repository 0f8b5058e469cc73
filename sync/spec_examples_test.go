package sync

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/evsync/evsync/db"
	"github.com/evsync/evsync/engageclient"
	"github.com/evsync/evsync/internal/entity"
	"github.com/evsync/evsync/internal/secretjson"
	"github.com/evsync/evsync/internal/testing/apispec"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

// The operations the client calls, by the documents' operation ids. Their own 2xx examples are
// test cases; today the documents carry none for them (TestSpecExamplesGolden says so, and
// picks them up the day they do).
var clientOperations = []exampleOp{
	{apispec.Admin, "getAllAccounts", kindAccounts},
	{apispec.Admin, "listAllUsers", kindUsers},
	{apispec.Admin, "getAgentGroupList", kindAgentGroups},
	{apispec.Admin, "getAgentList", kindAgents},
	{apispec.All, "loginWithRcAccessToken", kindLogin},
	{apispec.All, "refreshAccessToken", kindLogin},
}

// Examples of the same schemas from other operations (the integration API's User, Agent and
// AgentGroup listings) and the sample files beside the spec: the only forms of these objects
// the official sources show.
var sameSchemaExamples = []exampleOp{
	{apispec.Admin, "getUserList", kindUsers},                  // the only parentPath example
	{apispec.Admin, "getIntegrationAgentList", kindAgents},     // Agent[]
	{apispec.Admin, "getAgentGroups", kindAgentGroups},         // AgentGroup[]
	{apispec.Admin, "getSubAccountsByMainAccountId", kindNone}, // SubAccount[]: not what the accounts listing answers
}

var sampleKinds = map[string]exampleKind{
	"samples/agent-groups_response.json":         kindAgentGroups,
	"samples/auth_rc-auth-response.json":         kindLogin,
	"samples/auth_rc-auth-refresh-response.json": kindLogin,
}

// exampleOp is an operation of a document whose examples are test cases, and how its answer
// is read.
type exampleOp struct {
	document, operationID string
	kind                  exampleKind
}

type exampleKind int

const (
	kindNone exampleKind = iota
	kindAccounts
	kindUsers
	kindAgentGroups
	kindAgents
	kindLogin
)

// Ids used where an example needs a listing's path parameters (the examples' own ids).
const (
	exampleSubAccount = "15910001" // getSubAccountsByMainAccountId's first sub-account
	exampleGroup      = 30         // getIntegrationAgentList's agents' agentGroupId
)

// TestSpecExamplesGolden decodes every example the official documents (and the samples beside
// them) show for the objects evsync reads, through the real client over HTTP, maps them with
// the run's own row functions, and compares the rows with testdata/spec_examples/*.golden: a
// reviewer sees, per example, which typed column gets which value. go test -run
// TestSpecExamplesGolden -update rewrites them.
func TestSpecExamplesGolden(t *testing.T) {
	t.Parallel()
	type tc struct {
		name, header string
		kind         exampleKind
		body         []byte
	}
	var cases []tc
	for _, op := range clientOperations {
		exs, err := apispec.ResponseExamples(op.document, op.operationID)
		if err != nil {
			// None today; the day the document gets one it is a case below.
			t.Logf("%s %s: no 2xx example in the document", op.document, op.operationID)
			continue
		}
		for _, ex := range exs {
			cases = append(cases, tc{name: op.operationID + suffix(ex.Name), header: describe(ex), kind: op.kind, body: ex.Body})
		}
	}
	for _, op := range sameSchemaExamples {
		exs, err := apispec.ResponseExamples(op.document, op.operationID)
		if err != nil {
			t.Fatal(err) // these examples exist: losing one is a change to look at
		}
		for _, ex := range exs {
			if op.kind == kindNone {
				continue
			}
			cases = append(cases, tc{name: op.operationID + suffix(ex.Name), header: describe(ex), kind: op.kind, body: ex.Body})
		}
	}
	samples := apispec.Samples()
	if len(samples) != len(sampleKinds) {
		t.Fatalf("samples %v: each needs a kind in sampleKinds", samples)
	}
	for _, name := range samples {
		body, err := apispec.Raw(name)
		if err != nil {
			t.Fatal(err)
		}
		base := strings.TrimSuffix(filepath.Base(name), ".json")
		cases = append(cases, tc{name: "sample_" + base, header: "# sample file " + name + " (code-samples of the official docs)", kind: sampleKinds[name], body: body})
	}
	// Every golden file belongs to a case: an example that vanished from the documents is a
	// change to look at.
	files, err := filepath.Glob(filepath.Join("testdata", "spec_examples", "*.golden"))
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		name := strings.TrimSuffix(filepath.Base(f), ".golden")
		if !slices.ContainsFunc(cases, func(c tc) bool { return c.name == name }) {
			t.Errorf("%s belongs to no example of the documents", f)
		}
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			got := c.header + "\n" + mapExample(t, c.kind, c.body)
			path := filepath.Join("testdata", "spec_examples", c.name+".golden")
			if *update {
				if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (run with -update to create it)", err)
			}
			if string(want) != got {
				t.Errorf("%s differs (run with -update to accept):\n--- want\n%s\n--- got\n%s", path, want, got)
			}
		})
	}
}

func suffix(name string) string {
	if name == "" {
		return ""
	}
	return "_" + strings.NewReplacer(".", "_", " ", "_").Replace(name)
}

func describe(ex apispec.Example) string {
	how := "example"
	if ex.Name != "" {
		how = ex.Name
	}
	return fmt.Sprintf("# %s %s (%s) %d %s %s", ex.Document, ex.OperationID, ex.Path, ex.Status, ex.MediaType, how)
}

// mapExample serves body as the answer of the endpoint the kind is read from, decodes it with
// the client and renders the rows the run would stage.
func mapExample(t *testing.T, kind exampleKind, body []byte) string {
	t.Helper()
	login := []byte(`{"accessToken":"example-access-token","refreshToken":"example-refresh-token","tokenType":"Bearer","mainAccountId":"333333"}`)
	if kind == kindLogin {
		login = body
	}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /restapi/oauth/token", func(w http.ResponseWriter, _ *http.Request) {
		writeBody(w, "application/json", []byte(`{"access_token":"example-rc-token","token_type":"bearer","expires_in":3600}`))
	})
	mux.HandleFunc("POST /restapi/oauth/revoke", func(http.ResponseWriter, *http.Request) {})
	mux.HandleFunc("DELETE /api/auth/logout/", func(w http.ResponseWriter, _ *http.Request) { writeBody(w, "text/plain", nil) })
	mux.HandleFunc("POST /api/auth/login/rc/accesstoken", func(w http.ResponseWriter, _ *http.Request) {
		writeBody(w, "application/json", login)
	})
	listing := func(w http.ResponseWriter, _ *http.Request) { writeBody(w, "application/json", body) }
	mux.HandleFunc("GET /voice/api/v1/admin/accounts", listing)
	mux.HandleFunc("GET /voice/api/v1/admin/users", listing)
	mux.HandleFunc("GET /voice/api/v1/admin/accounts/{a}/agentGroups", listing)
	mux.HandleFunc("GET /voice/api/v1/admin/accounts/{a}/agentGroups/{g}/agents", listing)
	srv := httptest.NewServer(mux)
	defer srv.Close()
	c, err := engageclient.New(engageclient.Config{RCServerURL: srv.URL, EngageServerURL: srv.URL,
		ClientID: "id", ClientSecret: "example-secret", JWT: "example-jwt", MaxAttempts: 1})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	defer c.Close(ctx)
	details, err := c.Login(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var out strings.Builder
	switch kind {
	case kindLogin:
		out.WriteString("# decoded as the token exchange's answer; the run derives main accounts from mainAccountId\n")
		rows, fallback := mainAccountRows(nil, details)
		renderRows(&out, "accounts", append(rows, fallback...))
	case kindAccounts:
		accounts, _, err := c.ListAccounts(ctx)
		check(t, &out, err)
		rows, fallback := mainAccountRows(accounts, details)
		renderRows(&out, "accounts", append(rows, fallback...))
		subs := make([]db.Row, 0, len(accounts))
		for _, a := range accounts {
			subs = append(subs, subAccountRow(a))
		}
		renderRows(&out, "sub_accounts", subs)
	case kindUsers:
		out.WriteString("# decoded as GET /voice/api/v1/admin/users?flatten=true (the User schema)\n")
		users, _, err := c.ListUsers(ctx, &engageclient.UserListOptions{Flatten: true})
		check(t, &out, err)
		renderRows(&out, "users", userRows(users))
	case kindAgentGroups:
		fmt.Fprintf(&out, "# decoded as GET /voice/api/v1/admin/accounts/%s/agentGroups (the AgentGroup schema)\n", exampleSubAccount)
		groups, _, err := c.ListAgentGroups(ctx, exampleSubAccount, nil)
		check(t, &out, err)
		rows := make([]db.Row, 0, len(groups))
		for _, g := range groups {
			rows = append(rows, agentGroupRow(exampleSubAccount, g))
		}
		renderRows(&out, "agent_groups", rows)
	case kindAgents:
		fmt.Fprintf(&out, "# decoded as GET /voice/api/v1/admin/accounts/%s/agentGroups/%d/agents (the Agent schema)\n", exampleSubAccount, exampleGroup)
		agents, _, err := c.ListAgents(ctx, exampleSubAccount, exampleGroup)
		check(t, &out, err)
		rows := make([]db.Row, 0, len(agents))
		for _, a := range agents {
			rows = append(rows, agentRow(exampleSubAccount, exampleGroup, a))
		}
		renderRows(&out, "agents", rows)
	default:
		t.Fatalf("kind %d has no mapping", kind)
	}
	return out.String()
}

func writeBody(w http.ResponseWriter, contentType string, body []byte) {
	w.Header().Set("Content-Type", contentType)
	_, _ = w.Write(body)
}

// check records a listing error in the golden output (an example the client cannot read is a
// finding to see, not to hide) and fails on anything but item errors.
func check(t *testing.T, out *strings.Builder, err error) {
	t.Helper()
	if err == nil {
		return
	}
	fmt.Fprintf(out, "# error: %v\n", err)
	if !itemsOnly(err) {
		t.Fatal(err)
	}
}

// renderRows writes one block per row: each typed column with its value, then raw as stored
// (secret-bearing keys removed).
// renderRows renders rows of entity table with the column names of its description.
func renderRows(out *strings.Builder, table entity.Name, rows []db.Row) {
	d := entity.Of(table)
	for i, r := range rows {
		fmt.Fprintf(out, "%s[%d]\n", table, i)
		var names []string
		var vals []reflect.Value
		n := 0
		for _, c := range d.Key {
			names = append(names, c.Name)
			if c.Kind == entity.Text {
				vals = append(vals, reflect.ValueOf(r.S))
			} else {
				vals = append(vals, reflect.ValueOf(r.N[n]))
				n++
			}
		}
		for j, c := range d.Columns {
			names = append(names, c.Name)
			vals = append(vals, reflect.ValueOf(&r.Vals[j]).Elem())
		}
		names = append(names, "raw")
		vals = append(vals, reflect.ValueOf(r.Raw))
		width := 0
		for _, name := range names {
			width = max(width, len(name))
		}
		for j, name := range names {
			fmt.Fprintf(out, "  %-*s = %s\n", width, name, renderValue(vals[j], name == "raw"))
		}
	}
	if len(rows) == 0 {
		fmt.Fprintf(out, "%s: no rows\n", table)
	}
}

func renderValue(v reflect.Value, raw bool) string {
	if raw {
		clean, err := secretjson.Scrub(v.Bytes())
		if err != nil {
			return "(invalid JSON: " + err.Error() + ")"
		}
		var buf bytes.Buffer
		if err := json.Compact(&buf, clean); err != nil {
			return string(clean)
		}
		return buf.String()
	}
	for v.Kind() == reflect.Interface || v.Kind() == reflect.Pointer {
		if v.IsNil() {
			return "NULL"
		}
		v = v.Elem()
	}
	switch x := v.Interface().(type) {
	case string:
		return strconv.Quote(x)
	case time.Time:
		return x.UTC().Format(time.RFC3339Nano)
	case []string:
		if x == nil {
			return "NULL"
		}
		q := make([]string, len(x))
		for i, s := range x {
			q[i] = strconv.Quote(s)
		}
		return "{" + strings.Join(q, ",") + "}"
	default:
		return fmt.Sprint(x)
	}
}
