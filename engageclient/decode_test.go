package engageclient

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

func ptr[T any](v T) *T { return &v }

func readTestdata(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func mustTime(t *testing.T, s string) Time {
	t.Helper()
	v, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		t.Fatal(err)
	}
	return Time{Time: v.UTC(), Valid: true}
}

// A DateTime the spec allows whose millis is -2^53 (about 285,000 BC) is a valid time; storing
// it is the sink's problem (db stores it as NULL).
func TestTimeFarPast(t *testing.T) {
	t.Parallel()
	var got Time
	if err := json.Unmarshal([]byte(`{"millis":-9007199254740992}`), &got); err != nil {
		t.Fatal(err)
	}
	if !got.Valid || got.Year() > -280000 {
		t.Fatalf("got %v (valid %v), want a valid time about 285,000 BC", got.Time, got.Valid)
	}
}

func TestTimeUnmarshal(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		in      string
		want    string // RFC 3339 in UTC, "" for !Valid
		wantErr bool
	}{
		{"engage plus zero", `"2020-05-18T19:22:12.000+0000"`, "2020-05-18T19:22:12Z", false},
		{"engage minus zero", `"2020-04-22T00:00:00.000-0000"`, "2020-04-22T00:00:00Z", false},
		{"engage offset", `"2020-05-18T19:22:12.000-0500"`, "2020-05-19T00:22:12Z", false},
		{"engage millis kept", `"2026-11-26T18:01:02.345+0000"`, "2026-11-26T18:01:02.345Z", false},
		{"no fraction", `"2020-05-18T19:22:12+0000"`, "2020-05-18T19:22:12Z", false},
		{"rfc3339 Z", `"2024-02-29T23:59:59Z"`, "2024-02-29T23:59:59Z", false},
		{"rfc3339 offset", `"2021-03-01T10:00:00-05:00"`, "2021-03-01T15:00:00Z", false},
		{"rfc3339 nano", `"2021-03-01T10:00:00.123456789+01:00"`, "2021-03-01T09:00:00.123456789Z", false},
		{"no zone is UTC", `"2021-03-01T10:00:00"`, "2021-03-01T10:00:00Z", false},
		{"space separated", `"2021-03-01 10:00:00"`, "2021-03-01T10:00:00Z", false},
		{"date only", `"2021-03-01"`, "2021-03-01T00:00:00Z", false},
		{"epoch millis number", `1589829732000`, "2020-05-18T19:22:12Z", false},
		{"epoch millis string", `"1589829732000"`, "2020-05-18T19:22:12Z", false},
		{"joda object", `{"millis":1589829732000,"year":2020}`, "2020-05-18T19:22:12Z", false},
		{"null", `null`, "", false},
		{"empty string", `""`, "", false},
		{"blank string", `"  "`, "", false},
		// Not a date: stored as NULL (docs/schema.md), never a reason to fail the object.
		{"garbage", `"yesterday"`, "", false},
		{"bool", `true`, "", false},
		{"object without millis", `{"year":2020}`, "", false},
		{"array", `[1]`, "", false},
		{"millis too large for int64", `{"millis":1e300}`, "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var got Time
			err := json.Unmarshal([]byte(tt.in), &got)
			if (err != nil) != tt.wantErr {
				t.Fatalf("Unmarshal(%s) error = %v, wantErr %v", tt.in, err, tt.wantErr)
			}
			if tt.wantErr {
				return
			}
			if tt.want == "" {
				if got.Valid || got.Ptr() != nil {
					t.Fatalf("Unmarshal(%s) = %v, want invalid", tt.in, got)
				}
				return
			}
			want := mustTime(t, tt.want)
			if !got.Valid || !got.Equal(want.Time) || got.Location() != time.UTC {
				t.Fatalf("Unmarshal(%s) = %v (valid %v), want %v UTC", tt.in, got.Time, got.Valid, want.Time)
			}
			if p := got.Ptr(); p == nil || !p.Equal(want.Time) {
				t.Fatalf("Ptr() = %v", p)
			}
		})
	}
}

