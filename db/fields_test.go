package db_test

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/jackc/pgx/v5"

	"github.com/evsync/evsync/db"
	"github.com/evsync/evsync/internal/entity"
)

// driftTenant is newTenant with richer agent and user objects: every agent carries a nested
// object and an array, every user a nickname.
func driftTenant() *tenant {
	tn := newTenant(2)
	for i := range tn.agents {
		a := &tn.agents[i]
		a.Raw = fmt.Appendf(nil, `{"agentId":%d,"agentGroupId":%d,"isActive":true,"team":{"name":"T%d"},"skills":[{"skillId":1}]}`,
			a.AgentID, a.AgentGroupID, i)
	}
	for i := range tn.users {
		u := &tn.users[i]
		u.Raw = fmt.Appendf(nil, `{"userId":%d,"nickname":"nick%d","roles":[{"roleType":"ADMIN"}]}`, u.UserID, i)
	}
	return tn
}

// apiFields returns api_fields as "entity path types" lines, sorted.
func (f *fixture) apiFields(name entity.Name) []string {
	f.t.Helper()
	rows, err := f.pool.Query(f.t.Context(), fmt.Sprintf(`SELECT path || ' ' || array_to_string(json_types, ',')
FROM %s.api_fields WHERE entity = $1 ORDER BY path`, f.schema), string(name))
	if err != nil {
		f.t.Fatal(err)
	}
	out, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		f.t.Fatal(err)
	}
	return out
}

