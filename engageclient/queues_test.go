package engageclient

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

// ignoreConfigRaw leaves Raw and the unexported child errors out of comparisons of the
// configuration types (Raw is checked on its own).
var ignoreConfigRaw = cmp.Options{
	cmpopts.IgnoreFields(GateGroup{}, "Raw"),
	cmpopts.IgnoreFields(Gate{}, "Raw"),
	cmpopts.IgnoreFields(GateGroupSkill{}, "Raw"),
	cmpopts.IgnoreFields(DialGroup{}, "Raw"),
	cmpopts.IgnoreFields(Campaign{}, "Raw"),
	cmpopts.IgnoreFields(Agent{}, "Raw"),
	cmpopts.IgnoreUnexported(GateGroup{}, DialGroup{}),
}

// The date forms every configuration type reads: the Engage "+0000" and "-0000" forms, RFC 3339
// and the spec's Joda object; null, "" and a non-date are no date.
const (
	dateEngage   = `"2021-02-03T04:05:06.000+0000"`
	dateMinus0   = `"2022-06-30T23:00:00.000-0000"`
	dateRFC3339  = `"2023-09-10T08:00:00-02:00"`
	dateJoda     = `{"millis":1700000000000,"year":2023,"zone":{"fixed":true,"id":"UTC"}}`
	wantEngage   = "2021-02-03T04:05:06Z"
	wantMinus0   = "2022-06-30T23:00:00Z"
	wantRFC3339  = "2023-09-10T10:00:00Z"
	wantJodaTime = "2023-11-14T22:13:20Z"
)

// childErrStrings renders the children an item left out as "child: error".
func childErrStrings(v any) []string {
	ce, ok := v.(childErrorer)
	if !ok {
		return nil
	}
	var out []string
	for _, c := range ce.takeChildErrors() {
		out = append(out, c.child+": "+c.err.Error())
	}
	return out
}

// decodeCase is one row of the configuration types' decoding tables.
type decodeCase[T any] struct {
	name      string
	in        string
	want      *T       // nil with wantErr
	wantChild []string // children left out, "child: error"
	wantErr   string   // substring of the item's error
}

// runDecodeCases decodes each case's object into a T: its error, the value (Raw aside) and
// the children it left out must be the wanted ones, and Raw must be the object as received.
func runDecodeCases[T any](t *testing.T, tests []decodeCase[T], raw func(*T) json.RawMessage) {
	t.Helper()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got := new(T)
			err := json.Unmarshal([]byte(tt.in), got)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("Unmarshal(%s) error = %v, want it to contain %q", tt.in, err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("Unmarshal(%s): %v", tt.in, err)
			}
			if diff := cmp.Diff(tt.want, got, ignoreConfigRaw); diff != "" {
				t.Errorf("Unmarshal(%s) (-want +got):\n%s", tt.in, diff)
			}
			if diff := cmp.Diff(tt.wantChild, childErrStrings(got)); diff != "" {
				t.Errorf("children left out (-want +got):\n%s", diff)
			}
			if string(raw(got)) != tt.in {
				t.Errorf("Raw = %s, want the object as received", raw(got))
			}
		})
	}
}