func TestTimeMarshalRoundTrip(t *testing.T) {
	t.Parallel()
	in := Time{Time: time.Date(2020, 5, 18, 19, 22, 12, 5e8, time.UTC), Valid: true}
	b, err := json.Marshal(struct{ A, B Time }{A: in})
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(`{"A":"2020-05-18T19:22:12.5Z","B":null}`, string(b)); diff != "" {
		t.Fatalf("Marshal (-want +got):\n%s", diff)
	}
	var out struct{ A, B Time }
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatal(err)
	}
	if !out.A.Equal(in.Time) || !out.A.Valid || out.B.Valid {
		t.Fatalf("round trip = %+v", out)
	}
}

func TestScalarUnmarshal(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		in      string
		into    func() any
		want    any
		wantErr bool
	}{
		{"int number", `42`, func() any { return new(nullInt64) }, &nullInt64{42, true}, false},
		{"int string", `"42"`, func() any { return new(nullInt64) }, &nullInt64{42, true}, false},
		{"int padded string", `" 42 "`, func() any { return new(nullInt64) }, &nullInt64{42, true}, false},
		{"int float integral", `42.0`, func() any { return new(nullInt64) }, &nullInt64{42, true}, false},
		{"int exponent", `4.2e3`, func() any { return new(nullInt64) }, &nullInt64{4200, true}, false},
		{"int large", `9007199254740993`, func() any { return new(nullInt64) }, &nullInt64{9007199254740993, true}, false},
		{"int null", `null`, func() any { return new(nullInt64) }, &nullInt64{}, false},
		{"int empty", `""`, func() any { return new(nullInt64) }, &nullInt64{}, false},
		{"int fraction", `4.5`, func() any { return new(nullInt64) }, nil, true},
		{"int word", `"abc"`, func() any { return new(nullInt64) }, nil, true},
		{"int bool", `true`, func() any { return new(nullInt64) }, nil, true},
		{"int object", `{}`, func() any { return new(nullInt64) }, nil, true},
		{"id string", `"99990001"`, func() any { return new(nullID) }, &nullID{"99990001", true}, false},
		{"id number", `99990001`, func() any { return new(nullID) }, &nullID{"99990001", true}, false},
		{"id non-numeric string", `"abc-1"`, func() any { return new(nullID) }, &nullID{"abc-1", true}, false},
		{"id null", `null`, func() any { return new(nullID) }, &nullID{}, false},
		{"id empty", `""`, func() any { return new(nullID) }, &nullID{}, false},
		{"id fraction", `1.5`, func() any { return new(nullID) }, nil, true},
		{"id array", `[1]`, func() any { return new(nullID) }, nil, true},
		{"bool true", `true`, func() any { return new(nullBool) }, &nullBool{true, true}, false},
		{"bool false", `false`, func() any { return new(nullBool) }, &nullBool{false, true}, false},
		{"bool one", `1`, func() any { return new(nullBool) }, &nullBool{true, true}, false},
		{"bool zero", `0`, func() any { return new(nullBool) }, &nullBool{false, true}, false},
		{"bool string", `"true"`, func() any { return new(nullBool) }, &nullBool{true, true}, false},
		{"bool null", `null`, func() any { return new(nullBool) }, &nullBool{}, false},
		{"bool two", `2`, func() any { return new(nullBool) }, nil, true},
		{"str string", `"x"`, func() any { return new(nullStr) }, &nullStr{"x", true}, false},
		{"str empty", `""`, func() any { return new(nullStr) }, &nullStr{"", true}, false},
		{"str number", `12`, func() any { return new(nullStr) }, &nullStr{"12", true}, false},
		{"str null", `null`, func() any { return new(nullStr) }, &nullStr{}, false},
		{"str object", `{"a":1}`, func() any { return new(nullStr) }, nil, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got := tt.into()
			err := json.Unmarshal([]byte(tt.in), got)
			if (err != nil) != tt.wantErr {
				t.Fatalf("Unmarshal(%s) error = %v, wantErr %v", tt.in, err, tt.wantErr)
			}
			if tt.wantErr {
				return
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Fatalf("Unmarshal(%s) (-want +got):\n%s", tt.in, diff)
			}
		})
	}
}