// apiChanges returns the api_field_changes of run as FieldChanges, in the table's key order.
func (f *fixture) apiChanges(run int64) []db.FieldChange {
	f.t.Helper()
	rows, err := f.pool.Query(f.t.Context(), fmt.Sprintf(`SELECT entity, path, change, coalesce(old_type, ''), coalesce(new_type, '')
FROM %s.api_field_changes WHERE run_id = $1 ORDER BY entity, path`, f.schema), run)
	if err != nil {
		f.t.Fatal(err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (db.FieldChange, error) {
		var c db.FieldChange
		err := r.Scan(&c.Entity, &c.Path, &c.Change, &c.OldType, &c.NewType)
		return c, err
	})
	if err != nil {
		f.t.Fatal(err)
	}
	return out
}

// sortChanges orders changes as apiChanges reads them.
func sortChanges(cs []db.FieldChange) []db.FieldChange {
	return slices.SortedFunc(slices.Values(cs), func(a, b db.FieldChange) int {
		if c := strings.Compare(string(a.Entity), string(b.Entity)); c != 0 {
			return c
		}
		return strings.Compare(a.Path, b.Path)
	})
}

// The first run records a baseline and no changes; a no-op run records none either; then a key
// added to every agent (a secret one included, by name), a key removed from every user and a
// type changed on an agent key are each one change row, and api_fields follows.
func TestFieldsDrift(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	tn := driftTenant()
	res, run1, err := f.sync(tn, syncOpts{})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.FieldChanges) != 0 || f.count(`SELECT count(*) FROM %s.api_field_changes`) != 0 {
		t.Errorf("baseline run: changes %v", res.FieldChanges)
	}
	for _, ef := range res.Fields {
		if !ef.Baseline {
			t.Errorf("first run: %s not a baseline", ef.Entity)
		}
	}
	wantAgents := []string{"agentGroupId number", "agentId number", "isActive boolean", "skills array",
		"skills[] object", "skills[].skillId number", "team object", "team.name string"}
	if diff := cmp.Diff(wantAgents, f.apiFields(entity.Agents)); diff != "" {
		t.Errorf("agents api_fields after the baseline (-want +got):\n%s", diff)
	}
	if n := f.count(`SELECT count(*) FROM %s.api_fields WHERE first_seen_run_id = $1 AND last_seen_run_id = $1`, run1); n != f.count(`SELECT count(*) FROM %s.api_fields`) {
		t.Errorf("baseline rows with first and last seen run %d: %d", run1, n)
	}

	res, run2, err := f.sync(tn, syncOpts{})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.FieldChanges) != 0 || len(f.apiChanges(run2)) != 0 {
		t.Errorf("no-op run: changes %v", res.FieldChanges)
	}
	if n := f.count(`SELECT count(*) FROM %s.api_fields WHERE first_seen_run_id = $1 AND last_seen_run_id = $2`, run1, run2); n != int64(len(wantAgents))+f.count(`SELECT count(*) FROM %s.api_fields WHERE entity <> 'agents'`) {
		t.Errorf("after the no-op run, rows first seen in %d and last seen in %d: %d", run1, run2, n)
	}

	next := tn.clone()
	for i := range next.agents {
		a := &next.agents[i]
		a.Raw = fmt.Appendf(nil, `{"agentId":%d,"agentGroupId":"%d","isActive":true,"team":{"name":"T%d"},"skills":[{"skillId":1}],"teamLead":"lead-value-%d","password":"hunter2-%d"}`,
			a.AgentID, a.AgentGroupID, i, i, i)
	}
	for i := range next.users {
		u := &next.users[i]
		u.Raw = fmt.Appendf(nil, `{"userId":%d,"roles":[{"roleType":"ADMIN"}]}`, u.UserID)
	}
	res, run3, err := f.sync(next, syncOpts{})
	if err != nil {
		t.Fatal(err)
	}
	want := []db.FieldChange{ // in entity order (internal/entity), then by path
		{Entity: entity.Users, Path: "nickname", Change: db.FieldRemoved, OldType: "string"},
		{Entity: entity.Agents, Path: "agentGroupId", Change: db.FieldTypeChanged, OldType: "number", NewType: "string"},
		{Entity: entity.Agents, Path: "password", Change: db.FieldAdded, NewType: "string"},
		{Entity: entity.Agents, Path: "teamLead", Change: db.FieldAdded, NewType: "string"},
	}
	if diff := cmp.Diff(want, res.FieldChanges); diff != "" {
		t.Errorf("result's changes (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(sortChanges(want), f.apiChanges(run3)); diff != "" {
		t.Errorf("api_field_changes of run %d (-want +got):\n%s", run3, diff)
	}
	wantAgents = []string{"agentGroupId string", "agentId number", "isActive boolean", "password string", "skills array",
		"skills[] object", "skills[].skillId number", "team object", "team.name string", "teamLead string"}
	if diff := cmp.Diff(wantAgents, f.apiFields(entity.Agents)); diff != "" {
		t.Errorf("agents api_fields after the changes (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"roles array", "roles[] object", "roles[].roleType string", "userId number"}, f.apiFields(entity.Users)); diff != "" {
		t.Errorf("users api_fields after the removal (-want +got):\n%s", diff)
	}
	// Names only: no value reaches either table.
	var text string
	if err := f.pool.QueryRow(t.Context(), fmt.Sprintf(`SELECT (SELECT string_agg(t::text, ' ') FROM %[1]s.api_fields t) || ' ' ||
(SELECT string_agg(t::text, ' ') FROM %[1]s.api_field_changes t)`, f.schema)).Scan(&text); err != nil {
		t.Fatal(err)
	}
	for _, v := range []string{"hunter2", "lead-value", "nick0", "T0", "ADMIN"} {
		if strings.Contains(text, v) {
			t.Errorf("a value (%q) is in the drift tables: %s", v, text)
		}
	}
	// The secret value never reached raw either; its name is in api_fields only.
	if n := f.count(`SELECT count(*) FROM %s.agents WHERE raw::text LIKE '%%hunter2%%' OR raw ? 'password'`); n != 0 {
		t.Errorf("%d agents keep the password in raw", n)
	}

	// A path that holds only nulls changed type (to "null"); one that comes back is added again.
	again := tn.clone()
	for i := range again.users {
		u := &again.users[i]
		u.Raw = fmt.Appendf(nil, `{"userId":%d,"nickname":"n","roles":null}`, u.UserID)
	}
	res, _, err = f.sync(again, syncOpts{})
	if err != nil {
		t.Fatal(err)
	}
	var users []db.FieldChange
	for _, c := range res.FieldChanges {
		if c.Entity == entity.Users {
			users = append(users, c)
		}
	}
	want = []db.FieldChange{
		{Entity: entity.Users, Path: "nickname", Change: db.FieldAdded, NewType: "string"},
		{Entity: entity.Users, Path: "roles", Change: db.FieldTypeChanged, OldType: "array", NewType: "null"},
		{Entity: entity.Users, Path: "roles[]", Change: db.FieldRemoved, OldType: "object"},
		{Entity: entity.Users, Path: "roles[].roleType", Change: db.FieldRemoved, OldType: "string"},
	}
	if diff := cmp.Diff(want, users); diff != "" {
		t.Errorf("users' changes (-want +got):\n%s", diff)
	}
}

// A scope that failed means no path of its entity is judged removed (its objects were not all
// seen), and types only widen; the other entities' removals stand. The next complete run judges.
func TestFieldsFailedScopeRemovesNothing(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	tn := driftTenant()
	f.mustSync(tn, syncOpts{})
	next := tn.clone()
	for i := range next.agents {
		a := &next.agents[i]
		a.Raw = fmt.Appendf(nil, `{"agentId":%d,"agentGroupId":%d,"isActive":1,"skills":[]}`, a.AgentID, a.AgentGroupID)
	}
	for i := range next.users {
		next.users[i].Raw = fmt.Appendf(nil, `{"userId":%d,"roles":[]}`, next.users[i].UserID)
	}
	res, run, err := f.sync(next, syncOpts{failed: map[string]bool{"agents/1002": true}})
	if err != nil {
		t.Fatal(err)
	}
	if res.Status != db.RunPartial {
		t.Fatalf("status %s, want partial", res.Status)
	}
	want := []db.FieldChange{
		{Entity: entity.Users, Path: "nickname", Change: db.FieldRemoved, OldType: "string"},
		{Entity: entity.Users, Path: "roles[]", Change: db.FieldRemoved, OldType: "object"},
		{Entity: entity.Users, Path: "roles[].roleType", Change: db.FieldRemoved, OldType: "string"},
		{Entity: entity.Agents, Path: "isActive", Change: db.FieldTypeChanged, OldType: "boolean", NewType: "boolean|number"},
	}
	if diff := cmp.Diff(want, res.FieldChanges); diff != "" {
		t.Errorf("changes of the partial run (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(sortChanges(want), f.apiChanges(run)); diff != "" {
		t.Errorf("api_field_changes of the partial run (-want +got):\n%s", diff)
	}
	if got := f.apiFields(entity.Agents); !cmp.Equal(got, []string{"agentGroupId number", "agentId number", "isActive boolean,number",
		"skills array", "skills[] object", "skills[].skillId number", "team object", "team.name string"}) {
		t.Errorf("agents api_fields after the partial run: %v", got)
	}
	// Restricted to some sub-accounts, the agents are not judged whole either.
	res, _, err = f.sync(next, syncOpts{someSubs: true})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.FieldChanges) != 0 {
		t.Errorf("a run of some sub-accounts: changes %v", res.FieldChanges)
	}
	res, _, err = f.sync(next, syncOpts{})
	if err != nil {
		t.Fatal(err)
	}
	want = []db.FieldChange{
		{Entity: entity.Agents, Path: "isActive", Change: db.FieldTypeChanged, OldType: "boolean|number", NewType: "number"},
		{Entity: entity.Agents, Path: "skills[]", Change: db.FieldRemoved, OldType: "object"},
		{Entity: entity.Agents, Path: "skills[].skillId", Change: db.FieldRemoved, OldType: "number"},
		{Entity: entity.Agents, Path: "team", Change: db.FieldRemoved, OldType: "object"},
		{Entity: entity.Agents, Path: "team.name", Change: db.FieldRemoved, OldType: "string"},
	}
	if diff := cmp.Diff(want, res.FieldChanges); diff != "" {
		t.Errorf("changes of the complete run (-want +got):\n%s", diff)
	}
}

// A dry run computes the changes and writes nothing: api_fields and api_field_changes stay as
// they were, and a first dry run records no baseline.
func TestFieldsDryRunWritesNothing(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	tn := driftTenant()
	res, _, err := f.sync(tn, syncOpts{dryRun: true})
	if err != nil {
		t.Fatal(err)
	}
	if n := f.count(`SELECT count(*) FROM %s.api_fields`); n != 0 || len(res.Fields) == 0 {
		t.Errorf("first dry run: %d api_fields rows, %d entities observed", n, len(res.Fields))
	}
	f.mustSync(tn, syncOpts{})
	before := f.apiFields(entity.Agents)
	next := tn.clone()
	for i := range next.agents {
		next.agents[i].Raw = fmt.Appendf(nil, `{"agentId":%d,"extra":true}`, next.agents[i].AgentID)
	}
	res, _, err = f.sync(next, syncOpts{dryRun: true})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.FieldChanges) == 0 {
		t.Error("dry run: no changes computed")
	}
	if diff := cmp.Diff(before, f.apiFields(entity.Agents)); diff != "" {
		t.Errorf("dry run changed api_fields (-before +after):\n%s", diff)
	}
	if n := f.count(`SELECT count(*) FROM %s.api_field_changes`); n != 0 {
		t.Errorf("dry run wrote %d api_field_changes rows", n)
	}
}

