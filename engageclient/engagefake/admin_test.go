package engagefake_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/evsync/evsync/engageclient/engagefake"
	"github.com/google/go-cmp/cmp"
)

// fetchAll fetches every admin listing of the tenant, in a fixed order.
func fetchAll(t *testing.T, s *engagefake.Server, base, token string) map[string][]byte {
	t.Helper()
	out := make(map[string][]byte)
	paths := []string{accountsPath, usersPath + "?flatten=true", usersPath + "?flatten=false", usersPath + "?flatten=true&activeOnly=true"}
	for _, acc := range s.SubAccountIDs() {
		paths = append(paths, groupsPath(acc))
		for _, gid := range s.AgentGroupIDs(acc) {
			paths = append(paths, agentsPath(acc, gid))
		}
	}
	paths = append(paths, s.ConfigPaths()...)
	for _, p := range paths {
		r := get(t, base+p, token)
		if r.status != http.StatusOK {
			t.Fatalf("GET %s: %d %s", p, r.status, r.body)
		}
		if !json.Valid(r.body) {
			t.Fatalf("GET %s: invalid JSON", p)
		}
		out[p] = r.body
	}
	return out
}

func TestDeterministicGeneration(t *testing.T) {
	t.Parallel()
	spec := engagefake.TenantSpec{MainAccounts: 2, SubAccountsPerMain: 2, AgentGroupsPerSubAccount: 2, AgentsPerGroup: 4, Users: 12}
	s1, base1 := start(t, engagefake.Options{Seed: 42, Tenant: spec})
	s2, base2 := start(t, engagefake.Options{Seed: 42, Tenant: spec})
	s3, base3 := start(t, engagefake.Options{Seed: 43, Tenant: spec})
	at1, _ := login(t, base1)
	at2, _ := login(t, base2)
	at3, _ := login(t, base3)
	a, b, c := fetchAll(t, s1, base1, at1), fetchAll(t, s2, base2, at2), fetchAll(t, s3, base3, at3)
	if len(a) != len(b) {
		t.Fatalf("same seed, %d vs %d listings", len(a), len(b))
	}
	for p, body := range a {
		if !bytes.Equal(body, b[p]) {
			t.Errorf("same seed, different bytes for %s", p)
		}
	}
	if bytes.Equal(a[accountsPath], c[accountsPath]) {
		t.Error("different seeds produced identical accounts")
	}
	// A second read (from the cache) is identical too.
	if r := get(t, base1+accountsPath, at1); !bytes.Equal(r.body, a[accountsPath]) {
		t.Error("second read differs from the first")
	}
}

func TestCountsMatchSpec(t *testing.T) {
	t.Parallel()
	spec := engagefake.TenantSpec{MainAccounts: 2, SubAccountsPerMain: 3, AgentGroupsPerSubAccount: 4, AgentsPerGroup: 7, Users: 25}
	s, base := start(t, engagefake.Options{Seed: 7, Tenant: spec})
	want := engagefake.Counts{MainAccounts: 2, SubAccounts: 6, Users: 25, AgentGroups: 24, Agents: 168,
		QueueGroups: 12, Queues: 36, Skills: 24, DialGroups: 12, Campaigns: 24, QueueAssignments: 108, DialGroupAssignments: 36}
	if diff := cmp.Diff(want, s.Counts()); diff != "" {
		t.Fatalf("Counts (-want +got):\n%s", diff)
	}
	at, _ := login(t, base)
	all := fetchAll(t, s, base, at)
	got := engagefake.Counts{}
	mains := map[string]bool{}
	for _, acc := range decode[[]map[string]any](t, response{body: all[accountsPath]}) {
		got.SubAccounts++
		mains[acc["mainAccountId"].(string)] = true
	}
	got.MainAccounts = len(mains)
	got.Users = len(decode[[]map[string]any](t, response{body: all[usersPath+"?flatten=true"]}))
	for p, body := range all {
		n := len(decode[[]json.RawMessage](t, response{body: body}))
		switch {
		case strings.HasSuffix(p, "/agentGroups"):
			got.AgentGroups += n
		case strings.HasSuffix(p, "/agents"):
			got.Agents += n
		case strings.HasSuffix(p, "/gateGroups/withChildren"):
			got.QueueGroups += n
			for _, g := range decode[[]struct{ Gates []json.RawMessage }](t, response{body: body}) {
				got.Queues += len(g.Gates)
			}
		case strings.HasSuffix(p, "/dialGroups/withChildren"):
			got.DialGroups += n
			for _, d := range decode[[]struct{ Campaigns []json.RawMessage }](t, response{body: body}) {
				got.Campaigns += len(d.Campaigns)
			}
		case strings.HasSuffix(p, "/skills"):
			got.Skills += n
		case strings.Contains(p, "/gates/"):
			got.QueueAssignments += n
		case strings.HasSuffix(p, "/assignedAgents"):
			got.DialGroupAssignments += n
		}
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("counts served by the API (-want +got):\n%s", diff)
	}
	// Defaults.
	d := engagefake.New(engagefake.Options{})
	if diff := cmp.Diff(engagefake.Counts{MainAccounts: 1, SubAccounts: 2, Users: 10, AgentGroups: 6, Agents: 30,
		QueueGroups: 4, Queues: 12, Skills: 8, DialGroups: 4, Campaigns: 8, QueueAssignments: 36, DialGroupAssignments: 12}, d.Counts()); diff != "" {
		t.Errorf("default Counts (-want +got):\n%s", diff)
	}
	// Negative sizes mean none.
	e := engagefake.New(engagefake.Options{Tenant: engagefake.TenantSpec{AgentsPerGroup: -1, Users: -1}})
	if c := e.Counts(); c.Agents != 0 || c.Users != 0 || c.AgentGroups != 6 {
		t.Errorf("negative sizes: %+v", c)
	}
}