// ignoreRaw leaves Raw out of struct comparisons (it is checked separately).
var ignoreRaw = cmp.Options{
	cmpopts.IgnoreFields(Account{}, "Raw"),
	cmpopts.IgnoreFields(MainAccount{}, "Raw"),
	cmpopts.IgnoreFields(User{}, "Raw"),
	cmpopts.IgnoreFields(AgentGroup{}, "Raw"),
	cmpopts.IgnoreFields(Agent{}, "Raw"),
	cmpopts.IgnoreUnexported(User{}),
}

func TestDecodeAccounts(t *testing.T) {
	t.Parallel()
	body := readTestdata(t, "accounts.json")
	got, _, err := decodeList[Account](body)
	if err != nil {
		t.Fatal(err)
	}
	want := []*Account{
		{
			AccountID: "99990001", AccountName: ptr("Support Desk"),
			MainAccountID: "99990000", MainAccountName: ptr("Example Corp"),
			ArchivedAccount: ptr(false), StartDate: mustTime(t, "2020-05-18T19:22:12Z"),
			MainAccount: &MainAccount{MainAccountID: "99990000", MainAccountName: ptr("Example Corp"), RCAccountID: ptr("400123456008")},
		},
		{
			AccountID: "99990002", AccountName: ptr("Outbound Sales"), MainAccountID: "99990000",
			ArchivedAccount: ptr(true), StartDate: mustTime(t, "2021-01-04T08:00:00Z"), EndDate: mustTime(t, "2024-02-29T23:59:59Z"),
		},
		{
			AccountID: "99990003", MainAccountID: "99990009", MainAccountName: ptr("Nested Only"),
			MainAccount: &MainAccount{MainAccountID: "99990009", MainAccountName: ptr("Nested Only")},
		},
	}
	if diff := cmp.Diff(want, got, ignoreRaw); diff != "" {
		t.Fatalf("accounts (-want +got):\n%s", diff)
	}
	// Raw keeps every field as received, unknown ones included.
	var raw map[string]any
	if err := json.Unmarshal(got[1].Raw, &raw); err != nil {
		t.Fatal(err)
	}
	if _, ok := raw["someFutureField"]; !ok {
		t.Errorf("Raw lost the unknown field: %s", got[1].Raw)
	}
	if !strings.Contains(string(got[0].Raw), `"enableChat": true`) || !strings.Contains(string(got[0].Raw), `"endDate": null`) {
		t.Errorf("Raw is not the object as received: %s", got[0].Raw)
	}
}

func TestDecodeUsersFlat(t *testing.T) {
	t.Parallel()
	got, _, err := decodeList[User](readTestdata(t, "users_flat.json"))
	if err != nil {
		t.Fatal(err)
	}
	want := []*User{
		{
			UserID: 1000, UserName: ptr("root@example.com"), FirstName: ptr("Ada"), LastName: ptr("Root"), FullName: ptr("Ada Root"),
			Enabled: ptr(true), RootUser: ptr(true), RCUserID: ptr(int64(222000001)), RCAccountID: ptr("400123456008"),
			Roles:        []Role{{RoleType: "SUPER_USER", Description: ptr("Super user")}},
			CreationDate: mustTime(t, "2020-05-18T19:22:12Z"), ParentPath: ptr(""),
		},
		{
			UserID: 1003, UserName: ptr("mgr@example.com"), FirstName: ptr("Bo"), LastName: ptr("Manager"),
			Enabled: ptr(true), RootUser: ptr(false), RCUserID: ptr(int64(222000004)), RCAccountID: ptr("400123456008"),
			Roles:        []Role{{RoleType: "MANAGE_USERS"}, {RoleType: "USER"}},
			CreationDate: mustTime(t, "2021-03-01T15:00:00Z"), ParentPath: ptr("1000"),
		},
		{
			UserID: 1007, UserName: ptr("staff@example.com"), Enabled: ptr(false), RootUser: ptr(false),
			Roles: []Role{}, ParentPath: ptr("1000.1003"),
		},
	}
	if diff := cmp.Diff(want, got, ignoreRaw); diff != "" {
		t.Fatalf("users (-want +got):\n%s", diff)
	}
	wantParents := []*int64{nil, ptr(int64(1000)), ptr(int64(1003))}
	for i, u := range got {
		if diff := cmp.Diff(wantParents[i], u.ParentUserID()); diff != "" {
			t.Errorf("user %d ParentUserID (-want +got):\n%s", u.UserID, diff)
		}
	}
}