func TestDecodeGateGroup(t *testing.T) {
	t.Parallel()
	gate1 := `{"gateId":72001,"gateName":"In"}`
	tests := []decodeCase[GateGroup]{
		{name: "numbers and engage date", in: `{"gateGroupId":52001,"groupName":"Support","createdOn":` + dateEngage + `,"gates":[` + gate1 + `]}`,
			want: &GateGroup{GateGroupID: 52001, GroupName: ptr("Support"), CreatedOn: mustTime(t, wantEngage),
				Gates: []*Gate{{GateID: 72001, GateName: ptr("In")}}}},
		{name: "string id, minus-zero date", in: `{"gateGroupId":"52002","createdOn":` + dateMinus0 + `}`,
			want: &GateGroup{GateGroupID: 52002, CreatedOn: mustTime(t, wantMinus0), Gates: []*Gate{}}},
		{name: "rfc3339 date", in: `{"gateGroupId":1,"createdOn":` + dateRFC3339 + `}`,
			want: &GateGroup{GateGroupID: 1, CreatedOn: mustTime(t, wantRFC3339), Gates: []*Gate{}}},
		{name: "joda date", in: `{"gateGroupId":1,"createdOn":` + dateJoda + `}`,
			want: &GateGroup{GateGroupID: 1, CreatedOn: mustTime(t, wantJodaTime), Gates: []*Gate{}}},
		{name: "null fields", in: `{"gateGroupId":1,"groupName":null,"createdOn":null,"gates":null,"groupSkills":null}`,
			want: &GateGroup{GateGroupID: 1, Gates: []*Gate{}}},
		{name: "empty date, empty gates", in: `{"gateGroupId":1,"createdOn":"","gates":[]}`,
			want: &GateGroup{GateGroupID: 1, Gates: []*Gate{}}},
		{name: "not a date", in: `{"gateGroupId":1,"createdOn":"last spring"}`,
			want: &GateGroup{GateGroupID: 1, Gates: []*Gate{}}},
		{name: "null gate skipped", in: `{"gateGroupId":1,"gates":[null,` + gate1 + `]}`,
			want: &GateGroup{GateGroupID: 1, Gates: []*Gate{{GateID: 72001, GateName: ptr("In")}}}},
		{name: "bad gates left out", in: `{"gateGroupId":1,"gates":[{"gateName":"no id"},` + gate1 + `,{"gateId":"x"},7]}`,
			want:      &GateGroup{GateGroupID: 1, Gates: []*Gate{{GateID: 72001, GateName: ptr("In")}}},
			wantChild: []string{"gates[0]: gateId is missing", "gates[2]: gateId: parsing integer (1 bytes): not a number", "gates[3]: expected a JSON object (gate), got a number"}},
		{name: "gates not an array", in: `{"gateGroupId":1,"gates":{"gateId":2}}`,
			want: &GateGroup{GateGroupID: 1, Gates: []*Gate{}}, wantChild: []string{"gates: expected a JSON array, got an object"}},
		{name: "missing id", in: `{"groupName":"x","gates":[` + gate1 + `]}`, wantErr: "gateGroupId is missing"},
		{name: "empty id", in: `{"gateGroupId":""}`, wantErr: "gateGroupId is missing"},
		{name: "bad id", in: `{"gateGroupId":"g-1"}`, wantErr: "gateGroupId: parsing integer"},
		{name: "bad name", in: `{"gateGroupId":1,"groupName":{"x":1}}`, wantErr: "groupName: parsing string"},
		{name: "not an object", in: `[1]`, wantErr: "expected a JSON object (gate group), got an array"},
	}
	runDecodeCases(t, tests, func(g *GateGroup) json.RawMessage { return g.Raw })
}

func TestDecodeGate(t *testing.T) {
	t.Parallel()
	tests := []decodeCase[Gate]{
		{name: "full", in: `{"gateId":72001,"gateName":"In","gateDesc":"Inbound","isActive":true,"gatePriority":3,"createdOn":` + dateEngage + `,"gateGroup":{"id":52001,"description":"Support"}}`,
			want: &Gate{GateID: 72001, GateName: ptr("In"), GateDesc: ptr("Inbound"), IsActive: ptr(true), GatePriority: ptr(int64(3)),
				CreatedOn: mustTime(t, wantEngage)}},
		{name: "numeric strings", in: `{"gateId":"72002","gatePriority":"0","isActive":"false"}`,
			want: &Gate{GateID: 72002, GatePriority: ptr(int64(0)), IsActive: ptr(false)}},
		{name: "isActive 1", in: `{"gateId":1,"isActive":1}`, want: &Gate{GateID: 1, IsActive: ptr(true)}},
		{name: "isActive 0", in: `{"gateId":1,"isActive":0}`, want: &Gate{GateID: 1, IsActive: ptr(false)}},
		{name: "nulls", in: `{"gateId":1,"gateName":null,"gateDesc":null,"isActive":null,"gatePriority":null,"createdOn":null}`,
			want: &Gate{GateID: 1}},
		{name: "absent", in: `{"gateId":1}`, want: &Gate{GateID: 1}},
		{name: "minus-zero date", in: `{"gateId":1,"createdOn":` + dateMinus0 + `}`, want: &Gate{GateID: 1, CreatedOn: mustTime(t, wantMinus0)}},
		{name: "rfc3339 date", in: `{"gateId":1,"createdOn":` + dateRFC3339 + `}`, want: &Gate{GateID: 1, CreatedOn: mustTime(t, wantRFC3339)}},
		{name: "joda date", in: `{"gateId":1,"createdOn":` + dateJoda + `}`, want: &Gate{GateID: 1, CreatedOn: mustTime(t, wantJodaTime)}},
		{name: "number as name", in: `{"gateId":1,"gateName":12}`, want: &Gate{GateID: 1, GateName: ptr("12")}},
		{name: "missing id", in: `{"gateName":"x"}`, wantErr: "gateId is missing"},
		{name: "fractional id", in: `{"gateId":1.5}`, wantErr: "gateId: parsing integer"},
		{name: "isActive 2", in: `{"gateId":1,"isActive":2}`, wantErr: "isActive: parsing boolean"},
		{name: "not an object", in: `"gate"`, wantErr: "expected a JSON object (gate), got a string"},
	}
	runDecodeCases(t, tests, func(g *Gate) json.RawMessage { return g.Raw })
}