var (
	apiDateRE   = regexp.MustCompile(`^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}[+-]0000$`)
	secretRE    = regexp.MustCompile(`^sEcReT-[0-9a-f]{16}$`)
	numericIDRE = regexp.MustCompile(`^\d+$`)
)

func TestGeneratedFields(t *testing.T) {
	t.Parallel()
	s, base := start(t, engagefake.Options{Seed: 11, Tenant: engagefake.TenantSpec{MainAccounts: 2, SubAccountsPerMain: 4, AgentsPerGroup: 30, Users: 40}})
	at, _ := login(t, base)
	all := fetchAll(t, s, base, at)

	accounts := decode[[]map[string]any](t, response{body: all[accountsPath]})
	var archived, nullEnd int
	for _, a := range accounts {
		for _, k := range []string{"accountId", "accountName", "mainAccountId", "mainAccountName", "archivedAccount", "startDate",
			"endDate", "crmPwd", "ftpPwd", "securityKey", "phoneRecordingPin", "mainAccount", "rcAccountAccess", "wfmType"} {
			if _, ok := a[k]; !ok {
				t.Errorf("account lacks %q", k)
			}
		}
		if !numericIDRE.MatchString(a["accountId"].(string)) || !numericIDRE.MatchString(a["mainAccountId"].(string)) {
			t.Errorf("account ids %v/%v are not numeric strings", a["accountId"], a["mainAccountId"])
		}
		if !apiDateRE.MatchString(a["startDate"].(string)) {
			t.Errorf("startDate %q is not in the +0000 form", a["startDate"])
		}
		if a["archivedAccount"] == true {
			archived++
		}
		if a["endDate"] == nil {
			nullEnd++
		}
		if !secretRE.MatchString(a["ftpPwd"].(string)) || !secretRE.MatchString(a["securityKey"].(string)) {
			t.Errorf("ftpPwd/securityKey not recognizable secrets: %v %v", a["ftpPwd"], a["securityKey"])
		}
		if m, ok := a["mainAccount"].(map[string]any); !ok || m["rcAccountId"] == nil || m["mainAccountId"] != a["mainAccountId"] {
			t.Errorf("mainAccount = %v", a["mainAccount"])
		}
	}
	if archived == 0 || nullEnd == 0 {
		t.Errorf("want some archived accounts (%d) and some null endDates (%d)", archived, nullEnd)
	}

	var agents []map[string]any
	var groups []map[string]any
	for p, body := range all {
		switch {
		case strings.HasSuffix(p, "/agents"):
			agents = append(agents, decode[[]map[string]any](t, response{body: body})...)
		case strings.HasSuffix(p, "/agentGroups"):
			gs := decode[[]map[string]any](t, response{body: body})
			groups = append(groups, gs...)
			if len(gs) == 0 || gs[0]["isDefault"] != true {
				t.Errorf("%s: first group is not the default group", p)
			}
		}
	}
	for _, g := range groups {
		if _, ok := g["permissions"].([]any); !ok || g["groupName"] == "" {
			t.Errorf("agent group %v lacks permissions/groupName", g)
		}
	}
	var nullLogin, minusLogin, nullRC, inactive int
	nonASCII := false
	for _, a := range agents {
		for _, k := range []string{"agentId", "agentGroupId", "firstName", "lastName", "username", "email", "password", "sipPassword",
			"phoneLoginPin", "agentType", "rcUserId", "isActive", "createdOn", "lastLoginDate", "allowManualPass", "regionalSettings"} {
			if _, ok := a[k]; !ok {
				t.Fatalf("agent lacks %q", k)
			}
		}
		for _, k := range []string{"password", "sipPassword", "phoneLoginPin"} {
			if !secretRE.MatchString(a[k].(string)) {
				t.Errorf("agent %s = %q is not a recognizable secret", k, a[k])
			}
		}
		if !apiDateRE.MatchString(a["createdOn"].(string)) {
			t.Errorf("createdOn %q", a["createdOn"])
		}
		switch v := a["lastLoginDate"].(type) {
		case nil:
			nullLogin++
		case string:
			if !apiDateRE.MatchString(v) {
				t.Errorf("lastLoginDate %q", v)
			}
			if strings.HasSuffix(v, "-0000") {
				minusLogin++
			}
		}
		// The spec's types: rcUserId int64 (or null), agentGroupId int32. String forms are
		// set by the tests that need them (UpdateAgent), never generated.
		switch v := a["rcUserId"].(type) {
		case nil:
			nullRC++
		case float64:
		default:
			t.Errorf("agent %v: rcUserId %#v is not a number", a["agentId"], v)
		}
		if _, ok := a["agentGroupId"].(float64); !ok {
			t.Errorf("agent %v: agentGroupId %#v is not a number", a["agentId"], a["agentGroupId"])
		}
		if a["isActive"] == false {
			inactive++
		}
		for _, r := range a["firstName"].(string) + a["lastName"].(string) {
			if r > 127 {
				nonASCII = true
			}
		}
	}
	if nullLogin == 0 || minusLogin == 0 || nullRC == 0 || inactive == 0 || !nonASCII {
		t.Errorf("want variety: null lastLoginDate %d, -0000 %d, null rcUserId %d, inactive %d, non-ASCII %v",
			nullLogin, minusLogin, nullRC, inactive, nonASCII)
	}

	users := decode[[]map[string]any](t, response{body: all[usersPath+"?flatten=true"]})
	for _, u := range users {
		roles, ok := u["roles"].([]any)
		if !ok || len(roles) == 0 {
			t.Fatalf("user roles = %v", u["roles"])
		}
		if r, ok := roles[0].(map[string]any); !ok || r["roleType"] == nil || r["description"] == nil {
			t.Errorf("role %v is not {roleType, description}", roles[0])
		}
		if !apiDateRE.MatchString(u["creationDate"].(string)) {
			t.Errorf("creationDate %q", u["creationDate"])
		}
		if _, ok := u["rcUserId"].(float64); !ok {
			t.Errorf("user %v: rcUserId %#v is not a number", u["userId"], u["rcUserId"])
		}
	}
}