func TestDecodeUsersNested(t *testing.T) {
	t.Parallel()
	top, _, err := decodeList[User](readTestdata(t, "users_nested.json"))
	if err != nil {
		t.Fatal(err)
	}
	if len(top) != 1 {
		t.Fatalf("top level has %d users, want 1", len(top))
	}
	all := FlattenUsers(top)
	type row struct {
		ID     int64
		Parent *int64
	}
	var got []row
	for _, u := range all {
		got = append(got, row{u.UserID, u.ParentUserID()})
	}
	want := []row{{1000, nil}, {1003, ptr(int64(1000))}, {1007, ptr(int64(1003))}, {1004, ptr(int64(1000))}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Fatalf("flattened users (-want +got):\n%s", diff)
	}
}

func TestParentUserID(t *testing.T) {
	t.Parallel()
	tests := []struct {
		path *string
		id   int64
		want *int64
	}{
		{nil, 5, nil},
		// The spec's only example (getUserList, user 3289): ancestors root first, joined with ".".
		{ptr("2181.2979.2983.3064"), 3289, ptr(int64(3064))},
		{ptr("2181"), 2979, ptr(int64(2181))},
		{ptr("2181.2979.3289"), 3289, ptr(int64(2979))}, // a path that ends with the user itself
		{ptr("/"), 5, nil},
		{ptr(""), 5, nil},
		{ptr("/1000/"), 5, ptr(int64(1000))},
		{ptr("/1000/1003/"), 5, ptr(int64(1003))},
		{ptr("1000/1003"), 5, ptr(int64(1003))},
		{ptr("/1000/1003/5/"), 5, ptr(int64(1003))}, // a path that ends with the user itself
	}
	for _, tt := range tests {
		u := &User{UserID: tt.id, ParentPath: tt.path}
		if diff := cmp.Diff(tt.want, u.ParentUserID()); diff != "" {
			t.Errorf("ParentUserID(%v) (-want +got):\n%s", tt.path, diff)
		}
	}
}

func TestDecodeAgentGroups(t *testing.T) {
	t.Parallel()
	got, _, err := decodeList[AgentGroup](readTestdata(t, "agent_groups.json"))
	if err != nil {
		t.Fatal(err)
	}
	want := []*AgentGroup{
		{AgentGroupID: 5001, GroupName: ptr("Tier 1"), IsDefault: ptr(true)},
		{AgentGroupID: 5002, GroupName: ptr("Escalations"), IsDefault: ptr(false)},
		{AgentGroupID: 5003},
	}
	if diff := cmp.Diff(want, got, ignoreRaw); diff != "" {
		t.Fatalf("agent groups (-want +got):\n%s", diff)
	}
}