// A row's Object, when set, is what its paths are read from; a fallback row is no observation.
func TestFieldsFromObject(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	tn := driftTenant()
	for i := range tn.agents {
		tn.agents[i].Object = []byte(`{"agentId":1,"fromObject":"yes"}`)
	}
	f.mustSync(tn, syncOpts{fallback: true})
	if diff := cmp.Diff([]string{"agentId number", "fromObject string"}, f.apiFields(entity.Agents)); diff != "" {
		t.Errorf("agents api_fields (-want +got):\n%s", diff)
	}
	if got := f.apiFields(entity.Accounts); len(got) != 0 {
		t.Errorf("fallback accounts recorded paths %v", got)
	}
}

// The drift tables' CHECK constraints take every entity and field change, and nothing else.
func TestFieldsVocabularyMatchesChecks(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := t.Context()
	run, err := f.s.RunCreate(ctx, "manual")
	if err != nil {
		t.Fatal(err)
	}
	insert := func(name, change string) error {
		tx, err := f.pool.Begin(ctx)
		if err != nil {
			t.Fatal(err)
		}
		defer func() { _ = tx.Rollback(ctx) }()
		old, nw := "string", "number"
		if _, err := tx.Exec(ctx, fmt.Sprintf(`INSERT INTO %s.api_fields VALUES ($1, 'p', '{string}', $2, $2)`, f.schema), name, run); err != nil {
			return err
		}
		switch db.FieldChangeKind(change) {
		case db.FieldAdded:
			old = ""
		case db.FieldRemoved:
			nw = ""
		}
		_, err = tx.Exec(ctx, fmt.Sprintf(`INSERT INTO %s.api_field_changes VALUES ($1, $2, 'p', $3, NULLIF($4, ''), NULLIF($5, ''))`, f.schema),
			run, name, change, old, nw)
		return err
	}
	for _, n := range entity.Names() {
		for _, c := range db.FieldChangeKinds() {
			if err := insert(string(n), string(c)); err != nil {
				t.Errorf("entity %s, change %s: %v", n, c, err)
			}
		}
	}
	if insert("gates", string(db.FieldAdded)) == nil || insert(string(entity.Agents), "renamed") == nil {
		t.Error("an unknown entity or change was accepted")
	}
}