func TestSecretValues(t *testing.T) {
	t.Parallel()
	s, base := start(t, engagefake.Options{Seed: 5})
	at, rt := login(t, base)
	secrets := s.SecretValues()
	for _, want := range []string{engagefake.ClientSecretDefault, engagefake.JWTDefault, at, rt} {
		if !slices.Contains(secrets, want) {
			t.Errorf("SecretValues lacks a credential or token (%d chars)", len(want))
		}
	}
	// Every secret-bearing value served by the API is listed.
	all := fetchAll(t, s, base, at)
	var walk func(v any)
	found := 0
	walk = func(v any) {
		switch v := v.(type) {
		case map[string]any:
			for k, x := range v {
				switch k {
				case "password", "sipPassword", "phoneLoginPin", "crmPwd", "ftpPwd", "securityKey", "phoneRecordingPin", "httpPassword":
					if x == nil {
						continue
					}
					str := fmt.Sprint(x)
					if f, ok := x.(float64); ok {
						str = strconv.FormatInt(int64(f), 10)
					}
					found++
					if !slices.Contains(secrets, str) {
						t.Errorf("SecretValues lacks %s value", k)
					}
				default:
					walk(x)
				}
			}
		case []any:
			for _, x := range v {
				walk(x)
			}
		}
	}
	for _, body := range all {
		var v any
		if err := json.Unmarshal(body, &v); err != nil {
			t.Fatal(err)
		}
		walk(v)
	}
	if found < 30*3 {
		t.Errorf("found only %d secret values in the API output", found)
	}
	seen := map[string]bool{}
	for _, v := range secrets {
		if seen[v] && strings.HasPrefix(v, "sEcReT-") {
			t.Errorf("secret value %q is not unique", v)
		}
		seen[v] = true
	}
}