func TestDecodeAgents(t *testing.T) {
	t.Parallel()
	got, _, err := decodeList[Agent](readTestdata(t, "agents.json"))
	if err != nil {
		t.Fatal(err)
	}
	want := []*Agent{
		{
			AgentID: 70001, AgentGroupID: ptr(int64(5001)), Username: ptr("ann@example.com"), FirstName: ptr("Ann"),
			LastName: ptr("Agent"), Email: ptr("ann@example.com"), AgentType: ptr("AGENT"), IsActive: ptr(true),
			RCUserID: ptr(int64(222000101)), CreatedOn: mustTime(t, "2020-05-18T19:22:12Z"),
			LastLoginDate: mustTime(t, "2026-11-26T18:01:02.345Z"),
		},
		{
			AgentID: 70002, AgentGroupID: ptr(int64(5001)), Username: ptr("ben@example.com"), AgentType: ptr("SUPERVISOR"),
			IsActive: ptr(false), RCUserID: ptr(int64(222000102)), CreatedOn: mustTime(t, "2021-01-04T08:00:00Z"),
		},
		{AgentID: 70003, AgentGroupID: ptr(int64(5001)), IsActive: ptr(true), LastLoginDate: mustTime(t, "2024-02-29T12:00:00Z")},
	}
	if diff := cmp.Diff(want, got, ignoreRaw); diff != "" {
		t.Fatalf("agents (-want +got):\n%s", diff)
	}
	if !strings.Contains(string(got[0].Raw), "allowManualPass") {
		t.Errorf("Raw lost fields: %s", got[0].Raw)
	}
}

func TestDecodeLoginResponse(t *testing.T) {
	t.Parallel()
	body := readTestdata(t, "login.json")
	var w loginResponse
	if err := json.Unmarshal(body, &w); err != nil {
		t.Fatal(err)
	}
	if w.AccessToken != "ACCESS-TOKEN-PLACEHOLDER" || w.RefreshToken != "REFRESH-TOKEN-PLACEHOLDER" {
		t.Fatalf("tokens not decoded")
	}
	got := w.details(body)
	want := &AccessTokenUserDetails{
		TokenType: ptr("Bearer"), MainAccountID: "99990000", AdminID: ptr(int64(1000)),
		AdminURL: ptr("/voice/admin/"), AgentURL: ptr("/voice/agent/"), AnalyticsURL: ptr("/analytics/"),
		IQURL: ptr("/iq/"), RedirectURL: ptr("/redirect/"), AdminPasswordReset: ptr(false), IsAdminPasswordReset: ptr(false),
		LoginHashcode: ptr("abc123"), PlatformID: ptr("c01"), Port: ptr(int64(8080)), SSOLogin: ptr(true),
		RCUser: &Contact{
			BusinessPhone: ptr("+15550100"), Company: ptr("Example Corp"), Department: ptr("Ops"), Email: ptr("root@example.com"),
			EmailAsLoginName: ptr(true), FirstName: ptr("Ada"), JobTitle: ptr("Admin"), LastName: ptr("Root"),
		},
		AgentDetails: []*AgentDetail{{
			AgentID: 70001, AccountID: ptr("99990001"), AccountName: ptr("Support Desk"), AgentRank: ptr(int64(3)),
			AgentType: ptr("AGENT"), AllowLoginControl: ptr(true), AllowLoginUpdates: ptr(false), Email: ptr("ann@example.com"),
			FirstName: ptr("Ann"), LastName: ptr("Agent"), MaxChats: ptr(int64(2)), RCUserID: ptr(int64(222000101)),
			Team: ptr("Blue"), Username: ptr("ann@example.com"),
		}},
	}
	if diff := cmp.Diff(want, got, cmpopts.IgnoreFields(AccessTokenUserDetails{}, "Raw")); diff != "" {
		t.Fatalf("details (-want +got):\n%s", diff)
	}
	for _, secret := range []string{"ACCESS-TOKEN-PLACEHOLDER", "REFRESH-TOKEN-PLACEHOLDER", `"pw"`, "9876", "phoneLoginPin"} {
		if strings.Contains(string(got.Raw), secret) {
			t.Errorf("Raw contains secret %q: %s", secret, got.Raw)
		}
	}
	if !strings.Contains(string(got.Raw), `"loginHashcode":"abc123"`) {
		t.Errorf("Raw lost fields: %s", got.Raw)
	}
}