// Objects whose keys differ in one byte and whose values differ in type have shapes of their
// own: both keys reach api_fields (issue 21: "phoneLoginEnabld": null and
// "phoneLoginEnablb": true shared a shape, and the second key was never recorded).
func TestFieldsShapesDoNotAlias(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	tn := driftTenant()
	for i := range tn.agents {
		a := &tn.agents[i]
		member := `"phoneLoginEnabld":null`
		if i%2 == 1 {
			member = `"phoneLoginEnablb":true`
		}
		a.Raw = fmt.Appendf(nil, `{"agentId":%d,"agentGroupId":%d,%s}`, a.AgentID, a.AgentGroupID, member)
	}
	f.mustSync(tn, syncOpts{})
	want := []string{"agentGroupId number", "agentId number", "phoneLoginEnablb boolean", "phoneLoginEnabld null"}
	if diff := cmp.Diff(want, f.apiFields(entity.Agents)); diff != "" {
		t.Errorf("agents api_fields (-want +got):\n%s", diff)
	}
}

// capTenant is driftTenant whose agents carry, between them, extra distinct keys
// k00000..k(n-1), interleaved (agent i the keys j with j%len(agents) == i); reversed lists
// the agents in the opposite order.
func capTenant(n int, drop string, reversed bool) *tenant {
	tn := driftTenant()
	for i := range tn.agents {
		a := &tn.agents[i]
		b := fmt.Appendf(nil, `{"agentId":%d,"agentGroupId":%d`, a.AgentID, a.AgentGroupID)
		for j := i; j < n; j += len(tn.agents) {
			if k := fmt.Sprintf("k%05d", j); k != drop {
				b = fmt.Appendf(b, `,%q:%d`, k, j)
			}
		}
		a.Raw = append(b, '}')
	}
	if reversed {
		slices.Reverse(tn.agents)
	}
	return tn
}

