package engageclient

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/evsync/evsync/internal/testing/apispec"
)

// configOperations are the official operations behind the configuration listings: the path
// each method requests ({} for an id, as newURL takes it) and the query parameters it may send.
var configOperations = []struct {
	operationID string
	path        string
	query       []string
	decode      func([]byte) error
}{
	{"getGateGroupListWithChildren", "voice/api/v1/admin/accounts/{}/gateGroups/withChildren", nil, decodeAs[GateGroup]},
	{"getList", "voice/api/v1/admin/accounts/{}/gateGroups/{}/skills", nil, decodeAs[GateGroupSkill]},
	{"getAssignedAgentsForGate", "voice/api/v1/admin/accounts/{}/gateGroups/{}/gates/{}/assignedAgents", []string{"maxRows", "page"}, decodeAs[Agent]},
	{"getDialGroupListWithChildren", "voice/api/v1/admin/accounts/{}/dialGroups/withChildren", nil, decodeAs[DialGroup]},
	{"getAgentsFromDialGroup", "voice/api/v1/admin/accounts/{}/dialGroups/{}/assignedAgents", []string{"maxRows", "page"}, decodeAs[Agent]},
}

func decodeAs[T any](b []byte) error {
	_, _, err := decodeList[T](b)
	return err
}

// The paths the configuration listings request are the official document's GET operations,
// and every query parameter they send is one it declares. The document has no response
// example for any of them (checked here, so that one added later gets decoded).
func TestConfigListingsMatchTheSpec(t *testing.T) {
	t.Parallel()
	raw, err := apispec.Raw(apispec.Admin)
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Paths map[string]map[string]struct {
			OperationID string `json:"operationId"`
			Parameters  []struct {
				Name string `json:"name"`
				In   string `json:"in"`
			} `json:"parameters"`
		} `json:"paths"`
	}
	if err := json.Unmarshal(raw, &doc); err != nil {
		t.Fatal(err)
	}
	for _, o := range configOperations {
		var found bool
		for p, ops := range doc.Paths {
			op, ok := ops["get"]
			if !ok || op.OperationID != o.operationID || !strings.HasPrefix(p, "/voice/api/v1/admin/accounts/") {
				continue
			}
			found = true
			if got := templateOf(p); got != o.path {
				t.Errorf("%s: the spec's path %s, the client's %s", o.operationID, got, o.path)
			}
			var query []string
			for _, prm := range op.Parameters {
				if prm.In == "query" {
					query = append(query, prm.Name)
				}
			}
			for _, q := range o.query {
				if !slices.Contains(query, q) {
					t.Errorf("%s: the client sends %s, which the spec does not declare (%v)", o.operationID, q, query)
				}
			}
		}
		if !found {
			t.Errorf("%s: no GET operation in %s", o.operationID, apispec.Admin)
			continue
		}
		examples, err := apispec.ResponseExamples(apispec.Admin, o.operationID)
		if err != nil {
			continue // none, as of the copied document
		}
		for _, ex := range examples {
			if err := o.decode(ex.Body); err != nil {
				t.Errorf("%s example %q: %v", o.operationID, ex.Name, err)
			}
		}
	}
}

// templateOf turns a spec path template into newURL's: "/voice/…/{accountId}/x" gives
// "voice/…/{}/x".
func templateOf(p string) string {
	parts := strings.Split(strings.TrimPrefix(p, "/"), "/")
	for i, s := range parts {
		if strings.HasPrefix(s, "{") && strings.HasSuffix(s, "}") {
			parts[i] = "{}"
		}
	}
	return strings.Join(parts, "/")
}

func TestTemplateOf(t *testing.T) {
	t.Parallel()
	got := templateOf("/voice/api/v1/admin/accounts/{accountId}/gateGroups/{gateGroupId}/skills")
	if diff := cmp.Diff("voice/api/v1/admin/accounts/{}/gateGroups/{}/skills", got); diff != "" {
		t.Errorf("templateOf (-want +got):\n%s", diff)
	}
}