func TestDecodeRCTokenResponse(t *testing.T) {
	t.Parallel()
	body := `{"access_token":"AT","token_type":"bearer","expires_in":3599,"refresh_token":"RT",
	"refresh_token_expires_in":604799,"scope":"ReadAccounts","owner_id":"123456","endpoint_id":"ep-1",
	"id_token":"IT","session_id":"s-1","session_expires_in":"7200","session_expiration_time":"2026-11-27T05:00:00Z",
	"session_idle_timeout":900}`
	var got rcTokenResponse
	if err := json.Unmarshal([]byte(body), &got); err != nil {
		t.Fatal(err)
	}
	want := rcTokenResponse{
		AccessToken: "AT", TokenType: "bearer", ExpiresIn: nullInt64{3599, true}, RefreshToken: "RT",
		RefreshTokenExpiresIn: nullInt64{604799, true}, Scope: "ReadAccounts", OwnerID: nullID{"123456", true},
		EndpointID: "ep-1", IDToken: "IT", SessionID: "s-1", SessionExpiresIn: nullInt64{7200, true},
		SessionExpirationTime: nullStr{"2026-11-27T05:00:00Z", true}, SessionIdleTimeout: nullInt64{900, true},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Fatalf("rc token (-want +got):\n%s", diff)
	}
}

func TestDecodeListShapes(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		body    string
		wantIDs []int64
		wantErr string
	}{
		{"bare array", `[{"agentGroupId":1},{"agentGroupId":"2"}]`, []int64{1, 2}, ""},
		{"empty array", `[]`, []int64{}, ""},
		{"null body", `null`, []int64{}, ""},
		{"null element skipped", `[null,{"agentGroupId":3}]`, []int64{3}, ""},
		// Listings are bare arrays (docs/api.md): an object is an error, even one that
		// wraps a single array, and the API's error object says what it said.
		{"envelope with one array", `{"items":[{"agentGroupId":4}],"total":1}`, nil, "expected a JSON array, got an object"},
		{"error envelope", `{"generalMessage":"Agent group not found","validationErrors":[]}`, nil,
			`expected a JSON array, got an error object: "Agent group not found"`},
		{"empty body", ``, nil, "empty body"},
		{"truncated", `[{"agentGroupId":1},{"agentGr`, nil, "unexpected end of JSON input"},
		{"object without array", `{"generalMessage":"oops"}`, nil, "expected a JSON array"},
		{"string", `"hello"`, nil, "expected a JSON array, got a string"},
		{"element not object", `[1,2]`, nil, "expected a JSON object"},
		{"missing id", `[{"groupName":"x"}]`, nil, "agentGroupId is missing"},
		{"bad id", `[{"agentGroupId":"x1"}]`, nil, `item 0: agentGroupId: parsing integer`},
		{"id 2^63", `[{"agentGroupId":9223372036854775808}]`, nil, `item 0: agentGroupId: parsing integer "9223372036854775808": out of range`},
		{"id -2^63-1", `[{"agentGroupId":-9223372036854775809}]`, nil, `agentGroupId: parsing integer "-9223372036854775809": out of range`},
		{"id 1e19", `[{"agentGroupId":1e19}]`, nil, `agentGroupId: parsing integer "1e19": out of range`},
		{"id max", `[{"agentGroupId":9223372036854775807}]`, []int64{9223372036854775807}, ""},
		{"id min", `[{"agentGroupId":"-9223372036854775808"}]`, []int64{-9223372036854775808}, ""},
		{"field named", `[{"agentGroupId":1,"isDefault":[1]}]`, nil, `item 0: isDefault: `},
		{"nesting 250 kept", `[{"agentGroupId":5,"x":` + strings.Repeat("[", 250) + strings.Repeat("]", 250) + `}]`, []int64{5}, ""},
		{"nesting beyond the limit", `[{"agentGroupId":6,"deep":` + strings.Repeat("[", 1001) + strings.Repeat("]", 1001) + `}]`, nil,
			"item 0: deep: nested deeper than 1000 levels"},
		{"html", `<html>502</html>`, nil, "expected a JSON array, got markup (an HTML or XML page), not JSON"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, _, err := decodeList[AgentGroup]([]byte(tt.body))
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("decodeList(%q) error = %v, want it to contain %q", tt.body, err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			ids := []int64{}
			for _, g := range got {
				ids = append(ids, g.AgentGroupID)
			}
			if diff := cmp.Diff(tt.wantIDs, ids); diff != "" {
				t.Fatalf("ids (-want +got):\n%s", diff)
			}
		})
	}
}

