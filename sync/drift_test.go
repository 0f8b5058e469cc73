package sync_test

// Schema drift (issue 13) against the fake: what api_fields and api_field_changes record when
// the API adds, removes and retypes fields, and when they must not record anything.

import (
	"bytes"
	"encoding/json"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/jackc/pgx/v5"

	"github.com/evsync/evsync/db"
	"github.com/evsync/evsync/engageclient/engagefake"
	"github.com/evsync/evsync/internal/entity"
	"github.com/evsync/evsync/internal/secretjson"
	syncrun "github.com/evsync/evsync/sync"
)

// runLogged is mustRun with the run's log lines (JSON) captured.
func (e *env) runLogged(cfg syncrun.Config, want db.RunStatus) (*syncrun.Result, []map[string]any) {
	e.t.Helper()
	var buf bytes.Buffer
	r, err := syncrun.NewRunner(e.client(nil), e.store, cfg, slog.New(slog.NewJSONHandler(&buf, nil)))
	if err != nil {
		e.t.Fatal(err)
	}
	res, err := r.Run(e.t.Context())
	if err != nil {
		e.t.Fatalf("Run: %v", err)
	}
	if res.Status != want {
		e.t.Fatalf("Run status %q (error %q), want %q", res.Status, res.Error, want)
	}
	var lines []map[string]any
	for line := range bytes.Lines(buf.Bytes()) {
		var m map[string]any
		if err := json.Unmarshal(line, &m); err != nil {
			e.t.Fatalf("log line %q: %v", line, err)
		}
		lines = append(lines, m)
	}
	return res, lines
}

// fieldChanges reads api_field_changes of run as "entity change path old->new" lines, sorted.
func (e *env) fieldChanges(run int64) []string {
	e.t.Helper()
	rows, err := e.pool.Query(e.t.Context(), `SELECT entity || ' ' || change || ' ' || path || ' ' || coalesce(old_type, '') || '->' || coalesce(new_type, '')
FROM engage.api_field_changes WHERE run_id = $1 ORDER BY 1`, run)
	if err != nil {
		e.t.Fatal(err)
	}
	out, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		e.t.Fatal(err)
	}
	return out
}

