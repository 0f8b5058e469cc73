package sync

import (
	"encoding/json"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/evsync/evsync/engageclient"
)

// TestUserRowsNestedAndFlatAgree: the nested listing (children) and the flattened one
// (parentPath) give the same rows and parents.
func TestUserRowsNestedAndFlatAgree(t *testing.T) {
	t.Parallel()
	nested := `[{"userId":1,"rootUser":true,"parentPath":null,"roles":[{"roleType":"SUPER_USER"}],"children":[
		{"userId":2,"children":[{"userId":4,"children":[]}]},{"userId":3}]}]`
	// The spec's form: ancestors root first, joined with "." (getUserList's example).
	flat := `[{"userId":1,"rootUser":true,"parentPath":"","roles":[{"roleType":"SUPER_USER"}]},
		{"userId":2,"parentPath":"1"},{"userId":4,"parentPath":"1.2"},{"userId":3,"parentPath":"1"}]`
	parents := func(js string) map[int64]int64 {
		t.Helper()
		var users []*engageclient.User
		if err := json.Unmarshal([]byte(js), &users); err != nil {
			t.Fatal(err)
		}
		out := map[int64]int64{}
		for _, r := range userRows(users) {
			var p int64
			if parent := r.Vals[0].(*int64); parent != nil { // parent_user_id
				p = *parent
			}
			out[r.N[0]] = p
		}
		return out
	}
	want := map[int64]int64{1: 0, 2: 1, 3: 1, 4: 2}
	for name, js := range map[string]string{"nested": nested, "flat": flat} {
		if diff := cmp.Diff(want, parents(js)); diff != "" {
			t.Errorf("%s: parents (-want +got):\n%s", name, diff)
		}
	}
}