func TestAgentGroupPaging(t *testing.T) {
	t.Parallel()
	s, base := start(t, engagefake.Options{Tenant: engagefake.TenantSpec{SubAccountsPerMain: 1, AgentGroupsPerSubAccount: 7, AgentsPerGroup: 1}})
	at, _ := login(t, base)
	acc := s.SubAccountIDs()[0]
	full := decode[[]map[string]any](t, get(t, base+groupsPath(acc), at))
	if len(full) != 7 {
		t.Fatalf("full list has %d groups, want 7", len(full))
	}
	var paged []map[string]any
	for page, want := range []int{3, 3, 1, 0} {
		r := get(t, base+groupsPath(acc)+"?page="+strconv.Itoa(page)+"&maxRows=3", at)
		got := decode[[]map[string]any](t, r)
		if len(got) != want {
			t.Fatalf("page %d: %d groups, want %d", page, len(got), want)
		}
		paged = append(paged, got...)
	}
	if diff := cmp.Diff(full, paged); diff != "" {
		t.Errorf("pages joined differ from the full list (-full +paged):\n%s", diff)
	}
	if got := decode[[]map[string]any](t, get(t, base+groupsPath(acc)+"?maxRows=2", at)); len(got) != 2 {
		t.Errorf("maxRows without page: %d groups, want 2 (page 0)", len(got))
	}
	for _, q := range []string{"?page=-1&maxRows=2", "?page=x&maxRows=2", "?page=0&maxRows=0"} {
		if r := get(t, base+groupsPath(acc)+q, at); r.status != http.StatusBadRequest {
			t.Errorf("%s: status %d, want 400", q, r.status)
		}
	}
	if r := get(t, base+groupsPath("99999"), at); r.status != http.StatusNotFound {
		t.Errorf("unknown account: status %d, want 404", r.status)
	} else if e := decode[map[string]any](t, r); e["generalMessage"] == nil || e["requestUri"] == nil {
		t.Errorf("404 body is not an Errors object: %s", r.body)
	}
	if r := get(t, base+agentsPath(acc, 1), at); r.status != http.StatusNotFound {
		t.Errorf("unknown group: status %d, want 404", r.status)
	}
}

// userNode is a user as listed.
type userNode struct {
	UserID     int        `json:"userId"`
	ParentPath *string    `json:"parentPath"`
	RootUser   bool       `json:"rootUser"`
	Enabled    bool       `json:"enabled"`
	Children   []userNode `json:"children"`
}