func TestStripSecrets(t *testing.T) {
	t.Parallel()
	in := `{"a":1,"password":"x","nested":{"sipPassword":"y","ok":[{"phoneLoginPin":"1","crmPwd":"2","securityKey":"3",
	"accessToken":"4","clientSecret":"5","allowManualPass":true,"tokenType":"Bearer"}]},"big":12345678901234567890}`
	got := string(stripSecrets([]byte(in)))
	want := `{"a":1,"nested":{"ok":[{"allowManualPass":true,"tokenType":"Bearer"}]},"big":12345678901234567890}` // keys keep their order
	if diff := cmp.Diff(want, got); diff != "" {
		t.Fatalf("StripSecrets (-want +got):\n%s", diff)
	}
	if stripSecrets([]byte(`{"a":`)) != nil {
		t.Fatal("StripSecrets of invalid JSON should be nil")
	}
}

// FuzzDecode feeds arbitrary bodies to every decoder: none may panic, and whatever decodes must
// keep Raw as valid JSON and survive a re-encode.
func FuzzDecode(f *testing.F) {
	for _, name := range []string{"accounts.json", "users_flat.json", "users_nested.json", "agent_groups.json", "agents.json", "login.json",
		"gate_groups.json", "gate_group_skills.json", "dial_groups.json"} {
		f.Add(readTestdata(f, name))
	}
	for _, s := range []string{
		`[]`, `null`, `[null]`, `{"x":[{"agentId":1}]}`, `[{"agentId":"1","createdOn":"2020-05-18T19:22:12.000+0000"}]`,
		`[{"accountId":1e3,"startDate":{"millis":1}}]`, `[{"userId":1,"children":[{"userId":2,"children":[{}]}]}]`,
		`[{"agentGroupId":9223372036854775808}]`, `[{"agentId":1,"isActive":"maybe"}]`, `[{"userId":1,"roles":[1]}]`,
		`[{"agentId":1,"createdOn":"-0000"}]`, `{"accessToken":"a.b.c","mainAccountId":7}`,
		`[{"gateGroupId":1,"gates":[{"gateId":"2"},null,{},3]}]`, `[{"gateGroupId":1,"gates":{}}]`,
		`[{"dialGroupId":1,"campaigns":[{"campaignId":2,"isActive":"1"},{"campaignId":3,"isActive":2}]}]`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		check := func(raws ...json.RawMessage) {
			for _, r := range raws {
				if !json.Valid(r) {
					t.Fatalf("Raw is not valid JSON: %q", r)
				}
			}
		}
		if as, _, err := decodeList[Account](body); err == nil {
			for _, a := range as {
				check(a.Raw)
			}
			if _, err := json.Marshal(as); err != nil {
				t.Fatalf("re-encoding accounts: %v", err)
			}
		}
		if us, _, err := decodeList[User](body); err == nil {
			for _, u := range FlattenUsers(us) {
				check(u.Raw)
				_ = u.ParentUserID()
			}
		}
		if gs, _, err := decodeList[AgentGroup](body); err == nil {
			for _, g := range gs {
				check(g.Raw)
			}
		}
		if ags, _, err := decodeList[Agent](body); err == nil {
			for _, a := range ags {
				check(a.Raw)
				_ = a.CreatedOn.Ptr()
			}
		}
		fuzzConfigListings(t, body, check)
		var w loginResponse
		if json.Unmarshal(body, &w) == nil {
			d := w.details(body)
			if d.Raw != nil {
				check(d.Raw)
			}
		}
		_ = jwtLife(string(body), time.Unix(1e9, 0), expiresIn(body))
		_ = stripSecrets(body)
	})
}