func TestDecodeGateGroupSkill(t *testing.T) {
	t.Parallel()
	tests := []decodeCase[GateGroupSkill]{
		{name: "full", in: `{"skillId":3001,"skillName":"Spanish","skillDesc":"Speakers","active":true,"createdOn":` + dateEngage + `}`,
			want: &GateGroupSkill{SkillID: 3001, SkillName: ptr("Spanish"), SkillDesc: ptr("Speakers"), Active: ptr(true), CreatedOn: mustTime(t, wantEngage)}},
		{name: "string id, active false", in: `{"skillId":"3002","active":false}`, want: &GateGroupSkill{SkillID: 3002, Active: ptr(false)}},
		{name: "active 0/1", in: `{"skillId":1,"active":1}`, want: &GateGroupSkill{SkillID: 1, Active: ptr(true)}},
		{name: "isActive when no active", in: `{"skillId":1,"isActive":0}`, want: &GateGroupSkill{SkillID: 1, Active: ptr(false)}},
		{name: "isActive when active null", in: `{"skillId":1,"active":null,"isActive":true}`, want: &GateGroupSkill{SkillID: 1, Active: ptr(true)}},
		{name: "active wins", in: `{"skillId":1,"active":false,"isActive":true}`, want: &GateGroupSkill{SkillID: 1, Active: ptr(false)}},
		{name: "nulls", in: `{"skillId":1,"skillName":null,"skillDesc":null,"createdOn":null}`, want: &GateGroupSkill{SkillID: 1}},
		{name: "minus-zero date", in: `{"skillId":1,"createdOn":` + dateMinus0 + `}`, want: &GateGroupSkill{SkillID: 1, CreatedOn: mustTime(t, wantMinus0)}},
		{name: "rfc3339 date", in: `{"skillId":1,"createdOn":` + dateRFC3339 + `}`, want: &GateGroupSkill{SkillID: 1, CreatedOn: mustTime(t, wantRFC3339)}},
		{name: "joda date", in: `{"skillId":1,"createdOn":` + dateJoda + `}`, want: &GateGroupSkill{SkillID: 1, CreatedOn: mustTime(t, wantJodaTime)}},
		{name: "missing id", in: `{"skillName":"x"}`, wantErr: "skillId is missing"},
		{name: "bad active", in: `{"skillId":1,"active":"sometimes"}`, wantErr: "active: parsing boolean"},
		{name: "not an object", in: `null`, wantErr: "expected a JSON object (gate group skill), got null"},
	}
	runDecodeCases(t, tests, func(s *GateGroupSkill) json.RawMessage { return s.Raw })
}

func TestDecodeGateGroupsFixture(t *testing.T) {
	t.Parallel()
	got, n, err := decodeList[GateGroup](readTestdata(t, "gate_groups.json"))
	if err != nil {
		t.Fatal(err)
	}
	want := []*GateGroup{
		{GateGroupID: 52001, GroupName: ptr("Support"), CreatedOn: mustTime(t, "2021-02-03T04:05:06Z"), Gates: []*Gate{
			{GateID: 72001, GateName: ptr("Support Inbound"), IsActive: ptr(true), GatePriority: ptr(int64(0)), CreatedOn: mustTime(t, "2021-02-03T04:10:00Z")},
			{GateID: 72002, GateName: ptr("Support Callbacks"), GateDesc: ptr("Callback queue"), IsActive: ptr(false), GatePriority: ptr(int64(2)),
				CreatedOn: mustTime(t, "2022-06-30T23:00:00Z")},
		}},
		{GateGroupID: 52002, GroupName: ptr("Billing"), CreatedOn: mustTime(t, "2023-09-10T08:00:00Z"), Gates: []*Gate{}},
		{GateGroupID: 52003, CreatedOn: mustTime(t, wantJodaTime), Gates: []*Gate{}},
		{GateGroupID: 52004, GroupName: ptr("Empty"), Gates: []*Gate{}},
	}
	if diff := cmp.Diff(want, got, ignoreConfigRaw); diff != "" {
		t.Fatalf("gate groups (-want +got):\n%s", diff)
	}
	if n != 4 {
		t.Errorf("n = %d, want 4", n)
	}
	// A group's Raw is the whole object, its gates included; a gate's is its own object.
	if !strings.Contains(string(got[0].Raw), `"gateName": "Support Callbacks"`) || !strings.Contains(string(got[0].Raw), `"billingKey": null`) {
		t.Errorf("group Raw is not the object as received: %s", got[0].Raw)
	}
	if g := string(got[0].Gates[0].Raw); !strings.HasPrefix(g, `{"gateId": 72001`) || !strings.Contains(g, `"maxQueueLimit": -1`) || strings.Contains(g, "72002") {
		t.Errorf("gate Raw is not the gate as received: %s", g)
	}
}