// Past MaxFieldPaths distinct paths the kept ones do not depend on the objects' order (the
// lexicographically smallest), api_fields never holds more than the cap for the entity, a
// no-op run reports no change whatever its order, and a path removed makes room for the
// smallest one not recorded (issue 21: a no-op run reported 500 false "added" and api_fields
// held 10,500 paths).
func TestFieldsCapDeterministic(t *testing.T) {
	t.Parallel()
	const n = db.MaxFieldPaths + 500
	want := []string{"agentGroupId number", "agentId number"}
	for j := range db.MaxFieldPaths - 2 {
		want = append(want, fmt.Sprintf("k%05d number", j))
	}
	slices.Sort(want)
	f := newFixture(t)
	res, _, err := f.sync(capTenant(n, "", false), syncOpts{})
	if err != nil {
		t.Fatal(err)
	}
	for _, ef := range res.Fields {
		if ef.Entity == entity.Agents && (!ef.Overflow || ef.Paths != db.MaxFieldPaths) {
			t.Errorf("agents observed: %+v, want an overflow at %d paths", ef, db.MaxFieldPaths)
		}
	}
	if diff := cmp.Diff(want, f.apiFields(entity.Agents)); diff != "" {
		t.Errorf("agents api_fields after the first run (-want +got):\n%s", diff)
	}
	// The other order, on another database, keeps the same paths.
	g := newFixture(t)
	g.mustSync(capTenant(n, "", true), syncOpts{})
	if diff := cmp.Diff(want, g.apiFields(entity.Agents)); diff != "" {
		t.Errorf("agents api_fields of the reversed order (-want +got):\n%s", diff)
	}
	// No-op runs, in either order: no change, api_fields within the cap.
	for _, reversed := range []bool{false, true} {
		res, run, err := f.sync(capTenant(n, "", reversed), syncOpts{})
		if err != nil {
			t.Fatal(err)
		}
		if len(res.FieldChanges) != 0 || len(f.apiChanges(run)) != 0 {
			t.Errorf("no-op run (reversed %v): %d changes, first %v", reversed, len(res.FieldChanges), res.FieldChanges[:min(3, len(res.FieldChanges))])
		}
		if got := f.count(`SELECT count(*) FROM %s.api_fields WHERE entity = 'agents'`); got > db.MaxFieldPaths {
			t.Errorf("no-op run (reversed %v): api_fields holds %d agents paths, more than %d", reversed, got, db.MaxFieldPaths)
		}
	}
	// A recorded path removed from every object: removed, and the smallest path not recorded
	// takes its place.
	res, _, err = f.sync(capTenant(n, "k00000", true), syncOpts{})
	if err != nil {
		t.Fatal(err)
	}
	wantChanges := []db.FieldChange{
		{Entity: entity.Agents, Path: "k00000", Change: db.FieldRemoved, OldType: "number"},
		{Entity: entity.Agents, Path: fmt.Sprintf("k%05d", db.MaxFieldPaths-2), Change: db.FieldAdded, NewType: "number"},
	}
	if diff := cmp.Diff(sortChanges(wantChanges), sortChanges(res.FieldChanges)); diff != "" {
		t.Errorf("changes after a removal past the cap (-want +got):\n%s", diff)
	}
	if got := f.count(`SELECT count(*) FROM %s.api_fields WHERE entity = 'agents'`); got != db.MaxFieldPaths {
		t.Errorf("api_fields holds %d agents paths, want %d", got, db.MaxFieldPaths)
	}
}