// fuzzConfigListings decodes body as each configuration listing: whatever decodes keeps Raw
// (its children's too) as valid JSON and survives a re-encode.
func fuzzConfigListings(t *testing.T, body []byte, check func(...json.RawMessage)) {
	t.Helper()
	if gs, _, err := decodeList[GateGroup](body); err == nil || errors.As(err, new(*ItemsError)) {
		for _, g := range gs {
			check(g.Raw)
			for _, q := range g.Gates {
				check(q.Raw)
			}
		}
		if _, err := json.Marshal(gs); err != nil {
			t.Fatalf("re-encoding gate groups: %v", err)
		}
	}
	if ss, _, err := decodeList[GateGroupSkill](body); err == nil {
		for _, s := range ss {
			check(s.Raw)
		}
	}
	if ds, _, err := decodeList[DialGroup](body); err == nil || errors.As(err, new(*ItemsError)) {
		for _, d := range ds {
			check(d.Raw)
			for _, c := range d.Campaigns {
				check(c.Raw)
			}
		}
		if _, err := json.Marshal(ds); err != nil {
			t.Fatalf("re-encoding dial groups: %v", err)
		}
	}
}

// nestedUsers is a users listing of one chain of depth users, each the only child of the one
// before, in the unflattened form.
func nestedUsers(depth int) []byte {
	var b strings.Builder
	b.WriteString("[")
	for i := range depth {
		fmt.Fprintf(&b, `{"userId":%d,"userName":"u%d","children":[`, i+1, i+1)
	}
	b.WriteString(strings.Repeat("]}", depth))
	b.WriteString("]")
	return []byte(b.String())
}

func TestUserRawLeavesOutChildren(t *testing.T) {
	t.Parallel()
	body := `[{"userId":1,"children":[{"userId":2,"userName":"b","children":[]},{"userId":3}],"userName":"a"},` +
		`{ "children" : [ {"userId":5} ] , "userId":4},{"userId":6,"children":null}]`
	users, _, err := decodeList[User]([]byte(body))
	if err != nil {
		t.Fatal(err)
	}
	got := map[int64]string{}
	parents := map[int64]int64{}
	for _, u := range FlattenUsers(users) {
		got[u.UserID] = string(u.Raw)
		if p := u.ParentUserID(); p != nil {
			parents[u.UserID] = *p
		}
	}
	want := map[int64]string{
		1: `{"userId":1,"userName":"a"}`,
		2: `{"userId":2,"userName":"b"}`,
		3: `{"userId":3}`,
		4: `{  "userId":4}`, // the first member and its comma go; the spaces around stay
		5: `{"userId":5}`,
		6: `{"userId":6}`,
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("raw (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(map[int64]int64{2: 1, 3: 1, 5: 4}, parents); diff != "" {
		t.Errorf("parents (-want +got):\n%s", diff)
	}
}

// TestDeepUserTreeMemoryIsLinear decodes a chain of 1,000 nested users: each user's Raw used to
// clone its whole subtree, so the memory the decoded users hold grew with the square of the
// depth (about 500 times the body here). It does not call t.Parallel: it reads the process's
// heap, which parallel tests would add to.
func TestDeepUserTreeMemoryIsLinear(t *testing.T) { //nolint:paralleltest // reads process-wide MemStats
	body := nestedUsers(1000)
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	users, _, err := decodeList[User](body)
	if err != nil {
		t.Fatal(err)
	}
	runtime.GC()
	runtime.ReadMemStats(&after)
	if n := len(FlattenUsers(users)); n != 1000 {
		t.Fatalf("decoded %d users, want 1000", n)
	}
	held := int64(after.HeapAlloc) - int64(before.HeapAlloc)
	if limit := int64(32 * len(body)); held > limit {
		t.Errorf("the users of a %d-byte body hold %d bytes (%.0f× the body), want at most 32×",
			len(body), held, float64(held)/float64(len(body)))
	}
	runtime.KeepAlive(users)
}