func TestDecodeGateGroupSkillsFixture(t *testing.T) {
	t.Parallel()
	got, _, err := decodeList[GateGroupSkill](readTestdata(t, "gate_group_skills.json"))
	if err != nil {
		t.Fatal(err)
	}
	want := []*GateGroupSkill{
		{SkillID: 3001, SkillName: ptr("Spanish"), SkillDesc: ptr("Spanish speakers"), Active: ptr(true), CreatedOn: mustTime(t, "2021-02-03T04:05:06Z")},
		{SkillID: 3002, SkillName: ptr("Escalation"), Active: ptr(false)},
		{SkillID: 3003, SkillName: ptr("Legacy"), Active: ptr(true), CreatedOn: mustTime(t, "2020-04-22T00:00:00Z")},
	}
	if diff := cmp.Diff(want, got, ignoreConfigRaw); diff != "" {
		t.Fatalf("skills (-want +got):\n%s", diff)
	}
	if !strings.Contains(string(got[0].Raw), `"whisperAudio": null`) {
		t.Errorf("Raw lost fields: %s", got[0].Raw)
	}
}

// A listing of groups whose children fail: the groups come back without those children, the
// groups that fail are left out, and one *ItemsError names both kinds, in listing order. With
// no group failing, decodeList keeps its one-pass path; with one, it decodes item by item.
func TestDecodeGateGroupsChildErrors(t *testing.T) {
	t.Parallel()
	const (
		g1 = `{"gateGroupId":1,"gates":[{"gateId":11}]}`
		g2 = `{"gateGroupId":2,"gates":[{"gateId":21},{"gateName":"no id"},null,{"gateId":23,"isActive":"maybe"}]}`
		g3 = `{"groupName":"no id","gates":[{"gateId":31}]}`
		g4 = `{"gateGroupId":4,"gates":"none"}`
	)
	tests := []struct {
		name       string
		body       string
		wantIndex  []int
		wantChild  []string
		wantGroups map[int64][]int64
		wantPrefix string
	}{
		{"one pass", "[" + g1 + "," + g2 + "," + g4 + "]", []int{1, 1, 2}, []string{"gates[1]", "gates[3]", "gates"},
			map[int64][]int64{1: {11}, 2: {21}, 4: {}},
			"item 1: gates[1]: gateId is missing; item 1: gates[3]: isActive: parsing boolean"},
		{"item by item", "[" + g1 + "," + g2 + "," + g3 + "," + g4 + "]", []int{1, 1, 2, 3}, []string{"gates[1]", "gates[3]", "", "gates"},
			map[int64][]int64{1: {11}, 2: {21}, 4: {}},
			"item 1: gates[1]: gateId is missing; item 1: gates[3]: isActive: parsing boolean (5 bytes): not a boolean; item 2: gateGroupId is missing (and 1 more)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, _, err := decodeList[GateGroup]([]byte(tt.body))
			var ie *ItemsError
			if !errors.As(err, &ie) {
				t.Fatalf("err = %v, want an *ItemsError", err)
			}
			var index []int
			var child []string
			for _, it := range ie.Items {
				index, child = append(index, it.Index), append(child, it.Child)
			}
			if diff := cmp.Diff(tt.wantIndex, index); diff != "" {
				t.Errorf("indexes (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.wantChild, child); diff != "" {
				t.Errorf("children named (-want +got):\n%s", diff)
			}
			if !strings.HasPrefix(err.Error(), tt.wantPrefix) {
				t.Errorf("err = %q\nwant a prefix %q", err, tt.wantPrefix)
			}
			groups := map[int64][]int64{}
			for _, g := range got {
				groups[g.GateGroupID] = []int64{}
				for _, q := range g.Gates {
					groups[g.GateGroupID] = append(groups[g.GateGroupID], q.GateID)
				}
				if len(g.takeChildErrors()) != 0 { // handed over to the listing, once
					t.Errorf("group %d still holds its child errors", g.GateGroupID)
				}
			}
			if diff := cmp.Diff(tt.wantGroups, groups); diff != "" {
				t.Errorf("groups and gates (-want +got):\n%s", diff)
			}
		})
	}
}
