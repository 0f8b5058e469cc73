package main

import (
	"encoding/json"
	"regexp"
	"strings"
	"testing"

	"github.com/evsync/evsync/engageclient/engagefake"
)

// The API's drift as a user of the binary sees it: the first sync says it recorded a
// baseline; after the fake adds, removes and retypes fields, a dry run prints the changes and
// writes none, the sync prints and records them and warns naming the typed columns, status
// lists them; a no-op sync reports none and status points back at the run that had them.
func TestE2EFieldDriftShownAndRecorded(t *testing.T) {
	t.Parallel()
	e := newE2E(t, engagefake.Options{Seed: 91, Tenant: engagefake.TenantSpec{MainAccounts: 1, SubAccountsPerMain: 1,
		AgentGroupsPerSubAccount: 2, AgentsPerGroup: 3, Users: 3}})
	e.writeConfig("engage:\n  requests_per_minute: 6000\n")
	r := e.mustRun(0, "sync")
	if !strings.Contains(r.stdout, "api fields: recorded a baseline for accounts, sub_accounts, users, agent_groups, agents") {
		t.Errorf("first sync does not report the baseline:\n%s", r.stdout)
	}
	if err := e.fake.Mutate(func(tn *engagefake.Tenant) error {
		for a := range tn.Agents() {
			a.Set = map[string]any{"wrapUpProfile": "wrap-value-4711", "isActive": 0}
		}
		for _, u := range tn.Users {
			u.Set = map[string]any{"firstName": engagefake.Omit}
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	row := func(out string, fields ...string) bool {
		re := regexp.MustCompile(`(?m)^\s*` + strings.Join(fields, `\s+`) + `\s*$`)
		return re.MatchString(out)
	}
	wantRows := [][]string{
		{"users", "removed", "firstName", "string", "-", `users\.first_name`},
		{"agents", "added", "wrapUpProfile", "-", "string", "-"},
		{"agents", "type_changed", "isActive", "boolean", "number", `agents\.is_active`},
	}

	r = e.mustRun(0, "sync", "--dry-run")
	if !strings.Contains(r.stdout, "api fields: 3 changes a run would record:") {
		t.Errorf("dry run does not announce the changes:\n%s", r.stdout)
	}
	for _, w := range wantRows {
		if !row(r.stdout, w...) {
			t.Errorf("dry run does not show %v:\n%s", w, r.stdout)
		}
	}
	if n := e.count(`SELECT count(*) FROM engage.api_field_changes`); n != 0 {
		t.Errorf("the dry run wrote %d change rows", n)
	}

	r = e.mustRun(0, "sync")
	if !strings.Contains(r.stdout, "api fields: 3 changes (api_field_changes):") {
		t.Errorf("sync does not announce the changes:\n%s", r.stdout)
	}
	var warned []string
	for line := range strings.SplitSeq(r.stderr, "\n") {
		var m map[string]any
		if json.Unmarshal([]byte(line), &m) == nil && m["level"] == "WARN" && m["column"] != nil {
			warned = append(warned, m["column"].(string))
		}
	}
	if strings.Join(warned, " ") != "users.first_name agents.is_active" {
		t.Errorf("warnings name the columns %v, want users.first_name and agents.is_active\n%s", warned, r.stderr)
	}
	if n := e.count(`SELECT count(*) FROM engage.api_field_changes WHERE run_id = 2`); n != 3 {
		t.Errorf("run 2 recorded %d change rows, want 3", n)
	}
	r = e.mustRun(0, "status")
	if !strings.Contains(r.stdout, "changes in run 2:") {
		t.Errorf("status does not list run 2's changes:\n%s", r.stdout)
	}
	for _, w := range wantRows {
		if !row(r.stdout, w...) {
			t.Errorf("status does not show %v:\n%s", w, r.stdout)
		}
	}

	r = e.mustRun(0, "sync")
	if !regexp.MustCompile(`api fields: no changes \(\d+ paths in 5 entities\)`).MatchString(r.stdout) {
		t.Errorf("a no-op sync does not say there were no changes:\n%s", r.stdout)
	}
	r = e.mustRun(0, "status")
	if !strings.Contains(r.stdout, "none changed in run 3, the latest changes were in run 2 at ") {
		t.Errorf("status after the no-op run:\n%s", r.stdout)
	}
}