func TestUsersHierarchy(t *testing.T) {
	t.Parallel()
	_, base := start(t, engagefake.Options{Seed: 9, Tenant: engagefake.TenantSpec{Users: 60}})
	at, _ := login(t, base)
	flat := decode[[]userNode](t, get(t, base+usersPath+"?flatten=true", at))
	nested := decode[[]userNode](t, get(t, base+usersPath, at))
	if len(flat) != 60 {
		t.Fatalf("flattened: %d users, want 60", len(flat))
	}
	// Walk the nested form, computing each user's path, and compare with parentPath: the
	// ancestors' ids root first, joined with "." (the spec's "2181.2979.2983.3064"); null for
	// a root user.
	paths := map[int]string{}
	maxDepth := 0
	var walk func(n userNode, path string, depth int)
	walk = func(n userNode, path string, depth int) {
		if _, dup := paths[n.UserID]; dup {
			t.Errorf("user %d listed twice", n.UserID)
		}
		paths[n.UserID] = path
		maxDepth = max(maxDepth, depth)
		for _, c := range n.Children {
			walk(c, strings.TrimPrefix(path+"."+strconv.Itoa(n.UserID), "."), depth+1)
		}
	}
	for _, root := range nested {
		if !root.RootUser || root.ParentPath != nil {
			t.Errorf("top-level user %d: rootUser %v parentPath %v, want true and null", root.UserID, root.RootUser, root.ParentPath)
		}
		walk(root, "", 0)
	}
	if len(paths) != len(flat) {
		t.Errorf("nested form has %d users, flattened %d", len(paths), len(flat))
	}
	pathRE := regexp.MustCompile(`^\d+(\.\d+)*$`)
	roots := 0
	for _, u := range flat {
		got := ""
		if u.ParentPath != nil {
			got = *u.ParentPath
			if !pathRE.MatchString(got) {
				t.Errorf("user %d: parentPath %q is not dot-joined ids", u.UserID, got)
			}
		}
		if want := paths[u.UserID]; got != want {
			t.Errorf("user %d: parentPath %q, nesting says %q", u.UserID, got, want)
		}
		if u.RootUser != (u.ParentPath == nil) {
			t.Errorf("user %d: rootUser %v with parentPath %v", u.UserID, u.RootUser, u.ParentPath)
		}
		if len(u.Children) != 0 {
			t.Errorf("flattened user %d has children", u.UserID)
		}
		if u.RootUser {
			roots++
		}
	}
	if roots < 2 || maxDepth < 3 {
		t.Errorf("hierarchy too flat: %d roots, depth %d", roots, maxDepth)
	}
	// activeOnly drops disabled users in both forms.
	active := decode[[]userNode](t, get(t, base+usersPath+"?flatten=true&activeOnly=true", at))
	nActive := 0
	for _, u := range flat {
		if u.Enabled {
			nActive++
		}
	}
	if len(active) != nActive || nActive == len(flat) {
		t.Errorf("activeOnly: %d users, want %d (of %d)", len(active), nActive, len(flat))
	}
	count := 0
	var countNested func(ns []userNode)
	countNested = func(ns []userNode) {
		for _, n := range ns {
			if !n.Enabled {
				t.Errorf("activeOnly nested listing has disabled user %d", n.UserID)
			}
			count++
			countNested(n.Children)
		}
	}
	countNested(decode[[]userNode](t, get(t, base+usersPath+"?activeOnly=true", at)))
	if count != nActive {
		t.Errorf("activeOnly nested: %d users, want %d", count, nActive)
	}
	if r := get(t, base+usersPath+"?flatten=maybe", at); r.status != http.StatusBadRequest {
		t.Errorf("flatten=maybe: %d, want 400", r.status)
	}
}

func TestLargeTenant(t *testing.T) {
	t.Parallel()
	spec := engagefake.TenantSpec{MainAccounts: 1, SubAccountsPerMain: 5, AgentGroupsPerSubAccount: 100, AgentsPerGroup: 200, Users: 500}
	s, base := start(t, engagefake.Options{Tenant: spec})
	if c := s.Counts(); c.Agents != 100_000 || c.AgentGroups != 500 {
		t.Fatalf("Counts = %+v", c)
	}
	at, _ := login(t, base)
	acc := s.SubAccountIDs()[4]
	gid := s.AgentGroupIDs(acc)[99]
	agents := decode[[]map[string]any](t, get(t, base+agentsPath(acc, gid), at))
	if len(agents) != 200 {
		t.Fatalf("group %d has %d agents, want 200", gid, len(agents))
	}
	if ids := s.AgentIDs(gid); ids[199] != 100_000+100_000 {
		t.Errorf("last agent id = %d, want 200000", ids[199])
	}
}

func TestIncludePermissions(t *testing.T) {
	t.Parallel()
	s, base := start(t, engagefake.Options{})
	at, _ := login(t, base)
	acc := s.SubAccountIDs()[0]
	for q, want := range map[string]int{"": 0, "?includePermissions=false": 0, "?includePermissions=true": 5} {
		for _, g := range decode[[]map[string]any](t, get(t, base+groupsPath(acc)+q, at)) {
			if n := len(g["permissions"].([]any)); n != want {
				t.Errorf("%q: %d permissions, want %d", q, n, want)
			}
		}
	}
}