// The fake adds a key to every agent, removes one from every user and changes the type of an
// agent key: each is one change row of the run that saw it (and of the assignment listings,
// which send the agents too), a no-op run records none, the changes under typed columns are
// logged at warn level naming the column, and no value reaches either table.
func TestDriftRecordedAgainstTheFake(t *testing.T) {
	t.Parallel()
	e := newEnv(t, engagefake.Options{Seed: 81, Tenant: configTenant()})
	res, _ := e.runLogged(syncrun.Config{}, db.RunSucceeded)
	if n := e.count(`SELECT count(*) FROM engage.api_field_changes`); n != 0 || len(res.FieldChanges) != 0 {
		t.Fatalf("the baseline run recorded %d changes", n)
	}
	var observed []entity.Name
	for _, ef := range res.Fields {
		observed = append(observed, ef.Entity)
		if !ef.Baseline || ef.Paths == 0 {
			t.Errorf("first run, %s: %+v", ef.Entity, ef)
		}
	}
	if diff := cmp.Diff(entity.Names(), observed); diff != "" {
		t.Errorf("entities observed (-want +got):\n%s", diff)
	}
	// Every column that names the API paths it reads finds one of them among what the fake
	// sends (entity.Desc.Fields holds no stale path).
	for _, d := range entity.All() {
		for _, c := range slices.Concat(d.Key, d.Columns) {
			paths := d.Paths(c)
			if len(paths) == 0 {
				continue
			}
			if e.count(`SELECT count(*) FROM engage.api_fields WHERE entity = $1 AND path = ANY($2)`, string(d.Name), paths) == 0 {
				t.Errorf("%s.%s reads %v: none is among the paths the API sent", d.Name, c.Name, paths)
			}
		}
	}
	// The secret rule judges no legitimate field of the fake's objects secret: the keys it
	// judges secret, with the types they were seen with, are exactly the fake's secret fields
	// (passwordExpirationDate, adminPasswordReset, loginHashcode, billingKey, maxPasses, the
	// E164 and I18n keys stay).
	secretKeys := map[string]bool{}
	rows, err := e.pool.Query(t.Context(), `SELECT path, json_types FROM engage.api_fields`)
	if err != nil {
		t.Fatal(err)
	}
	sample := map[string]string{"array": `[]`, "boolean": `true`, "null": `null`, "number": `1`, "object": `{}`, "string": `"x"`}
	var nPaths int
	for rows.Next() {
		var path string
		var types []string
		if err := rows.Scan(&path, &types); err != nil {
			t.Fatal(err)
		}
		nPaths++
		key := strings.TrimSuffix(path[strings.LastIndexByte(path, '.')+1:], "[]")
		for _, ty := range types {
			if secretjson.IsSecret(key, []byte(sample[ty])) {
				secretKeys[key] = true
			}
		}
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	wantSecret := map[string]bool{"crmPwd": true, "ftpPwd": true, "httpPassword": true, "password": true,
		"phoneLoginPin": true, "phoneRecordingPin": true, "securityKey": true, "sipPassword": true}
	if diff := cmp.Diff(wantSecret, secretKeys); diff != "" || nPaths < 100 {
		t.Errorf("keys of the fake's objects judged secret, of %d paths (-want +got):\n%s", nPaths, diff)
	}
	// The assignments record the agent objects their listings send, not the agentId kept.
	if n := e.count(`SELECT count(*) FROM engage.api_fields WHERE entity = 'agent_queues'`); n < 5 {
		t.Errorf("agent_queues: %d paths recorded, want the assigned agent objects'", n)
	}

	res = e.mustRun(syncrun.Config{}, db.RunSucceeded)
	if got := e.fieldChanges(res.RunID); len(got) != 0 {
		t.Errorf("no-op run recorded changes: %v", got)
	}

	if err := e.fake.Mutate(func(tn *engagefake.Tenant) error {
		for a := range tn.Agents() {
			a.Set = map[string]any{"wrapUpProfile": "wrap-value-4711", "isActive": 1}
		}
		for _, u := range tn.Users {
			u.Set = map[string]any{"firstName": engagefake.Omit}
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	res, logs := e.runLogged(syncrun.Config{}, db.RunSucceeded)
	want := []string{
		"agent_dial_groups added wrapUpProfile ->string",
		"agent_dial_groups type_changed isActive boolean->number",
		"agent_queues added wrapUpProfile ->string",
		"agent_queues type_changed isActive boolean->number",
		"agents added wrapUpProfile ->string",
		"agents type_changed isActive boolean->number",
		"users removed firstName string->",
	}
	if diff := cmp.Diff(want, e.fieldChanges(res.RunID)); diff != "" {
		t.Errorf("api_field_changes (-want +got):\n%s", diff)
	}
	if len(res.FieldChanges) != len(want) {
		t.Errorf("the result has %d changes, want %d", len(res.FieldChanges), len(want))
	}
	var warned []string
	for _, l := range logs {
		if l["msg"] == "API field changed under a typed column" {
			warned = append(warned, fmt.Sprintf("%s %s %s: %s", l["level"], l["entity"], l["path"], l["column"]))
		}
	}
	wantWarn := []string{"WARN users firstName: users.first_name", "WARN agents isActive: agents.is_active"}
	if diff := cmp.Diff(wantWarn, warned); diff != "" {
		t.Errorf("warnings (-want +got):\n%s", diff)
	}
	var text string
	if err := e.pool.QueryRow(t.Context(), `SELECT (SELECT string_agg(t::text, ' ') FROM engage.api_fields t) || ' ' ||
(SELECT string_agg(t::text, ' ') FROM engage.api_field_changes t)`).Scan(&text); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(text, "wrap-value") {
		t.Error("a value reached the drift tables")
	}
	if e.count(`SELECT count(*) FROM engage.api_fields WHERE entity = 'agents' AND path = 'isActive' AND json_types = '{number}'`) != 1 {
		t.Error("api_fields does not hold agents.isActive as a number")
	}
}

// A failed scope means no removed rows for its entity: the objects it did not list may still
// carry the path; so does a run of some sub-accounts. The next complete run records it.
func TestDriftFailedScopeRemovesNothing(t *testing.T) {
	t.Parallel()
	e := newEnv(t, engagefake.Options{Seed: 82})
	e.mustRun(syncrun.Config{}, db.RunSucceeded)
	var group int
	if err := e.fake.Mutate(func(tn *engagefake.Tenant) error {
		group = tn.SubAccounts[0].Groups[0].ID
		for a := range tn.Agents() {
			a.Set = map[string]any{"email": engagefake.Omit}
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	e.fake.SetFault(engagefake.EndpointAgents, engagefake.Fault{Status: 500, PathContains: fmt.Sprintf("/agentGroups/%d/", group)})
	res := e.mustRun(syncrun.Config{}, db.RunPartial)
	if got := e.fieldChanges(res.RunID); len(got) != 0 {
		t.Errorf("a run with a failed agents scope recorded %v", got)
	}
	if e.count(`SELECT count(*) FROM engage.api_fields WHERE entity = 'agents' AND path = 'email'`) != 1 {
		t.Error("agents.email left api_fields after a partial run")
	}
	e.fake.ClearFaults()
	// A run of one sub-account does not see every agent either.
	var sub string
	if err := e.fake.Mutate(func(tn *engagefake.Tenant) error { sub = tn.SubAccounts[1].ID; return nil }); err != nil {
		t.Fatal(err)
	}
	res = e.mustRun(syncrun.Config{SubAccounts: []string{sub}}, db.RunSucceeded)
	if got := e.fieldChanges(res.RunID); len(got) != 0 {
		t.Errorf("a run of sub-account %s recorded %v", sub, got)
	}
	res = e.mustRun(syncrun.Config{}, db.RunSucceeded)
	if diff := cmp.Diff([]string{"agents removed email string->"}, e.fieldChanges(res.RunID)); diff != "" {
		t.Errorf("the complete run's changes (-want +got):\n%s", diff)
	}
}
